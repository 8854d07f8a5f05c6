/**
 * The dashboard's data straight from the database, read-only: for when no daemon runs. It reads what the admin
 * API would answer (the same JSON shapes, built by the same functions) and refuses every action with `reason`:
 * a campaign is changed by the daemon that sends it, or through its admin API.
 */
import { Ports, Template } from "@megaphone/core"
import type { Source } from "@megaphone/tui"
import { Clock, Effect, Option } from "effect"
import * as AccountsJson from "../accounts/Json.ts"
import * as Json from "../campaigns/Json.ts"
import * as Operations from "../campaigns/Operations.ts"
import { toPromise } from "./ApiSource.ts"
import * as Convert from "./Convert.ts"

/** Runs a storage read (the caller provides the storage). */
export type Run = <A>(effect: Effect.Effect<A, { readonly message: string }, Ports.Storage.Storage>) => Promise<A>

/** A source over the storage `run` provides; `description` says which database, `reason` why it is read-only. */
export const make = (run: Run, description: string, reason: string): Source.Source => {
  const read = <A>(body: (storage: Ports.Storage.StorageShape) => Effect.Effect<A, { readonly message: string }>) =>
    run(Ports.Storage.Storage.use(body))
  const campaigns = (storage: Ports.Storage.StorageShape) =>
    Effect.map(Operations.list(storage), (all) => all.map(({ campaign, counts }) => Json.campaign(campaign, counts)))
  const failed = () =>
    read((storage) =>
      Effect.gen(function*() {
        const all = yield* campaigns(storage)
        const watched = Convert.watched(all).map((c) => c.id)
        const [errors, retries] = watched.length === 0
          ? [[], []]
          : yield* Effect.all([storage.failureSummary(watched), storage.soonestRetries(watched, Convert.SOONEST_RETRIES)])
        const failures: Convert.Failures = { errors: errors.map(Json.failureGroup), retries: retries.map(Json.scheduledRetry) }
        return { campaigns: all, failures }
      })
    )
  const refuse = () => Promise.reject(new Error(`Read-only — ${reason}`))

  return {
    mode: { _tag: "ReadOnly", description, reason },
    campaigns: () => read(campaigns).then((all) => all.map(Convert.campaign)),
    accounts: () =>
      read((storage) =>
        Effect.gen(function*() {
          const now = new Date(yield* Clock.currentTimeMillis)
          const accounts = yield* storage.listAccounts()
          return yield* Effect.forEach(accounts, (a) =>
            Effect.map(storage.quotaUsage(a, now), (q) => Convert.account(AccountsJson.account(a), Json.quota(q))))
        })
      ),
    recentErrors: () => failed().then(({ failures }) => Convert.errorGroups(failures)),
    retries: () => failed().then(({ campaigns, failures }) => Convert.retries(campaigns, failures)),
    templateIssues: () =>
      read((storage) =>
        Effect.gen(function*() {
          const [stored, accounts, all] = yield* Effect.all([storage.listTemplates(), storage.listAccounts(), campaigns(storage)])
          const czech = new Map(stored.map((t) => {
            const usability = Template.usability(t.template)
            return [`${t.wabaId}/${t.template.name}/${t.template.language}`, usability.usable ? undefined : usability.problems.map((p) => p.cs).join(" ")]
          }))
          return Convert.templateIssues(
            stored.map((t) => AccountsJson.templateRow(t, accounts)),
            all,
            (t) => czech.get(`${t.waba_id}/${t.name}/${t.language}`)
          )
        })
      ),
    contacts: (id, query) =>
      read((storage) =>
        Effect.gen(function*() {
          const campaign = yield* storage.getCampaign(id)
          const rows = yield* storage.listCampaignContacts(
            id,
            query.state,
            query.afterId === undefined ? { limit: query.limit } : { afterId: query.afterId, limit: query.limit }
          )
          // Contacts held back by the campaign's send window say why, as the admin API's do.
          const sendWindow = Option.isSome(campaign) ? campaign.value.sendWindow : null
          const asJson = Json.campaignContactsAt(sendWindow, new Date(yield* Clock.currentTimeMillis))
          return { rows, asJson }
        })
      ).then(({ rows, asJson }) => ({
        contacts: rows.map((c) => Convert.contact(asJson(c))),
        nextAfterId: rows.length === query.limit ? rows.at(-1)?.id ?? null : null
      })),
    pause: refuse,
    resume: refuse,
    stop: refuse,
    addContacts: refuse,
    retry: refuse
  }
}

/** Runs storage reads with the storage in `context` (the command's, open while the dashboard runs). */
export const runWith = (storage: Ports.Storage.StorageShape): Run => (effect) =>
  toPromise(Effect.provideService(effect, Ports.Storage.Storage, storage))
