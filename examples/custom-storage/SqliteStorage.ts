/**
 * A storage adapter of your own: Megaphone's Storage port on one SQLite file, through Node's built-in `node:sqlite`
 * (no dependency, no native addon). It passes the same conformance suite as the in-memory and PostgreSQL adapters.
 *
 *   Layer.provide(program, SqliteStorage.layer("megaphone.db"))
 *
 * How it is atomic: `node:sqlite` is synchronous, so every operation runs start to end without another fiber of
 * this process in between; every operation that writes runs in a `BEGIN IMMEDIATE` transaction, which holds the
 * file's write lock from its first read to its commit, so daemons in several processes sharing the file see each
 * other's operations whole, one after the other. (This also blocks the event loop while a statement runs, or while
 * it waits up to the busy timeout for another process: fine for an example and a single machine.)
 *
 * Layout: Tables.ts (the file and its tables), Rows.ts (statements, transactions, rows ↔ records), Dispatch.ts
 * (claims, outcomes, webhooks), and this module, which implements everything else and wires the port.
 */
import { Suppression } from "@megaphone/adapters"
import { Campaign, ContactState, Filter, Ports, SendWindow, type Template } from "@megaphone/core"
import { Effect, Layer, Option, Result, Schema } from "effect"
import type { DatabaseSync } from "node:sqlite"
import * as Dispatch from "./Dispatch.ts"
import {
  byCodeUnit, findContact, isId, jsonArray, ms, msOrNull, type Params, progressParams, readAccount, readCampaign,
  readContact, readDirectoryContact, reader, readEvent, readFilter, readSuppression, readTemplate, type Sql, sql,
  transaction
} from "./Rows.ts"
import * as Tables from "./Tables.ts"

type StorageShape = Ports.Storage.StorageShape
type StorageError = Ports.Storage.StorageError
type DirectoryContact = Ports.Storage.DirectoryContact
type Page = Ports.Storage.Page

const ok = <A>(value: A): Result.Result<A, never> => Result.succeed(value)

const storageError = (operation: string, error: unknown): StorageError =>
  new Ports.Storage.StorageError({
    operation,
    message: `${operation}: SQLite failed: ${error instanceof Error ? error.message : String(error)}`
  })

/** Run a read: one or more SELECTs, each consistent on its own. Whatever SQLite throws becomes a StorageError. */
const query = <A>(operation: string, body: () => A): Effect.Effect<A, StorageError> =>
  Effect.try({ try: body, catch: (error) => storageError(operation, error) })

/** Run a write in one `BEGIN IMMEDIATE` transaction; a failed Result (NotFound, Conflict) rolls it back and is returned. */
const atomically = <A, E = never>(operation: string, s: Sql, body: () => Result.Result<A, E>): Effect.Effect<A, E | StorageError> =>
  Effect.flatMap(query(operation, () => transaction(s, body)), Effect.fromResult)

/** The page's bounds in SQL: rows with an id above `after`, at most `limit`; none for an empty or malformed page. */
const pageBounds = (page: Page): { readonly after: number; readonly limit: number } | undefined => {
  if (page.limit <= 0) return undefined
  if (page.afterId === undefined) return { after: 0, limit: Math.floor(page.limit) }
  const after = Number(page.afterId)
  return Number.isNaN(after) ? undefined : { after, limit: Math.floor(page.limit) }
}

// Single values some queries select, decoded like whole rows.
const readId = reader(Schema.Struct({ id: Schema.Number }), (r) => r.id)
const readCount = reader(Schema.Struct({ n: Schema.Number }), (r) => r.n)
const readName = reader(Schema.Struct({ name: Schema.String }), (r) => r.name)
const readReason = reader(Schema.Struct({ reason: Schema.String }), (r) => r.reason)
const readStateCount = reader(Schema.Struct({ state: Schema.Literals(ContactState.states), n: Schema.Number }), (r) => [r.state, r.n] as const)

const missingRecipient: ContactState.LastError = {
  code: "invalid_phone",
  text: "The phone number is not a valid number; correct it in the source (CSV or directory) and add the contact again."
}

// Campaign ids as a JSON array for `json_each`; ids that cannot be ours are left out (they match nothing).
const campaignIdList = (ids: ReadonlyArray<string> | undefined): string | null =>
  ids === undefined ? null : jsonArray(ids.filter(isId).map(Number))

/** The storage over an open database; {@link layer} opens and closes it for you. */
export const make = (db: DatabaseSync): StorageShape => {
  const s = sql(db)

  // Directory ------------------------------------------------------------------------------------------------

  /**
   * Directory contacts after `afterId` matching the filter and the search, in id order, at most `limit`. The filter
   * is the core's own AST, evaluated in JavaScript over each row (`Filter.evaluate`) exactly as the other adapters
   * must match it; the PostgreSQL adapter compiles it to SQL instead, which a bigger directory would want.
   */
  const directoryMatching = (
    filter: Filter.Filter | undefined,
    search: string | undefined,
    afterId = 0,
    limit = Number.POSITIVE_INFINITY
  ): Array<DirectoryContact> => {
    const out: Array<DirectoryContact> = []
    if (limit <= 0) return out
    const rows = s.statement(`SELECT * FROM directory_contacts WHERE id > :afterId ORDER BY id`).iterate({ afterId })
    for (const row of rows) {
      const contact = readDirectoryContact(row)
      if (filter !== undefined && !Filter.evaluate(filter, { phone: contact.phone, ...contact.columns })) continue
      if (search !== undefined && !Ports.Storage.matchesSearch(contact, search)) continue
      out.push(contact)
      // Returning early closes the iterator, which resets the statement.
      if (out.length >= limit) break
    }
    return out
  }

  const directoryIdOf = (key: Ports.Storage.DirectoryKey): number | undefined => {
    if ("id" in key) return isId(key.id) ? Number(key.id) : undefined
    const row = s.statement(`SELECT id FROM directory_contacts WHERE phone = :phone`).get({ phone: key.phone })
    return row === undefined ? undefined : readId(row)
  }

  /** Delete these directory contacts; campaign contacts added from them keep everything but the link. */
  const deleteDirectory = (ids: ReadonlyArray<number>): number => {
    if (ids.length === 0) return 0
    const list = jsonArray(ids)
    s.statement(`
      UPDATE campaign_contacts SET directory_contact_id = NULL
      WHERE directory_contact_id IN (SELECT value FROM json_each(:list))
    `).run({ list })
    return Number(s.statement(`DELETE FROM directory_contacts WHERE id IN (SELECT value FROM json_each(:list))`).run({ list }).changes)
  }

  // Templates ------------------------------------------------------------------------------------------------

  const upsertTemplate = (wabaId: string, template: Template.Template, syncedAt: Date, deletedAt: Date | null): void => {
    s.statement(`
      INSERT INTO templates (waba_id, name, language, body, synced_at, deleted_at)
      VALUES (:wabaId, :name, :language, :body, :syncedAt, :deletedAt)
      ON CONFLICT (waba_id, name, language) DO UPDATE SET
        body = excluded.body, synced_at = excluded.synced_at, deleted_at = excluded.deleted_at
    `).run({
      wabaId,
      name: template.name,
      language: template.language,
      body: JSON.stringify(template),
      syncedAt: ms(syncedAt),
      deletedAt: msOrNull(deletedAt)
    })
  }

  const findTemplate = (wabaId: string, name: string, language: string): Ports.Storage.StoredTemplate | undefined => {
    const row = s.statement(`
      SELECT * FROM templates WHERE waba_id = :wabaId AND name = :name AND language = :language
    `).get({ wabaId, name, language })
    return row === undefined ? undefined : readTemplate(row)
  }

  const storage: StorageShape = {
    // Accounts -----------------------------------------------------------------------------------------------
    saveAccount: (a) =>
      atomically("saveAccount", s, () => {
        const params: Params = {
          name: a.name,
          phone_number_id: a.phoneNumberId,
          waba_id: a.wabaId,
          portfolio_id: a.portfolioId,
          token_env: a.tokenEnv,
          graph_url: a.graphUrl,
          graph_version: a.graphVersion,
          display_phone_number: a.displayPhoneNumber,
          messaging_limit: a.messagingLimit === "unlimited" ? null : a.messagingLimit,
          messaging_tier: a.messagingTier,
          quality_rating: a.qualityRating,
          throughput_mps: a.throughputMps,
          max_mps: a.maxMps ?? null,
          provider: a.provider ?? null,
          throughput_level: a.throughputLevel,
          name_status: a.nameStatus,
          status: a.status,
          created_at: ms(a.createdAt),
          updated_at: ms(a.updatedAt)
        }
        // Replacing an account keeps when it was first added: created_at is not in the update.
        const row = s.statement(`
          INSERT INTO accounts (
            name, phone_number_id, waba_id, portfolio_id, token_env, graph_url, graph_version, display_phone_number,
            messaging_limit, messaging_tier, quality_rating, throughput_mps, max_mps, throughput_level, name_status,
            status, created_at, updated_at, provider
          ) VALUES (
            :name, :phone_number_id, :waba_id, :portfolio_id, :token_env, :graph_url, :graph_version,
            :display_phone_number, :messaging_limit, :messaging_tier, :quality_rating, :throughput_mps, :max_mps,
            :throughput_level, :name_status, :status, :created_at, :updated_at, :provider
          )
          ON CONFLICT (name) DO UPDATE SET
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
            updated_at = excluded.updated_at
          RETURNING *
        `).get(params)
        return ok(readAccount(row))
      }),
    getAccount: (name) =>
      query("getAccount", () =>
        Option.fromNullishOr(s.statement(`SELECT * FROM accounts WHERE name = :name`).get({ name })).pipe(Option.map(readAccount))),
    listAccounts: () =>
      query("listAccounts", () =>
        // Sorted here: the port orders names by JavaScript code unit, SQLite's BINARY collation by UTF-8 byte.
        s.statement(`SELECT * FROM accounts`).all().map(readAccount).sort((a, b) => byCodeUnit(a.name, b.name))),

    // Templates ----------------------------------------------------------------------------------------------
    syncTemplates: (wabaId, listed, now) =>
      atomically("syncTemplates", s, () => {
        let added = 0
        let updated = 0
        const seen = new Set<string>()
        for (const template of listed) {
          seen.add(JSON.stringify([template.name, template.language]))
          if (findTemplate(wabaId, template.name, template.language) === undefined) added++
          else updated++
          // Listed again: updated, and undeleted.
          upsertTemplate(wabaId, template, now, null)
        }
        let deleted = 0
        const live = s.statement(`SELECT * FROM templates WHERE waba_id = :wabaId AND deleted_at IS NULL`).all({ wabaId }).map(readTemplate)
        for (const stored of live) {
          if (seen.has(JSON.stringify([stored.template.name, stored.template.language]))) continue
          upsertTemplate(wabaId, stored.template, stored.syncedAt, now)
          deleted++
        }
        return ok({ added, updated, deleted })
      }),
    listTemplates: (wabaId) =>
      query("listTemplates", () =>
        s.statement(`SELECT * FROM templates WHERE :wabaId IS NULL OR waba_id = :wabaId`)
          .all({ wabaId: wabaId ?? null })
          .map(readTemplate)
          .sort((a, b) =>
            byCodeUnit(a.wabaId, b.wabaId) ||
            byCodeUnit(a.template.name, b.template.name) ||
            byCodeUnit(a.template.language, b.template.language)
          )),
    updateTemplateStatus: (wabaId, name, language, status, rejectedReason, now) =>
      atomically("updateTemplateStatus", s, () => {
        const stored = findTemplate(wabaId, name, language)
        if (stored === undefined) return ok(Option.none())
        // A reason left from an earlier rejection would be stale: it goes unless the webhook gave one.
        const { rejected_reason: _stale, ...rest } = stored.template
        const template = rejectedReason === null ? { ...rest, status } : { ...rest, status, rejected_reason: rejectedReason }
        upsertTemplate(wabaId, template, now, stored.deletedAt)
        return ok(Option.some({ ...stored, template, syncedAt: now }))
      }),

    // Directory ----------------------------------------------------------------------------------------------
    importDirectory: (rows, onDuplicate, now) =>
      atomically("importDirectory", s, () => {
        let inserted = 0
        let updated = 0
        let skipped = 0
        // Row by row, so a phone repeated inside the batch meets the row its first occurrence wrote.
        for (const row of rows) {
          const existing = s.statement(`SELECT * FROM directory_contacts WHERE phone = :phone`).get({ phone: row.phone })
          if (existing === undefined) {
            s.statement(`
              INSERT INTO directory_contacts (phone, columns, created_at, updated_at)
              VALUES (:phone, :columns, :now, :now)
            `).run({ phone: row.phone, columns: JSON.stringify(row.columns), now: ms(now) })
            inserted++
          } else if (onDuplicate === "skip") {
            skipped++
          } else {
            const contact = readDirectoryContact(existing)
            // An empty cell in the import never erases what the directory already knows.
            const merged: Record<string, string> = { ...contact.columns }
            for (const [column, value] of Object.entries(row.columns)) if (value !== "") merged[column] = value
            s.statement(`
              UPDATE directory_contacts SET columns = :columns, updated_at = :now WHERE id = :id
            `).run({ id: Number(contact.id), columns: JSON.stringify(merged), now: ms(now) })
            updated++
          }
        }
        return ok({ inserted, updated, skipped })
      }),
    listDirectory: (filter, page, search) =>
      query("listDirectory", () => {
        const bounds = pageBounds(page)
        return bounds === undefined ? [] : directoryMatching(filter, search, bounds.after, bounds.limit)
      }),
    countDirectory: (filter, search) =>
      query("countDirectory", () =>
        filter === undefined && search === undefined
          ? readCount(s.statement(`SELECT count(*) AS n FROM directory_contacts`).get())
          : directoryMatching(filter, search).length),
    getDirectoryContact: (key) =>
      query("getDirectoryContact", () => {
        const id = directoryIdOf(key)
        const row = id === undefined ? undefined : s.statement(`SELECT * FROM directory_contacts WHERE id = :id`).get({ id })
        return Option.fromNullishOr(row).pipe(Option.map(readDirectoryContact))
      }),
    deleteDirectoryContacts: (keys) =>
      atomically("deleteDirectoryContacts", s, () =>
        ok(deleteDirectory([...new Set(keys.flatMap((key) => directoryIdOf(key) ?? []))]))),
    deleteDirectoryMatching: (filter) =>
      atomically("deleteDirectoryMatching", s, () =>
        ok(deleteDirectory(directoryMatching(filter, undefined).map((c) => Number(c.id))))),
    directoryColumns: () =>
      query("directoryColumns", () =>
        s.statement(`SELECT DISTINCT j.key AS name FROM directory_contacts d, json_each(d.columns) j`)
          .all()
          .map(readName)
          .sort(byCodeUnit)),

    // Filters ------------------------------------------------------------------------------------------------
    createFilter: (name, filter, now) =>
      atomically<Ports.Storage.SavedFilter, Ports.Storage.Conflict>("createFilter", s, () => {
        const inserted = s.statement(`
          INSERT INTO filters (name, filter, created_at) VALUES (:name, :filter, :now)
          ON CONFLICT (name) DO NOTHING
        `).run({ name, filter: JSON.stringify(filter), now: ms(now) })
        if (inserted.changes === 0) {
          return Result.fail(new Ports.Storage.Conflict({
            entity: "filter",
            key: name,
            message: `A filter named "${name}" exists already; choose another name or delete the old one first.`
          }))
        }
        return ok({ name, filter, createdAt: now })
      }),
    getFilter: (name) =>
      query("getFilter", () =>
        Option.fromNullishOr(s.statement(`SELECT * FROM filters WHERE name = :name`).get({ name })).pipe(Option.map(readFilter))),
    listFilters: () =>
      query("listFilters", () => s.statement(`SELECT * FROM filters`).all().map(readFilter).sort((a, b) => byCodeUnit(a.name, b.name))),
    deleteFilter: (name) =>
      atomically<void, Ports.Storage.NotFound>("deleteFilter", s, () =>
        s.statement(`DELETE FROM filters WHERE name = :name`).run({ name }).changes > 0
          ? ok(undefined)
          : Result.fail(new Ports.Storage.NotFound({ entity: "filter", key: name }))),

    // Campaigns ----------------------------------------------------------------------------------------------
    createCampaign: (campaign, now) =>
      atomically("createCampaign", s, () => {
        const lifecycle = Campaign.draft(now)
        const row = s.statement(`
          INSERT INTO campaigns (name, account_name, template_name, language, note, max_mps, state, created_at)
          VALUES (:name, :accountName, :templateName, :language, :note, :maxMps, :state, :createdAt)
          RETURNING *
        `).get({
          name: campaign.name,
          accountName: campaign.accountName,
          templateName: campaign.templateName,
          language: campaign.language,
          note: campaign.note,
          maxMps: campaign.maxMps ?? null,
          state: lifecycle.state,
          createdAt: ms(lifecycle.createdAt)
        })
        return ok(readCampaign(row))
      }),
    getCampaign: (id) =>
      query("getCampaign", () =>
        Option.fromNullishOr(isId(id) ? s.statement(`SELECT * FROM campaigns WHERE id = :id`).get({ id: Number(id) }) : undefined)
          .pipe(Option.map(readCampaign))),
    listCampaigns: () => query("listCampaigns", () => s.statement(`SELECT * FROM campaigns ORDER BY id`).all().map(readCampaign)),
    setCampaignMaxMps: (id, maxMps) =>
      atomically<Ports.Storage.CampaignRecord, Ports.Storage.NotFound>("setCampaignMaxMps", s, () => {
        const row = isId(id)
          ? s.statement(`UPDATE campaigns SET max_mps = :maxMps, next_send_at = NULL WHERE id = :id RETURNING *`).get({ id: Number(id), maxMps })
          : undefined
        return row === undefined ? Result.fail(new Ports.Storage.NotFound({ entity: "campaign", key: id })) : ok(readCampaign(row))
      }),
    setSendWindow: (id, window) =>
      atomically<Ports.Storage.CampaignRecord, Ports.Storage.NotFound>("setSendWindow", s, () => {
        const row = isId(id)
          ? s.statement(`UPDATE campaigns SET send_window = :window WHERE id = :id RETURNING *`)
            .get({ id: Number(id), window: window === null ? null : SendWindow.format(window) })
          : undefined
        if (row === undefined) return Result.fail(new Ports.Storage.NotFound({ entity: "campaign", key: id }))
        // Only a window gives an initial contact a next attempt time: due again, judged by the new window.
        s.statement(`
          UPDATE campaign_contacts SET next_attempt_at = NULL
          WHERE campaign_id = :id AND state = 'initial' AND next_attempt_at IS NOT NULL
        `).run({ id: Number(id) })
        return ok(readCampaign(row))
      }),
    updateCampaignLifecycle: (id, expected, next) =>
      atomically<Ports.Storage.CampaignRecord, Ports.Storage.NotFound | Ports.Storage.Conflict>("updateCampaignLifecycle", s, () => {
        const current = isId(id) ? s.statement(`SELECT * FROM campaigns WHERE id = :id`).get({ id: Number(id) }) : undefined
        if (current === undefined) return Result.fail(new Ports.Storage.NotFound({ entity: "campaign", key: id }))
        const campaign = readCampaign(current)
        if (campaign.lifecycle.state !== expected) {
          return Result.fail(new Ports.Storage.Conflict({
            entity: "campaign",
            key: id,
            message: `Campaign ${id} is ${campaign.lifecycle.state}, not ${expected}: someone changed it first; re-read it and decide again.`
          }))
        }
        const row = s.statement(`
          UPDATE campaigns SET
            state = :state,
            pause_reason = :pauseReason,
            created_at = :createdAt,
            started_at = :startedAt,
            paused_at = :pausedAt,
            ended_at = :endedAt,
            scheduled_at = :scheduledAt
          WHERE id = :id
          RETURNING *
        `).get({
          id: Number(id),
          state: next.state,
          pauseReason: next.pauseReason === null ? null : JSON.stringify(next.pauseReason),
          createdAt: ms(next.createdAt),
          startedAt: msOrNull(next.startedAt),
          pausedAt: msOrNull(next.pausedAt),
          endedAt: msOrNull(next.endedAt),
          scheduledAt: msOrNull(next.scheduledAt)
        })
        return ok(readCampaign(row))
      }),
    campaignCounts: (id) =>
      query("campaignCounts", () => {
        const counts: Record<ContactState.ContactStateId, number> = { ...Campaign.emptyCounts }
        if (!isId(id)) return counts
        const rows = s.statement(`
          SELECT state, count(*) AS n FROM campaign_contacts WHERE campaign_id = :id GROUP BY state
        `).all({ id: Number(id) })
        for (const [state, n] of rows.map(readStateCount)) counts[state] = n
        return counts
      }),
    failureSummary: (campaignIds) =>
      query("failureSummary", () => {
        const contacts = s.statement(`
          SELECT * FROM campaign_contacts
          WHERE state IN ('error', 'sending_failed', 'retry_scheduled')
            AND last_error IS NOT NULL
            AND (:ids IS NULL OR campaign_id IN (SELECT value FROM json_each(:ids)))
          ORDER BY id
        `).all({ ids: campaignIdList(campaignIds) }).map((row) => readContact(row).contact)
        // Grouped here rather than in SQL: the time a contact failed is its current state's entry in state_times.
        const groups = new Map<string, { count: number; text: string; lastAt: Date; campaigns: Set<string> }>()
        for (const contact of contacts) {
          const { state, lastError, stateTimes } = contact.progress
          if (lastError === null) continue
          const at = stateTimes[state] ?? contact.addedAt
          const group = groups.get(lastError.code)
          if (group === undefined) {
            groups.set(lastError.code, { count: 1, text: lastError.text, lastAt: at, campaigns: new Set([contact.campaignId]) })
            continue
          }
          group.count++
          group.campaigns.add(contact.campaignId)
          if (at.getTime() > group.lastAt.getTime()) Object.assign(group, { text: lastError.text, lastAt: at })
        }
        return [...groups.entries()]
          .map(([code, g]) => ({ code, count: g.count, text: g.text, lastAt: g.lastAt, campaignIds: [...g.campaigns].sort((a, b) => Number(a) - Number(b)) }))
          .sort((a, b) => b.count - a.count || byCodeUnit(a.code, b.code))
      }),
    soonestRetries: (campaignIds, limit) =>
      query("soonestRetries", () =>
        s.statement(`
          SELECT * FROM campaign_contacts
          WHERE state = 'retry_scheduled'
            AND (:ids IS NULL OR campaign_id IN (SELECT value FROM json_each(:ids)))
          ORDER BY next_attempt_at IS NULL, next_attempt_at, id
          LIMIT :limit
        `).all({ ids: campaignIdList(campaignIds), limit: Math.max(0, Math.floor(limit)) }).map((row) => readContact(row).contact)),
    hasPendingContacts: (id) =>
      query("hasPendingContacts", () =>
        isId(id) && readCount(s.statement(`
          SELECT EXISTS (
            SELECT 1 FROM campaign_contacts
            WHERE campaign_id = :id AND state IN ('initial', 'in_progress', 'retry_scheduled')
          ) AS n
        `).get({ id: Number(id) })) === 1),

    // Campaign contacts --------------------------------------------------------------------------------------
    addCampaignContacts: (campaignId, contacts, now) =>
      atomically<Ports.Storage.AddContactsResult, Ports.Storage.NotFound>("addCampaignContacts", s, () => {
        const campaign = isId(campaignId) ? s.statement(`SELECT id FROM campaigns WHERE id = :id`).get({ id: Number(campaignId) }) : undefined
        if (campaign === undefined) return Result.fail(new Ports.Storage.NotFound({ entity: "campaign", key: campaignId }))
        let added = 0
        let invalid = 0
        let suppressed = 0
        const alreadyInCampaign: Array<string> = []
        for (const c of contacts) {
          const recipient = c.recipient ?? ""
          let progress: ContactState.ContactProgress
          let kind: "invalid" | "suppressed" | "initial" = "initial"
          const suppression = recipient === "" ? undefined : s.statement(`SELECT reason FROM suppressions WHERE recipient = :recipient`).get({ recipient })
          if (recipient === "") {
            progress = ContactState.invalidRecord(now, c.invalid ?? missingRecipient)
            kind = "invalid"
          } else if (suppression !== undefined) {
            progress = ContactState.invalidRecord(now, { code: "opted_out", text: Suppression.optedOutText(readReason(suppression)) })
            kind = "suppressed"
          } else {
            progress = ContactState.initial(now)
          }
          // One row per recipient in a campaign (per phone without one): a second is reported, not added.
          const inserted = s.statement(`
            INSERT INTO campaign_contacts (
              campaign_id, identity, phone, recipient, parameters, directory_contact_id, time_zone, added_at,
              state, attempts, throttled_attempts, next_attempt_at, lease_expires_at, lease_owner, last_error, wamid,
              wa_id, state_times, reserved_quota_key, reserved_slot, previous_sent_at
            ) VALUES (
              :campaign_id, :identity, :phone, :recipient, :parameters, :directory_contact_id, :time_zone, :added_at,
              :state, :attempts, :throttled_attempts, :next_attempt_at, :lease_expires_at, :lease_owner, :last_error,
              :wamid, :wa_id, :state_times, :reserved_quota_key, :reserved_slot, :previous_sent_at
            )
            ON CONFLICT (campaign_id, identity) DO NOTHING
          `).run({
            campaign_id: Number(campaignId),
            identity: recipient !== "" ? `recipient:${recipient}` : `phone:${c.phone}`,
            phone: c.phone,
            recipient,
            parameters: JSON.stringify(c.parameters),
            directory_contact_id: c.directoryContactId === undefined || c.directoryContactId === null || !isId(c.directoryContactId)
              ? null
              : Number(c.directoryContactId),
            time_zone: c.timeZone ?? null,
            added_at: ms(now),
            ...progressParams(progress, null, null)
          })
          if (inserted.changes === 0) {
            alreadyInCampaign.push(recipient !== "" ? recipient : c.phone)
            continue
          }
          added++
          if (kind === "invalid") invalid++
          if (kind === "suppressed") suppressed++
        }
        return ok({ added, invalid, suppressed, alreadyInCampaign })
      }),
    listCampaignContacts: (campaignId, state, page) =>
      query("listCampaignContacts", () => {
        const bounds = pageBounds(page)
        if (bounds === undefined || !isId(campaignId)) return []
        return s.statement(`
          SELECT * FROM campaign_contacts
          WHERE campaign_id = :campaignId AND (:state IS NULL OR state = :state) AND id > :after
          ORDER BY id
          LIMIT :limit
        `).all({ campaignId: Number(campaignId), state: state ?? null, ...bounds }).map((row) => readContact(row).contact)
      }),
    getCampaignContact: (id) =>
      query("getCampaignContact", () => Option.fromNullishOr(findContact(s, id)?.contact)),

    // Dispatch -----------------------------------------------------------------------------------------------
    claim: (request) => atomically("claim", s, () => ok(Dispatch.claim(s, request))),
    recordOutcomes: (outcomes, now) => atomically("recordOutcomes", s, () => ok(Dispatch.recordOutcomes(s, outcomes, now))),
    applyStatuses: (reports, now) => atomically("applyStatuses", s, () => ok(Dispatch.applyStatuses(s, reports, now))),
    reclaimExpiredLeases: (now, policy) =>
      atomically("reclaimExpiredLeases", s, () => ok(Dispatch.reclaimExpiredLeases(s, now, policy))),
    cancelPending: (campaignId, now) =>
      atomically("cancelPending", s, () => ok(isId(campaignId) ? Dispatch.cancelPending(s, Number(campaignId), now) : 0)),
    throttleNumber: (phoneNumberId, now) =>
      atomically("throttleNumber", s, () => ok(Dispatch.throttleNumber(s, phoneNumberId, now))),
    quotaUsage: (account, now) => query("quotaUsage", () => Dispatch.quotaUsage(s, account, now)),

    // Suppression list ---------------------------------------------------------------------------------------
    suppress: (entries, now) =>
      atomically("suppress", s, () => {
        let added = 0
        // Existing entries keep their reason.
        const insert = s.statement(`
          INSERT INTO suppressions (recipient, reason, created_at) VALUES (:recipient, :reason, :now)
          ON CONFLICT (recipient) DO NOTHING
        `)
        for (const { recipient, reason } of entries) added += Number(insert.run({ recipient, reason, now: ms(now) }).changes)
        Dispatch.settleSuppressed(s, entries.map((e) => e.recipient), now)
        return ok(added)
      }),
    unsuppress: (recipient) =>
      atomically("unsuppress", s, () =>
        ok(s.statement(`DELETE FROM suppressions WHERE recipient = :recipient`).run({ recipient }).changes > 0)),
    listSuppressions: () =>
      query("listSuppressions", () =>
        s.statement(`SELECT * FROM suppressions`).all().map(readSuppression).sort((a, b) => byCodeUnit(a.recipient, b.recipient))),

    // Event log ----------------------------------------------------------------------------------------------
    appendEvents: (events) =>
      atomically("appendEvents", s, () => {
        // Event data is stored as JSON: what cannot be JSON fails the whole batch (and writes none of it).
        const insert = s.statement(`
          INSERT INTO events (campaign_id, kind, message, data, at) VALUES (:campaignId, :kind, :message, :data, :at)
        `)
        for (const e of events) {
          let data: string
          try {
            data = JSON.stringify(e.data)
          } catch (error) {
            return Result.fail(new Ports.Storage.StorageError({
              operation: "appendEvents",
              message: `Event data must be JSON: ${error instanceof Error ? error.message : String(error)}`
            }))
          }
          insert.run({ campaignId: e.campaignId, kind: e.kind, message: e.message, data, at: ms(e.at) })
        }
        return ok(undefined)
      }),
    listEvents: (campaignId, page) =>
      query("listEvents", () => {
        const bounds = pageBounds(page)
        if (bounds === undefined) return []
        return s.statement(`
          SELECT * FROM events
          WHERE (:campaignId IS NULL OR campaign_id = :campaignId) AND id > :after
          ORDER BY id
          LIMIT :limit
        `).all({ campaignId: campaignId ?? null, ...bounds }).map(readEvent)
      }),

    // Retry failed contacts (issue 11, item 3) ---------------------------------------------------------------
    retryContacts: (campaignId, selection, now) =>
      atomically("retryContacts", s, () =>
        ok(isId(campaignId) ? Dispatch.retryContacts(s, Number(campaignId), selection, now) : { retried: 0, suppressed: 0 }))
  }
  return storage
}

/**
 * The Storage service on the SQLite file at `path`, opened (and its tables created) when the layer is built and
 * closed when it is released. `:memory:` gives a private database: each build is a new, empty one.
 */
export const layer = (path: string): Layer.Layer<Ports.Storage.Storage, StorageError> =>
  Layer.effect(
    Ports.Storage.Storage,
    Effect.acquireRelease(
      Effect.try({ try: () => Tables.open(path), catch: (error) => storageError("open", error) }),
      (db) => Effect.sync(() => db.close())
    ).pipe(Effect.map(make))
  )
