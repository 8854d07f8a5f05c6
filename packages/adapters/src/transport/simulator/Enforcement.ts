/**
 * The three limits Meta enforces on a sending number (whatsapp-cloud-api.md §6), as the simulator's
 * mutable, O(1)-amortised state. Every method takes `now` (ms) from the simulator's clock.
 *
 * A send is first checked against all three, and only an accepted send is recorded in all three, so a refusal
 * by one limit never consumes another limit's budget.
 */
import { Quota } from "@megaphone/core"

const SECOND_MS = 1_000

/** Messages per second of one number in a sliding 1-second window, and the most ever seen in one. */
export class ThroughputWindow {
  private readonly times: Array<number> = []
  private head = 0
  /** The most messages observed inside any 1-second window. */
  maxObserved = 0

  private drop(now: number): void {
    while (this.head < this.times.length && (this.times[this.head] ?? 0) <= now - SECOND_MS) this.head++
    // Compact now and then, so the array does not grow with the run.
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head)
      this.head = 0
    }
  }

  /** Whether one more message fits under `mps` at `now`. */
  hasRoom(now: number, mps: number): boolean {
    this.drop(now)
    return this.times.length - this.head < mps
  }

  /** Records an accepted message. */
  record(now: number): void {
    this.drop(now)
    this.times.push(now)
    this.maxObserved = Math.max(this.maxObserved, this.times.length - this.head)
  }
}

/**
 * Meta's pair limit as a GCRA per (number, recipient): one message per `spacingMs`, with `burst` extra
 * messages allowed at once. Entries whose time has passed are equivalent to none and are swept now and then.
 */
export class PairLimiter {
  private readonly tat = new Map<string, number>()
  private writes = 0

  /** When the pair may send again, or undefined when it may send now. */
  blockedUntil(key: string, now: number, spacingMs: number, burst: number): number | undefined {
    const tat = this.tat.get(key)
    if (tat === undefined) return undefined
    const allowedAt = tat - burst * spacingMs
    return allowedAt > now ? allowedAt : undefined
  }

  /** Records an accepted message of the pair. */
  record(key: string, now: number, spacingMs: number): void {
    const tat = this.tat.get(key)
    this.tat.set(key, Math.max(tat ?? now, now) + spacingMs)
    if (++this.writes % 50_000 === 0) {
      for (const [k, t] of this.tat) if (t <= now) this.tat.delete(k)
    }
  }
}

/**
 * Unique recipients of a quota key (an account, or the portfolio it belongs to) in the rolling 24 h.
 * The Map keeps recipients in order of their latest send (re-sends move to the end), so expiry pops the head.
 */
export class MessagingWindow {
  private readonly lastSent = new Map<string, number>()

  private prune(now: number): void {
    for (const [recipient, at] of this.lastSent) {
      if (at > now - Quota.QUOTA_WINDOW_MS) break
      this.lastSent.delete(recipient)
    }
  }

  /** Unique recipients counted at `now`. */
  used(now: number): number {
    this.prune(now)
    return this.lastSent.size
  }

  /** Whether a message to `recipient` fits: recipients already counted always do, new ones while there is room. */
  admits(recipient: string, now: number, limit: Quota.MessagingLimit): boolean {
    this.prune(now)
    return this.lastSent.has(recipient) || limit === "unlimited" || this.lastSent.size < limit
  }

  /** Records an accepted message to `recipient`. */
  record(recipient: string, now: number): void {
    this.lastSent.delete(recipient)
    this.lastSent.set(recipient, now)
  }
}

/** Which limit refused a send. */
export type Refusal =
  | { readonly limit: "throughput"; readonly mps: number }
  | { readonly limit: "pair"; readonly retryAfterMs: number }
  | { readonly limit: "messaging"; readonly messagingLimit: Quota.MessagingLimit }

/** The limits of one number, checked and recorded together. */
export interface NumberLimits {
  readonly throughput: ThroughputWindow
  readonly messaging: MessagingWindow
  readonly mps: number
  readonly messagingLimit: Quota.MessagingLimit
}

/** All enforcement state of a simulator run. */
export class Enforcement {
  readonly pairs = new PairLimiter()

  readonly pairSpacingMs: number
  readonly pairBurst: number

  constructor(pairSpacingMs: number, pairBurst: number) {
    this.pairSpacingMs = pairSpacingMs
    this.pairBurst = pairBurst
  }

  /** Checks a send from `phoneNumberId` to `waId` against the three limits and records it when it fits. */
  admit(phoneNumberId: string, waId: string, limits: NumberLimits, now: number): Refusal | undefined {
    if (!limits.throughput.hasRoom(now, limits.mps)) return { limit: "throughput", mps: limits.mps }
    const pairKey = `${phoneNumberId}:${waId}`
    const until = this.pairs.blockedUntil(pairKey, now, this.pairSpacingMs, this.pairBurst)
    if (until !== undefined) return { limit: "pair", retryAfterMs: until - now }
    if (!limits.messaging.admits(waId, now, limits.messagingLimit)) {
      return { limit: "messaging", messagingLimit: limits.messagingLimit }
    }
    limits.throughput.record(now)
    this.pairs.record(pairKey, now, this.pairSpacingMs)
    limits.messaging.record(waId, now)
    return undefined
  }
}
