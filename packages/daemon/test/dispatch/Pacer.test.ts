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
