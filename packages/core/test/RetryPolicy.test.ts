import { Effect, Random } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as ErrorClass from "../src/ErrorClass.ts"
import type { ClassifiedError } from "../src/ErrorClass.ts"
import * as RetryPolicy from "../src/RetryPolicy.ts"
import { classifiedError, instant } from "./arbitraries.ts"

const now = new Date("2026-11-26T10:00:00Z")
const transient: ClassifiedError = { errorClass: "transient", scope: "contact", code: "131000", text: "Something went wrong" }
const policy = RetryPolicy.defaultPolicy

describe("RetryPolicy.decide", () => {
  it("retries a transient error until the third attempt, then gives up (the seed's rule)", () => {
    const first = RetryPolicy.decide(policy, { attempts: 1, throttledAttempts: 0, error: transient, now, random: 0.5 })
    const second = RetryPolicy.decide(policy, { attempts: 2, throttledAttempts: 0, error: transient, now, random: 0.5 })
    const third = RetryPolicy.decide(policy, { attempts: 3, throttledAttempts: 0, error: transient, now, random: 0.5 })
    expect(first).toEqual({ _tag: "RetryAt", at: new Date(now.getTime() + 15_000), countsAsAttempt: true })
    expect(second).toEqual({ _tag: "RetryAt", at: new Date(now.getTime() + 30_000), countsAsAttempt: true })
    expect(third).toEqual({ _tag: "GiveUp", reason: "attempts_exhausted" })
  })

  it("honours a stricter per-code limit (135000: retry once)", () => {
    const once: ClassifiedError = { ...transient, code: "135000", attemptLimit: 2 }
    expect(RetryPolicy.decide(policy, { attempts: 2, throttledAttempts: 0, error: once, now, random: 0 })._tag).toBe("GiveUp")
  })

  it("never counts a rate limit as an attempt and waits at least Retry-After", () => {
    const limited: ClassifiedError = { errorClass: "rate_limited", scope: "phone_number", code: "130429", text: "Rate limit hit", retryAfterMs: 60_000 }
    expect(RetryPolicy.decide(policy, { attempts: 3, throttledAttempts: 5, error: limited, now, random: 0 })).toEqual({
      _tag: "RetryAt",
      at: new Date(now.getTime() + 60_000),
      countsAsAttempt: false
    })
  })

  it("gives up on a recipient error and releases on template, account and auth errors", () => {
    expect(RetryPolicy.decide(policy, { attempts: 1, throttledAttempts: 0, error: { ...transient, errorClass: "recipient" }, now, random: 0 }))
      .toEqual({ _tag: "GiveUp", reason: "final_for_contact" })
    for (const errorClass of ["template", "account", "auth"] as const) {
      expect(RetryPolicy.decide(policy, { attempts: 1, throttledAttempts: 0, error: { ...transient, errorClass }, now, random: 0 }))
        .toEqual({ _tag: "Release" })
    }
  })

  it("property: delays lie within [Retry-After, cap] and the same random gives the same schedule", () => {
    fc.assert(fc.property(classifiedError, fc.integer({ min: 1, max: 10 }), fc.nat(20), instant, fc.double({ min: 0, max: 1, noNaN: true }), (error, attempts, throttledAttempts, at, random) => {
      const input = { attempts, throttledAttempts, error, now: at, random }
      const decision = RetryPolicy.decide(policy, input)
      expect(RetryPolicy.decide(policy, input)).toEqual(decision)
      if (decision._tag === "RetryAt") {
        const wait = decision.at.getTime() - at.getTime()
        const grace = error.errorClass === "transient" && ErrorClass.outcomeUnknown(error) ? policy.unknownOutcomeGraceMs : 0
        expect(wait).toBeGreaterThanOrEqual(Math.max(error.retryAfterMs ?? 0, grace))
        expect(wait).toBeLessThanOrEqual(Math.max(policy.maxDelayMs, error.retryAfterMs ?? 0, grace))
      }
    }))
  })

  it("property: a send whose outcome is unknown (timeout, unreadable answer) is never resent before the grace", () => {
    fc.assert(fc.property(fc.constantFrom("timeout", "malformed_response"), fc.integer({ min: 1, max: 2 }), instant, fc.double({ min: 0, max: 1, noNaN: true }), (kind, attempts, at, random) => {
      const error = ErrorClass.classifyTransportFailure(kind, "")
      const decision = RetryPolicy.decide(policy, { attempts, throttledAttempts: 0, error, now: at, random })
      expect(decision._tag).toBe("RetryAt")
      if (decision._tag === "RetryAt") expect(decision.at.getTime() - at.getTime()).toBeGreaterThanOrEqual(policy.unknownOutcomeGraceMs)
    }))
  })

  it("property: retries stop at the limit — a counted retry is never granted at or beyond it", () => {
    fc.assert(fc.property(classifiedError, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 6 }), fc.double({ min: 0, max: 1, noNaN: true }), (error, attempts, maxAttempts, random) => {
      const decision = RetryPolicy.decide({ ...policy, maxAttempts }, { attempts, throttledAttempts: 0, error, now, random })
      if (decision._tag === "RetryAt" && decision.countsAsAttempt) {
        expect(attempts).toBeLessThan(RetryPolicy.attemptLimit({ ...policy, maxAttempts }, error))
      }
    }))
  })

  it("full jitter stays under the exponential ceiling, which is capped", () => {
    expect(RetryPolicy.backoffCeiling(1000, 10_000, 1)).toBe(1000)
    expect(RetryPolicy.backoffCeiling(1000, 10_000, 4)).toBe(8000)
    expect(RetryPolicy.backoffCeiling(1000, 10_000, 30)).toBe(10_000)
    expect(RetryPolicy.jitteredDelay(1000, 10_000, 4, 0.999)).toBeLessThan(8000)
    expect(RetryPolicy.jitteredDelay(1000, 10_000, 4, Number.NaN)).toBe(0)
    expect(RetryPolicy.jitteredDelay(1000, 10_000, 4, 7)).toBe(8000)
  })
})

describe("RetryPolicy.decideUnknownOutcome", () => {
  it("waits a grace period for a late webhook before resending", () => {
    expect(RetryPolicy.decideUnknownOutcome(policy, 1, now)).toEqual({
      _tag: "RetryAt",
      at: new Date(now.getTime() + policy.unknownOutcomeGraceMs),
      countsAsAttempt: true
    })
  })
  it("gives up when the attempts are used, and holds for review when configured", () => {
    expect(RetryPolicy.decideUnknownOutcome(policy, 3, now)).toEqual({ _tag: "GiveUp", reason: "attempts_exhausted" })
    expect(RetryPolicy.decideUnknownOutcome({ ...policy, onUnknownOutcome: "hold" }, 1, now)).toEqual({ _tag: "GiveUp", reason: "held_for_review" })
  })
})

describe("RetryPolicy.decideWithRandom", () => {
  const schedule = (seed: number) =>
    Effect.runSync(Effect.forEach([1, 2], (attempts) =>
      RetryPolicy.decideWithRandom(policy, { attempts, throttledAttempts: 0, error: transient, now })).pipe(Random.withSeed(seed)))

  it("is deterministic under a seeded Random, and different seeds spread the retries", () => {
    expect(schedule(42)).toEqual(schedule(42))
    expect(schedule(42)).not.toEqual(schedule(7))
    for (const decision of schedule(42)) expect(decision._tag).toBe("RetryAt")
  })
})
