/**
 * Saved filters as SQL: compiles the core `Filter` AST to a condition over `directory_contacts` that selects
 * exactly the contacts `Filter.evaluate` accepts. Column names and values are always bound parameters; the SQL
 * text only names the `megaphone_filter_*` functions of migration 0002, which mirror the evaluator's cell rules.
 *
 * The contact a filter sees is {@link asContact}: the row's `columns`, plus `phone` from the `phone` column when
 * `columns` has no `"phone"` key of its own (a key that is present wins, even when it is null or blank).
 */
import type { Filter } from "@megaphone/core"
import { Statement } from "effect/sql"

/** Where the condition finds a contact's cells; both default to the `d` alias of `directory_contacts`. */
export interface CompileOptions {
  /** The `jsonb` expression holding the directory columns; default `d.columns`. */
  readonly columnsExpr?: Statement.Fragment
  /** The `text` expression holding the imported phone number; default `d.phone`. */
  readonly phoneExpr?: Statement.Fragment
}

/** The contact the evaluator sees for a directory row: its columns, with the phone column under `phone`. */
export const asContact = (
  phone: string,
  columns: Readonly<Record<string, string | number | null>>
): Filter.Contact => Object.hasOwn(columns, "phone") ? columns : { ...columns, phone }

type Bound = string | boolean

/** A fragment from SQL text; interpolated fragments are spliced in, anything else becomes a bound parameter. */
const fragment = (strings: TemplateStringsArray, ...args: ReadonlyArray<Statement.Fragment | Bound>): Statement.Fragment => {
  const segments: Array<Statement.Segment> = []
  strings.forEach((text, i) => {
    if (text !== "") segments.push(Statement.literal(text))
    if (i < args.length) {
      const arg = args[i] as Statement.Fragment | Bound
      if (typeof arg === "object") segments.push(...arg.segments)
      else segments.push(Statement.parameter(arg))
    }
  })
  return Statement.fragment(segments)
}

const literal = (text: string): Statement.Fragment => Statement.fragment([Statement.literal(text)])
const FALSE = literal("false")

// PostgreSQL text holds neither U+0000 nor lone surrogates (the driver would send U+FFFD), so no cell or key
// contains them: such a name or value is decided here, without the server.
const loneSurrogate = /\p{Surrogate}/u
const storable = (text: string): boolean => !text.includes("\u0000") && !loneSurrogate.test(text)

const cell = (column: string, columns: Statement.Fragment, phone: Statement.Fragment): Statement.Fragment =>
  !storable(column) ? literal("null::jsonb")
    : column === "phone" ? fragment`coalesce(${columns} -> ${column}::text, to_jsonb(${phone}))`
    : fragment`(${columns} -> ${column}::text)`

// A number travels as the text JavaScript gives it, which is also what the evaluator compares as text.
const valueText = (value: Filter.Value): string => typeof value === "number" ? String(value) : value
const isNumber = (value: Filter.Value): boolean => typeof value === "number"

const equals = (target: Statement.Fragment, value: Filter.Value): Statement.Fragment =>
  typeof value === "string" && !storable(value)
    // Not a number or a date, and no stored text equals it.
    ? FALSE
    : fragment`coalesce(megaphone_filter_equals(${target}, ${valueText(value)}::text, ${isNumber(value)}), false)`

const ordered = (target: Statement.Fragment, value: Filter.Value, operator: string): Statement.Fragment =>
  typeof value === "string" && !storable(value)
    ? FALSE
    : fragment`coalesce(megaphone_filter_order(${target}, ${valueText(value)}::text, ${isNumber(value)}) ${literal(operator)} 0, false)`

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff

/** Contains (anchored = false) or StartsWith (anchored = true). */
const substring = (target: Statement.Fragment, value: Filter.Value, anchored: boolean): Statement.Fragment => {
  const raw = valueText(value)
  if (storable(raw)) {
    return anchored
      ? fragment`coalesce(megaphone_filter_starts_with(${target}, ${raw}::text), false)`
      : fragment`coalesce(megaphone_filter_contains(${target}, ${raw}::text), false)`
  }
  if (raw.includes("\u0000")) return FALSE
  // The evaluator's text() of the value; String.includes then matches UTF-16 units, so a lone low surrogate first
  // or a lone high surrogate last can match half of an astral character in the cell. Anywhere else it cannot.
  const text = raw.trim().normalize("NFC")
  const low = isLowSurrogate(text.charCodeAt(0)) ? text.charCodeAt(0) : undefined
  const high = text.length > 0 && isHighSurrogate(text.charCodeAt(text.length - 1))
    ? text.charCodeAt(text.length - 1) : undefined
  const core = text.slice(low === undefined ? 0 : 1, high === undefined ? text.length : text.length - 1)
  if (loneSurrogate.test(core) || (anchored && low !== undefined)) return FALSE
  return fragment`coalesce(megaphone_filter_contains_units(${target}, ${core}::text, ${
    low === undefined ? literal("null") : String(low)}::integer, ${
    high === undefined ? literal("null") : String(high)}::integer, ${anchored}), false)`
}

const join = (operator: string, filters: ReadonlyArray<Statement.Fragment>): Statement.Fragment =>
  Statement.fragment([
    Statement.literal("("),
    ...filters.flatMap((f, i) => i === 0 ? f.segments : [Statement.literal(` ${operator} `), ...f.segments]),
    Statement.literal(")")
  ])

/**
 * The filter as a SQL condition, for `sql\`select … from directory_contacts d where ${condition}\``: true exactly
 * for the rows whose {@link asContact} `Filter.evaluate` accepts, never NULL (so `not` is an exact negation).
 */
export const compile = (filter: Filter.Filter, options: CompileOptions = {}): Statement.Fragment => {
  const columns = options.columnsExpr ?? literal("d.columns")
  const phone = options.phoneExpr ?? literal("d.phone")
  const go = (f: Filter.Filter): Statement.Fragment => {
    switch (f._tag) {
      case "Equals": return equals(cell(f.column, columns, phone), f.value)
      case "NotEquals": return fragment`(not ${equals(cell(f.column, columns, phone), f.value)})`
      case "Contains": return substring(cell(f.column, columns, phone), f.value, false)
      case "StartsWith": return substring(cell(f.column, columns, phone), f.value, true)
      case "Lt": return ordered(cell(f.column, columns, phone), f.value, "<")
      case "Lte": return ordered(cell(f.column, columns, phone), f.value, "<=")
      case "Gt": return ordered(cell(f.column, columns, phone), f.value, ">")
      case "Gte": return ordered(cell(f.column, columns, phone), f.value, ">=")
      case "Empty": return fragment`(megaphone_filter_cell_text(${cell(f.column, columns, phone)}) = '')`
      case "NotEmpty": return fragment`(megaphone_filter_cell_text(${cell(f.column, columns, phone)}) <> '')`
      case "In": {
        const target = cell(f.column, columns, phone)
        return join("or", f.values.map((v) => equals(target, v)))
      }
      case "And": return join("and", f.filters.map(go))
      case "Or": return join("or", f.filters.map(go))
      case "Not": return fragment`(not ${go(f.filter)})`
    }
  }
  return go(filter)
}

/**
 * A search text as a SQL condition over `directory_contacts`: true exactly for the rows `Ports.Storage.matchesSearch`
 * accepts — the row's phone number or any value of its columns contains the text as the filter operator `contains`
 * reads it (trimmed, NFC, Czech case folding). The text is a bound parameter like every filter value.
 */
export const search = (text: string, options: CompileOptions = {}): Statement.Fragment => {
  const columns = options.columnsExpr ?? literal("d.columns")
  const phone = options.phoneExpr ?? literal("d.phone")
  return fragment`(${substring(fragment`to_jsonb(${phone}::text)`, text, false)} or exists (
    select 1 from jsonb_each(${columns}) as search_cell(key, value) where ${substring(literal("search_cell.value"), text, false)}))`
}
