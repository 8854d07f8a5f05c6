import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { csvLine, decodeText, detectDelimiter, MAX_RECORD_CHARS, parseCsv } from "../../src/cli/Csv.ts"

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

  it("a row longer than MAX_RECORD_CHARS is refused on the line it starts, not read into memory without end", () => {
    const text = `phone,1\r\n+420601000001,ok\r\n+420601000002,"${"x".repeat(MAX_RECORD_CHARS + 10)}`
    const result = parseCsv(text, ",")
    expect(Result.isFailure(result) && result.failure).toContain("The row that starts on line 3 is longer than 1,048,576 characters")
  })

  it("round-trips cells that need quoting", () => {
    const cells = ["a;b", "say \"hi\"", "two\r\nlines", "plain"]
    expect(Result.getOrThrow(parseCsv(csvLine(cells, ";"), ";"))).toEqual([{ line: 1, cells }])
  })
})

describe("decodeText and detectDelimiter", () => {
  it("strips a BOM, reads Windows-1250 and UTF-16 as Excel saves them, and finds the delimiter in the header", () => {
    expect(decodeText(new TextEncoder().encode("\uFEFFphone;name"))).toBe("phone;name")
    // "Příjmení;Čížek" as a Czech Excel's plain CSV (Windows-1250) and as its "Unicode text" (UTF-16LE with BOM).
    expect(decodeText(Uint8Array.of(0x50, 0xf8, 0xed, 0x6a, 0x6d, 0x65, 0x6e, 0xed, 0x3b, 0xc8, 0xed, 0x9e, 0x65, 0x6b))).toBe("Příjmení;Čížek")
    expect(decodeText(Uint8Array.from([0xff, 0xfe, ...[..."Čížek"].flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8])]))).toBe("Čížek")
    expect(detectDelimiter("phone;name;\"a,b\"\r\n1,2,3")).toBe(";")
    expect(detectDelimiter("phone\tname")).toBe("\t")
    expect(detectDelimiter("phone")).toBe(",")
  })
})
