// The PostgreSQL test harness itself: fresh databases are isolated, and a missing server is reported, not hidden.
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { describe, expect, inject, it } from "vitest"
import {
  availableServers, describeServer, describeServers, freshDatabase, pgLayer, SERVER_KINDS, type ServerKind, unavailableReason
} from "./postgres.ts"

const query = <A extends object>(url: Redacted.Redacted<string>, text: string) =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    return yield* sql.unsafe<A>(text)
  }).pipe(Effect.provide(PgClient.layer({ url, maxConnections: 1 }))))

describeServers("freshDatabase", (kind: ServerKind) => {
  it("gives two isolated, empty UTF-8 databases", async () => {
    const [first, second] = await Promise.all([freshDatabase(kind), freshDatabase(kind)])
    expect(Redacted.value(first)).not.toBe(Redacted.value(second))

    await query(first, "create table only_in_first (id int)")
    const [a] = await query<{ db: string; encoding: string }>(first, "select current_database() as db, pg_encoding_to_char(encoding) as encoding from pg_database where datname = current_database()")
    const [b] = await query<{ db: string; tables: number }>(second, "select current_database() as db, (select count(*)::int from pg_tables where schemaname = 'public') as tables")
    expect(a?.db).toMatch(new RegExp(`^${inject("megaphonePostgres").databasePrefix}`))
    expect(a?.encoding).toBe("UTF8")
    expect(b?.db).not.toBe(a?.db)
    expect(b?.tables).toBe(0)
  })

  it("pgLayer provides a pool on a database of its own", async () => {
    const db = await Effect.runPromise(Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      const [row] = yield* sql<{ readonly db: string }>`select current_database() as db`
      return row?.db
    }).pipe(Effect.provide(pgLayer(kind))))
    expect(db).toMatch(/^megaphone_test_/)
  })
})

describe("availableServers", () => {
  it("always lists the embedded server and lists the external one exactly when it is there", () => {
    const kinds = availableServers()
    expect(kinds[0]).toBe("embedded")
    expect(kinds.includes("external")).toBe(unavailableReason("external") === undefined)
  })

  it.each(SERVER_KINDS)("%s: is available, or says why not", (kind) => {
    const reason = unavailableReason(kind)
    if (reason !== undefined) {
      console.info(`The ${kind} PostgreSQL is skipped in this run: ${reason}`)
      expect(reason.length).toBeGreaterThan(10)
    }
    expect(describeServer(kind)).not.toMatch(/postgres:\/\/[^@]*:[^@]*@/) // descriptions never carry a password
  })
})
