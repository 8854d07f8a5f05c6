/**
 * The hot path of dispatch on SQLite: claiming due contacts with their quota, recording send outcomes and status
 * webhooks, reclaiming expired leases, cancelling. Each function is synchronous and expects to run inside one
 * `transaction` (Rows.ts): `BEGIN IMMEDIATE` holds the file's write lock from the first read to the commit, so
 * daemons in several processes on one file never claim a contact twice nor exceed a limit together.
 *
 * What to decide is never computed here: the state machine (`ContactState.transition`) moves contacts, and
 * `ClaimDecision` — shared by every adapter — picks the contacts a claim may take under the three limits.
 */
import { ClaimDecision, Suppression } from "@megaphone/adapters"
import { ContactState, Ports, Quota, RetryPolicy, SendWindow } from "@megaphone/core"
import { Result, Schema } from "effect"
import {
  findContact, jsonArray, leaseOwnerAfter, ms, msOrNull, reader, readContact, type Reservation, type Sql,
  type StoredContact, writeProgress
} from "./Rows.ts"

type ApplyResult = Ports.Storage.ApplyResult

interface Refusal {
  readonly contactId: string
  readonly reason: string
}

// Buckets this far behind `now` can never count again, even for a daemon whose clock lags by a day.
const BUCKET_RETENTION_MS = 2 * Quota.QUOTA_WINDOW_MS

/** The oldest minute bucket that can still count at `now` (one minute more: reading extra is harmless). */
const oldestLiveMinute = (now: Date): number => Quota.minuteOf(new Date(now.getTime() - Quota.QUOTA_WINDOW_MS)) - 1

const readBucket = reader(Schema.Struct({ minute: Schema.Number, count: Schema.Number }), (r) => [r.minute, r.count] as const)

const readSentAt = reader(
  Schema.Struct({ recipient: Schema.String, last_sent_at: Schema.Number }),
  (r) => [r.recipient, new Date(r.last_sent_at)] as const
)

const readThroughput = reader(
  Schema.Struct({ next_free_at: Schema.Number, rate_factor: Schema.Number, decreased_at: Schema.NullOr(Schema.Number) }),
  (r): Quota.ThroughputState => ({
    nextFreeAt: new Date(r.next_free_at),
    rateFactor: r.rate_factor,
    decreasedAt: r.decreased_at === null ? undefined : new Date(r.decreased_at)
  })
)

const readSuppressedBecause = reader(Schema.Struct({ suppressed_because: Schema.String }), (r) => r.suppressed_because)

// ---------------------------------------------------------------------------------------------------------
// Quota rows
// ---------------------------------------------------------------------------------------------------------

/** The live minute buckets of a quota key. */
const readBuckets = (s: Sql, key: string, now: Date): Quota.MinuteBuckets =>
  new Map(s.statement(`
    SELECT minute, count FROM quota_buckets
    WHERE key = :key AND minute >= :oldest
  `).all({ key, oldest: oldestLiveMinute(now) }).map(readBucket))

/** Add per-minute deltas to a quota key's buckets; buckets that reach zero go, as do those long past the window. */
const addBucketDeltas = (s: Sql, key: string, deltas: ReadonlyMap<number, number>, now: Date): void => {
  if (deltas.size === 0) return
  const add = s.statement(`
    INSERT INTO quota_buckets (key, minute, count) VALUES (:key, :minute, :delta)
    ON CONFLICT (key, minute) DO UPDATE SET count = count + excluded.count
  `)
  for (const [minute, delta] of deltas) add.run({ key, minute, delta })
  // A non-positive bucket counts nobody (a negative one would undercount).
  s.statement(`
    DELETE FROM quota_buckets
    WHERE key = :key AND (count <= 0 OR minute < :forgotten)
  `).run({ key, forgotten: Quota.minuteOf(new Date(now.getTime() - BUCKET_RETENTION_MS)) })
}

/** A number's throughput row; a number that never sent is free now at its full rate. */
const readNumberThroughput = (s: Sql, phoneNumberId: string): Quota.ThroughputState => {
  const row = s.statement(`
    SELECT next_free_at, rate_factor, decreased_at FROM throughput WHERE phone_number_id = :phoneNumberId
  `).get({ phoneNumberId })
  return row === undefined ? Quota.initialThroughput : readThroughput(row)
}

const writeNumberThroughput = (s: Sql, phoneNumberId: string, state: Quota.ThroughputState): void => {
  s.statement(`
    INSERT INTO throughput (phone_number_id, next_free_at, rate_factor, decreased_at)
    VALUES (:phoneNumberId, :nextFreeAt, :rateFactor, :decreasedAt)
    ON CONFLICT (phone_number_id) DO UPDATE SET
      next_free_at = excluded.next_free_at,
      rate_factor = excluded.rate_factor,
      decreased_at = excluded.decreased_at
  `).run({ phoneNumberId, nextFreeAt: ms(state.nextFreeAt), rateFactor: state.rateFactor, decreasedAt: msOrNull(state.decreasedAt) })
}

/**
 * Give a claim's 24 h reservation back — the recipient's previous ledger time restored — unless a later claim
 * has sent to the recipient since (then the ledger row is that claim's and nothing moves).
 */
const giveBack = (s: Sql, recipient: string, reservation: Reservation, now: Date): void => {
  const { quotaKey: key } = reservation
  const row = s.statement(`
    SELECT recipient, last_sent_at FROM quota_ledger WHERE key = :key AND recipient = :recipient
  `).get({ key, recipient })
  const release = ClaimDecision.releaseReservation(row === undefined ? undefined : readSentAt(row)[1], reservation.slot, reservation.previousSentAt)
  if (release === undefined) return
  if (release.ledger._tag === "Restore") {
    s.statement(`
      UPDATE quota_ledger SET last_sent_at = :at WHERE key = :key AND recipient = :recipient
    `).run({ key, recipient, at: ms(release.ledger.at) })
  } else {
    s.statement(`DELETE FROM quota_ledger WHERE key = :key AND recipient = :recipient`).run({ key, recipient })
  }
  addBucketDeltas(s, key, release.bucketDeltas, now)
}

// ---------------------------------------------------------------------------------------------------------
// Claims
// ---------------------------------------------------------------------------------------------------------

/**
 * Due contacts of the account's running campaigns, in the port's fair-share order: each campaign's contacts are
 * numbered by (due time, id), and the n-th of every campaign comes before the (n+1)-th of any.
 */
const selectCandidates = (s: Sql, accountName: string, now: Date, limit: number, horizonMs: number | undefined): Array<StoredContact> =>
  s.statement(`
    WITH due AS (
      SELECT cc.id, cc.due_at, c.max_mps,
             row_number() OVER (PARTITION BY cc.campaign_id ORDER BY cc.due_at, cc.id) AS turn
      FROM campaigns c
      JOIN campaign_contacts cc ON cc.campaign_id = c.id
      WHERE c.account_name = :accountName
        AND c.state = 'running'
        AND cc.state IN ('initial', 'retry_scheduled')
        AND cc.due_at <= :now
    )
    SELECT cc.*
    FROM due
    JOIN campaign_contacts cc ON cc.id = due.id
    -- A capped campaign can use only the slots its cap gives it within the horizon (ClaimDecision.cappedTake).
    WHERE due.max_mps IS NULL OR due.turn <= ceil(due.max_mps * :horizonMs / 1000.0) + 1
    ORDER BY due.turn, due.due_at, due.id
    LIMIT :limit
  `).all({ accountName, now: ms(now), limit, horizonMs: horizonMs ?? 1_000 }).map(readContact)

/** The paces of the candidates' campaigns that have a rate cap (see `ClaimDecision.campaignPace`). */
const readCampaignPaces = (s: Sql, campaignIds: ReadonlyArray<string>, capFactor: number | undefined): Map<string, Quota.GroupPace> =>
  new Map(s.statement(`
    SELECT id, max_mps, next_send_at FROM campaigns
    WHERE id IN (SELECT value FROM json_each(:ids)) AND max_mps IS NOT NULL
  `).all({ ids: jsonArray(campaignIds.map(Number)) }).map((r) => [
    String(r["id"]),
    ClaimDecision.campaignPace(Number(r["max_mps"]), capFactor, typeof r["next_send_at"] === "number" ? new Date(r["next_send_at"]) : null)
  ] as const))

/** The send windows of the candidates' campaigns that have one (see `ClaimDecision.deferClosed`). */
const readSendWindows = (s: Sql, campaignIds: ReadonlyArray<string>): Map<string, SendWindow.SendWindow> =>
  new Map(s.statement(`
    SELECT id, send_window FROM campaigns
    WHERE id IN (SELECT value FROM json_each(:ids)) AND send_window IS NOT NULL
  `).all({ ids: jsonArray(campaignIds.map(Number)) }).flatMap((r) => {
    const window = SendWindow.parse(String(r["send_window"]))
    return Result.isSuccess(window) ? [[String(r["id"]), window.success] as const] : []
  }))

/** See `StorageShape.claim`. */
export const claim = (s: Sql, request: Ports.Storage.ClaimRequest): Ports.Storage.ClaimResult => {
  const { account, now } = request
  const limit = Math.max(0, Math.floor(request.limit))
  if (limit === 0) return { claimed: [], nextCapacity: undefined }
  const stored = selectCandidates(s, account.name, now, limit, request.horizonMs)
    .filter(({ contact }) => ContactState.isDue(contact.progress, now))
  if (stored.length === 0) return { claimed: [], nextCapacity: undefined }

  // What the decision needs: the quota key's live buckets, and the candidates' ledger and pair rows.
  const key = Ports.Storage.quotaKey(account)
  const recipients = jsonArray([...new Set(stored.map(({ contact }) => contact.recipient))])
  const lastSentAt = new Map(s.statement(`
    SELECT recipient, last_sent_at FROM quota_ledger
    WHERE key = :key AND recipient IN (SELECT value FROM json_each(:recipients))
  `).all({ key, recipients }).map(readSentAt))
  const pairLastSent = new Map(s.statement(`
    SELECT recipient, last_sent_at FROM pair_last_sent
    WHERE phone_number_id = :phoneNumberId AND recipient IN (SELECT value FROM json_each(:recipients))
  `).all({ phoneNumberId: account.phoneNumberId, recipients }).map(readSentAt))
  const decision = ClaimDecision.decideClaims(
    stored.map(({ contact }) => ({
      id: contact.id,
      campaignId: contact.campaignId,
      recipient: contact.recipient,
      progress: contact.progress,
      timeZone: contact.timeZone
    })),
    {
      buckets: readBuckets(s, key, now),
      lastSentAt,
      pairLastSent,
      throughput: readNumberThroughput(s, account.phoneNumberId),
      campaignPaces: readCampaignPaces(s, [...new Set(stored.map(({ contact }) => contact.campaignId))], request.capFactor)
    },
    account,
    {
      limit,
      leaseMs: request.leaseMs,
      now,
      ...(request.horizonMs === undefined ? {} : { horizonMs: request.horizonMs }),
      sendWindows: readSendWindows(s, [...new Set(stored.map(({ contact }) => contact.campaignId))])
    }
  )
  // Contacts outside their send window wait for its next opening: state and attempts as they were.
  const defer = s.statement(`
    UPDATE campaign_contacts SET next_attempt_at = :at WHERE id = :id AND state IN ('initial', 'retry_scheduled')
  `)
  for (const d of decision.deferrals) defer.run({ id: Number(d.id), at: d.progress.nextAttemptAt === null ? null : ms(d.progress.nextAttemptAt) })

  // Write back what it decided: the contacts, the ledger and pair rows, the buckets, the number's throughput.
  const byId = new Map(stored.map(({ contact }) => [contact.id, contact]))
  const claimed: Array<Ports.Storage.ClaimedContact> = []
  for (const c of decision.claims) {
    const contact = byId.get(c.id)
    if (contact === undefined) continue
    writeProgress(s, c.id, c.progress, request.owner, { quotaKey: key, slot: c.slot, previousSentAt: c.previousSentAt })
    claimed.push({ contact: { ...contact, progress: c.progress, leaseOwner: request.owner }, slot: c.slot })
  }
  const ledger = s.statement(`
    INSERT INTO quota_ledger (key, recipient, last_sent_at) VALUES (:key, :recipient, :at)
    ON CONFLICT (key, recipient) DO UPDATE SET last_sent_at = excluded.last_sent_at
  `)
  for (const [recipient, at] of decision.ledgerWrites) ledger.run({ key, recipient, at: ms(at) })
  const pair = s.statement(`
    INSERT INTO pair_last_sent (phone_number_id, recipient, last_sent_at) VALUES (:phoneNumberId, :recipient, :at)
    ON CONFLICT (phone_number_id, recipient) DO UPDATE SET last_sent_at = max(last_sent_at, excluded.last_sent_at)
  `)
  for (const [recipient, at] of decision.pairWrites) pair.run({ phoneNumberId: account.phoneNumberId, recipient, at: ms(at) })
  addBucketDeltas(s, key, decision.bucketDeltas, now)
  writeNumberThroughput(s, account.phoneNumberId, decision.throughput)
  const pace = s.statement(`UPDATE campaigns SET next_send_at = :at WHERE id = :id`)
  for (const [id, at] of decision.campaignNextFreeAt) pace.run({ id: Number(id), at: ms(at) })
  return { claimed, nextCapacity: decision.nextCapacity, deferred: decision.deferrals.length }
}

/** See `StorageShape.throttleNumber`. */
export const throttleNumber = (s: Sql, phoneNumberId: string, now: Date): void =>
  writeNumberThroughput(s, phoneNumberId, Quota.throttled(readNumberThroughput(s, phoneNumberId), now))

/** See `StorageShape.quotaUsage`. */
export const quotaUsage = (s: Sql, account: Ports.Storage.Account, now: Date): Ports.Storage.QuotaUsage => {
  const key = Ports.Storage.quotaKey(account)
  const buckets = readBuckets(s, key, now)
  const used = Quota.countFromBuckets(buckets, now)
  const limit = account.messagingLimit
  return {
    quotaKey: key,
    used,
    limit,
    remaining: limit === "unlimited" ? "unlimited" : Math.max(0, limit - used),
    nextFreeAt: Quota.bucketsNextFreeAt(buckets, limit, now)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Moving contacts along
// ---------------------------------------------------------------------------------------------------------

/**
 * Apply one event to a stored contact through the state machine and write the result. The row was read inside
 * the same write transaction, so no concurrent webhook can have moved it meanwhile: `transition` alone keeps
 * every change forward-only and idempotent. Returns the refusal's reason, if the state machine refused.
 */
const applyEvent = (
  s: Sql,
  stored: StoredContact,
  event: ContactState.ContactEvent,
  now: Date,
  reservation: Reservation | null = stored.reservation
): Result.Result<ContactState.ContactProgress, Refusal> => {
  const next = ContactState.transition(stored.contact.progress, event, now)
  if (Result.isFailure(next)) return Result.fail({ contactId: stored.contact.id, reason: next.failure.reason })
  writeProgress(s, stored.contact.id, next.success, leaseOwnerAfter(next.success, stored.contact.leaseOwner), reservation)
  return Result.succeed(next.success)
}

/** See `StorageShape.recordOutcomes`. */
export const recordOutcomes = (s: Sql, outcomes: ReadonlyArray<Ports.Storage.Outcome>, now: Date): ApplyResult => {
  let applied = 0
  const refused: Array<Refusal> = []
  for (const outcome of outcomes) {
    const stored = findContact(s, outcome.contactId)
    if (stored === undefined) {
      refused.push({ contactId: outcome.contactId, reason: "no such contact" })
      continue
    }
    // Given back or not, a released reservation is spent: a second release must not move anything.
    const release = outcome.releaseQuota === true ? stored.reservation : null
    const next = applyEvent(s, stored, outcome.event, now, release === null ? stored.reservation : null)
    if (Result.isFailure(next)) {
      refused.push(next.failure)
      continue
    }
    applied++
    if (release !== null) giveBack(s, stored.contact.recipient, release, now)
  }
  return { applied, refused, unmatched: [] }
}

/** See `StorageShape.applyStatuses`: matched by wamid, else by the contact id the callback data carried. */
export const applyStatuses = (s: Sql, reports: ReadonlyArray<Ports.Storage.StatusReport>, now: Date): ApplyResult => {
  let applied = 0
  const refused: Array<Refusal> = []
  const unmatched: Array<Ports.Storage.StatusReport> = []
  const byWamid = s.statement(`SELECT * FROM campaign_contacts WHERE wamid = :wamid ORDER BY id LIMIT 1`)
  for (const report of reports) {
    const row = byWamid.get({ wamid: report.wamid })
    // Each report is written before the next is read: a contact matched by id now has its wamid for the rest.
    const stored = row !== undefined ? readContact(row) : report.contactId === undefined ? undefined : findContact(s, report.contactId)
    if (stored === undefined) {
      unmatched.push(report)
      continue
    }
    const next = applyEvent(s, stored, report.event, now)
    if (Result.isFailure(next)) refused.push(next.failure)
    else applied++
  }
  return { applied, refused, unmatched }
}

/** See `StorageShape.reclaimExpiredLeases`: the reservation stays, since the message may have gone out. */
export const reclaimExpiredLeases = (s: Sql, now: Date, policy: RetryPolicy.RetryPolicy): number => {
  const expired = s.statement(`
    SELECT * FROM campaign_contacts
    WHERE state = 'in_progress' AND lease_expires_at <= :now
    ORDER BY id
  `).all({ now: ms(now) }).map(readContact)
  let reclaimed = 0
  for (const stored of expired) {
    const decision = RetryPolicy.decideUnknownOutcome(policy, stored.contact.progress.attempts, now)
    if (Result.isSuccess(applyEvent(s, stored, { _tag: "LeaseExpired", decision }, now))) reclaimed++
  }
  return reclaimed
}

/** See `StorageShape.cancelPending`. */
export const cancelPending = (s: Sql, campaignId: number, now: Date): number => {
  const pending = s.statement(`
    SELECT * FROM campaign_contacts
    WHERE campaign_id = :campaignId AND state IN ('initial', 'in_progress', 'retry_scheduled')
    ORDER BY id
  `).all({ campaignId }).map(readContact)
  let cancelled = 0
  for (const stored of pending) if (Result.isSuccess(applyEvent(s, stored, { _tag: "Cancelled" }, now))) cancelled++
  return cancelled
}

/**
 * Settle the waiting contacts (`initial`, `retry_scheduled`) of these suppressed recipients in every campaign, with
 * the reason on the list; a send already in flight is not called back. See `StorageShape.suppress`.
 */
export const settleSuppressed = (s: Sql, recipients: ReadonlyArray<string>, now: Date): void => {
  const waiting = s.statement(`
    SELECT cc.*, s.reason AS suppressed_because
    FROM campaign_contacts cc
    JOIN suppressions s ON s.recipient = cc.recipient
    WHERE cc.recipient IN (SELECT value FROM json_each(:recipients))
      AND cc.state IN ('initial', 'retry_scheduled')
    ORDER BY cc.id
  `).all({ recipients: jsonArray(recipients) })
  for (const row of waiting) applyEvent(s, readContact(row), { _tag: "OptedOut", reason: Suppression.optedOutText(readSuppressedBecause(row)) }, now)
}

// ---------------------------------------------------------------------------------------------------------
// Retry failed contacts (issue 11, item 3)

/**
 * See `StorageShape.retryContacts`: inside the caller's transaction, so the campaign's state and the contacts are
 * read and changed in one step. Suppressed recipients stay as they are and are counted.
 */
export const retryContacts = (
  s: Sql,
  campaignId: number,
  selection: Ports.Storage.RetrySelection,
  now: Date
): Ports.Storage.RetryResult => {
  const result = { retried: 0, suppressed: 0 }
  const open = s.statement(`
    SELECT 1 FROM campaigns WHERE id = :campaignId AND state IN ('running', 'paused', 'finished')
  `).get({ campaignId })
  const states = selection.states.filter(ContactState.isRetryable)
  if (open === undefined || states.length === 0) return result
  const rows = s.statement(`
    SELECT cc.*, EXISTS (SELECT 1 FROM suppressions s WHERE s.recipient = cc.recipient) AS suppressed
    FROM campaign_contacts cc
    WHERE cc.campaign_id = :campaignId
      AND cc.state IN (SELECT value FROM json_each(:states))
      AND (json_array_length(:codes) = 0 OR json_extract(cc.last_error, '$.code') IN (SELECT value FROM json_each(:codes)))
    ORDER BY cc.id
  `).all({ campaignId, states: jsonArray(states), codes: jsonArray(selection.codes) })
  for (const row of rows) {
    if (row["suppressed"] === 1) result.suppressed++
    else if (Result.isSuccess(applyEvent(s, readContact(row), { _tag: "RetryRequested" }, now))) result.retried++
  }
  return result
}
