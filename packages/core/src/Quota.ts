/**
 * Quota windows: the three limits Meta puts on a sender (whatsapp-cloud-api.md §6) as plain data and pure
 * functions. Storage adapters persist the states computed here, so several daemons share one budget.
 *
 * - Messaging limit: unique recipients per quota key (account or business portfolio) in a rolling 24 h window.
 * - Throughput: messages per second per phone number, a GCRA kept in one row (`nextFreeAt`), with adaptive
 *   backoff after 130429.
 * - Pair limit: the same recipient at most once per `spacingMs`.
 *
 * Every function takes `now` as an argument: the caller reads Effect's Clock, so tests control time.
 */
import { Result, Schema } from "effect"

/** Length of Meta's moving messaging-limit window. */
export const QUOTA_WINDOW_MS = 24 * 60 * 60 * 1000

// ---------------------------------------------------------------------------------------------------------
// Messaging limit (rolling 24 h unique recipients)
// ---------------------------------------------------------------------------------------------------------

/** A messaging limit: unique recipients per rolling 24 h, or no limit at all. */
export type MessagingLimit = number | "unlimited"

/** A tier value Meta sent (or a person typed) that names no known messaging limit. */
export class UnknownMessagingTier extends Schema.TaggedError<UnknownMessagingTier>()("UnknownMessagingTier", {
  value: Schema.String,
  reason: Schema.String
}) {}

// TIER_NOT_SET: a portfolio without an assigned level; new portfolios start at 250 since Oct 2025.
const namedTiers: Readonly<Record<string, MessagingLimit>> = {
  TIER_NOT_SET: 250,
  TIER_50: 50,
  TIER_250: 250,
  TIER_1K: 1_000,
  TIER_2K: 2_000,
  TIER_10K: 10_000,
  TIER_100K: 100_000,
  TIER_UNLIMITED: "unlimited"
}

/** Reads a Meta messaging tier (`TIER_2K`, `TIER_UNLIMITED`, `2000`, `-1` = unlimited, …) as a limit. */
export const parseMessagingTier = (value: string | number): Result.Result<MessagingLimit, UnknownMessagingTier> => {
  const text = String(value).trim().toUpperCase()
  const named = namedTiers[text]
  if (named !== undefined) return Result.succeed(named)
  if (!/^-?\d+$/.test(text)) {
    return Result.fail(new UnknownMessagingTier({ value: String(value), reason: "not a known tier or an integer" }))
  }
  const limit = Number(text)
  if (limit === -1) return Result.succeed("unlimited")
  if (limit < 0 || !Number.isSafeInteger(limit)) {
    return Result.fail(new UnknownMessagingTier({ value: String(value), reason: "a limit is -1 or a count ≥ 0" }))
  }
  return Result.succeed(limit)
}

/**
 * Recipients in the quota window, each with the start of its latest send. A recipient counts until 24 h after
 * its latest send (Meta counts anyone messaged within the moving window), so a re-send keeps it counted.
 */
export type MessagingLedger = ReadonlyMap<string, Date>

/** A ledger with nobody in the window. */
export const emptyLedger: MessagingLedger = new Map()

/** Where a quota key stands: how many recipients count now and when one more new recipient may go. */
export interface MessagingUsage {
  readonly used: number
  readonly limit: MessagingLimit
  readonly remaining: number | "unlimited"
  /** `now` while there is room; otherwise when the window frees a place; undefined for a limit of 0. */
  readonly nextFreeAt: Date | undefined
}

/** What one admission decided; `nextFreeAt` is set only when someone was deferred. */
export interface MessagingAdmission {
  readonly admitted: ReadonlyArray<string>
  readonly deferred: ReadonlyArray<string>
  readonly ledger: MessagingLedger
  readonly nextFreeAt: Date | undefined
}

const counts = (sentAt: number | undefined, now: number): boolean =>
  sentAt !== undefined && sentAt > now - QUOTA_WINDOW_MS

const hasRoom = (used: number, limit: MessagingLimit): boolean => limit === "unlimited" || used < limit

const unique = (candidates: ReadonlyArray<string>): ReadonlyArray<string> => [...new Set(candidates)]

/** Walks candidates in order: counted ones go free, new ones while there is room, nobody beyond `room` sends. */
const admitInOrder = (
  candidates: ReadonlyArray<string>,
  isCounted: (recipient: string) => boolean,
  used: number,
  limit: MessagingLimit,
  room: number
) => {
  const admitted: Array<string> = []
  const overLimit: Array<string> = []
  const overRoom: Array<string> = []
  let count = used
  for (const recipient of unique(candidates)) {
    if (admitted.length >= room) overRoom.push(recipient)
    else if (isCounted(recipient)) admitted.push(recipient)
    else if (hasRoom(count, limit)) {
      admitted.push(recipient)
      count++
    } else overLimit.push(recipient)
  }
  return { admitted, overLimit, overRoom, used: count }
}

/** When the count of `sentAts` (all inside the window) drops below `limit`: the (used − limit)-th oldest leaves. */
const freeAt = (sentAts: ReadonlyArray<number>, limit: MessagingLimit, now: number): Date | undefined => {
  if (hasRoom(sentAts.length, limit)) return new Date(now)
  if (limit === "unlimited" || limit <= 0) return undefined
  const sorted = [...sentAts].sort((a, b) => a - b)
  const leaving = sorted[sorted.length - limit] ?? now
  return new Date(leaving + QUOTA_WINDOW_MS)
}

const activeSentAts = (ledger: MessagingLedger, now: number): Array<number> =>
  [...ledger.values()].map((at) => at.getTime()).filter((at) => counts(at, now))

/** Drops recipients whose latest send has left the 24 h window. */
export const prune = (ledger: MessagingLedger, now: Date): MessagingLedger => {
  const t = now.getTime()
  return new Map([...ledger].filter(([, at]) => counts(at.getTime(), t)))
}

/** How much of the messaging limit is used at `now`, and when a new recipient may go next. */
export const usage = (ledger: MessagingLedger, limit: MessagingLimit, now: Date): MessagingUsage => {
  const t = now.getTime()
  const active = activeSentAts(ledger, t)
  return {
    used: active.length,
    limit,
    remaining: limit === "unlimited" ? "unlimited" : Math.max(0, limit - active.length),
    nextFreeAt: freeAt(active, limit, t)
  }
}

/** Records sends at the given instants, keeping the later one when a recipient already has a later send. */
const recordSends = (ledger: MessagingLedger, sends: ReadonlyArray<readonly [string, number]>, now: number) => {
  const next = new Map([...ledger].filter(([, at]) => counts(at.getTime(), now)))
  for (const [recipient, at] of sends) {
    const previous = next.get(recipient)
    if (previous === undefined || previous.getTime() < at) next.set(recipient, new Date(at))
  }
  return next
}

/**
 * Which candidates may be sent now under the messaging limit: recipients already in the window always (they
 * cost nothing), new ones while the unique count is below `limit`. Admitted sends are recorded at `now`.
 */
export const admitRecipients = (
  ledger: MessagingLedger,
  candidates: ReadonlyArray<string>,
  limit: MessagingLimit,
  now: Date
): MessagingAdmission => {
  const t = now.getTime()
  const used = activeSentAts(ledger, t).length
  const decided = admitInOrder(candidates, (r) => counts(ledger.get(r)?.getTime(), t), used, limit, Infinity)
  const next = recordSends(ledger, decided.admitted.map((r) => [r, t] as const), t)
  return {
    admitted: decided.admitted,
    deferred: decided.overLimit,
    ledger: next,
    nextFreeAt: decided.overLimit.length > 0 ? freeAt(activeSentAts(next, t), limit, t) : undefined
  }
}

/** Undoes an admission whose send never reached Meta: back to the recipient's previous send, or out. */
export const releaseRecipient = (
  ledger: MessagingLedger,
  recipient: string,
  previousSentAt: Date | undefined
): MessagingLedger => {
  const next = new Map(ledger)
  if (previousSentAt === undefined) next.delete(recipient)
  else next.set(recipient, previousSentAt)
  return next
}

// ---------------------------------------------------------------------------------------------------------
// Minute buckets: the database's cheap rolling count
// ---------------------------------------------------------------------------------------------------------

const MINUTE_MS = 60_000

/**
 * Per-minute counts of recipients whose latest send fell in that minute (key: minutes since the epoch).
 * Summing the buckets that touch the window counts a partly expired minute whole, so it never undercounts.
 */
export type MinuteBuckets = ReadonlyMap<number, number>

/** The bucket an instant falls in. */
export const minuteOf = (at: Date): number => Math.floor(at.getTime() / MINUTE_MS)

const bucketLive = (minute: number, now: number): boolean => (minute + 1) * MINUTE_MS > now - QUOTA_WINDOW_MS

/** Moves one recipient's count from the bucket of `from` to the bucket of `to` (either may be absent). */
export const moveRecipientInBuckets = (
  buckets: MinuteBuckets,
  from: Date | undefined,
  to: Date | undefined
): MinuteBuckets => {
  const next = new Map(buckets)
  if (from !== undefined) {
    const minute = minuteOf(from)
    const count = next.get(minute) ?? 0
    // A pruned bucket has already stopped counting: nothing to take away.
    if (count > 1) next.set(minute, count - 1)
    else next.delete(minute)
  }
  if (to !== undefined) next.set(minuteOf(to), (next.get(minuteOf(to)) ?? 0) + 1)
  return next
}

/** Recipients counted at `now` by the buckets: at least the exact rolling count, at most one minute more. */
export const countFromBuckets = (buckets: MinuteBuckets, now: Date): number => {
  const t = now.getTime()
  let total = 0
  for (const [minute, count] of buckets) if (bucketLive(minute, t)) total += count
  return total
}

/** Drops buckets that lie wholly before the window. */
export const pruneBuckets = (buckets: MinuteBuckets, now: Date): MinuteBuckets => {
  const t = now.getTime()
  return new Map([...buckets].filter(([minute]) => bucketLive(minute, t)))
}

/** When the bucketed count drops below `limit` (`now` if it already is; undefined for a limit of 0). */
export const bucketsNextFreeAt = (buckets: MinuteBuckets, limit: MessagingLimit, now: Date): Date | undefined => {
  const t = now.getTime()
  const live = [...buckets].filter(([minute]) => bucketLive(minute, t)).sort(([a], [b]) => a - b)
  let used = live.reduce((sum, [, count]) => sum + count, 0)
  if (hasRoom(used, limit)) return now
  if (limit === "unlimited" || limit <= 0) return undefined
  for (const [minute, count] of live) {
    used -= count
    if (used < limit) return new Date((minute + 1) * MINUTE_MS + QUOTA_WINDOW_MS)
  }
  return undefined // unreachable: the loop empties the count
}

/** What the database knows at claim time: the bucket counts and the ledger rows of the candidates. */
export interface BucketedAdmissionInput {
  readonly buckets: MinuteBuckets
  /** Latest send per candidate (rows of other recipients are not needed). */
  readonly lastSentAt: ReadonlyMap<string, Date>
  readonly candidates: ReadonlyArray<string>
  readonly limit: MessagingLimit
  readonly now: Date
}

/** What a bucketed admission decided, with the buckets and candidate rows to write back. */
export interface BucketedAdmission {
  readonly admitted: ReadonlyArray<string>
  readonly deferred: ReadonlyArray<string>
  readonly buckets: MinuteBuckets
  readonly lastSentAt: ReadonlyMap<string, Date>
  readonly nextFreeAt: Date | undefined
}

/** `admitRecipients` for the database: counts from minute buckets, so it may defer early but never overshoots. */
export const admitRecipientsBucketed = (input: BucketedAdmissionInput): BucketedAdmission => {
  const t = input.now.getTime()
  const decided = admitInOrder(
    input.candidates,
    // A recipient whose latest send still sits in a live bucket only moves buckets: the count stays the same.
    (r) => {
      const previous = input.lastSentAt.get(r)
      return previous !== undefined && bucketLive(minuteOf(previous), t)
    },
    countFromBuckets(input.buckets, input.now),
    input.limit,
    Infinity
  )
  let buckets = input.buckets
  const lastSentAt = new Map(input.lastSentAt)
  for (const recipient of decided.admitted) {
    const previous = lastSentAt.get(recipient)
    if (previous !== undefined && previous.getTime() >= t) continue
    buckets = moveRecipientInBuckets(buckets, previous, input.now)
    lastSentAt.set(recipient, input.now)
  }
  return {
    admitted: decided.admitted,
    deferred: decided.overLimit,
    buckets,
    lastSentAt,
    nextFreeAt: decided.overLimit.length > 0 ? bucketsNextFreeAt(buckets, input.limit, input.now) : undefined
  }
}

// ---------------------------------------------------------------------------------------------------------
// Throughput per phone number (GCRA with adaptive backoff)
// ---------------------------------------------------------------------------------------------------------

/** Meta's default throughput for a business number, messages per second. */
export const DEFAULT_MPS = 80
/** Throughput once Meta reports `throughput.level` HIGH. */
export const HIGH_THROUGHPUT_MPS = 1_000
/** Fixed throughput of a coexistence number (WhatsApp Business app and API on one number). */
export const COEXISTENCE_MPS = 20

/** The nominal messages per second of a number, from what its phone-number node reports. */
export const throughputFor = (number: {
  readonly level?: string | undefined
  readonly coexistence?: boolean | undefined
}): number => (number.coexistence === true ? COEXISTENCE_MPS : number.level === "HIGH" ? HIGH_THROUGHPUT_MPS : DEFAULT_MPS)

/**
 * One number's throughput row. `nextFreeAt` is the GCRA's theoretical arrival time: the earliest start of the
 * next send. After a 130429 the rate is `rateFactor` × mps at `decreasedAt` and recovers step by step from there.
 */
export interface ThroughputState {
  readonly nextFreeAt: Date
  readonly rateFactor: number
  readonly decreasedAt: Date | undefined
}

/** A number that has never sent: full rate, free now. */
export const initialThroughput: ThroughputState = { nextFreeAt: new Date(0), rateFactor: 1, decreasedAt: undefined }

/** How a number slows down after 130429 (multiplicative decrease) and speeds up again (additive increase). */
export interface BackoffPolicy {
  /** Multiply the rate by this on a 130429. */
  readonly decrease: number
  /** Never below this share of the nominal rate. */
  readonly minFactor: number
  /** Give back this share of the nominal rate … */
  readonly recoverStep: number
  /** … every this long after the last decrease. */
  readonly recoverEveryMs: number
  /** 130429s within this long of a decrease come from the same overrun: they do not decrease again. */
  readonly cooldownMs: number
  /** No new send starts sooner than this after a 130429. */
  readonly pauseMs: number
}

/**
 * A tenth slower on 130429 (not below 5 %), 5 % back every 5 s, one decrease per 5 s, pause 250 ms. The
 * number's rate is known (80 or 1,000 msg/s), so a 130429 at it is mostly an overrun by network jitter: halving
 * and crawling back over minutes would waste a campaign's time. A number whose real rate is lower keeps
 * answering 130429 and steps down a tenth every 5 s (1,000 → 80 msg/s in about two minutes).
 */
export const defaultBackoff: BackoffPolicy = {
  decrease: 0.9,
  minFactor: 0.05,
  recoverStep: 0.05,
  recoverEveryMs: 5_000,
  cooldownMs: 5_000,
  pauseMs: 250
}

const factorAt = (state: ThroughputState, now: number, policy: BackoffPolicy): number => {
  if (state.decreasedAt === undefined) return Math.min(1, state.rateFactor)
  const steps = Math.max(0, Math.floor((now - state.decreasedAt.getTime()) / policy.recoverEveryMs))
  return Math.min(1, state.rateFactor + steps * policy.recoverStep)
}

// Rates in thousandths of a message per second keep slot offsets exact integers (no drift over many batches).
const rateMilli = (state: ThroughputState, mps: number, now: number, policy: BackoffPolicy): number =>
  Math.max(1, Math.floor(mps * 1000 * factorAt(state, now, policy)))

const offsetMs = (i: number, milli: number): number => Math.ceil((i * 1_000_000) / milli)

/** The rate a number may send at `now`, after any backoff. */
export const effectiveMps = (
  state: ThroughputState,
  mps: number,
  now: Date,
  policy: BackoffPolicy = defaultBackoff
): number => rateMilli(state, mps, now.getTime(), policy) / 1000

/** Slots handed out by one reservation, and the row to write back. */
export interface SlotReservation {
  readonly slots: ReadonlyArray<Date>
  readonly state: ThroughputState
}

/**
 * Reserves start times for `n` sends, 1/rate apart from `max(nextFreeAt, now)` — the UPDATE
 * `next_free_at = greatest(next_free_at, now) + n / mps`. Slots round up to whole milliseconds, so no
 * 1-second window ever holds more than `mps` sends. No burst: a dispatcher sends each slot when it comes.
 */
export const reserveSlots = (
  state: ThroughputState,
  n: number,
  mps: number,
  now: Date,
  policy: BackoffPolicy = defaultBackoff
): SlotReservation => {
  const t = now.getTime()
  const count = Math.max(0, Math.floor(n))
  const start = Math.max(state.nextFreeAt.getTime(), t)
  const milli = rateMilli(state, mps, t, policy)
  const slots = Array.from({ length: count }, (_, i) => new Date(start + offsetMs(i, milli)))
  const recovered = factorAt(state, t, policy) >= 1
  return {
    slots,
    state: {
      nextFreeAt: count > 0 ? new Date(start + offsetMs(count, milli)) : state.nextFreeAt,
      rateFactor: recovered ? 1 : state.rateFactor,
      decreasedAt: recovered ? undefined : state.decreasedAt
    }
  }
}

/** How many slots would start before `now + horizonMs`. */
const slotsWithin = (state: ThroughputState, mps: number, now: number, horizonMs: number, policy: BackoffPolicy) => {
  const room = now + horizonMs - Math.max(state.nextFreeAt.getTime(), now)
  return room < 1 ? 0 : Math.floor(((room - 1) * rateMilli(state, mps, now, policy)) / 1_000_000) + 1
}

/** After a 130429 for this number: pause briefly and lower its rate (once per overrun); it recovers over time. */
export const throttled = (
  state: ThroughputState,
  now: Date,
  policy: BackoffPolicy = defaultBackoff
): ThroughputState => {
  const t = now.getTime()
  const nextFreeAt = new Date(Math.max(state.nextFreeAt.getTime(), t + policy.pauseMs))
  const sameOverrun = state.decreasedAt !== undefined && t - state.decreasedAt.getTime() < policy.cooldownMs
  if (sameOverrun) return { ...state, nextFreeAt }
  return {
    nextFreeAt,
    rateFactor: Math.max(policy.minFactor, factorAt(state, t, policy) * policy.decrease),
    decreasedAt: now
  }
}

// ---------------------------------------------------------------------------------------------------------
// Pair limit
// ---------------------------------------------------------------------------------------------------------

/** Meta's pair limit: about one message per 6 s to the same recipient. */
export const PAIR_SPACING_MS = 6_000

/** When a recipient last sent at `lastSentAt` may be sent again (undefined: any time). */
export const pairReadyAt = (lastSentAt: Date | undefined, spacingMs: number = PAIR_SPACING_MS): Date | undefined =>
  lastSentAt === undefined ? undefined : new Date(lastSentAt.getTime() + spacingMs)

/** A recipient held back by the pair limit, and when it may go. */
export interface PairWaiting {
  readonly recipient: string
  readonly readyAt: Date
}

/** Splits candidates into those the pair limit lets go at `now` and those that must wait. */
export const filterPairReady = (
  candidates: ReadonlyArray<string>,
  pairLastSent: ReadonlyMap<string, Date>,
  now: Date,
  spacingMs: number = PAIR_SPACING_MS
): { readonly ready: ReadonlyArray<string>; readonly waiting: ReadonlyArray<PairWaiting> } => {
  const ready: Array<string> = []
  const waiting: Array<PairWaiting> = []
  for (const recipient of unique(candidates)) {
    const readyAt = pairReadyAt(pairLastSent.get(recipient), spacingMs)
    if (readyAt === undefined || readyAt.getTime() <= now.getTime()) ready.push(recipient)
    else waiting.push({ recipient, readyAt })
  }
  return { ready, waiting }
}

// ---------------------------------------------------------------------------------------------------------
// All three together
// ---------------------------------------------------------------------------------------------------------

/** Which limit holds a send back. */
export type CapacityReason = "messaging_limit" | "throughput" | "pair_limit"

/** Everything a dispatcher knows when it plans a batch of sends. */
export interface PlanInput {
  /** Recipients in the order they should go; duplicates count once. */
  readonly candidates: ReadonlyArray<string>
  readonly messagingLedger: MessagingLedger
  readonly messagingLimit: MessagingLimit
  readonly throughputState: ThroughputState
  /** Nominal messages per second of the sending number. */
  readonly mps: number
  /** Latest send per candidate (others are not needed). */
  readonly pairLastSent: ReadonlyMap<string, Date>
  readonly now: Date
  /** At most this many sends in this plan (the batch size). */
  readonly max?: number
  /** Only slots that start before `now + horizonMs` are handed out (default 1 s), so plans stay short. */
  readonly horizonMs?: number
  readonly pairSpacingMs?: number
  readonly backoff?: BackoffPolicy
  /** Recipients whose campaign has a rate ceiling of its own (a per-campaign cap), and those ceilings. */
  readonly groups?: SendGroups
}

/** A group of sends (a campaign) with a messages/second ceiling of its own, below the number's. */
export interface GroupPace {
  /** The group's next free instant, like the number's `nextFreeAt`: its sends start no sooner. */
  readonly nextFreeAt: Date
  /** Its messages per second. */
  readonly mps: number
}

/** Which candidates belong to a rate-capped group, and each group's pace. Recipients of no group: the number's rate only. */
export interface SendGroups {
  readonly groupOf: ReadonlyMap<string, string>
  readonly paces: ReadonlyMap<string, GroupPace>
}

/** A send that may go, and when it may start. */
export interface PlannedSend {
  readonly recipient: string
  readonly slot: Date
}

/** A send held back: the limit that binds last, and the earliest it could go (undefined: not under this limit). */
export interface DeferredSend {
  readonly recipient: string
  readonly reason: CapacityReason
  readonly readyAt: Date | undefined
}

/** The earliest moment anything deferred could go, and the limit responsible. */
export interface NextCapacity {
  readonly at: Date | undefined
  readonly reason: CapacityReason
}

/** A plan: sends with slots, deferred candidates, the three states to write back, and when capacity frees. */
export interface SendPlan {
  readonly sends: ReadonlyArray<PlannedSend>
  readonly deferred: ReadonlyArray<DeferredSend>
  readonly messagingLedger: MessagingLedger
  readonly throughputState: ThroughputState
  readonly pairLastSent: ReadonlyMap<string, Date>
  /** Undefined when nothing was deferred. */
  readonly nextCapacity: NextCapacity | undefined
  /** The groups' next free instants after this plan (only groups that got sends). */
  readonly groupNextFreeAt: ReadonlyMap<string, Date>
}

/** The binding limit of a deferred send: the latest of its constraints; more specific reasons win ties. */
const bindingLimit = (
  constraints: ReadonlyArray<readonly [CapacityReason, number | undefined]>
): Omit<DeferredSend, "recipient"> => {
  let best: readonly [CapacityReason, number | undefined] = constraints[0] ?? ["throughput", 0]
  for (const constraint of constraints) {
    const [, at] = constraint
    if (best[1] === undefined) break
    if (at === undefined || at > best[1]) best = constraint
  }
  return { reason: best[0], readyAt: best[1] === undefined ? undefined : new Date(best[1]) }
}

/** How the messaging window is counted: from an exact ledger, or from minute buckets in the database. */
interface MessagingView<S> {
  /** Whether a recipient is already inside the window (costs nothing). */
  readonly isCounted: (recipient: string) => boolean
  /** Unique recipients counted now. */
  readonly used: number
  /** The state after recording these sends (recipient, instant). */
  readonly record: (sends: ReadonlyArray<readonly [string, number]>) => S
  /** When a new recipient may go next, given the state after recording. */
  readonly freeAt: (state: S) => Date | undefined
}

/** Planning shared by the exact and the bucketed messaging window. */
const planWith = <S>(input: Omit<PlanInput, "messagingLedger">, messaging: MessagingView<S>) => {
  const t = input.now.getTime()
  const spacingMs = input.pairSpacingMs ?? PAIR_SPACING_MS
  const policy = input.backoff ?? defaultBackoff
  const pair = filterPairReady(input.candidates, input.pairLastSent, input.now, spacingMs)
  const room = Math.min(
    input.max ?? Infinity,
    slotsWithin(input.throughputState, input.mps, t, input.horizonMs ?? 1_000, policy)
  )
  const ready = input.groups === undefined ? pair.ready : orderByPace(pair.ready, input, policy)
  const decided = admitInOrder(ready, messaging.isCounted, messaging.used, input.messagingLimit, room)
  const reservation = input.groups === undefined
    ? unpaced(reserveSlots(input.throughputState, decided.admitted.length, input.mps, input.now, policy), decided.admitted, input.now)
    : reservePaced(input.throughputState, decided.admitted, input, input.groups, policy)
  const sends = reservation.sends
  const messagingState = messaging.record(sends.map(({ recipient, slot }) => [recipient, slot.getTime()] as const))
  const pairLastSent = new Map(input.pairLastSent)
  for (const { recipient, slot } of sends) pairLastSent.set(recipient, slot)

  const throughputAt = Math.max(t, reservation.state.nextFreeAt.getTime())
  const messagingFull = !hasRoom(decided.used, input.messagingLimit)
  const messagingAt = messagingFull ? messaging.freeAt(messagingState) : undefined
  const pairAt = new Map(pair.waiting.map((w) => [w.recipient, w.readyAt.getTime()]))
  const beyondAt = new Map(reservation.beyond.map((b) => [b.recipient, b.at]))
  const deferred = [...pair.waiting.map((w) => w.recipient), ...decided.overLimit, ...decided.overRoom, ...beyondAt.keys()].map(
    (recipient): DeferredSend => {
      const paced = beyondAt.get(recipient)
      if (paced !== undefined) return { recipient, reason: "throughput", readyAt: new Date(paced) }
      const constraints: Array<readonly [CapacityReason, number | undefined]> = []
      if (messagingFull && !messaging.isCounted(recipient)) constraints.push(["messaging_limit", messagingAt?.getTime()])
      const pairReady = pairAt.get(recipient)
      if (pairReady !== undefined) constraints.push(["pair_limit", pairReady])
      constraints.push(["throughput", throughputAt])
      return { recipient, ...bindingLimit(constraints) }
    }
  )
  return {
    sends,
    deferred,
    messagingState,
    throughputState: reservation.state,
    pairLastSent,
    nextCapacity: earliest(deferred),
    groupNextFreeAt: reservation.groupNextFreeAt
  }
}

/**
 * Candidates in the order their slots will come: the uncapped ones keep their order at the number's rate, and
 * each capped group's sends are slotted in where its own, slower pace puts them — so uncapped sends fill the
 * number's slots between a capped campaign's and no slot waits for a capped send while others could go.
 */
const orderByPace = (ready: ReadonlyArray<string>, input: Omit<PlanInput, "messagingLedger">, policy: BackoffPolicy): ReadonlyArray<string> => {
  const groups = input.groups as SendGroups
  const t = input.now.getTime()
  const milli = rateMilli(input.throughputState, input.mps, t, policy)
  const uncapped: Array<string> = []
  const queues = new Map<string, { readonly recipients: Array<string>; next: number; readonly milli: number }>()
  for (const recipient of ready) {
    const group = groups.groupOf.get(recipient)
    const pace = group === undefined ? undefined : groups.paces.get(group)
    if (group === undefined || pace === undefined) {
      uncapped.push(recipient)
      continue
    }
    const queue = queues.get(group) ?? { recipients: [], next: Math.max(t, pace.nextFreeAt.getTime()), milli: paceMilli(pace) }
    queue.recipients.push(recipient)
    queues.set(group, queue)
  }
  // The same walk as reservePaced: at each number slot, a capped send whose time has come, else an uncapped one.
  let base = Math.max(t, input.throughputState.nextFreeAt.getTime())
  let sinceBase = 0
  let u = 0
  const order: Array<string> = []
  while (order.length < ready.length) {
    const cursor = base + offsetMs(sinceBase, milli)
    let due: { readonly recipients: Array<string>; next: number; readonly milli: number } | undefined
    for (const queue of queues.values()) {
      if (queue.recipients.length > 0 && (due === undefined || queue.next < due.next)) due = queue
    }
    if (due !== undefined && (due.next <= cursor || u >= uncapped.length)) {
      const at = Math.max(cursor, due.next)
      if (at > cursor) {
        base = at
        sinceBase = 0
      }
      order.push(due.recipients.shift() as string)
      due.next = at + offsetMs(1, due.milli)
    } else order.push(uncapped[u++] as string)
    sinceBase++
  }
  return order
}

/** A reservation without groups, in the shape of {@link reservePaced}. */
const unpaced = (reservation: SlotReservation, admitted: ReadonlyArray<string>, now: Date) => ({
  state: reservation.state,
  sends: admitted.map((recipient, i): PlannedSend => ({ recipient, slot: reservation.slots[i] ?? now })),
  beyond: [] as ReadonlyArray<{ readonly recipient: string; readonly at: number }>,
  groupNextFreeAt: new Map<string, Date>()
})

const paceMilli = (pace: GroupPace): number => Math.max(1, Math.floor(pace.mps * 1000))

/**
 * Slots for admitted sends in order when some belong to capped groups: each send starts at the number's next
 * slot or its group's, whichever is later, and sets both forward — the number's by 1/rate, the group's by 1/its
 * rate. Sends whose slot would start past the horizon are not handed out (they stay due).
 */
const reservePaced = (
  state: ThroughputState,
  admitted: ReadonlyArray<string>,
  input: Omit<PlanInput, "messagingLedger">,
  groups: SendGroups,
  policy: BackoffPolicy
) => {
  const t = input.now.getTime()
  const end = t + (input.horizonMs ?? 1_000)
  const milli = rateMilli(state, input.mps, t, policy)
  // The number's slots count from a base so offsets stay exact; a gap (waiting for a group) starts a new base.
  let base = Math.max(state.nextFreeAt.getTime(), t)
  let sinceBase = 0
  const groupNext = new Map<string, number>()
  const sends: Array<PlannedSend> = []
  const beyond: Array<{ readonly recipient: string; readonly at: number }> = []
  for (const recipient of admitted) {
    const group = groups.groupOf.get(recipient)
    const pace = group === undefined ? undefined : groups.paces.get(group)
    const numberAt = base + offsetMs(sinceBase, milli)
    const groupAt = group === undefined || pace === undefined
      ? numberAt
      : groupNext.get(group) ?? Math.max(t, pace.nextFreeAt.getTime())
    const at = Math.max(numberAt, groupAt)
    // Past the horizon: not handed out now. The number's slot is not used, so a later uncapped send takes it.
    if (at >= end) {
      beyond.push({ recipient, at })
      continue
    }
    if (at > numberAt) {
      base = at
      sinceBase = 0
    }
    sinceBase++
    sends.push({ recipient, slot: new Date(at) })
    if (group !== undefined && pace !== undefined) groupNext.set(group, at + offsetMs(1, paceMilli(pace)))
  }
  const recovered = factorAt(state, t, policy) >= 1
  return {
    sends,
    beyond,
    groupNextFreeAt: new Map([...groupNext].map(([group, at]) => [group, new Date(at)])),
    state: {
      nextFreeAt: sends.length > 0 ? new Date(base + offsetMs(sinceBase, milli)) : state.nextFreeAt,
      rateFactor: recovered ? 1 : state.rateFactor,
      decreasedAt: recovered ? undefined : state.decreasedAt
    }
  }
}

/**
 * Which candidates may go now under all three limits — pair spacing, the messaging limit, the number's
 * throughput — with their slots, the updated states, and when capacity frees for the rest. Sends are recorded
 * at their slot, so the 24 h window and the pair spacing start when the message actually leaves.
 */
export const planSends = (input: PlanInput): SendPlan => {
  const t = input.now.getTime()
  const ledger = input.messagingLedger
  const { messagingState, ...plan } = planWith(input, {
    isCounted: (r) => counts(ledger.get(r)?.getTime(), t),
    used: activeSentAts(ledger, t).length,
    record: (sends) => recordSends(ledger, sends, t),
    freeAt: (next) => freeAt(activeSentAts(next, t), input.messagingLimit, t)
  })
  return { ...plan, messagingLedger: messagingState }
}

/** What the database holds for one plan: bucket counts of the quota key and the candidates' ledger rows. */
export interface BucketedPlanInput extends Omit<PlanInput, "messagingLedger"> {
  readonly buckets: MinuteBuckets
  /** Latest send per candidate recipient (rows of other recipients are not needed). */
  readonly lastSentAt: ReadonlyMap<string, Date>
}

/** A bucketed plan: like {@link SendPlan}, with buckets and the candidates' ledger rows to write back. */
export interface BucketedSendPlan extends Omit<SendPlan, "messagingLedger"> {
  readonly buckets: MinuteBuckets
  readonly lastSentAt: ReadonlyMap<string, Date>
}

/**
 * `planSends` for storage adapters: the messaging window is counted from minute buckets (never low), so a
 * claim reads a few hundred rows, not the whole ledger. Sends are recorded at their slots.
 */
export const planSendsBucketed = (input: BucketedPlanInput): BucketedSendPlan => {
  const t = input.now.getTime()
  const { messagingState, ...plan } = planWith(input, {
    isCounted: (r) => {
      const previous = input.lastSentAt.get(r)
      return previous !== undefined && bucketLive(minuteOf(previous), t)
    },
    used: countFromBuckets(input.buckets, input.now),
    record: (sends) => {
      let buckets = input.buckets
      const lastSentAt = new Map(input.lastSentAt)
      for (const [recipient, at] of sends) {
        const previous = lastSentAt.get(recipient)
        if (previous !== undefined && previous.getTime() >= at) continue
        buckets = moveRecipientInBuckets(buckets, previous, new Date(at))
        lastSentAt.set(recipient, new Date(at))
      }
      return { buckets, lastSentAt }
    },
    freeAt: (next) => bucketsNextFreeAt(next.buckets, input.messagingLimit, input.now)
  })
  return { ...plan, buckets: messagingState.buckets, lastSentAt: messagingState.lastSentAt }
}

const earliest = (deferred: ReadonlyArray<DeferredSend>): NextCapacity | undefined => {
  let best: DeferredSend | undefined
  for (const d of deferred) {
    if (best === undefined) best = d
    else if (d.readyAt !== undefined && (best.readyAt === undefined || d.readyAt < best.readyAt)) best = d
  }
  return best === undefined ? undefined : { at: best.readyAt, reason: best.reason }
}
