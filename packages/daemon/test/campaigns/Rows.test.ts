// Rows into campaign contacts (SPEC §4): the whole CSV header or directory mapping is checked first, then each row
// alone — an unusable phone is kept as an invalid record, a bad value rejects its row with its line.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import * as Rows from "../../src/campaigns/Rows.ts"
import { bytes, orderDone, seeded } from "./support.ts"

const fromCsv = (text: string | Uint8Array, defaults: Readonly<Record<string, string>> = {}) =>
  Rows.fromCsv("7", orderDone, typeof text === "string" ? bytes(text) : text, defaults)

describe("fromCsv", () => {
  it("judges each row: defaults fill empty cells, a bad phone is an invalid record, a bad value or shape rejects its line", () => {
    const text = "\uFEFF" + [
      "telefon;oslovení;jméno;číslo objednávky",
      "+420 601 123 456;pane;Novák;1001",
      "12345;pane;Nikdo;1003",
      "+420601123458;pane;\"Dvořák\r\nml.\";1004",
      "+420601123459;paní;Svobodová;",
      "+420601123460,pane,Bílý,1005"
    ].join("\r\n")
    const { contacts, rejected } = Result.getOrThrow(fromCsv(text, { "3": "neuvedeno" }))
    expect(contacts.map((c) => [c.phone, c.recipient, c.parameters["3"], c.invalid?.code])).toEqual([
      ["+420 601 123 456", "420601123456", "1001", undefined],
      ["12345", null, "1003", "invalid_phone"],
      ["+420601123459", "420601123459", "neuvedeno", undefined]
    ])
    expect(rejected).toEqual([
      { line: 4, phone: "+420601123458", reason: expect.stringContaining("line break") },
      { line: 7, phone: "+420601123460,pane,Bílý,1005", reason: expect.stringContaining("(cells separated by \";\", as in the header)") }
    ])
  })

  it("refuses the whole file before any row: not UTF-8, not CSV, empty, or a header that does not fit", () => {
    const refusal = (text: string | Uint8Array) => {
      const result = fromCsv(text)
      if (Result.isSuccess(result)) throw new Error("expected a refusal")
      return result.failure
    }
    expect(refusal(Uint8Array.of(0x50, 0xe8, 0x65))).toMatchObject({ _tag: "CsvUnreadable", problem: expect.stringContaining("not UTF-8") })
    expect(refusal("phone;1;2;3\r\n1;\"x;2;3\r\n")).toMatchObject({ _tag: "CsvUnreadable", problem: expect.stringContaining("starts on line 2") })
    expect(refusal("")).toMatchObject({ _tag: "CsvEmpty", campaign: "7", header: ["phone", "1", "2", "3"] })
    const mismatch = refusal("phone;1\r\n+420601000001;x\r\n")
    expect(mismatch._tag).toBe("CsvHeaderMismatch")
    expect(mismatch._tag === "CsvHeaderMismatch" && mismatch.mapping.issues.map((i) => i.code)).toEqual(["csv_missing_columns"])
    expect(mismatch.message).toContain("Missing: 2, 3.")
  })
})

describe("fromDirectory", () => {
  const mapping = { phoneColumn: "phone", vars: { "1": "salutation", "2": "surname", "3": "order" }, defaults: { "3": "neuvedeno" } }

  it.effect("adds the contacts a filter matches, with their directory ids and defaults", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { contacts, rejected } = yield* Rows.fromDirectory(storage, orderDone, { where: "city = \"Praha\"", ...mapping })
      expect(rejected).toEqual([])
      expect(contacts.map((c) => [c.recipient, c.parameters, c.directoryContactId !== null])).toEqual([
        ["420601000001", { "1": "pane", "2": "Novák", "3": "1" }, true],
        ["420601000002", { "1": "paní", "2": "Nová", "3": "neuvedeno" }, true]
      ])
    }))

  it.effect("refuses a filter or mapping that cannot work, saying where", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const refusal = (source: Rows.DirectorySource) => Effect.flip(Rows.fromDirectory(storage, orderDone, source))
      expect(yield* refusal({ filter: "praha", where: "city = \"Praha\"", ...mapping })).toMatchObject({ _tag: "FilterAmbiguous" })
      expect(yield* refusal(mapping)).toMatchObject({ _tag: "FilterMissing" })
      expect(yield* refusal({ filter: "nope", ...mapping })).toMatchObject({ _tag: "FilterNotFound", name: "nope" })
      expect(yield* refusal({ where: "city = ", ...mapping })).toMatchObject({ _tag: "FilterInvalid", problem: { line: 1, column: 8 } })
      expect(yield* refusal({ where: "mesto = \"Praha\"", ...mapping })).toMatchObject({
        _tag: "FilterUnknownColumns",
        problem: { unknown: ["mesto"] }
      })
      const unmapped = yield* refusal({ where: "city = \"Praha\"", phoneColumn: "telefon", vars: { "1": "salutation" }, defaults: {} })
      expect(unmapped._tag).toBe("MappingMismatch")
      expect(unmapped._tag === "MappingMismatch" && unmapped.mapping.issues.map((i) => i.code)).toEqual(
        expect.arrayContaining(["phone_column_missing", "variable_unmapped"])
      )
    }))
})
