/**
 * The suppression list and the event log.
 */
import { ContactState, type Ports } from "@megaphone/core"
import { Effect, Result } from "effect"
import { optedOutText } from "../shared/Suppression.ts"
import {
  contactColumns, date, decode, id, idOrNull, isId, jsonObject, jsons, type Op, type ProgressWrite, readContact, type Row,
  type Sql, str, texts, timestamps, writeProgress
} from "./Rows.ts"

/** See `StorageShape.suppress`. */
export const suppress = (
  sql: Sql,
  entries: ReadonlyArray<{ readonly recipient: string; readonly reason: string }>,
  now: Date
): Op<number> =>
  entries.length === 0 ? Effect.succeed(0) : sql.withTransaction(Effect.gen(function*() {
    const recipients = texts(entries.map((e) => e.recipient))
    const rows = yield* sql`
      insert into suppressions (recipient, reason, created_at)
      select s.recipient, s.reason, ${now}
      from unnest(${recipients}::text[], ${texts(entries.map((e) => e.reason))}::text[])
        with ordinality as s(recipient, reason, ord)
      order by s.ord
      on conflict (recipient) do nothing
      returning recipient
    `
    // The recipients' contacts still waiting to be sent are settled now (ContactState's OptedOut), with the
    // reason on the list; a send already in flight is not called back.
    const waiting = yield* decode("suppress", yield* sql<Row>`
      select ${sql.literal(contactColumns)}, s.reason as suppressed_because
      from campaign_contacts cc
      join suppressions s on s.recipient = cc.recipient
      where cc.recipient = any(${recipients}::text[])
        and cc.state in ('initial', 'retry_scheduled')
      order by cc.id
      for update of cc
    `, (row) => ({ stored: readContact(row), reason: str(row, "suppressed_because") }))
    const writes: Array<ProgressWrite> = []
    for (const { stored, reason } of waiting) {
      const next = ContactState.transition(stored.contact.progress, { _tag: "OptedOut", reason: optedOutText(reason) }, now)
      if (Result.isFailure(next)) continue
      writes.push({ id: stored.contact.id, progress: next.success, leaseOwner: null, reservation: stored.reservation })
    }
    yield* writeProgress(sql, writes)
    return rows.length
  }))

/** See `StorageShape.unsuppress`. */
export const unsuppress = (sql: Sql, recipient: string): Op<boolean> =>
  Effect.map(sql`delete from suppressions where recipient = ${recipient} returning recipient`, (rows) => rows.length > 0)

/** See `StorageShape.listSuppressions`. */
export const listSuppressions = (sql: Sql): Op<ReadonlyArray<Ports.Storage.Suppression>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`select recipient, reason, created_at from suppressions order by recipient`
    return yield* decode("listSuppressions", rows, (r) => ({
      recipient: str(r, "recipient"),
      reason: str(r, "reason"),
      createdAt: date(r, "created_at")
    }))
  })

/** See `StorageShape.appendEvents`. */
export const appendEvents = (sql: Sql, events: ReadonlyArray<Omit<Ports.Storage.LoggedEvent, "id">>): Op<void> =>
  Effect.gen(function*() {
    if (events.length === 0) return
    yield* sql`
      insert into events (campaign_id, kind, message, data, at)
      select e.campaign_id::bigint, e.kind, e.message, e.data::jsonb, e.at
      from unnest(
        ${texts(events.map((e) => e.campaignId))}::text[],
        ${texts(events.map((e) => e.kind))}::text[],
        ${texts(events.map((e) => e.message))}::text[],
        ${jsons(events.map((e) => e.data))}::text[],
        ${timestamps(events.map((e) => e.at))}::timestamptz[]
      ) with ordinality as e(campaign_id, kind, message, data, at, ord)
      order by e.ord
    `
  })

/** See `StorageShape.listEvents`. */
export const listEvents = (sql: Sql, campaignId: string | undefined, page: Ports.Storage.Page): Op<ReadonlyArray<Ports.Storage.LoggedEvent>> =>
  Effect.gen(function*() {
    const afterId = page.afterId ?? "0"
    if (!isId(afterId) || page.limit <= 0 || (campaignId !== undefined && !isId(campaignId))) return []
    const rows = yield* sql<Row>`
      select id, campaign_id, kind, message, data, at
      from events
      where id > ${afterId}::bigint
        ${campaignId === undefined ? sql.literal("") : sql`and campaign_id = ${campaignId}::bigint`}
      order by id
      limit ${Math.floor(page.limit)}
    `
    return yield* decode("listEvents", rows, (r) => ({
      id: id(r, "id"),
      campaignId: idOrNull(r, "campaign_id"),
      kind: str(r, "kind"),
      message: str(r, "message"),
      data: jsonObject(r, "data"),
      at: date(r, "at")
    }))
  })
