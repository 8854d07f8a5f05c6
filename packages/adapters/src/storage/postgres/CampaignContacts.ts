/**
 * Campaign contacts: adding them in bulk (idempotent per recipient), reading them, counting them by state.
 */
import { Campaign, Ports } from "@megaphone/core"
import type { ContactState } from "@megaphone/core"
import { Effect, Option } from "effect"
import {
  contactColumns, date, decode, isId, jsons, num, type Op, readContact, type Row, type Sql, str, texts
} from "./Rows.ts"

// 7 array parameters per statement whatever the size; chunks only bound the size of one message.
const CHUNK = 10_000

const DEFAULT_INVALID: ContactState.LastError = {
  code: "invalid_phone",
  text: "The phone number is not a valid number."
}

/**
 * Insert one chunk; suppressed recipients become invalid records in the same statement. The database counts
 * what it inserted and lists the input rows that were already there (the first of each identity is the new
 * one), so one row comes back however large the chunk.
 */
const insertChunk = (sql: Sql, campaignId: string, contacts: ReadonlyArray<Ports.Storage.NewCampaignContact>, now: Date) => {
  const recipients = contacts.map((c) => c.recipient ?? "")
  const reasons = contacts.map((c) => (c.recipient === null || c.recipient === "" ? c.invalid ?? DEFAULT_INVALID : null))
  // Identity = what the unique index keys on: the recipient, or the phone for a contact without one.
  return sql<Row>`
    with input as (
      select *
      from unnest(
        ${texts(contacts.map((c) => c.phone))}::text[],
        ${texts(recipients)}::text[],
        ${jsons(contacts.map((c) => c.parameters))}::text[],
        ${texts(contacts.map((c) => c.directoryContactId ?? null))}::text[],
        ${texts(reasons.map((r) => r?.code ?? null))}::text[],
        ${texts(reasons.map((r) => r?.text ?? null))}::text[],
        ${texts(reasons.map((r) => r?.errorClass ?? null))}::text[],
        ${texts(contacts.map((c) => c.timeZone ?? null))}::text[]
      ) with ordinality as u(phone, recipient, parameters, directory_contact_id, error_code, error_text, error_class, time_zone, ord)
    ), classified as (
      select i.*, s.reason as suppressed_because
      from input i
      left join suppressions s on i.recipient <> '' and s.recipient = i.recipient
    ), inserted as (
      insert into campaign_contacts (
        campaign_id, phone, recipient, parameters, directory_contact_id, time_zone, added_at, state,
        last_error_code, last_error_text, last_error_class, initial_at, invalid_record_at
      )
      select
        ${campaignId}::bigint, phone, recipient, parameters::jsonb, directory_contact_id::bigint, time_zone, ${now},
        case when recipient = '' or suppressed_because is not null then 'invalid_record' else 'initial' end,
        case when recipient = '' then error_code when suppressed_because is not null then 'opted_out' end,
        case
          when recipient = '' then error_text
          -- The same words as shared/Suppression.ts's optedOutText.
          when suppressed_because is not null then 'The recipient is on the suppression list (' || suppressed_because
            || '); remove them from it only if they agreed to receive messages again.'
        end,
        case when recipient = '' then error_class end,
        case when recipient <> '' and suppressed_because is null then ${now}::timestamptz end,
        case when recipient = '' or suppressed_because is not null then ${now}::timestamptz end
      from classified
      order by ord
      on conflict (campaign_id, (coalesce(nullif(recipient, ''), 'phone:' || phone))) do nothing
      returning coalesce(nullif(recipient, ''), 'phone:' || phone) as identity, state, last_error_code
    ), ranked as (
      select ord, recipient, phone, coalesce(nullif(recipient, ''), 'phone:' || phone) as identity,
        row_number() over (partition by coalesce(nullif(recipient, ''), 'phone:' || phone) order by ord) as nth
      from input
    )
    select
      (select count(*) from inserted) as added,
      (select count(*) from inserted where state = 'invalid_record' and last_error_code = 'opted_out') as suppressed,
      (select count(*) from inserted where state = 'invalid_record' and last_error_code is distinct from 'opted_out') as invalid,
      (
        select coalesce(json_agg(case when r.recipient <> '' then r.recipient else r.phone end order by r.ord), '[]')
        from ranked r
        where r.nth > 1 or not exists (select 1 from inserted i where i.identity = r.identity)
      )::text as already
  `
}

/** See `StorageShape.addCampaignContacts`. */
export const addCampaignContacts = (
  sql: Sql,
  campaignId: string,
  contacts: ReadonlyArray<Ports.Storage.NewCampaignContact>,
  now: Date
): Op<Ports.Storage.AddContactsResult, Ports.Storage.NotFound> =>
  sql.withTransaction(Effect.gen(function*() {
    const notFound = new Ports.Storage.NotFound({ entity: "campaign", key: campaignId })
    if (!isId(campaignId)) return yield* notFound
    // Locked so a concurrent delete cannot orphan the rows being added.
    const campaign = yield* sql`select id from campaigns where id = ${campaignId}::bigint for share`
    if (campaign.length === 0) return yield* notFound

    let added = 0
    let invalid = 0
    let suppressed = 0
    const alreadyInCampaign: Array<string> = []
    for (let start = 0; start < contacts.length; start += CHUNK) {
      const chunk = contacts.slice(start, start + CHUNK)
      const [result] = yield* decode("addCampaignContacts", yield* insertChunk(sql, campaignId, chunk, now), (r) => ({
        added: num(r, "added"),
        invalid: num(r, "invalid"),
        suppressed: num(r, "suppressed"),
        already: JSON.parse(str(r, "already")) as ReadonlyArray<string>
      }))
      added += result?.added ?? 0
      invalid += result?.invalid ?? 0
      suppressed += result?.suppressed ?? 0
      alreadyInCampaign.push(...(result?.already ?? []))
    }
    return { added, invalid, suppressed, alreadyInCampaign }
  }))

/** See `StorageShape.listCampaignContacts`. */
export const listCampaignContacts = (
  sql: Sql,
  campaignId: string,
  state: ContactState.ContactStateId | undefined,
  page: Ports.Storage.Page
): Op<ReadonlyArray<Ports.Storage.CampaignContact>> =>
  Effect.gen(function*() {
    const afterId = page.afterId ?? "0"
    if (!isId(campaignId) || !isId(afterId) || page.limit <= 0) return []
    const rows = yield* sql<Row>`
      select ${sql.literal(contactColumns)}
      from campaign_contacts cc
      where cc.campaign_id = ${campaignId}::bigint
        ${state === undefined ? sql.literal("") : sql`and cc.state = ${state}`}
        and cc.id > ${afterId}::bigint
      order by cc.id
      limit ${Math.floor(page.limit)}
    `
    return (yield* decode("listCampaignContacts", rows, readContact)).map((s) => s.contact)
  })

/** See `StorageShape.getCampaignContact`. */
export const getCampaignContact = (sql: Sql, id: string): Op<Option.Option<Ports.Storage.CampaignContact>> =>
  Effect.gen(function*() {
    if (!isId(id)) return Option.none()
    const rows = yield* sql<Row>`select ${sql.literal(contactColumns)} from campaign_contacts cc where cc.id = ${id}::bigint`
    const [found] = yield* decode("getCampaignContact", rows, readContact)
    return Option.fromNullishOr(found?.contact)
  })

/** See `StorageShape.hasPendingContacts`: one probe of the (campaign_id, state) index per pending state. */
export const hasPendingContacts = (sql: Sql, id: string): Op<boolean> =>
  Effect.gen(function*() {
    if (!isId(id)) return false
    const rows = yield* sql<Row>`
      select exists (
        select 1 from campaign_contacts
        where campaign_id = ${id}::bigint and state in ('initial', 'in_progress', 'retry_scheduled')
      ) as pending
    `
    return rows[0]?.["pending"] === true
  })

/** See `StorageShape.campaignCounts`: one grouped query over the (campaign_id, state) index. */
export const campaignCounts = (sql: Sql, id: string): Op<Campaign.ContactCounts> =>
  Effect.gen(function*() {
    if (!isId(id)) return Campaign.emptyCounts
    const rows = yield* sql<Row>`
      select state, count(*) as n
      from campaign_contacts
      where campaign_id = ${id}::bigint
      group by state
    `
    const counts: Record<string, number> = { ...Campaign.emptyCounts }
    for (const [state, n] of yield* decode("campaignCounts", rows, (r) => [str(r, "state"), num(r, "n")] as const)) {
      if (state in counts) counts[state] = n
    }
    return counts as Campaign.ContactCounts
  })

/** The campaigns a question is about: the listed ones (ids that are not ids name none), or every campaign. */
const campaignScope = (sql: Sql, campaignIds: ReadonlyArray<string> | undefined) =>
  campaignIds === undefined
    ? sql.literal("true")
    : sql`cc.campaign_id = any(${texts(campaignIds.filter(isId))}::bigint[])`

/** See `StorageShape.failureSummary`: one grouped pass over the (campaign_id, state) index. */
export const failureSummary = (sql: Sql, campaignIds: ReadonlyArray<string> | undefined): Op<ReadonlyArray<Ports.Storage.FailureGroup>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`
      with failed as (
        select cc.campaign_id, cc.last_error_code, cc.last_error_text,
          case cc.state when 'error' then cc.error_at when 'sending_failed' then cc.sending_failed_at else cc.retry_scheduled_at end as at
        from campaign_contacts cc
        where ${campaignScope(sql, campaignIds)}
          and cc.state in ('error', 'sending_failed', 'retry_scheduled')
          and cc.last_error_code is not null
      )
      select last_error_code collate "C" as code, count(*) as n,
        (array_agg(last_error_text order by at desc nulls last))[1] as text,
        max(at) as last_at,
        array_agg(distinct campaign_id)::text[] as campaign_ids
      from failed
      group by last_error_code
      order by count(*) desc, 1
    `
    return yield* decode("failureSummary", rows, (r) => ({
      code: str(r, "code"),
      count: num(r, "n"),
      text: str(r, "text"),
      lastAt: date(r, "last_at"),
      campaignIds: (r["campaign_ids"] as ReadonlyArray<string>).slice().sort((a, b) => Number(a) - Number(b))
    }))
  })

/** See `StorageShape.soonestRetries`. */
export const soonestRetries = (
  sql: Sql,
  campaignIds: ReadonlyArray<string> | undefined,
  limit: number
): Op<ReadonlyArray<Ports.Storage.CampaignContact>> =>
  Effect.gen(function*() {
    if (limit <= 0) return []
    const rows = yield* sql<Row>`
      select ${sql.literal(contactColumns)}
      from campaign_contacts cc
      where ${campaignScope(sql, campaignIds)} and cc.state = 'retry_scheduled'
      order by cc.next_attempt_at nulls last, cc.id
      limit ${Math.floor(limit)}
    `
    return (yield* decode("soonestRetries", rows, readContact)).map((s) => s.contact)
  })
