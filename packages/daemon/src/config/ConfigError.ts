/**
 * Why the daemon's configuration cannot be used: every problem at once, each with where it comes from (the
 * file and key, the environment variable, the flag), so one start names everything there is to fix.
 */
import { Schema } from "effect"

/** Where a configuration value came from. */
export const Origin = Schema.Literals(["file", "environment", "flag", "default"])

/** Where a configuration value came from. */
export type Origin = typeof Origin.Type

/** One thing wrong with the configuration. Messages never contain a secret's value. */
export const Problem = Schema.Struct({
  origin: Origin,
  /** The file (with `:LINE:COLUMN` for a syntax error), the environment variable, or the flag. */
  source: Schema.String,
  /** The configuration key, e.g. `dispatch.concurrency`, when the problem is about one. */
  key: Schema.optionalKey(Schema.String),
  /** What is wrong and what is expected, e.g. `expected an integer between 1 and 1024, got "x"`. */
  message: Schema.String
})

/** One thing wrong with the configuration. */
export type Problem = typeof Problem.Type

/** One line for people: `config.json: dispatch.concurrency: …`, `MEGAPHONE_CONCURRENCY (dispatch.concurrency): …`. */
export const renderProblem = (problem: Problem): string => {
  const { origin, source, key, message } = problem
  switch (origin) {
    case "file":
      return key === undefined ? `${source}: ${message}` : `${source}: ${key}: ${message}`
    case "environment":
    case "flag":
      return key === undefined ? `${source}: ${message}` : `${source} (${key}): ${message}`
    case "default":
      return `the default of ${key ?? "a setting"}: ${message}`
  }
}

/** The configuration cannot be used; `problems` lists everything wrong, each with its source. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  problems: Schema.Array(Problem)
}) {
  override get message(): string {
    const lines = this.problems.map(renderProblem)
    const head = lines.length === 1
      ? `Configuration problem: ${lines[0]}`
      : `The configuration has ${lines.length} problems:\n  ${lines.join("\n  ")}`
    return `${head}\nEvery key, environment variable and default is listed in docs/operations.md (Configuration).`
  }
}

/** A `ConfigError` with one problem. */
export const single = (problem: Problem): ConfigError => new ConfigError({ problems: [problem] })
