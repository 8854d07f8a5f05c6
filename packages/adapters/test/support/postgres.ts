/**
 * Test harness for real PostgreSQL: the servers the vitest globalSetup started (see ./globalSetup.ts), a fresh
 * database per test file, and a `PgClient` layer on one. Never a mock.
 *
 *   describeServers("PostgresStorage", (kind) => {
 *     it.layer(pgLayer(kind))((it) => {
 *       it.effect("stores a campaign", () => Effect.gen(function*() { const sql = yield* SqlClient.SqlClient; … }))
 *     })
 *   })
 */
import { randomBytes } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import { describe, inject } from "vitest"

/** The two kinds of server a storage suite runs against: Megaphone's embedded default, and a server it does not own. */
export type ServerKind = "embedded" | "external"

/** A server the globalSetup started or found, or why there is none. */
export type ServerAvailability =
  | {
    readonly available: true
    /** Superuser (or CREATEDB) URL; a plain string because vitest's `provide` serialises values. */
    readonly adminUrl: string
    /** Where it comes from, e.g. "system PostgreSQL 15 in /tmp/…"; never contains the password. */
    readonly description: string
  }
  | { readonly available: false; readonly reason: string }

/** What globalSetup hands to the test workers. */
export interface TestServers {
  /** Prefix of every database this run creates, so teardown can drop them on a server it does not own. */
  readonly databasePrefix: string
  readonly embedded: ServerAvailability
  readonly external: ServerAvailability
}

declare module "vitest" {
  export interface ProvidedContext {
    megaphonePostgres: TestServers
  }
}

/** Both kinds, in the order suites run them. */
export const SERVER_KINDS: ReadonlyArray<ServerKind> = ["embedded", "external"]

const servers = (): TestServers => inject("megaphonePostgres")

/**
 * The kinds a suite can run against now. The embedded server is always listed: if it failed to start, tests using
 * it fail with the reason instead of being skipped quietly.
 */
export const availableServers = (): ReadonlyArray<ServerKind> =>
  SERVER_KINDS.filter((kind) => kind === "embedded" || servers()[kind].available)

/** Why a kind of server is missing in this run, or `undefined` when it is there. */
export const unavailableReason = (kind: ServerKind): string | undefined => {
  const server = servers()[kind]
  return server.available ? undefined : server.reason
}

/** A human description of the server behind `kind` (no secrets), for test titles and logs. */
export const describeServer = (kind: ServerKind): string => {
  const server = servers()[kind]
  return server.available ? server.description : `unavailable: ${server.reason}`
}

/**
 * Declares `body` once per kind of server: a normal describe for the available ones, a skipped one whose title
 * says why for the others, so the reason shows up in every test report.
 */
export const describeServers = (name: string, body: (kind: ServerKind) => void): void => {
  for (const kind of SERVER_KINDS) {
    const reason = kind === "embedded" ? undefined : unavailableReason(kind)
    if (reason === undefined) describe(`${name} [${kind}]`, () => body(kind))
    else describe.skip(`${name} [${kind} skipped: ${reason}]`, () => body(kind))
  }
}

const adminUrlOf = (kind: ServerKind): string => {
  const server = servers()[kind]
  if (!server.available) throw new Error(`No ${kind} PostgreSQL server in this test run: ${server.reason}`)
  return server.adminUrl
}

let created = 0

/** Creates a new, uniquely named, empty UTF-8 database on that server and returns its URL. */
export const freshDatabase = (kind: ServerKind): Promise<Redacted.Redacted<string>> => {
  const admin = adminUrlOf(kind)
  const name = `${servers().databasePrefix}${process.pid}_${++created}_${randomBytes(3).toString("hex")}`
  const create = Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    // template0: a clean copy whatever someone installed into template1 on an external server.
    yield* sql.unsafe(`create database "${name}" template template0 encoding 'UTF8'`)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(admin), maxConnections: 1 })))
  return Effect.runPromise(create).then(() => {
    const url = new URL(admin)
    url.pathname = `/${name}`
    return Redacted.make(url.toString())
  })
}

/** A `PgClient`/`SqlClient` pool on a fresh database of that server (one database per layer build). */
export const pgLayer = (
  kind: ServerKind,
  pool: Omit<PgClient.PgPoolConfig, "url"> = {}
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, SqlError.SqlError> =>
  Layer.unwrap(Effect.map(Effect.promise(() => freshDatabase(kind)), (url) => PgClient.layer({ maxConnections: 4, ...pool, url })))
