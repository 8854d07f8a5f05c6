import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Schedule from "../src/Schedule.ts"

const PRAGUE = "Europe/Prague"
const parsed = (input: string, zone = PRAGUE): string => {
  const r = Schedule.parseTime(input, zone)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success.at.toISOString()
}
const refused = (input: string, zone = PRAGUE): string => {
  const r = Schedule.parseTime(input, zone)
  if (Result.isSuccess(r)) throw new Error(`expected a refusal, got ${r.success.at.toISOString()}`)
  return r.failure.message
}

describe("scheduled start times", () => {
  it("reads offsets, Z and bracketed zones as written, and a bare wall time in the default zone", () => {
    expect(parsed("2026-12-01T09:00+01:00")).toBe("2026-12-01T08:00:00.000Z")
    expect(parsed("2026-12-01T09:00:30-0530")).toBe("2026-12-01T14:30:30.000Z")
    expect(parsed("2026-12-01T08:00Z")).toBe("2026-12-01T08:00:00.000Z")
    expect(parsed("2026-12-01T09:00")).toBe("2026-12-01T08:00:00.000Z")
    expect(parsed("2026-07-01 09:00")).toBe("2026-07-01T07:00:00.000Z")
    expect(parsed("2026-12-01T09:00[America/New_York]")).toBe("2026-12-01T14:00:00.000Z")
    expect(parsed("2026-12-01T09:00", "UTC")).toBe("2026-12-01T09:00:00.000Z")
  })

  it("says what is wrong and how to write it", () => {
    expect(refused("tomorrow 9am")).toMatch(/is not a date and time\. Write it as 2026-12-01T09:00/)
    expect(refused("2026-02-30T09:00")).toMatch(/not a real date and time/)
    expect(refused("2026-12-01T24:00")).toMatch(/hours 00–23/)
    expect(refused("2026-12-01T09:00+15:00")).toMatch(/not a UTC offset/)
    expect(refused("2026-12-01T09:00[Mars/Olympus]")).toMatch(/Mars\/Olympus is not a time zone/)
    expect(refused("2026-12-01T09:00", "Nowhere/Town")).toMatch(/Set MEGAPHONE_TIME_ZONE to an IANA name/)
    expect(refused("2026-12-01T09:00+01:00[Europe/Prague]")).toMatch(/both an offset and a zone/)
  })

  it("refuses the hour the clocks skip in spring, and the hour they repeat in autumn, with the offsets that say it", () => {
    expect(refused("2026-03-29T02:30")).toBe(
      "2026-03-29T02:30 does not exist in Europe/Prague: the clocks skip that hour (from +01:00 to +02:00). " +
        "Choose a time outside the skipped hour, or give an offset, e.g. 2026-03-29T02:30+01:00."
    )
    expect(refused("2026-10-25T02:30")).toBe(
      "2026-10-25T02:30 happens twice in Europe/Prague: the clocks go back an hour then. Say which with its offset: " +
        "2026-10-25T02:30+02:00 (the first) or 2026-10-25T02:30+01:00 (the second)."
    )
    expect(parsed("2026-10-25T02:30+02:00")).toBe("2026-10-25T00:30:00.000Z")
    expect(parsed("2026-10-25T02:30+01:00")).toBe("2026-10-25T01:30:00.000Z")
    // Either side of the changes the wall time is unique.
    expect(parsed("2026-03-29T01:59")).toBe("2026-03-29T00:59:00.000Z")
    expect(parsed("2026-03-29T03:00")).toBe("2026-03-29T01:00:00.000Z")
    expect(parsed("2026-10-25T03:00")).toBe("2026-10-25T02:00:00.000Z")
  })

  it("property: every instant's wall time in Prague reads back to that instant, unless the wall time repeats", () => {
    const minute = fc.integer({ min: 0, max: 3 * 365 * 24 * 60 }).map((m) => new Date(Date.UTC(2026, 0, 1) + m * 60_000))
    fc.assert(fc.property(minute, (at) => {
      const text = Schedule.formatWallTime(at, PRAGUE).replace(" ", "T")
      const r = Schedule.parseTime(text, PRAGUE)
      if (Result.isSuccess(r)) expect(r.success.at).toEqual(at)
      else expect(r.failure.message).toMatch(/happens twice/)
    }), { numRuns: 2000 })
  })
})
