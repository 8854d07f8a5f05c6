/**
 * Contacts → template parameters → the Cloud API request body (SPEC §4, whatsapp-cloud-api.md §1).
 *
 * A mapping is validated once, before any contact is added (a mismatch is one clear error, not a failure per
 * contact); each contact is then resolved against Meta's parameter rules so a bad value never reaches Meta.
 */
import { Result, Schema } from "effect"
import type { Template, TemplateVariable } from "./Template.ts"
import { analyze, hydrate, LIMITS, texts, variables } from "./Template.ts"

// ---------------------------------------------------------------------------------------------
// Mappings

/** Where one variable's value comes from: a column of the contact, else the default. */
export interface VariableSource {
  readonly column?: string
  /** Used when the contact's value is empty, so no customer gets a blank. */
  readonly default?: string
}

/** A directory mapping (SPEC §4 A): the phone column and, per variable key, its column and/or default. */
export interface DirectoryMapping {
  readonly phoneColumn: string
  readonly variables: Readonly<Record<string, VariableSource>>
}

/** One template variable bound to its source. */
export interface Binding {
  readonly variable: TemplateVariable
  readonly column?: string
  readonly default?: string
}

/** A mapping checked against a template and the available columns; only {@link validate} and {@link fromCsvHeader} make one. */
export interface ValidMapping {
  readonly _tag: "ValidMapping"
  readonly template: { readonly name: string; readonly language: string }
  readonly phoneColumn: string
  /** In {@link variables} order. */
  readonly bindings: ReadonlyArray<Binding>
}

/** What kind of mapping mistake an issue is. */
export const MappingIssueCode = Schema.Literals([
  "phone_column_missing",
  "unknown_column",
  "unknown_variable",
  "variable_unmapped",
  "invalid_default",
  "template_invalid",
  "csv_missing_columns",
  "csv_extra_columns",
  "csv_duplicate_column"
])

/** One mapping mistake, with what to do about it. */
export const MappingIssue = Schema.Struct({
  code: MappingIssueCode,
  variable: Schema.optionalKey(Schema.String),
  column: Schema.optionalKey(Schema.String),
  explanation: Schema.String,
  fix: Schema.String
})

/** One mapping mistake, with what to do about it. */
export type MappingIssue = typeof MappingIssue.Type

/** Everything wrong with a mapping, reported at once so the person fixes it in one go. */
export class MappingError extends Schema.TaggedError<MappingError>()("MappingError", {
  template: Schema.String,
  issues: Schema.Array(MappingIssue)
}) {
  override get message(): string {
    return [`The mapping does not fit template ${this.template}:`, ...this.issues.map((issue) => `- ${issue.explanation} ${issue.fix}`)].join("\n")
  }
}

const quoteList = (names: ReadonlyArray<string>): string => names.length === 0 ? "(none)" : names.map((name) => `"${name}"`).join(", ")

const closeMatch = (column: string, available: ReadonlyArray<string>): string | undefined =>
  available.find((candidate) => candidate.trim().toLowerCase() === column.trim().toLowerCase())

const unknownColumnFix = (column: string, available: ReadonlyArray<string>): string => {
  const near = closeMatch(column, available)
  return near === undefined ? `Use one of the columns: ${quoteList(available)}.` : `Did you mean "${near}"?`
}

const templateKey = (template: Template): string => `${template.name} (${template.language})`

/** Checks a directory mapping against a template and the columns that exist, listing every mistake in one error. */
export const validate = (
  template: Template,
  mapping: DirectoryMapping,
  availableColumns: ReadonlyArray<string>
): Result.Result<ValidMapping, MappingError> => {
  const analysis = analyze(template)
  const issues: Array<MappingIssue> = analysis.problems.map((problem) => ({
    code: "template_invalid",
    explanation: problem.en,
    fix: "Choose another template until it is fixed."
  }))
  const available = new Set(availableColumns)

  if (mapping.phoneColumn.trim() === "") {
    issues.push({
      code: "phone_column_missing",
      explanation: "No phone column is chosen.",
      fix: `Name the column that holds the phone number (--phone-column), one of: ${quoteList(availableColumns)}.`
    })
  } else if (!available.has(mapping.phoneColumn)) {
    issues.push({
      code: "phone_column_missing",
      column: mapping.phoneColumn,
      explanation: `The phone column "${mapping.phoneColumn}" does not exist.`,
      fix: unknownColumnFix(mapping.phoneColumn, availableColumns)
    })
  }

  const keys = analysis.variables.map((variable) => variable.key)
  for (const key of Object.keys(mapping.variables)) {
    if (!keys.includes(key)) {
      issues.push({
        code: "unknown_variable",
        variable: key,
        explanation: `Template ${templateKey(template)} has no variable "${key}".`,
        fix: `Its variables are: ${keys.length === 0 ? "(none)" : keys.join(", ")}; remove "${key}" from the mapping.`
      })
    }
  }

  const bindings: Array<Binding> = []
  for (const variable of analysis.variables) {
    const source = mapping.variables[variable.key]
    const column = source?.column === undefined || source.column.trim() === "" ? undefined : source.column
    const fallback = source?.default === undefined || source.default.trim() === "" ? undefined : source.default.trim()
    if (column !== undefined && !available.has(column)) {
      issues.push({
        code: "unknown_column",
        variable: variable.key,
        column,
        explanation: `Variable ${variable.key} (${variable.label}) is mapped to column "${column}", which does not exist.`,
        fix: unknownColumnFix(column, availableColumns)
      })
    }
    if (column === undefined && fallback === undefined) {
      issues.push({
        code: "variable_unmapped",
        variable: variable.key,
        explanation: `Variable ${variable.key} (${variable.label}) has no column and no default.`,
        fix: `Map it to a column (--var ${variable.key}=COLUMN) or give a default (--default ${variable.key}=VALUE).`
      })
    }
    if (fallback !== undefined) {
      for (const broken of checkValue(variable, fallback)) {
        issues.push({
          code: "invalid_default",
          variable: variable.key,
          explanation: `The default of variable ${variable.key}: ${broken.explanation}`,
          fix: broken.fix
        })
      }
    }
    bindings.push({
      variable,
      ...(column === undefined ? {} : { column }),
      ...(fallback === undefined ? {} : { default: fallback })
    })
  }

  if (issues.length > 0) return Result.fail(new MappingError({ template: templateKey(template), issues }))
  return Result.succeed({
    _tag: "ValidMapping",
    template: { name: template.name, language: template.language },
    phoneColumn: mapping.phoneColumn,
    bindings
  })
}

/**
 * Builds the mapping of a positional CSV (SPEC §4 B): the first column is the phone number, then one column per
 * variable in {@link variables} order. Column names do not matter; their count and order do.
 */
export const fromCsvHeader = (
  template: Template,
  header: ReadonlyArray<string>,
  defaults: Readonly<Record<string, string>> = {}
): Result.Result<ValidMapping, MappingError> => {
  const expected = variables(template)
  const layout = blankCsv(template).header.join(",")
  const issues: Array<MappingIssue> = []
  const duplicates = [...new Set(header.filter((name, index) => header.indexOf(name) !== index))]
  for (const column of duplicates) {
    issues.push({
      code: "csv_duplicate_column",
      column,
      explanation: `The CSV has more than one column named "${column}".`,
      fix: "Give every column its own name in the header row."
    })
  }
  if (header.length < expected.length + 1) {
    const missing = header.length === 0 ? ["phone", ...expected.map((variable) => variable.key)] : expected.slice(header.length - 1).map((variable) => variable.key)
    issues.push({
      code: "csv_missing_columns",
      explanation: `The CSV has ${header.length} columns; template ${templateKey(template)} needs ${expected.length + 1} (${layout}). Missing: ${missing.join(", ")}.`,
      fix: "Add the missing columns in this order (they may be empty where a default is given); `megaphone campaigns template-csv` writes a blank CSV."
    })
  }
  if (header.length > expected.length + 1) {
    issues.push({
      code: "csv_extra_columns",
      explanation: `The CSV has ${header.length} columns; template ${templateKey(template)} takes only ${expected.length + 1} (${layout}). Extra: ${quoteList(header.slice(expected.length + 1))}.`,
      fix: "Remove the extra columns: the column order decides the variables."
    })
  }
  const sources: Record<string, VariableSource> = {}
  // Defaults for keys the template lacks stay in, so validate names them.
  for (const [key, value] of Object.entries(defaults)) sources[key] = { default: value }
  expected.forEach((variable, index) => {
    const column = header[index + 1]
    if (column !== undefined) sources[variable.key] = { ...sources[variable.key], column }
  })
  const mapping: DirectoryMapping = { phoneColumn: header[0] ?? "", variables: sources }
  const validated = validate(template, mapping, header)
  if (issues.length === 0) return validated
  // The missing-columns issue already names the variables that have no column.
  const rest = Result.isFailure(validated) ? validated.failure.issues.filter((issue) => issue.code !== "variable_unmapped" && issue.code !== "phone_column_missing") : []
  return Result.fail(new MappingError({ template: templateKey(template), issues: [...issues, ...rest] }))
}

/** The blank CSV for a template (`megaphone campaigns template-csv`): its header and one line of help per column. */
export interface BlankCsv {
  /** `phone`, then the variable keys in order: `phone,1,2,3`. */
  readonly header: ReadonlyArray<string>
  /** One line per column: its key, what it fills, an example and its limit. */
  readonly docs: ReadonlyArray<string>
  /** The header row as CSV text, ready to save. */
  readonly csv: string
}

const describe = (variable: TemplateVariable): string => {
  const example = variable.example === undefined ? "" : `, e.g. "${variable.example}"`
  const limit = variable.kind === "image" || variable.kind === "video" || variable.kind === "document"
    ? `an https link anyone can download, or the id of ${variable.kind === "image" ? "an image" : `a ${variable.kind}`} uploaded to Meta`
    : `at most ${variable.maxLength} characters`
  return `${variable.key}: ${variable.label}${example}; ${limit}`
}

/** Generates the blank CSV of a template: phone first, then one column per variable. */
export const blankCsv = (template: Template): BlankCsv => {
  const all = variables(template)
  const header = ["phone", ...all.map((variable) => variable.key)]
  return {
    header,
    docs: ["phone: the contact's phone number with country code, e.g. +420 601 123 456", ...all.map(describe)],
    csv: `${header.join(",")}\r\n`
  }
}

/** Zips a CSV header with one row's cells into the row record {@link resolve} reads (missing cells are absent). */
export const csvRow = (header: ReadonlyArray<string>, cells: ReadonlyArray<string>): Readonly<Record<string, string>> =>
  Object.fromEntries(header.flatMap((name, index) => {
    const cell = cells[index]
    return cell === undefined ? [] : [[name, cell] as const]
  }))

// ---------------------------------------------------------------------------------------------
// Parameter values

/** Which of Meta's parameter rules a value breaks. */
export const ParameterRule = Schema.Literals([
  "empty",
  "line_break",
  "tab",
  "consecutive_spaces",
  "too_long",
  "too_long_after_hydration",
  "not_https_link",
  "whitespace_in_url"
])

/** One value that would be refused by Meta, with what to do about it. */
export const ParameterProblem = Schema.Struct({
  variable: Schema.String,
  /** The start of the offending value (never the whole of a long text). */
  value: Schema.String,
  rule: ParameterRule,
  explanation: Schema.String,
  fix: Schema.String
})

/** One value that would be refused by Meta, with what to do about it. */
export type ParameterProblem = typeof ParameterProblem.Type

/** Every problem of one contact's values (contact state `invalid_record`); nothing is sent for it. */
export class ParameterError extends Schema.TaggedError<ParameterError>()("ParameterError", {
  problems: Schema.Array(ParameterProblem)
}) {
  override get message(): string {
    return this.problems.map((problem) => `${problem.variable}: ${problem.explanation} ${problem.fix}`).join("\n")
  }
}

/** A value that made it through every rule, and where it came from. */
export interface ResolvedValue {
  readonly variable: TemplateVariable
  readonly value: string
  readonly source: "contact" | "default"
}

/** One contact's parameters for one template, ready for {@link buildPayload}. */
export interface ResolvedParameters {
  readonly template: { readonly name: string; readonly language: string }
  /** In {@link variables} order. */
  readonly values: ReadonlyArray<ResolvedValue>
}

const EXCERPT = 40
const excerpt = (value: string): string => (value.length <= EXCERPT ? value : `${value.slice(0, EXCERPT)}…`)
const LINE_BREAK = /[\r\n\u2028\u2029]/
const TOO_MANY_SPACES = / {5,}/
const isMedia = (variable: TemplateVariable) => variable.kind === "image" || variable.kind === "video" || variable.kind === "document"

// The id Meta returns for uploaded media (`POST /{PHONE_NUMBER_ID}/media`) is a string of digits.
const MEDIA_ID = /^\d+$/

/** Whether a media header value is the id of media uploaded to Meta rather than a link. */
export const isMediaId = (value: string): boolean => MEDIA_ID.test(value)

/** Why a media header value is neither an https link nor a media id; `shown` is how the message quotes it. */
const mediaProblem = (kind: string, value: string, shown: string): { explanation: string; fix: string } | undefined => {
  if (isMediaId(value)) return undefined
  const either = `Give a public https:// link to the ${kind}, or the id of media uploaded to Meta (digits only).`
  if (/\s/.test(value)) {
    return { explanation: `${shown} contains a space or a line break, which a link cannot hold.`, fix: `Write a space in a link as %20. ${either}` }
  }
  const link = URL.canParse(value) ? new URL(value) : undefined
  if (link === undefined) return { explanation: `${shown} is neither an https link nor a media id.`, fix: either }
  if (link.protocol !== "https:" || link.hostname === "") {
    return { explanation: `${shown} is not an https link; media links are sent over https only.`, fix: either }
  }
  return undefined
}

/** Meta's rules for one value (whatsapp-cloud-api.md §1); the per-component length after hydration is checked in {@link resolve}. */
const checkValue = (variable: TemplateVariable, value: string, column?: string): Array<ParameterProblem> => {
  const problems: Array<ParameterProblem> = []
  const add = (rule: ParameterProblem["rule"], explanation: string, fix: string) =>
    problems.push({ variable: variable.key, value: excerpt(value), rule, explanation, fix })
  if (isMedia(variable)) {
    const shown = column === undefined ? `"${excerpt(value)}"` : `"${excerpt(value)}" (column "${column}")`
    const problem = mediaProblem(variable.kind, value, shown)
    if (problem !== undefined) add("not_https_link", problem.explanation, problem.fix)
  } else if (variable.kind === "url_suffix") {
    if (/\s/.test(value)) {
      add("whitespace_in_url", `"${excerpt(value)}" contains spaces or line breaks, which cannot be part of a link.`, "Remove them, or use URL-safe text (e.g. dashes).")
    }
  } else {
    if (LINE_BREAK.test(value)) {
      add("line_break", "The value contains a line break, which Meta refuses in parameters.", "Put the text on one line.")
    }
    if (value.includes("\t")) {
      add("tab", "The value contains a tab, which Meta refuses in parameters.", "Replace the tab with a space.")
    }
    if (TOO_MANY_SPACES.test(value)) {
      add("consecutive_spaces", "The value has more than 4 spaces in a row, which Meta refuses.", "Use at most 4 spaces in a row.")
    }
  }
  if (value.length > variable.maxLength) {
    add("too_long", `The value has ${value.length} characters; ${variable.label} takes at most ${variable.maxLength}.`, "Shorten it.")
  }
  return problems
}

/** Fills a template's variables for one contact: its value, else the default; then Meta's rules, reporting every problem. */
export const resolve = (
  template: Template,
  mapping: ValidMapping,
  row: Readonly<Record<string, string | undefined>>
): Result.Result<ResolvedParameters, ParameterError> => {
  const problems: Array<ParameterProblem> = []
  const values: Array<ResolvedValue> = []
  for (const binding of mapping.bindings) {
    const contact = (binding.column === undefined ? undefined : row[binding.column])?.trim() ?? ""
    const fallback = binding.default?.trim() ?? ""
    const value = contact === "" ? fallback : contact
    const variable = binding.variable
    if (value === "") {
      problems.push({
        variable: variable.key,
        value: "",
        rule: "empty",
        explanation: `Variable ${variable.key} (${variable.label}) is empty for this contact and has no default; Meta refuses blank parameters.`,
        fix: binding.column === undefined
          ? `Give a default (--default ${variable.key}=VALUE).`
          : `Fill in column "${binding.column}" for this contact, or give a default (--default ${variable.key}=VALUE).`
      })
      continue
    }
    problems.push(...checkValue(variable, value, contact === "" ? undefined : binding.column))
    values.push({ variable, value, source: contact === "" ? "default" : "contact" })
  }

  // Length after hydration: several values share one component's limit.
  const hydrationChecks = [
    { component: "header" as const, limit: LIMITS.headerText, prefix: "header." },
    { component: "body" as const, limit: LIMITS.bodyText, prefix: "" }
  ]
  for (const { component, limit, prefix } of hydrationChecks) {
    const text = texts(template)[component]
    const own = values.filter((resolved) => resolved.variable.component === component && resolved.variable.kind === "text")
    if (text === undefined || own.length === 0) continue
    if (problems.some((problem) => problem.rule === "too_long" && own.some((resolved) => resolved.variable.key === problem.variable))) continue
    const hydrated = hydrate(text, (name) => own.find((resolved) => resolved.variable.key === `${prefix}${name}`)?.value)
    if (hydrated.length > limit) {
      problems.push({
        variable: own.map((resolved) => resolved.variable.key).join(","),
        value: excerpt(hydrated),
        rule: "too_long_after_hydration",
        explanation: `With this contact's values the ${component} has ${hydrated.length} characters; Meta allows ${limit}.`,
        fix: `Shorten the values of ${own.map((resolved) => resolved.variable.key).join(", ")}.`
      })
    }
  }

  if (problems.length > 0) return Result.fail(new ParameterError({ problems }))
  return Result.succeed({ template: { name: mapping.template.name, language: mapping.template.language }, values })
}

/** The values by variable key (`{ "1": "pane", "header.1": "Anna" }`), e.g. to store with the contact. */
export const toRecord = (resolved: ResolvedParameters): Readonly<Record<string, string>> =>
  Object.fromEntries(resolved.values.map((value) => [value.variable.key, value.value]))

/**
 * Rebuilds a contact's parameters from the values stored with it ({@link toRecord}'s form), for sending: every
 * variable of the template needs its value, and each value still has to pass Meta's rules — a failure means the
 * template changed since the contact was added.
 */
export const fromRecord = (
  template: Template,
  record: Readonly<Record<string, string>>
): Result.Result<ResolvedParameters, ParameterError> => {
  const problems: Array<ParameterProblem> = []
  const values: Array<ResolvedValue> = []
  for (const variable of variables(template)) {
    const value = Object.hasOwn(record, variable.key) ? record[variable.key] ?? "" : ""
    if (value === "") {
      problems.push({
        variable: variable.key,
        value: "",
        rule: "empty",
        explanation: `Variable ${variable.key} (${variable.label}) has no value stored for this contact; the template gained it after the contact was added.`,
        fix: "Add the contact again so its values are resolved for the template as it is now."
      })
      continue
    }
    problems.push(...checkValue(variable, value))
    values.push({ variable, value, source: "contact" })
  }
  if (problems.length > 0) return Result.fail(new ParameterError({ problems }))
  return Result.succeed({ template: { name: template.name, language: template.language }, values })
}

// ---------------------------------------------------------------------------------------------
// Cloud API payload

/** A text parameter; named templates add `parameter_name`. */
export interface TextParameter {
  readonly type: "text"
  readonly parameter_name?: string
  readonly text: string
}

/** Where Meta takes a header's media from: a public link, or the id of media uploaded to Meta. */
export type MediaSource = { readonly link: string } | { readonly id: string }

/** A media header parameter (whatsapp-cloud-api.md §1); a document may name the file the recipient sees. */
export type MediaParameter =
  | { readonly type: "image"; readonly image: MediaSource }
  | { readonly type: "video"; readonly video: MediaSource }
  | { readonly type: "document"; readonly document: MediaSource & { readonly filename?: string } }

/** A COPY_CODE button's parameter. */
export interface CouponCodeParameter {
  readonly type: "coupon_code"
  readonly coupon_code: string
}

/** One component of a template message. */
export type PayloadComponent =
  | { readonly type: "header"; readonly parameters: ReadonlyArray<TextParameter | MediaParameter> }
  | { readonly type: "body"; readonly parameters: ReadonlyArray<TextParameter> }
  | { readonly type: "button"; readonly sub_type: "url"; readonly index: string; readonly parameters: ReadonlyArray<TextParameter> }
  | { readonly type: "button"; readonly sub_type: "copy_code"; readonly index: string; readonly parameters: ReadonlyArray<CouponCodeParameter> }

/** The exact body of `POST /{PHONE_NUMBER_ID}/messages` for a template message. */
export interface TemplateMessagePayload {
  readonly messaging_product: "whatsapp"
  readonly recipient_type: "individual"
  readonly to: string
  readonly type: "template"
  readonly biz_opaque_callback_data?: string
  readonly template: {
    readonly name: string
    readonly language: { readonly code: string; readonly policy: "deterministic" }
    readonly components: ReadonlyArray<PayloadComponent>
  }
}

/** Meta's cap on `biz_opaque_callback_data`. */
export const CALLBACK_DATA_MAX = 512

/** `biz_opaque_callback_data` longer than Meta accepts. */
export class CallbackDataTooLong extends Schema.TaggedError<CallbackDataTooLong>()("CallbackDataTooLong", {
  length: Schema.Number
}) {
  override get message(): string {
    return `biz_opaque_callback_data has ${this.length} characters; Meta accepts at most ${CALLBACK_DATA_MAX}. Shorten it.`
  }
}

/** Parameters resolved for one template, used with another: sending them would fill the wrong placeholders. */
export class ParametersForAnotherTemplate extends Schema.TaggedError<ParametersForAnotherTemplate>()("ParametersForAnotherTemplate", {
  resolvedFor: Schema.String,
  template: Schema.String
}) {
  override get message(): string {
    return `The parameters were resolved for template ${this.resolvedFor}, not ${this.template}. Resolve them again for this template.`
  }
}

/** Options of {@link buildPayload}. */
export interface PayloadOptions {
  /** Echoed in status webhooks; e.g. `campaign42:contact977`. */
  readonly bizOpaqueCallbackData?: string
}

const textParameter = (resolved: ResolvedValue): TextParameter =>
  resolved.variable.parameterName === undefined
    ? { type: "text", text: resolved.value }
    : { type: "text", parameter_name: resolved.variable.parameterName, text: resolved.value }

const mediaSource = (value: string): MediaSource => (isMediaId(value) ? { id: value } : { link: value })

/**
 * The file name a document link ends with (`https://…/Faktura%2042.pdf` → `Faktura 42.pdf`), which the recipient
 * sees instead of an untitled file; none when the link's last segment has no extension.
 */
export const documentFilename = (link: string): string | undefined => {
  const last = URL.canParse(link) ? new URL(link).pathname.split("/").at(-1) ?? "" : ""
  let name = last
  try {
    name = decodeURIComponent(last)
  } catch {
    // A malformed escape: the segment as written is still the best name there is.
  }
  name = name.replaceAll("/", "_").trim()
  return /^[^.].*\.[A-Za-z0-9]{1,10}$/.test(name) && name.length <= 240 ? name : undefined
}

const headerParameter = (resolved: ResolvedValue): TextParameter | MediaParameter => {
  const value = resolved.value
  switch (resolved.variable.kind) {
    case "image": return { type: "image", image: mediaSource(value) }
    case "video": return { type: "video", video: mediaSource(value) }
    case "document": {
      const filename = isMediaId(value) ? undefined : documentFilename(value)
      return { type: "document", document: filename === undefined ? mediaSource(value) : { link: value, filename } }
    }
    default: return textParameter(resolved)
  }
}

/** Builds the Cloud API request body for one contact (`to` = its wa_id); components without parameters are left out. */
export const buildPayload = (
  template: Template,
  to: string,
  resolved: ResolvedParameters,
  options: PayloadOptions = {}
): Result.Result<TemplateMessagePayload, CallbackDataTooLong | ParametersForAnotherTemplate> => {
  if (resolved.template.name !== template.name || resolved.template.language !== template.language) {
    return Result.fail(new ParametersForAnotherTemplate({
      resolvedFor: `${resolved.template.name} (${resolved.template.language})`,
      template: templateKey(template)
    }))
  }
  const callbackData = options.bizOpaqueCallbackData
  if (callbackData !== undefined && callbackData.length > CALLBACK_DATA_MAX) {
    return Result.fail(new CallbackDataTooLong({ length: callbackData.length }))
  }
  const of = (component: TemplateVariable["component"]) => resolved.values.filter((value) => value.variable.component === component)
  const components: Array<PayloadComponent> = []
  const header = of("header")
  if (header.length > 0) components.push({ type: "header", parameters: header.map(headerParameter) })
  const body = of("body")
  if (body.length > 0) components.push({ type: "body", parameters: body.map(textParameter) })
  for (const button of of("button")) {
    const index = String(button.variable.buttonIndex ?? 0)
    components.push(button.variable.kind === "coupon_code"
      ? { type: "button", sub_type: "copy_code", index, parameters: [{ type: "coupon_code", coupon_code: button.value }] }
      : { type: "button", sub_type: "url", index, parameters: [{ type: "text", text: button.value }] })
  }
  return Result.succeed({
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to,
    type: "template",
    ...(callbackData === undefined ? {} : { biz_opaque_callback_data: callbackData }),
    template: {
      name: template.name,
      language: { code: template.language, policy: "deterministic" },
      components
    }
  })
}
