/**
 * The directory: contacts keyed by phone with free-form columns, imported in bulk and listed through filters.
 */
import type { Filter, Ports } from "@megaphone/core"
import { Effect, Option } from "effect"
import type { Statement } from "effect/sql"
import { compile, search as searchCondition } from "./FilterSql.ts"
import { date, decode, id, isId, jsons, num, type Op, type Row, type Sql, str, stringRecord, texts } from "./Rows.ts"

// 2 array parameters per statement whatever the size; chunks only bound the size of one message.
const CHUNK = 10_000

type Columns = Readonly<Record<string, string>>

const nonEmpty = (columns: Columns): Columns => Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== ""))

/** The merge rule of an update, the same in TypeScript (repeats inside a batch) and SQL: non-empty values win. */
const merge = (existing: Columns, incoming: Columns): Columns => ({ ...incoming, ...existing, ...nonEmpty(incoming) })

const upsertChunk = (sql: Sql, phones: ReadonlyArray<string>, columns: ReadonlyArray<Columns>, now: Date) =>
  sql<Row>`
    insert into directory_contacts as d (phone, columns, created_at, updated_at)
    select u.phone, u.columns::jsonb, ${now}, ${now}
    from unnest(${texts(phones)}::text[], ${jsons(columns)}::text[]) with ordinality as u(phone, columns, ord)
    order by u.ord
    on conflict (phone) do update set
      columns = excluded.columns || d.columns || coalesce(
        (select jsonb_object_agg(e.key, e.value) from jsonb_each(excluded.columns) e where e.value <> '""'::jsonb),
        '{}'::jsonb
      ),
      updated_at = excluded.updated_at
    returning d.phone, (d.xmax = 0) as inserted
  `

const insertChunk = (sql: Sql, phones: ReadonlyArray<string>, columns: ReadonlyArray<Columns>, now: Date) =>
  sql<Row>`
    insert into directory_contacts (phone, columns, created_at, updated_at)
    select u.phone, u.columns::jsonb, ${now}, ${now}
    from unnest(${texts(phones)}::text[], ${jsons(columns)}::text[]) with ordinality as u(phone, columns, ord)
    order by u.ord
    on conflict (phone) do nothing
    returning phone, true as inserted
  `

/** See `StorageShape.importDirectory`. */
export const importDirectory = (
  sql: Sql,
  contacts: ReadonlyArray<Ports.Storage.NewDirectoryContact>,
  onDuplicate: "update" | "skip",
  now: Date
): Op<Ports.Storage.DirectoryImportResult> =>
  sql.withTransaction(Effect.gen(function*() {
    // Repeats inside the batch fold into one row first, as if each were imported right after the previous one.
    const byPhone = new Map<string, { columns: Columns; occurrences: number }>()
    for (const c of contacts) {
      const seen = byPhone.get(c.phone)
      if (seen === undefined) byPhone.set(c.phone, { columns: c.columns, occurrences: 1 })
      else {
        seen.occurrences++
        if (onDuplicate === "update") seen.columns = merge(seen.columns, c.columns)
      }
    }
    const phones = [...byPhone.keys()]
    let inserted = 0
    let updated = 0
    let skipped = 0
    for (let start = 0; start < phones.length; start += CHUNK) {
      const chunk = phones.slice(start, start + CHUNK)
      const columns = chunk.map((p) => byPhone.get(p)?.columns ?? {})
      const rows = onDuplicate === "update" ? yield* upsertChunk(sql, chunk, columns, now) : yield* insertChunk(sql, chunk, columns, now)
      const fresh = new Set(
        (yield* decode("importDirectory", rows, (r) => [str(r, "phone"), r["inserted"] === true] as const)).flatMap(([p, isNew]) => (isNew ? [p] : []))
      )
      for (const phone of chunk) {
        const occurrences = byPhone.get(phone)?.occurrences ?? 1
        const existing = fresh.has(phone) ? occurrences - 1 : occurrences
        if (fresh.has(phone)) inserted++
        if (onDuplicate === "update") updated += existing
        else skipped += existing
      }
    }
    return { inserted, updated, skipped }
  }))

const readDirectoryContact = (row: Row): Ports.Storage.DirectoryContact => ({
  id: id(row, "id"),
  phone: str(row, "phone"),
  columns: stringRecord(row, "columns"),
  createdAt: date(row, "created_at"),
  updatedAt: date(row, "updated_at")
})

/** `and …` conditions selecting the rows of a filter and a search (either may be absent), for after a `where`. */
const selecting = (sql: Sql, filter: Filter.Filter | undefined, search: string | undefined) =>
  sql`
    ${filter === undefined ? sql.literal("") : sql`and (${compile(filter)})`}
    ${search === undefined ? sql.literal("") : sql`and ${searchCondition(search)}`}
  `

/** See `StorageShape.listDirectory`: the filter and the search compile to SQL over `columns` and `phone`. */
export const listDirectory = (
  sql: Sql,
  filter: Filter.Filter | undefined,
  page: Ports.Storage.Page,
  search?: string
): Op<ReadonlyArray<Ports.Storage.DirectoryContact>> =>
  Effect.gen(function*() {
    const afterId = page.afterId ?? "0"
    if (!isId(afterId) || page.limit <= 0) return []
    const rows = yield* sql<Row>`
      select d.id, d.phone, d.columns, d.created_at, d.updated_at
      from directory_contacts d
      where d.id > ${afterId}::bigint
        ${selecting(sql, filter, search)}
      order by d.id
      limit ${Math.floor(page.limit)}
    `
    return yield* decode("listDirectory", rows, readDirectoryContact)
  })

/** See `StorageShape.countDirectory`: one `count(*)`, however many rows match. */
export const countDirectory = (sql: Sql, filter: Filter.Filter | undefined, search?: string): Op<number> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`
      select count(*) as matched
      from directory_contacts d
      where true
        ${selecting(sql, filter, search)}
    `
    const [matched = 0] = yield* decode("countDirectory", rows, (r) => num(r, "matched"))
    return matched
  })

/** See `StorageShape.getDirectoryContact`. */
export const getDirectoryContact = (
  sql: Sql,
  key: Ports.Storage.DirectoryKey
): Op<Option.Option<Ports.Storage.DirectoryContact>> =>
  Effect.gen(function*() {
    if ("id" in key && !isId(key.id)) return Option.none()
    const rows = yield* sql<Row>`
      select d.id, d.phone, d.columns, d.created_at, d.updated_at
      from directory_contacts d
      where ${"id" in key ? sql`d.id = ${key.id}::bigint` : sql`d.phone = ${key.phone}`}
    `
    return Option.fromNullishOr((yield* decode("getDirectoryContact", rows, readDirectoryContact))[0])
  })

/**
 * Delete the rows `condition` selects and unlink the campaign contacts added from them, in one statement: the
 * campaign contacts keep their frozen parameters, only `directory_contact_id` becomes null (index of migration 0003).
 */
const deleteWhere = (sql: Sql, operation: string, condition: Statement.Fragment): Op<number> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`
      with deleted as (
        delete from directory_contacts d
        where ${condition}
        returning d.id
      ), unlinked as (
        update campaign_contacts cc
        set directory_contact_id = null
        from deleted
        where cc.directory_contact_id = deleted.id
      )
      select count(*) as deleted from deleted
    `
    const [deleted = 0] = yield* decode(operation, rows, (r) => num(r, "deleted"))
    return deleted
  })

/** See `StorageShape.deleteDirectoryContacts`. */
export const deleteDirectoryContacts = (sql: Sql, keys: ReadonlyArray<Ports.Storage.DirectoryKey>): Op<number> => {
  // A key that cannot be an id names no row; leaving it out keeps the bigint cast from failing the statement.
  const ids = keys.flatMap((k) => ("id" in k && isId(k.id) ? [k.id] : []))
  const phones = keys.flatMap((k) => ("phone" in k ? [k.phone] : []))
  if (ids.length === 0 && phones.length === 0) return Effect.succeed(0)
  return deleteWhere(sql, "deleteDirectoryContacts", sql`d.id = any(${texts(ids)}::bigint[]) or d.phone = any(${texts(phones)}::text[])`)
}

/** See `StorageShape.deleteDirectoryMatching`. */
export const deleteDirectoryMatching = (sql: Sql, filter: Filter.Filter): Op<number> =>
  deleteWhere(sql, "deleteDirectoryMatching", sql`(${compile(filter)})`)

/** See `StorageShape.directoryColumns`. */
export const directoryColumns = (sql: Sql): Op<ReadonlyArray<string>> =>
  Effect.gen(function*() {
    const rows = yield* sql<Row>`
      select distinct k.name collate "C" as name
      from directory_contacts d, jsonb_object_keys(d.columns) as k(name)
      order by 1
    `
    return yield* decode("directoryColumns", rows, (r) => str(r, "name"))
  })
