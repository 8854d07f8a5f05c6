/** `megaphone simulator`: Meta's Graph API on loopback for rehearsals, the demo and tests (docs/simulator.md). */
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Simulator } from "@megaphone/adapters"
import { Console, Duration, Effect, Option, Result, Schedule } from "effect"
import { Command, Flag } from "effect/cli"
import { CommandFailed, fromError } from "../Failure.ts"

const EXAMPLE_CONFIG = join("examples", "simulator", "simulator.json")

/**
 * The ready configuration of the installation, used when no --config is given: the first
 * examples/simulator/simulator.json above this module — the sources (packages/daemon/src/cli/commands) and the
 * built binary (packages/daemon/dist) sit at different depths of the same tree.
 */
const exampleConfig = (): string | undefined => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, EXAMPLE_CONFIG)
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) return undefined
  }
}
const STATS_EVERY = Duration.seconds(5)

const parseListen = (listen: string): Effect.Effect<{ host: string; port: number }, CommandFailed> => {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen.trim())
  const port = Number(match?.[2])
  if (match === null || match[1] === undefined || port > 65_535) {
    return Effect.fail(new CommandFailed({ message: `--listen ${listen} is not HOST:PORT. Write e.g. --listen 127.0.0.1:8789.` }))
  }
  return Effect.succeed({ host: match[1].replace(/^\[|\]$/g, ""), port })
}

const loadConfig = (path: string, seed: Option.Option<number>) =>
  Effect.gen(function*() {
    const text = yield* Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (error) => new CommandFailed({ message: `Cannot read the simulator configuration ${path}: ${error instanceof Error ? error.message : String(error)}. Check the path given with --config.` })
    })
    const json = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (error) => new CommandFailed({ message: `${path} is not valid JSON (${error instanceof Error ? error.message : String(error)}). Fix the file; see examples/simulator/simulator.json.` })
    })
    const withSeed = Option.isSome(seed) && typeof json === "object" && json !== null ? { ...json, seed: seed.value } : json
    const decoded = Simulator.decodeConfig(withSeed)
    if (Result.isFailure(decoded)) {
      return yield* Effect.fail(new CommandFailed({ message: `${path}: ${decoded.failure.message}\nFix these keys; docs/simulator.md describes each one.` }))
    }
    return decoded.success
  })

const statsLine = (stats: Simulator.Stats): string => {
  const rejected = Object.entries(stats.rejectionsByCode).map(([code, n]) => `${code}×${n}`).join(" ") || "none"
  const mps = Object.entries(stats.maxMpsPerNumber).map(([id, n]) => `${id}:${n}`).join(" ")
  const duplicates = Object.values(stats.acceptedPerRecipient).filter((n) => n > 1).length
  const w = stats.webhooks
  return `accepted ${stats.accepted} · rejected ${rejected} · max mps ${mps} · recipients sent to twice ${duplicates} · webhooks posted ${w.posted} failed ${w.failed} retried ${w.retried} dropped ${w.dropped} pending ${w.pending}`
}

/** `megaphone simulator [--listen 127.0.0.1:8789] [--config FILE] [--seed N]` */
export const simulator = Command.make(
  "simulator",
  {
    listen: Flag.String("listen").pipe(Flag.withDescription("HOST:PORT to listen on"), Flag.withDefault("127.0.0.1:8789")),
    config: Flag.String("config").pipe(Flag.withDescription("JSON configuration (default: examples/simulator/simulator.json)"), Flag.optional),
    seed: Flag.Int("seed").pipe(Flag.withDescription("seed of every random choice (overrides the configuration's)"), Flag.optional)
  },
  ({ listen, config, seed }) =>
    Effect.gen(function*() {
      const address = yield* parseListen(listen)
      const path = Option.isSome(config) ? config.value : exampleConfig()
      if (path === undefined) {
        return yield* Effect.fail(new CommandFailed({
          message: `No --config given, and ${EXAMPLE_CONFIG} is not part of this installation. Pass --config FILE; docs/simulator.md describes the file.`
        }))
      }
      const decoded = yield* loadConfig(path, seed)
      const sim = yield* Simulator.start(decoded, address).pipe(Effect.mapError(fromError))
      yield* Console.log(`Graph API simulator on ${sim.url} (configuration ${path}${decoded.seed === undefined ? "" : `, seed ${decoded.seed}`}).`)
      yield* Console.log(`Point an account at it: --graph-url ${sim.url}; statistics: GET ${sim.url}/_simulator/stats. Ctrl+C stops it.`)
      yield* sim.stats.pipe(
        Effect.flatMap((stats) => Console.log(statsLine(stats))),
        Effect.repeat(Schedule.spaced(STATS_EVERY)),
        Effect.delay(STATS_EVERY)
      )
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("Run Meta's Graph API simulator on loopback until Ctrl+C."))
