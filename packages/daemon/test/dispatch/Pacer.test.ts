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

  it("slows down after a round with more late sends than tolerated, at most by half", () => {
    fc.assert(fc.property(pace, round, (p, [claimed, late]) => {
      fc.pre(late / claimed > Dispatcher.LATE_TOLERANCE)
      const next = Dispatcher.nextPace(p, claimed, late)
      expect(next).toBeLessThanOrEqual(p)
      expect(next).toBeGreaterThanOrEqual(Math.max(Dispatcher.MIN_PACE, p / 2))
    }))
  })

  it("speeds up step by step after rounds sent on time, back to the full rate", () => {
    let p = Dispatcher.MIN_PACE
    let rounds = 0
    while (p < 1) {
      const next = Dispatcher.nextPace(p, 500, 0)
      expect(next).toBeGreaterThan(p)
      p = next
      rounds++
    }
    expect(rounds).toBe(Math.ceil((1 - Dispatcher.MIN_PACE) / Dispatcher.PACE_STEP))
    // An empty round (nothing due) says nothing about keeping up.
    expect(Dispatcher.nextPace(0.5, 0, 0)).toBe(0.5)
    // A few late sends within the tolerance neither slow down nor speed up.
    expect(Dispatcher.nextPace(0.5, 1_000, 5)).toBe(0.5)
  })
})
