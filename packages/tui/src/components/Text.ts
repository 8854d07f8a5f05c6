/**
 * The building blocks every component uses: one-line texts that truncate instead of wrapping (so a frame keeps
 * its height at any width), coloured spans that drop their colour without colours, and column fitting.
 */
import { Text } from "ink"
import React from "react"
import type { Theme } from "../Theme.ts"

/** `React.createElement`, short: the repo runs .ts by type stripping, which cannot run JSX. */
export const h = React.createElement

/** What a line is made of: plain strings and spans. */
export type Part = React.ReactNode

/** A span of text in a colour (no colour without colours); `bold`, `dim` and `inverse` always apply. */
export const span = (
  theme: Theme,
  text: string,
  style: { readonly color?: string | undefined; readonly bold?: boolean; readonly dim?: boolean; readonly inverse?: boolean } = {}
): React.ReactElement =>
  h(Text, {
    ...(theme.color && style.color !== undefined ? { color: style.color } : {}),
    ...(style.bold === true ? { bold: true } : {}),
    ...(style.dim === true && theme.color ? { dimColor: true } : {}),
    ...(style.inverse === true ? { inverse: true } : {})
  }, text)

/** One line: never wraps, cut at the right edge with an ellipsis. */
export const line = (key: string | number, ...parts: ReadonlyArray<Part>): React.ReactElement =>
  h(Text, { key, wrap: "truncate-end" }, ...parts)

/** An empty line (keeps the frame's height fixed). */
export const blank = (key: string | number): React.ReactElement => h(Text, { key }, " ")

/** `text` cut to `width` (with `…`) and padded with spaces to exactly `width`. */
export const fit = (text: string, width: number): string => {
  if (width <= 0) return ""
  const chars = [...text]
  return chars.length <= width ? text + " ".repeat(width - chars.length) : chars.slice(0, Math.max(0, width - 1)).join("") + "…"
}

/** `text` right-aligned in `width` (cut from the left when longer). */
export const right = (text: string, width: number): string => {
  const chars = [...text]
  return chars.length >= width ? chars.slice(chars.length - width).join("") : " ".repeat(width - chars.length) + text
}
