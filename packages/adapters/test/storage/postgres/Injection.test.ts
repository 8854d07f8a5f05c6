// SQL injection through the storage, on real PostgreSQL: hostile directory column names and values, filter
// columns and values, search texts, filter and campaign names go in as data and come back as data. Every query
// selects exactly what Filter.evaluate (or matchesSearch) selects in JavaScript, and afterwards every table is still
// there with every row. FilterSql.test.ts checks the compiled SQL text binds every value; this file checks the
// whole storage path, so a value concatenated into SQL anywhere on it fails here.
import { Filter, Ports } from "@megaphone/core"
import { Effect, ManagedRuntime, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import fc from "fast-check"
import { afterAll, beforeAll, expect, it } from "vitest"
import * as Database from "../../../src/storage/Database.ts"
import { asContact } from "../../../src/storage/postgres/FilterSql.ts"
import { unlimitedAccount } from "../../support/fixtures.ts"
import { describeServers, freshDatabase } from "../../support/postgres.ts"

const T0 = new Date("2026-11-26T10:00:00.000Z")

/** Text that breaks out of a quoted literal or identifier, a comment, a dollar quote or a placeholder, if concatenated. */
const HOSTILE = [
  "'); drop table campaigns; --",
  "x'; delete from directory_contacts where 'a'='a",
  "' or '1'='1",
  "\" or \"1\"=\"1",
  "\"); drop table filters; --",
  "a\\'b",
  "\\",
  "\\\\'",
  "$1",
  "$2::text",
  "$$; drop table accounts; $$",
  "$tag$ x $tag$",
  "?",
  ":name",
  "%",
  "_",
  "--",
  "/* x",
  "*/",
  ";",
  "E'\\x27'",
  "${1}",
  "city -> 'x'",
  "Příjmení ✓ 😀 \u202e",
  " padded ",
  "line\nbreak\r\n",
  "tab\there",
  // Not SQL, but names a JavaScript object treats specially when rows are read back.
  "__proto__",
  "constructor"
]

type Storage = Ports.Storage.StorageShape
type Runtime = ManagedRuntime.ManagedRuntime<Ports.Storage.Storage | SqlClient.SqlClient, unknown>

const TABLES = ["accounts", "campaigns", "campaign_contacts", "directory_contacts", "filters"]

/** Every table of the schema and its row count, to compare before and after. */
const inventory = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const tables = yield* sql<{ readonly name: string }>`
    select table_name as name from information_schema.tables where table_schema = 'public' order by 1`
  const counts: Record<string, number> = {}
  for (const table of TABLES) {
    const [row] = yield* sql<{ readonly n: string }>`select count(*)::text as n from ${sql(table)}`
    counts[table] = Number(row?.n ?? -1)
  }
  return { tables: tables.map((t) => t.name), counts }
})

/** Every directory contact, as the evaluator sees it. */
const everyone = (s: Storage) =>
  Effect.map(s.listDirectory(undefined, { limit: 100_000 }), (rows) => rows.map((r) => ({ id: r.id, contact: asContact(r.phone, r.columns), row: r })))

/** The ids the storage selects for a filter, and the ids Filter.evaluate selects from every contact. */
const agree = (s: Storage, filter: Filter.Filter) =>
  Effect.gen(function*() {
    const all = yield* everyone(s)
    const selected = (yield* s.listDirectory(filter, { limit: 100_000 })).map((r) => r.id)
    const counted = yield* s.countDirectory(filter)
    const expected = all.filter((c) => Filter.evaluate(filter, c.contact)).map((c) => c.id)
    return { filter: Filter.print(filter), selected, counted, expected }
  })

describeServers("storage against SQL injection", (kind) => {
  let runtime: Runtime
  const run = <A>(effect: Effect.Effect<A, unknown, Ports.Storage.Storage | SqlClient.SqlClient>): Promise<A> => runtime.runPromise(effect)
  const withStorage = <A>(body: (s: Storage) => Effect.Effect<A, unknown, SqlClient.SqlClient>) =>
    run(Effect.flatMap(Effect.service(Ports.Storage.Storage), body))
  let before: { readonly tables: ReadonlyArray<string>; readonly counts: Record<string, number> }

  beforeAll(async () => {
    const url = await freshDatabase(kind)
    runtime = ManagedRuntime.make(Database.layer({ _tag: "Server", url: Redacted.make(Redacted.value(url)) }, { maxConnections: 2 }))
    await withStorage((s) =>
      Effect.gen(function*() {
        yield* s.saveAccount(unlimitedAccount("shop", { createdAt: T0, updatedAt: T0 }))
        yield* s.createCampaign({ name: "jaro", accountName: "shop", templateName: "order_done", language: "cs", note: null }, T0)
        yield* s.createFilter("praha", Filter.equals("city", "Praha"), T0)
        // One contact per hostile text: a column named by it holding it, and the same text in the common columns.
        yield* s.importDirectory(HOSTILE.map((text, i) => ({
          phone: `+420601${String(i).padStart(6, "0")}`,
          columns: { [text]: text, note: text, city: i % 2 === 0 ? "Praha" : text }
        })), "update", T0)
      }))
    before = await run(inventory)
  }, 60_000)
  afterAll(() => runtime.dispose())

  it("stores hostile column names and values as they are", async () => {
    const columns = await withStorage((s) => s.directoryColumns())
    expect([...columns].sort()).toEqual([...new Set([...HOSTILE, "note", "city"])].sort())
    const first = await withStorage((s) => s.getDirectoryContact({ phone: "+420601000000" }))
    expect(Option.getOrThrow(first).columns).toEqual({ [HOSTILE[0]!]: HOSTILE[0], note: HOSTILE[0], city: "Praha" })
  })

  it("filters on hostile columns and values select what Filter.evaluate selects", async () => {
    const filters = HOSTILE.flatMap((text): ReadonlyArray<Filter.Filter> => [
      Filter.equals(text, text),
      Filter.notEquals(text, text),
      Filter.contains("note", text),
      Filter.startsWith(text, text.slice(0, 3)),
      Filter.gt(text, text),
      Filter.lte("note", text),
      Filter.isIn("city", [text, "Praha"]),
      Filter.empty(text),
      Filter.not(Filter.notEmpty(text))
    ])
    const results = await withStorage((s) => Effect.forEach(filters, (f) => agree(s, f)))
    for (const r of results) expect({ filter: r.filter, selected: r.selected, counted: r.counted }).toEqual({ filter: r.filter, selected: r.expected, counted: r.expected.length })
    // Not vacuous: each hostile equality found its own contact.
    for (const [i, text] of HOSTILE.entries()) {
      const own = results.find((r) => r.filter === Filter.print(Filter.equals(text, text)))
      expect([text, own?.selected.length]).toEqual([text, 1])
      expect(own?.selected[0]).toBe((await withStorage((s) => s.getDirectoryContact({ phone: `+420601${String(i).padStart(6, "0")}` }))).pipe(Option.getOrThrow).id)
    }
  })

  it("NUL, which PostgreSQL text cannot hold, matches nothing and breaks nothing", async () => {
    const results = await withStorage((s) =>
      Effect.forEach([Filter.equals("note\u0000", "x"), Filter.equals("note", "'\u0000; drop table campaigns; --"),
        Filter.contains("note", "\u0000"), Filter.startsWith("\u0000", "a")], (f) => agree(s, f)))
    for (const r of results) expect([r.filter, r.selected, r.counted]).toEqual([r.filter, r.expected, 0])
    expect(await withStorage((s) => s.countDirectory(undefined, "\u0000'; drop table campaigns; --"))).toBe(0)
  })

  it("searches for hostile text as text", async () => {
    const results = await withStorage((s) =>
      Effect.gen(function*() {
        const all = yield* everyone(s)
        return yield* Effect.forEach(HOSTILE, (text) =>
          Effect.map(s.listDirectory(undefined, { limit: 100_000 }, text), (rows) => ({
            text,
            selected: rows.map((r) => r.id),
            expected: all.filter((c) => Ports.Storage.matchesSearch(c.row, text)).map((c) => c.id)
          })))
      }))
    for (const r of results) expect(r.selected).toEqual(r.expected)
    expect(results.every((r) => r.expected.length >= 1)).toBe(true)
  })

  it("saves, reads and deletes filters and campaigns with hostile names", async () => {
    await withStorage((s) =>
      Effect.gen(function*() {
        for (const [i, text] of HOSTILE.entries()) {
          const saved = yield* s.createFilter(text, Filter.and(Filter.equals(text, text), Filter.contains("note", text)), T0)
          expect(saved.name).toBe(text)
          expect(Option.map(yield* s.getFilter(text), (f) => f.filter)).toEqual(Option.some(saved.filter))
          yield* s.deleteFilter(text)
          expect(Option.isNone(yield* s.getFilter(text))).toBe(true)
          const campaign = yield* s.createCampaign({ name: text, accountName: "shop", templateName: text, language: "cs", note: text }, T0)
          expect(Option.map(yield* s.getCampaign(campaign.id), (c) => [c.name, c.templateName, c.note])).toEqual(Option.some([text, text, text]))
          // A hostile delete selects nothing here: no contact has this column with this other value.
          expect(yield* s.deleteDirectoryMatching(Filter.equals(text, `${text}${i}-nobody`))).toBe(0)
        }
      }))
    expect((await withStorage((s) => s.listFilters())).map((f) => f.name)).toEqual(["praha"])
  })

  it("random column names and values (any Unicode) round-trip and filter as the evaluator does (property)", async () => {
    const text = fc.string({ unit: "binary", maxLength: 12 }).filter((t) => !t.includes("\u0000"))
    await fc.assert(fc.asyncProperty(text, text, text, async (column, value, probe) => {
      const phone = "+420777000000"
      await withStorage((s) => s.importDirectory([{ phone, columns: { [column]: value } }], "update", T0))
      const stored = await withStorage((s) => s.getDirectoryContact({ phone }))
      expect(Option.getOrThrow(stored).columns[column]).toBe(value)
      const results = await withStorage((s) =>
        Effect.forEach([Filter.equals(column, value), Filter.contains(column, probe), Filter.startsWith(probe, value), Filter.lt(column, probe)],
          (f) => agree(s, f)))
      for (const r of results) expect([r.filter, r.selected]).toEqual([r.filter, r.expected])
      await withStorage((s) => s.deleteDirectoryContacts([{ phone }]))
    }), { numRuns: 40 })
  }, 60_000)

  it("leaves every table and every row where it was", async () => {
    const after = await run(inventory)
    expect(after.tables).toEqual(before.tables)
    expect(after.tables).toEqual(expect.arrayContaining(TABLES))
    // The hostile campaigns of the test above were added; nothing else changed.
    expect(after.counts).toEqual({ ...before.counts, campaigns: before.counts["campaigns"]! + HOSTILE.length })
    expect(before.counts).toMatchObject({ accounts: 1, campaigns: 1, filters: 1, directory_contacts: HOSTILE.length })
  })
})
