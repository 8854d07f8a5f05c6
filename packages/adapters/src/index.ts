/**
 * @megaphone/adapters — storage (in-memory, PostgreSQL, embedded PostgreSQL) behind the core's Storage port.
 * Transport: Meta's Cloud API over undici, and a faithful simulator of the Graph API.
 */
export * as ClaimDecision from "./storage/shared/ClaimDecision.ts"
export * as CloudApiTransport from "./transport/cloud-api/CloudApiTransport.ts"
export * as Database from "./storage/Database.ts"
export * as EmbeddedPostgres from "./storage/embedded/EmbeddedPostgres.ts"
export * as MemoryStorage from "./storage/memory/MemoryStorage.ts"
export * as PgStorage from "./storage/postgres/PgStorage.ts"
export * as Simulator from "./transport/simulator/Simulator.ts"
export * as Suppression from "./storage/shared/Suppression.ts"
