/**
 * Times for a scheduled start (`megaphone campaigns schedule ID --at 2026-12-01T09:00`): an ISO 8601 time with an
 * offset (`+01:00`, `Z`) or a zone (`[Europe/Prague]`), or a wall time read in a default IANA zone — with the
 * daylight-saving gaps and overlaps said plainly instead of guessed. Plain functions over `Intl`; the zone is
 * always an argument (the caller decides the default), so nothing here reads the machine's settings.
 */
import { Result, Schema } from "effect"

/** A time that cannot be read, or does not exist in its zone, with how to write it instead. */
export class ScheduleTimeError extends Schema.TaggedError<ScheduleTimeError>()("ScheduleTimeError", {
  input: Schema.String,
  message: Schema.String
}) {}

/** A time that was read: the instant, and the zone or offset it was read in (for saying it back). */
export interface ParsedTime {
  readonly at: Date
  /** The IANA zone the wall time was read in, or the offset as written (`+01:00`, `Z`). */
  readonly zone: string
}

/** A wall-clock time in some zone, field by field (month 1–12). */
export interface WallTime {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

const formatter = (zone: string): Intl.DateTimeFormat => {
  let f = formatters.get(zone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit"
    })
    formatters.set(zone, f)
  }
  return f
}

/** Whether `zone` is an IANA time zone this runtime knows (`Europe/Prague`, `UTC`). */
export const isTimeZone = (zone: string): boolean => {
  try {
    formatter(zone)
    return true
  } catch {
    return false
  }
}

/** The wall-clock time of an instant in an IANA zone (the zone must be known: see {@link isTimeZone}). */
export const wallTime = (at: Date, zone: string): WallTime => {
  const parts = Object.fromEntries(formatter(zone).formatToParts(at).map((p) => [p.type, p.value]))
  const n = (type: string) => Number(parts[type])
  return { year: n("year"), month: n("month"), day: n("day"), hour: n("hour"), minute: n("minute"), second: n("second") }
}

const wallMs = (w: WallTime): number => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)

/** The zone's offset from UTC at an instant, in milliseconds (Prague in winter: +3,600,000). */
export const offsetAt = (at: Date, zone: string): number => {
  const whole = Math.floor(at.getTime() / 1000) * 1000
  return wallMs(wallTime(new Date(whole), zone)) - whole
}

const HOUR = 3_600_000
const DAY = 24 * HOUR

/**
 * The instants at which a zone's clocks show this wall time: one normally, none in a spring-forward gap, two in
 * a fall-back overlap (earlier first).
 */
export const instantsOf = (wall: WallTime, zone: string): ReadonlyArray<Date> => {
  const asUtc = wallMs(wall)
  // Offsets change at most a few times a year, so those a day either side include every candidate.
  const offsets = new Set([-DAY, 0, DAY].map((d) => offsetAt(new Date(asUtc + d), zone)))
  const instants = [...offsets]
    .map((offset) => asUtc - offset)
    .filter((ms) => offsetAt(new Date(ms), zone) === asUtc - ms)
  return [...new Set(instants)].sort((a, b) => a - b).map((ms) => new Date(ms))
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** `2026-12-01T09:00` (seconds only when not zero). */
const wallText = (w: WallTime): string =>
  `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}${w.second === 0 ? "" : `:${pad(w.second)}`}`

/** An offset in milliseconds as ISO 8601 writes it: `+01:00`. */
export const offsetText = (ms: number): string => {
  const minutes = Math.round(Math.abs(ms) / 60_000)
  return `${ms < 0 ? "-" : "+"}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*(?:\[([^\]]+)\])?$/

const EXAMPLE = "Write it as 2026-12-01T09:00 (in the default zone), 2026-12-01T09:00+01:00, 2026-12-01T08:00Z or 2026-12-01T09:00[Europe/Prague]."

/**
 * Read a time given by a person: ISO 8601 date and time (`T` or a space between them, seconds optional) with an
 * offset or `Z`, or with an IANA zone in brackets, or with neither — then in `defaultZone`. A wall time that does
 * not exist in its zone (the hour skipped when clocks go forward) and one that exists twice (when they go back)
 * are refused with the offsets that would say it exactly.
 */
export const parseTime = (input: string, defaultZone: string): Result.Result<ParsedTime, ScheduleTimeError> => {
  const fail = (message: string) => Result.fail(new ScheduleTimeError({ input, message }))
  const text = input.trim()
  const m = TIME.exec(text)
  if (m === null) return fail(`"${input}" is not a date and time. ${EXAMPLE}`)
  const [, y, mo, d, h, mi, s, offset, bracketZone] = m
  const wall: WallTime = { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s ?? 0) }
  // A calendar-checked wall time: Date.UTC rolls 2026-02-30 over to March, so compare the fields back.
  const check = new Date(wallMs(wall))
  if (
    wall.month < 1 || wall.month > 12 || wall.hour > 23 || wall.minute > 59 || wall.second > 59 ||
    check.getUTCFullYear() !== wall.year || check.getUTCMonth() + 1 !== wall.month || check.getUTCDate() !== wall.day
  ) {
    return fail(`"${input}" is not a real date and time (month 01–12, a day the month has, hours 00–23, minutes 00–59). ${EXAMPLE}`)
  }
  if (offset !== undefined) {
    if (bracketZone !== undefined) return fail(`"${input}" gives both an offset and a zone: give one of them. ${EXAMPLE}`)
    if (offset === "Z" || offset === "z") return Result.succeed({ at: new Date(wallMs(wall)), zone: "Z" })
    const digits = offset.slice(1).replace(":", "")
    const hours = Number(digits.slice(0, 2))
    const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0
    if (hours > 14 || minutes > 59) return fail(`"${input}": ${offset} is not a UTC offset (from -14:00 to +14:00). ${EXAMPLE}`)
    const ms = (offset.startsWith("-") ? -1 : 1) * (hours * HOUR + minutes * 60_000)
    return Result.succeed({ at: new Date(wallMs(wall) - ms), zone: offsetText(ms) })
  }
  const zone = bracketZone ?? defaultZone
  if (!isTimeZone(zone)) {
    return bracketZone !== undefined
      ? fail(`"${input}": ${zone} is not a time zone. Use an IANA name such as Europe/Prague or UTC, or an offset such as +01:00.`)
      : fail(`The default time zone "${zone}" is not a time zone. Set MEGAPHONE_TIME_ZONE to an IANA name such as Europe/Prague, or give an offset: ${text}+01:00.`)
  }
  const instants = instantsOf(wall, zone)
  const [first, second] = instants
  if (first === undefined) {
    const before = offsetAt(new Date(wallMs(wall) - DAY), zone)
    const after = offsetAt(new Date(wallMs(wall) + DAY), zone)
    return fail(
      `${wallText(wall)} does not exist in ${zone}: the clocks skip that hour (from ${offsetText(before)} to ${offsetText(after)}). ` +
        `Choose a time outside the skipped hour, or give an offset, e.g. ${wallText(wall)}${offsetText(before)}.`
    )
  }
  if (second !== undefined) {
    return fail(
      `${wallText(wall)} happens twice in ${zone}: the clocks go back an hour then. Say which with its offset: ` +
        `${wallText(wall)}${offsetText(wallMs(wall) - first.getTime())} (the first) or ${wallText(wall)}${offsetText(wallMs(wall) - second.getTime())} (the second).`
    )
  }
  return Result.succeed({ at: first, zone })
}

/** An instant as a person in `zone` reads it: `2026-12-01 09:00`. */
export const formatWallTime = (at: Date, zone: string): string => {
  const w = wallTime(at, zone)
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`
}
