/**
 * A campaign's contacts, a page at a time, optionally in one state: phone, state, attempts, next attempt,
 * wamid and last error per row (SPEC §5), and under the table the selected contact's full wamid, its time in
 * each state, and its last error with the explanation.
 */
import { ContactState } from "@megaphone/core"
import type React from "react"
import { clockTime } from "../Format.ts"
import type { ContactPage, ContactRow } from "../Source.ts"
import { cell, stateColor, type Theme } from "../Theme.ts"
import { explainFailure } from "./Panels.ts"
import { fit, line, span } from "./Text.ts"

/** Lines the detail view needs besides the table rows: filter line, table header, and the selected contact's three. */
export const DETAIL_FIXED_LINES = 5

/** Props of {@link contactTable}. */
export interface ContactTableProps {
  readonly theme: Theme
  readonly page: ContactPage | undefined
  readonly state: ContactState.ContactStateId | undefined
  readonly pageNumber: number
  readonly selected: number
  /** Rows the table may show (the page size). */
  readonly rows: number
  readonly width: number
  readonly now: Date
  readonly timeZone: string | undefined
}

const columns = (width: number) => {
  const phone = 15
  const state = 15
  const attempts = 4
  const next = 9
  const wamid = Math.max(8, Math.min(32, Math.floor((width - 48) / 3)))
  const error = Math.max(8, width - 2 - phone - state - attempts - next - wamid - 5)
  return { phone, state, attempts, next, wamid, error }
}

const row = (props: ContactTableProps, c: ContactRow, selected: boolean): React.ReactElement => {
  const { theme } = props
  const w = columns(props.width)
  const next = c.nextAttemptAt === null ? "-" : clockTime(c.nextAttemptAt, props.now, props.timeZone)
  return line(`c-${c.id}`,
    span(theme, selected ? "▶ " : "  ", { bold: true }),
    span(theme, `${fit(c.phone, w.phone)} `, { bold: selected }),
    span(theme, `${cell(c.state, theme)} ${fit(ContactState.labels[c.state][theme.lang], w.state - 2)} `, { color: stateColor[c.state] }),
    `${fit(String(c.attempts), w.attempts)} ${fit(next, w.next)} ${fit(c.wamid ?? "-", w.wamid)} `,
    c.lastError === null ? "-" : span(theme, `${c.lastError.code} ${c.lastError.text.replace(/^\(#\S+\)\s*/, "")}`, { color: "red" }))
}

/** The filter line, the table (header and `rows` lines) and the selected contact's three lines. */
export const contactTable = (props: ContactTableProps): ReadonlyArray<React.ReactElement> => {
  const { theme, page } = props
  const w = columns(props.width)
  const stateName = props.state === undefined ? (theme.lang === "cs" ? "Všechny" : "All states") : ContactState.labels[props.state][theme.lang]
  const contacts = page?.contacts ?? []
  const first = (props.pageNumber - 1) * props.rows + 1
  const range = contacts.length === 0 ? "" : ` · rows ${first}–${first + contacts.length - 1}${page?.nextAfterId === null ? "" : " …"}`
  const out: Array<React.ReactElement> = [
    line("filter", "  Showing: ", span(theme, `◀ ${stateName} ▶`, { bold: true }), ` · page ${props.pageNumber}${range}`),
    line("thead", span(theme, `  ${fit("PHONE", w.phone)} ${fit("STATE", w.state)} ${fit("ATT", w.attempts)} ${fit("NEXT", w.next)} ` +
      `${fit("WAMID", w.wamid)} LAST ERROR`, { bold: true }))
  ]
  for (let i = 0; i < props.rows; i++) {
    const c = contacts[i]
    if (c !== undefined) out.push(row(props, c, i === props.selected))
    else if (i === 0) out.push(line("empty", page === undefined ? "  Loading…" : `  No contacts${props.state === undefined ? "" : ` in state ${stateName}`} on this page.`))
    else out.push(line(`pad-${i}`, " "))
  }
  out.push(...selectedContact(props, contacts[props.selected]))
  return out
}

/** Three lines on one contact: wamid and attempts, the time it entered each state, its last error explained. */
const selectedContact = (props: ContactTableProps, c: ContactRow | undefined): ReadonlyArray<React.ReactElement> => {
  const { theme } = props
  if (c === undefined) return [line("sel-1", " "), line("sel-2", " "), line("sel-3", " ")]
  const times = ContactState.states
    .flatMap((s) => {
      const at = c.stateTimes[s]
      return at === undefined ? [] : [[s, at] as const]
    })
    // Meta's delivery times are whole seconds: within a second, the states' own order decides.
    .sort((a, b) =>
      Math.floor(a[1].getTime() / 1000) - Math.floor(b[1].getTime() / 1000) ||
      ContactState.states.indexOf(a[0]) - ContactState.states.indexOf(b[0]))
  return [
    line("sel-1", span(theme, `  ${c.phone}`, { bold: true }), ` · wamid ${c.wamid ?? "-"} · attempts ${c.attempts}` +
      (c.nextAttemptAt === null ? "" : ` · next attempt ${clockTime(c.nextAttemptAt, props.now, props.timeZone)}`)),
    line("sel-2", "  ", ...times.flatMap(([s, at], i) => [
      ...(i === 0 ? [] : [" › "]),
      span(theme, ContactState.labels[s][theme.lang], { color: stateColor[s] }),
      ` ${clockTime(at, props.now, props.timeZone)}`
    ])),
    line("sel-3", c.lastError === null
      ? span(theme, c.waiting === undefined || c.waiting === null ? "  No error." : `  Waiting: ${c.waiting}.`, { dim: true })
      : span(theme, `  ${explainFailure(c.lastError.code, c.lastError.text)}`, { color: "red" }))
  ]
}
