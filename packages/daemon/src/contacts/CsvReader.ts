/**
 * A streaming CSV reader for imports: text in as it is decoded, records out with the line of the file each starts
 * on (the line a person sees in an editor, quoted line breaks included), and a broken record reported without
 * losing the rows after it.
 *
 * Why not csv-parse (which campaigns/Csv.ts uses for small uploads): an unclosed quote makes it swallow the rest of
 * the file and fail at the end, and resuming after it would mean reading the file again. Here the text of a
 * record stays in memory only until the record is complete, so a broken one is re-read from its next line:
 * - an unclosed quote is found at the end of the file, or when the quoted cell passes `maxRecordChars`;
 * - a line longer than `maxRecordChars` without a line break (not a CSV at all, in practice) is reported once and
 *   skipped to its end, however long it is;
 * - text after a closing quote (`"Novák"x`) breaks the record where it began;
 * - a record with quoted line breaks and the wrong number of cells is most likely an unclosed quote that another
 *   row's stray quote closed: its first line is reported and the lines after it are read again as rows.
 * Each case reports the record's first line and resumes on the line after it. Memory stays bounded by
 * `maxRecordChars` plus one chunk.
 */

/** A delimiter the reader recognises. */
export type Delimiter = ";" | "," | "\t"

/** The delimiters, in the order ties are broken (Czech Excel's `;` first). */
export const DELIMITERS: ReadonlyArray<Delimiter> = [";", "\t", ","]

/** A record and the lines it spans (1-based, as an editor numbers them). */
export interface CsvRecord {
  readonly _tag: "Record"
  readonly line: number
  readonly cells: Array<string>
}

/** A record that is not valid CSV: its first line, why, and that line's text split naively at the delimiter. */
export interface CsvBroken {
  readonly _tag: "Broken"
  readonly line: number
  readonly reason: string
  readonly cells: Array<string>
}

/** What the reader hands out. */
export type CsvEvent = CsvRecord | CsvBroken

/** Options of {@link CsvReader}. */
export interface CsvReaderOptions {
  /**
   * A record longer than this is broken: inside a quoted cell an unclosed quote, else a line that never ends. It
   * bounds the reader's memory whatever the file holds. Default 1 MiB (of characters).
   */
  readonly maxRecordChars?: number
}

const QUOTE = 0x22
const CR = 0x0d
const LF = 0x0a
const SPACE = 0x20
const TAB = 0x09

const DEFAULT_MAX_RECORD = 1 << 20

type Parsed =
  | { readonly kind: "record"; readonly cells: Array<string>; readonly next: number; readonly breaks: number; readonly quotedBreaks: number }
  | { readonly kind: "incomplete" }
  | { readonly kind: "broken"; readonly reason: string }

/** Line breaks as people's files have them: CRLF (Excel), LF, and a lone CR (old Mac), counted once each. */
const countBreaks = (text: string): number => {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === LF) n++
    else if (c === CR) {
      n++
      if (text.charCodeAt(i + 1) === LF) i++
    }
  }
  return n
}

/** Cells as a person sees them in one line: split at the delimiter, quotes left as they are. */
const naiveCells = (line: string, delimiter: Delimiter): Array<string> => line.split(delimiter)

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/**
 * Reads CSV text pushed in chunks into records (see the module doc). The first row that is not empty is the
 * header; after it, multi-line records with another number of cells are taken for unclosed quotes.
 */
export class CsvReader {
  private buffer = ""
  private line = 1
  private skipLine = false
  private readonly delimiter: number
  private readonly maxRecordChars: number
  /** The header's number of cells, once read. */
  private expectCells: number | undefined

  private readonly delimiterChar: Delimiter

  constructor(delimiterChar: Delimiter, options: CsvReaderOptions = {}) {
    this.delimiterChar = delimiterChar
    this.delimiter = delimiterChar.charCodeAt(0)
    this.maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD
  }

  /** The records complete in the text so far. */
  push(text: string): Array<CsvEvent> {
    this.buffer = this.buffer.length === 0 ? text : this.buffer + text
    return this.drain(false)
  }

  /** The last records, at the end of the file. */
  end(): Array<CsvEvent> {
    return this.drain(true)
  }

  private drain(final: boolean): Array<CsvEvent> {
    const events: Array<CsvEvent> = []
    const s = this.buffer
    let p = 0
    while (p < s.length) {
      if (this.skipLine) {
        // The rest of an over-long first line of a broken record: up to the next line break.
        const end = nextLineStart(s, p, final)
        if (end === -1) {
          p = s.length
          break
        }
        this.skipLine = false
        this.line++
        p = end
        continue
      }
      const parsed = this.parseRecord(s, p, final)
      if (parsed.kind === "incomplete") break
      if (parsed.kind === "record") {
        if (this.expectCells === undefined && !isBlank(parsed.cells)) {
          // The header: the first row that is not empty.
          this.expectCells = parsed.cells.length
        } else if (parsed.quotedBreaks > 0 && !fitsHeader(parsed.cells, this.expectCells)) {
          events.push(this.broken(s, p, final,
            `a quoted cell starting on this line runs over ${plural(parsed.quotedBreaks + 1, "line")} and gives the row ` +
            `${parsed.cells.length} cells instead of ${this.expectCells}: probably a missing closing " (quote) on this line`))
          p = this.resume(s, p, final)
          continue
        }
        events.push({ _tag: "Record", line: this.line, cells: parsed.cells })
        this.line += parsed.breaks
        p = parsed.next
        continue
      }
      events.push(this.broken(s, p, final, parsed.reason))
      p = this.resume(s, p, final)
    }
    this.buffer = p >= s.length ? "" : s.slice(p)
    return events
  }

  private broken(s: string, start: number, final: boolean, reason: string): CsvBroken {
    const end = nextLineStart(s, start, final)
    const text = s.slice(start, end === -1 ? s.length : end).replace(/\r?\n$|\r$/, "")
    return { _tag: "Broken", line: this.line, reason, cells: naiveCells(text.slice(0, 10_000), this.delimiterChar) }
  }

  /** After a broken record: the position of its second line (or skip to it once it arrives). */
  private resume(s: string, start: number, final: boolean): number {
    const end = nextLineStart(s, start, final)
    if (end === -1) {
      this.skipLine = true
      return s.length
    }
    this.line++
    return end
  }

  private parseRecord(s: string, start: number, final: boolean): Parsed {
    const n = s.length
    const d = this.delimiter
    const cells: Array<string> = []
    let quotedBreaks = 0
    let p = start
    // Waiting for more text, unless the record is already longer than any real one: then it is broken (inside a
    // quoted cell, most likely an unclosed quote; outside, a line that never ends — not a CSV, or the wrong file).
    const tooLong = (quoted: boolean): Parsed => {
      if (n - start <= this.maxRecordChars) return { kind: "incomplete" }
      const limit = this.maxRecordChars.toLocaleString("en")
      return {
        kind: "broken",
        reason: quoted
          ? `a quoted cell starting on this line is still not closed after ${limit} characters: add the missing closing " (quote)`
          : `the row starting on this line has no line break in its first ${limit} characters, far longer than a contact's row: ` +
            `check that this is the right file and that it is a CSV (a spreadsheet or a database dump is not); its rows must end ` +
            `with a line break`
      }
    }
    for (;;) {
      if (p < n && s.charCodeAt(p) === QUOTE) {
        let value = ""
        let from = p + 1
        for (;;) {
          const q = s.indexOf("\"", from)
          if (q === -1) {
            if (!final) return tooLong(true)
            return { kind: "broken", reason: `the quoted cell ${cells.length + 1} starting on this line is never closed: add the missing closing " (quote)` }
          }
          if (q + 1 >= n && !final) return tooLong(true)
          if (s.charCodeAt(q + 1) === QUOTE) {
            value += s.slice(from, q + 1)
            from = q + 2
            continue
          }
          value += s.slice(from, q)
          p = q + 1
          break
        }
        if (value.includes("\n") || value.includes("\r")) {
          quotedBreaks += countBreaks(value)
          value = value.replace(/\r\n?/g, "\n")
        }
        while (p < n && (s.charCodeAt(p) === SPACE || (s.charCodeAt(p) === TAB && d !== TAB))) p++
        if (p >= n && !final) return tooLong(false)
        const c = p < n ? s.charCodeAt(p) : -1
        cells.push(value)
        if (c === d) {
          p++
          continue
        }
        if (c !== CR && c !== LF && c !== -1) {
          const shown = JSON.stringify(s.slice(p, p + 12).replace(/[\r\n].*$/s, ""))
          return {
            kind: "broken",
            reason: quotedBreaks > 0
              ? `the quoted cell ${cells.length} starting on this line is not closed on it: it runs on over ${plural(quotedBreaks, "line break")} ` +
                `to a quote followed by ${shown}; probably a missing closing " (quote) on this line`
              : `text after the closing " (quote) of cell ${cells.length} (${shown}): a quote inside a quoted cell must be ` +
                `doubled ("") — or the cell's opening quote is missing its pair`
          }
        }
      } else {
        let j = p
        let c = -1
        while (j < n) {
          c = s.charCodeAt(j)
          if (c === d || c === CR || c === LF) break
          j++
        }
        if (j >= n) {
          if (!final) return tooLong(false)
          c = -1
        }
        cells.push(s.slice(p, j))
        p = j
        if (c === d) {
          p++
          continue
        }
      }
      // The record ends at p: a line break (CRLF counts once) or the end of the file.
      if (p >= n) return { kind: "record", cells, next: p, breaks: 1 + quotedBreaks, quotedBreaks }
      if (s.charCodeAt(p) === CR) {
        if (p + 1 >= n && !final) return tooLong(false)
        p += s.charCodeAt(p + 1) === LF ? 2 : 1
      } else p++
      return { kind: "record", cells, next: p, breaks: 1 + quotedBreaks, quotedBreaks }
    }
  }
}

/** Whether every cell is empty or spaces: an empty line, or `;;;` that Excel writes for an empty row. */
export const isBlank = (cells: ReadonlyArray<string>): boolean => {
  for (const c of cells) if (c.length > 0 && c.trim() !== "") return false
  return true
}

/** Whether a row has the header's number of cells; extra empty cells at the end (Excel's padding) are fine. */
export const fitsHeader = (cells: ReadonlyArray<string>, expected: number | undefined): boolean =>
  expected === undefined || (cells.length >= expected && significantCells(cells) <= expected)

/** Cells up to the last non-empty one: the empty cells Excel pads a row with do not count. */
export const significantCells = (cells: ReadonlyArray<string>): number => {
  let n = cells.length
  while (n > 0 && cells[n - 1]!.trim() === "") n--
  return n
}

/** The start of the line after the one at `p`; -1 when the text so far ends before it (or at a CR whose LF may follow). */
const nextLineStart = (s: string, p: number, final: boolean): number => {
  for (let i = p; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === LF) return i + 1
    if (c === CR) {
      if (i + 1 >= s.length) return final ? i + 1 : -1
      return s.charCodeAt(i + 1) === LF ? i + 2 : i + 1
    }
  }
  return final ? s.length : -1
}

/**
 * The delimiter of a CSV from its first lines: the candidate found most often (outside quotes) in the first
 * non-empty line, ties broken by how many of the next lines have the same count; `;` when none occurs (a file of
 * one column reads the same with any).
 */
export const sniffDelimiter = (text: string): Delimiter => {
  const lines = firstLines(text, 20)
  const header = lines[0]
  if (header === undefined) return ";"
  let best: Delimiter = ";"
  let bestScore = [-1, -1]
  for (const d of DELIMITERS) {
    const count = countOutsideQuotes(header, d)
    if (count === 0) continue
    const consistent = lines.slice(1).filter((l) => countOutsideQuotes(l, d) === count).length
    if (count > bestScore[0]! || (count === bestScore[0] && consistent > bestScore[1]!)) {
      best = d
      bestScore = [count, consistent]
    }
  }
  return best
}

const countOutsideQuotes = (line: string, delimiter: Delimiter): number => {
  let quoted = false
  let n = 0
  for (const c of line) {
    if (c === "\"") quoted = !quoted
    else if (!quoted && c === delimiter) n++
  }
  return n
}

// Non-empty physical lines; good enough for sniffing (a quoted line break only splits one sample line).
const firstLines = (text: string, max: number): Array<string> =>
  text.split(/\r\n|\r|\n/, max * 2).filter((l) => l.trim() !== "").slice(0, max)

/** How a person reads the delimiter: `;`, `,` or `tab`. */
export const describeDelimiter = (delimiter: Delimiter): string => (delimiter === "\t" ? "tab" : delimiter)
