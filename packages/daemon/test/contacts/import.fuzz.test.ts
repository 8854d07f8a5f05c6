// Fuzzing `contacts import` in-process (on the memory storage): arbitrary and damaged bytes never crash or hang it,
// and in files that mix good rows with broken ones every good row arrives exactly, every bad one is reported with
// its line. The seed is fixed so that a failure replays; FUZZ_SEED=<n> explores other inputs.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Phone, Ports } from "@megaphone/core"
import { Effect, Exit, Result } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as MemoryStorage from "../../../adapters/src/storage/memory/MemoryStorage.ts"
import { type CsvEvent, CsvReader, type Delimiter } from "../../src/contacts/CsvReader.ts"
import { importFile, type ImportSettings, type ImportSummary } from "../../src/contacts/Import.ts"
import { decodeText, parseCsv } from "../../src/campaigns/Csv.ts"

const seed = Number(process.env["FUZZ_SEED"] ?? 20_260_512)

let dir = ""
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "megaphone-import-fuzz-"))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

let files = 0

/** `importFile` on these bytes with a fresh memory storage: its exit, and the directory afterwards. */
const importBytes = async (bytes: Uint8Array, settings: Partial<ImportSettings> = {}) => {
  const file = join(dir, `in-${++files}.csv`)
  const rejectsPath = join(dir, `in-${files}.rejects.csv`)
  await writeFile(file, bytes)
  const exit = await Effect.runPromiseExit(Effect.gen(function*() {
    const summary = yield* importFile({
      file, encoding: "auto", delimiter: "auto", rules: [], country: "CZ", onDuplicate: "update", rejectsPath, ...settings
    })
    const storage = yield* Ports.Storage.Storage
    const directory = yield* storage.listDirectory(undefined, { limit: 100_000 })
    return { summary, directory }
  }).pipe(Effect.provide(MemoryStorage.layer)))
  const rejects = await readFile(rejectsPath, "utf8").catch(() => undefined)
  await rm(file, { force: true })
  await rm(rejectsPath, { force: true })
  return { exit, rejects }
}

/** The failures an import may end with on a file it cannot take: each a tagged error with a message for people. */
const CLEAN_FAILURES = ["FileEmpty", "FileUnreadable", "PhoneColumnMissing", "HeaderNameMissing", "ColumnsCollide"]

const expectCleanOutcome = (exit: Exit.Exit<{ readonly summary: ImportSummary }, unknown>) => {
  if (Exit.isSuccess(exit)) {
    const s = exit.value.summary
    expect(s.inserted + s.updated + s.skipped + s.rejected).toBe(s.rows)
    return
  }
  // No defect, no interruption: one expected failure, whose message says what and where.
  expect(exit.cause.reasons.map((r) => r._tag)).toEqual(["Fail"])
  const reason = exit.cause.reasons[0]!
  const error = (reason._tag === "Fail" ? reason.error : undefined) as { readonly _tag: string; readonly message: string }
  expect(CLEAN_FAILURES).toContain(error._tag)
  expect(error.message.length).toBeGreaterThan(20)
  expect(error.message).not.toMatch(/\n\s+at /)
  if (error._tag === "HeaderNameMissing") expect(error.message).toMatch(/column #\d+ of the header \(line \d+\)/)
  if (error._tag === "FileUnreadable") expect(error.message).toMatch(/line \d+/)
}

// ---------------------------------------------------------------------------------------------------------
// Files that mix good rows with bad ones

type Encoding = "utf-8" | "utf-8-bom" | "windows-1250" | "utf-16le" | "utf-16le-nobom" | "utf-16be"

// Values as people have them: diacritics, a delimiter or quote inside, a line break, padding; never starting with a
// quote or delimiter (see `unclosed` below).
const firstNames = ["Jan", "Žofie", "Řehoř", "Ludmila", "Ján", "Ondřej", "Ěva", " Igor "]
const lastNames = ["Novák", "Šťastná", "Kováč", "Němcová, \"Babička\"", "Čapek\nml.", "Úlehla", "Kráľ", "Dvořák; st.", "Tab\tová"]
const notes = ["", "VIP", "dvě\r\nřádky", "a,b;c\td", "€ 100", "50 %", "=1+1"]
const unicodeOnly = ["Zdeněk 👍", "Ωmega", "日本"]

type Cells = [first: string, last: string, phone: string, note: string]

type Row =
  | { readonly kind: "good"; readonly cells: Cells; readonly quoteAll: boolean; readonly padding: number }
  | { readonly kind: "badPhone" | "short" | "long" | "afterQuote" | "unclosed" | "badBytes"; readonly cells: Cells }
  | { readonly kind: "blank"; readonly text: string }

interface Plan {
  readonly encoding: Encoding
  readonly delimiter: Delimiter
  readonly rows: ReadonlyArray<{ readonly row: Row; readonly eol: string }>
}

const singleLine = (text: string) => !/[\r\n]/.test(text)

const planArb: fc.Arbitrary<Plan> = fc.record({
  encoding: fc.constantFrom<Encoding>("utf-8", "utf-8-bom", "windows-1250", "utf-16le", "utf-16le-nobom", "utf-16be"),
  delimiter: fc.constantFrom<Delimiter>(";", ",", "\t")
}).chain(({ encoding, delimiter }) => {
  const pool = (values: ReadonlyArray<string>) =>
    fc.constantFrom(...(encoding === "windows-1250" ? values : [...values, ...unicodeOnly]))
  const phone = fc.tuple(fc.constantFrom("601", "602", "603", "604", "605", "606", "607", "608", "724", "731", "737", "777", "778"), fc.integer({ min: 0, max: 999_999 }))
    .map(([prefix, n]) => `${prefix}${String(n).padStart(6, "0")}`)
    .filter((n) => Result.isSuccess(Phone.normalize(n, { defaultCountry: "CZ" })))
    .chain((n) =>
    fc.constantFrom(String(n), `+420 ${String(n).replace(/(\d{3})(?=\d)/g, "$1 ")}`, `00420${n}`))
  const cells = fc.tuple(pool(firstNames), pool(lastNames), phone, pool(notes)) as fc.Arbitrary<Cells>
  // Bad rows keep to one line: a broken row is re-read from its next line, which must be the next row.
  const oneLineCells = cells.filter((c) => c.every(singleLine))
  const row: fc.Arbitrary<Row> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("good" as const), cells, quoteAll: fc.boolean(), padding: fc.constantFrom(0, 0, 0, 2) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("badPhone" as const), cells: oneLineCells }).chain((r) =>
      fc.constantFrom("12345", "abc", "", "+420 123").map((p): Row => ({ ...r, cells: [r.cells[0], r.cells[1], p, r.cells[3]] }))) },
    { weight: 1, arbitrary: fc.record({
      kind: fc.constantFrom("short" as const, "long" as const, "afterQuote" as const, "unclosed" as const, ...(encoding === "windows-1250" ? [] : ["badBytes" as const])),
      cells: oneLineCells
    }) },
    { weight: 1, arbitrary: fc.constantFrom("", delimiter.repeat(3), "  ").map((text): Row => ({ kind: "blank", text })) }
  )
  const eol = fc.constantFrom("\r\n", "\n", "\r")
  return fc.record({
    encoding: fc.constant(encoding),
    delimiter: fc.constant(delimiter),
    rows: fc.array(fc.record({ row, eol }), { minLength: 1, maxLength: 25 })
  })
})

// The reverse of the WHATWG decoder's Windows-1250 table.
const windows1250Table = (() => {
  const decoder = new TextDecoder("windows-1250")
  const table = new Map<string, number>()
  for (let b = 0; b < 256; b++) table.set(decoder.decode(new Uint8Array([b])), b)
  return table
})()

const encode = (text: string, encoding: Encoding): Uint8Array => {
  switch (encoding) {
    case "utf-8":
    case "utf-8-bom":
      return new TextEncoder().encode(text)
    case "windows-1250":
      return new Uint8Array([...text].map((c) => {
        const b = windows1250Table.get(c)
        if (b === undefined) throw new Error(`not in Windows-1250: ${c}`)
        return b
      }))
    case "utf-16le":
    case "utf-16le-nobom":
      return new Uint8Array(Buffer.from(text, "utf16le"))
    case "utf-16be":
      return new Uint8Array(Buffer.from(text, "utf16le").swap16())
  }
}

/** Bytes that are not text in the encoding: a UTF-8 lead byte without its continuation, a lone UTF-16 surrogate. */
const invalidBytes = (encoding: Encoding): ReadonlyArray<number> =>
  encoding === "utf-16le" || encoding === "utf-16le-nobom" ? [0x00, 0xd8] : encoding === "utf-16be" ? [0xd8, 0x00] : [0xc3]

const bom = (encoding: Encoding): ReadonlyArray<number> =>
  encoding === "utf-8-bom" ? [0xef, 0xbb, 0xbf] : encoding === "utf-16le" ? [0xff, 0xfe] : encoding === "utf-16be" ? [0xfe, 0xff] : []

const quote = (cell: string) => `"${cell.replaceAll("\"", "\"\"")}"`

/** A cell as Excel writes it: in quotes when it holds the delimiter, a quote or a line break (or when asked to). */
const write = (cell: string, d: Delimiter, always = false) =>
  (always && cell !== "") || cell.includes(d) || /["\r\n]/.test(cell) ? quote(cell) : cell

const breaks = (text: string) => (text.match(/\r\n|\r|\n/g) ?? []).length

const HEADER = ["Jméno", "Příjmení", "Telefon", "Poznámka"] as const

interface Expected {
  readonly bytes: Uint8Array
  /** phone → columns, for the good rows (a later row of the same phone updates an earlier one). */
  readonly contacts: Map<string, Record<string, string>>
  readonly rejects: ReadonlyArray<{ readonly line: number; readonly kind: string }>
}

const e164 = (phone: string) => `+420${phone.replace(/\D/g, "").slice(-9)}`

/** The file of a plan, and what an import of it must give. */
const build = (plan: Plan): Expected => {
  const d = plan.delimiter
  const parts: Array<Uint8Array> = [new Uint8Array(bom(plan.encoding))]
  let text = ""
  const add = (piece: string) => {
    text += piece
    parts.push(encode(piece, plan.encoding))
  }
  add(HEADER.join(d) + "\r\n")
  const contacts = new Map<string, Record<string, string>>()
  const rejects: Array<{ line: number; kind: string }> = []
  for (const { row, eol } of plan.rows) {
    const line = 1 + breaks(text)
    if (row.kind === "blank") {
      add(row.text + eol)
      continue
    }
    const [first, last, phone, note] = row.cells
    switch (row.kind) {
      case "good": {
        add(row.cells.map((c) => write(c, d, row.quoteAll)).join(d) + d.repeat(row.padding) + eol)
        const columns = { "Jméno": first.trim(), "Příjmení": last.replace(/\r\n?/g, "\n").trim(), "Poznámka": note.replace(/\r\n?/g, "\n").trim() }
        // An empty cell never erases what an earlier row of the same phone said.
        const before = contacts.get(e164(phone))
        contacts.set(e164(phone), before === undefined ? columns : { ...before, ...Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== "")) })
        break
      }
      case "badPhone":
        add(row.cells.map((c) => write(c, d)).join(d) + eol)
        break
      case "short":
        add([first, last, phone].map((c) => write(c, d)).join(d) + eol)
        break
      case "long":
        add([...row.cells, "extra"].map((c) => write(c, d)).join(d) + eol)
        break
      case "afterQuote":
        add(`${quote(first)}x${d}${[last, phone, note].map((c) => write(c, d)).join(d)}${eol}`)
        break
      case "unclosed":
        add(`"${first.replaceAll("\"", "")}${d}${[last, phone, note].map((c) => write(c, d)).join(d)}${eol}`)
        break
      case "badBytes":
        add(first.trim())
        parts.push(new Uint8Array(invalidBytes(plan.encoding)))
        text += "\uFFFD"
        add(`x${d}${[last, phone, note].map((c) => write(c, d)).join(d)}${eol}`)
        break
    }
    if (row.kind !== "good") rejects.push({ line, kind: row.kind })
  }
  return { bytes: new Uint8Array(Buffer.concat(parts)), contacts, rejects }
}

/** The line and reason of each row of a rejects file. */
const readRejects = (text: string, d: Delimiter) => {
  const reader = new CsvReader(d)
  const events: Array<CsvEvent> = [...reader.push(text.replace(/^\uFEFF/, "")), ...reader.end()]
  return events.slice(1).map((e) => ({ line: Number(e.cells[0]), reason: e.cells[1] ?? "" }))
}

const reasonFor: Record<string, RegExp> = {
  badPhone: /^Telefon: /,
  short: /^the row has 3 cells, the header \(line 1\) has 4/,
  long: /^the row has 5 cells, the header \(line 1\) has 4/,
  afterQuote: /^not valid CSV: text after the closing " \(quote\) of cell 1/,
  // The unclosed quote may pair with the next quote on its own line, which makes text follow a "closing" quote.
  unclosed: /^not valid CSV: .*(never closed|missing closing|after the closing)/,
  badBytes: /^cell #1 \(Jméno\) has bytes that are not valid/
}

describe("contacts import (fuzz)", () => {
  it("good rows arrive exactly and bad rows are reported with their lines, in every encoding, delimiter and line ending", async () => {
    await fc.assert(fc.asyncProperty(planArb, async (plan) => {
      const expected = build(plan)
      const { exit, rejects } = await importBytes(expected.bytes)
      if (!Exit.isSuccess(exit)) throw new Error(`import failed: ${JSON.stringify(exit.cause)}`)
      const { summary, directory } = exit.value
      expect(summary.delimiter).toBe(plan.delimiter)
      expect(summary.encoding.encoding).toBe(plan.encoding.replace(/-bom|-nobom/, ""))
      expect(Object.fromEntries(directory.map((c) => [c.phone, c.columns]))).toEqual(Object.fromEntries(expected.contacts))
      const reported = rejects === undefined ? [] : readRejects(rejects, plan.delimiter)
      expect(reported.map((r) => r.line)).toEqual(expected.rejects.map((r) => r.line))
      reported.forEach((r, i) => expect(r.reason).toMatch(reasonFor[expected.rejects[i]!.kind]!))
      expect(summary.rejected).toBe(expected.rejects.length)
    }), { seed, numRuns: 150 })
  })

  it("arbitrary and damaged bytes end in a result or a clean error, never a crash", async () => {
    // Damage: bytes flipped, inserted or cut out of a good file, or bytes with no structure at all.
    const damaged = fc.tuple(planArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "insert", "delete")), { maxLength: 8 }))
      .map(([plan, edits]) => {
        const bytes = [...build(plan).bytes]
        for (const [at, value, op] of edits) {
          const i = at % (bytes.length + 1)
          if (op === "set" && i < bytes.length) bytes[i] = value
          else if (op === "insert") bytes.splice(i, 0, value)
          else bytes.splice(i, 1)
        }
        return new Uint8Array(bytes)
      })
    const structured = fc.array(fc.constantFrom(...[..."\";,\t\r\n xé"].map((c) => new TextEncoder().encode(c)), new Uint8Array([0xff]),
      new Uint8Array([0x00]), new Uint8Array([0xfe, 0xff]), new TextEncoder().encode("Telefon"), new TextEncoder().encode("777123456")), { maxLength: 60 })
      .map((pieces) => new Uint8Array(Buffer.concat(pieces)))
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 512 }), structured, damaged)
    await fc.assert(fc.asyncProperty(bytes, async (input) => {
      expectCleanOutcome((await importBytes(input)).exit)
      // The campaigns' small-CSV reader (way B) takes any bytes too: rows or a message, never a throw.
      const text = decodeText(input)
      for (const d of [";", ",", "\t"] as const) {
        const parsed = parseCsv(text, d)
        if (parsed._tag === "Failure") expect(parsed.failure).toMatch(/line \d+/)
      }
    }), { seed, numRuns: 200 })
  })
})

describe("contacts import: one enormous line", () => {
  const MB = 1024 * 1024
  const good = "Jan;Novák;777123456\r\n"

  it("a 20 MB line without a line break is one rejected row; the reader gives up on it after 1 MiB and reads on", async () => {
    // The reader hands its verdict out while the line is still arriving: it never holds the 20 MB.
    const reader = new CsvReader(";")
    const events: Array<CsvEvent> = [...reader.push("Jméno;Příjmení;Telefon\r\n")]
    const chunk = "x".repeat(64 * 1024)
    let pushedWhenBroken = -1
    for (let pushed = 0; pushed < 20 * MB; pushed += chunk.length) {
      events.push(...reader.push(chunk))
      if (pushedWhenBroken === -1 && events.some((e) => e._tag === "Broken")) pushedWhenBroken = pushed + chunk.length
    }
    events.push(...reader.push(`\r\n${good}`), ...reader.end())
    expect(pushedWhenBroken).toBeGreaterThan(MB)
    expect(pushedWhenBroken).toBeLessThanOrEqual(MB + 2 * chunk.length)
    expect(events.map((e) => [e._tag, e.line])).toEqual([["Record", 1], ["Broken", 2], ["Record", 3]])

    const bytes = new TextEncoder().encode(`Jméno;Příjmení;Telefon\r\n${good}${"7".repeat(20 * MB)}\r\nEva;Nová;777123457`)
    const { exit } = await importBytes(bytes)
    if (!Exit.isSuccess(exit)) throw new Error(`import failed: ${JSON.stringify(exit.cause)}`)
    expect(exit.value.summary).toMatchObject({ rows: 3, inserted: 2, rejected: 1 })
    expect(exit.value.summary.firstRejects).toEqual([{
      line: 3,
      reason: "not valid CSV: the row starting on this line has no line break in its first 1,048,576 characters, far longer than a " +
        "contact's row: check that this is the right file and that it is a CSV (a spreadsheet or a database dump is not); its rows " +
        "must end with a line break"
    }])
  }, 60_000)

  it("a 20 MB quoted cell is an unclosed quote, and a 20 MB header line stops the import with its line", async () => {
    const quoted = await importBytes(new TextEncoder().encode(`Jméno;Telefon\r\n"${"a".repeat(20 * MB)}\r\nEva;777123457\r\n`))
    if (!Exit.isSuccess(quoted.exit)) throw new Error(`import failed: ${JSON.stringify(quoted.exit.cause)}`)
    expect(quoted.exit.value.summary).toMatchObject({ rows: 2, inserted: 1, rejected: 1 })
    expect(quoted.exit.value.summary.firstRejects[0]?.reason).toContain("still not closed after 1,048,576 characters")

    const header = await importBytes(new TextEncoder().encode(`Jméno;Telefon${";x".repeat(10 * MB)}`))
    expectCleanOutcome(header.exit)
    expect(Exit.isFailure(header.exit) && String(header.exit.cause)).toContain("the header (line 1) is not valid CSV: the row starting on this line has no line break")
  }, 60_000)
})
