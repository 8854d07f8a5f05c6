/**
 * The storage benchmark (issue 4), against a real PostgreSQL: bulk insert of campaign contacts, claim + complete
 * with 1 and 4 daemons, webhook status updates with 1 and 4 writers. Prints a table (or one JSON document with
 * `--json`); progress goes to stderr.
 *
 *   npx node bench/storage/main.ts [--contacts 1000000] [--json]
 *
 * Default: the embedded PostgreSQL in a fresh temporary data directory, with the production settings (durable).
 * With MEGAPHONE_BENCH_DATABASE_URL (a user that may create databases): a fresh database on that server,
 * dropped at the end.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { PgClient } from "@effect/sql-pg"
import { Campaign, Ports } from "@megaphone/core"
import { Clock, Context, Effect, Layer, Redacted, Result, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import * as EmbeddedPostgres from "../../packages/adapters/src/storage/embedded/EmbeddedPostgres.ts"
import * as PgStorage from "../../packages/adapters/src/storage/postgres/PgStorage.ts"
import { unlimitedAccount } from "../../packages/adapters/test/support/fixtures.ts"
import { type Machine, machine, progress, runBenchmark } from "../support/main.ts"

type Storage = Ports.Storage.StorageShape

// ---------------------------------------------------------------------------------------------------------------
// Options

const USAGE = `Usage: npx node bench/storage/main.ts [--contacts N] [--json]
  --contacts N   contacts to bulk-insert (default 1000000; e.g. 100000 for a quick run)
  --json         print one JSON document instead of the table
Set MEGAPHONE_BENCH_DATABASE_URL to run against your own server (a fresh database is created and dropped).`

interface Options {
  readonly contacts: number
  readonly json: boolean
}

const parseOptions = (argv: ReadonlyArray<string>): Options => {
  const { values } = parseArgs({
    args: [...argv],
    options: { contacts: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } }
  })
  if (values.help === true) {
    console.log(USAGE)
    process.exit(0)
  }
  const contacts = values.contacts === undefined ? 1_000_000 : Number(values.contacts.replaceAll("_", ""))
  if (!Number.isInteger(contacts) || contacts < 2_000 || contacts > 100_000_000) {
    console.error(`--contacts must be a whole number from 2000 to 100000000, not ${values.contacts}\n${USAGE}`)
    process.exit(2)
  }
  return { contacts, json: values.json === true }
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

const T0 = new Date("2026-11-26T10:00:00.000Z")
const SECOND = 1000
const BATCH = 500
const INSERT_CHUNK = 50_000
// Each claim/status phase works on its own contacts, so every write is a real state change.
const PHASE_CONTACTS = 100_000
const COLD_CONTACTS = 10_000

/** An account that never limits: the database, not Meta's limits, is measured. */
const account = unlimitedAccount("bench", { wabaId: "waba-bench", phoneNumberId: "pn-bench" })

// One shared object, as a CSV import maps the same template variables onto every row.
const parameters = { "1": "pane", "2": "Novák", "3": "2024-0001" }

/** Distinct Czech mobile numbers: 420 6xx xxx xxx. */
const newContact = (n: number): Ports.Storage.NewCampaignContact => {
  const recipient = `420${600_000_000 + n}`
  return { phone: `+${recipient}`, recipient, parameters }
}

const wamidOf = (contactId: string): string => `wamid.HBgLNDIwNjAxMDAwMDAwFQIAERgS${contactId}`


// ---------------------------------------------------------------------------------------------------------------
// The database: embedded in a temporary directory, or a fresh database on the given server

interface Target {
  readonly url: Redacted.Redacted<string>
  readonly kind: "embedded" | "server"
  /** Host and port for a server (never the password), the data directory for the embedded one. */
  readonly where: string
  readonly notes: { checkpoints: number; warnings: Array<string> }
}

const embedded = Effect.gen(function*() {
  // The temporary directory is the data directory itself: when run as root the server runs as user postgres,
  // which must be able to enter it, and initdb chowns it (a subdirectory of a 0700 mkdtemp would not be reachable).
  const dataDir = yield* Effect.acquireRelease(
    Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "megaphone-bench-"))),
    (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
  )
  const notes = { checkpoints: 0, warnings: new Array<string>() }
  const log = (line: string) => {
    // Checkpoints during the run are part of what the figures cost; warnings and errors are shown as they come.
    if (/checkpoint starting/.test(line)) notes.checkpoints++
    if (/WARNING|ERROR|FATAL|PANIC/.test(line)) {
      notes.warnings.push(line)
      process.stderr.write(`postgres: ${line}\n`)
    }
  }
  process.stderr.write(`starting the embedded PostgreSQL in ${dataDir}\n`)
  const info = yield* EmbeddedPostgres.start({ dataDir, log })
  const target: Target = { url: info.url, kind: "embedded", where: dataDir, notes }
  return target
})

/** Runs `body` on a one-connection pool of its own, closed when it ends. */
const withSql = <A, E>(
  url: Redacted.Redacted<string>,
  body: (sql: SqlClient.SqlClient) => Effect.Effect<A, E, SqlClient.SqlClient>
) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* body(sql)
  }).pipe(Effect.provide(PgClient.layer({ url, maxConnections: 1 })))

const quoteIdent = (name: string): string => `"${name.replaceAll("\"", "\"\"")}"`

const onServer = (adminUrl: string) =>
  Effect.gen(function*() {
    const admin = new URL(adminUrl)
    const database = `megaphone_bench_${process.pid}_${randomBytes(3).toString("hex")}`
    const asAdmin = <A, E>(body: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) => withSql(Redacted.make(adminUrl), body)
    yield* Effect.acquireRelease(
      asAdmin((sql) => sql.unsafe(`create database ${quoteIdent(database)} template template0 encoding 'UTF8'`)),
      // FORCE: a pool interrupted by Ctrl+C may not have closed its connections yet.
      () => asAdmin((sql) => sql.unsafe(`drop database if exists ${quoteIdent(database)} with (force)`)).pipe(Effect.ignore)
    )
    const url = new URL(admin)
    url.pathname = `/${database}`
    const target: Target = {
      url: Redacted.make(url.toString()),
      kind: "server",
      where: `${admin.hostname}:${admin.port || "5432"}/${database}`,
      notes: { checkpoints: 0, warnings: [] }
    }
    return target
  })

/** A storage with a pool of its own, as a separate daemon has; open for the rest of the scope. */
const daemon = (url: Redacted.Redacted<string>, connections: number): Effect.Effect<Storage, unknown, Scope.Scope> =>
  Effect.map(
    Layer.build(Layer.effect(Ports.Storage.Storage, PgStorage.make).pipe(Layer.provide(PgClient.layer({ url, maxConnections: connections })))),
    (context) => Context.get(context, Ports.Storage.Storage)
  )


interface ServerInfo {
  readonly version: string
  readonly settings: Readonly<Record<string, string>>
}

const SHOWN_SETTINGS = ["fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "max_wal_size", "wal_level"]

const serverInfo = (url: Redacted.Redacted<string>) =>
  withSql(url, (sql) =>
    Effect.gen(function*() {
      const [version] = yield* sql<{ readonly server_version: string }>`show server_version`
      const rows = yield* sql<{ readonly name: string; readonly setting: string; readonly unit: string | null }>`
        select name, setting, unit from pg_settings where name = any(${SHOWN_SETTINGS})
      `
      const settings: Record<string, string> = {}
      for (const r of rows) settings[r.name] = humanSetting(r.setting, r.unit)
      const info: ServerInfo = { version: version?.server_version ?? "?", settings }
      return info
    }))

// pg_settings gives sizes in units of 8kB pages or MB; show them as people write them in postgresql.conf.
const humanSetting = (setting: string, unit: string | null): string => {
  const units: Record<string, number> = { "8kB": 8 * 1024, "kB": 1024, "MB": 1024 * 1024 }
  const factor = unit === null ? undefined : units[unit]
  if (factor === undefined) return setting
  const bytes = Number(setting) * factor
  return bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0 ? `${bytes / 1024 ** 3}GB` : `${Math.round(bytes / 1024 ** 2)}MB`
}

interface TableStatistics {
  /** When campaign_contacts was last analyzed (by autovacuum or by hand), if ever. */
  readonly analyzedAt: string | null
  readonly liveRows: number
  readonly deadRows: number
}

const tableStatistics = (url: Redacted.Redacted<string>) =>
  withSql(url, (sql) =>
    Effect.gen(function*() {
      // The statistics collector reports with a delay; ask for the current numbers of this backend's view.
      yield* sql`select pg_stat_clear_snapshot()`
      const [row] = yield* sql<{ readonly analyzed_at: string | null; readonly live: string; readonly dead: string }>`
        select to_char(greatest(last_analyze, last_autoanalyze) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as analyzed_at,
          n_live_tup::text as live, n_dead_tup::text as dead
        from pg_stat_user_tables where relname = 'campaign_contacts'
      `
      const statistics: TableStatistics = {
        analyzedAt: row?.analyzed_at ?? null,
        liveRows: Number(row?.live ?? 0),
        deadRows: Number(row?.dead ?? 0)
      }
      return statistics
    }))

// ---------------------------------------------------------------------------------------------------------------
// The measurements

interface Measure {
  readonly name: string
  readonly count: number
  readonly seconds: number
  readonly perSecond: number
  readonly unit: string
  /** The goal as a rate (per second), or for the insert as a total time in seconds. */
  readonly goal: { readonly kind: "rate"; readonly atLeast: number } | { readonly kind: "seconds"; readonly atMost: number }
  readonly met: boolean
}

const measure = (name: string, count: number, seconds: number, unit: string, goal: Measure["goal"]): Measure => {
  const perSecond = count / seconds
  const met = goal.kind === "rate" ? perSecond >= goal.atLeast : seconds < goal.atMost
  return { name, count, seconds, perSecond, unit, goal, met }
}

class BenchFailed extends Error {}

const check = (ok: boolean, message: string) => (ok ? Effect.void : Effect.fail(new BenchFailed(message)))

/** A migrated database with the account and a running campaign; returns the campaign id. */
const setUp = (storage: Storage) =>
  Effect.gen(function*() {
    yield* storage.saveAccount(account)
    const created = yield* storage.createCampaign(
      { name: "Benchmark", accountName: account.name, templateName: "order_done", language: "cs", note: null },
      T0
    )
    const running = Result.getOrThrow(Campaign.start(created.lifecycle, { ...Campaign.emptyCounts, initial: 1 }, T0))
    yield* storage.updateCampaignLifecycle(created.id, "draft", running)
    return created.id
  })

const bulkInsert = (storage: Storage, campaignId: string, total: number) =>
  Effect.gen(function*() {
    const shown = progress("bulk insert", total)
    const started = performance.now()
    for (let first = 0; first < total; first += INSERT_CHUNK) {
      const size = Math.min(INSERT_CHUNK, total - first)
      const result = yield* storage.addCampaignContacts(campaignId, Array.from({ length: size }, (_, k) => newContact(first + k)), T0)
      yield* check(result.added === size, `addCampaignContacts added ${result.added} of ${size}`)
      shown.update(first + size)
    }
    const seconds = (performance.now() - started) / 1000
    shown.finish(total)
    // The goal is 20 s for 1,000,000 rows; a scaled-down run is held to the same rate.
    return measure("Bulk insert (addCampaignContacts, chunks of 50,000)", total, seconds, "rows", {
      kind: "seconds",
      atMost: (20 * total) / 1_000_000
    })
  })

/**
 * All daemons advance one shared clock by a second per claim, so each claim's `now` lies past the previous
 * one's throughput slots, as the wall clock would between real claims.
 */
interface SharedClock {
  tick: number
}

/** `claimers` daemons, each with its own pool, claim batches of 500 and record them accepted until `total`. */
const claimAndComplete = (
  url: Redacted.Redacted<string>,
  claimers: number,
  total: number,
  clock: SharedClock,
  when = ""
) =>
  Effect.scoped(Effect.gen(function*() {
    const daemons = yield* Effect.forEach(Array.from({ length: claimers }), () => daemon(url, 2))
    const accepted: Array<string> = []
    let remaining = total
    const shown = progress(`claim + complete, ${claimers} claimer${claimers > 1 ? "s" : ""}${when}`, total)
    const work = (storage: Storage, owner: string) =>
      Effect.gen(function*() {
        for (;;) {
          // Reserved before the claim yields, so the daemons together stop at exactly `total`.
          const take = Math.min(BATCH, remaining)
          if (take === 0) return
          remaining -= take
          const now = new Date(T0.getTime() + ++clock.tick * SECOND)
          // A wide horizon: concurrent claims take the quota lock in any order, so one with an earlier `now`
          // may come after a later one has moved the number's next free slot past its default 1 s horizon.
          const { claimed } = yield* storage.claim({ account, limit: take, leaseMs: 3600 * SECOND, owner, now, horizonMs: 3600 * SECOND })
          yield* check(claimed.length === take, `${owner} claimed ${claimed.length} of ${take} at ${now.toISOString()}`)
          const result = yield* storage.recordOutcomes(
            claimed.map(({ contact }) => ({
              contactId: contact.id,
              event: { _tag: "Accepted", wamid: wamidOf(contact.id), waId: contact.recipient } as const
            })),
            new Date(now.getTime() + 200)
          )
          yield* check(result.applied === claimed.length, `${owner}: recordOutcomes applied ${result.applied} of ${claimed.length}`)
          for (const { contact } of claimed) accepted.push(contact.id)
          shown.update(accepted.length)
        }
      })
    const started = performance.now()
    yield* Effect.forEach(daemons, (storage, i) => work(storage, `daemon-${i + 1}`), { concurrency: "unbounded" })
    const seconds = (performance.now() - started) / 1000
    shown.finish(accepted.length)
    const name = `Claim + complete, ${claimers} claimer${claimers > 1 ? "s" : ""}${when} (batches of 500)`
    return { measure: measure(name, total, seconds, "contacts", { kind: "rate", atLeast: 5_000 }), accepted }
  }))

/** `writers` webhook receivers, each with its own pool, apply `delivered` by wamid in batches of 500. */
const statusUpdates = (url: Redacted.Redacted<string>, writers: number, contactIds: ReadonlyArray<string>, now: Date) =>
  Effect.scoped(Effect.gen(function*() {
    const daemons = yield* Effect.forEach(Array.from({ length: writers }), () => daemon(url, 2))
    const batches: Array<ReadonlyArray<Ports.Storage.StatusReport>> = []
    for (let first = 0; first < contactIds.length; first += BATCH) {
      batches.push(contactIds.slice(first, first + BATCH).map((id) => {
        const wamid = wamidOf(id)
        return { wamid, event: { _tag: "StatusReported", status: "delivered", at: now, wamid } } as const
      }))
    }
    let next = 0
    let applied = 0
    const shown = progress(`status updates, ${writers} writer${writers > 1 ? "s" : ""}`, contactIds.length)
    const work = (storage: Storage) =>
      Effect.gen(function*() {
        for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) {
          const result = yield* storage.applyStatuses(batch, now)
          yield* check(result.applied === batch.length && result.unmatched.length === 0,
            `applyStatuses applied ${result.applied} of ${batch.length}, ${result.unmatched.length} unmatched`)
          applied += result.applied
          shown.update(applied)
        }
      })
    const started = performance.now()
    yield* Effect.forEach(daemons, work, { concurrency: "unbounded" })
    const seconds = (performance.now() - started) / 1000
    shown.finish(applied)
    const name = `Webhook status updates, ${writers} writer${writers > 1 ? "s" : ""} (batches of 500)`
    return measure(name, applied, seconds, "updates", { kind: "rate", atLeast: 10_000 })
  }))

// ---------------------------------------------------------------------------------------------------------------
// Report

interface Report {
  readonly date: string
  readonly command: string
  readonly machine: Machine
  readonly database: ServerInfo & {
    readonly kind: "embedded" | "server"
    readonly where: string
    readonly checkpointsDuringRun: number | null
  }
  readonly statistics: {
    /** Whether campaign_contacts had been analyzed when the first claims ran (autovacuum may get there first). */
    readonly beforeFirstClaims: TableStatistics
    readonly afterFirstClaims: TableStatistics
    /** The explicit ANALYZE that starts the steady-state measures. */
    readonly analyzeSeconds: number
  }
  readonly contacts: number
  readonly results: ReadonlyArray<Measure>
  readonly allGoalsMet: boolean
}

const int = (n: number) => Math.round(n).toLocaleString("en")

const goalText = (m: Measure) => (m.goal.kind === "rate" ? `≥ ${int(m.goal.atLeast)} ${m.unit}/s` : `< ${Number(m.goal.atMost.toFixed(2))} s`)

// Whether the "right after the import" claims really ran without statistics, or autovacuum came first.
const statisticsNote = ({ beforeFirstClaims: before, afterFirstClaims: after, analyzeSeconds }: Report["statistics"]): string => {
  const at = before.analyzedAt === null ? "none" : `analyzed ${before.analyzedAt}`
  const during = after.analyzedAt !== before.analyzedAt ? ` (autovacuum analyzed it during them, at ${after.analyzedAt})` : ""
  return `Planner statistics of campaign_contacts at the first claims: ${at}${during}; ` +
    `then ANALYZE (${analyzeSeconds.toFixed(2)} s) before the steady-state measures.`
}

const table = (report: Report): string => {
  const { machine, database } = report
  const settings = Object.entries(database.settings).map(([k, v]) => `${k}=${v}`).join(", ")
  const header = ["Measure", "Count", "Seconds", "Rate", "Goal", "Met"]
  const rows = report.results.map((m) => [
    m.name, int(m.count), m.seconds.toFixed(2), `${int(m.perSecond)} ${m.unit}/s`, goalText(m), m.met ? "yes" : "NO"
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? `${"-".repeat(w + 1)}-` : `${"-".repeat(w + 1)}:`)).join("|")}|`
  return [
    `Megaphone storage benchmark, ${report.date}`,
    `Machine:  ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB RAM, ${machine.platform}, Node ${machine.node}`,
    `Database: PostgreSQL ${database.version}, ${database.kind === "embedded" ? "embedded (fresh temporary data directory)" : `server ${database.where}`}`,
    `          ${settings}${database.checkpointsDuringRun === null ? "" : `; ${database.checkpointsDuringRun} checkpoints during the run`}`,
    "",
    line(header),
    rule,
    ...rows.map(line),
    "",
    statisticsNote(report.statistics),
    report.allGoalsMet ? "All goals met." : `Goals missed: ${report.results.filter((m) => !m.met).map((m) => m.name).join("; ")}.`
  ].join("\n")
}

// ---------------------------------------------------------------------------------------------------------------
// Main

const run = (options: Options) =>
  Effect.gen(function*() {
    const date = new Date(yield* Clock.currentTimeMillis).toISOString()
    const adminUrl = process.env["MEGAPHONE_BENCH_DATABASE_URL"]
    const target = adminUrl !== undefined && adminUrl !== "" ? yield* onServer(adminUrl) : yield* embedded
    yield* withSql(target.url, () => PgStorage.migrate)
    const info = yield* serverInfo(target.url)
    const checkpointsBefore = target.notes.checkpoints

    const { campaignId, insert } = yield* Effect.scoped(Effect.gen(function*() {
      const storage = yield* daemon(target.url, 1)
      const campaignId = yield* setUp(storage)
      const insert = yield* bulkInsert(storage, campaignId, options.contacts)
      return { campaignId, insert }
    }))

    // Each phase gets contacts of its own; a quick run (--contacts 2000) scales them down to fit the campaign.
    const cold = Math.min(COLD_CONTACTS, Math.floor(options.contacts / 20 / BATCH) * BATCH || BATCH)
    const perPhase = Math.min(PHASE_CONTACTS, Math.floor((options.contacts * 0.4) / BATCH) * BATCH)
    const clock: SharedClock = { tick: 0 }

    // Right after a bulk import the table has no planner statistics until autovacuum gets to it (within
    // autovacuum_naptime, a minute by default): that is what the first claims of a new campaign meet.
    const statsBefore = yield* tableStatistics(target.url)
    const claimCold = yield* claimAndComplete(target.url, 1, cold, clock, ", right after the import")
    const statsAfter = yield* tableStatistics(target.url)
    // From here on, the steady state: statistics as autovacuum's analyze leaves them.
    const analyzeStarted = performance.now()
    yield* withSql(target.url, (sql) => sql`analyze campaign_contacts`)
    const analyzeSeconds = (performance.now() - analyzeStarted) / 1000
    const claim1 = yield* claimAndComplete(target.url, 1, perPhase, clock)
    const claim4 = yield* claimAndComplete(target.url, 4, perPhase, clock)
    const reportedAt = new Date(T0.getTime() + (clock.tick + 10) * SECOND)
    const status1 = yield* statusUpdates(target.url, 1, claim1.accepted, reportedAt)
    const status4 = yield* statusUpdates(target.url, 4, claim4.accepted, reportedAt)

    // The figures only count if the rows ended where they should.
    const counts = yield* Effect.scoped(Effect.flatMap(daemon(target.url, 1), (s) => s.campaignCounts(campaignId)))
    yield* check(
      counts.delivered === 2 * perPhase && counts.sent === cold && counts.initial === options.contacts - cold - 2 * perPhase,
      `unexpected final counts: ${JSON.stringify(counts)}`
    )

    const results = [insert, claimCold.measure, claim1.measure, claim4.measure, status1, status4]
    const report: Report = {
      date,
      command: `npx node bench/storage/main.ts${options.contacts === 1_000_000 ? "" : ` --contacts ${options.contacts}`}`,
      machine: machine(),
      database: {
        ...info,
        kind: target.kind,
        where: target.where,
        checkpointsDuringRun: target.kind === "embedded" ? target.notes.checkpoints - checkpointsBefore : null
      },
      statistics: {
        beforeFirstClaims: statsBefore,
        afterFirstClaims: statsAfter,
        analyzeSeconds
      },
      contacts: options.contacts,
      results,
      allGoalsMet: results.every((m) => m.met)
    }
    return report
  })

const options = parseOptions(process.argv.slice(2))
await runBenchmark(run(options), { json: options.json, table })
