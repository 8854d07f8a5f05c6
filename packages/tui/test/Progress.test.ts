// Rates, sparklines, ETAs and the stacked bar's cells, from plain samples.
import { Campaign, ContactState } from "@megaphone/core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Progress from "../src/Progress.ts"

describe("Progress", () => {
  it("measures settled contacts per second over a window, and restarts after a drop", () => {
    let history: ReadonlyArray<Progress.Sample> = []
    for (let i = 0; i <= 20; i++) history = Progress.record(history, { at: i * 1000, settled: i * 12 })
    expect(Progress.rate(history, 10_000)).toBe(12)
    expect(Progress.rates(history).slice(-3)).toEqual([12, 12, 12])
    expect(Progress.record(history, { at: 20_000, settled: 999 })).toBe(history)
    expect(Progress.record(history, { at: 21_000, settled: 5 })).toEqual([{ at: 21_000, settled: 5 }])
    expect(Progress.record(history, { at: 90_000, settled: 300 }).map((s) => s.at)).toEqual([90_000])
  })

  it("draws sparklines scaled to their maximum, and ETAs", () => {
    expect(Progress.sparkline([0, 1, 2, 4], 6)).toBe("  ▁▃▅█")
    expect(Progress.sparkline([0, 0], 3)).toBe(" ▁▁")
    expect(Progress.etaSeconds(100, 20)).toBe(5)
    expect(Progress.etaSeconds(100, 0)).toBeUndefined()
    expect(Progress.etaSeconds(0, 0)).toBe(0)
    expect([45, 723, 11_045, 200_000].map(Progress.duration)).toEqual(["0:45", "12:03", "3:04:05", "2d 7h"])
    expect([0, 12.34, 250, 1234].map(Progress.perSecond)).toEqual(["0.0/s", "12.3/s", "250/s", "1.2k/s"])
  })

  it("splits the bar's cells among the states in proportion, adding up to the width exactly", () => {
    const counts = fc.record(Object.fromEntries(ContactState.states.map((s) => [s, fc.nat(10_000)])) as Record<ContactState.ContactStateId, fc.Arbitrary<number>>)
    fc.assert(fc.property(counts, fc.integer({ min: 1, max: 200 }), (c, width) => {
      const segments = Progress.segments(c, width)
      const total = Campaign.totalContacts(c)
      expect(segments.reduce((n, s) => n + s.cells, 0)).toBe(total === 0 ? 0 : width)
      for (const s of segments) expect(Math.abs(s.cells - (c[s.state] * width) / total)).toBeLessThan(1 + 1e-9)
    }))
  })
})
