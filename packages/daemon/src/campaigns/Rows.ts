/**
 * Turning rows into campaign contacts (SPEC §4): a CSV's columns or a directory mapping are checked against the
 * template first, all mismatches in one error and nothing added; then each row is judged alone, so one bad row is
 * reported with its line and never costs the good ones.
 *
 * The blank CSV a campaign hands out (`template-csv`) lives here too, because its guide rows are read back by the
 * same rule: a row whose first cell starts with `#` is a note, never a contact.
 */
import { Mapping, Phone, type Ports, SendWindow, Template } from "@megaphone/core"
import { Effect, Result } from "effect"
import { type CsvRow, csvLine, decodeText, type Delimiter, detectDelimiter, parseCsv, safeCsvLine } from "./Csv.ts"
import { checkColumns, type FilterChoice, knownColumns, requireFilter } from "./Directory.ts"
import { CsvEmpty, CsvHeaderMismatch, CsvUnreadable, MappingMismatch } from "./Errors.ts"
import { forEachPageEffect } from "./Paging.ts"

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

/**
 * Candidates handed over batch by batch (a directory of a million contacts is never in memory at once): `forEach`
 * reads the source to its end and gives each batch to `add` before reading far ahead.
 */
export interface CandidateBatches {
  readonly _tag: "CandidateBatches"
  readonly forEach: <E, R>(
    add: (batch: Candidates) => Effect.Effect<void, E, R>
  ) => Effect.Effect<void, E | Ports.Storage.StorageError, R>
}

/** Every batch of a source in one list: for small sources and tests (a big directory belongs in batches). */
export const collect = (source: CandidateBatches): Effect.Effect<Candidates, Ports.Storage.StorageError> =>
  Effect.suspend(() => {
    const contacts: Array<Ports.Storage.NewCampaignContact> = []
    const rejected: Array<Rejected> = []
    return source.forEach((batch) =>
      Effect.sync(() => {
        contacts.push(...batch.contacts)
        rejected.push(...batch.rejected)
      })
    ).pipe(Effect.as({ contacts, rejected }))
  })

/** One row: a contact to add, or the reason it is not added. */
export type Judged =
  | { readonly _tag: "Add"; readonly contact: Ports.Storage.NewCampaignContact }
  | { readonly _tag: "Reject"; readonly reason: string }

const E164 = /^\+[1-9]\d{6,14}$/

/** Phone first (an unusable number is kept as an invalid record), then the values by Meta's rules. */
export const judge = (
  template: Template.Template,
  mapping: Mapping.ValidMapping,
  row: Readonly<Record<string, string>>,
  directoryContactId: string | null,
  normalizedPhone?: string
): Judged => {
  const phone = (row[mapping.phoneColumn] ?? "").trim()
  const resolved = Mapping.resolve(template, mapping, row)
  // A directory contact's own number was normalised when it was imported: checking it again would cost a
  // million-contact campaign most of its adding time for nothing.
  const normalized = normalizedPhone !== undefined && phone === normalizedPhone && E164.test(phone)
    ? Result.succeed({ waId: phone.slice(1) })
    : Phone.normalize(phone)
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

// ---------------------------------------------------------------------------------------------------------
// CSV files (SPEC §4 B)

/** A row whose first cell starts with this is a note (the blank CSV's guide rows), skipped when read. */
export const NOTE = "#"

/** The example phone number of the blank CSV. */
const EXAMPLE_PHONE = "+420 601 123 456"

/** The blank CSV of a template, with the guide rows that are skipped when it is read back. */
export interface GuidedBlankCsv extends Mapping.BlankCsv {
  /** The template's texts with their placeholders, as the guide rows show them (`Body: Dobrý den, {{1}} …`). */
  readonly texts: ReadonlyArray<string>
  /** An example row: a phone number, then each variable's example (Meta's, where the template has one). */
  readonly example: ReadonlyArray<string>
}

/** A value that shows what a variable without an example of its own takes. */
const exampleOf = (variable: Template.TemplateVariable): string => {
  if (variable.example !== undefined) return variable.example
  switch (variable.kind) {
    case "image": return "https://example.com/image.jpg"
    case "video": return "https://example.com/video.mp4"
    case "document": return "https://example.com/document.pdf"
    case "url_suffix": return "abc123"
    case "coupon_code": return "SPRING25"
    case "text": return `{{${variable.key}}}`
  }
}

/** What the blank CSV shows: the template, the header, the template's texts and the example row. */
export interface Guide {
  readonly template: string
  readonly language: string
  readonly header: ReadonlyArray<string>
  readonly texts: ReadonlyArray<string>
  readonly example: ReadonlyArray<string>
}

/**
 * The text of a blank CSV: the header, then guide rows a person reads and the reader skips — what the file is,
 * the template's texts, and an example row under the columns it fills. Rows added below them are the contacts.
 * `;` (with a BOM the caller adds) is what Czech Excel opens in columns.
 */
export const guideCsv = (guide: Guide, delimiter: Delimiter = ","): string =>
  csvLine(guide.header, delimiter) +
  csvLine([`${NOTE} Template ${guide.template} (${guide.language}). Rows starting with ${NOTE} are notes and are skipped; ` +
    `the column order decides the variables.`], delimiter) +
  guide.texts.map((text) => csvLine([`${NOTE} ${text}`], delimiter)).join("") +
  safeCsvLine([`${NOTE} Example: ${guide.example[0] ?? EXAMPLE_PHONE}`, ...guide.example.slice(1)], delimiter)

/** The blank CSV of a template (`megaphone campaigns template-csv`): phone, then one column per variable, and the guide rows. */
export const blankCsv = (template: Template.Template): GuidedBlankCsv => {
  const blank = Mapping.blankCsv(template)
  const { header, body } = Template.texts(template)
  const media = Template.variables(template).find((v) => v.kind === "image" || v.kind === "video" || v.kind === "document")
  const texts = [
    ...(header === undefined ? [] : [`Header: ${header}`]),
    ...(media === undefined ? [] : [`Header: ${media.kind === "image" ? "an image" : `a ${media.kind}`} — an https link or a media id in column ${media.key}`]),
    ...(body === undefined ? [] : [`Body: ${body}`])
  ]
  const example = [EXAMPLE_PHONE, ...Template.variables(template).map(exampleOf)]
  const csv = guideCsv({ template: template.name, language: template.language, header: blank.header, texts, example })
  return { ...blank, csv, texts, example }
}

const isNote = (row: CsvRow): boolean => (row.cells[0] ?? "").trimStart().startsWith(NOTE)

/**
 * Whether a CSV's first row is a header: its first cell (where the phone numbers are) holds a letter, or no digit
 * at all. A phone number never does, so a file without a header loses no contact to this.
 */
export const isHeader = (cells: ReadonlyArray<string>): boolean => {
  const first = (cells[0] ?? "").trim()
  return /\p{L}/u.test(first) || !/\d/.test(first)
}

/** The column names of a CSV without a header: the blank CSV's (`phone`, `1`, `2`, …), then `column N` for extra ones. */
const positionalHeader = (template: Template.Template, width: number): ReadonlyArray<string> => {
  const names = Mapping.blankCsv(template).header
  return Array.from({ length: width }, (_, i) => names[i] ?? `column ${i + 1}`)
}

const delimiterName = (delimiter: Delimiter): string => (delimiter === "\t" ? "tab" : `"${delimiter}"`)

/**
 * Contacts from a positional CSV (SPEC §4 B: phone, then one column per variable in the template's order) for
 * campaign `campaign`. The first row is a header when it does not start with a phone number ({@link isHeader});
 * notes ({@link NOTE}) are skipped. The encoding is detected (`decodeText`). Text that is not CSV, an empty file, or columns that do not fit
 * the template fail before any row is judged.
 */
export const fromCsv = (
  campaign: string,
  template: Template.Template,
  bytes: Uint8Array,
  defaults: Readonly<Record<string, string>>
): Result.Result<Candidates, CsvUnreadable | CsvEmpty | CsvHeaderMismatch> => {
  const text = decodeText(bytes)
  const delimiter = detectDelimiter(text)
  const rows = parseCsv(text, delimiter)
  if (Result.isFailure(rows)) return Result.fail(new CsvUnreadable({ problem: rows.failure }))
  const all = rows.success.filter((row) => !isNote(row))
  const first = all[0]
  if (first === undefined) return Result.fail(new CsvEmpty({ campaign, header: Mapping.blankCsv(template).header }))
  const hasHeader = isHeader(first.cells)
  const header = hasHeader ? first.cells.map((h) => h.trim()) : positionalHeader(template, first.cells.length)
  const data = hasHeader ? all.slice(1) : all
  const mapping = Mapping.fromCsvHeader(template, header, defaults)
  if (Result.isFailure(mapping)) return Result.fail(new CsvHeaderMismatch({ mapping: mapping.failure }))
  const contacts: Array<Ports.Storage.NewCampaignContact> = []
  const rejected: Array<Rejected> = []
  for (const row of data) {
    const phone = (row.cells[0] ?? "").trim()
    // A row of another shape is not guessed at: its cells would land in the wrong variables.
    if (row.cells.length !== header.length) {
      const reference = hasHeader ? "the header" : "the first row"
      rejected.push({
        line: row.line,
        phone,
        reason: `The row has ${row.cells.length} cell(s), ${reference} ${header.length} (cells separated by ${delimiterName(delimiter)}, ` +
          `as in ${reference}): use ${reference}'s delimiter in every row, and quote a cell that contains it.`
      })
      continue
    }
    const judged = judge(template, mapping.success, Mapping.csvRow(header, row.cells), null)
    if (judged._tag === "Add") contacts.push(judged.contact)
    else rejected.push({ line: row.line, phone, reason: judged.reason })
  }
  return Result.succeed({ contacts, rejected })
}

// ---------------------------------------------------------------------------------------------------------
// The directory (SPEC §4 A)

/** Which directory contacts, and how their columns fill the template (SPEC §4 A). */
export interface DirectorySource extends FilterChoice {
  /** The column holding the phone number (`phone` is the contact's own number). */
  readonly phoneColumn: string
  /** Variable key → the column that fills it. */
  readonly vars: Readonly<Record<string, string>>
  /** Variable key → the value used when the contact's is empty. */
  readonly defaults: Readonly<Record<string, string>>
}

/**
 * The directory column that gives a contact its own time zone (an IANA name such as `America/Chicago`), read in
 * place of its number's country's zones by the campaign's send window, and frozen with the contact when added.
 */
export const TIME_ZONE_COLUMN = "time_zone"

// Directory contacts read per call while adding: large pages keep the round trips few on a million contacts.
const DIRECTORY_PAGE = 5_000

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
    const valid = mapping.success
    const batches: CandidateBatches = {
      _tag: "CandidateBatches",
      forEach: (add) =>
        forEachPageEffect((page) => storage.listDirectory(filter, page), (page) => {
          const contacts: Array<Ports.Storage.NewCampaignContact> = []
          const rejected: Array<Rejected> = []
          for (const contact of page) {
            // A column named `phone` wins over the contact's number, as in the filter.
            const row = { phone: contact.phone, ...contact.columns }
            const judged = judge(template, valid, row, contact.id, row.phone === contact.phone ? contact.phone : undefined)
            const zone = SendWindow.parseTimeZone(contact.columns[TIME_ZONE_COLUMN] ?? "")
            if (judged._tag === "Reject") rejected.push({ line: null, phone: contact.phone, reason: judged.reason })
            else if (Result.isFailure(zone)) rejected.push({ line: null, phone: contact.phone, reason: `${TIME_ZONE_COLUMN}: ${zone.failure.message}` })
            else contacts.push(zone.success === null ? judged.contact : { ...judged.contact, timeZone: zone.success })
          }
          return add({ contacts, rejected })
        }, DIRECTORY_PAGE)
    }
    return batches
  })
