// What only the PostgreSQL adapter has to prove: migrations under concurrent daemons, claims and status writes
// from several daemons with their own connection pools, the SQL rank guard, and readable errors.
import { PgClient } from "@effect/sql-pg"
import { Campaign, ContactState, Ports } from "@megaphone/core"
import { Effect, Layer, Option, Redacted, Result } from "effect"
import { SqlClient } from "effect/sql"
import { describe, expect, it } from "vitest"
import * as PgStorage from "../../../src/storage/postgres/PgStorage.ts"
import { readContact, writeProgress } from "../../../src/storage/postgres/Rows.ts"
import { describeServers, freshDatabase } from "../../support/postgres.ts"

type Storage = Ports.Storage.StorageShape

const T0 = new Date("2026-11-26T10:00:00.000Z")
const at = (ms: number) => new Date(T0.getTime() + ms)
const SECOND = 1000

const account = (overrides: Partial<Ports.Storage.Account> = {}): Ports.Storage.Account => ({
  name: "a",
  phoneNumberId: "pn-a",
  wabaId: "waba-1",
  portfolioId: null,
  tokenEnv: "MEGAPHONE_ACCESS_TOKEN",
  graphUrl: "http://127.0.0.1:8789",
  graphVersion: "v23.0",
  displayPhoneNumber: null,
  messagingLimit: "unlimited",
  messagingTier: null,
  qualityRating: null,
  throughputMps: 1000,
  throughputLevel: "HIGH",
  nameStatus: null,
  status: null,
  createdAt: T0,
  updatedAt: T0,
  ...overrides
})

const recipient = (n: number) => `420601${String(n).padStart(6, "0")}`
const newContact = (n: number): Ports.Storage.NewCampaignContact => ({
  phone: `+${recipient(n)}`,
  recipient: recipient(n),
  parameters: { "1": `Novák ${n}` }
})

/** A pool of its own on the database, as a separate daemon would have. */
const daemon = (url: Redacted.Redacted<string>, connections = 2) => PgClient.layer({ url, maxConnections: connections })

const storageOn = (url: Redacted.Redacted<string>, connections = 2) =>
  Layer.effect(Ports.Storage.Storage, PgStorage.make).pipe(Layer.provideMerge(daemon(url, connections)))

const withStorage = <A, E>(url: Redacted.Redacted<string>, body: (s: Storage) => Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.gen(function*() {
    const s = yield* Ports.Storage.Storage
    return yield* body(s)
  }).pipe(Effect.provide(storageOn(url)))

/** A migrated database with a running campaign of `total` contacts on an account. */
const seeded = (url: Redacted.Redacted<string>, acc: Ports.Storage.Account, total: number) =>
  withStorage(url, (s) =>
    Effect.gen(function*() {
      yield* PgStorage.migrate
      yield* s.saveAccount(acc)
      const created = yield* s.createCampaign({ name: "c", accountName: acc.name, templateName: "t", language: "cs", note: null }, T0)
      const running = Result.getOrThrow(Campaign.start(created.lifecycle, { ...Campaign.emptyCounts, initial: 1 }, T0))
      yield* s.updateCampaignLifecycle(created.id, "draft", running)
      const added = yield* s.addCampaignContacts(created.id, Array.from({ length: total }, (_, i) => newContact(i)), T0)
      expect(added.added).toBe(total)
      return created.id
    }))

/** Four daemons, each with its own pool, claiming with their own clocks until nothing more comes. */
const claimRace = (url: Redacted.Redacted<string>, acc: Ports.Storage.Account) =>
  Effect.all(
    ["d1", "d2", "d3", "d4"].map((owner) =>
      withStorage(url, (s) =>
        Effect.gen(function*() {
          const mine: Array<string> = []
          let idle = 0
          for (let round = 0; round < 400 && idle < 10; round++) {
            const { claimed } = yield* s.claim({ account: acc, limit: 500, leaseMs: 3600 * SECOND, owner, now: at(round * SECOND), horizonMs: 3600 * SECOND })
            mine.push(...claimed.map((c) => c.contact.id))
            idle = claimed.length === 0 ? idle + 1 : 0
          }
          return mine
        }))
    ),
    { concurrency: "unbounded" }
  )

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect as Effect.Effect<A, never>)

const seededShuffle = (items: Array<Ports.Storage.StatusReport>, seed: number) => {
  let x = seed
  for (let i = items.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    const j = x % (i + 1)
    const tmp = items[i]!
    items[i] = items[j]!
    items[j] = tmp
  }
  return items
}

describeServers("PgStorage (PostgreSQL only)", (kind) => {
  describe("migrations", () => {
    it("run twice, and from 3 daemons at once, leave one schema", async () => {
      const url = await freshDatabase(kind)
      const migrateOn = (u: Redacted.Redacted<string>) => PgStorage.migrate.pipe(Effect.provide(daemon(u, 1)))
      const concurrent = await run(Effect.all([migrateOn(url), migrateOn(url), migrateOn(url)], { concurrency: "unbounded" }))
      // Exactly one of the three applied the migrations; the others found them done.
      const all = Object.keys(PgStorage.migrations).map((key) => Number(key.slice(0, 4)))
      expect(all).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
      expect(concurrent.map((applied) => applied.length).sort()).toEqual([0, 0, all.length])
      expect(await run(migrateOn(url))).toEqual([])
      const recorded = await run(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ readonly migration_id: number }>`select migration_id from megaphone_migrations order by 1`
      }).pipe(Effect.provide(daemon(url, 1))))
      expect(recorded.map((r) => r.migration_id)).toEqual(all)
    }, 60_000)
  })

  describe("claims from four daemons", () => {
    it("claim 10,000 due contacts exactly once", async () => {
      const url = await freshDatabase(kind)
      const acc = account()
      const campaignId = await run(seeded(url, acc, 10_000))
      const started = performance.now()
      const results = await run(claimRace(url, acc))
      const seconds = (performance.now() - started) / 1000
      const ids = results.flat()
      expect(ids.length).toBe(10_000)
      expect(new Set(ids).size).toBe(10_000)
      const counts = await run(withStorage(url, (s) => s.campaignCounts(campaignId)))
      expect(counts).toEqual({ ...Campaign.emptyCounts, in_progress: 10_000 })
      console.info(`[${kind}] 4 daemons claimed 10,000 contacts in ${seconds.toFixed(2)} s (${Math.round(10_000 / seconds)} claims/s; per daemon ${results.map((r) => r.length).join(", ")})`)
    }, 120_000)

    it("never reserve more than a 24 h limit of 3,000 new recipients together", async () => {
      const url = await freshDatabase(kind)
      const acc = account({ messagingLimit: 3000 })
      await run(seeded(url, acc, 10_000))
      const ids = (await run(claimRace(url, acc))).flat()
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids.length).toBe(3000)
      const usage = await run(withStorage(url, (s) => s.quotaUsage(acc, at(500 * SECOND))))
      expect(usage).toMatchObject({ used: 3000, remaining: 0 })
      // The ledger holds exactly the claimed recipients.
      const ledger = await run(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ readonly n: bigint }>`select count(*) as n from quota_ledger`
      }).pipe(Effect.provide(daemon(url, 1))))
      expect(Number(ledger[0]?.n)).toBe(3000)
    }, 120_000)
  })

  describe("status webhooks from four daemons", () => {
    it("apply forward only: shuffled duplicate reports end where the in-order sequence ends", async () => {
      const url = await freshDatabase(kind)
      const acc = account()
      const total = 2000
      await run(seeded(url, acc, total))
      const contacts = await run(withStorage(url, (s) =>
        Effect.gen(function*() {
          const { claimed } = yield* s.claim({ account: acc, limit: total, leaseMs: 3600 * SECOND, owner: "d", now: at(SECOND), horizonMs: 3600 * SECOND })
          const accepted = yield* s.recordOutcomes(
            claimed.map(({ contact }) => ({ contactId: contact.id, event: { _tag: "Accepted", wamid: `wamid.${contact.id}`, waId: null } as const })),
            at(2 * SECOND)
          )
          expect(accepted.applied).toBe(total)
          return yield* Effect.forEach(claimed, ({ contact }) => Effect.map(s.getCampaignContact(contact.id), Option.getOrThrow))
        })))
      expect(contacts.length).toBe(total)

      // Per contact: sent, delivered, read up to a random step; a failure for some that never got delivered.
      const reports: Array<Ports.Storage.StatusReport> = []
      const expected = new Map<string, ContactState.ContactProgress>()
      const kinds = ["sent", "delivered", "read"] as const
      contacts.forEach((c, i) => {
        const wamid = `wamid.${c.id}`
        const steps = i % 4
        const mine: Array<Ports.Storage.StatusReport> = []
        for (let k = 0; k < steps; k++) {
          mine.push({ wamid, event: { _tag: "StatusReported", status: kinds[k]!, at: at((10 + k) * SECOND), wamid } })
        }
        if (steps <= 1 && i % 3 === 0) {
          const error = { errorClass: "recipient", scope: "contact", code: "131026", text: "Message undeliverable" } as const
          mine.push({ wamid, event: { _tag: "FailureReported", error, at: at(20 * SECOND), wamid } })
        }
        expected.set(c.id, ContactState.applyAll(c.progress, mine.map((r) => r.event), at(60 * SECOND)))
        // Every report arrives twice, one of them by contact id only through the callback data.
        reports.push(...mine, ...mine.map((r) => ({ ...r, wamid: `${r.wamid}`, contactId: c.id })))
      })
      const shuffled = seededShuffle([...reports], 7)
      const writers = [0, 1, 2, 3].map((w) => shuffled.filter((_, i) => i % 4 === w))
      const started = performance.now()
      await run(Effect.all(writers.map((mine) =>
        withStorage(url, (s) =>
          Effect.gen(function*() {
            for (let i = 0; i < mine.length; i += 100) yield* s.applyStatuses(mine.slice(i, i + 100), at(60 * SECOND))
          }))
      ), { concurrency: "unbounded" }))
      const seconds = (performance.now() - started) / 1000

      const stored = await run(withStorage(url, (s) =>
        Effect.forEach(contacts, (c) => Effect.map(s.getCampaignContact(c.id), Option.getOrThrow))))
      for (const c of stored) expect(c.progress).toEqual(expected.get(c.id))
      console.info(`[${kind}] 4 writers applied ${shuffled.length} status reports in ${seconds.toFixed(2)} s (${Math.round(shuffled.length / seconds)} statuses/s)`)
    }, 120_000)

    it("the UPDATE's rank guard refuses a lower rank even without the row lock", async () => {
      const url = await freshDatabase(kind)
      const acc = account()
      await run(seeded(url, acc, 1))
      const result = await run(withStorage(url, (s) =>
        Effect.gen(function*() {
          const [claimed] = (yield* s.claim({ account: acc, limit: 1, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })).claimed
          const id = claimed!.contact.id
          yield* s.recordOutcomes([{ contactId: id, event: { _tag: "Accepted", wamid: "wamid.1", waId: null } }], at(2 * SECOND))
          yield* s.applyStatuses([{ wamid: "wamid.1", event: { _tag: "StatusReported", status: "read", at: at(3 * SECOND), wamid: "wamid.1" } }], at(3 * SECOND))
          const read = Option.getOrThrow(yield* s.getCampaignContact(id))
          // A writer that skipped the lock tries to put back what it read before the `read` webhook.
          const sql = (yield* SqlClient.SqlClient).withoutTransforms()
          const written = yield* writeProgress(sql, [{ id, progress: { ...read.progress, state: "sent" }, leaseOwner: null, reservation: null }])
          const after = yield* sql`select * from campaign_contacts cc where id = ${id}::bigint`
          return { written: written.length, state: readContact(after[0]!).contact.progress.state }
        })))
      expect(result).toEqual({ written: 0, state: "read" })
    }, 60_000)
  })

  describe("errors", () => {
    it("a server that cannot be reached is a StorageError naming the operation, without the password", async () => {
      const url = Redacted.make("postgres://megaphone:s3cret-pw@127.0.0.1:9/megaphone")
      const client = PgClient.layer({ url, maxConnections: 1, connectTimeout: "2 seconds" })
      const storage = Layer.effect(Ports.Storage.Storage, PgStorage.make).pipe(Layer.provide(client))
      const error = await Effect.runPromise(
        Effect.flip(Effect.gen(function*() {
          const s = yield* Ports.Storage.Storage
          return yield* s.listAccounts()
        }).pipe(Effect.provide(storage)))
      )
      // The pool may connect lazily (the operation fails) or eagerly (the layer fails): both must hide secrets.
      expect(JSON.stringify(error)).not.toContain("s3cret-pw")
      expect(String(error.message)).not.toContain("s3cret-pw")
      console.info(`unreachable server: ${error._tag}: ${error.message}`)
      if (error._tag === "StorageError") expect(error.operation).toBe("listAccounts")
    }, 30_000)
  })
})
