/**
 * Send windows (quiet hours): the weekdays and hours a campaign may message a recipient, read on the recipient's
 * own clock. `Mon-Fri 09:00-20:00` is open from 09:00 to 20:00 local time on weekdays, whatever the zone's offset
 * or daylight-saving time that day: the window is open when the wall clock in the zone shows an allowed day and a
 * time inside one of the ranges.
 *
 * A recipient's zones come from the phone number's country (`countries-and-timezones` for the country's IANA
 * zones); a country with several zones (the US, Canada, Russia, …) is treated conservatively — the window must be
 * open in every one of them at once. An explicit zone (a directory column `time_zone`) replaces the country's.
 * Plain functions over `Intl`; nothing reads the machine's own zone.
 */
import { getCountry } from "countries-and-timezones"
import { Result, Schema } from "effect"
import { getCountries, getCountryCallingCode, parsePhoneNumberFromString } from "libphonenumber-js/max"
import { instantsOf, isTimeZone, offsetAt, wallTime, type WallTime } from "./Schedule.ts"

/** ISO weekday: 1 is Monday, 7 is Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7

/** Minutes after local midnight, `from` inclusive, `to` exclusive (`to` may be 1440: up to midnight). */
export interface TimeRange {
  readonly from: number
  readonly to: number
}

/** Some days, each with the same hours. */
export interface Rule {
  /** Ascending, no repeats. */
  readonly days: ReadonlyArray<Weekday>
  /** Ascending, not overlapping. */
  readonly hours: ReadonlyArray<TimeRange>
}

/** When a campaign may send: open whenever one of its rules is (`Mon-Fri 09:00-20:00; Sat 10:00-14:00`). */
export interface SendWindow {
  readonly rules: ReadonlyArray<Rule>
}

/** A window that cannot be read, with what is wrong, where, and how to write it instead. */
export class SendWindowError extends Schema.TaggedError<SendWindowError>()("SendWindowError", {
  input: Schema.String,
  message: Schema.String
}) {}

/** A zone given for a contact that is not an IANA time zone. */
export class TimeZoneUnknown extends Schema.TaggedError<TimeZoneUnknown>()("TimeZoneUnknown", {
  zone: Schema.String
}) {
  override get message(): string {
    return `"${this.zone}" is not a time zone: use an IANA name such as Europe/Prague or America/New_York.`
  }
}

const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const
const FULL_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

const EXAMPLE = "Write it as days and hours, e.g. Mon-Fri 09:00-20:00, Mon,Wed 08:30-12:00,13:00-17:00 or Mon-Fri 09:00-20:00; Sat 10:00-14:00."

const dayOf = (text: string): Weekday | undefined => {
  const t = text.trim().toLowerCase()
  if (t.length < 2) return undefined
  const i = FULL_NAMES.findIndex((name) => name.startsWith(t))
  return i < 0 ? undefined : ((i + 1) as Weekday)
}

const pad = (n: number) => String(n).padStart(2, "0")

/** `09:00` for 540 minutes; 1440 is `24:00`. */
export const formatMinutes = (minutes: number): string => `${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`

const parseDays = (input: string, text: string): Result.Result<ReadonlyArray<Weekday>, SendWindowError> => {
  const fail = (message: string) => Result.fail(new SendWindowError({ input, message: `${message} ${EXAMPLE}` }))
  const t = text.trim().toLowerCase()
  if (t === "daily" || t === "every day" || t === "all") return Result.succeed([1, 2, 3, 4, 5, 6, 7])
  if (t === "weekdays") return Result.succeed([1, 2, 3, 4, 5])
  if (t === "weekends" || t === "weekend") return Result.succeed([6, 7])
  const days = new Set<Weekday>()
  for (const item of text.split(",")) {
    const [a, b, ...rest] = item.split("-")
    if (a === undefined || a.trim() === "" || rest.length > 0) return fail(`"${item.trim()}" in "${text.trim()}" is not a day or a range of days (Mon, Mon-Fri).`)
    const first = dayOf(a)
    if (first === undefined) return fail(`"${a.trim()}" is not a day: use Mon, Tue, Wed, Thu, Fri, Sat or Sun.`)
    const last = b === undefined ? first : dayOf(b)
    if (last === undefined) return fail(`"${(b ?? "").trim()}" is not a day: use Mon, Tue, Wed, Thu, Fri, Sat or Sun.`)
    // A range may wrap around the week: Fri-Mon is Friday to Monday.
    for (let d = first; ; d = ((d % 7) + 1) as Weekday) {
      days.add(d)
      if (d === last) break
    }
  }
  return Result.succeed([...days].sort((x, y) => x - y))
}

const TIME = /^(\d{1,2}):(\d{2})$/

const parseHours = (input: string, text: string): Result.Result<ReadonlyArray<TimeRange>, SendWindowError> => {
  const fail = (message: string) => Result.fail(new SendWindowError({ input, message: `${message} ${EXAMPLE}` }))
  const ranges: Array<TimeRange> = []
  for (const item of text.split(",")) {
    const parts = item.trim().split("-")
    const [a, b] = parts
    if (parts.length !== 2 || a === undefined || b === undefined) {
      return fail(`"${item.trim()}" is not a range of hours: write from-to, e.g. 09:00-20:00.`)
    }
    const minutes: Array<number> = []
    for (const time of [a.trim(), b.trim()]) {
      const m = TIME.exec(time)
      const h = Number(m?.[1])
      const mi = Number(m?.[2])
      if (m === null || h > 24 || mi > 59 || (h === 24 && mi > 0)) {
        return fail(`"${time}" in "${item.trim()}" is not a time of day: write HH:MM from 00:00 to 24:00.`)
      }
      minutes.push(h * 60 + mi)
    }
    const [from = 0, to = 0] = minutes
    if (from >= to) {
      return fail(
        `"${item.trim()}" ends before it starts: a range runs within one day. For hours across midnight write two ` +
          `rules, e.g. Mon-Fri 20:00-24:00; Tue-Sat 00:00-02:00.`
      )
    }
    ranges.push({ from, to })
  }
  ranges.sort((x, y) => x.from - y.from)
  // Overlapping or touching ranges are one range.
  const merged: Array<TimeRange> = []
  for (const r of ranges) {
    const last = merged[merged.length - 1]
    if (last !== undefined && r.from <= last.to) merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, r.to) }
    else merged.push(r)
  }
  return Result.succeed(merged)
}

/**
 * Read a window as an operator writes it: rules separated by `;`, each days then hours — days as names (`Mon`,
 * `Monday`), ranges (`Mon-Fri`, wrapping `Fri-Mon`), lists (`Mon,Wed`) or `daily`/`weekdays`/`weekends`; hours as
 * `HH:MM-HH:MM` ranges, several separated by `,`, up to `24:00`.
 */
export const parse = (input: string): Result.Result<SendWindow, SendWindowError> => {
  const rules: Array<Rule> = []
  const texts = input.split(";").map((t) => t.trim()).filter((t) => t !== "")
  if (texts.length === 0) return Result.fail(new SendWindowError({ input, message: `The send window is empty. ${EXAMPLE}` }))
  for (const text of texts) {
    // The hours are the last word; the days are everything before it.
    const m = /^(.*?)\s+([\d:,\s-]+)$/.exec(text)
    if (m === null || m[1] === undefined || m[2] === undefined) {
      return Result.fail(new SendWindowError({ input, message: `"${text}" needs days and hours, e.g. Mon-Fri 09:00-20:00. ${EXAMPLE}` }))
    }
    const days = parseDays(input, m[1])
    if (Result.isFailure(days)) return Result.fail(days.failure)
    const hours = parseHours(input, m[2].replace(/\s+/g, ""))
    if (Result.isFailure(hours)) return Result.fail(hours.failure)
    rules.push({ days: days.success, hours: hours.success })
  }
  return Result.succeed({ rules })
}

/** Read a window from its days and hours given apart (`--days Mon-Fri --hours 09:00-20:00`). */
export const fromDaysAndHours = (days: string, hours: string): Result.Result<SendWindow, SendWindowError> =>
  parse(`${days.trim()} ${hours.trim()}`)

const formatDays = (days: ReadonlyArray<Weekday>): string => {
  if (days.length === 7) return "Mon-Sun"
  const runs: Array<string> = []
  let i = 0
  while (i < days.length) {
    let j = i
    while (j + 1 < days.length && (days[j + 1] ?? 0) === (days[j] ?? 0) + 1) j++
    const first = DAY_NAMES[(days[i] ?? 1) - 1]
    const last = DAY_NAMES[(days[j] ?? 1) - 1]
    runs.push(j === i ? `${first}` : j === i + 1 ? `${first},${last}` : `${first}-${last}`)
    i = j + 1
  }
  return runs.join(",")
}

/** The window as {@link parse} reads it back, in one canonical spelling: `Mon-Fri 09:00-20:00; Sat 10:00-14:00`. */
export const format = (window: SendWindow): string =>
  window.rules
    .map((r) => `${formatDays(r.days)} ${r.hours.map((h) => `${formatMinutes(h.from)}-${formatMinutes(h.to)}`).join(",")}`)
    .join("; ")

// ---------------------------------------------------------------------------------------------------------
// Evaluation

const weekdayOf = (w: WallTime): Weekday => ((((new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay() + 6) % 7) + 1) as Weekday)

/** Whether the window is open at `at` on the clock of one zone. */
const isOpenIn = (window: SendWindow, zone: string, at: Date): boolean => {
  const w = wallTime(at, zone)
  const day = weekdayOf(w)
  const minute = w.hour * 60 + w.minute
  return window.rules.some((r) => r.days.includes(day) && r.hours.some((h) => minute >= h.from && minute < h.to))
}

/** Whether the window is open at `at` in every one of `zones` (a recipient's zones: see {@link recipientZones}). */
export const isOpen = (window: SendWindow, zones: ReadonlyArray<string>, at: Date): boolean =>
  zones.every((zone) => isOpenIn(window, zone, at))

const DAY = 86_400_000

/** The first instant at or after `notBefore` whose wall clock in `zone` shows `wall` or later (a skipped hour opens when it ends). */
const firstInstantFrom = (wall: WallTime, zone: string): Date => {
  const exact = instantsOf(wall, zone)[0]
  if (exact !== undefined) return exact
  // In a spring-forward gap: the wall time never shows; the window opens when the clocks jump past it.
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second)
  let lo = asUtc - offsetAt(new Date(asUtc + DAY), zone)
  let hi = asUtc - offsetAt(new Date(asUtc - DAY), zone)
  if (lo > hi) [lo, hi] = [hi, lo]
  const shows = (ms: number) => {
    const w = wallTime(new Date(ms), zone)
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) >= asUtc
  }
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2)
    if (shows(mid)) hi = mid
    else lo = mid
  }
  return new Date(hi)
}

/** The window's next opening in one zone strictly after `after` (within 8 days; none for an empty window). */
const nextStartIn = (window: SendWindow, zone: string, after: Date): Date | undefined => {
  const w = wallTime(after, zone)
  let best: number | undefined
  for (let offset = 0; offset <= 8; offset++) {
    const date = new Date(Date.UTC(w.year, w.month - 1, w.day + offset))
    const local: WallTime = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), hour: 0, minute: 0, second: 0 }
    const day = weekdayOf(local)
    for (const rule of window.rules) {
      if (!rule.days.includes(day)) continue
      for (const h of rule.hours) {
        const start = firstInstantFrom({ ...local, hour: Math.floor(h.from / 60), minute: h.from % 60 }, zone).getTime()
        if (start > after.getTime() && (best === undefined || start < best)) best = start
      }
    }
    // Openings found on one local day come before any of a later day.
    if (best !== undefined) return new Date(best)
  }
  return undefined
}

/**
 * The first instant at or after `from` at which the window is open in every zone: `from` itself when it is open
 * then. None when that does not happen within a week — the zones' hours never overlap (a short window over a
 * country as wide as the US or Russia): such a recipient needs a zone of its own.
 */
export const nextOpening = (window: SendWindow, zones: ReadonlyArray<string>, from: Date): Date | undefined => {
  const limit = from.getTime() + 8 * DAY
  let at = from
  // Each step moves to the next opening of a zone that is closed: the first instant open in all is one of them.
  for (let step = 0; step < 10_000 && at.getTime() <= limit; step++) {
    const closed = zones.find((zone) => !isOpenIn(window, zone, at))
    if (closed === undefined) return at
    const next = nextStartIn(window, closed, at)
    if (next === undefined) return undefined
    at = next
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------
// A recipient's zones

let callingCodes: Map<string, ReadonlyArray<string>> | undefined

/** Calling code → the countries sharing it (`1` → US, CA, PR, …; `420` → CZ). */
const countriesByCallingCode = (): Map<string, ReadonlyArray<string>> => {
  if (callingCodes === undefined) {
    const map = new Map<string, Array<string>>()
    for (const country of getCountries()) {
      const code = getCountryCallingCode(country)
      map.set(code, [...(map.get(code) ?? []), country])
    }
    callingCodes = map
  }
  return callingCodes
}

// The main country of each calling code several countries share (libphonenumber's metadata lists it first).
const MAIN_COUNTRY: Readonly<Record<string, string>> = {
  "1": "US", "7": "RU", "44": "GB", "47": "NO", "61": "AU", "212": "MA", "262": "RE", "290": "SH", "358": "FI", "590": "GP", "599": "CW"
}

const zonesOfCountry = new Map<string, ReadonlyArray<string>>()

/** The IANA zones of a country (ISO 3166-1 alpha-2), those this runtime knows; none for an unknown country. */
export const countryZones = (country: string): ReadonlyArray<string> => {
  let zones = zonesOfCountry.get(country)
  if (zones === undefined) {
    zones = (getCountry(country)?.timezones ?? []).filter(isTimeZone)
    zonesOfCountry.set(country, zones)
  }
  return zones
}

/**
 * The country of a recipient (E.164 digits, no `+`): by its calling code when one country has it, else as the
 * numbering plan tells (`1 212 …` is the US, `1 416 …` Canada). None for a number of no country.
 */
export const recipientCountry = (recipient: string): string | undefined => {
  const codes = countriesByCallingCode()
  for (let length = 1; length <= 3 && length < recipient.length; length++) {
    const countries = codes.get(recipient.slice(0, length))
    if (countries === undefined) continue
    if (countries.length === 1) return countries[0]
    // Shared codes: the plan knows the ranges; the code's main country otherwise.
    return parsePhoneNumberFromString(`+${recipient}`)?.country ?? MAIN_COUNTRY[recipient.slice(0, length)] ?? countries[0]
  }
  return undefined
}

/**
 * The zones a recipient's window is read in: the contact's own zone when it has one, else every zone of its
 * number's country, else UTC (a number of no country).
 */
export const recipientZones = (recipient: string, timeZone: string | null): ReadonlyArray<string> => {
  if (timeZone !== null) return [timeZone]
  const country = recipientCountry(recipient)
  const zones = country === undefined ? [] : countryZones(country)
  return zones.length === 0 ? ["UTC"] : zones
}

/** A contact's zone as given (a directory column): trimmed, and known to this runtime; blank means none. */
export const parseTimeZone = (zone: string): Result.Result<string | null, TimeZoneUnknown> => {
  const trimmed = zone.trim()
  if (trimmed === "") return Result.succeed(null)
  return isTimeZone(trimmed) ? Result.succeed(trimmed) : Result.fail(new TimeZoneUnknown({ zone: trimmed }))
}

/** Why a pending contact waits for its window, and when it may go. */
export interface Wait {
  /** For people: `outside the send window Mon-Fri 09:00-20:00 (Europe/Prague)`. */
  readonly reason: string
  /** The window's next opening for the contact; null when its zones' hours never overlap. */
  readonly nextPossibleAt: Date | null
}

const zonesText = (zones: ReadonlyArray<string>): string =>
  zones.length <= 3 ? zones.join(", ") : `${zones.length} zones, ${zones[0]} … ${zones[zones.length - 1]}`

/** Whether a contact due at `at` waits for the window, and why; undefined when the window is open for it then. */
export const wait = (window: SendWindow, zones: ReadonlyArray<string>, at: Date): Wait | undefined => {
  if (isOpen(window, zones, at)) return undefined
  const next = nextOpening(window, zones, at)
  return next === undefined
    ? {
      reason: `the send window ${format(window)} is never open in all of ${zonesText(zones)} at once: give the contact a time_zone`,
      nextPossibleAt: null
    }
    : { reason: `outside the send window ${format(window)} (${zonesText(zones)})`, nextPossibleAt: next }
}
