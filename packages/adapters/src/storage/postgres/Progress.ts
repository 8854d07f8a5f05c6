/**
 * Everything that moves claimed or sent contacts along: send outcomes, status webhooks, expired leases and
 * cancellation. One pattern for all: lock the batch's rows in id order (`SELECT … FOR UPDATE`), apply
 * `ContactState.transition` in TypeScript in the given order, write every changed row with one
 * `UPDATE … FROM unnest(…)` whose rank guard never lets a row go down.
 */
import { ContactState, Ports, RetryPolicy } from "@megaphone/core"
import { Effect, Result } from "effect"
import { releaseReservation } from "../shared/ClaimDecision.ts"
import { applyBucketDeltas } from "./Claim.ts"
import {
  contactColumns, date, decode, ints, isId, leaseOwnerAfter, lockContactsById, type Op, type ProgressWrite, readContact,
  type Reservation, type Row, type Sql, type StoredContact, str, texts, timestamps, writeProgress
} from "./Rows.ts"

type ApplyResult = Ports.Storage.ApplyResult

/** A locked contact while a batch is applied to it. */
interface Working {
  readonly stored: StoredContact
  progress: ContactState.ContactProgress
  reservation: Reservation | null
  changed: boolean
}

const working = (stored: StoredContact): Working => ({
  stored,
  progress: stored.contact.progress,
  reservation: stored.reservation,
  changed: false
})

const toWrite = (w: Working): ProgressWrite => ({
  id: w.stored.contact.id,
  progress: w.progress,
  leaseOwner: leaseOwnerAfter(w.progress, w.stored.contact.leaseOwner),
  reservation: w.reservation
})

/** Apply one event to a locked contact; a refusal is returned for the caller to report. */
const apply = (w: Working, event: ContactState.ContactEvent, now: Date): string | undefined => {
  const next = ContactState.transition(w.progress, event, now)
  if (Result.isFailure(next)) return next.failure.reason
  w.progress = next.success
  w.changed = true
  return undefined
}

const ledgerKey = (quotaKey: string, recipient: string): string => `${quotaKey}\u0000${recipient}`

/**
 * Give back the reservations of contacts whose send never reached Meta: lock their quota keys (in key order,
 * after the contact rows, the same order for every writer), read the ledger rows, and let
 * `releaseReservation` decide what to restore.
 */
const releaseQuota = (sql: Sql, released: ReadonlyArray<Working>, now: Date) =>
  Effect.gen(function*() {
    const withReservation = released.filter((w) => w.reservation !== null)
    if (withReservation.length === 0) return
    const keys = [...new Set(withReservation.map((w) => w.reservation?.quotaKey ?? ""))].sort()
    yield* sql`select key from quota_keys where key = any(${texts(keys)}::text[]) order by key for update`
    const rows = yield* sql<Row>`
      select l.key, l.recipient, l.last_sent_at
      from quota_ledger l
      join unnest(${texts(withReservation.map((w) => w.reservation?.quotaKey ?? ""))}::text[],
                  ${texts(withReservation.map((w) => w.stored.contact.recipient))}::text[]) as r(key, recipient)
        on l.key = r.key and l.recipient = r.recipient
    `
    const ledger = new Map<string, Date | undefined>(
      yield* decode("recordOutcomes", rows, (r) => [ledgerKey(str(r, "key"), str(r, "recipient")), date(r, "last_sent_at")] as const)
    )
    const touched = new Set<string>()
    const deltas = new Map<string, Map<number, number>>()
    for (const w of withReservation) {
      const reservation = w.reservation
      if (reservation === null) continue
      const k = ledgerKey(reservation.quotaKey, w.stored.contact.recipient)
      const release = releaseReservation(ledger.get(k), reservation.slot, reservation.previousSentAt)
      // Given back or not, the reservation is spent: a second release must not move anything.
      w.reservation = null
      w.changed = true
      if (release === undefined) continue
      ledger.set(k, release.ledger._tag === "Restore" ? release.ledger.at : undefined)
      touched.add(k)
      const perKey = deltas.get(reservation.quotaKey) ?? new Map<number, number>()
      for (const [minute, delta] of release.bucketDeltas) perKey.set(minute, (perKey.get(minute) ?? 0) + delta)
      deltas.set(reservation.quotaKey, perKey)
    }
    const restore = [...touched].flatMap((k) => {
      const at = ledger.get(k)
      const [key = "", recipient = ""] = k.split("\u0000")
      return at === undefined ? [] : [{ key, recipient, at }]
    })
    const remove = [...touched].flatMap((k) => {
      const [key = "", recipient = ""] = k.split("\u0000")
      return ledger.get(k) === undefined ? [{ key, recipient }] : []
    })
    if (restore.length > 0) {
      yield* sql`
        insert into quota_ledger (key, recipient, last_sent_at)
        select * from unnest(
          ${texts(restore.map((r) => r.key))}::text[],
          ${texts(restore.map((r) => r.recipient))}::text[],
          ${timestamps(restore.map((r) => r.at))}::timestamptz[]
        )
        on conflict (key, recipient) do update set last_sent_at = excluded.last_sent_at
      `
    }
    if (remove.length > 0) {
      yield* sql`
        delete from quota_ledger l
        using unnest(${texts(remove.map((r) => r.key))}::text[], ${texts(remove.map((r) => r.recipient))}::text[])
          as r(key, recipient)
        where l.key = r.key and l.recipient = r.recipient
      `
    }
    for (const [key, perKey] of deltas) {
      yield* applyBucketDeltas(sql, key, new Map([...perKey].filter(([, d]) => d !== 0)), now)
    }
  })

const writeChanged = (sql: Sql, rows: Iterable<Working>) =>
  writeProgress(sql, [...rows].filter((w) => w.changed).map(toWrite))

/** See `StorageShape.recordOutcomes`. */
export const recordOutcomes = (sql: Sql, outcomes: ReadonlyArray<Ports.Storage.Outcome>, now: Date): Op<ApplyResult> =>
  outcomes.length === 0
    ? Effect.succeed({ applied: 0, refused: [], unmatched: [] })
    : sql.withTransaction(Effect.gen(function*() {
      const ids = [...new Set(outcomes.map((o) => o.contactId).filter(isId))]
      const rows = yield* decode("recordOutcomes", yield* lockContactsById(sql, ids), readContact)
      const byId = new Map(rows.map((s) => [s.contact.id, working(s)]))
      const refused: Array<{ contactId: string; reason: string }> = []
      const toRelease: Array<Working> = []
      let applied = 0
      for (const outcome of outcomes) {
        const w = byId.get(outcome.contactId)
        if (w === undefined) {
          refused.push({ contactId: outcome.contactId, reason: "no campaign contact has this id" })
          continue
        }
        const reason = apply(w, outcome.event, now)
        if (reason !== undefined) {
          refused.push({ contactId: outcome.contactId, reason })
          continue
        }
        applied++
        if (outcome.releaseQuota === true && !toRelease.includes(w)) toRelease.push(w)
      }
      yield* releaseQuota(sql, toRelease, now)
      yield* writeChanged(sql, byId.values())
      return { applied, refused, unmatched: [] }
    }))

/** See `StorageShape.applyStatuses`. */
export const applyStatuses = (sql: Sql, reports: ReadonlyArray<Ports.Storage.StatusReport>, now: Date): Op<ApplyResult> =>
  reports.length === 0
    ? Effect.succeed({ applied: 0, refused: [], unmatched: [] })
    : sql.withTransaction(Effect.gen(function*() {
      const wamids = [...new Set(reports.map((r) => r.wamid))]
      const ids = [...new Set(reports.flatMap((r) => (r.contactId !== undefined && isId(r.contactId) ? [r.contactId] : [])))]
      // Id order for the locks, whichever key matched: concurrent batches lock in the same order.
      const locked = yield* sql<Row>`
        select ${sql.literal(contactColumns)}
        from campaign_contacts cc
        where cc.wamid = any(${texts(wamids)}::text[]) or cc.id = any(${texts(ids)}::bigint[])
        order by cc.id
        for update
      `
      const rows = (yield* decode("applyStatuses", locked, readContact)).map(working)
      const byId = new Map(rows.map((w) => [w.stored.contact.id, w]))
      const byWamid = new Map<string, Working>()
      for (const w of rows) if (w.progress.wamid !== null) byWamid.set(w.progress.wamid, w)
      const refused: Array<{ contactId: string; reason: string }> = []
      const unmatched: Array<Ports.Storage.StatusReport> = []
      let applied = 0
      for (const report of reports) {
        const w = byWamid.get(report.wamid) ?? (report.contactId === undefined ? undefined : byId.get(report.contactId))
        if (w === undefined) {
          unmatched.push(report)
          continue
        }
        const reason = apply(w, report.event, now)
        if (reason !== undefined) {
          refused.push({ contactId: w.stored.contact.id, reason })
          continue
        }
        applied++
        if (w.progress.wamid !== null && !byWamid.has(w.progress.wamid)) byWamid.set(w.progress.wamid, w)
      }
      yield* writeChanged(sql, rows)
      return { applied, refused, unmatched }
    }))

// Big enough to amortise the round trips, small enough to keep each transaction's lock set short.
const CHUNK = 2_000

/**
 * Run `step` on chunks until one comes back short. Each chunk is its own transaction, so a long cancellation
 * never holds a million row locks at once.
 */
const inChunks = <E, R>(step: Effect.Effect<{ readonly seen: number; readonly changed: number }, E, R>): Effect.Effect<number, E, R> =>
  Effect.gen(function*() {
    let total = 0
    for (;;) {
      const { seen, changed } = yield* step
      total += changed
      // Stop on a short chunk, or on one that changed nothing (its rows would only be selected again).
      if (seen < CHUNK || changed === 0) return total
    }
  })

/** See `StorageShape.reclaimExpiredLeases`. */
export const reclaimExpiredLeases = (sql: Sql, now: Date, policy: RetryPolicy.RetryPolicy): Op<number> =>
  inChunks(sql.withTransaction(Effect.gen(function*() {
    // Skip rows a worker is recording right now: its outcome is about to land.
    const locked = yield* sql<Row>`
      select ${sql.literal(contactColumns)}
      from campaign_contacts cc
      where cc.state = 'in_progress' and cc.lease_expires_at <= ${now}
      order by cc.id
      limit ${CHUNK}
      for update skip locked
    `
    const rows = (yield* decode("reclaimExpiredLeases", locked, readContact)).map(working)
    for (const w of rows) {
      apply(w, { _tag: "LeaseExpired", decision: RetryPolicy.decideUnknownOutcome(policy, w.progress.attempts, now) }, now)
    }
    const written = yield* writeChanged(sql, rows)
    return { seen: rows.length, changed: written.length }
  })))

/** See `StorageShape.cancelPending`. */
export const cancelPending = (sql: Sql, campaignId: string, now: Date): Op<number> =>
  !isId(campaignId)
    ? Effect.succeed(0)
    : inChunks(sql.withTransaction(Effect.gen(function*() {
      const locked = yield* sql<Row>`
        select ${sql.literal(contactColumns)}
        from campaign_contacts cc
        where cc.campaign_id = ${campaignId}::bigint
          and cc.state in ('initial', 'in_progress', 'retry_scheduled')
        order by cc.id
        limit ${CHUNK}
        for update
      `
      const rows = (yield* decode("cancelPending", locked, readContact)).map(working)
      for (const w of rows) apply(w, { _tag: "Cancelled" }, now)
      const written = yield* writeChanged(sql, rows)
      return { seen: rows.length, changed: written.length }
    })))

// ---------------------------------------------------------------------------------------------------------
// Retry failed contacts (issue 11, item 3)

/**
 * Write retried contacts back. Its own UPDATE, since `writeProgress`'s rank guard exists to refuse exactly this
 * move down: the guard here is the state the row was read in, so nothing else is ever moved back.
 */
const writeRetried = (sql: Sql, rows: ReadonlyArray<Working>) => {
  if (rows.length === 0) return Effect.succeed([])
  const at = (state: ContactState.ContactStateId) => timestamps(rows.map((w) => w.progress.stateTimes[state] ?? null))
  return sql`
    update campaign_contacts cc set
      state = u.state,
      attempts = u.attempts,
      throttled_attempts = u.throttled_attempts,
      next_attempt_at = u.next_attempt_at,
      lease_expires_at = u.lease_expires_at,
      lease_owner = null,
      wamid = u.wamid,
      wa_id = u.wa_id,
      initial_at = u.initial_at,
      sent_at = u.sent_at,
      delivered_at = u.delivered_at,
      read_at = u.read_at
    from unnest(
      ${texts(rows.map((w) => w.stored.contact.id))}::text[],
      ${texts(rows.map((w) => w.stored.contact.progress.state))}::text[],
      ${texts(rows.map((w) => w.progress.state))}::text[],
      ${ints(rows.map((w) => w.progress.attempts))}::int4[],
      ${ints(rows.map((w) => w.progress.throttledAttempts))}::int4[],
      ${timestamps(rows.map((w) => w.progress.nextAttemptAt))}::timestamptz[],
      ${timestamps(rows.map((w) => w.progress.leaseExpiresAt))}::timestamptz[],
      ${texts(rows.map((w) => w.progress.wamid))}::text[],
      ${texts(rows.map((w) => w.progress.waId))}::text[],
      ${at("initial")}::timestamptz[],
      ${at("sent")}::timestamptz[],
      ${at("delivered")}::timestamptz[],
      ${at("read")}::timestamptz[]
    ) as u(id, was, state, attempts, throttled_attempts, next_attempt_at, lease_expires_at, wamid, wa_id,
           initial_at, sent_at, delivered_at, read_at)
    where cc.id = u.id::bigint
      and cc.state = u.was
      and cc.state in ('error', 'sending_failed')
    returning cc.id
  `
}

/** See `StorageShape.retryContacts`. */
export const retryContacts = (
  sql: Sql,
  campaignId: string,
  selection: Ports.Storage.RetrySelection,
  now: Date
): Op<Ports.Storage.RetryResult> =>
  Effect.gen(function*() {
    const result = { retried: 0, suppressed: 0 }
    const states = selection.states.filter(ContactState.isRetryable)
    if (!isId(campaignId) || states.length === 0) return result
    let afterId = "0"
    for (;;) {
      const chunk = yield* sql.withTransaction(Effect.gen(function*() {
        // Shares the campaign row's lock with other retries; a stop's update waits, and its cancellation sees our rows.
        const open = yield* sql<Row>`
          select 1 from campaigns
          where id = ${campaignId}::bigint and state in ('running', 'paused', 'finished')
          for share
        `
        if (open.length === 0) return { seen: 0, last: afterId }
        const locked = yield* sql<Row>`
          select ${sql.literal(contactColumns)},
                 exists (select 1 from suppressions s where s.recipient = cc.recipient) as suppressed
          from campaign_contacts cc
          where cc.campaign_id = ${campaignId}::bigint
            and cc.state = any(${texts(states)}::text[])
            and (cardinality(${texts(selection.codes)}::text[]) = 0 or cc.last_error_code = any(${texts(selection.codes)}::text[]))
            and cc.id > ${afterId}::bigint
          order by cc.id
          limit ${CHUNK}
          for update
        `
        const rows = yield* decode("retryContacts", locked, (r) => ({ w: working(readContact(r)), suppressed: r["suppressed"] === true }))
        const retried: Array<Working> = []
        for (const { w, suppressed } of rows) {
          if (suppressed) result.suppressed++
          else if (apply(w, { _tag: "RetryRequested" }, now) === undefined) retried.push(w)
        }
        result.retried += (yield* writeRetried(sql, retried)).length
        return { seen: rows.length, last: rows.at(-1)?.w.stored.contact.id ?? afterId }
      }))
      if (chunk.seen < CHUNK) return result
      afterId = chunk.last
    }
  })
