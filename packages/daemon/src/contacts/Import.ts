/**
 * `contacts import`: a CSV file into the directory (SPEC §1 "Nahrát CSV"), streaming with constant memory.
 *
 *   file → decoder (Encoding) → CsvReader → rows checked and phones normalised → batches → storage.importDirectory
 *
 * One batch is written while the next is read: PostgreSQL works in its own process, so the two overlap. Each batch
 * is atomic; a database failure stops the import at the first line of the batch that failed, everything before it
 * stays, and the upsert by phone makes running the same file again safe. Bad rows never stop the good ones: each
 * is rejected with its line and reason (into the rejects file) and the import goes on. Empty rows are skipped.
 */
import { Phone, Ports } from "@megaphone/core"
import { Clock, Effect, Fiber, Result } from "effect"
import { type CsvEvent, type Delimiter, DELIMITERS, describeDelimiter, fitsHeader, isBlank, significantCells } from "./CsvReader.ts"
import type { DetectedEncoding, EncodingChoice } from "./Encoding.ts"
import { ImportStopped } from "./Errors.ts"
import { type MapRule, type Mapping, propose } from "./Mapping.ts"
import { type Rejected, rejectsFile } from "./Rejects.ts"
import { type DelimiterChoice, openSource, type Source } from "./Source.ts"

/** What an import is asked to do. */
export interface ImportSettings {
  readonly file: string
  readonly encoding: EncodingChoice
  readonly delimiter: DelimiterChoice
  readonly rules: ReadonlyArray<MapRule>
  /** The country of numbers written without a country code (ISO 3166, checked). */
  readonly country: string
  readonly onDuplicate: "update" | "skip"
  readonly rejectsPath: string
  /** Contacts per write (default {@link BATCH}). */
  readonly batchSize?: number
}

/** Contacts per write: large enough that a round trip is cheap next to the rows, small enough to overlap well. */
export const BATCH = 5_000

/** Rows read before the mapping is decided: the sample that finds the phone column by its values. */
export const SAMPLE_ROWS = 200

/** How many rejected rows the summary lists (all are in the rejects file). */
export const LISTED_REJECTS = 10

/** What the file and the mapping look like, for the summary and the preview. */
export interface Layout {
  readonly file: string
  readonly encoding: DetectedEncoding
  readonly delimiter: Delimiter
  readonly delimiterReason: string
  readonly headerLine: number
  readonly mapping: Mapping
}

/** What an import did. Every row read is inserted, updated, skipped or rejected. */
export interface ImportSummary extends Layout {
  /** Data rows read (not counting the header and empty rows). */
  readonly rows: number
  readonly inserted: number
  readonly updated: number
  /** Rows whose phone was already in the directory (or earlier in the file), with `--on-duplicate skip`. */
  readonly skipped: number
  readonly rejected: number
  /** Empty lines and rows of empty cells, skipped. */
  readonly blank: number
  /** The rejects file, when a row was rejected. */
  readonly rejectsFile: string | null
  /** The first rejected rows. */
  readonly firstRejects: ReadonlyArray<Rejected>
}

/** How far an import is, after each chunk of the file. */
export interface Progress {
  readonly bytesRead: number
  readonly size: number
  readonly rows: number
}

/** A row of the file, checked. */
export type Row =
  | { readonly _tag: "Blank" }
  | { readonly _tag: "Rejected"; readonly line: number; readonly reason: string; readonly cells: ReadonlyArray<string> }
  | { readonly _tag: "Contact"; readonly line: number; readonly contact: Ports.Storage.NewDirectoryContact }

const BLANK: Row = { _tag: "Blank" }

const cellCount = (n: number) => `${n} cell${n === 1 ? "" : "s"}`

/**
 * The check of each row under a mapping: the header's number of cells (Excel's empty padding allowed), text that
 * decoded cleanly, and a phone number that normalises; the contact as the directory gets it (values trimmed).
 */
export const rowChecker = (layout: Omit<Layout, "file">, header: ReadonlyArray<string>, country: string) => {
  const { mapping, delimiter, headerLine } = layout
  const width = header.length
  const phoneIndex = mapping.phone
  const phoneHeader = header[phoneIndex] ?? `#${phoneIndex + 1}`
  const targets = mapping.columns.flatMap((c) => (c.target._tag === "Column" ? [{ index: c.index, name: c.target.name }] : []))
  const options = { defaultCountry: country }
  const otherDelimiters = DELIMITERS.filter((d) => d !== delimiter)
  const shape = (cells: ReadonlyArray<string>): string => {
    const n = significantCells(cells)
    const other = n <= 1 ? otherDelimiters.find((d) => (cells[0] ?? "").split(d).length === width) : undefined
    return `the row has ${cellCount(n)}, the header (line ${headerLine}) has ${width}` +
      (other !== undefined
        ? `: it looks ${describeDelimiter(other)}-separated; use the header's delimiter ${describeDelimiter(delimiter)}`
        : n > width
        ? `: a cell holding the delimiter ${describeDelimiter(delimiter)} must be in quotes`
        : "")
  }
  return (event: CsvEvent): Row => {
    if (event._tag === "Broken") return { _tag: "Rejected", line: event.line, reason: `not valid CSV: ${event.reason}`, cells: event.cells }
    const cells = event.cells
    if (isBlank(cells)) return BLANK
    if (!fitsHeader(cells, width)) return { _tag: "Rejected", line: event.line, reason: shape(cells), cells }
    for (let i = 0; i < width; i++) {
      if (cells[i]!.includes("\uFFFD")) {
        return {
          _tag: "Rejected", line: event.line, cells,
          reason: `cell #${i + 1} (${header[i]}) has bytes that are not valid ${layout.encoding.encoding} (shown as �): ` +
            `the file mixes encodings. Fix the cell, or give --encoding if the whole file is in another one`
        }
      }
    }
    const phone = Phone.normalize(cells[phoneIndex]!, options)
    if (Result.isFailure(phone)) return { _tag: "Rejected", line: event.line, reason: `${phoneHeader}: ${phone.failure.explanation}`, cells }
    const columns: Record<string, string> = {}
    for (const t of targets) columns[t.name] = cells[t.index]!.trim()
    return { _tag: "Contact", line: event.line, contact: { phone: phone.success.e164, columns } }
  }
}

/** The source's events until `rows` non-empty data rows are among them (or the file ends). */
const lookAhead = (source: Source, rows: number) =>
  Effect.gen(function*() {
    const events: Array<CsvEvent> = []
    const sample: Array<ReadonlyArray<string>> = []
    let ended = false
    while (sample.length < rows) {
      const next = yield* source.next()
      if (next === undefined) {
        ended = true
        break
      }
      for (const event of next) {
        events.push(event)
        if (event._tag === "Record" && !isBlank(event.cells)) sample.push(event.cells)
      }
    }
    return { events, sample, ended }
  })

/** Open the file and decide the mapping (against the directory's columns now); `rows` data rows are read ahead. */
const prepare = (settings: ImportSettings, rows: number) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const source = yield* openSource(settings.file, settings)
    const ahead = yield* lookAhead(source, rows)
    const existing = yield* storage.directoryColumns()
    const mapping = yield* Effect.fromResult(propose({
      file: settings.file,
      headerLine: source.headerLine,
      header: source.header,
      sample: ahead.sample.slice(0, SAMPLE_ROWS),
      existing,
      rules: settings.rules,
      country: settings.country
    }))
    const layout = (): Layout => ({
      file: settings.file,
      encoding: source.encoding(),
      delimiter: source.delimiter,
      delimiterReason: source.delimiterReason,
      headerLine: source.headerLine,
      mapping
    })
    return { storage, source, ahead, mapping, layout }
  })

/**
 * Import `settings.file` into the directory (see the module doc). Fails before writing anything on a file that
 * cannot be read or mapped; fails with {@link ImportStopped} when the database fails part-way.
 */
export const importFile = (settings: ImportSettings, onProgress: (progress: Progress) => Effect.Effect<void> = () => Effect.void) =>
  Effect.gen(function*() {
    const { storage, source, ahead, layout } = yield* prepare(settings, SAMPLE_ROWS)
    const check = rowChecker(layout(), source.header, settings.country)
    const rejects = yield* rejectsFile(settings.rejectsPath, source.delimiter, source.header)
    const batchSize = settings.batchSize ?? BATCH
    const firstRejects: Array<Rejected> = []
    let rows = 0
    let blank = source.blankBefore
    const written = { inserted: 0, updated: 0, skipped: 0 }
    let batch: Array<Ports.Storage.NewDirectoryContact> = []
    let batchLine = 0
    let writing: { readonly fiber: Fiber.Fiber<Ports.Storage.DirectoryImportResult, Ports.Storage.StorageError>; readonly line: number } | undefined

    /** Wait for the batch being written; a database failure stops the import at its first line. */
    const settle = Effect.gen(function*() {
      if (writing === undefined) return
      const { fiber, line } = writing
      writing = undefined
      const result = yield* Fiber.join(fiber).pipe(Effect.catchTag("StorageError", (error) =>
        Effect.flatMap(rejects.flush, () =>
          Effect.fail(new ImportStopped({
            file: settings.file,
            line,
            imported: written.inserted + written.updated + written.skipped,
            detail: error.message
          })))))
      written.inserted += result.inserted
      written.updated += result.updated
      written.skipped += result.skipped
    })

    /** Start writing the batch read so far, once the one before it is written. */
    const write = Effect.gen(function*() {
      yield* settle
      if (batch.length === 0) return
      const contacts = batch
      const line = batchLine
      batch = []
      const now = new Date(yield* Clock.currentTimeMillis)
      writing = { fiber: yield* Effect.forkChild(storage.importDirectory(contacts, settings.onDuplicate, now)), line }
    })

    const take = (events: ReadonlyArray<CsvEvent>) =>
      Effect.gen(function*() {
        for (const event of events) {
          const row = check(event)
          switch (row._tag) {
            case "Blank":
              blank++
              continue
            case "Rejected":
              rows++
              rejects.add(row.line, row.reason, row.cells)
              if (firstRejects.length < LISTED_REJECTS) firstRejects.push({ line: row.line, reason: row.reason })
              continue
            case "Contact":
              rows++
              if (batch.length === 0) batchLine = row.line
              batch.push(row.contact)
              if (batch.length >= batchSize) yield* write
          }
        }
        yield* rejects.flush
        yield* onProgress({ bytesRead: source.bytesRead(), size: source.size, rows })
      })

    yield* take(ahead.events)
    for (;;) {
      const events = yield* source.next()
      if (events === undefined) break
      yield* take(events)
    }
    yield* write
    yield* settle

    const summary: ImportSummary = {
      ...layout(),
      rows,
      ...written,
      rejected: rejects.count(),
      blank,
      rejectsFile: rejects.count() > 0 ? settings.rejectsPath : null,
      firstRejects
    }
    return summary
  }).pipe(Effect.scoped)

/** How many rows a dry run checks, and shows. */
export const PREVIEW_CHECKED = 1_000
export const PREVIEW_SHOWN = 5

/** What a dry run shows: the layout, the first rows as the directory would get them, problems in the first rows. */
export interface Preview extends Layout {
  readonly rows: ReadonlyArray<{ readonly line: number; readonly contact: Ports.Storage.NewDirectoryContact }>
  readonly problems: ReadonlyArray<Rejected>
  /** Rows checked, and how many of them would be rejected. */
  readonly checked: number
  readonly rejected: number
  /** Whether the checked rows are the whole file. */
  readonly wholeFile: boolean
}

/** A dry run: read the first {@link PREVIEW_CHECKED} rows and map them; nothing is written. */
export const preview = (settings: ImportSettings) =>
  Effect.gen(function*() {
    const { source, ahead, layout } = yield* prepare(settings, PREVIEW_CHECKED)
    const check = rowChecker(layout(), source.header, settings.country)
    const rows: Array<{ line: number; contact: Ports.Storage.NewDirectoryContact }> = []
    const problems: Array<Rejected> = []
    let checked = 0
    let rejected = 0
    let stoppedEarly = false
    for (const event of ahead.events) {
      const row = check(event)
      if (row._tag === "Blank") continue
      if (checked === PREVIEW_CHECKED) {
        stoppedEarly = true
        break
      }
      checked++
      if (row._tag === "Rejected") {
        rejected++
        if (problems.length < LISTED_REJECTS) problems.push({ line: row.line, reason: row.reason })
      } else if (rows.length < PREVIEW_SHOWN) rows.push({ line: row.line, contact: row.contact })
    }
    const result: Preview = { ...layout(), rows, problems, checked, rejected, wholeFile: ahead.ended && !stoppedEarly }
    return result
  }).pipe(Effect.scoped)
