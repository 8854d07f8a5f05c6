// Filters compiled to SQL select exactly the directory contacts Filter.evaluate accepts, on every real server.
import { PgClient } from "@effect/sql-pg"
import { Filter, Ports } from "@megaphone/core"
import { Effect, ManagedRuntime, Result } from "effect"
import { SqlClient, Statement } from "effect/sql"
import fc from "fast-check"
import { afterAll, beforeAll, expect, it } from "vitest"
import * as FilterSql from "../../../src/storage/postgres/FilterSql.ts"
import migration from "../../../src/storage/postgres/migrations/0002_filter_functions.ts"
import { describeServers, pgLayer } from "../../support/postgres.ts"
import { filterOf } from "../../../../core/test/arbitraries.ts"

// The table as migration 0001 creates it (owned by the schema migration; repeated here so this file tests 0002 alone).
const directoryTable = `create table directory_contacts (
  id bigint generated always as identity primary key,
  phone text not null,
  columns jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
)`

// ---------------------------------------------------------------------------
// Arbitraries (the filter shape is copied from packages/core/test/Filter.property.test.ts)
// ---------------------------------------------------------------------------

const isoDate = fc
  .date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2100-12-31T23:59:59Z"), noInvalidDate: true })
  .chain((date) => fc.constantFrom(date.toISOString().slice(0, 10), date.toISOString(), date.toISOString().slice(0, 16) + "+02:00"))

const czechDate = fc.tuple(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 1900, max: 2100 }),
  fc.constantFrom("", " ", "\u00a0"), fc.boolean())
  .map(([d, m, y, space, pad]) => `${pad ? String(d).padStart(2, "0") : d}.${space}${pad ? String(m).padStart(2, "0") : m}.${space}${y}`)

const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0))
)

// Letters whose case mapping is special (ß, final sigma, dotted İ, Kelvin sign, titlecase ǅ), decomposed accents,
// JavaScript-only whitespace, LIKE wildcards, quotes and an astral character.
const alphabet = [..."aAzZčČřŘšŠžŽýÝáÁíÍéÉůŮúÚěĚďĎťŤňŇóÓ0123456789.,-+eE:TZ %_\\'\";ßẞΣσςİıiIKǅǄ",
  "\u212a", "\u0301", "\u030c", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\ufeff", "\u2028", "\u0085", "😀", "𝐀"]
const weird = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 8 })

const cellText = fc.oneof(
  fc.constantFrom("Praha", "praha", "PRAHA", " Praha ", "Brno", "ŽLUŤOUČKÝ kůň", "žluťoučký KŮŇ", "ΟΔΟΣ", "İstanbul", "Straße",
    "e\u0301", "\u00e9", "3", "3.0", " 3 ", "3,5", "-2", "+3", ".5", "5.", "1e3", "1e400", "1e-400", "0x10", "Infinity", "NaN",
    "1,2,3", "2025-01-31", " 2025-01-31 ", "2025-01-31T10:00:00Z", "2025-01-31T23:30", "2025-01-31T00:00:00.0001+01:00",
    "2025-02-30", "0000-02-29", "31. 1. 2025", "31.01.2025", "1. 2. 2025", "29. 2. 2024", "29. 2. 2025", "", "  ", "\u00a0",
    "\ufeff", "%", "_", "\\", "'; drop table x; --", "a\"b", "x'y", "😀", "x😀y", "𝐀bc", "+420 777 123 456"),
  weird,
  czechDate,
  isoDate,
  number.map(String)
)

/** A cell as JSON text: a string, a JSON number (including ones JavaScript reads differently), or null. */
const cellJson = fc.oneof(
  { weight: 6, arbitrary: cellText.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: number.map((n) => JSON.stringify(n)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("3.50", "1e21", "1E21", "1e400", "-1e400", "1e-400", "12345678901234567890", "-0", "0.1",
      "5e-324", "2.4703282292062328e-324", "2.4703282292062327e-324", "1.7976931348623158e308", "1.7976931348623159e308",
      "0.000001", "1e-7", "123456789012345680000", "null")
  }
)

const columnNames = ["city", "orders", "created", "email", "phone", "Číslo objednávky", "a\"b", "x'y", "%_\\",
  "'; drop table x; --", "constructor", "__proto__"] as const

const columnsJson = fc.uniqueArray(fc.tuple(fc.constantFrom(...columnNames), cellJson), { selector: ([name]) => name, maxLength: 6 })
  .map((entries) => `{${entries.map(([name, json]) => `${JSON.stringify(name)}:${json}`).join(",")}}`)

const directoryRow = fc.record({ phone: fc.oneof(fc.constantFrom("+420777123456", "+421 900 000 000"), cellText), columns: columnsJson })

const filterValue: fc.Arbitrary<Filter.Value> = fc.oneof(
  cellText,
  number,
  fc.constantFrom(3, 3.5, -2, 0, 1e21, 5e-324, 1000, "pra", "PRA", "ŽLUŤ", "kůň", "σ", "ς", "i̇", "\ud83d", "\ude00", "\ude00y",
    "x\ud83d", "a\ud800b", "\u0000", "st\u0000", "e", "%", "_", "\\"),
  isoDate,
  czechDate
)


const anyFilter = filterOf(fc.oneof(fc.constantFrom(...columnNames, "missing", "Phone", "a\ud800", "nul\u0000"), weird), filterValue)

// ---------------------------------------------------------------------------
// Running filters on a server
// ---------------------------------------------------------------------------

interface Row { readonly id: number; readonly contact: Filter.Contact }

const setUp = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(directoryTable)
  yield* migration
  // Twice: a re-run (e.g. after a failed deploy) must not trip over what the first run created.
  yield* migration
})

/** Replaces the directory with these rows and returns them as the evaluator sees them (columns as read back). */
const load = (rows: ReadonlyArray<{ readonly phone: string; readonly columns: string }>) => Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`truncate directory_contacts`
  yield* sql`insert into directory_contacts (phone, columns)
    select * from unnest(${rows.map((r) => r.phone)}::text[], ${rows.map((r) => r.columns)}::jsonb[])`
  const stored = yield* sql<{ readonly id: string; readonly phone: string; readonly columns: string }>`
    select id::text as id, phone, columns::text as columns from directory_contacts d order by d.id`
  return stored.map((r): Row => ({ id: Number(r.id), contact: FilterSql.asContact(r.phone, JSON.parse(r.columns)) }))
})

/** For each filter, the ids of the directory rows it selects, in one round trip. */
const select = (filters: ReadonlyArray<Filter.Filter>) => Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const conditions = filters.map((f) => FilterSql.compile(f))
  const rows = yield* sql<{ readonly id: string; readonly matches: string }>`
    select d.id::text as id, json_build_array(${sql.csv(conditions)})::text as matches
    from directory_contacts d order by d.id`
  const parsed = rows.map((r) => ({ id: Number(r.id), matches: JSON.parse(r.matches) as ReadonlyArray<boolean> }))
  return filters.map((_, i) => parsed.filter((r) => r.matches[i] === true).map((r) => r.id))
})

const expected = (filter: Filter.Filter, rows: ReadonlyArray<Row>): ReadonlyArray<number> =>
  rows.filter((r) => Filter.evaluate(filter, r.contact)).map((r) => r.id)

describeServers("FilterSql", (kind) => {
  let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient | PgClient.PgClient, unknown>
  const run = <A>(effect: Effect.Effect<A, unknown, SqlClient.SqlClient>): Promise<A> => runtime.runPromise(effect)

  beforeAll(async () => {
    runtime = ManagedRuntime.make(pgLayer(kind, { maxConnections: 2 }))
    await run(setUp)
  }, 30_000)
  afterAll(() => runtime.dispose())

  /** Loads the contacts and checks each filter selects exactly what the evaluator selects. */
  const agree = async (rows: ReadonlyArray<{ phone: string; columns: string }>, filters: ReadonlyArray<Filter.Filter>) => {
    const loaded = await run(load(rows))
    const actual = await run(select(filters))
    filters.forEach((filter, i) => {
      expect({ filter: Filter.print(filter), ids: actual[i] }).toEqual({ filter: Filter.print(filter), ids: expected(filter, loaded) })
    })
    return actual
  }

  it("selects what Filter.evaluate accepts (property)", async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(directoryRow, { minLength: 50, maxLength: 150 }),
      fc.array(anyFilter, { minLength: 40, maxLength: 40 }),
      async (rows, filters) => { await agree(rows, filters) }
    ), { numRuns: 50 })
  }, 60_000)

  it("selects what Filter.evaluate accepts for single comparisons on number and date cells", async () => {
    // JSON numbers of every magnitude, so that JavaScript's number-to-text rules (1e+21, 5e-7) are exercised.
    const scaled = fc.tuple(fc.integer({ min: -99999, max: 99999 }), fc.integer({ min: -30, max: 30 })).map(([m, e]) => m * 10 ** e)
    const cell = fc.oneof(cellJson, scaled.map((n) => JSON.stringify(n)), scaled.map((n) => JSON.stringify(String(n))),
      isoDate.map((d) => JSON.stringify(d)), czechDate.map((d) => JSON.stringify(d)))
    const value = fc.oneof(number, scaled, isoDate, czechDate, fc.constantFrom(3, "3", "3,5", 3.5, "2025-01-31",
      "2025-01-31T10:00:00+01:00", "2024-02-29", "e", "e+2", "e-", "0000", "0.0", "-", "1.", "5", "Infinity"))
    const leaf = fc.tuple(fc.constantFrom("Equals", "NotEquals", "Contains", "StartsWith", "Lt", "Lte", "Gt", "Gte"), value)
      .map(([_tag, v]): Filter.Filter => ({ _tag, column: "x", value: v } as Filter.Filter))
    await fc.assert(fc.asyncProperty(
      fc.array(cell.map((json) => ({ phone: "+420777123456", columns: `{"x":${json}}` })), { minLength: 50, maxLength: 100 }),
      fc.array(leaf, { minLength: 40, maxLength: 40 }),
      async (rows, filters) => { await agree(rows, filters) }
    ), { numRuns: 25 })
  }, 60_000)

  it("searches what Ports.Storage.matchesSearch accepts: the phone or any column value contains the text (property)", async () => {
    // Imports store text cells only, so the contacts here have text cells (JSON numbers are the filters' concern).
    // No capital sigma: PostgreSQL 18's pg_unicode_fast lowers a Σ preceded only by case-ignorable characters ("'Σ")
    // to the final ς where JavaScript gives σ — a difference of migration 0002's fold that `contains` shares.
    const searchCell = cellText.filter((text) => !text.includes("Σ"))
    const textColumns = fc.uniqueArray(fc.tuple(fc.constantFrom(...columnNames), searchCell), { selector: ([name]) => name, maxLength: 5 })
      .map((entries) => `{${entries.map(([name, text]) => `${JSON.stringify(name)}:${JSON.stringify(text)}`).join(",")}}`)
    const row = fc.record({ phone: fc.oneof(fc.constantFrom("+420777123456", "+421 900 000 000"), searchCell), columns: textColumns })
    const searchText = fc.oneof(cellText, filterValue.map(String), fc.constantFrom("777", "+420", "PRAHA", "žluť", "", " ", "σ"))
    await fc.assert(fc.asyncProperty(
      fc.array(row, { minLength: 30, maxLength: 80 }),
      fc.array(searchText, { minLength: 20, maxLength: 20 }),
      async (rows, searches) => {
        await run(load(rows))
        const [stored, selected] = await run(Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const contacts = yield* sql<{ readonly id: string; readonly phone: string; readonly columns: string }>`
            select id::text as id, phone, columns::text as columns from directory_contacts d order by d.id`
          const matches = yield* sql<{ readonly id: string; readonly matches: string }>`
            select d.id::text as id, json_build_array(${sql.csv(searches.map((text) => FilterSql.search(text)))})::text as matches
            from directory_contacts d order by d.id`
          return [contacts, matches] as const
        }))
        searches.forEach((text, i) => {
          const want = stored.filter((c) => Ports.Storage.matchesSearch({ phone: c.phone, columns: JSON.parse(c.columns) }, text)).map((c) => c.id)
          const got = selected.filter((r) => (JSON.parse(r.matches) as ReadonlyArray<boolean>)[i] === true).map((r) => r.id)
          expect({ text, ids: got }).toEqual({ text, ids: want })
        })
      }
    ), { numRuns: 25 })
  }, 60_000)

  const contact = (columns: Record<string, unknown>, phone = "+420777000000") => ({ phone, columns: JSON.stringify(columns) })
  const names = (rows: ReadonlyArray<{ columns: string }>, ids: ReadonlyArray<number>, first: number) =>
    ids.map((id) => (JSON.parse(rows[id - first]?.columns ?? "{}") as { name?: string }).name)

  it("compiles every operator as the evaluator reads it", async () => {
    const rows = [
      contact({ name: "a", city: "Praha", orders: "3", created: "31. 1. 2025", email: "a@x.cz" }),
      contact({ name: "b", city: " praha ", orders: "3,5", created: "2025-01-31T23:59:00Z", email: " " }),
      contact({ name: "c", city: "PRAHA-Žižkov", orders: 3, created: "2025-02-01", email: null }),
      contact({ name: "d", city: "Brno", orders: "many", created: "yesterday" }),
      contact({ name: "e", city: "50% _off_ \\o/", orders: "-2", "Číslo objednávky": "A-1" }, "+420 601 000 000"),
      contact({ name: "f", city: "ŽLUŤOUČKÝ kůň", orders: "1e3", phone: "" })
    ]
    const loaded = await run(load(rows))
    const first = loaded[0]?.id ?? 0
    const check = async (text: string, want: ReadonlyArray<string>) => {
      const parsed = Filter.parse(text)
      if (Result.isFailure(parsed)) throw new Error(parsed.failure.message)
      const [ids = []] = await run(select([parsed.success]))
      expect({ text, names: names(rows, ids, first) }).toEqual({ text, names: want })
      expect(ids).toEqual(expected(parsed.success, loaded))
    }
    await check(`city = "Praha"`, ["a"])
    await check(`city != "Praha"`, ["b", "c", "d", "e", "f"])
    await check(`orders = 3`, ["a", "c"])
    await check(`orders = 3.5`, ["b"])
    await check(`orders = "3"`, ["a", "c"])
    await check(`created = 2025-01-31`, ["a", "b"])
    // A date-only side compares by calendar day; two date-times compare as instants (b is 23:59Z, after 23:00Z).
    await check(`created >= 2025-01-31 and created < 2025-02-01T00:00:00+01:00`, ["a"])
    await check(`orders > 2`, ["a", "b", "c", "f"])
    await check(`orders <= -2`, ["e"])
    await check(`city contains "praha"`, ["a", "b", "c"])
    await check(`city contains "žlUŤ"`, ["f"])
    await check(`city contains "%"`, ["e"])
    await check(`city contains "_o"`, ["e"])
    await check(`city contains "\\\\"`, ["e"])
    await check(`city starts with "praha-ž"`, ["c"])
    await check(`city starts with "50%"`, ["e"])
    await check(`email is empty`, ["b", "c", "d", "e", "f"])
    await check(`email is not empty`, ["a"])
    await check(`city in ("Brno", "Praha")`, ["a", "d"])
    await check(`\`Číslo objednávky\` != ""`, ["e"])
    await check(`phone starts with "+420 6"`, ["e"])
    await check(`phone is empty`, ["f"])
    await check(`not (orders >= 0 or orders < 0)`, ["d"])
    await check(`not missing = "x" and not (missing > 1)`, ["a", "b", "c", "d", "e", "f"])
  })

  it("reads JSON numbers as JavaScript does", async () => {
    // As text, 1e21 is "1e+21" and 0.0000005 is "5e-7" in JavaScript, and 1e400 is Infinity.
    const rows = [1e21, 5e-7, 0.1, 123456789012345680000].map((n, i) => ({ phone: "+1", columns: `{"name":"${i}","n":${n}}` }))
      .concat([{ phone: "+1", columns: `{"name":"4","n":1e400}` }, { phone: "+1", columns: `{"name":"5","n":3.50}` },
        // A tie at the edge of the rounding interval: JavaScript prints 1.2468e+22, PostgreSQL 1.2467999999999999e+22.
        { phone: "+1", columns: `{"name":"6","n":1.2468e22}` }])
    const loaded = await run(load(rows))
    const first = loaded[0]?.id ?? 0
    const filters = [Filter.contains("n", "e+"), Filter.equals("n", "5e-7"), Filter.equals("n", "Infinity"),
      Filter.equals("n", 3.5), Filter.equals("n", "3.5"), Filter.gt("n", 1e20), Filter.startsWith("n", "12345678901234568"),
      Filter.equals("n", "1.2468e+22")]
    const selected = await run(select(filters))
    expect(selected.map((ids) => names(rows, ids, first))).toEqual([["0", "6"], ["1"], ["4"], ["5"], ["5"], ["0", "3", "6"], ["3"], ["6"]])
    filters.forEach((f, i) => expect(selected[i]).toEqual(expected(f, loaded)))
  })

  it("matches values that PostgreSQL cannot hold (lone surrogates, U+0000) as JavaScript does", async () => {
    // String.includes compares UTF-16 units: "\ud83d" is the first half of 😀, "\udc00" the second half of 𝐀.
    const rows = [contact({ name: "a", x: "x😀y" }), contact({ name: "b", x: "𝐀bc" }), contact({ name: "c", x: "plain" })]
    const loaded = await run(load(rows))
    const first = loaded[0]?.id ?? 0
    const filters = [Filter.contains("x", "\ud83d"), Filter.contains("x", "\ude00Y"), Filter.startsWith("x", "X\ud83d"),
      Filter.contains("x", "\udc00B"), Filter.contains("x", "a\ud800b"), Filter.startsWith("x", "\ude00"),
      Filter.contains("x", "\u0000"), Filter.notEquals("x", "\ud83d"), Filter.equals("a\ud800", ""), Filter.lt("x", "1\u0000")]
    const selected = await run(select(filters))
    expect(selected.map((ids) => names(rows, ids, first)))
      .toEqual([["a"], ["a"], ["a"], ["b"], [], [], [], ["a", "b", "c"], ["a", "b", "c"], []])
    filters.forEach((f, i) => expect(selected[i]).toEqual(expected(f, loaded)))
  })

  it("treats a missing column as empty and never leaks NULL into not", async () => {
    const rows = [contact({ name: "a" }), contact({ name: "b", x: null }), contact({ name: "c", x: "1" })]
    const loaded = await run(load(rows))
    const filters = [Filter.not(Filter.gt("x", 0)), Filter.not(Filter.equals("x", 1)), Filter.not(Filter.contains("x", "")),
      Filter.not(Filter.isIn("x", ["1", 2])), Filter.not(Filter.not(Filter.lt("x", 5)))]
    const selected = await run(select(filters))
    filters.forEach((f, i) => expect(selected[i]).toEqual(expected(f, loaded)))
    expect(selected[0]).toHaveLength(2)
  })
})

it("binds every column name and value: none appears in the SQL text", () => {
  const columns = ["Číslo objednávky", "a\"b", "x'y", "'; drop table x; --", "city"]
  const values: ReadonlyArray<Filter.Value> = ["Praha", "'; drop table x; --", "50% _off_ \\", "a\"b", 424242, "2025-01-31"]
  const leaves = columns.flatMap((c) => values.flatMap((v): ReadonlyArray<Filter.Filter> => [
    Filter.equals(c, v), Filter.notEquals(c, v), Filter.contains(c, v), Filter.startsWith(c, v), Filter.lt(c, v),
    Filter.lte(c, v), Filter.gt(c, v), Filter.gte(c, v), Filter.isIn(c, [v, "Brno"])
  ]).concat([Filter.empty(c), Filter.notEmpty(c)]))
  const filter = Filter.or(Filter.not(leaves[0] as Filter.Filter), Filter.and(leaves[1] as Filter.Filter, leaves[2] as Filter.Filter),
    ...leaves.slice(3))
  const statement = Statement.fragment([Statement.literal("select d.id from directory_contacts d where "),
    ...FilterSql.compile(filter).segments])
  const [text, params] = PgClient.makeCompiler().compile(statement, false)
  for (const secret of [...columns, ...values.map(String), "Brno"]) expect(text).not.toContain(secret)
  expect(text.replaceAll("''", "")).not.toContain("'") // the only quoted text is the '' of "is empty"
  for (const secret of [...columns, ...values.map(String)]) expect(params).toContain(secret)
  expect(text).toMatch(/^select d\.id from directory_contacts d where \(/)
})

it("binds the search text: it never appears in the SQL text", () => {
  const secret = "'; drop table x; -- Praha %_\\"
  const statement = Statement.fragment([Statement.literal("select d.id from directory_contacts d where "),
    ...FilterSql.search(secret).segments])
  const [text, params] = PgClient.makeCompiler().compile(statement, false)
  expect(text).not.toContain("drop table")
  expect(text).not.toContain("'")
  expect(params).toContain(secret)
})
