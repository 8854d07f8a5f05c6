import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { csvLine, decodeUtf8, detectDelimiter, parseCsv } from "../../src/cli/Csv.ts"

describe("parseCsv", () => {
  it("names the line each row starts on, across quoted line breaks, blank lines and mixed line endings", () => {
    const text = "phone;name\r\n+420601000001;\"Novák\r\nJan\"\r\n+420601000002;Eva\r\n\r\n+420601000003;Petr\n\n+420601000004;x"
    expect(Result.getOrThrow(parseCsv(text, ";"))).toEqual([
      { line: 1, cells: ["phone", "name"] },
      { line: 2, cells: ["+420601000001", "Novák\r\nJan"] },
      { line: 4, cells: ["+420601000002", "Eva"] },
      { line: 6, cells: ["+420601000003", "Petr"] },
      { line: 8, cells: ["+420601000004", "x"] }
    ])
  })

  it("an unclosed quote names the line its row starts on", () => {
    const result = parseCsv("a;b\r\n1;2\r\n3;\"unclosed\r\nx", ";")
    expect(Result.isFailure(result) && result.failure).toBe("The quoted cell in the row that starts on line 3 is never closed: add the closing \" (quote).")
  })

  it("round-trips cells that need quoting", () => {
    const cells = ["a;b", "say \"hi\"", "two\r\nlines", "plain"]
    expect(Result.getOrThrow(parseCsv(csvLine(cells, ";"), ";"))).toEqual([{ line: 1, cells }])
  })
})

describe("decodeUtf8 and detectDelimiter", () => {
  it("strips a BOM, refuses bytes that are not UTF-8, and finds the delimiter in the header", () => {
    expect(Result.getOrThrow(decodeUtf8(new TextEncoder().encode("\uFEFFphone;name")))).toBe("phone;name")
    expect(Result.isFailure(decodeUtf8(Uint8Array.of(0x50, 0xe8, 0x65)))).toBe(true)
    expect(detectDelimiter("phone;name;\"a,b\"\r\n1,2,3")).toBe(";")
    expect(detectDelimiter("phone\tname")).toBe("\t")
    expect(detectDelimiter("phone")).toBe(",")
  })
})
