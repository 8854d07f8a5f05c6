import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as ContactState from "../src/ContactState.ts"
import type { ContactEvent, ContactProgress, DeliveryStatus } from "../src/ContactState.ts"
import type { ClassifiedError } from "../src/ErrorClass.ts"
import * as RetryPolicy from "../src/RetryPolicy.ts"
import { classifiedError, instant } from "./arbitraries.ts"

const t0 = new Date("2026-11-26T10:00:00Z")
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000)
const undeliverable: ClassifiedError = { errorClass: "recipient", scope: "contact", code: "131026", text: "Message undeliverable" }
const somethingWrong: ClassifiedError = { errorClass: "transient", scope: "contact", code: "131000", text: "Something went wrong" }

const ok = (row: ContactProgress, event: ContactEvent, now = t0): ContactProgress => {
  const next = ContactState.transition(row, event, now)
  if (Result.isFailure(next)) throw new Error(`unexpected ${next.failure.reason}`)
  return next.success
}
const refused = (row: ContactProgress, event: ContactEvent, now = t0) => {
  const next = ContactState.transition(row, event, now)
  if (Result.isSuccess(next)) throw new Error("expected the transition to be refused")
  return next.failure
}
const claimed = (now = t0) => ok(ContactState.initial(now), { _tag: "Claimed", leaseExpiresAt: at(60) }, now)
const status = (s: DeliveryStatus, seconds: number): ContactEvent => ({ _tag: "StatusReported", status: s, at: at(seconds), wamid: "wamid.A" })

describe("the ten states", () => {
  it("are exactly SPEC §5's ids, each with an English and the seed's Czech label", () => {
    expect(ContactState.states).toEqual([
      "initial", "in_progress", "sent", "delivered", "read", "retry_scheduled", "error", "invalid_record", "sending_failed", "cancelled"
    ])
    expect(ContactState.labels.retry_scheduled.cs).toBe("Naplánováno opakování")
    expect(ContactState.labels.cancelled.cs).toBe("Zrušeno administrátorem")
    expect(ContactState.labels.sending_failed.cs).toBe("Odesílání se nezdařilo")
    for (const s of ContactState.states) expect(ContactState.meanings[s].length).toBeGreaterThan(0)
  })
})

describe("one contact's journey", () => {
  it("initial → in_progress → sent → delivered → read, with timestamps per state", () => {
    const row = ContactState.applyAll(claimed(), [
      { _tag: "Accepted", wamid: "wamid.A", waId: "420601123456" },
      status("sent", 2),
      status("delivered", 5),
      status("read", 9)
    ], at(10))
    expect(row.state).toBe("read")
    expect(row.attempts).toBe(1)
    expect(row.wamid).toBe("wamid.A")
    expect(row.waId).toBe("420601123456")
    expect(row.stateTimes).toEqual({ initial: t0, in_progress: t0, sent: at(10), delivered: at(5), read: at(9) })
  })

  it("a sent webhook proves the send when the wamid was never stored (crash after Meta accepted)", () => {
    const row = ok(claimed(), status("sent", 3))
    expect(row.state).toBe("sent")
    expect(row.wamid).toBe("wamid.A")
    expect(row.leaseExpiresAt).toBeNull()
  })

  it("a late delivered never overwrites read, but its timestamp is kept", () => {
    const read = ok(ok(claimed(), status("sent", 1)), status("read", 5))
    const late = ok(read, status("delivered", 4))
    expect(late.state).toBe("read")
    expect(late.stateTimes.delivered).toEqual(at(4))
  })

  it("a transient failure schedules a retry; the third gives up as error", () => {
    let row = claimed()
    for (let attempt = 1; attempt <= 3; attempt++) {
      const decision = RetryPolicy.decide(RetryPolicy.defaultPolicy, { attempts: row.attempts, throttledAttempts: 0, error: somethingWrong, now: t0, random: 0 })
      row = ok(row, { _tag: "AttemptFailed", error: somethingWrong, decision })
      if (attempt < 3) {
        expect(row.state).toBe("retry_scheduled")
        expect(row.nextAttemptAt).toEqual(t0)
        row = ok(row, { _tag: "Claimed", leaseExpiresAt: at(60) })
      }
    }
    expect(row.state).toBe("error")
    expect(row.attempts).toBe(3)
    expect(row.lastError).toEqual({ code: "131000", text: "Something went wrong", errorClass: "transient" })
  })

  it("a retry is not claimed before it is due", () => {
    const row = ok(claimed(), { _tag: "AttemptFailed", error: somethingWrong, decision: { _tag: "RetryAt", at: at(30), countsAsAttempt: true } })
    expect(refused(row, { _tag: "Claimed", leaseExpiresAt: at(90) }, at(29)).reason).toMatch(/not due until/)
    expect(ok(row, { _tag: "Claimed", leaseExpiresAt: at(90) }, at(30)).attempts).toBe(2)
  })

  it("a rate limit refunds the attempt; the try still gets its own number", () => {
    const limited: ClassifiedError = { errorClass: "rate_limited", scope: "phone_number", code: "130429", text: "Rate limit hit" }
    const row = ok(claimed(), { _tag: "AttemptFailed", error: limited, decision: { _tag: "RetryAt", at: at(2), countsAsAttempt: false } })
    expect(row).toMatchObject({ state: "retry_scheduled", attempts: 0, throttledAttempts: 1 })
    const again = ok(row, { _tag: "Claimed", leaseExpiresAt: at(60) }, at(2))
    expect(ContactState.attemptNumber(again)).toBe(2)
  })

  it("a recipient error is final: sending_failed", () => {
    const row = ok(claimed(), { _tag: "AttemptFailed", error: undeliverable, decision: { _tag: "GiveUp", reason: "final_for_contact" } })
    expect(row.state).toBe("sending_failed")
  })

  it("a template problem releases the contact unsent, with the attempt refunded", () => {
    const paused: ClassifiedError = { errorClass: "template", scope: "template", code: "132015", text: "Template paused" }
    const row = ok(claimed(), { _tag: "AttemptFailed", error: paused, decision: { _tag: "Release" } })
    expect(row).toMatchObject({ state: "retry_scheduled", attempts: 0, nextAttemptAt: t0 })
    expect(ok(claimed(), { _tag: "Released" })).toMatchObject({ state: "initial", attempts: 0 })
  })

  it("a lease that expired leaves the outcome unknown; a late webhook still wins", () => {
    const row = claimed()
    expect(refused(row, { _tag: "LeaseExpired", decision: { _tag: "Release" } }, at(59)).reason).toMatch(/lease holds/)
    const expired = ok(row, { _tag: "LeaseExpired", decision: RetryPolicy.decideUnknownOutcome(RetryPolicy.defaultPolicy, 1, at(60)) }, at(60))
    expect(expired.state).toBe("retry_scheduled")
    expect(expired.lastError?.code).toBe("outcome_unknown")
    const proven = ok(expired, status("sent", 61))
    expect(proven.state).toBe("sent")
    expect(proven.nextAttemptAt).toBeNull()
    expect(refused(proven, { _tag: "Claimed", leaseExpiresAt: at(200) }, at(200)).reason).toMatch(/only initial/)
  })

  it("a failure webhook after sent is real (131026); after delivered it is refused", () => {
    const sent = ok(claimed(), status("sent", 1))
    const failed = ok(sent, { _tag: "FailureReported", error: undeliverable, at: at(3), wamid: "wamid.A" })
    expect(failed.state).toBe("sending_failed")
    expect(ok(failed, { _tag: "FailureReported", error: undeliverable, at: at(4), wamid: "wamid.A" })).toBe(failed)
    const delivered = ok(sent, status("delivered", 2))
    expect(refused(delivered, { _tag: "FailureReported", error: undeliverable, at: at(3), wamid: "wamid.A" }).reason).toMatch(/cannot be real/)
  })

  it("stop cancels what is not yet sent and leaves the rest alone; a late acceptance still counts", () => {
    expect(ok(ContactState.initial(t0), { _tag: "Cancelled" }).state).toBe("cancelled")
    const sent = ok(claimed(), status("sent", 1))
    expect(ok(sent, { _tag: "Cancelled" })).toBe(sent)
    const cancelledInFlight = ok(claimed(), { _tag: "Cancelled" })
    expect(ok(cancelledInFlight, { _tag: "Accepted", wamid: "wamid.B", waId: null }).state).toBe("sent")
    expect(refused(cancelledInFlight, { _tag: "AttemptFailed", error: somethingWrong, decision: { _tag: "Release" } }).reason).toMatch(/after the contact left/)
  })

  it("an opt-out settles a waiting contact as invalid_record; a send in flight or a settled contact is left alone", () => {
    const reason = "The recipient replied STOP."
    expect(ok(ContactState.initial(t0), { _tag: "OptedOut", reason }, at(5))).toMatchObject({
      state: "invalid_record", lastError: { code: "opted_out", text: reason }, nextAttemptAt: null
    })
    const retry = ok(claimed(), { _tag: "AttemptFailed", error: somethingWrong, decision: { _tag: "RetryAt", at: at(30), countsAsAttempt: true } })
    expect(ok(retry, { _tag: "OptedOut", reason }).state).toBe("invalid_record")
    expect(refused(claimed(), { _tag: "OptedOut", reason }).reason).toMatch(/being sent/)
    const sent = ok(claimed(), status("sent", 1))
    expect(ok(sent, { _tag: "OptedOut", reason })).toBe(sent)
  })

  it("an operator's retry puts a failed contact back to initial with a new budget; nothing else is retried", () => {
    let failed = claimed()
    for (let attempt = 1; attempt <= 3; attempt++) {
      const decision = RetryPolicy.decide(RetryPolicy.defaultPolicy, { attempts: failed.attempts, throttledAttempts: 0, error: somethingWrong, now: t0, random: 0 })
      failed = ok(failed, { _tag: "AttemptFailed", error: somethingWrong, decision })
      if (failed.state === "retry_scheduled") failed = ok(failed, { _tag: "Claimed", leaseExpiresAt: at(60) })
    }
    expect(failed).toMatchObject({ state: "error", attempts: 3 })
    const retried = ok(failed, { _tag: "RetryRequested" }, at(100))
    expect(retried).toMatchObject({
      state: "initial", attempts: 0, throttledAttempts: 0, nextAttemptAt: null, leaseExpiresAt: null, wamid: null, waId: null,
      lastError: failed.lastError
    })
    expect(retried.stateTimes).toMatchObject({ initial: at(100), error: t0 })
    expect(ContactState.isDue(retried, at(100))).toBe(true)
    // A sent-then-failed message: the new send must not inherit the old wamid or its delivery times.
    const undelivered = ok(ok(claimed(), status("sent", 1)), { _tag: "FailureReported", error: undeliverable, at: at(3), wamid: "wamid.A" })
    const again = ok(undelivered, { _tag: "RetryRequested" }, at(100))
    expect(again).toMatchObject({ state: "initial", wamid: null, lastError: { code: "131026" } })
    expect(again.stateTimes.sent).toBeUndefined()
    const resent = ok(ok(again, { _tag: "Claimed", leaseExpiresAt: at(200) }, at(150)), { _tag: "Accepted", wamid: "wamid.B", waId: null }, at(151))
    expect(resent).toMatchObject({ state: "sent", wamid: "wamid.B", attempts: 1 })
    expect(resent.stateTimes.sent).toEqual(at(151))
    for (const other of [ContactState.initial(t0), claimed(), ok(claimed(), status("read", 1)), ok(claimed(), { _tag: "Cancelled" }),
      ContactState.invalidRecord(t0, { code: "invalid_phone", text: "x" })]) {
      expect(refused(other, { _tag: "RetryRequested" }).reason).toMatch(/only error and sending_failed/)
    }
  })

  it("refuses what cannot happen, with the reason", () => {
    const fresh = ContactState.initial(t0)
    expect(refused(fresh, { _tag: "Accepted", wamid: "w", waId: null }).reason).toMatch(/never claimed/)
    expect(refused(fresh, { _tag: "Released" }).reason).toMatch(/only an in_progress/)
    expect(refused(fresh, { _tag: "LeaseExpired", decision: { _tag: "Release" } }).reason).toMatch(/holds a lease/)
    const accepted = ok(claimed(), { _tag: "Accepted", wamid: "wamid.A", waId: null })
    expect(ok(accepted, { _tag: "Accepted", wamid: "wamid.A", waId: null })).toEqual(accepted)
    expect(refused(accepted, { _tag: "Accepted", wamid: "wamid.Z", waId: null }).reason).toMatch(/duplicate send/)
  })

  it("an invalid record keeps its reason and is never claimed", () => {
    const row = ContactState.invalidRecord(t0, { code: "invalid_phone", text: "not a number" })
    expect(row.state).toBe("invalid_record")
    expect(ContactState.isDue(row, t0)).toBe(false)
    expect(ContactState.isSettled("invalid_record")).toBe(true)
  })
})

// --- properties -------------------------------------------------------------------------------------------

/** Webhook sequences Meta can legitimately produce for one message, in order, with rising timestamps. */
const webhookSequence: fc.Arbitrary<ReadonlyArray<ContactEvent>> = fc.tuple(
  fc.constantFrom<ReadonlyArray<"sent" | "delivered" | "read" | "failed">>(["sent"], ["sent", "delivered"], ["sent", "delivered", "read"], ["sent", "failed"], ["failed"]),
  fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 3, maxLength: 3 })
).map(([kinds, gaps]) => {
  let seconds = 0
  return kinds.map((kind, i): ContactEvent => {
    seconds += gaps[i] ?? 1
    return kind === "failed"
      ? { _tag: "FailureReported", error: undeliverable, at: at(seconds), wamid: "wamid.A" }
      : status(kind, seconds)
  })
})

/** A permutation of the events with any of them repeated. */
const shuffledWithDuplicates = (events: ReadonlyArray<ContactEvent>) =>
  fc.tuple(fc.array(fc.nat(events.length - 1), { maxLength: 6 }), fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })))
    .map(([repeats, keys]) => {
      const all = [...events, ...repeats.map((i) => events[i]!)]
      const order = [...keys.take(all.length)]
      return all.map((e, i) => ({ e, k: order[i] ?? 0 })).sort((a, b) => a.k - b.k).map(({ e }) => e)
    })

/** Rows a webhook can meet: just claimed, accepted, lease expired, cancelled mid-flight. */
const startingRow: fc.Arbitrary<ContactProgress> = fc.constantFrom(
  claimed(),
  ok(claimed(), { _tag: "Accepted", wamid: "wamid.A", waId: "420601123456" }),
  ok(claimed(), { _tag: "LeaseExpired", decision: { _tag: "RetryAt", at: at(200), countsAsAttempt: true } }, at(60)),
  ok(claimed(), { _tag: "Cancelled" })
)

/** Any event at all, valid or not for the row it meets. */
const anyEvent: fc.Arbitrary<ContactEvent> = fc.oneof(
  instant.map((leaseExpiresAt): ContactEvent => ({ _tag: "Claimed", leaseExpiresAt })),
  fc.constantFrom("wamid.A", "wamid.B").map((wamid): ContactEvent => ({ _tag: "Accepted", wamid, waId: null })),
  fc.tuple(classifiedError, fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(4)).map(([error, random, attempts]): ContactEvent => ({
    _tag: "AttemptFailed", error, decision: RetryPolicy.decide(RetryPolicy.defaultPolicy, { attempts, throttledAttempts: 0, error, now: t0, random })
  })),
  fc.constantFrom<ContactEvent>({ _tag: "LeaseExpired", decision: { _tag: "RetryAt", at: t0, countsAsAttempt: true } }, { _tag: "Released" }, { _tag: "Cancelled" }, { _tag: "OptedOut", reason: "STOP" }, { _tag: "RetryRequested" }),
  fc.tuple(fc.constantFrom<DeliveryStatus>("sent", "delivered", "read"), fc.nat(1000)).map(([s, seconds]) => status(s, seconds)),
  fc.tuple(classifiedError, fc.nat(1000)).map(([error, seconds]): ContactEvent => ({ _tag: "FailureReported", error, at: at(seconds), wamid: "wamid.A" }))
)

describe("properties", () => {
  it("any permutation or duplication of a message's webhooks ends in the same row as the in-order sequence", () => {
    fc.assert(fc.property(
      startingRow,
      webhookSequence.chain((events) => fc.tuple(fc.constant(events), shuffledWithDuplicates(events))),
      (row, [inOrder, shuffled]) => {
        expect(ContactState.applyAll(row, shuffled, at(5000))).toEqual(ContactState.applyAll(row, inOrder, at(5000)))
      }
    ), { numRuns: 500 })
  })

  it("the state never moves backwards, and a settled contact never waits for a send again — except by an operator's retry", () => {
    fc.assert(fc.property(fc.array(anyEvent, { maxLength: 25 }), (events) => {
      let row = ContactState.initial(t0)
      for (const event of events) {
        const next = ContactState.transition(row, event, at(3600))
        if (Result.isFailure(next)) continue
        if (event._tag === "RetryRequested") {
          // The one operator-driven move back: only from error or sending_failed, only to initial, with a new budget.
          expect(ContactState.isRetryable(row.state)).toBe(true)
          expect(next.success).toMatchObject({ state: "initial", attempts: 0, throttledAttempts: 0, wamid: null })
        } else {
          expect(ContactState.rank(next.success.state)).toBeGreaterThanOrEqual(ContactState.rank(row.state))
          if (ContactState.isSettled(row.state)) expect(ContactState.isPending(next.success.state)).toBe(false)
        }
        row = next.success
      }
    }), { numRuns: 1000 })
  })

  it("a retry applies to error and sending_failed contacts only, and every other state refuses it unchanged", () => {
    fc.assert(fc.property(fc.array(anyEvent, { maxLength: 25 }), (events) => {
      const row = ContactState.applyAll(ContactState.initial(t0), events, at(3600))
      const next = ContactState.transition(row, { _tag: "RetryRequested" }, at(4000))
      expect(Result.isSuccess(next)).toBe(row.state === "error" || row.state === "sending_failed")
    }), { numRuns: 500 })
  })

  it("attempts never exceed the maximum when every failure is decided by the retry policy", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.tuple(classifiedError, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), { maxLength: 30 }),
      (maxAttempts, failures) => {
        const policy = { ...RetryPolicy.defaultPolicy, maxAttempts }
        let row = ContactState.initial(t0)
        let now = t0
        for (const [error, random, expire] of failures) {
          if (!ContactState.isDue(row, now)) now = row.nextAttemptAt ?? now
          const claim = ContactState.transition(row, { _tag: "Claimed", leaseExpiresAt: now }, now)
          if (Result.isFailure(claim)) break
          row = claim.success
          const decision = expire
            ? RetryPolicy.decideUnknownOutcome(policy, row.attempts, now)
            : RetryPolicy.decide(policy, { attempts: row.attempts, throttledAttempts: row.throttledAttempts, error, now, random })
          row = ok(row, expire ? { _tag: "LeaseExpired", decision } : { _tag: "AttemptFailed", error, decision }, now)
          expect(row.attempts).toBeLessThanOrEqual(maxAttempts)
        }
        expect(row.attempts).toBeLessThanOrEqual(maxAttempts)
      }
    ), { numRuns: 500 })
  })
})
