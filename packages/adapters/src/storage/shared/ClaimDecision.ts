/**
 * The part of a claim every storage adapter computes the same way, once it holds the rows: which due contacts
 * go now under all three limits, their slots and leases, and what to write back. The adapter's only job is to
 * read the inputs and write the outputs atomically (PostgreSQL: one transaction holding the quota key's lock).
 */
import { Result } from "effect"
import { ContactState, Quota } from "@megaphone/core"
import type { Ports } from "@megaphone/core"

type Account = Ports.Storage.Account

/** A due contact as read for a claim. */
export interface Candidate {
  readonly id: string
  readonly recipient: string
  readonly progress: ContactState.ContactProgress
}

/** What the adapter read for the quota key and the phone number, limited to the candidates' recipients. */
export interface QuotaSnapshot {
  /** Minute buckets of the quota key (only live ones are needed). */
  readonly buckets: Quota.MinuteBuckets
  /** Ledger rows of the candidates' recipients: their latest send in the quota key. */
  readonly lastSentAt: ReadonlyMap<string, Date>
  /** Pair-limit rows of the candidates' recipients on this phone number. */
  readonly pairLastSent: ReadonlyMap<string, Date>
  readonly throughput: Quota.ThroughputState
}

/** One contact the claim takes, with what the adapter stores on its row. */
export interface Claim {
  readonly id: string
  readonly recipient: string
  readonly slot: Date
  /** The progress after `Claimed` (in_progress, attempts + 1, lease until slot + leaseMs). */
  readonly progress: ContactState.ContactProgress
  /** The recipient's ledger time before this claim, to restore if the send never reaches Meta. */
  readonly previousSentAt: Date | undefined
}

/** Everything the adapter writes back. Bucket changes are deltas so concurrent writers add, not overwrite. */
export interface ClaimDecision {
  readonly claims: ReadonlyArray<Claim>
  readonly bucketDeltas: ReadonlyMap<number, number>
  readonly ledgerWrites: ReadonlyMap<string, Date>
  readonly pairWrites: ReadonlyMap<string, Date>
  readonly throughput: Quota.ThroughputState
  readonly nextCapacity: Quota.NextCapacity | undefined
}

/**
 * Decide a claim. Candidates come in due order; a recipient appearing twice is planned once (the later
 * contacts stay due and meet the pair limit next time).
 */
export const decideClaims = (
  candidates: ReadonlyArray<Candidate>,
  snapshot: QuotaSnapshot,
  account: Account,
  request: { readonly limit: number; readonly leaseMs: number; readonly now: Date; readonly horizonMs?: number }
): ClaimDecision => {
  const plan = Quota.planSendsBucketed({
    candidates: candidates.map((c) => c.recipient),
    buckets: snapshot.buckets,
    lastSentAt: snapshot.lastSentAt,
    messagingLimit: account.messagingLimit,
    throughputState: snapshot.throughput,
    mps: account.throughputMps,
    pairLastSent: snapshot.pairLastSent,
    now: request.now,
    max: request.limit,
    ...(request.horizonMs === undefined ? {} : { horizonMs: request.horizonMs })
  })
  const firstByRecipient = new Map<string, Candidate>()
  for (const c of candidates) if (!firstByRecipient.has(c.recipient)) firstByRecipient.set(c.recipient, c)

  const claims: Array<Claim> = []
  for (const { recipient, slot } of plan.sends) {
    const candidate = firstByRecipient.get(recipient)
    if (candidate === undefined) continue
    const claimed = ContactState.transition(
      candidate.progress,
      { _tag: "Claimed", leaseExpiresAt: new Date(slot.getTime() + request.leaseMs) },
      request.now
    )
    // A candidate the state machine will not claim (not due after all) simply stays where it is.
    if (Result.isFailure(claimed)) continue
    claims.push({ id: candidate.id, recipient, slot, progress: claimed.success, previousSentAt: snapshot.lastSentAt.get(recipient) })
  }
  const claimedRecipients = new Set(claims.map((c) => c.recipient))
  return {
    claims,
    bucketDeltas: bucketDeltas(snapshot.buckets, plan.buckets),
    ledgerWrites: new Map([...plan.lastSentAt].filter(([r, at]) => claimedRecipients.has(r) && snapshot.lastSentAt.get(r)?.getTime() !== at.getTime())),
    pairWrites: new Map([...plan.pairLastSent].filter(([r]) => claimedRecipients.has(r))),
    throughput: plan.throughputState,
    nextCapacity: plan.nextCapacity
  }
}

/** The changes from one bucket map to another, as per-minute deltas (zeros left out). */
export const bucketDeltas = (before: Quota.MinuteBuckets, after: Quota.MinuteBuckets): ReadonlyMap<number, number> => {
  const deltas = new Map<number, number>()
  for (const minute of new Set([...before.keys(), ...after.keys()])) {
    const delta = (after.get(minute) ?? 0) - (before.get(minute) ?? 0)
    if (delta !== 0) deltas.set(minute, delta)
  }
  return deltas
}

/** What giving back a reservation writes: the ledger row (restored, or deleted) and the bucket moves. */
export interface Release {
  readonly ledger: { readonly _tag: "Restore"; readonly at: Date } | { readonly _tag: "Delete" }
  readonly bucketDeltas: ReadonlyMap<number, number>
}

/**
 * Give back a claim's reservation in the 24 h window, if nothing sent to the recipient since: the ledger row
 * still holds the claim's slot. Otherwise a later send owns the row and nothing changes (undefined).
 */
export const releaseReservation = (
  ledgerNow: Date | undefined,
  reservedSlot: Date,
  previousSentAt: Date | undefined
): Release | undefined => {
  if (ledgerNow === undefined || ledgerNow.getTime() !== reservedSlot.getTime()) return undefined
  const deltas = new Map<number, number>([[Quota.minuteOf(reservedSlot), -1]])
  if (previousSentAt !== undefined) {
    const minute = Quota.minuteOf(previousSentAt)
    deltas.set(minute, (deltas.get(minute) ?? 0) + 1)
    if (deltas.get(minute) === 0) deltas.delete(minute)
  }
  return {
    ledger: previousSentAt === undefined ? { _tag: "Delete" } : { _tag: "Restore", at: previousSentAt },
    bucketDeltas: deltas
  }
}
