/**
 * Turning rows into campaign contacts (SPEC §4): a CSV's header or a directory mapping is checked against the
 * template first, all mismatches in one error and nothing added; then each row is judged alone, so one bad row is
 * reported with its line and never costs the good ones.
 */
import { Mapping, Phone, type Ports, type Template } from "@megaphone/core"
import { Effect, Result } from "effect"
import { decodeUtf8, detectDelimiter, parseCsv } from "./Csv.ts"
import { checkColumns, type FilterChoice, knownColumns, requireFilter } from "./Directory.ts"
import { CsvEmpty, CsvHeaderMismatch, CsvUnreadable, MappingMismatch } from "./Errors.ts"
import { forEachPage } from "./Paging.ts"

/** A row that was not added, and why. `line` for CSV rows (null for directory contacts), `phone` always. */
export interface Rejected {
  readonly line: number | null
  readonly phone: string
  readonly reason: string
}

/** The contacts a source yields for a campaign, and the rows it rejected. */
export interface Candidates {
  readonly contacts: ReadonlyArray<Ports.Storage.NewCampaignContact>
  readonly rejected: ReadonlyArray<Rejected>
}

/** One row: a contact to add, or the reason it is not added. */
export type Judged =
  | { readonly _tag: "Add"; readonly contact: Ports.Storage.NewCampaignContact }
  | { readonly _tag: "Reject"; readonly reason: string }

/** Phone first (an unusable number is kept as an invalid record), then the values by Meta's rules. */
export const judge = (
  template: Template.Template,
  mapping: Mapping.ValidMapping,
  row: Readonly<Record<string, string>>,
  directoryContactId: string | null
): Judged => {
  const phone = (row[mapping.phoneColumn] ?? "").trim()
  const resolved = Mapping.resolve(template, mapping, row)
  const normalized = Phone.normalize(phone)
  if (Result.isFailure(normalized)) {
    return {
      _tag: "Add",
      contact: {
        phone,
        recipient: null,
        parameters: Result.isSuccess(resolved) ? Mapping.toRecord(resolved.success) : {},
        directoryContactId,
        invalid: { code: "invalid_phone", text: normalized.failure.explanation }
      }
    }
  }
  if (Result.isFailure(resolved)) return { _tag: "Reject", reason: resolved.failure.message.replaceAll("\n", " ") }
  return {
    _tag: "Add",
    contact: { phone, recipient: normalized.success.waId, parameters: Mapping.toRecord(resolved.success), directoryContactId }
  }
}

/**
 * Contacts from a positional CSV (SPEC §4 B: phone, then one column per variable in the template's order) for
 * campaign `campaign`. Text that is not UTF-8 or not CSV, an empty file, or a header that does not fit the
 * template fails before any row is judged.
 */
export const fromCsv = (
  campaign: string,
  template: Template.Template,
  bytes: Uint8Array,
  defaults: Readonly<Record<string, string>>
): Result.Result<Candidates, CsvUnreadable | CsvEmpty | CsvHeaderMismatch> => {
  const text = decodeUtf8(bytes)
  if (Result.isFailure(text)) return Result.fail(new CsvUnreadable({ problem: text.failure }))
  const delimiter = detectDelimiter(text.success)
  const rows = parseCsv(text.success, delimiter)
  if (Result.isFailure(rows)) return Result.fail(new CsvUnreadable({ problem: rows.failure }))
  const [headerRow, ...data] = rows.success
  if (headerRow === undefined) return Result.fail(new CsvEmpty({ campaign, header: Mapping.blankCsv(template).header }))
  const header = headerRow.cells.map((h) => h.trim())
  const mapping = Mapping.fromCsvHeader(template, header, defaults)
  if (Result.isFailure(mapping)) return Result.fail(new CsvHeaderMismatch({ mapping: mapping.failure }))
  const contacts: Array<Ports.Storage.NewCampaignContact> = []
  const rejected: Array<Rejected> = []
  for (const row of data) {
    const phone = (row.cells[0] ?? "").trim()
    // A row of another shape is not guessed at: its cells would land in the wrong variables.
    if (row.cells.length !== header.length) {
      rejected.push({
        line: row.line,
        phone,
        reason: `The row has ${row.cells.length} cell(s), the header ${header.length} (cells separated by ` +
          `${delimiter === "\t" ? "tab" : `"${delimiter}"`}, as in the header): use the header's delimiter in every row, ` +
          `and quote a cell that contains it.`
      })
      continue
    }
    const judged = judge(template, mapping.success, Mapping.csvRow(header, row.cells), null)
    if (judged._tag === "Add") contacts.push(judged.contact)
    else rejected.push({ line: row.line, phone, reason: judged.reason })
  }
  return Result.succeed({ contacts, rejected })
}

/** Which directory contacts, and how their columns fill the template (SPEC §4 A). */
export interface DirectorySource extends FilterChoice {
  /** The column holding the phone number (`phone` is the contact's own number). */
  readonly phoneColumn: string
  /** Variable key → the column that fills it. */
  readonly vars: Readonly<Record<string, string>>
  /** Variable key → the value used when the contact's is empty. */
  readonly defaults: Readonly<Record<string, string>>
}

/** Contacts of the directory through a filter; the filter and the mapping are checked against the directory's columns first. */
export const fromDirectory = (storage: Ports.Storage.StorageShape, template: Template.Template, source: DirectorySource) =>
  Effect.gen(function*() {
    // The filter and the mapping see the contact's columns plus `phone` (see StorageShape.listDirectory).
    const columns = yield* knownColumns(storage)
    const filter = yield* Effect.fromResult(checkColumns(yield* requireFilter(storage, source), columns))
    const variables: Record<string, Mapping.VariableSource> = {}
    for (const [key, column] of Object.entries(source.vars)) variables[key] = { column }
    for (const [key, value] of Object.entries(source.defaults)) variables[key] = { ...variables[key], default: value }
    const mapping = Mapping.validate(template, { phoneColumn: source.phoneColumn, variables }, columns)
    if (Result.isFailure(mapping)) return yield* new MappingMismatch({ mapping: mapping.failure })
    const contacts: Array<Ports.Storage.NewCampaignContact> = []
    const rejected: Array<Rejected> = []
    yield* forEachPage((page) => storage.listDirectory(filter, page), (page) => {
      for (const contact of page) {
        // A column named `phone` wins over the contact's number, as in the filter.
        const judged = judge(template, mapping.success, { phone: contact.phone, ...contact.columns }, contact.id)
        if (judged._tag === "Add") contacts.push(judged.contact)
        else rejected.push({ line: null, phone: contact.phone, reason: judged.reason })
      }
    })
    const candidates: Candidates = { contacts, rejected }
    return candidates
  })
