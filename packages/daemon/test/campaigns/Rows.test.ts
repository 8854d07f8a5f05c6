// Rows into campaign contacts (SPEC §4): the whole CSV header or directory mapping is checked first, then each row
// alone — an unusable phone is kept as an invalid record, a bad value rejects its row with its line.
import { describe, expect, it } from "@effect/vitest"
import { Filter, Template } from "@megaphone/core"
import { Effect, Result } from "effect"
import * as Rows from "../../src/campaigns/Rows.ts"
import { bytes, orderDone, promo, seeded, shipping } from "./support.ts"

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

  it("reads the plain CSV a Czech Excel saves (Windows-1250) with its diacritics", () => {
    const bytes = Buffer.from("phone;1;2;3\r\n+420601000001;paní;Čížková;7\r\n", "latin1")
    // Windows-1250 differs from Latin-1 in these letters: í is the same byte, Č and ž are not.
    for (const [char, byte] of [["Č", 0xc8], ["ž", 0x9e]] as const) bytes[bytes.indexOf(char.charCodeAt(0) & 0xff)] = byte
    const read = fromCsv(bytes)
    if (Result.isFailure(read)) throw new Error(read.failure.message)
    expect(read.success.contacts.map((c) => c.parameters)).toEqual([{ "1": "paní", "2": "Čížková", "3": "7" }])
  })

  it("refuses the whole file before any row: not CSV, empty, or a header that does not fit", () => {
    const refusal = (text: string | Uint8Array) => {
      const result = fromCsv(text)
      if (Result.isSuccess(result)) throw new Error("expected a refusal")
      return result.failure
    }
    expect(refusal("phone;1;2;3\r\n1;\"x;2;3\r\n")).toMatchObject({ _tag: "CsvUnreadable", problem: expect.stringContaining("starts on line 2") })
    expect(refusal("")).toMatchObject({ _tag: "CsvEmpty", campaign: "7", header: ["phone", "1", "2", "3"] })
    const mismatch = refusal("phone;1\r\n+420601000001;x\r\n")
    expect(mismatch._tag).toBe("CsvHeaderMismatch")
    expect(mismatch._tag === "CsvHeaderMismatch" && mismatch.mapping.issues.map((i) => i.code)).toEqual(["csv_missing_columns"])
    expect(mismatch.message).toContain("Missing: 2, 3.")
  })
})

describe("blankCsv", () => {
  it("is the header, the template's text and an example row, which read back as no contact at all", () => {
    const blank = Rows.blankCsv(orderDone)
    expect(blank.header).toEqual(["phone", "1", "2", "3"])
    expect(blank.csv.split("\r\n")).toEqual([
      "phone,1,2,3",
      "# Template order_done (cs). Rows starting with # are notes and are skipped; the column order decides the variables.",
      "\"# Body: Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena.\"",
      "# Example: +420 601 123 456,{{1}},{{2}},{{3}}",
      ""
    ])
    expect(Result.getOrThrow(fromCsv(blank.csv))).toEqual({ contacts: [], rejected: [] })
    // Filled in below the guide (as Excel saves it: `;`, quoted notes), only the contacts are read.
    const filled = Rows.guideCsv({ ...blank, template: "order_done", language: "cs" }, ";") + "+420601123456;pane;Novák;1001\r\n"
    expect(Result.getOrThrow(fromCsv(filled)).contacts.map((c) => c.parameters)).toEqual([{ "1": "pane", "2": "Novák", "3": "1001" }])
  })

  it("shows header and body texts, and Meta's examples (named, header, URL button) under their columns", () => {
    expect(Rows.blankCsv(promo)).toMatchObject({ header: ["phone", "first_name", "discount"], example: ["+420 601 123 456", "Jana", "20 %"] })
    const blank = Rows.blankCsv(shipping)
    expect(blank).toMatchObject({
      header: ["phone", "header.1", "1", "button.0"],
      texts: ["Header: Zásilka {{1}}", "Body: Dobrý den, {{1}}, zásilka je na cestě."],
      example: ["+420 601 123 456", "{{header.1}}", "{{1}}", "abc123"]
    })
  })
})

describe("header detection", () => {
  it("a first cell with a letter or without digits is a header; a phone number is a contact", () => {
    for (const header of ["phone", "telefon", "Telefonní číslo", "", "tel. 1", "#"]) expect([header, Rows.isHeader([header])]).toEqual([header, true])
    for (const phone of ["+420 601 123 456", "601123456", "12345", "(+420) 601-123-456"]) expect([phone, Rows.isHeader([phone])]).toEqual([phone, false])
  })

  it("reads a CSV without a header positionally from its first row, and checks that row's width", () => {
    const { contacts } = Result.getOrThrow(fromCsv("+420601123456;pane;Novák;1001\r\n+420601123457;paní;Nová;\r\n", { "3": "neuvedeno" }))
    expect(contacts.map((c) => [c.recipient, c.parameters])).toEqual([
      ["420601123456", { "1": "pane", "2": "Novák", "3": "1001" }],
      ["420601123457", { "1": "paní", "2": "Nová", "3": "neuvedeno" }]
    ])
    const short = fromCsv("+420601123456;pane;Novák\r\n")
    expect(Result.isFailure(short) && short.failure.message).toContain("The CSV has 3 columns; template order_done (cs) needs 4 (phone,1,2,3). Missing: 3.")
  })

  it("refuses two variable columns for a three-variable template, naming the one missing, before any row", () => {
    const mismatch = fromCsv("telefon,oslovení,jméno\r\n+420601123456,pane,Novák\r\n", { "1": "zákazníku" })
    if (Result.isSuccess(mismatch)) throw new Error("expected a refusal")
    expect(mismatch.failure._tag).toBe("CsvHeaderMismatch")
    expect(mismatch.failure.message).toContain("Missing: 3.")
  })
})

/** Everything the directory source yields, in one list. */
const fromDirectory = (...args: Parameters<typeof Rows.fromDirectory>) => Effect.flatMap(Rows.fromDirectory(...args), Rows.collect)

describe("fromDirectory", () => {
  const mapping = { phoneColumn: "phone", vars: { "1": "salutation", "2": "surname", "3": "order" }, defaults: { "3": "neuvedeno" } }

  it.effect("adds the contacts a filter matches, with their directory ids and defaults", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { contacts, rejected } = yield* fromDirectory(storage, orderDone, { where: "city = \"Praha\"", ...mapping })
      expect(rejected).toEqual([])
      expect(contacts.map((c) => [c.recipient, c.parameters, c.directoryContactId !== null])).toEqual([
        ["420601000001", { "1": "pane", "2": "Novák", "3": "1" }, true],
        ["420601000002", { "1": "paní", "2": "Nová", "3": "neuvedeno" }, true]
      ])
    }))

  it.effect("freezes a contact's own time zone from the time_zone column, and rejects one that is not a zone", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      yield* storage.importDirectory([
        { phone: "+420601000001", columns: { time_zone: " America/Chicago " } },
        { phone: "+420601000002", columns: { time_zone: "Europe/Pragu" } }
      ], "update", new Date(0))
      const { contacts, rejected } = yield* fromDirectory(storage, orderDone, { where: "city = \"Praha\"", ...mapping })
      expect(contacts.map((c) => [c.recipient, c.timeZone ?? null])).toEqual([["420601000001", "America/Chicago"]])
      expect(rejected).toEqual([{
        line: null,
        phone: "+420601000002",
        reason: "time_zone: \"Europe/Pragu\" is not a time zone: use an IANA name such as Europe/Prague or America/New_York."
      }])
      const plain = yield* fromDirectory(storage, orderDone, { where: "city = \"Brno\"", ...mapping })
      expect(plain.contacts.map((c) => c.timeZone ?? null)).toEqual([null])
    }))

  it.effect("fills named parameters, header and URL-button variables from columns and defaults, through a saved filter", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      yield* storage.createFilter("praha", Result.getOrThrow(Filter.parse("city = \"Praha\"")), new Date(0))
      const named = yield* fromDirectory(storage, promo, {
        filter: "praha",
        phoneColumn: "phone",
        vars: { first_name: "surname" },
        defaults: { discount: "10 %" }
      })
      expect(named.contacts.map((c) => c.parameters)).toEqual([
        { first_name: "Novák", discount: "10 %" },
        { first_name: "Nová", discount: "10 %" }
      ])
      const parts = yield* fromDirectory(storage, shipping, {
        filter: "praha",
        phoneColumn: "phone",
        vars: { "header.1": "order", "1": "salutation", "button.0": "order" },
        defaults: { "header.1": "bez čísla" }
      })
      // The second contact's order is empty: the header has a default, the URL button has none.
      expect(parts.contacts.map((c) => c.parameters)).toEqual([{ "header.1": "1", "1": "pane", "button.0": "1" }])
      expect(parts.rejected).toEqual([{ line: null, phone: "+420601000002", reason: expect.stringContaining("Variable button.0") }])
      const missing = yield* Effect.flip(fromDirectory(storage, shipping, { filter: "praha", phoneColumn: "phone", vars: { "1": "salutation" }, defaults: {} }))
      expect(missing._tag === "MappingMismatch" && missing.mapping.issues.map((i) => i.variable)).toEqual(["header.1", "button.0"])
    }))

  it.effect("refuses a filter or mapping that cannot work, saying where", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const refusal = (source: Rows.DirectorySource) => Effect.flip(fromDirectory(storage, orderDone, source))
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

describe("a media header template (issue 11)", () => {
  const catalog = Result.getOrThrow(Template.decode({
    id: "8", name: "spring_catalog", language: "cs", status: "APPROVED", category: "MARKETING",
    components: [{ type: "HEADER", format: "IMAGE" }, { type: "BODY", text: "Dobrý den, {{1}}, posíláme jarní katalog." }]
  }))

  it("hands out the header's column first, with an example link, in the blank CSV", () => {
    const blank = Rows.blankCsv(catalog)
    expect(blank.header).toEqual(["phone", "header.image", "1"])
    expect(blank.example).toEqual(["+420 601 123 456", "https://example.com/image.jpg", "{{1}}"])
    expect(blank.texts).toEqual(["Header: an image — an https link or a media id in column header.image", "Body: Dobrý den, {{1}}, posíláme jarní katalog."])
    expect(blank.docs[1]).toBe("header.image: Header image (https link or media id); an https link anyone can download, or the id of an image uploaded to Meta")
  })

  it("takes a link or a media id from the column, the default where it is empty, and rejects the line of a bad link", () => {
    const text = [
      "phone;obrázek;jméno",
      "+420601123456;https://cdn.example.com/jaro.jpg;Jano",
      "+420601123457;1215647396592284;Jano",
      "+420601123458;;Mařenko",
      "+420601123459;http://cdn.example.com/jaro.jpg;Pepo",
      "+420601123460;https://cdn.example.com/jarní katalog.jpg;Evo"
    ].join("\r\n")
    const read = Rows.fromCsv("8", catalog, bytes(text), { "header.image": "https://cdn.example.com/vychozi.jpg" })
    const { contacts, rejected } = Result.getOrThrow(read)
    expect(contacts.map((c) => c.parameters)).toEqual([
      { "header.image": "https://cdn.example.com/jaro.jpg", "1": "Jano" },
      { "header.image": "1215647396592284", "1": "Jano" },
      { "header.image": "https://cdn.example.com/vychozi.jpg", "1": "Mařenko" }
    ])
    expect(rejected).toEqual([
      { line: 5, phone: "+420601123459", reason: expect.stringContaining(`header.image: "http://cdn.example.com/jaro.jpg" (column "obrázek") is not an https link`) },
      { line: 6, phone: "+420601123460", reason: expect.stringContaining("contains a space") }
    ])
    // Without the header's column the file is refused before any row, naming it.
    const short = Rows.fromCsv("8", catalog, bytes("phone;jméno\r\n+420601123456;Jano\r\n"), {})
    expect(Result.isFailure(short) && short.failure.message).toContain("Missing: 1.")
    const noHeader = Rows.fromCsv("8", catalog, bytes("phone\r\n+420601123456\r\n"), {})
    expect(Result.isFailure(noHeader) && noHeader.failure.message).toContain("Missing: header.image, 1.")
  })

  it.effect("fills it from a directory column or one fixed link for every contact; a bad fixed link refuses the whole mapping", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const fixed = yield* fromDirectory(storage, catalog, {
        where: "city = \"Praha\"", phoneColumn: "phone", vars: { "1": "surname" }, defaults: { "header.image": "https://cdn.example.com/jaro.jpg" }
      })
      expect(fixed.contacts.map((c) => c.parameters)).toEqual([
        { "header.image": "https://cdn.example.com/jaro.jpg", "1": "Novák" },
        { "header.image": "https://cdn.example.com/jaro.jpg", "1": "Nová" }
      ])
      // A column of names holds no link; digits read as a media id; an empty cell has no default: each contact on its own.
      const column = yield* fromDirectory(storage, catalog, { where: "city = \"Praha\"", phoneColumn: "phone", vars: { "header.image": "surname", "1": "surname" }, defaults: {} })
      expect(column.rejected.map((r) => [r.phone, r.reason])).toEqual([
        ["+420601000001", expect.stringContaining("header.image: \"Novák\" (column \"surname\") is neither an https link nor a media id.")],
        ["+420601000002", expect.stringContaining("header.image: \"Nová\" (column \"surname\") is neither an https link nor a media id.")]
      ])
      const ids = yield* fromDirectory(storage, catalog, { where: "city = \"Praha\"", phoneColumn: "phone", vars: { "header.image": "order", "1": "surname" }, defaults: {} })
      expect(ids.contacts.map((c) => c.parameters)).toEqual([{ "header.image": "1", "1": "Novák" }])
      expect(ids.rejected.map((r) => [r.phone, r.reason])).toEqual([
        ["+420601000002", expect.stringContaining("Variable header.image (Header image (https link or media id)) is empty")]
      ])
      const bad = yield* Effect.flip(fromDirectory(storage, catalog, {
        where: "city = \"Praha\"", phoneColumn: "phone", vars: { "1": "surname" }, defaults: { "header.image": "www.example.com/a.jpg" }
      }))
      expect(bad._tag === "MappingMismatch" && bad.mapping.issues.map((i) => [i.code, i.variable])).toEqual([["invalid_default", "header.image"]])
    }))
})
