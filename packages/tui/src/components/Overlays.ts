/** What takes over the body for a moment: help, the stop and retry confirmations, the add-contacts form. */
import { ContactState } from "@megaphone/core"
import type React from "react"
import * as AddForm from "../AddForm.ts"
import type { CampaignSummary } from "../Source.ts"
import { cell, stateColor, type Theme } from "../Theme.ts"
import { fit, line, span } from "./Text.ts"

/** The help screen: every key, and what each contact state means. */
export const help = (theme: Theme, readOnly: boolean): ReadonlyArray<React.ReactElement> => [
  line("h-title", span(theme, "Keys", { bold: true }), readOnly ? span(theme, "  (read-only: p r s R a are off)", { color: "yellow" }) : ""),
  line("h-1", "  ↑/↓ select          Enter  campaign detail     Esc  back / cancel"),
  line("h-2", "  p  pause            r  resume                  s  stop (asks first)"),
  line("h-retry", "  R  retry failed: error and sending failed contacts sent again (asks first)"),
  line("h-3", "  a  add contacts (CSV file, saved filter or expression)"),
  line("h-4", "  /  search campaigns ?  this help               q  quit"),
  line("h-5", "  In the detail: ←/→ state shown, n / PgDn next page, b / PgUp previous page"),
  line("h-states", span(theme, theme.lang === "cs" ? "Stavy kontaktů" : "Contact states", { bold: true })),
  ...ContactState.states.map((s) =>
    line(`h-${s}`, "  ", span(theme, cell(s, theme), { color: stateColor[s] }), " ",
      span(theme, fit(ContactState.labels[s][theme.lang], 24), { color: stateColor[s] }), ContactState.meanings[s])
  ),
  line("h-end", span(theme, "  Press any key to close.", { dim: true }))
]

/** The stop confirmation: what stopping does, and the only key that confirms. */
export const confirmStop = (theme: Theme, c: CampaignSummary): ReadonlyArray<React.ReactElement> => {
  const pending = ContactState.pendingStates.reduce((n, s) => n + c.counts[s], 0)
  return [
    line("cs-1", span(theme, `Stop campaign “${c.name}” (${c.id}) for good?`, { bold: true, color: "red" })),
    line("cs-2", `  Its ${pending} contact(s) not yet sent will be cancelled; a stopped campaign cannot be resumed.`),
    line("cs-3", "  ", span(theme, "y", { bold: true }), " stop it    ", span(theme, "n", { bold: true }), " / Esc keep it running")
  ]
}

/** How many contacts of the campaign `R` would retry: those in `error` and `sending_failed`. */
export const retryable = (c: CampaignSummary): number => ContactState.retryableStates.reduce((n, s) => n + c.counts[s], 0)

/** The retry confirmation (`R`): how many failed contacts get a new attempt budget, and the only key that confirms. */
export const confirmRetry = (theme: Theme, c: CampaignSummary): ReadonlyArray<React.ReactElement> => [
  line("cr-1", span(theme, `Retry the failed contacts of “${c.name}” (${c.id})?`, { bold: true, color: "yellow" })),
  line("cr-2", `  ${retryable(c)} contact(s) — ${c.counts.error} in error, ${c.counts.sending_failed} sending failed — go back to initial`),
  line("cr-3", "  with a new attempt budget and are sent again; opted-out recipients are left as they are."),
  line("cr-4", "  ", span(theme, "y", { bold: true }), " retry them    ", span(theme, "n", { bold: true }), " / Esc leave them failed")
]

const labelOf: Readonly<Record<AddForm.Field, string>> = {
  from: "From",
  value: "",
  phoneColumn: "Phone column",
  vars: "Variables",
  defaults: "Defaults"
}

const valueLabel: Readonly<Record<AddForm.From, string>> = { csv: "CSV file", filter: "Filter name", where: "Expression" }

const hints: Readonly<Record<AddForm.Field, string>> = {
  from: "←/→ choose",
  value: "",
  phoneColumn: "directory column with the number",
  vars: "VARIABLE=COLUMN … e.g. 1=salutation 2=name",
  defaults: "VARIABLE=VALUE … used when a value is empty"
}

/** The add-contacts form with the cursor in the focused field. */
export const addForm = (theme: Theme, c: CampaignSummary, form: AddForm.Form): ReadonlyArray<React.ReactElement> => [
  line("af-title", span(theme, `Add contacts to “${c.name}” (${c.id})`, { bold: true })),
  ...AddForm.fields(form.from).map((field) => {
    const focused = form.focus === field
    const label = field === "value" ? valueLabel[form.from] : labelOf[field]
    const value = field === "from"
      ? (["csv", "filter", "where"] as const).map((f) => (f === form.from ? `[${valueLabel[f]}]` : ` ${valueLabel[f]} `)).join(" ")
      : `${form[field]}${focused ? "▌" : ""}`
    return line(`af-${field}`, span(theme, `${focused ? "▶" : " "} ${fit(label, 13)} `, { bold: focused }), value,
      hints[field] === "" ? "" : span(theme, `   ${hints[field]}`, { dim: true }))
  }),
  line("af-error", form.error === undefined ? " " : span(theme, `  ${form.error}`, { color: "red" })),
  line("af-keys", span(theme, "  Tab/↑/↓ field   Enter add   Esc cancel", { dim: true }))
]
