/**
 * `megaphone templates sync | list` (SPEC §2, §7; the seed's "Synchronizovat formuláře"): fetch the templates
 * of each account's WABA from Meta, and show them with their variables and — the seed's warning triangle — the
 * explanation of whatever keeps one from being sent.
 *
 * `sync` goes on with the other accounts when one fails (missing token, Graph error) and exits 1 at the end; it
 * works only directly on the database. `list` also works through a daemon's admin API (cli/Remote.ts).
 */
import { Ports } from "@megaphone/core"
import { Console, Effect, Option, Result } from "effect"
import { Command, Flag } from "effect/cli"
import { templateRow } from "../../accounts/Json.ts"
import { type SyncReport, syncTemplates } from "../../templates/TemplateSync.ts"
import { CommandFailed } from "../Failure.ts"
import { cell, json, printJson, progress, table } from "../Output.ts"
import { adminUrl, directOnly, target, throughApi } from "../Remote.ts"
import { accessToken, explainAccountRefusal, findAccount, toFailure, transportFailure, withStorage, withTransport } from "../Session.ts"
import { databaseUrl } from "../Storage.ts"

const accountFlag = Flag.String("account").pipe(Flag.withDescription("only this account (default: every account)"), Flag.optional)

/** The accounts a command works on: the one named, or all of them (at least one). */
const selectAccounts = (name: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isSome(name)) return [yield* findAccount(name.value)]
    const all = yield* (yield* Ports.Storage.Storage).listAccounts()
    if (all.length === 0) {
      return yield* new CommandFailed({
        message: "No accounts yet. Add one with `megaphone accounts add NAME --phone-number-id ID --waba-id ID`."
      })
    }
    return all
  })

/** One account's sync as the JSON output spells it: the result, or why it failed. */
const syncJson = (account: Ports.Storage.Account, outcome: Result.Result<SyncReport, CommandFailed>) =>
  Result.isSuccess(outcome)
    ? {
      account: account.name,
      waba_id: account.wabaId,
      ok: true,
      added: outcome.success.added,
      updated: outcome.success.updated,
      deleted: outcome.success.deleted,
      problems: outcome.success.problems,
      paused_campaigns: outcome.success.paused,
      resumed_campaigns: outcome.success.resumed
    }
    : { account: account.name, waba_id: account.wabaId, ok: false, error: outcome.failure.message }

const sync = Command.make(
  "sync",
  { account: accountFlag, databaseUrl, json },
  ({ account, databaseUrl, json: asJson }) =>
    Effect.gen(function*() {
      yield* directOnly("templates sync", databaseUrl)
      const outcomes = yield* Effect.gen(function*() {
        const accounts = yield* selectAccounts(account)
        const outcomes: Array<readonly [Ports.Storage.Account, Result.Result<SyncReport, CommandFailed>]> = []
        for (const a of accounts) {
          yield* progress(asJson, `Syncing the templates of ${a.name} (WABA ${a.wabaId})…`)
          const outcome = yield* Effect.result(Effect.gen(function*() {
            const token = yield* accessToken(a)
            return yield* syncTemplates(a, token).pipe(
              Effect.catchTag("TransportError", (error) => Effect.fail(transportFailure(a, error))),
              Effect.mapError(toFailure)
            )
          }))
          outcomes.push([a, outcome])
          // One account's failure is the command's error message; with several, each is reported in its place.
          if (!asJson && (Result.isSuccess(outcome) || accounts.length > 1)) yield* printSync(a, outcome)
        }
        return outcomes
      }).pipe(withTransport, withStorage(databaseUrl))
      if (asJson) yield* printJson({ accounts: outcomes.map(([a, outcome]) => syncJson(a, outcome)) })
      const failed = outcomes.flatMap(([a, outcome]) => (Result.isFailure(outcome) ? [[a.name, outcome.failure.message] as const] : []))
      const [first] = failed
      if (first === undefined) return
      return yield* new CommandFailed({
        // One account: its own message says what to fix; several: which ones, the details were printed above.
        message: outcomes.length === 1
          ? first[1]
          : `The templates of ${failed.length} of ${outcomes.length} accounts could not be synced: ` +
            `${failed.map(([name]) => name).join(", ")} (see ${asJson ? "the JSON" : "above"}).`
      })
    })
).pipe(Command.withDescription("Fetch the templates of each account's WABA from Meta; campaigns on templates that can no longer be sent pause."))

const printSync = (account: Ports.Storage.Account, outcome: Result.Result<SyncReport, CommandFailed>) =>
  Effect.gen(function*() {
    if (Result.isFailure(outcome)) return yield* Console.log(`${account.name}: failed — ${outcome.failure.message}`)
    const r = outcome.success
    yield* Console.log(`${account.name}: ${r.added + r.updated} template(s) — ${r.added} added, ${r.updated} updated, ${r.deleted} deleted.`)
    for (const p of r.problems) yield* Console.log(`  ⚠ ${p.name} (${p.language}) ${p.status}: ${p.explanation}`)
    if (r.paused.length > 0) yield* Console.log(`  Paused campaign(s) ${r.paused.join(", ")}: their template cannot be sent now.`)
    if (r.resumed.length > 0) yield* Console.log(`  Resumed campaign(s) ${r.resumed.join(", ")}: their template can be sent again.`)
  })

const list = Command.make(
  "list",
  { account: accountFlag, databaseUrl, adminUrl, json },
  (input) =>
    Effect.gen(function*() {
      const { account, json: asJson } = input
      const on = yield* target(["megaphone", "templates", "list"], input)
      const rows = on._tag === "Direct"
        ? yield* Effect.gen(function*() {
          const storage = yield* Ports.Storage.Storage
          const all = yield* storage.listAccounts()
          const wabaId = Option.isSome(account) ? (yield* findAccount(account.value)).wabaId : undefined
          return (yield* storage.listTemplates(wabaId)).map((t) => templateRow(t, all))
        }).pipe(withStorage(on.databaseUrl))
        : yield* throughApi(on, (client) =>
          Effect.gen(function*() {
            // The account first, so an unknown one reads as it does directly (the API's ?account answers a 400).
            if (Option.isSome(account)) yield* client.accounts.show({ params: { name: account.value } })
            const { templates } = yield* client.templates.list({ query: Option.isSome(account) ? { account: account.value } : {} })
            return templates
          }), explainAccountRefusal)
      if (asJson) return yield* printJson({ templates: rows })
      if (rows.length === 0) {
        return yield* Console.log(`No templates synced yet. Run: megaphone templates sync${Option.isSome(account) ? ` --account ${account.value}` : ""}`)
      }
      const severalWabas = new Set(rows.map((r) => r.waba_id)).size > 1
      const headers = ["NAME", "LANGUAGE", "STATUS", "CATEGORY", "HEADER", "VARIABLES", "PROBLEM"]
      yield* Console.log(table(
        severalWabas ? ["WABA", ...headers] : headers,
        rows.map((r) => {
          const cells = [r.name, r.language, r.status, r.category, cell(r.header ?? ""), cell(r.variables.join(", ")),
            r.explanation === null ? "" : `⚠ ${r.explanation}`]
          return severalWabas ? [r.waba_id, ...cells] : cells
        })
      ))
      const unusable = rows.filter((r) => !r.usable).length
      yield* Console.log(`\n${rows.length} template(s), ${rows.length - unusable} can be sent${unusable > 0 ? `, ${unusable} cannot (⚠)` : ""}.`)
    })
).pipe(Command.withDescription("List the synced templates: status, category, header kind, variables, and why one cannot be sent (⚠)."))

/** `megaphone templates sync | list` */
export const templates = Command.make("templates").pipe(
  Command.withDescription("WhatsApp message templates synced from Meta."),
  Command.withSubcommands([sync, list])
)
