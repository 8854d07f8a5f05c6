/**
 * The little CSV campaigns need, for the CLI's files and the admin API's uploads alike: read text as Excel saves it
 * (UTF-8, Windows-1250 or UTF-16; `;`, `,` or tab between cells, quoted cells with line breaks, any line ending)
 * keeping the line each row starts on, and write cells back safely. Encodings other than UTF-8 and the full
 * importer belong to `contacts import`.
 *
 * Parsing is csv-parse's. Its own line counter is not what a person sees in an editor once quoted cells hold line
 * breaks, so the starting line of each record is counted from the raw text csv-parse hands back.
 */
import { CsvError, parse } from "csv-parse/sync"
import { Result } from "effect"
import { makeDecoder } from "../contacts/Encoding.ts"

/** One record and the 1-based line of the file it starts on. */
export interface CsvRow {
  readonly line: number
  readonly cells: ReadonlyArray<string>
}

/** A delimiter the reader recognises. */
export type Delimiter = ";" | "," | "\t"

const DELIMITERS: ReadonlyArray<Delimiter> = [";", ",", "\t"]

/**
 * The text of a CSV in whatever encoding Excel saved it — UTF-8 with or without BOM, Windows-1250 (a Czech Excel's
 * plain "CSV"), UTF-16 ("Unicode text") — detected as `contacts import` detects it; without the BOM.
 */
export const decodeText = (bytes: Uint8Array): string => makeDecoder("auto", bytes.subarray(0, 65_536)).decode(bytes, true)

/** The delimiter of a CSV: the candidate that occurs most often (outside quotes) in its header line; `,` if none does. */
export const detectDelimiter = (text: string): Delimiter => {
  const counts = new Map<Delimiter, number>(DELIMITERS.map((d) => [d, 0]))
  let quoted = false
  for (const char of text) {
    if (char === "\"") quoted = !quoted
    else if (!quoted && (char === "\n" || char === "\r")) break
    else if (!quoted && counts.has(char as Delimiter)) counts.set(char as Delimiter, (counts.get(char as Delimiter) ?? 0) + 1)
  }
  let best: Delimiter = ","
  for (const d of DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d
  return best
}

/** The longest record read, in characters (the directory import has the same limit for a quoted cell). */
export const MAX_RECORD_CHARS = 1_048_576

// Line breaks as people's files have them: Windows, Unix and old Mac, even mixed in one file.
const LINE_BREAK = /\r\n|\r|\n/g

/**
 * Reads CSV text (RFC 4180, any line ending) into rows with their starting line. Blank lines are skipped; an
 * unterminated quote is an error naming the line where its record began.
 */
export const parseCsv = (text: string, delimiter: Delimiter): Result.Result<ReadonlyArray<CsvRow>, string> => {
  const rows: Array<CsvRow> = []
  let line = 1
  try {
    parse(text, {
      delimiter,
      record_delimiter: ["\r\n", "\n", "\r"],
      relax_column_count: true,
      // A record this long is no contact (an unclosed quote swallowing the file, a binary file): stop there.
      max_record_size: MAX_RECORD_CHARS,
      raw: true,
      on_record: (value) => {
        // With `raw`, csv-parse hands each record over as { record, raw }; its typings still say string[].
        const { record, raw } = value as unknown as { readonly record: Array<string>; readonly raw: string }
        if (!(record.length === 1 && record[0] === "")) rows.push({ line, cells: record })
        line += raw.match(LINE_BREAK)?.length ?? 0
        return null
      }
    })
  } catch (error) {
    if (error instanceof CsvError && error.code === "CSV_QUOTE_NOT_CLOSED") {
      return Result.fail(`The quoted cell in the row that starts on line ${line} is never closed: add the closing " (quote).`)
    }
    if (error instanceof CsvError && error.code === "CSV_MAX_RECORD_SIZE") {
      return Result.fail(`The row that starts on line ${line} is longer than ${MAX_RECORD_CHARS.toLocaleString("en")} characters: ` +
        `a quote (") opened there is probably never closed, or this is not a CSV file. Fix that row.`)
    }
    return Result.fail(`The file is not valid CSV near line ${line}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return Result.succeed(rows)
}

/** One CSV cell, quoted when it holds the delimiter, a quote or a line break. */
export const csvCell = (value: string, delimiter: Delimiter = ","): string =>
  value.includes(delimiter) || /["\r\n]/.test(value) ? `"${value.replaceAll("\"", "\"\"")}"` : value

/** One CSV line (CRLF, as Excel writes it). */
export const csvLine = (cells: ReadonlyArray<string>, delimiter: Delimiter = ","): string =>
  `${cells.map((c) => csvCell(c, delimiter)).join(delimiter)}\r\n`

// A cell a spreadsheet would read as a formula: =, +, -, @, and the tab / carriage return some spreadsheets also
// start formulas after (OWASP "CSV injection").
const FORMULA_START = /^[=+\-@\t\r]/

/**
 * A cell safe to open in a spreadsheet: one that would start a formula gets a leading `'` (OWASP's advice on CSV
 * injection), so the spreadsheet shows it as text and never evaluates it. Phone numbers like `+420…` get it too:
 * the price of a rule with no exceptions an attacker could use.
 */
export const neutralise = (value: string): string => (FORMULA_START.test(value) ? `'${value}` : value)

/** One CSV line of spreadsheet-safe cells (see {@link neutralise}). */
export const safeCsvLine = (cells: ReadonlyArray<string>, delimiter: Delimiter = ","): string =>
  csvLine(cells.map(neutralise), delimiter)

/** The byte-order mark that makes Excel read a CSV as UTF-8. */
export const UTF8_BOM = "\uFEFF"
