/**
 * @megaphone/adapters — storage (in-memory, PostgreSQL, embedded PostgreSQL) behind the core's Storage port.
 * Transport: Meta's Cloud API over undici, 360dialog's Cloud API endpoint, a transport that picks between them
 * per account (ProviderTransport), and a faithful simulator of the Graph API (and of 360dialog's).
 */
export * as ClaimDecision from "./storage/shared/ClaimDecision.ts"
export * as CloudApiTransport from "./transport/cloud-api/CloudApiTransport.ts"
export * as Dialog360Transport from "./transport/360dialog/Dialog360Transport.ts"
export * as Database from "./storage/Database.ts"
export * as EmbeddedPostgres from "./storage/embedded/EmbeddedPostgres.ts"
export * as MemoryStorage from "./storage/memory/MemoryStorage.ts"
export * as PgStorage from "./storage/postgres/PgStorage.ts"
export * as ProviderTransport from "./transport/ProviderTransport.ts"
export * as Simulator from "./transport/simulator/Simulator.ts"
export * as Suppression from "./storage/shared/Suppression.ts"
