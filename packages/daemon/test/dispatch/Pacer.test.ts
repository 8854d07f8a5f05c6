// The pacer is the last guard before a send leaves: whatever order and bunching sends arrive in, no window of
// `windowMs` (+ margin) ever lets more than `limit` of them through, and none waits longer than it must.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import * as Dispatcher from "../../src/dispatch/Dispatcher.ts"
import * as Pacer from "../../src/dispatch/Pacer.ts"

/** Runs `arrivals` (ms offsets at which sends ask to leave) through a pacer on the test clock; returns departure times. */
const departures = (limit: number, windowMs: number, marginMs: number, arrivals: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const pacer = Pacer.make(limit, windowMs, marginMs)
    const left: Array<number> = []
    const fibers = yield* Effect.forEach(arrivals, (at) =>
      Effect.forkChild(Effect.gen(function*() {
        yield* Effect.sleep(at)
        yield* pacer.admit
        left.push(yield* Clock.currentTimeMillis)
      })))
    const end = Math.max(0, ...arrivals) + (arrivals.length / limit + 2) * (windowMs + marginMs)
    for (let t = 0; t <= end && left.length < arrivals.length; t++) yield* TestClock.adjust(1)
    yield* Fiber.joinAll(fibers)
    return left.sort((a, b) => a - b)
  })

describe("Pacer", () => {
  it.effect("never lets more than `limit` sends leave in any window, however they arrive", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: 8 }),
            fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 40 }),
            (limit, arrivals) =>
              Effect.runPromise(Effect.gen(function*() {
                const left = yield* departures(limit, 100, 5, arrivals)
                expect(left).toHaveLength(arrivals.length)
                // Any `limit + 1` consecutive departures span more than the window.
                for (let i = limit; i < left.length; i++) expect((left[i] ?? 0) - (left[i - limit] ?? 0)).toBeGreaterThanOrEqual(105)
              }).pipe(Effect.provide(TestClock.layer())))
          ),
          { numRuns: 60 }
        ))
    }))

  it.effect("lets sends through at once while the window has room", () =>
    Effect.gen(function*() {
      const left = yield* departures(3, 1_000, 10, [0, 0, 0, 0])
      expect(left).toEqual([0, 0, 0, 1_010])
    }))
})

describe("plannedMps", () => {
  it("plans slots so that a second stretched by the late and jitter allowances still holds at most the number's rate", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 0, max: 1_000 }), (mps, lateMs) => {
      const rate = Dispatcher.plannedMps({ throughputMps: mps }, lateMs)
      // Slots 1/rate apart: a window of span W holds at most floor(W × rate) + 1 of them.
      const span = (1_000 + lateMs + 25) / 1_000
      expect(Math.floor(span * rate) + 1).toBeLessThanOrEqual(Math.max(mps, 1))
      expect(rate).toBeGreaterThan(mps * 0.45)
    }))
  })

  it("plans at the operator's cap when it is below Meta's rate, and ignores a cap above it", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 1_000 }), (mps, cap) => {
      expect(Dispatcher.plannedMps({ throughputMps: mps, maxMps: cap }, 50)).toBe(Dispatcher.plannedMps({ throughputMps: Math.min(mps, cap) }, 50))
    }))
  })
})

describe("nextPace", () => {
  const pace = fc.double({ min: Dispatcher.MIN_PACE, max: 1, noNaN: true })
  const round = fc.integer({ min: 1, max: 2_000 }).chain((claimed) => fc.tuple(fc.constant(claimed), fc.integer({ min: 0, max: claimed })))

  it("stays between MIN_PACE and the full rate, whatever the rounds", () => {
    fc.assert(fc.property(pace, fc.array(round, { maxLength: 200 }), (start, rounds) => {
      const end = rounds.reduce((p, [claimed, late]) => Dispatcher.nextPace(p, claimed, late), start)
      expect(end).toBeGreaterThanOrEqual(Dispatcher.MIN_PACE)
      expect(end).toBeLessThanOrEqual(1)
    }))
  })

  it("slows down after a round with more late sends than tolerated, by at most MAX_SLOWDOWN", () => {
    fc.assert(fc.property(pace, round, (p, [claimed, late]) => {
      fc.pre(late / claimed > Dispatcher.LATE_TOLERANCE)
      const next = Dispatcher.nextPace(p, claimed, late)
      expect(next).toBeLessThanOrEqual(p)
      expect(next).toBeGreaterThanOrEqual(Math.max(Dispatcher.MIN_PACE, p * (1 - Dispatcher.MAX_SLOWDOWN)) - 1e-12)
    }))
  })

  it("speeds up after rounds sent on time: fast during the slow start, by PACE_STEP once it has had to fall", () => {
    // The slow start: the full rate after four rounds on time.
    const started = [1, 2, 3, 4].reduce((q) => Dispatcher.nextPace(q, 500, 0, true), Dispatcher.START_PACE)
    expect(started).toBe(1)
    // After a fall it climbs back step by step, settling near what the machine can send.
    fc.assert(fc.property(pace, (p) => {
      expect(Dispatcher.nextPace(p, 500, 0)).toBeCloseTo(Math.min(1, p + Dispatcher.PACE_STEP))
      expect(Dispatcher.nextPace(p, 500, 0, true)).toBeGreaterThanOrEqual(Dispatcher.nextPace(p, 500, 0) - 1e-12)
    }))
    // An empty round (nothing due) says nothing about keeping up.
    expect(Dispatcher.nextPace(0.5, 0, 0)).toBe(0.5)
    // A few late sends within the tolerance neither slow down nor speed up.
    expect(Dispatcher.nextPace(0.5, 1_000, 5)).toBe(0.5)
  })
})

describe("claimAhead", () => {
  it("plans the first slot about twice a claim's time ahead: up at once after a slow claim, down gradually, capped", () => {
    expect(Dispatcher.claimAhead(0, 0)).toBe(0)
    // A slow claim (120 ms): the next first slot 240 ms ahead at once.
    expect(Dispatcher.claimAhead(0, 120)).toBe(240)
    // Fast claims again: a fifth of the way down per claim, not all at once.
    expect(Dispatcher.claimAhead(240, 10)).toBeCloseTo(0.8 * 240 + 0.2 * 20)
    expect(Dispatcher.claimAhead(0, 10_000)).toBe(Dispatcher.MAX_CLAIM_AHEAD_MS)
    fc.assert(fc.property(fc.double({ min: 0, max: 500, noNaN: true }), fc.double({ min: 0, max: 60_000, noNaN: true }), (ahead, took) => {
      const next = Dispatcher.claimAhead(ahead, took)
      expect(next).toBeGreaterThanOrEqual(Math.min(Dispatcher.MAX_CLAIM_AHEAD_MS, 2 * took))
      expect(next).toBeLessThanOrEqual(Dispatcher.MAX_CLAIM_AHEAD_MS)
    }))
  })
})
