/**
 * Where Megaphone keeps its data (SPEC §7): the PostgreSQL server named by `--database-url` or
 * `MEGAPHONE_DATABASE_URL`, or else the embedded PostgreSQL with its data in `MEGAPHONE_DATA_DIR`
 * (default `./megaphone-data`). Either way the schema is migrated before the storage is handed out.
 */
import { PgClient } from "@effect/sql-pg"
import { Ports } from "@megaphone/core"
import { Effect, Layer, Redacted, Schema } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import * as EmbeddedPostgres from "./embedded/EmbeddedPostgres.ts"
import * as PgStorage from "./postgres/PgStorage.ts"

/** A PostgreSQL server by URL, or the embedded one in a data directory. */
export type Database =
  | { readonly _tag: "Server"; readonly url: Redacted.Redacted<string> }
  | { readonly _tag: "Embedded"; readonly dataDir: string }

/** The embedded default's data directory when `MEGAPHONE_DATA_DIR` is not set. */
export const DEFAULT_DATA_DIR = "./megaphone-data"

/** A database URL that is not a PostgreSQL URL. */
export class InvalidDatabaseUrl extends Schema.TaggedError<InvalidDatabaseUrl>()("InvalidDatabaseUrl", {
  source: Schema.String
}) {
  override get message(): string {
    return `${this.source} is not a PostgreSQL URL. Write it as postgres://USER:PASSWORD@HOST:5432/DATABASE, ` +
      `or leave it unset to use the embedded database in MEGAPHONE_DATA_DIR.`
  }
}

/** Pick the database from a `--database-url` flag, then the environment; the URL is never echoed. */
export const resolve = (
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<Database, InvalidDatabaseUrl> => {
  const [url, source] = flag !== undefined && flag !== ""
    ? [flag, "--database-url"]
    : [env["MEGAPHONE_DATABASE_URL"], "MEGAPHONE_DATABASE_URL"]
  if (url === undefined || url === "") {
    const dataDir = env["MEGAPHONE_DATA_DIR"]
    return Effect.succeed({ _tag: "Embedded", dataDir: dataDir === undefined || dataDir === "" ? DEFAULT_DATA_DIR : dataDir })
  }
  return /^postgres(ql)?:\/\//.test(url)
    ? Effect.succeed({ _tag: "Server", url: Redacted.make(url) })
    : Effect.fail(new InvalidDatabaseUrl({ source }))
}

/** What went wrong opening the database: the embedded server, the connection, or the migration. */
export type OpenError = EmbeddedPostgres.EmbeddedPostgresError | SqlError.SqlError | Ports.Storage.StorageError

/** A connection pool on the database (starting the embedded server for the layer's lifetime if needed). */
export const layerSql = (
  database: Database,
  pool: Omit<PgClient.PgPoolConfig, "url"> = {},
  log?: (line: string) => void
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, OpenError> =>
  database._tag === "Server"
    ? PgClient.layer({ ...pool, url: database.url })
    : EmbeddedPostgres.layerPgClient({ dataDir: database.dataDir, ...(log === undefined ? {} : { log }) }, pool)

/** The storage on a migrated database, plus the pool (for health checks). */
export const layer = (
  database: Database,
  pool: Omit<PgClient.PgPoolConfig, "url"> = {},
  log?: (line: string) => void
): Layer.Layer<Ports.Storage.Storage | PgClient.PgClient | SqlClient.SqlClient, OpenError> =>
  PgStorage.layer.pipe(
    Layer.provideMerge(Layer.effectDiscard(PgStorage.migrate).pipe(Layer.provideMerge(layerSql(database, pool, log))))
  )
