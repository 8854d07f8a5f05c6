/**
 * Campaign contacts: adding them in bulk (idempotent per recipient), reading them, counting them by state.
 */
import { Campaign, Ports } from "@megaphone/core"
import type { ContactState } from "@megaphone/core"
import { Effect, Option } from "effect"
import {
  contactColumns, decode, isId, jsons, num, type Op, readContact, type Row, type Sql, str, strOrNull, texts
} from "./Rows.ts"

// 7 array parameters per statement whatever the size; chunks only bound the size of one message.
const CHUNK = 10_000

const DEFAULT_INVALID: ContactState.LastError = {
  code: "invalid_phone",
  text: "The phone number is not a valid number."
}

// The identity the unique index uses: the recipient, or the phone for a contact without one.
const identity = (recipient: string, phone: string): string => (recipient !== "" ? recipient : `phone:${phone}`)

/** Insert one chunk; suppressed recipients become invalid records in the same statement. */
const insertChunk = (sql: Sql, campaignId: string, contacts: ReadonlyArray<Ports.Storage.NewCampaignContact>, now: Date) => {
  const recipients = contacts.map((c) => c.recipient ?? "")
  const reasons = contacts.map((c) => (c.recipient === null || c.recipient === "" ? c.invalid ?? DEFAULT_INVALID : null))
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
        ${texts(reasons.map((r) => r?.errorClass ?? null))}::text[]
      ) with ordinality as u(phone, recipient, parameters, directory_contact_id, error_code, error_text, error_class, ord)
    ), classified as (
      select i.*, s.reason as suppressed_because
      from input i
      left join suppressions s on i.recipient <> '' and s.recipient = i.recipient
    )
    insert into campaign_contacts (
      campaign_id, phone, recipient, parameters, directory_contact_id, added_at, state,
      last_error_code, last_error_text, last_error_class, initial_at, invalid_record_at
    )
    select
      ${campaignId}::bigint, phone, recipient, parameters::jsonb, directory_contact_id::bigint, ${now},
      case when recipient = '' or suppressed_because is not null then 'invalid_record' else 'initial' end,
      case when recipient = '' then error_code when suppressed_because is not null then 'opted_out' end,
      case
        when recipient = '' then error_text
        when suppressed_because is not null then 'The recipient is on the suppression list: ' || suppressed_because
      end,
      case when recipient = '' then error_class end,
      case when recipient <> '' and suppressed_because is null then ${now}::timestamptz end,
      case when recipient = '' or suppressed_because is not null then ${now}::timestamptz end
    from classified
    order by ord
    on conflict (campaign_id, (coalesce(nullif(recipient, ''), 'phone:' || phone))) do nothing
    returning recipient, phone, state, last_error_code
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
      const inserted = yield* decode("addCampaignContacts", yield* insertChunk(sql, campaignId, chunk, now), (r) => ({
        key: identity(str(r, "recipient"), str(r, "phone")),
        state: str(r, "state"),
        code: strOrNull(r, "last_error_code")
      }))
      const fresh = new Set<string>()
      for (const row of inserted) {
        fresh.add(row.key)
        added++
        if (row.state === "invalid_record") {
          if (row.code === "opted_out") suppressed++
          else invalid++
        }
      }
      // The first contact of each inserted identity is the new row; every other one was there already.
      for (const c of chunk) {
        const key = identity(c.recipient ?? "", c.phone)
        if (fresh.delete(key)) continue
        alreadyInCampaign.push(c.recipient !== null && c.recipient !== "" ? c.recipient : c.phone)
      }
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
