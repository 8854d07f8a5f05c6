/**
 * The "add contacts" form (`a`) as data: where the contacts come from (a CSV file, a saved filter, a filter
 * expression), the phone column and variable mapping for directory contacts, and defaults for empty values —
 * the same choices as `megaphone campaigns add-contacts` (SPEC §4). Pure, so the keys are tested without Ink.
 */
import type { AddContacts } from "./Source.ts"

/** Where the contacts come from. */
export type From = "csv" | "filter" | "where"

/** The fields, in the order Tab visits them. */
export type Field = "from" | "value" | "phoneColumn" | "vars" | "defaults"

/** What the form holds. */
export interface Form {
  readonly from: From
  readonly value: string
  readonly phoneColumn: string
  readonly vars: string
  readonly defaults: string
  readonly focus: Field
  readonly error: string | undefined
}

/** An empty form on the CSV choice, focused on the path. */
export const empty: Form = { from: "csv", value: "", phoneColumn: "phone", vars: "", defaults: "", focus: "value", error: undefined }

/** The fields that apply to the choice: a CSV's column order decides the variables, so it has no mapping. */
export const fields = (from: From): ReadonlyArray<Field> =>
  from === "csv" ? ["from", "value", "defaults"] : ["from", "value", "phoneColumn", "vars", "defaults"]

/** The next (or previous) field, wrapping around. */
export const move = (form: Form, by: 1 | -1): Form => {
  const list = fields(form.from)
  const at = Math.max(0, list.indexOf(form.focus))
  return { ...form, focus: list[(at + by + list.length) % list.length] ?? "value" }
}

const order: ReadonlyArray<From> = ["csv", "filter", "where"]

/** The next (or previous) choice of source. */
export const cycle = (form: Form, by: 1 | -1): Form => ({
  ...form,
  from: order[(order.indexOf(form.from) + by + order.length) % order.length] ?? "csv",
  error: undefined
})

/** Types text into the focused field (the source choice takes no text). */
export const type = (form: Form, text: string): Form =>
  form.focus === "from" ? form : { ...form, [form.focus]: form[form.focus] + text, error: undefined }

/** Deletes the last character of the focused field. */
export const erase = (form: Form): Form =>
  form.focus === "from" ? form : { ...form, [form.focus]: [...form[form.focus]].slice(0, -1).join(""), error: undefined }

/**
 * `VARIABLE=VALUE` pairs separated by spaces or commas; a value runs until the next `KEY=` (so it may hold
 * spaces: `2=pane a paní 3=order`). An error text when something is not a pair.
 */
export const pairs = (text: string): Readonly<Record<string, string>> | string => {
  const trimmed = text.trim()
  if (trimmed === "") return {}
  const out: Record<string, string> = {}
  const pattern = /([^\s,=]+)=(.*?)(?=[\s,]+[^\s,=]+=|$)/gy
  let rest = trimmed
  while (rest !== "") {
    pattern.lastIndex = 0
    const match = pattern.exec(rest)
    if (match === null) return `“${rest.split(/[\s,]/)[0] ?? rest}” is not VARIABLE=VALUE`
    out[match[1] ?? ""] = (match[2] ?? "").trim()
    rest = rest.slice(match[0].length).replace(/^[\s,]+/, "")
  }
  return out
}

/** The request the form describes, or the form with an error saying what is missing. */
export const toRequest = (form: Form): AddContacts | Form => {
  const value = form.value.trim()
  const fail = (error: string): Form => ({ ...form, error })
  if (value === "") {
    return fail(form.from === "csv" ? "Give the CSV file's path." : form.from === "filter" ? "Give a saved filter's name." : "Give a filter expression.")
  }
  const defaults = pairs(form.defaults)
  if (typeof defaults === "string") return { ...fail(`Defaults: ${defaults}.`), focus: "defaults" }
  if (form.from === "csv") return { _tag: "Csv", path: value, defaults }
  const phoneColumn = form.phoneColumn.trim()
  if (phoneColumn === "") return { ...fail("Give the directory column that holds the phone number."), focus: "phoneColumn" }
  const vars = pairs(form.vars)
  if (typeof vars === "string") return { ...fail(`Variables: ${vars}.`), focus: "vars" }
  return {
    _tag: "Directory",
    filter: form.from === "filter" ? { name: value } : { where: value },
    phoneColumn,
    vars,
    defaults
  }
}
