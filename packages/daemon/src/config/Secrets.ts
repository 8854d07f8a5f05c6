/**
 * Secrets (the app secret, the verify token, the admin token, the database URL, each account's access token)
 * from the place ops keep them. For a secret named `NAME`, in this order:
 *
 * 1. the environment variable `NAME` itself;
 * 2. the file named by `NAME_FILE` (its content, trimmed) — Docker/Kubernetes secrets, an `EnvironmentFile` that
 *    names a file instead of holding the secret;
 * 3. the systemd credential `$CREDENTIALS_DIRECTORY/NAME` (`LoadCredential=NAME:/etc/megaphone/NAME`).
 *
 * A secret only ever lives in a `Redacted`; errors name the variable and the path, never the content.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Effect, Option, Redacted } from "effect"
import { ConfigError, single } from "./ConfigError.ts"

/** The process environment, or a test's stand-in for it. */
export type Environment = Readonly<Record<string, string | undefined>>

/** A secret and where it was found: `NAME`, `NAME_FILE (/path)` or `$CREDENTIALS_DIRECTORY/NAME`. */
export interface FoundSecret {
  readonly value: Redacted.Redacted<string>
  readonly source: string
}

/** The variable systemd sets to the directory of the credentials of `LoadCredential=` / `SetCredential=`. */
export const CREDENTIALS_DIRECTORY = "CREDENTIALS_DIRECTORY"

/** The variable that names a file holding the secret `name`. */
export const fileVariable = (name: string): string => `${name}_FILE`

// A secret file holds one token or URL; anything larger is the wrong file (and is not read into memory).
const MAX_SECRET_BYTES = 64 * 1024

// Also keeps an account's token variable from naming a path outside the credentials directory.
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

const nonEmpty = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim()
  return trimmed === undefined || trimmed === "" ? undefined : trimmed
}

/** Why a secret file cannot be used, for people; never its content. */
type Unreadable = { readonly _tag: "Missing" } | { readonly _tag: "Unreadable"; readonly reason: string }

const errnoCode = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? cause.code : undefined

const unreadable = (cause: unknown): Unreadable => {
  switch (errnoCode(cause)) {
    case "ENOENT":
      return { _tag: "Missing" }
    case "EACCES":
    case "EPERM":
      return { _tag: "Unreadable", reason: `this user (uid ${process.getuid?.() ?? "?"}) may not read it; make it readable by the daemon's user` }
    case "ENOTDIR":
      return { _tag: "Unreadable", reason: "a part of the path is not a directory" }
    case "EISDIR":
      return { _tag: "Unreadable", reason: "it is a directory, not a file" }
    default:
      return { _tag: "Unreadable", reason: `it cannot be read (${errnoCode(cause) ?? "unknown error"})` }
  }
}

const cannotUse = (reason: string): Effect.Effect<never, Unreadable> => Effect.fail({ _tag: "Unreadable", reason })

/** The trimmed content of a secret file, or why it cannot be used. */
const readSecretFile = (file: string): Effect.Effect<string, Unreadable> =>
  Effect.tryPromise({ try: () => fs.stat(file), catch: unreadable }).pipe(
    Effect.flatMap((stat) =>
      !stat.isFile()
        ? cannotUse("it is not a regular file")
        : stat.size > MAX_SECRET_BYTES
        ? cannotUse(`it is larger than ${MAX_SECRET_BYTES / 1024} KiB; a secret file holds only the secret`)
        : Effect.tryPromise({ try: () => fs.readFile(file, "utf8"), catch: unreadable })
    ),
    Effect.flatMap((content) => content.trim() === "" ? cannotUse("it is empty; write the secret into it") : Effect.succeed(content.trim()))
  )

const problem = (source: string, message: string): ConfigError => single({ origin: "environment", source, message })

/**
 * Find the secret `name` (a valid environment variable name): the variable itself, else the file `NAME_FILE`
 * names, else `$CREDENTIALS_DIRECTORY/NAME`. None when no source has it; an error when the source that was
 * named cannot be read (a missing credential file is simply "not given").
 */
export const locate = (name: string, env: Environment): Effect.Effect<Option.Option<FoundSecret>, ConfigError> =>
  Effect.gen(function*() {
    if (!VARIABLE_NAME.test(name)) {
      return yield* problem(name, "is not a valid environment variable name (letters, digits and _, not starting with a digit)")
    }
    const direct = nonEmpty(env[name])
    if (direct !== undefined) return Option.some({ value: Redacted.make(direct), source: name })

    const variable = fileVariable(name)
    const file = nonEmpty(env[variable])
    if (file !== undefined) {
      const content = yield* readSecretFile(file).pipe(Effect.mapError((why) =>
        problem(variable, why._tag === "Missing"
          ? `names the file ${file}, which does not exist; create it with the secret, or fix the path`
          : `names the file ${file}, but ${why.reason}`)
      ))
      return Option.some({ value: Redacted.make(content), source: `${variable} (${file})` })
    }

    const directory = nonEmpty(env[CREDENTIALS_DIRECTORY])
    if (directory !== undefined) {
      const credential = path.join(directory, name)
      const source = `$${CREDENTIALS_DIRECTORY}/${name}`
      const content = yield* readSecretFile(credential).pipe(
        Effect.map(Option.some),
        Effect.catch((why) =>
          why._tag === "Missing"
            ? Effect.succeed(Option.none<string>())
            : Effect.fail(problem(source, `the credential file ${credential} exists, but ${why.reason}`))
        )
      )
      return Option.map(content, (value) => ({ value: Redacted.make(value), source }))
    }
    return Option.none()
  })

/** The secret `name` from the environment, `NAME_FILE` or the systemd credentials directory (see {@link locate}). */
export const read = (name: string, env: Environment): Effect.Effect<Option.Option<Redacted.Redacted<string>>, ConfigError> =>
  Effect.map(locate(name, env), Option.map((found) => found.value))

/** Where to put the secret `name`, for an error message. */
export const howToSet = (name: string): string =>
  `set ${name}, or name a file holding it in ${fileVariable(name)}, or pass it as the systemd credential ${name} ` +
  `(LoadCredential=${name}:/etc/megaphone/${name})`

/** The secret `name`, or an error saying what it is for (`purpose`) and the three ways to give it. */
export const required = (
  name: string,
  env: Environment,
  purpose: string
): Effect.Effect<FoundSecret, ConfigError> =>
  Effect.flatMap(locate(name, env), Option.match({
    onSome: Effect.succeed,
    onNone: () => Effect.fail(problem(name, `is not set. It is ${purpose}; ${howToSet(name)}.`))
  }))
