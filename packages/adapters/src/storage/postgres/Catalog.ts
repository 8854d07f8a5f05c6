/**
 * The slow-changing things: accounts, synced templates, saved filters and campaigns.
 */
import { Campaign, Filter, Ports, SendWindow, Template } from "@megaphone/core"
import { Effect, Option, Result } from "effect"
import {
  corrupt, date, dateOrNull, decode, decodeRow, id, isId, json, jsonObject, num, numOrNull, type Op, type Row, type Sql, str,
  strOrNull, texts
} from "./Rows.ts"

type StorageError = Ports.Storage.StorageError

// ---------------------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------------------

const readAccount = (row: Row): Ports.Storage.Account => {
  const limit = numOrNull(row, "messaging_limit")
  return {
    name: str(row, "name"),
    phoneNumberId: str(row, "phone_number_id"),
    wabaId: str(row, "waba_id"),
    portfolioId: strOrNull(row, "portfolio_id"),
    tokenEnv: str(row, "token_env"),
    graphUrl: str(row, "graph_url"),
    graphVersion: str(row, "graph_version"),
    displayPhoneNumber: strOrNull(row, "display_phone_number"),
    messagingLimit: limit === null ? "unlimited" : limit,
    messagingTier: strOrNull(row, "messaging_tier"),
    qualityRating: strOrNull(row, "quality_rating"),
    throughputMps: num(row, "throughput_mps"),
    ...(row["max_mps"] === null || row["max_mps"] === undefined ? {} : { maxMps: num(row, "max_mps") }),
    ...(row["provider"] === "meta" || row["provider"] === "360dialog" ? { provider: row["provider"] } : {}),
    throughputLevel: strOrNull(row, "throughput_level"),
    nameStatus: strOrNull(row, "name_status"),
    status: strOrNull(row, "status"),
    createdAt: date(row, "created_at"),
    updatedAt: date(row, "updated_at")
  }
}

/** See `StorageShape.saveAccount`. */
export const saveAccount = (sql: Sql, a: Ports.Storage.Account): Op<Ports.Storage.Account> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`
      insert into accounts (
        name, phone_number_id, waba_id, portfolio_id, token_env, graph_url, graph_version, display_phone_number,
        messaging_limit, messaging_tier, quality_rating, throughput_mps, max_mps, throughput_level, name_status, status,
        created_at, updated_at, provider
      ) values (
        ${a.name}, ${a.phoneNumberId}, ${a.wabaId}, ${a.portfolioId}, ${a.tokenEnv}, ${a.graphUrl}, ${a.graphVersion},
        ${a.displayPhoneNumber}, ${a.messagingLimit === "unlimited" ? null : a.messagingLimit}::bigint,
        ${a.messagingTier}, ${a.qualityRating}, ${a.throughputMps}::double precision, ${a.maxMps ?? null}::double precision,
        ${a.throughputLevel},
        ${a.nameStatus}, ${a.status}, ${a.createdAt}, ${a.updatedAt}, ${a.provider ?? null}
      )
      on conflict (name) do update set
        phone_number_id = excluded.phone_number_id,
        waba_id = excluded.waba_id,
        portfolio_id = excluded.portfolio_id,
        token_env = excluded.token_env,
        graph_url = excluded.graph_url,
        graph_version = excluded.graph_version,
        display_phone_number = excluded.display_phone_number,
        messaging_limit = excluded.messaging_limit,
        messaging_tier = excluded.messaging_tier,
        quality_rating = excluded.quality_rating,
        throughput_mps = excluded.throughput_mps,
        max_mps = excluded.max_mps,
        provider = excluded.provider,
        throughput_level = excluded.throughput_level,
        name_status = excluded.name_status,
        status = excluded.status,
        -- replacing an account keeps when it was first added
        updated_at = excluded.updated_at
      returning *
    `
    const [saved] = yield* decode("saveAccount", rows, readAccount)
    return saved ?? a
  })

/** See `StorageShape.getAccount`. */
export const getAccount = (sql: Sql, name: string): Op<Option.Option<Ports.Storage.Account>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`select * from accounts where name = ${name}`
    return Option.fromNullishOr((yield* decode("getAccount", rows, readAccount))[0])
  })

/** See `StorageShape.listAccounts`. */
export const listAccounts = (sql: Sql): Op<ReadonlyArray<Ports.Storage.Account>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`select * from accounts order by name`
    return yield* decode("listAccounts", rows, readAccount)
  })

// ---------------------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------------------

const readTemplate = (operation: string) => (row: Row): Effect.Effect<Ports.Storage.StoredTemplate, StorageError> =>
  Effect.gen(function*() {
    const fields = yield* decodeRow(operation, row, (r) => ({
      wabaId: str(r, "waba_id"),
      name: str(r, "name"),
      syncedAt: date(r, "synced_at"),
      deletedAt: dateOrNull(r, "deleted_at")
    }))
    const template = Template.decode(json(row, "body"))
    if (Result.isFailure(template)) return yield* corrupt(operation, `template ${fields.name}`, template.failure.explanation)
    return { wabaId: fields.wabaId, template: template.success, syncedAt: fields.syncedAt, deletedAt: fields.deletedAt }
  })

/** See `StorageShape.syncTemplates`. */
export const syncTemplates = (
  sql: Sql,
  wabaId: string,
  templates: ReadonlyArray<Template.Template>,
  now: Date
): Op<Ports.Storage.TemplateSyncResult> =>
  sql.withTransaction(Effect.gen(function*() {
    // One row per (name, language): a template listed twice keeps its last listing.
    const listed = new Map(templates.map((t) => [`${t.name}\u0000${t.language}`, t]))
    const existing = yield* sql<Row>`
      select name, language from templates where waba_id = ${wabaId} for update
    `
    const known = new Set((yield* decode("syncTemplates", existing, (r) => `${str(r, "name")}\u0000${str(r, "language")}`)))
    const rows = [...listed.values()]
    if (rows.length > 0) {
      yield* sql`
        insert into templates (waba_id, name, language, body, synced_at, deleted_at)
        select ${wabaId}, t.name, t.language, t.body::jsonb, ${now}, null
        from unnest(
          ${texts(rows.map((t) => t.name))}::text[],
          ${texts(rows.map((t) => t.language))}::text[],
          ${texts(rows.map((t) => JSON.stringify(t)))}::text[]
        ) as t(name, language, body)
        on conflict (waba_id, name, language) do update set
          body = excluded.body, synced_at = excluded.synced_at, deleted_at = null
      `
    }
    const deleted = yield* sql`
      update templates t set deleted_at = ${now}
      where t.waba_id = ${wabaId}
        and t.deleted_at is null
        and not exists (
          select 1
          from unnest(${texts(rows.map((x) => x.name))}::text[], ${texts(rows.map((x) => x.language))}::text[])
            as l(name, language)
          where l.name = t.name and l.language = t.language
        )
      returning t.name
    `
    const added = [...listed.keys()].filter((k) => !known.has(k)).length
    return { added, updated: listed.size - added, deleted: deleted.length }
  }))

/** See `StorageShape.listTemplates`. */
export const listTemplates = (sql: Sql, wabaId: string | undefined): Op<ReadonlyArray<Ports.Storage.StoredTemplate>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`
      select waba_id, name, language, body, synced_at, deleted_at
      from templates
      ${wabaId === undefined ? sql.literal("") : sql`where waba_id = ${wabaId}`}
      order by waba_id, name, language
    `
    return yield* Effect.forEach(rows, readTemplate("listTemplates"))
  })

/** See `StorageShape.updateTemplateStatus`: one UPDATE of the stored JSON, so concurrent webhooks never lose a field. */
export const updateTemplateStatus = (
  sql: Sql,
  wabaId: string,
  name: string,
  language: string,
  status: string,
  rejectedReason: string | null,
  now: Date
): Op<Option.Option<Ports.Storage.StoredTemplate>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`
      update templates set
        body = case
          when ${rejectedReason}::text is null then (body - 'rejected_reason') || jsonb_build_object('status', ${status}::text)
          else body || jsonb_build_object('status', ${status}::text, 'rejected_reason', ${rejectedReason}::text)
        end,
        synced_at = ${now}
      where waba_id = ${wabaId} and name = ${name} and language = ${language}
      returning waba_id, name, language, body, synced_at, deleted_at
    `
    const [row] = rows
    return row === undefined ? Option.none() : Option.some(yield* readTemplate("updateTemplateStatus")(row))
  })

// ---------------------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------------------

const readFilter = (operation: string) => (row: Row): Effect.Effect<Ports.Storage.SavedFilter, StorageError> =>
  Effect.gen(function*() {
    const fields = yield* decodeRow(operation, row, (r) => ({ name: str(r, "name"), createdAt: date(r, "created_at") }))
    const filter = Filter.decodeJson(json(row, "filter"))
    if (Result.isFailure(filter)) return yield* corrupt(operation, `filter ${fields.name}`, filter.failure.message)
    return { name: fields.name, filter: filter.success, createdAt: fields.createdAt }
  })

/** See `StorageShape.createFilter`. */
export const createFilter = (sql: Sql, name: string, filter: Filter.Filter, now: Date): Op<Ports.Storage.SavedFilter, Ports.Storage.Conflict> =>
  Effect.gen(function*() {
    const rows = yield* sql`
      insert into filters (name, filter, created_at)
      values (${name}, ${JSON.stringify(filter)}::jsonb, ${now})
      on conflict (name) do nothing
      returning name
    `
    if (rows.length === 0) {
      return yield* new Ports.Storage.Conflict({ entity: "filter", key: name, message: `A filter named "${name}" exists already.` })
    }
    return { name, filter, createdAt: now }
  })

/** See `StorageShape.getFilter`. */
export const getFilter = (sql: Sql, name: string): Op<Option.Option<Ports.Storage.SavedFilter>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`select name, filter, created_at from filters where name = ${name}`
    const [row] = rows
    return row === undefined ? Option.none() : Option.some(yield* readFilter("getFilter")(row))
  })

/** See `StorageShape.listFilters`. */
export const listFilters = (sql: Sql): Op<ReadonlyArray<Ports.Storage.SavedFilter>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`select name, filter, created_at from filters order by name`
    return yield* Effect.forEach(rows, readFilter("listFilters"))
  })

/** See `StorageShape.deleteFilter`. */
export const deleteFilter = (sql: Sql, name: string): Op<void, Ports.Storage.NotFound> =>
  Effect.gen(function*() {
    const rows = yield* sql`delete from filters where name = ${name} returning name`
    if (rows.length === 0) return yield* new Ports.Storage.NotFound({ entity: "filter", key: name })
  })

// ---------------------------------------------------------------------------------------------------------
// Campaigns
// ---------------------------------------------------------------------------------------------------------

const campaignStates: ReadonlyArray<Campaign.CampaignStateId> = Campaign.states
const pauseKinds: ReadonlyArray<Campaign.SystemPauseKind> = [
  "template_unusable", "account_blocked", "auth_failed", "spam_rate_limited", "outcome_review"
]

// Thrown inside `decode`, which turns it into a StorageError.
const bad = (what: string): never => {
  throw new Error(what)
}

const readPauseReason = (row: Row): Campaign.PauseReason | null => {
  if (row["pause_reason"] === null) return null
  const r = jsonObject(row, "pause_reason")
  if (r["_tag"] === "Operator") return { _tag: "Operator" }
  const kind = pauseKinds.find((k) => k === r["kind"])
  if (r["_tag"] !== "System" || kind === undefined || typeof r["explanation"] !== "string") return bad("pause_reason is not a pause reason")
  return typeof r["code"] === "string"
    ? { _tag: "System", kind, explanation: r["explanation"], code: r["code"] }
    : { _tag: "System", kind, explanation: r["explanation"] }
}

const readCampaign = (row: Row): Ports.Storage.CampaignRecord => ({
  id: id(row, "id"),
  name: str(row, "name"),
  accountName: str(row, "account_name"),
  templateName: str(row, "template_name"),
  language: str(row, "language"),
  note: strOrNull(row, "note"),
  maxMps: numOrNull(row, "max_mps"),
  lifecycle: {
    state: campaignStates.find((s) => s === row["state"]) ?? bad("state is not a campaign state"),
    pauseReason: readPauseReason(row),
    createdAt: date(row, "created_at"),
    startedAt: dateOrNull(row, "started_at"),
    pausedAt: dateOrNull(row, "paused_at"),
    endedAt: dateOrNull(row, "ended_at"),
    scheduledAt: dateOrNull(row, "scheduled_at")
  },
  sendWindow: readSendWindow(row)
})

const readSendWindow = (row: Row): SendWindow.SendWindow | null => {
  const text = strOrNull(row, "send_window")
  if (text === null) return null
  const window = SendWindow.parse(text)
  return Result.isSuccess(window) ? window.success : bad(`send_window is not a send window: ${window.failure.message}`)
}

/** See `StorageShape.createCampaign`. */
export const createCampaign = (sql: Sql, c: Ports.Storage.NewCampaign, now: Date): Op<Ports.Storage.CampaignRecord> =>
  Effect.gen(function*() {
    const lifecycle = Campaign.draft(now)
    const rows = yield* sql<Row>`
      insert into campaigns (name, account_name, template_name, language, note, max_mps, state, pause_reason, created_at)
      values (${c.name}, ${c.accountName}, ${c.templateName}, ${c.language}, ${c.note}, ${c.maxMps ?? null}, ${lifecycle.state}, null, ${now})
      returning *
    `
    const [created] = yield* decode("createCampaign", rows, readCampaign)
    if (created === undefined) return yield* new Ports.Storage.StorageError({ operation: "createCampaign", message: "The new campaign was not returned." })
    return created
  })

/** See `StorageShape.getCampaign`. */
export const getCampaign = (sql: Sql, campaignId: string): Op<Option.Option<Ports.Storage.CampaignRecord>> =>
  Effect.gen(function*() {
    if (!isId(campaignId)) return Option.none()
    const rows = yield* sql<Row>`select * from campaigns where id = ${campaignId}::bigint`
    return Option.fromNullishOr((yield* decode("getCampaign", rows, readCampaign))[0])
  })

/** See `StorageShape.listCampaigns`. */
export const listCampaigns = (sql: Sql): Op<ReadonlyArray<Ports.Storage.CampaignRecord>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`select * from campaigns order by id`
    return yield* decode("listCampaigns", rows, readCampaign)
  })

/** See `StorageShape.setCampaignMaxMps`. */
export const setCampaignMaxMps = (sql: Sql, campaignId: string, maxMps: number | null): Op<Ports.Storage.CampaignRecord, Ports.Storage.NotFound> =>
  Effect.gen(function*() {
    const notFound = new Ports.Storage.NotFound({ entity: "campaign", key: campaignId })
    if (!isId(campaignId)) return yield* notFound
    const rows = yield* sql<Row>`
      update campaigns set max_mps = ${maxMps}, next_send_at = null
      where id = ${campaignId}::bigint
      returning *
    `
    const [updated] = yield* decode("setCampaignMaxMps", rows, readCampaign)
    return updated ?? (yield* notFound)
  })

/** See `StorageShape.setSendWindow`: the window, and the initial contacts waiting for the old one due again, in one step. */
export const setSendWindow = (
  sql: Sql,
  campaignId: string,
  window: SendWindow.SendWindow | null
): Op<Ports.Storage.CampaignRecord, Ports.Storage.NotFound> =>
  sql.withTransaction(Effect.gen(function*() {
    const notFound = new Ports.Storage.NotFound({ entity: "campaign", key: campaignId })
    if (!isId(campaignId)) return yield* notFound
    const rows = yield* sql<Row>`
      update campaigns set send_window = ${window === null ? null : SendWindow.format(window)}
      where id = ${campaignId}::bigint
      returning *
    `
    const [updated] = yield* decode("setSendWindow", rows, readCampaign)
    if (updated === undefined) return yield* notFound
    // Only a window gives an initial contact a next attempt time.
    yield* sql`
      update campaign_contacts set next_attempt_at = null
      where campaign_id = ${campaignId}::bigint and state = 'initial' and next_attempt_at is not null
    `
    return updated
  }))

/** See `StorageShape.updateCampaignLifecycle`: a compare-and-set on the campaign's state. */
export const updateCampaignLifecycle = (
  sql: Sql,
  campaignId: string,
  expected: Campaign.CampaignStateId,
  next: Campaign.CampaignLifecycle
): Op<Ports.Storage.CampaignRecord, Ports.Storage.NotFound | Ports.Storage.Conflict> =>
  Effect.gen(function*() {
    const notFound = new Ports.Storage.NotFound({ entity: "campaign", key: campaignId })
    if (!isId(campaignId)) return yield* notFound
    const rows = yield* sql<Row>`
      update campaigns set
        state = ${next.state},
        pause_reason = ${next.pauseReason === null ? null : JSON.stringify(next.pauseReason)}::jsonb,
        created_at = ${next.createdAt},
        started_at = ${next.startedAt},
        paused_at = ${next.pausedAt},
        ended_at = ${next.endedAt},
        scheduled_at = ${next.scheduledAt}
      where id = ${campaignId}::bigint and state = ${expected}
      returning *
    `
    const [updated] = yield* decode("updateCampaignLifecycle", rows, readCampaign)
    if (updated !== undefined) return updated
    const current = yield* sql<Row>`select state from campaigns where id = ${campaignId}::bigint`
    const [row] = current
    if (row === undefined) return yield* notFound
    return yield* new Ports.Storage.Conflict({
      entity: "campaign",
      key: campaignId,
      message: `Campaign ${campaignId} is ${String(row["state"])}, not ${expected}: someone else changed it first; read it again.`
    })
  })
