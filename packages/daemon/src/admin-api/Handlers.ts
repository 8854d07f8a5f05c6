/**
 * The admin API's endpoints implemented over the storage port, one Layer per group of `Api`. Every storage
 * failure answers 503; every refusal says what to change.
 */
import { Campaign, type Filter, Ports, Schedule, SendWindow } from "@megaphone/core"
import { Clock, Duration, Effect, Option, Result } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiBuilder, OpenApi } from "effect/http-api"
import { SqlClient } from "effect/sql"
import * as Directory from "../campaigns/Directory.ts"
import * as CampaignsJson from "../campaigns/Json.ts"
import * as Operations from "../campaigns/Operations.ts"
import * as Rows from "../campaigns/Rows.ts"
import * as Scheduler from "../campaigns/Scheduler.ts"
import { Metrics } from "../metrics/Metrics.ts"
import { Api, PAGE } from "./Api.ts"
import * as Campaigns from "./Campaigns.ts"
import { BadRequest, NotFound, NotReady } from "./Errors.ts"
import * as Filters from "./Filters.ts"
import * as Json from "./Json.ts"

type Storage = Ports.Storage.StorageShape

/** `/readyz` answers 503 when the database takes longer than this to answer `select 1`. */
export const READY_TIMEOUT = Duration.seconds(2)

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))
const { orUnavailable } = Filters

/** A campaign rate cap from a request body, checked as the CLI checks `--max-mps`. */
const checkedRate = (value: number) => {
  const rate = Campaign.parseMaxMps(String(value))
  return Result.isFailure(rate) ? Effect.fail(new BadRequest({ message: `max_mps: ${rate.failure}` })) : Effect.succeed(rate.success)
}
const { orApiError } = Campaigns

/** The storage page a request asks for, and the `next_after_id` to answer with once the rows are read. */
const paging = (query: { readonly after_id?: string | undefined; readonly limit?: number | undefined }) => {
  const limit = query.limit ?? PAGE.default
  return {
    page: query.after_id === undefined ? { limit } : { afterId: query.after_id, limit },
    next: (rows: ReadonlyArray<{ readonly id: string }>) => (rows.length === limit ? rows.at(-1)?.id ?? null : null)
  }
}

/** The account with this name, or a 404. */
const findAccount = (storage: Storage, name: string) =>
  Effect.flatMap(storage.getAccount(name), (found) =>
    Option.isSome(found)
      ? Effect.succeed(found.value)
      : Effect.fail(new NotFound({ entity: "account", key: name, message: `No account named "${name}". See GET /api/accounts.` })))

// ---------------------------------------------------------------------------------------------------------

/** `/healthz` and `/readyz` (`select 1` within {@link READY_TIMEOUT}). */
export const health = HttpApiBuilder.group(Api, "health", (handlers) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return handlers
      .handle("healthz", () => Effect.succeed("ok"))
      .handle("readyz", () =>
        sql`select 1`.pipe(
          Effect.timeout(READY_TIMEOUT),
          Effect.as("ready"),
          Effect.catch(() =>
            Effect.fail(new NotReady({
              message: "The database did not answer `select 1` within 2 s. Check that PostgreSQL is running and reachable " +
                "(MEGAPHONE_DATABASE_URL); the daemon reconnects by itself."
            })))
        ))
  }))

/** `/openapi.json` (generated once from `Api`) and `/metrics`. */
export const system = HttpApiBuilder.group(Api, "system", (handlers) =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
    let document: HttpServerResponse.HttpServerResponse | undefined
    return handlers
      .handle("openapi", () => Effect.sync(() => (document ??= HttpServerResponse.jsonUnsafe(OpenApi.fromApi(Api)))))
      .handle("metrics", () => metrics.render)
  }))

/** Accounts and quota. */
export const accounts = HttpApiBuilder.group(Api, "accounts", (handlers) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    return handlers
      .handle("list", () => orUnavailable(Effect.map(storage.listAccounts(), (all) => ({ accounts: all.map(Json.account) }))))
      .handle("show", ({ params }) => orUnavailable(Effect.map(findAccount(storage, params.name), Json.account)))
      .handle("quota", ({ params }) =>
        orUnavailable(Effect.gen(function*() {
          const account = yield* findAccount(storage, params.name)
          return Json.quota(yield* storage.quotaUsage(account, yield* now))
        })))
      .handle("quotas", () =>
        orUnavailable(Effect.gen(function*() {
          const at = yield* now
          const all = yield* storage.listAccounts()
          const quotas = yield* Effect.forEach(all, (a) => Effect.map(storage.quotaUsage(a, at), (q) => ({ account: a.name, ...Json.quota(q) })))
          return { quotas }
        })))
  }))

/** Synced templates. */
export const templates = HttpApiBuilder.group(Api, "templates", (handlers) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    return handlers.handle("list", ({ query }) =>
      orUnavailable(Effect.gen(function*() {
        const all = yield* storage.listAccounts()
        let wabaId: string | undefined
        if (query.account !== undefined) {
          const name = query.account
          const account = all.find((a) => a.name === name)
          if (account === undefined) {
            return yield* new BadRequest({ message: `account: no account named "${name}". See GET /api/accounts, or leave out ?account.` })
          }
          wabaId = account.wabaId
        }
        return { templates: (yield* storage.listTemplates(wabaId)).map((t) => Json.templateRow(t, all)) }
      })))
  }))

/** A search text, or none when it is missing or blank (a blank text matches every contact anyway). */
const searchText = (search: string | undefined): string | undefined => (search === undefined || search.trim() === "" ? undefined : search)

/** The directory. */
export const directory = HttpApiBuilder.group(Api, "directory", (handlers) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    return handlers
      .handle("list", ({ query }) =>
        orUnavailable(Effect.gen(function*() {
          // Columns are checked on the first page: reading them scans the directory, and the next pages continue it.
          const filter = yield* orApiError(
            query.after_id === undefined ? Directory.chooseCheckedFilter(storage, query) : Directory.chooseFilter(storage, query)
          )
          const { page, next } = paging(query)
          const rows = yield* storage.listDirectory(filter, page, searchText(query.search))
          return { contacts: rows.map(Json.directoryContact), next_after_id: next(rows) }
        })))
      .handle("count", ({ query }) =>
        orUnavailable(Effect.gen(function*() {
          const filter = yield* orApiError(Directory.chooseCheckedFilter(storage, query))
          return { matched: yield* storage.countDirectory(filter, searchText(query.search)) }
        })))
      .handle("show", ({ params }) => orUnavailable(Effect.map(Filters.findContact(storage, params.id), Json.directoryContact)))
      .handle("delete", ({ params }) =>
        orUnavailable(Effect.gen(function*() {
          const contact = yield* Filters.findContact(storage, params.id)
          return { deleted: yield* storage.deleteDirectoryContacts([{ id: contact.id }]) }
        })))
      .handle("deleteMany", ({ payload }) =>
        orUnavailable(Effect.gen(function*() {
          const given = [payload.contacts, payload.filter, payload.where].filter((x) => x !== undefined).length
          if (given !== 1) {
            return yield* new BadRequest({
              message: "Give exactly one of \"contacts\" (ids or phone numbers), \"filter\" (a saved filter's name) or \"where\" (an expression)."
            })
          }
          if (payload.contacts !== undefined) {
            // A key that is neither an id nor a phone number names no contact: ignored like an unknown one.
            const keys = payload.contacts.flatMap((text) => Result.match(Directory.contactKey(text), { onSuccess: (key) => [key], onFailure: () => [] }))
            return { deleted: yield* storage.deleteDirectoryContacts(keys) }
          }
          const filter = yield* orApiError(Directory.requireCheckedFilter(storage, payload))
          return { deleted: yield* storage.deleteDirectoryMatching(filter) }
        })))
      .handle("columns", () => orUnavailable(Effect.map(storage.directoryColumns(), (columns) => ({ columns: [...columns] }))))
  }))

/** Saved filters. */
export const filters = HttpApiBuilder.group(Api, "filters", (handlers) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const find = (name: string) =>
      Effect.flatMap(storage.getFilter(name), (found) =>
        Option.isSome(found)
          ? Effect.succeed(found.value)
          : Effect.fail(new NotFound({ entity: "filter", key: name, message: `No filter named "${name}". See GET /api/filters.` })))
    const test = (where: string, filter: Filter.Filter, sample: number) =>
      Effect.gen(function*() {
        const checked = yield* Filters.checkColumns(filter, yield* Filters.knownColumns(storage))
        const { matched, sample: first } = yield* Filters.count(storage, checked, sample)
        return { where, matched, sample: first.map(Json.directoryContact) }
      })
    return handlers
      .handle("list", () => orUnavailable(Effect.map(storage.listFilters(), (all) => ({ filters: all.map(Json.savedFilter) }))))
      .handle("show", ({ params }) => orUnavailable(Effect.map(find(params.name), Json.savedFilter)))
      .handle("create", ({ payload }) =>
        orUnavailable(Effect.gen(function*() {
          return Json.savedFilter(yield* Filters.saveFilter(storage, payload.name, payload.where, yield* now))
        })))
      .handle("delete", ({ params }) =>
        orUnavailable(storage.deleteFilter(params.name).pipe(
          Effect.catchTag("NotFound", () =>
            Effect.fail(new NotFound({ entity: "filter", key: params.name, message: `No filter named "${params.name}". See GET /api/filters.` })))
        )))
      .handle("test", ({ params, query }) =>
        orUnavailable(Effect.gen(function*() {
          const saved = yield* find(params.name)
          return yield* test(Json.savedFilter(saved).where, saved.filter, query.sample ?? 10)
        })))
      .handle("probe", ({ payload }) =>
        orUnavailable(Effect.gen(function*() {
          const filter = yield* Filters.parseWhere(payload.where, "where")
          return yield* test(payload.where, filter, payload.sample ?? 10)
        })))
  }))

/** Campaigns: thin over the operations `megaphone campaigns …` uses too (campaigns/Operations.ts). */
export const campaigns = HttpApiBuilder.group(Api, "campaigns", (handlers) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    /** Refusals as 400/404/409, storage failures as 503. */
    const answer = <A, E, R>(effect: Effect.Effect<A, E, R>) => orUnavailable(orApiError(effect))
    const operate = (operation: Operations.Operation) => ({ params }: { readonly params: { readonly id: string } }) =>
      answer(Effect.map(Operations.operate(storage, params.id, operation, "admin API"), (r) => ({
        ...Json.campaign(r.campaign, r.counts),
        cancelled: r.cancelled
      })))
    return handlers
      .handle("list", () =>
        answer(Effect.map(Operations.list(storage), (all) => ({ campaigns: all.map(({ campaign, counts }) => Json.campaign(campaign, counts)) }))))
      .handle("failures", ({ query }) =>
        answer(Effect.all([storage.failureSummary(query.campaign), storage.soonestRetries(query.campaign, query.retries ?? 5)]).pipe(
          Effect.map(([errors, retries]) => ({ errors: errors.map(Json.failureGroup), retries: retries.map(Json.scheduledRetry) }))
        )))
      .handle("show", ({ params }) =>
        answer(Effect.map(Operations.show(storage, params.id), ({ campaign, counts, quota }) => ({
          ...Json.campaign(campaign, counts),
          quota: quota === undefined ? null : Json.quota(quota)
        }))))
      .handle("create", ({ payload }) =>
        answer(Effect.gen(function*() {
          const { max_mps, ...request } = payload
          const maxMps = max_mps === undefined ? undefined : yield* checkedRate(max_mps)
          const { campaign, counts } = yield* Operations.create(storage, { ...request, maxMps })
          return Json.campaign(campaign, counts)
        })))
      .handle("rate", ({ params, payload }) =>
        answer(Effect.gen(function*() {
          const maxMps = payload.max_mps === null ? null : yield* checkedRate(payload.max_mps)
          const { campaign, counts } = yield* Operations.setRate(storage, params.id, maxMps, "admin API")
          return Json.campaign(campaign, counts)
        })))
      .handle("start", operate("start"))
      .handle("pause", operate("pause"))
      .handle("resume", operate("resume"))
      .handle("stop", operate("stop"))
      .handle("retry", ({ params, payload }) =>
        answer(Effect.map(Operations.retry(storage, params.id, payload, "admin API"), (r) => ({
          ...Json.campaign(r.campaign, r.counts),
          retried: r.retried,
          suppressed: r.suppressed,
          states: [...r.selection.states],
          codes: [...r.selection.codes]
        }))))
      .handle("clone", ({ params, payload }) =>
        answer(Effect.map(
          Operations.clone(storage, params.id, {
            name: payload.name,
            contactsFrom: payload.contacts_from === undefined
              ? undefined
              : { campaignId: payload.contacts_from.campaign_id, states: payload.contacts_from.states }
          }, "admin API"),
          (r) => ({
            ...Json.campaign(r.campaign, r.counts),
            cloned_from: r.clonedFrom,
            contacts: r.contacts === undefined ? null : CampaignsJson.clonedContacts(r.contacts)
          })
        )))
      .handle("schedule", ({ params, payload }) =>
        answer(Effect.gen(function*() {
          const time = Schedule.parseTime(payload.at, Scheduler.defaultTimeZone())
          if (Result.isFailure(time)) return yield* new BadRequest({ message: `at: ${time.failure.message}` })
          const { campaign, counts } = yield* Operations.schedule(storage, params.id, time.success.at, "admin API")
          return Json.campaign(campaign, counts)
        })))
      .handle("unschedule", ({ params }) =>
        answer(Effect.map(Operations.unschedule(storage, params.id, "admin API"), ({ campaign, counts }) => Json.campaign(campaign, counts))))
      .handle("window", ({ params, payload }) =>
        answer(Effect.gen(function*() {
          const window = payload.window === null ? Result.succeed(null) : SendWindow.parse(payload.window)
          if (Result.isFailure(window)) return yield* new BadRequest({ message: `window: ${window.failure.message}` })
          const { campaign, counts } = yield* Operations.setSendWindow(storage, params.id, window.success, "admin API")
          return Json.campaign(campaign, counts)
        })))
      .handle("templateCsv", ({ params }) =>
        answer(Effect.map(Operations.blankCsv(storage, params.id), ({ campaign, blank }) => Json.blankCsv(campaign, blank))))
      .handle("addFromDirectory", ({ params, payload }) =>
        answer(Effect.map(
          Operations.addContacts(storage, params.id, (_campaign, template) =>
            Rows.fromDirectory(storage, template, {
              filter: payload.filter,
              where: payload.where,
              phoneColumn: payload.phone_column,
              vars: payload.vars ?? {},
              defaults: payload.defaults ?? {}
            })),
          Json.addContactsReport
        )))
      .handle("addFromCsv", ({ params, query, payload }) =>
        answer(Effect.gen(function*() {
          const defaults = yield* Campaigns.parseDefaults(query.default ?? [])
          const report = yield* Operations.addContacts(storage, params.id, (campaign, template) =>
            Effect.fromResult(Rows.fromCsv(campaign.id, template, payload, defaults)))
          return Json.addContactsReport(report)
        })))
      .handle("contacts", ({ params, query }) =>
        answer(Effect.gen(function*() {
          const campaign = yield* Operations.findCampaign(storage, params.id)
          const { page, next } = paging(query)
          const rows = yield* storage.listCampaignContacts(params.id, query.state, page)
          const at = new Date(yield* Clock.currentTimeMillis)
          return { campaign: params.id, contacts: rows.map(Json.campaignContactsAt(campaign.sendWindow, at)), next_after_id: next(rows) }
        })))
      .handle("events", ({ params, query }) =>
        answer(Effect.gen(function*() {
          yield* Operations.findCampaign(storage, params.id)
          const { page, next } = paging(query)
          const rows = yield* storage.listEvents(params.id, page)
          return { events: rows.map(Json.loggedEvent), next_after_id: next(rows) }
        })))
  }))

/** The event log. */
export const events = HttpApiBuilder.group(Api, "events", (handlers) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    return handlers.handle("list", ({ query }) =>
      orUnavailable(Effect.gen(function*() {
        const { page, next } = paging(query)
        const rows = yield* storage.listEvents(undefined, page)
        return { events: rows.map(Json.loggedEvent), next_after_id: next(rows) }
      })))
  }))
