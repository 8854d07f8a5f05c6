/**
 * The CLI through a running daemon's admin API instead of the database (issue 6, item 7). `--admin-url URL` or
 * `MEGAPHONE_ADMIN_URL` selects it; the bearer token comes from `MEGAPHONE_ADMIN_TOKEN` and is never printed.
 * Without either, commands open the database as before. An explicit `--database-url` wins over the environment
 * variable; giving both flags is a usage mistake.
 *
 * Commands print the same JSON shapes either way (campaigns/Json.ts, accounts/Json.ts build both the CLI's
 * output and the API's answers), so a command's output does not depend on the route its data took.
 */
import { Cause, Duration, Effect, Option, Redacted } from "effect"
import { CliError, Flag } from "effect/cli"
import { FetchHttpClient, HttpClientError } from "effect/http"
import * as AdminApi from "../admin-api/AdminApi.ts"
import { BadRequest, Conflict, InvalidFilter, NotFound } from "../admin-api/Errors.ts"
import { CommandFailed, usageError } from "./Failure.ts"

/** The environment variable naming the admin API to work through, e.g. `http://127.0.0.1:8787`. */
export const ADMIN_URL_ENV = "MEGAPHONE_ADMIN_URL"

/** `--admin-url URL`: work through the daemon's admin API at URL (default `MEGAPHONE_ADMIN_URL`). */
export const adminUrl = Flag.String("admin-url").pipe(
  Flag.withDescription(`work through a running daemon's admin API at URL instead of the database (default: ${ADMIN_URL_ENV}; ` +
    `token from ${AdminApi.TOKEN_ENV})`),
  Flag.optional
)

/** Where a command's data comes from: the database, or a daemon's admin API. */
export type Target =
  | { readonly _tag: "Direct"; readonly databaseUrl: Option.Option<string> }
  | Remote

/** A daemon's admin API and the token to send it. */
export interface Remote {
  readonly _tag: "Remote"
  readonly baseUrl: string
  readonly token: Redacted.Redacted<string>
}

type Env = Readonly<Record<string, string | undefined>>

const nonBlank = (value: string | undefined): string | undefined => (value === undefined || value.trim() === "" ? undefined : value.trim())

/**
 * The target the flags and environment select. Both flags: a usage mistake (exit 2, help for `commandPath`).
 * A URL without a token, or one that is not http(s): a failure saying what to set.
 */
export const target = (
  commandPath: ReadonlyArray<string>,
  flags: { readonly databaseUrl: Option.Option<string>; readonly adminUrl: Option.Option<string> },
  env: Env = process.env
): Effect.Effect<Target, CommandFailed | CliError.ShowHelp> => {
  if (Option.isSome(flags.adminUrl) && Option.isSome(flags.databaseUrl)) {
    return Effect.fail(
      new CliError.ShowHelp({
        commandPath: [...commandPath],
        errors: [new CliError.ValidationError({ message: "Give --admin-url or --database-url, not both." })]
      })
    )
  }
  const fromEnv = Option.isNone(flags.databaseUrl) ? nonBlank(env[ADMIN_URL_ENV]) : undefined
  const url = Option.getOrElse(Option.map(flags.adminUrl, (u) => u.trim()), () => fromEnv)
  if (url === undefined) return Effect.succeed({ _tag: "Direct", databaseUrl: flags.databaseUrl })
  const source = Option.isSome(flags.adminUrl) ? "--admin-url" : ADMIN_URL_ENV
  let baseUrl: string
  try {
    const parsed = new URL(url)
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http(s)")
    baseUrl = url.replace(/\/+$/, "")
  } catch {
    const message = `${source} must be the daemon's admin API as an http(s) URL, e.g. http://127.0.0.1:8787 (its --admin-listen).`
    // A flag given wrong is a usage mistake (exit 2); the environment's value is a configuration problem (exit 1).
    return Effect.fail(source === "--admin-url" ? usageError(commandPath, message) : new CommandFailed({ message }))
  }
  const token = nonBlank(env[AdminApi.TOKEN_ENV])
  if (token === undefined) {
    return Effect.fail(new CommandFailed({
      message: `${source} names the admin API at ${baseUrl}, but ${AdminApi.TOKEN_ENV} is not set. Set it to the daemon's ` +
        `admin token (the ${AdminApi.TOKEN_ENV} of the daemon's environment) and run the command again.`
    }))
  }
  return Effect.succeed({ _tag: "Remote", baseUrl, token: Redacted.make(token) })
}

/**
 * For commands the admin API does not offer: refuse when `MEGAPHONE_ADMIN_URL` selects the API (and no
 * `--database-url` overrides it), rather than quietly opening a database the person did not mean.
 */
export const directOnly = (command: string, databaseUrl: Option.Option<string>, env: Env = process.env): Effect.Effect<void, CommandFailed> => {
  const url = nonBlank(env[ADMIN_URL_ENV])
  if (url === undefined || Option.isSome(databaseUrl)) return Effect.void
  return Effect.fail(new CommandFailed({
    message: `\`megaphone ${command}\` works only directly on the database, not through the admin API, and ${ADMIN_URL_ENV} is set ` +
      `(${url}). Unset ${ADMIN_URL_ENV}, or give --database-url URL, and run it where the database is reachable.`
  }))
}

/** A typed client of the admin API (AdminApi.client). */
export type Client = Effect.Success<ReturnType<typeof AdminApi.client>>

/** An answer of the API that refuses the request itself (400, 404, 409): the command says it in its own terms. */
export type Refusal = BadRequest | InvalidFilter | NotFound | Conflict

const isRefusal = (error: unknown): error is Refusal =>
  error instanceof BadRequest || error instanceof InvalidFilter || error instanceof NotFound || error instanceof Conflict

const hasTag = (error: unknown, tag: string): error is { readonly _tag: string; readonly message: string } =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === tag && "message" in error

/** The first `code` (ECONNREFUSED, ENOTFOUND, …) along an error's causes. */
const errorCode = (error: unknown): string | undefined => {
  for (let e = error, depth = 0; typeof e === "object" && e !== null && depth < 5; depth++) {
    if ("code" in e && typeof e.code === "string") return e.code
    e = "cause" in e ? e.cause : undefined
  }
  return undefined
}

/** How long one command waits for the daemon's answers: a hung daemon must not hang the command (or a script). */
const REQUEST_TIMEOUT = Duration.minutes(5)

/** Any failure of a request as a `CommandFailed`: refusals through `explain`, the rest naming the URL and what to check. */
const failure = (baseUrl: string, error: unknown, explain: (refusal: Refusal) => string): CommandFailed => {
  if (error instanceof CommandFailed) return error
  if (Cause.isTimeoutError(error)) {
    return new CommandFailed({
      message: `The admin API at ${baseUrl} did not answer within ${Duration.format(REQUEST_TIMEOUT)}. Check the daemon's log ` +
        `(is its database reachable? see /readyz), or unset ${ADMIN_URL_ENV} to work directly on the database.`
    })
  }
  if (isRefusal(error)) return new CommandFailed({ message: explain(error) })
  if (hasTag(error, "Unauthorized")) {
    return new CommandFailed({
      message: `The admin API at ${baseUrl} refused the token (401). Set ${AdminApi.TOKEN_ENV} to the admin token of the daemon ` +
        `listening there (its own ${AdminApi.TOKEN_ENV}).`
    })
  }
  if (hasTag(error, "Unavailable")) return new CommandFailed({ message: `The admin API at ${baseUrl} is unavailable (503): ${error.message}` })
  if (HttpClientError.isHttpClientError(error) && error.reason._tag === "TransportError") {
    const code = errorCode(error.reason.cause)
    return new CommandFailed({
      message: `Cannot reach the admin API at ${baseUrl}${code === undefined ? "" : ` (${code})`}. Check that \`megaphone daemon\` runs ` +
        `and listens there (its --admin-listen), or unset ${ADMIN_URL_ENV} to work directly on the database.`
    })
  }
  const message = typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
  return new CommandFailed({
    message: `The admin API at ${baseUrl} answered in a way this megaphone does not understand (${message}). Is it a Megaphone ` +
      `daemon of the same version?`
  })
}

/**
 * Run `request` with a client of the admin API at `remote`. The API's refusals become `CommandFailed`s through
 * `explain` (default: the API's own message); a wrong token, an unreachable daemon or a foreign answer say so.
 */
export const throughApi = <A, E, R>(
  remote: Remote,
  request: (client: Client) => Effect.Effect<A, E, R>,
  explain: (refusal: Refusal) => string = (refusal) => refusal.message
) =>
  AdminApi.client({ baseUrl: remote.baseUrl, token: remote.token }).pipe(
    Effect.flatMap(request),
    Effect.timeout(REQUEST_TIMEOUT),
    Effect.mapError((error) => failure(remote.baseUrl, error, explain)),
    Effect.provide(FetchHttpClient.layer)
  )
