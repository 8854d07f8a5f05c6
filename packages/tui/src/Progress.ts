/**
 * What the dashboard computes from successive polls: send rates, sparklines and ETAs, plus the stacked
 * progress bar's segments. Plain functions of their inputs (times come in as milliseconds), so they are
 * tested without a terminal or a clock.
 */
import { Campaign, ContactState } from "@megaphone/core"

/** One poll of a campaign: when, and how many of its contacts had settled. */
export interface Sample {
  readonly at: number
  readonly settled: number
}

/** How long samples are kept: long enough for the sparkline and the ETA's average. */
export const HISTORY_MS = 60_000

/** Contacts that have left the pending states (sent, delivered, read, failed, cancelled, …). */
export const settled = (counts: Campaign.ContactCounts): number =>
  Campaign.totalContacts(counts) - Campaign.pendingContacts(counts)

/** Adds a sample and drops those older than {@link HISTORY_MS}; a drop in `settled` (a reset) starts over. */
export const record = (history: ReadonlyArray<Sample>, sample: Sample): ReadonlyArray<Sample> => {
  const last = history.at(-1)
  if (last !== undefined && sample.at <= last.at) return history
  if (last !== undefined && sample.settled < last.settled) return [sample]
  return [...history.filter((s) => s.at >= sample.at - HISTORY_MS), sample]
}

/** Settled contacts per second over the last `windowMs` (0 with fewer than two samples). */
export const rate = (history: ReadonlyArray<Sample>, windowMs: number): number => {
  const last = history.at(-1)
  if (last === undefined) return 0
  const first = history.find((s) => s.at >= last.at - windowMs) ?? last
  const seconds = (last.at - first.at) / 1000
  return seconds <= 0 ? 0 : (last.settled - first.settled) / seconds
}

/** The rate between consecutive samples, oldest first (the sparkline's values). */
export const rates = (history: ReadonlyArray<Sample>): ReadonlyArray<number> =>
  history.slice(1).map((s, i) => {
    const previous = history[i] ?? s
    const seconds = (s.at - previous.at) / 1000
    return seconds <= 0 ? 0 : (s.settled - previous.settled) / seconds
  })

const BARS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] as const

/** The last `width` values as a sparkline scaled to their maximum (blank bars when all are zero). */
export const sparkline = (values: ReadonlyArray<number>, width: number): string => {
  const shown = values.slice(-width)
  const max = Math.max(0, ...shown)
  const line = shown.map((v) => (max <= 0 ? BARS[0] : BARS[Math.min(7, Math.max(0, Math.round((v / max) * 7)))] ?? BARS[0])).join("")
  return line.padStart(width, " ")
}

/** Seconds until `pending` contacts settle at `perSecond`; undefined when nothing moves. */
export const etaSeconds = (pending: number, perSecond: number): number | undefined =>
  pending === 0 ? 0 : perSecond <= 0 ? undefined : pending / perSecond

/** A duration for people: `0:45`, `12:03`, `3:04:05`, `2d 3h`. */
export const duration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds))
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, "0")
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`
}

/** A rate for people: `12.3/s`, `1.2k/s`. */
export const perSecond = (value: number): string =>
  value >= 1000 ? `${(value / 1000).toFixed(1)}k/s` : value >= 100 ? `${Math.round(value)}/s` : `${value.toFixed(1)}/s`

/**
 * The order the stacked bar draws states in, left to right: what is done first (read, delivered, sent), then
 * what failed or was dropped, then what is still to come.
 */
export const barOrder: ReadonlyArray<ContactState.ContactStateId> = [
  "read",
  "delivered",
  "sent",
  "sending_failed",
  "error",
  "invalid_record",
  "cancelled",
  "in_progress",
  "retry_scheduled",
  "initial"
]

/** One run of cells of the stacked bar. */
export interface Segment {
  readonly state: ContactState.ContactStateId
  readonly cells: number
}

/**
 * Splits `width` cells among the states in proportion to their counts (largest remainder, so the cells add up
 * to `width` exactly; an empty campaign gets no segments).
 */
export const segments = (counts: Campaign.ContactCounts, width: number): ReadonlyArray<Segment> => {
  const total = Campaign.totalContacts(counts)
  if (total === 0 || width <= 0) return []
  const exact = barOrder.map((state) => ({ state, share: (counts[state] * width) / total }))
  const cells = exact.map((e) => Math.floor(e.share))
  let left = width - cells.reduce((a, b) => a + b, 0)
  const byRemainder = exact.map((e, i) => ({ i, rest: e.share - Math.floor(e.share) })).sort((a, b) => b.rest - a.rest)
  for (const { i } of byRemainder) {
    if (left <= 0) break
    cells[i] = (cells[i] ?? 0) + 1
    left--
  }
  return exact.map((e, i) => ({ state: e.state, cells: cells[i] ?? 0 })).filter((s) => s.cells > 0)
}

/** Whole percent of `part` in `total` (0 for an empty total). */
export const percent = (part: number, total: number): number => (total === 0 ? 0 : Math.floor((part * 100) / total))
