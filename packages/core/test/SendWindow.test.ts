import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as ContactState from "../src/ContactState.ts"
import * as SendWindow from "../src/SendWindow.ts"

const window = (text: string): SendWindow.SendWindow => {
  const r = SendWindow.parse(text)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}
const refused = (text: string): string => {
  const r = SendWindow.parse(text)
  if (Result.isSuccess(r)) throw new Error(`expected a refusal, got ${SendWindow.format(r.success)}`)
  return r.failure.message
}
const at = (iso: string) => new Date(iso)
const PRAGUE = ["Europe/Prague"]
const WEEKDAYS = window("Mon-Fri 09:00-20:00")

describe("reading a send window", () => {
  it("reads days, ranges, lists and several rules, and says them back in one spelling", () => {
    expect(SendWindow.format(WEEKDAYS)).toBe("Mon-Fri 09:00-20:00")
    expect(SendWindow.format(window("mon,wed 08:30-12:00,13:00-17:00"))).toBe("Mon,Wed 08:30-12:00,13:00-17:00")
    expect(SendWindow.format(window("Fri-Mon 10:00-24:00"))).toBe("Mon,Fri-Sun 10:00-24:00")
    expect(SendWindow.format(window("daily 9:00-12:00, 11:00-13:00"))).toBe("Mon-Sun 09:00-13:00")
    expect(SendWindow.format(window("Monday-Friday 09:00-20:00; Sat 10:00-14:00"))).toBe("Mon-Fri 09:00-20:00; Sat 10:00-14:00")
    expect(SendWindow.format(window("weekdays 09:00-17:00"))).toBe("Mon-Fri 09:00-17:00")
    expect(Result.getOrThrow(SendWindow.fromDaysAndHours("Mon-Fri", "09:00-20:00"))).toEqual(WEEKDAYS)
  })

  it("says what is wrong, where, and how to write it", () => {
    expect(refused("")).toMatch(/empty\. Write it as days and hours, e\.g\. Mon-Fri 09:00-20:00/)
    expect(refused("Mon-Fri")).toMatch(/"Mon-Fri" needs days and hours/)
    expect(refused("Mo-Fry 09:00-20:00")).toMatch(/"Fry" is not a day: use Mon, Tue/)
    expect(refused("Mon-Fri 9-20")).toMatch(/"9" in "9-20" is not a time of day: write HH:MM/)
    expect(refused("Mon-Fri 09:00-25:00")).toMatch(/"25:00" in "09:00-25:00" is not a time of day/)
    expect(refused("Mon-Fri 20:00-09:00")).toMatch(/ends before it starts.*write two rules, e\.g\. Mon-Fri 20:00-24:00; Tue-Sat 00:00-02:00/)
  })
})

describe("whether the window is open", () => {
  it("reads the hours on the recipient's clock, across daylight saving time", () => {
    // Wednesday 2 December 2026: Prague is UTC+1, New York UTC-5.
    expect(SendWindow.isOpen(WEEKDAYS, PRAGUE, at("2026-12-02T07:59:00Z"))).toBe(false)
    expect(SendWindow.isOpen(WEEKDAYS, PRAGUE, at("2026-12-02T08:00:00Z"))).toBe(true)
    expect(SendWindow.isOpen(WEEKDAYS, PRAGUE, at("2026-12-02T18:59:59Z"))).toBe(true)
    expect(SendWindow.isOpen(WEEKDAYS, PRAGUE, at("2026-12-02T19:00:00Z"))).toBe(false)
    // In July Prague is UTC+2: the same hours are an hour earlier in UTC.
    expect(SendWindow.isOpen(WEEKDAYS, PRAGUE, at("2026-07-01T07:00:00Z"))).toBe(true)
    expect(SendWindow.isOpen(WEEKDAYS, PRAGUE, at("2026-07-01T18:00:00Z"))).toBe(false)
    // Saturday in Prague.
    expect(SendWindow.isOpen(WEEKDAYS, PRAGUE, at("2026-12-05T10:00:00Z"))).toBe(false)
    // Friday 23:30 in New York is Saturday in Prague: the day is the recipient's.
    expect(SendWindow.isOpen(window("Sat 00:00-24:00"), ["America/New_York"], at("2026-12-05T04:30:00Z"))).toBe(false)
    expect(SendWindow.isOpen(window("Sat 00:00-24:00"), PRAGUE, at("2026-12-05T04:30:00Z"))).toBe(true)
  })

  it("needs every zone of a country with several open at once", () => {
    const us = SendWindow.recipientZones("12025550123", null)
    expect(us).toContain("America/New_York")
    expect(us).toContain("Pacific/Honolulu")
    // 15:00 UTC: 10:00 in New York, 05:00 in Honolulu.
    expect(SendWindow.isOpen(WEEKDAYS, us, at("2026-12-02T15:00:00Z"))).toBe(false)
    // 19:00 UTC: 14:00 in New York, 09:00 in Honolulu.
    expect(SendWindow.isOpen(WEEKDAYS, us, at("2026-12-02T19:00:00Z"))).toBe(true)
    expect(SendWindow.isOpen(WEEKDAYS, ["America/New_York"], at("2026-12-02T15:00:00Z"))).toBe(true)
  })
})

describe("the next opening", () => {
  it("is the next morning on the recipient's clock: Prague and Bratislava before a +1 number", () => {
    const closed = at("2026-12-02T19:30:00Z") // Wednesday 20:30 in Prague
    expect(SendWindow.nextOpening(WEEKDAYS, SendWindow.recipientZones("420601123456", null), closed)).toEqual(at("2026-12-03T08:00:00Z"))
    expect(SendWindow.nextOpening(WEEKDAYS, SendWindow.recipientZones("421903123456", null), closed)).toEqual(at("2026-12-03T08:00:00Z"))
    // 14:30 UTC is 09:30 in New York but 04:30 in Honolulu: the US opens when Honolulu's morning comes.
    expect(SendWindow.nextOpening(WEEKDAYS, SendWindow.recipientZones("12025550123", null), at("2026-12-02T14:30:00Z")))
      .toEqual(at("2026-12-02T19:00:00Z"))
    // A contact with a zone of its own waits only for that zone's morning.
    expect(SendWindow.nextOpening(WEEKDAYS, SendWindow.recipientZones("12025550123", "America/New_York"), closed)).toEqual(closed)
    expect(SendWindow.nextOpening(WEEKDAYS, SendWindow.recipientZones("12025550123", "America/New_York"), at("2026-12-03T01:30:00Z")))
      .toEqual(at("2026-12-03T14:00:00Z"))
    // Friday evening waits for Monday.
    expect(SendWindow.nextOpening(WEEKDAYS, PRAGUE, at("2026-12-04T19:00:00Z"))).toEqual(at("2026-12-07T08:00:00Z"))
    // Open now: now.
    expect(SendWindow.nextOpening(WEEKDAYS, PRAGUE, at("2026-12-02T10:00:00Z"))).toEqual(at("2026-12-02T10:00:00Z"))
  })

  it("opens when the clocks jump past a start time that does not exist that day", () => {
    // Sunday 29 March 2026: Prague's clocks go from 02:00 to 03:00 (01:00 UTC).
    expect(SendWindow.nextOpening(window("Sun 02:30-05:00"), PRAGUE, at("2026-03-28T12:00:00Z"))).toEqual(at("2026-03-29T01:00:00Z"))
  })

  it("is none when a country's zones are never open at once, and the wait says so", () => {
    const us = SendWindow.recipientZones("12025550123", null)
    const short = window("Mon-Fri 09:00-10:00")
    expect(SendWindow.nextOpening(short, us, at("2026-12-02T10:00:00Z"))).toBeUndefined()
    expect(SendWindow.wait(short, us, at("2026-12-02T10:00:00Z"))?.reason).toMatch(/never open in all of .* at once: give the contact a time_zone/)
    expect(SendWindow.wait(WEEKDAYS, PRAGUE, at("2026-12-02T19:30:00Z"))).toEqual({
      reason: "outside the send window Mon-Fri 09:00-20:00 (Europe/Prague)",
      nextPossibleAt: at("2026-12-03T08:00:00Z")
    })
    expect(SendWindow.wait(WEEKDAYS, PRAGUE, at("2026-12-02T10:00:00Z"))).toBeUndefined()
  })

  const zoneSets = fc.constantFrom(
    ["Europe/Prague"],
    ["America/New_York"],
    ["Australia/Lord_Howe"],
    ["Asia/Kolkata"],
    SendWindow.recipientZones("12025550123", null),
    SendWindow.recipientZones("61412345678", null)
  )
  const windows = fc.record({
    days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
    from: fc.integer({ min: 0, max: 23 * 60 }),
    length: fc.integer({ min: 30, max: 16 * 60 })
  }).map(({ days, from, length }) => {
    const to = Math.min(24 * 60, from + length)
    const pad = (n: number) => String(n).padStart(2, "0")
    const hm = (m: number) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`
    const names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return window(`${days.map((d) => names[d - 1]).join(",")} ${hm(from)}-${hm(to)}`)
  })
  const instants = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 0, 1) }).map((ms) => new Date(ms))

  it("is open, and nothing before it is (property)", () => {
    fc.assert(
      fc.property(windows, zoneSets, instants, (w, zones, from) => {
        const next = SendWindow.nextOpening(w, zones, from)
        if (next === undefined) return
        expect(next.getTime()).toBeGreaterThanOrEqual(from.getTime())
        expect(SendWindow.isOpen(w, zones, next)).toBe(true)
        // Windows open on whole minutes (or when clocks jump): every minute before is closed.
        for (let t = Math.ceil(from.getTime() / 60_000) * 60_000; t < next.getTime(); t += 60_000) {
          if (SendWindow.isOpen(w, zones, new Date(t))) throw new Error(`open at ${new Date(t).toISOString()} before ${next.toISOString()}`)
        }
      }),
      { numRuns: 40 }
    )
  })

  it("is never open outside its days and hours on the recipient's clock (property)", () => {
    fc.assert(
      fc.property(windows, fc.constantFrom("Europe/Prague", "America/New_York", "Asia/Kolkata"), instants, (w, zone, t) => {
        const local = new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
          .formatToParts(t)
        const part = (type: string) => local.find((p) => p.type === type)?.value ?? ""
        const day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(part("weekday")) + 1
        const minute = Number(part("hour")) * 60 + Number(part("minute"))
        const inside = w.rules.some((r) => r.days.includes(day as SendWindow.Weekday) && r.hours.some((h) => minute >= h.from && minute < h.to))
        expect(SendWindow.isOpen(w, [zone], t)).toBe(inside)
      }),
      { numRuns: 300 }
    )
  })

  it("reads back what it formats (property)", () => {
    fc.assert(fc.property(windows, (w) => {
      expect(window(SendWindow.format(w))).toEqual(w)
    }))
  })
})

describe("a recipient's zones", () => {
  it("come from the number's country, or the contact's own zone", () => {
    expect(SendWindow.recipientZones("420601123456", null)).toEqual(["Europe/Prague"])
    expect(SendWindow.recipientCountry("421903123456")).toBe("SK")
    expect(SendWindow.recipientCountry("14165550123")).toBe("CA")
    expect(SendWindow.recipientZones("420601123456", "America/Chicago")).toEqual(["America/Chicago"])
    expect(SendWindow.recipientZones("80012345678", null)).toEqual(["UTC"])
    expect(Result.getOrThrow(SendWindow.parseTimeZone(" Europe/Prague "))).toBe("Europe/Prague")
    expect(Result.getOrThrow(SendWindow.parseTimeZone(""))).toBeNull()
    expect(Result.isFailure(SendWindow.parseTimeZone("Europe/Pragu"))).toBe(true)
  })
})

describe("waiting for the window in the state machine", () => {
  const T0 = at("2026-12-02T19:30:00Z")
  const morning = at("2026-12-03T08:00:00Z")
  it("defers a waiting contact without an attempt, and it is not due until then", () => {
    const deferred = Result.getOrThrow(ContactState.transition(ContactState.initial(T0), { _tag: "Deferred", until: morning }, T0))
    expect(deferred).toMatchObject({ state: "initial", attempts: 0, nextAttemptAt: morning })
    expect(ContactState.isDue(deferred, T0)).toBe(false)
    expect(ContactState.isDue(deferred, morning)).toBe(true)
    expect(Result.isFailure(ContactState.transition(deferred, { _tag: "Claimed", leaseExpiresAt: morning }, T0))).toBe(true)
    const claimed = Result.getOrThrow(ContactState.transition(deferred, { _tag: "Claimed", leaseExpiresAt: morning }, morning))
    expect(claimed).toMatchObject({ state: "in_progress", attempts: 1, nextAttemptAt: null })
    expect(Result.isFailure(ContactState.transition(claimed, { _tag: "Deferred", until: morning }, T0))).toBe(true)
  })
})
