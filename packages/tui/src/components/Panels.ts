/**
 * The panels under the campaign list: accounts (rolling-24 h recipients against the limit, tier, quality,
 * throughput against the number's limit, when room frees up), and problems (template issues with the seed's
 * warning triangle, errors grouped by Meta code with their explanation, retries scheduled).
 */
import { ErrorClass } from "@megaphone/core"
import type React from "react"
import { clockTime } from "../Format.ts"
import { perSecond } from "../Progress.ts"
import { type AccountStatus, type ErrorGroup, issueText, type Retries, type TemplateIssue } from "../Source.ts"
import { qualityColor, type Theme } from "../Theme.ts"
import { gauge } from "./StackedBar.ts"
import { fit, line, right, span } from "./Text.ts"

/** One line per account, at most `lines` of them (the header is the caller's). */
export const accountLines = (
  theme: Theme,
  accounts: ReadonlyArray<AccountStatus>,
  throughput: (account: string) => number,
  now: Date,
  timeZone: string | undefined,
  lines: number
): ReadonlyArray<React.ReactElement> => {
  if (accounts.length === 0) return [line("no-accounts", "  No accounts. Add one: megaphone accounts add NAME --phone-number-id ID --waba-id ID")]
  const shown = accounts.length > lines ? accounts.slice(0, Math.max(0, lines - 1)) : accounts
  const rows = shown.map((a) => {
    const limit = a.limit === "unlimited" ? "∞" : String(a.limit)
    const full = a.limit !== "unlimited" && a.used >= a.limit
    const room = a.limit === "unlimited" || !full
      ? span(theme, "room now", { dim: true })
      : span(theme, a.nextFreeAt === null ? "full" : `frees ${clockTime(a.nextFreeAt, now, timeZone)}`, { color: "yellow" })
    return line(`acct-${a.name}`,
      `  ${fit(a.name, 10)} ${fit(a.tier ?? "tier ?", 9)} `,
      ...gauge(theme, a.used, a.limit, 10),
      ` ${right(`${a.used}/${limit}`, 11)} `,
      span(theme, fit(a.qualityRating ?? "?", 7), { color: qualityColor(a.qualityRating) }),
      ` ${right(perSecond(throughput(a.name)).replace("/s", ""), 5)}/${fit(`${a.throughputMps} msg/s`, 11)} `,
      room)
  })
  return shown.length < accounts.length ? [...rows, line("more-accounts", `  … and ${accounts.length - shown.length} more`)] : rows
}

/** Whether `code` is one the error table (or the HTTP/transport fallback) can explain. */
const explainable = (code: string): boolean => /^\d+$|^http_\d+$|^(timeout|network|malformed_response)$/.test(code)

/** The explanation of an error group: the table's for Meta's codes (without the code), the recorded text for our own. */
export const explainError = (group: ErrorGroup): string =>
  explainable(group.code) ? ErrorClass.explain(group.code).replace(/^\(#\S+\)\s*/, "") : group.sample

/** One failure for people: the table's explanation and advice for Meta's codes, else the code and recorded text. */
export const explainFailure = (code: string, text: string): string =>
  explainable(code) ? `${ErrorClass.explain(code)} Recorded: ${text}` : `${code}: ${text}`

/** Problems, most urgent first: template issues, errors by code, then the retries line; at most `lines`. */
export const problemLines = (
  theme: Theme,
  data: {
    readonly issues: ReadonlyArray<TemplateIssue>
    readonly errors: ReadonlyArray<ErrorGroup>
    readonly retries: Retries
  },
  now: Date,
  timeZone: string | undefined,
  lines: number
): ReadonlyArray<React.ReactElement> => {
  const all: Array<React.ReactElement> = [
    ...data.issues.map((i) =>
      line(`tpl-${i.template}-${i.language}`,
        span(theme, "  ⚠ ", { color: "yellow", bold: true }),
        span(theme, `${i.template} (${i.language}) ${i.status}`, { bold: true }),
        ` — ${issueText(i, theme.lang)}`)
    ),
    ...data.errors.map((e) =>
      line(`err-${e.code}`,
        span(theme, "  ✗ ", { color: "red", bold: true }),
        span(theme, `${e.code} ×${e.count}`, { bold: true }),
        ` ${explainError(e)}`)
    )
  ]
  const next = data.retries.soonest[0]
  const retryLine = data.retries.total === 0
    ? undefined
    : line("retries",
      span(theme, "  ↻ ", { color: "yellow", bold: true }),
      `${data.retries.total} retr${data.retries.total === 1 ? "y" : "ies"} scheduled`,
      next === undefined || next.nextAttemptAt === null
        ? ""
        : `; next ${clockTime(next.nextAttemptAt, now, timeZone)} ${next.phone} (attempt ${next.attempts + 1}` +
          `${next.lastError === null ? "" : `, after ${next.lastError.code}`})`)
  const room = retryLine === undefined ? lines : lines - 1
  if (room <= 0) return retryLine === undefined || lines <= 0 ? [] : [retryLine]
  const shown = all.length > room ? [...all.slice(0, Math.max(0, room - 1)), line("more", `  … and ${all.length - room + 1} more`)] : all
  return retryLine === undefined ? shown : [...shown, retryLine]
}

/** How many lines the problems would take at most (0 when there are none). */
export const problemCount = (data: { readonly issues: ReadonlyArray<unknown>; readonly errors: ReadonlyArray<unknown>; readonly retries: Retries }): number =>
  data.issues.length + data.errors.length + (data.retries.total === 0 ? 0 : 1)
