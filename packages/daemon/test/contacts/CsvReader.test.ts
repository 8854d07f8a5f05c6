// The import's CSV reader and its encodings: what Excel writes reads back cell for cell, with the line each row
// starts on, however the bytes are cut into chunks; a broken row costs only itself.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type CsvEvent, CsvReader, type Delimiter, sniffDelimiter } from "../../src/contacts/CsvReader.ts"
import { type EncodingChoice, makeDecoder } from "../../src/contacts/Encoding.ts"

const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, "fixtures", name)))

/** Everything the reader makes of `text` pushed in pieces cut at `cuts`. */
const read = (text: string, delimiter: Delimiter, cuts: ReadonlyArray<number> = [], maxRecordChars?: number): Array<CsvEvent> => {
  const reader = new CsvReader(delimiter, maxRecordChars === undefined ? {} : { maxRecordChars })
  const events: Array<CsvEvent> = []
  let from = 0
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < text.length).sort((a, b) => a - b)) {
    events.push(...reader.push(text.slice(from, cut)))
    from = cut
  }
  events.push(...reader.push(text.slice(from)), ...reader.end())
  return events
}

/** The bytes decoded in pieces cut at `cuts`, as the importer does it. */
const decode = (bytes: Uint8Array, choice: EncodingChoice = "auto", cuts: ReadonlyArray<number> = []) => {
  const decoder = makeDecoder(choice, bytes.subarray(0, 64 * 1024))
  let text = ""
  let from = 0
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    text += decoder.decode(bytes.subarray(from, cut), false)
    from = cut
  }
  text += decoder.decode(bytes.subarray(from), true)
  return { text, detected: decoder.detected() }
}

const records = (events: ReadonlyArray<CsvEvent>) => events.map((e) => (e._tag === "Record" ? [e.line, e.cells] : [e.line, e.reason]))

// ---------------------------------------------------------------------------------------------------------
// Writing tables as Excel does, to read them back

const cellArb = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom("Novák", "Příjmení", "a;b", "a,b", "a\tb", "\"quoted\"", "two\nlines", "cr\r\nlf", " padded ", "Šťastná ŽĎŤ", "€‚„…")
)
const delimiterArb = fc.constantFrom<Delimiter>(";", ",", "\t")
const lineEndArb = fc.constantFrom("\r\n", "\n", "\r")

const quoteIfNeeded = (cell: string, d: Delimiter) =>
  cell.includes(d) || /["\r\n]/.test(cell) || cell.startsWith(" ") || cell === "" ? `"${cell.replaceAll("\"", "\"\"")}"` : cell

const lineBreaks = (text: string) => (text.match(/\r\n|\r|\n/g) ?? []).length

/** A table as CSV text (every row non-empty: an empty row is skipped as blank) and the line each row starts on. */
const writeTable = (rows: ReadonlyArray<ReadonlyArray<string>>, d: Delimiter, eol: string) => {
  let text = ""
  const lines: Array<number> = []
  let line = 1
  for (const row of rows) {
    lines.push(line)
    const written = row.map((c) => quoteIfNeeded(c, d)).join(d)
    text += written + eol
    line += lineBreaks(written) + 1
  }
  return { text, lines }
}

const width = 4
const tableArb = fc.array(fc.array(cellArb, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 12 })
  // The header is the first row that is not blank; cells of spaces only would make a row blank.
  .map((rows) => rows.map((row) => row.map((c, i) => (i === 0 && c.trim() === "" ? `x${c}` : c))))

describe("CsvReader", () => {
  it("reads back any table written as CSV (any delimiter, line ending and chunking) with the line each row starts on", () => {
    fc.assert(fc.property(tableArb, delimiterArb, lineEndArb, fc.array(fc.nat(400)), (rows, d, eol, cuts) => {
      const { text, lines } = writeTable(rows, d, eol)
      const events = read(text, d, cuts)
      // Inside quoted cells, any line break comes back as \n.
      expect(records(events)).toEqual(rows.map((row, i) => [lines[i], row.map((c) => c.replace(/\r\n?/g, "\n"))]))
    }), { numRuns: 300 })
  })

  it("reads back the same table from UTF-8, UTF-8 with BOM, Windows-1250 and UTF-16 bytes cut anywhere", () => {
    // Windows-1250 holds Czech, but not every character: the table keeps to what it can encode.
    const czech = fc.constantFrom("Žluťoučký kůň", "úpěl ďábelské ódy", "Řehoř;Šíma", "ščř\nžýá", "€ 100", "plain")
    const encodings = fc.constantFrom("utf-8", "utf-8-bom", "windows-1250", "utf-16le", "utf-16be")
    fc.assert(fc.property(fc.array(fc.array(czech, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 6 }), delimiterArb, encodings,
      fc.array(fc.nat(300)), (rows, d, encoding, cuts) => {
        const { text } = writeTable([["Jméno", "Příjmení", "Poznámka"], ...rows], d, "\r\n")
        const bytes = encodeAs(text, encoding)
        const decoded = decode(bytes, "auto", cuts)
        expect(decoded.text).toBe(text)
        expect(decoded.detected.encoding).toBe(encoding === "utf-8-bom" ? "utf-8" : encoding)
      }), { numRuns: 200 })
  })

  it("reports an unclosed quote on the line its row starts and reads every row after it", () => {
    const text = "a;b;c\r\n1;\"open;3\r\n4;5;6\r\n7;8;9\r\n"
    expect(records(read(text, ";"))).toEqual([
      [1, ["a", "b", "c"]],
      [2, expect.stringContaining("never closed")],
      [3, ["4", "5", "6"]],
      [4, ["7", "8", "9"]]
    ])
  })

  it("an unclosed quote closed by a stray quote further down costs only its own line", () => {
    // The quote opened on line 2 pairs with the one on line 4, which gives a record of the wrong width. (Had the
    // width come out right, it would be valid CSV: a cell with line breaks.)
    const text = "a;b;c\n1;2;\"open\n4;5;6\n7;TV 55\";9\n10;11;12\n"
    expect(records(read(text, ";"))).toEqual([
      [1, ["a", "b", "c"]],
      [2, expect.stringContaining("missing closing")],
      [3, ["4", "5", "6"]],
      [4, ["7", "TV 55\"", "9"]],
      [5, ["10", "11", "12"]]
    ])
  })

  it("text after a closing quote breaks only its row", () => {
    expect(records(read("a,b\n\"x\"y,1\n2,3\n", ","))).toEqual([
      [1, ["a", "b"]],
      [2, expect.stringContaining("after the closing")],
      [3, ["2", "3"]]
    ])
  })

  it("an unclosed quote in a long file is given up after maxRecordChars, not at the end of the file", () => {
    const rows = Array.from({ length: 200 }, (_, i) => `${i};x;y`).join("\n")
    const events = read(`a;b;c\n1;"open;3\n${rows}\n`, ";", [50, 100, 150], 500)
    expect(records(events).slice(0, 4)).toEqual([[1, ["a", "b", "c"]], [2, expect.stringContaining("not closed after 500")], [3, ["0", "x", "y"]], [4, ["1", "x", "y"]]])
    expect(events).toHaveLength(202)
  })

  it("counts empty lines and keeps the lines of rows after quoted line breaks right", () => {
    const text = "h1;h2\r\n\r\n\"a\r\nb\r\nc\";1\r\n\r\n;\r\nx;2"
    expect(records(read(text, ";"))).toEqual([[1, ["h1", "h2"]], [2, [""]], [3, ["a\nb\nc", "1"]], [6, [""]], [7, ["", ""]], [8, ["x", "2"]]])
  })
})

const encodeAs = (text: string, encoding: string): Uint8Array => {
  switch (encoding) {
    case "utf-8":
      return new TextEncoder().encode(text)
    case "utf-8-bom":
      return new TextEncoder().encode(`\uFEFF${text}`)
    case "utf-16le":
      return new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]))
    case "utf-16be":
      return new Uint8Array(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()]))
    default:
      return windows1250(text)
  }
}

// The reverse of the WHATWG decoder's table, built from it.
const windows1250 = (text: string): Uint8Array => {
  const decoder = new TextDecoder("windows-1250")
  const table = new Map<string, number>()
  for (let b = 0; b < 256; b++) table.set(decoder.decode(new Uint8Array([b])), b)
  return new Uint8Array([...text].map((c) => table.get(c) ?? 0x3f))
}

describe("encoding detection", () => {
  it("recognises each Excel fixture", () => {
    expect(decode(fixture("excel-windows-1250.csv")).detected).toMatchObject({ encoding: "windows-1250" })
    expect(decode(fixture("excel-utf-8-bom.csv")).detected).toEqual({ encoding: "utf-8", reason: "byte-order mark" })
    expect(decode(fixture("tab-separated.txt")).detected).toMatchObject({ encoding: "utf-8", reason: "valid UTF-8 without BOM" })
    expect(decode(fixture("excel-unicode-text.txt")).detected).toEqual({ encoding: "utf-16le", reason: "byte-order mark" })
    expect(decode(fixture("excel-windows-1250.csv")).text).toContain("Jméno;Příjmení;Oslovení;Telefon;Číslo objednávky")
  })

  it("recognises UTF-16 without a BOM by its NUL bytes", () => {
    const le = Buffer.from("Jméno\tTelefon\r\nJan\t777123456\r\n", "utf16le")
    expect(decode(new Uint8Array(le)).detected.encoding).toBe("utf-16le")
    expect(decode(new Uint8Array(Buffer.from(le).swap16())).detected.encoding).toBe("utf-16be")
  })

  it("decides between UTF-8 and Windows-1250 at the first non-ASCII byte, however far into the file", () => {
    const ascii = "name;phone\r\n" + "Jan;777123456\r\n".repeat(10_000)
    const late = new Uint8Array([...new TextEncoder().encode(ascii), ...windows1250("Řehoř;777123457\r\n")])
    const decoded = decode(late, "auto", [64 * 1024, 100_000, late.length - 2])
    expect(decoded.detected.encoding).toBe("windows-1250")
    expect(decoded.text.endsWith("Řehoř;777123457\r\n")).toBe(true)
  })

  it("a UTF-8 file with a stray bad byte near the top stays UTF-8: only that row has a \uFFFD, the others keep their accents", () => {
    // Found by the import fuzzing: one bad byte anywhere in the first 64 KiB made the whole file Windows-1250.
    const bytes = new Uint8Array([...new TextEncoder().encode("Jméno,Příjmení,Telefon\r\nJan"), 0xc3, ...new TextEncoder().encode(",Novák,601000000\r\nŽofie,Šťastná,777123456\r\n")])
    const decoded = decode(bytes)
    expect(decoded.detected).toEqual({ encoding: "utf-8", reason: "UTF-8 without BOM, with a few bytes that are not (their rows are rejected)" })
    expect(decoded.text).toBe("Jméno,Příjmení,Telefon\r\nJan\uFFFD,Novák,601000000\r\nŽofie,Šťastná,777123456\r\n")
    // As many bad sequences as good characters is no longer UTF-8 with a stray byte: Windows-1250 reads it.
    expect(decode(new Uint8Array([0x4a, 0xc3, 0xa9, 0x3b, 0xe9, 0x3b])).detected.encoding).toBe("windows-1250")
  })

  it("--encoding wins over detection", () => {
    expect(decode(fixture("excel-utf-8-bom.csv"), "windows-1250").detected).toEqual({ encoding: "windows-1250", reason: "--encoding" })
    expect(decode(fixture("excel-unicode-text.txt"), "utf-16").detected.encoding).toBe("utf-16le")
  })

  it("sniffs the delimiter from the header, outside quotes", () => {
    expect(sniffDelimiter("Jméno;Příjmení;\"Adresa, město\"\r\nJan;Novák;\"Praha, 1\"")).toBe(";")
    expect(sniffDelimiter("a,b,c\n1,2,3")).toBe(",")
    expect(sniffDelimiter("a\tb\tc,d\n1\t2\t3")).toBe("\t")
    expect(sniffDelimiter("\r\n\r\nphone\r\n777123456")).toBe(";")
  })
})
