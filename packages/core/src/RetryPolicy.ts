/**
 * What happens after a failed send: retry when, give up, or hand the contact back untouched.
 *
 * Backoff is exponential with full jitter (delay = random × min(cap, base × 2^(n−1))), so daemons that
 * failed together do not retry together. Randomness comes in as a number in [0, 1): the caller draws it
 * from Effect's Random (seeded in tests), which keeps every schedule reproducible.
 */
import { Effect, Random } from "effect"
import { type ClassifiedError, outcomeUnknown } from "./ErrorClass.ts"

/** How many times a contact is tried and how long to wait between tries. */
export interface RetryPolicy {
  /** Attempts that count (rate-limited tries do not); the seed's rule is 3, then the contact is `error`. */
  readonly maxAttempts: number
  /** Backoff ceiling for the first retry. */
  readonly baseDelayMs: number
  /** No single wait is longer than this. */
  readonly maxDelayMs: number
  /** Backoff ceiling for the first rate-limited retry (these grow separately and never use up attempts). */
  readonly rateLimitedBaseDelayMs: number
  /** After a lease expired with the outcome unknown, wait this long for a late webhook before resending. */
  readonly unknownOutcomeGraceMs: number
  /** After a lease expired: `retry` resends once the grace has passed, `hold` parks the contact for review. */
  readonly onUnknownOutcome: "retry" | "hold"
}

/** The defaults: 3 attempts, 30 s → 15 min backoff, 2 s for rate limits, 2 min grace for late webhooks. */
export const defaultPolicy: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 30_000,
  maxDelayMs: 15 * 60_000,
  rateLimitedBaseDelayMs: 2_000,
  unknownOutcomeGraceMs: 2 * 60_000,
  onUnknownOutcome: "retry"
}

/** What to do with a contact whose send failed. */
export type RetryDecision =
  /** Try again at `at`; `countsAsAttempt` is false for rate limits, which are not the contact's failure. */
  | { readonly _tag: "RetryAt"; readonly at: Date; readonly countsAsAttempt: boolean }
  /** No more tries: the attempts are used up, or the error is final for this contact. */
  | { readonly _tag: "GiveUp"; readonly reason: "attempts_exhausted" | "final_for_contact" | "held_for_review" }
  /** Not the contact's fault (template, account or auth problem): hand it back unsent, refund the attempt. */
  | { readonly _tag: "Release" }

/** Everything a decision depends on. `attempts` includes the attempt that just failed. */
export interface FailedAttempt {
  readonly attempts: number
  readonly throttledAttempts: number
  readonly error: ClassifiedError
  readonly now: Date
  /** A uniform random number in [0, 1). */
  readonly random: number
}

/** The exponential ceiling for the n-th retry (n ≥ 1), capped. */
export const backoffCeiling = (baseDelayMs: number, maxDelayMs: number, n: number): number =>
  Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, n - 1))

/** Full jitter: anywhere between 0 and the ceiling. */
export const jitteredDelay = (baseDelayMs: number, maxDelayMs: number, n: number, random: number): number =>
  Math.floor(clampUnit(random) * backoffCeiling(baseDelayMs, maxDelayMs, n))

/** The attempt limit that applies to this error: the policy's, or the error's own if it is stricter. */
export const attemptLimit = (policy: RetryPolicy, error: ClassifiedError): number =>
  Math.min(policy.maxAttempts, error.attemptLimit ?? Number.POSITIVE_INFINITY)

/** Decide what happens after a failed send. */
export const decide = (policy: RetryPolicy, failed: FailedAttempt): RetryDecision => {
  const { error, now } = failed
  switch (error.errorClass) {
    case "template":
    case "account":
    case "auth":
      return { _tag: "Release" }
    case "recipient":
      return { _tag: "GiveUp", reason: "final_for_contact" }
    case "rate_limited": {
      const delay = jitteredDelay(policy.rateLimitedBaseDelayMs, policy.maxDelayMs, failed.throttledAttempts + 1, failed.random)
      return { _tag: "RetryAt", at: after(now, Math.max(delay, error.retryAfterMs ?? 0)), countsAsAttempt: false }
    }
    case "transient": {
      if (failed.attempts >= attemptLimit(policy, error)) return { _tag: "GiveUp", reason: "attempts_exhausted" }
      const delay = jitteredDelay(policy.baseDelayMs, policy.maxDelayMs, failed.attempts, failed.random)
      // Meta may have the message (a timeout): resend only once its `sent` webhook had time to prove it went out.
      const grace = outcomeUnknown(error) ? policy.unknownOutcomeGraceMs : 0
      return { _tag: "RetryAt", at: after(now, Math.max(delay, error.retryAfterMs ?? 0, grace)), countsAsAttempt: true }
    }
  }
}

/** `decide` with the random number drawn from Effect's `Random` (seed it with `Random.withSeed` for a fixed schedule). */
export const decideWithRandom = (policy: RetryPolicy, failed: Omit<FailedAttempt, "random">): Effect.Effect<RetryDecision> =>
  Effect.map(Random.next, (random) => decide(policy, { ...failed, random }))

/**
 * Decide what happens after a lease expired while the contact was `in_progress`: the daemon died or hung
 * between claiming and recording the outcome, so Meta may or may not have the message. Resending is only safe
 * after a grace long enough for a `sent` webhook (matched by biz_opaque_callback_data) to prove it went out.
 */
export const decideUnknownOutcome = (policy: RetryPolicy, attempts: number, now: Date): RetryDecision => {
  if (policy.onUnknownOutcome === "hold") return { _tag: "GiveUp", reason: "held_for_review" }
  if (attempts >= policy.maxAttempts) return { _tag: "GiveUp", reason: "attempts_exhausted" }
  return { _tag: "RetryAt", at: after(now, policy.unknownOutcomeGraceMs), countsAsAttempt: true }
}

const after = (now: Date, ms: number): Date => new Date(now.getTime() + ms)

// A caller's broken random source must not produce negative or oversized waits.
const clampUnit = (x: number): number => (Number.isFinite(x) ? Math.min(Math.max(x, 0), 1) : 0)
