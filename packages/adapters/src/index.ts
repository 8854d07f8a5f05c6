/**
 * @megaphone/adapters — storage (in-memory, PostgreSQL, embedded PostgreSQL) behind the core's Storage port.
 * The transport (Meta's Cloud API and its simulator) arrives with issue 5.
 */
export * as ClaimDecision from "./storage/shared/ClaimDecision.ts"
export * as Database from "./storage/Database.ts"
export * as EmbeddedPostgres from "./storage/embedded/EmbeddedPostgres.ts"
export * as MemoryStorage from "./storage/memory/MemoryStorage.ts"
export * as PgStorage from "./storage/postgres/PgStorage.ts"
