/** The storage flags every command shares: `--database-url` (or `MEGAPHONE_DATABASE_URL`), else the embedded default. */
import { Database } from "@megaphone/adapters"
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { fromError } from "./Failure.ts"

/** `--database-url URL`: a PostgreSQL server; without it `MEGAPHONE_DATABASE_URL`, then the embedded default. */
export const databaseUrl = Flag.String("database-url").pipe(
  Flag.withDescription("PostgreSQL URL (default: MEGAPHONE_DATABASE_URL, else the embedded database in MEGAPHONE_DATA_DIR)"),
  Flag.optional
)

/** The database the flags and environment name. */
export const resolveDatabase = (flag: Option.Option<string>) =>
  Database.resolve(Option.getOrUndefined(flag), process.env).pipe(Effect.mapError(fromError))

/** A one-line description of where the data is, without secrets. */
export const describeDatabase = (database: Database.Database): string =>
  database._tag === "Server" ? "the PostgreSQL server from the database URL" : `the embedded database in ${database.dataDir}`
