/** The progress bar stacked by contact state, its legend (counts and %), and the quota gauge. */
import { type Campaign, ContactState } from "@megaphone/core"
import type React from "react"
import { count } from "../Format.ts"
import { barOrder, percent, segments } from "../Progress.ts"
import { cell, stateColor, type Theme } from "../Theme.ts"
import { span } from "./Text.ts"

/** `width` cells split among the states, one colour (or glyph) per state; spaces for an empty campaign. */
export const stackedBar = (theme: Theme, counts: Campaign.ContactCounts, width: number): ReadonlyArray<React.ReactElement> => {
  const parts = segments(counts, width).map((s) =>
    span(theme, cell(s.state, theme).repeat(s.cells), { color: stateColor[s.state] })
  )
  return parts.length === 0 ? [span(theme, " ".repeat(Math.max(0, width)))] : parts
}

/**
 * The legend: each state with contacts, its swatch, label, count and share (zero states left out), packed into
 * at most `lines` lines of `width` columns.
 */
export const legend = (
  theme: Theme,
  counts: Campaign.ContactCounts,
  width: number,
  lines: number
): ReadonlyArray<ReadonlyArray<React.ReactNode>> => {
  const total = ContactState.states.reduce((n, s) => n + counts[s], 0)
  const shown = barOrder.filter((s) => counts[s] > 0)
  if (shown.length === 0) return [[theme.lang === "cs" ? "Žádné kontakty" : "No contacts yet"]]
  const out: Array<Array<React.ReactNode>> = [[]]
  let used = 0
  for (const s of shown) {
    const text = ` ${ContactState.labels[s][theme.lang]} ${count(counts[s])} ${percent(counts[s], total)}%`
    const length = 1 + [...text].length + 2
    const current = out.at(-1) ?? []
    if (used > 0 && used + length > width && out.length < lines) {
      out.push([])
      used = 0
    }
    const target = out.at(-1) ?? current
    if (used > 0) target.push("  ")
    target.push(span(theme, cell(s, theme), { color: stateColor[s] }), text)
    used += length
  }
  return out
}

/** A gauge of `used` out of `limit` in `width` cells: green, yellow from 75 %, red when full. */
export const gauge = (theme: Theme, used: number, limit: number | "unlimited", width: number): ReadonlyArray<React.ReactElement> => {
  if (limit === "unlimited") return [span(theme, "∞".padEnd(width, " "), { dim: true })]
  const share = limit <= 0 ? 1 : Math.min(1, used / limit)
  const filled = Math.min(width, Math.round(share * width))
  const color = share >= 1 ? "red" : share >= 0.75 ? "yellow" : "green"
  return [
    span(theme, (theme.color ? "█" : "#").repeat(filled), { color }),
    span(theme, (theme.color ? "░" : ".").repeat(width - filled), { color: "gray" })
  ]
}
