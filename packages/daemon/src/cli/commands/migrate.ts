/** `megaphone migrate`: bring the database schema up to date (the daemon also does this when it starts). */
import { Database, PgStorage } from "@megaphone/adapters"
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { fromError } from "../Failure.ts"
import { directOnly } from "../Remote.ts"
import { databaseUrl, describeDatabase, resolveDatabase } from "../Storage.ts"

/** `megaphone migrate [--database-url URL] [--json]` */
export const migrate = Command.make(
  "migrate",
  { databaseUrl, json: Flag.Boolean("json").pipe(Flag.withDescription("print one JSON document"), Flag.withDefault(false)) },
  ({ databaseUrl, json }) =>
    Effect.gen(function*() {
      yield* directOnly("migrate", databaseUrl)
      const database = yield* resolveDatabase(databaseUrl)
      const applied = yield* PgStorage.migrate.pipe(
        Effect.provide(Database.layerSql(database, { maxConnections: 1 })),
        Effect.mapError(fromError),
        Effect.scoped
      )
      const migrations = applied.map(([id, name]) => ({ id, name }))
      if (json) {
        yield* Console.log(JSON.stringify({ database: database._tag === "Server" ? "server" : "embedded", applied: migrations }))
      } else if (migrations.length === 0) {
        yield* Console.log(`The schema of ${describeDatabase(database)} is up to date.`)
      } else {
        yield* Console.log(`Applied ${migrations.length} migration(s) to ${describeDatabase(database)}:`)
        for (const m of migrations) yield* Console.log(`  ${String(m.id).padStart(4, "0")} ${m.name}`)
      }
    })
).pipe(Command.withDescription("Bring the database schema up to date; safe to run while daemons run."))
