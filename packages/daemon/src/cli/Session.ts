/**
 * What the account and template commands share: the storage the flags name, an account by name, its access
 * token from the environment variable the account names (never printed), and the Graph API transport.
 */
import { Database, ProviderTransport } from "@megaphone/adapters"
import { Ports } from "@megaphone/core"
import { Effect, Option, Redacted } from "effect"
import { CommandFailed } from "./Failure.ts"
import type { Refusal } from "./Remote.ts"
import { resolveDatabase } from "./Storage.ts"

/** Any failure as a `CommandFailed` with its own message (one already for people stays as it is). */
export const toFailure = (error: { readonly message: string }): CommandFailed =>
  error instanceof CommandFailed ? error : new CommandFailed({ message: error.message })

/** Run `effect` with the storage of `--database-url` (or the environment, or the embedded default), migrated. */
export const withStorage = (databaseUrl: Option.Option<string>) =>
<A, E extends { readonly message: string }, R>(
  effect: Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const database = yield* resolveDatabase(databaseUrl)
    // Three: a big add reads the directory on one connection while two batches are written on the others.
    return yield* effect.pipe(Effect.provide(Database.layer(database, { maxConnections: 3 })), Effect.mapError(toFailure))
  }).pipe(Effect.scoped)

/** Run `effect` with the transport of each account's provider (Meta's Cloud API or 360dialog; the URL comes from the account). */
export const withTransport = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Ports.Transport.Transport>> =>
  Effect.provide(effect, ProviderTransport.layer())

/** That no account is named `name`, and how to see or add accounts. */
export const noAccount = (name: string): string =>
  `No account named "${name}". See \`megaphone accounts list\`, or add it with ` +
  `\`megaphone accounts add ${name} --phone-number-id ID --waba-id ID\`.`

/** The admin API's refusal in the words of the direct route: an unknown account as {@link noAccount}. */
export const explainAccountRefusal = (refusal: Refusal): string =>
  refusal._tag === "NotFound" && refusal.entity === "account" ? noAccount(refusal.key) : refusal.message

/** The account named `name`, or a failure that says how to see or add accounts. */
export const findAccount = (name: string): Effect.Effect<Ports.Storage.Account, CommandFailed | Ports.Storage.StorageError, Ports.Storage.Storage> =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const found = yield* storage.getAccount(name)
    if (Option.isSome(found)) return found.value
    return yield* new CommandFailed({ message: noAccount(name) })
  })

/** The account's access token from the variable its `tokenEnv` names; the value never leaves the Redacted. */
export const accessToken = (
  account: Ports.Storage.Account,
  env: Readonly<Record<string, string | undefined>> = process.env
): Effect.Effect<Redacted.Redacted<string>, CommandFailed> => {
  const token = env[account.tokenEnv]
  if (token !== undefined && token.trim() !== "") return Effect.succeed(Redacted.make(token.trim()))
  return Effect.fail(new CommandFailed({
    message: `The access token of account "${account.name}" is read from the environment variable ${account.tokenEnv}, ` +
      `which is not set. Set ${account.tokenEnv} to a system-user access token of WABA ${account.wabaId} and run the command again.`
  }))
}

/** A Graph API failure for people: what Meta said, and what to do about it. */
export const transportFailure = (account: Ports.Storage.Account, error: Ports.Transport.TransportError): CommandFailed => {
  const { errorClass, text } = error.error
  const advice = errorClass === "auth"
    ? `Check the token in ${account.tokenEnv}: it must be a valid system-user token with whatsapp_business_management ` +
      `and whatsapp_business_messaging for WABA ${account.wabaId}.`
    : errorClass === "transient" || errorClass === "rate_limited"
    ? `Try again in a moment (Graph API at ${account.graphUrl}).`
    : `Check the account's ids and Graph settings (\`megaphone accounts show ${account.name}\`); ` +
      `fix them with \`megaphone accounts add ${account.name} … --replace\`.`
  return new CommandFailed({ message: `Account "${account.name}": ${/[.!?]$/.test(text) ? text : `${text}.`} ${advice}` })
}
