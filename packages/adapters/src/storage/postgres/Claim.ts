/**
 * The hot path of dispatch: claim due contacts and reserve their quota in one transaction, and the two other
 * operations on the quota rows (throttling a number, reading an account's usage).
 *
 * Claims of one quota key serialise on its `quota_keys` row, so the rolling-24 h window is decided by one
 * daemon at a time; contacts are taken with `FOR UPDATE SKIP LOCKED`, so no contact is claimed twice.
 */
import { ContactState, Ports, Quota, SendWindow } from "@megaphone/core"
import { Effect, Result } from "effect"
import { campaignPace, type Candidate, decideClaims, type Deferral } from "../shared/ClaimDecision.ts"
import {
  bigints, contactColumns, date, dateOrNull, decode, ints, num, type Op, readContact, type Row, type Sql, str, texts,
  timestamps, writeProgress
} from "./Rows.ts"

type ClaimRequest = Ports.Storage.ClaimRequest
type ClaimResult = Ports.Storage.ClaimResult

/** The oldest minute bucket that can still count at `now` (one extra minute: reading more is harmless). */
const oldestLiveMinute = (now: Date): number => Quota.minuteOf(new Date(now.getTime() - Quota.QUOTA_WINDOW_MS)) - 1

/** Make sure the quota key's row and the number's throughput row exist, then lock the quota key. */
const lockQuotaKey = (sql: Sql, key: string, phoneNumberId: string) =>
  Effect.gen(function*() {
    // Data-modifying CTEs always run: one round trip creates whichever row is missing.
    yield* sql`
      with ensure_key as (
        insert into quota_keys (key) values (${key}) on conflict do nothing
      ), ensure_number as (
        insert into throughput (phone_number_id) values (${phoneNumberId}) on conflict do nothing
      )
      select 1
    `
    yield* sql`select key from quota_keys where key = ${key} for update`
  })

/**
 * Due contacts of the account's running campaigns in the port's fair-share order, locked. The lateral subquery
 * walks each campaign's partial index in (due_at, id) order and numbers its rows; taking the first rows of
 * every campaign before the next ones shares the account between its campaigns. The outer query locks and
 * skips rows another transaction holds.
 */
const selectCandidates = (sql: Sql, accountName: string, now: Date, limit: number, horizonMs: number | undefined) =>
  sql<Row>`
    with due as (
      select pick.id, pick.due_at, pick.turn
      from campaigns c
      cross join lateral (
        select cc.id, cc.due_at, row_number() over (order by cc.due_at, cc.id) as turn
        from campaign_contacts cc
        where cc.campaign_id = c.id
          and cc.state in ('initial', 'retry_scheduled')
          and cc.due_at <= ${now}
        order by cc.due_at, cc.id
        -- A capped campaign can use only the slots its cap gives it within the horizon (ClaimDecision.cappedTake).
        limit case when c.max_mps is null then ${limit}
          else least(${limit}, ceil(c.max_mps * ${horizonMs ?? 1_000} / 1000.0)::int + 1) end
      ) pick
      where c.account_name = ${accountName} and c.state = 'running'
      order by pick.turn, pick.due_at, pick.id
      limit ${limit}
    )
    select ${sql.literal(contactColumns)}
    from campaign_contacts cc
    join due on due.id = cc.id
    where cc.state in ('initial', 'retry_scheduled')
    order by due.turn, due.due_at, due.id
    for update of cc skip locked
  `

/** Read what the quota decision needs: live buckets, the candidates' ledger and pair rows, the throughput row. */
const readSnapshot = (sql: Sql, key: string, phoneNumberId: string, recipients: ReadonlyArray<string>, now: Date) =>
  Effect.gen(function*() {
    const buckets = yield* sql<Row>`
      select minute, count from quota_buckets
      where key = ${key} and minute >= ${oldestLiveMinute(now)}
    `
    const ledger = yield* sql<Row>`
      select recipient, last_sent_at from quota_ledger
      where key = ${key} and recipient = any(${texts(recipients)}::text[])
    `
    const pairs = yield* sql<Row>`
      select recipient, last_sent_at from pair_last_sent
      where phone_number_id = ${phoneNumberId} and recipient = any(${texts(recipients)}::text[])
    `
    // Locked: throttleNumber may change the same row concurrently.
    const throughput = yield* sql<Row>`
      select next_free_at, rate_factor, decreased_at from throughput
      where phone_number_id = ${phoneNumberId}
      for update
    `
    const operation = "claim"
    const bucketRows = yield* decode(operation, buckets, (r) => [num(r, "minute"), num(r, "count")] as const)
    const ledgerRows = yield* decode(operation, ledger, (r) => [str(r, "recipient"), date(r, "last_sent_at")] as const)
    const pairRows = yield* decode(operation, pairs, (r) => [str(r, "recipient"), date(r, "last_sent_at")] as const)
    const throughputRows = yield* decode(operation, throughput, readThroughput)
    return {
      buckets: new Map(bucketRows),
      lastSentAt: new Map(ledgerRows),
      pairLastSent: new Map(pairRows),
      throughput: throughputRows[0] ?? Quota.initialThroughput
    }
  })

/**
 * What the candidates' campaigns add to the decision, in one read: the paces of those with a rate cap (see
 * `ClaimDecision.campaignPace`) and the send windows of those with one, by campaign id.
 */
const readCampaignSettings = (sql: Sql, campaignIds: ReadonlyArray<string>, capFactor: number | undefined) =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`
      select id, max_mps, next_send_at, send_window from campaigns
      where id = any(${bigints(campaignIds.map(Number))}::int8[]) and (max_mps is not null or send_window is not null)
    `
    const settings = yield* decode("claim", rows, (r) => ({
      id: String(r["id"]),
      pace: r["max_mps"] === null ? undefined : campaignPace(num(r, "max_mps"), capFactor, dateOrNull(r, "next_send_at")),
      window: r["send_window"] === null ? undefined : SendWindow.parse(str(r, "send_window"))
    }))
    return {
      paces: new Map(settings.flatMap(({ id, pace }) => (pace === undefined ? [] : [[id, pace] as const]))),
      // A window that no longer reads is no reason to stop sending; setSendWindow only ever stores readable ones.
      windows: new Map(settings.flatMap(({ id, window }) => (window !== undefined && Result.isSuccess(window) ? [[id, window.success] as const] : [])))
    }
  })

/** Initial and retry contacts waiting for their send window: due again at its next opening, state and attempts kept. */
const writeDeferrals = (sql: Sql, deferrals: ReadonlyArray<Deferral>) =>
  deferrals.length === 0
    ? Effect.void
    : sql`
        update campaign_contacts cc set next_attempt_at = d.next_attempt_at
        from unnest(${texts(deferrals.map((d) => d.id))}::text[], ${timestamps(deferrals.map((d) => d.progress.nextAttemptAt))}::timestamptz[])
          as d(id, next_attempt_at)
        where cc.id = d.id::bigint and cc.state in ('initial', 'retry_scheduled')
      `.pipe(Effect.asVoid)

const readThroughput = (row: Row): Quota.ThroughputState => ({
  nextFreeAt: date(row, "next_free_at"),
  rateFactor: num(row, "rate_factor"),
  decreasedAt: dateOrNull(row, "decreased_at") ?? undefined
})

/** Add per-minute deltas to a quota key's buckets; rows that reach zero go, as do buckets past the window. */
export const applyBucketDeltas = (sql: Sql, key: string, deltas: ReadonlyMap<number, number>, now: Date) =>
  Effect.gen(function*() {
    if (deltas.size === 0) return
    const minutes = [...deltas.keys()]
    yield* sql`
      insert into quota_buckets (key, minute, count)
      select ${key}, d.minute, d.delta
      from unnest(${bigints(minutes)}::int8[], ${ints(minutes.map((m) => deltas.get(m) ?? 0))}::int4[]) as d(minute, delta)
      on conflict (key, minute) do update set count = quota_buckets.count + excluded.count
    `
    // A non-positive bucket counts nobody (a negative one would undercount): drop it, with the expired ones.
    yield* sql`
      delete from quota_buckets
      where key = ${key} and (count <= 0 or minute < ${oldestLiveMinute(now) - 1})
    `
  })

/** See `StorageShape.claim`. */
export const claim = (sql: Sql, request: ClaimRequest): Op<ClaimResult> =>
  sql.withTransaction(Effect.gen(function*() {
    const { account, now } = request
    const key = Ports.Storage.quotaKey(account)
    const limit = Math.max(0, Math.floor(request.limit))
    if (limit === 0) return { claimed: [], nextCapacity: undefined }

    yield* lockQuotaKey(sql, key, account.phoneNumberId)
    const stored = yield* decode("claim", yield* selectCandidates(sql, account.name, now, limit, request.horizonMs), readContact)
    const candidates: Array<Candidate> = stored
      .filter((s) => ContactState.isDue(s.contact.progress, now))
      .map((s) => ({
        id: s.contact.id,
        campaignId: s.contact.campaignId,
        recipient: s.contact.recipient,
        progress: s.contact.progress,
        timeZone: s.contact.timeZone
      }))
    if (candidates.length === 0) return { claimed: [], nextCapacity: undefined }

    const recipients = [...new Set(candidates.map((c) => c.recipient))]
    const settings = yield* readCampaignSettings(sql, [...new Set(candidates.map((c) => c.campaignId))], request.capFactor)
    const snapshot = { ...yield* readSnapshot(sql, key, account.phoneNumberId, recipients, now), campaignPaces: settings.paces }
    const decision = decideClaims(candidates, snapshot, account, {
      limit,
      leaseMs: request.leaseMs,
      now,
      ...(request.horizonMs === undefined ? {} : { horizonMs: request.horizonMs }),
      sendWindows: settings.windows
    })
    yield* writeDeferrals(sql, decision.deferrals)
    const deferred = decision.deferrals.length
    if (decision.claims.length === 0) return { claimed: [], nextCapacity: decision.nextCapacity, deferred }

    yield* writeProgress(sql, decision.claims.map((c) => ({
      id: c.id,
      progress: c.progress,
      leaseOwner: request.owner,
      reservation: { quotaKey: key, slot: c.slot, previousSentAt: c.previousSentAt }
    })))
    if (decision.ledgerWrites.size > 0) {
      const ledger = [...decision.ledgerWrites]
      yield* sql`
        insert into quota_ledger (key, recipient, last_sent_at)
        select ${key}, l.recipient, l.last_sent_at
        from unnest(${texts(ledger.map(([r]) => r))}::text[], ${timestamps(ledger.map(([, at]) => at))}::timestamptz[])
          as l(recipient, last_sent_at)
        on conflict (key, recipient) do update set last_sent_at = excluded.last_sent_at
      `
    }
    if (decision.pairWrites.size > 0) {
      const pairs = [...decision.pairWrites]
      yield* sql`
        insert into pair_last_sent (phone_number_id, recipient, last_sent_at)
        select ${account.phoneNumberId}, p.recipient, p.last_sent_at
        from unnest(${texts(pairs.map(([r]) => r))}::text[], ${timestamps(pairs.map(([, at]) => at))}::timestamptz[])
          as p(recipient, last_sent_at)
        on conflict (phone_number_id, recipient)
          do update set last_sent_at = greatest(pair_last_sent.last_sent_at, excluded.last_sent_at)
      `
    }
    if (decision.campaignNextFreeAt.size > 0) {
      const paces = [...decision.campaignNextFreeAt]
      yield* sql`
        update campaigns set next_send_at = p.next_send_at
        from unnest(${bigints(paces.map(([id]) => Number(id)))}::int8[], ${timestamps(paces.map(([, at]) => at))}::timestamptz[])
          as p(id, next_send_at)
        where campaigns.id = p.id
      `
    }
    yield* applyBucketDeltas(sql, key, decision.bucketDeltas, now)
    yield* sql`
      update throughput set
        next_free_at = ${decision.throughput.nextFreeAt},
        rate_factor = ${decision.throughput.rateFactor},
        decreased_at = ${decision.throughput.decreasedAt ?? null}
      where phone_number_id = ${account.phoneNumberId}
    `

    const byId = new Map(stored.map((s) => [s.contact.id, s.contact]))
    const claimed: Array<Ports.Storage.ClaimedContact> = []
    for (const c of decision.claims) {
      const contact = byId.get(c.id)
      if (contact !== undefined) claimed.push({ contact: { ...contact, progress: c.progress, leaseOwner: request.owner }, slot: c.slot })
    }
    return { claimed, nextCapacity: decision.nextCapacity, deferred }
  }))

/** See `StorageShape.throttleNumber`. */
export const throttleNumber = (sql: Sql, phoneNumberId: string, now: Date): Op<void> =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql`insert into throughput (phone_number_id) values (${phoneNumberId}) on conflict do nothing`
    const rows = yield* sql<Row>`
      select next_free_at, rate_factor, decreased_at from throughput
      where phone_number_id = ${phoneNumberId}
      for update
    `
    const [state] = yield* decode("throttleNumber", rows, readThroughput)
    const next = Quota.throttled(state ?? Quota.initialThroughput, now)
    yield* sql`
      update throughput set
        next_free_at = ${next.nextFreeAt},
        rate_factor = ${next.rateFactor},
        decreased_at = ${next.decreasedAt ?? null}
      where phone_number_id = ${phoneNumberId}
    `
  }))

/** See `StorageShape.quotaUsage`. */
export const quotaUsage = (sql: Sql, account: Ports.Storage.Account, now: Date): Op<Ports.Storage.QuotaUsage> =>
  Effect.gen(function*() {
    const key = Ports.Storage.quotaKey(account)
    const rows = yield* sql<Row>`
      select minute, count from quota_buckets
      where key = ${key} and minute >= ${oldestLiveMinute(now)}
    `
    const buckets = new Map(yield* decode("quotaUsage", rows, (r) => [num(r, "minute"), num(r, "count")] as const))
    const used = Quota.countFromBuckets(buckets, now)
    const limit = account.messagingLimit
    return {
      quotaKey: key,
      used,
      limit,
      remaining: limit === "unlimited" ? "unlimited" : Math.max(0, limit - used),
      nextFreeAt: Quota.bucketsNextFreeAt(buckets, limit, now)
    }
  })
