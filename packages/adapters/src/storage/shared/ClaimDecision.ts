/**
 * The part of a claim every storage adapter computes the same way, once it holds the rows: which due contacts
 * go now under all three limits, their slots and leases, and what to write back. The adapter's only job is to
 * read the inputs and write the outputs atomically (PostgreSQL: one transaction holding the quota key's lock).
 */
import { Result } from "effect"
import { ContactState, Quota, SendWindow } from "@megaphone/core"
import type { Ports } from "@megaphone/core"

type Account = Ports.Storage.Account

/** A due contact as read for a claim. */
export interface Candidate {
  readonly id: string
  /** Its campaign: a campaign with a rate cap paces its own sends (`QuotaSnapshot.campaignPaces`). */
  readonly campaignId: string
  readonly recipient: string
  readonly progress: ContactState.ContactProgress
  /** The contact's own time zone (`CampaignContact.timeZone`); absent or null: its number's country's. */
  readonly timeZone?: string | null
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
  /**
   * The candidates' campaigns that have a rate cap (`campaigns rate ID --max-mps N`): the cap as planned (see
   * {@link campaignPace}) and the campaign's next free instant. Campaigns without a cap are absent.
   */
  readonly campaignPaces?: ReadonlyMap<string, Quota.GroupPace>
}

/**
 * A capped campaign's pace for a claim: its cap at the share of the nominal rate the claim plans the number at
 * (`ClaimRequest.capFactor`: the dispatcher keeps a margin for late sends and network jitter), from its stored
 * next free instant (null: never sent).
 */
export const campaignPace = (maxMps: number, capFactor: number | undefined, nextFreeAt: Date | null): Quota.GroupPace => ({
  mps: maxMps * Math.min(1, capFactor ?? 1),
  nextFreeAt: nextFreeAt ?? new Date(0)
})

/** How many of a capped campaign's due contacts a claim may take: as many as its slots within the horizon, plus one. */
export const cappedTake = (maxMps: number, horizonMs: number | undefined, limit: number): number =>
  Math.min(limit, Math.ceil((maxMps * (horizonMs ?? 1_000)) / 1_000) + 1)

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
  /** Capped campaigns' next free instants after this claim (only those that got sends): store them. */
  readonly campaignNextFreeAt: ReadonlyMap<string, Date>
  /** Candidates whose send window is closed: their progress after `Deferred` (state and attempts as they were). */
  readonly deferrals: ReadonlyArray<Deferral>
}

/** A due contact the claim leaves waiting for its campaign's send window, due again at the window's next opening. */
export interface Deferral {
  readonly id: string
  readonly progress: ContactState.ContactProgress
}

// When a recipient's zones never share an open hour, look again a day later (the window may have changed by then).
const NEVER_OPEN_RETRY_MS = 24 * 3_600_000

/**
 * Split candidates into those whose campaign's send window is open for them now (or who have none) and deferrals
 * to the window's next opening in their zones (`SendWindow.recipientZones`). Evaluated once per campaign and zones.
 */
export const deferClosed = (
  candidates: ReadonlyArray<Candidate>,
  windows: ReadonlyMap<string, SendWindow.SendWindow> | undefined,
  now: Date
): { readonly open: ReadonlyArray<Candidate>; readonly deferrals: ReadonlyArray<Deferral> } => {
  if (windows === undefined || windows.size === 0) return { open: candidates, deferrals: [] }
  const opening = new Map<string, Date>()
  const open: Array<Candidate> = []
  const deferrals: Array<Deferral> = []
  for (const c of candidates) {
    const window = windows.get(c.campaignId)
    if (window === undefined) {
      open.push(c)
      continue
    }
    const zones = SendWindow.recipientZones(c.recipient, c.timeZone ?? null)
    const key = `${c.campaignId}|${zones.join(",")}`
    let at = opening.get(key)
    if (at === undefined) {
      at = SendWindow.nextOpening(window, zones, now) ?? new Date(now.getTime() + NEVER_OPEN_RETRY_MS)
      opening.set(key, at)
    }
    if (at.getTime() <= now.getTime()) {
      open.push(c)
      continue
    }
    const deferred = ContactState.transition(c.progress, { _tag: "Deferred", until: at }, now)
    if (Result.isSuccess(deferred)) deferrals.push({ id: c.id, progress: deferred.success })
  }
  return { open, deferrals }
}

/**
 * Decide a claim. Candidates come in due order; a recipient appearing twice is planned once (the later
 * contacts stay due and meet the pair limit next time). Candidates outside their campaign's send window
 * (`request.sendWindows`, by campaign id) are deferred ({@link deferClosed}) and use no limit.
 */
export const decideClaims = (
  due: ReadonlyArray<Candidate>,
  snapshot: QuotaSnapshot,
  account: Account,
  request: {
    readonly limit: number
    readonly leaseMs: number
    readonly now: Date
    readonly horizonMs?: number
    readonly sendWindows?: ReadonlyMap<string, SendWindow.SendWindow>
  }
): ClaimDecision => {
  const { open: candidates, deferrals } = deferClosed(due, request.sendWindows, request.now)
  const paces = snapshot.campaignPaces ?? new Map<string, Quota.GroupPace>()
  const groupOf = new Map<string, string>()
  if (paces.size > 0) {
    // A recipient in two campaigns is planned once, for its first candidate (below): pace it by that campaign.
    for (const c of candidates) if (!groupOf.has(c.recipient)) groupOf.set(c.recipient, c.campaignId)
    for (const [recipient, campaignId] of groupOf) if (!paces.has(campaignId)) groupOf.delete(recipient)
  }
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
    ...(request.horizonMs === undefined ? {} : { horizonMs: request.horizonMs }),
    ...(groupOf.size === 0 ? {} : { groups: { groupOf, paces } })
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
    nextCapacity: plan.nextCapacity,
    campaignNextFreeAt: plan.groupNextFreeAt,
    deferrals
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
