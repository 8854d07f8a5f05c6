/**
 * The chaos harness (issue 10): a campaign sent by several real `megaphone daemon` processes (the built binary)
 * through the simulator (another process, as Meta) into an embedded PostgreSQL the harness owns, while the
 * harness kills a random daemon with `kill -9` (and restarts it), restarts PostgreSQL, pauses and reinstates the
 * template at Meta, and the simulator injects faults, duplicated and reordered webhooks. The account's rolling
 * 24 h limit is set below the campaign's size (Meta's own limit, above it, would not stop the daemons), so the
 * campaign must stop at it; once it has, Meta raises the tier (as `accounts refresh` would find) and the rest
 * goes out.
 *
 * At the end it checks, from the database and the simulator's own statistics: every contact in the final state
 * its story calls for, none lost, recipients accepted twice no more than the contacts in flight at the kills
 * (docs/architecture.md, "Crashes and duplicates"), never above the account's messages/second in the planned
 * slots, never more recipients at Meta than the 24 h limit, every daemon reconnected after each
 * PostgreSQL restart. Everything stays on loopback. `bench/chaos/main.ts` is its command line; the end-to-end
 * test `packages/daemon/test/e2e/chaos.e2e.test.ts` runs a short form.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { createWriteStream } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { promisify } from "node:util"
import { PgClient } from "@effect/sql-pg"
import { Data, Effect, Exit, Redacted, Scope } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import * as EmbeddedPostgres from "../../packages/adapters/src/storage/embedded/EmbeddedPostgres.ts"
import type { SimulatorConfigInput } from "../../packages/adapters/src/transport/simulator/Config.ts"
import { type Machine, machine, ORDER_DONE, temporaryDirectory } from "../support/main.ts"

/** What a chaos run does; every field but `bin` has a default (the full run of `npm run chaos`). */
export interface ChaosOptions {
  /** The `megaphone` binary the daemons, the simulator and the CLI run from. */
  readonly bin: string
  readonly contacts: number
  readonly daemons: number
  /** `kill -9` of a random running daemon, each followed by its restart. */
  readonly kills: number
  readonly pgRestarts: number
  /** Share of sends the simulator answers with a fault (rate limit, server error, undeliverable, invalid number). */
  readonly faultRate: number
  /** Drives the schedule, the victims and the simulator's random choices. */
  readonly seed: number
  /** The account's messages/second (the simulator would take far more). */
  readonly mps: number
  /** The kills happen before this share of the contacts is settled (the last kill's leases take a minute). */
  readonly killsUntil: number
  /** The run fails if it has not finished within this. */
  readonly budgetMs: number
  /** Progress lines. */
  readonly log: (line: string) => void
  /** When set, every child process's stderr is also written to `<logDir>/<name>.log` (kept after the run). */
  readonly logDir?: string
}

/** The defaults of a full run. */
export const defaults: Omit<ChaosOptions, "bin"> = {
  contacts: 20_000,
  daemons: 2,
  kills: 20,
  pgRestarts: 2,
  faultRate: 0.2,
  seed: 10,
  mps: 100,
  killsUntil: 0.9,
  budgetMs: 15 * 60_000,
  log: (line) => process.stderr.write(`${line}\n`)
}

/** What a chaos run found; `ok` only when every check held. */
export interface ChaosReport {
  readonly date: string
  readonly machine: Machine
  readonly contacts: number
  readonly daemons: number
  readonly kills: number
  readonly pgRestarts: number
  readonly faultRate: number
  readonly seed: number
  readonly mps: number
  readonly seconds: number
  /** Contacts added but not in the database, or not in a final state. */
  readonly lost: number
  /** Contacts whose final state is not the one their faults call for (the first 20 described in `wrong`). */
  readonly wrongStates: number
  readonly wrong: ReadonlyArray<string>
  /** Recipients Meta accepted more than once, and the documented bound: contacts in flight at each kill, summed. */
  readonly sentTwice: number
  readonly duplicateBound: number
  readonly inFlightAtKills: ReadonlyArray<number>
  /** The most accepted sends whose planned slots fall within any second (+ `dispatch.lateMs`). */
  readonly maxPlannedPerSecond: number
  /** The most accepted sends the simulator counted in a second (wall clock; noisy on a loaded machine). */
  readonly simulatorMaxPerSecond: number
  /** The 24 h unique-recipient limit; the window when it stopped the campaign; Meta's refusals for it. */
  readonly limit: number
  readonly atLimit: { readonly ledger: number; readonly simulatorRecipients: number } | null
  readonly refusedBeyondLimit: number
  /** Per PostgreSQL restart: how long it was down and how long until every daemon was ready again. */
  readonly restarts: ReadonlyArray<{ readonly downMs: number; readonly reconnectMs: number }>
  readonly templatePause: { readonly pausedMs: number | null; readonly resumed: boolean }
  readonly rejectionsByCode: Readonly<Record<string, number>>
  readonly webhooks: { readonly statusesPosted: number; readonly retried: number; readonly dropped: number }
  /** Daemons that exited without being killed, with the end of their log. */
  readonly unexpectedExits: ReadonlyArray<string>
  readonly failures: ReadonlyArray<string>
  readonly ok: boolean
}

/** The run could not be carried out (set-up failed, or it did not finish within its budget). */
export class ChaosFailed extends Data.TaggedError("ChaosFailed")<{ readonly message: string }> {}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

const TOKEN = "chaos-token"
const APP_SECRET = "chaos-app-secret"
const ADMIN_TOKEN = "chaos-admin-token"
const PHONE_ID = "106540352242922"
const WABA_ID = "102290129340398"
/** `dispatch.lateMs`, the default: a send leaves within it of its slot or not at all. */
const LATE_MS = 50
/** The account's 24 h limit until the campaign has stopped at it, as a share of the campaign. */
const LIMIT_SHARE = 0.6
const PAUSE_AT = 0.4
const PG_DOWN_MS = 3_000
const REINSTATE_AFTER_MS = 3_000
/** Polls (half a second apart) the full 24 h window is held before the tier goes up. */
const FULL_TICKS = 10

/** The production retry rules with short waits, and the shortest lease the configuration allows. */
const DAEMON_ENV: Record<string, string> = {
  MEGAPHONE_RETRY_MAX_ATTEMPTS: "5",
  MEGAPHONE_RETRY_BASE_DELAY_MS: "200",
  MEGAPHONE_RETRY_MAX_DELAY_MS: "1000",
  MEGAPHONE_RETRY_RATE_LIMITED_BASE_DELAY_MS: "200",
  MEGAPHONE_RETRY_UNKNOWN_OUTCOME_GRACE_MS: "3000",
  MEGAPHONE_LEASE_MS: "60000",
  MEGAPHONE_IDLE_MS: "200"
}

/** A recipient (wa_id) numbered n: Czech mobiles 420 601 2xx xxx. */
const recipient = (n: number): string => `420601${String(200_000 + n)}`

/** A reproducible generator of numbers in [0, 1) (mulberry32). */
const generator = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** The fault mix: the rate split over the kinds campaign.e2e checks, invalid numbers as a fixed set. */
const faultsOf = (options: ChaosOptions) => {
  const every = Math.max(2, Math.round(1 / (options.faultRate * 0.15)))
  const invalid = options.faultRate === 0 ? [] : Array.from({ length: Math.floor(options.contacts / every) }, (_, i) => recipient(i * every + 7))
  return {
    invalid,
    faults: {
      rateLimit: options.faultRate * 0.4,
      serverError: options.faultRate * 0.25,
      undeliverable: options.faultRate * 0.2,
      invalidNumbers: invalid,
      latencyMs: 10,
      jitterMs: 40
    }
  }
}

const simulatorConfig = (options: ChaosOptions, webhookPort: number, faults: ReturnType<typeof faultsOf>["faults"]): SimulatorConfigInput => ({
  accessToken: TOKEN,
  seed: options.seed,
  accounts: [{
    phoneNumberId: PHONE_ID, wabaId: WABA_ID, displayPhoneNumber: "+420 601 000 001", verifiedName: "Megaphone Chaos",
    messagingLimitTier: options.contacts, throughputLevel: "HIGH", mps: 5_000
  }],
  templates: { [WABA_ID]: [ORDER_DONE] },
  webhook: {
    url: `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`,
    appSecret: APP_SECRET,
    delays: { sentMs: 20, deliveredMs: 40, readMs: 60, jitterMs: 20 },
    probabilities: { delivered: 1, read: 0.5 },
    duplicates: 0.1,
    reorder: { windowMs: 200 },
    batchSize: 5,
    // Meta retries a failed webhook for days; a dead daemon or a restarting database must not exhaust it here.
    maxAttempts: 20,
    retryMaxMs: 3_000
  },
  faults
})

// ---------------------------------------------------------------------------------------------------------------
// Processes and queries

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const until = async (what: string, ms: number, check: () => Promise<boolean>): Promise<void> => {
  const deadline = Date.now() + ms
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new ChaosFailed({ message: `${what} not within ${ms / 1000} s` })
    await sleep(200)
  }
}

const status = (url: string): Promise<number> => fetch(url).then((r) => r.status, () => 0)

/** One query on a connection of its own: the server it asks may just have been restarted. */
const query = <A>(url: string, body: (sql: PgClient.PgClient) => Effect.Effect<A, SqlError>): Promise<A> =>
  Effect.runPromise(Effect.gen(function*() {
    return yield* body(yield* PgClient.PgClient)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1, connectTimeout: "5 seconds" }))))

interface Status {
  readonly counts: Readonly<Record<string, number>>
  /** Contacts in progress per lease owner (daemon id). */
  readonly inProgressBy: Readonly<Record<string, number>>
  readonly campaign: string
  readonly pausedBySystem: boolean
  readonly ledger: number
}

const PENDING = ["initial", "in_progress", "retry_scheduled"]

const readStatus = (url: string, campaignId: string): Promise<Status> =>
  query(url, (sql) =>
    Effect.gen(function*() {
      const counts = yield* sql<{ readonly state: string; readonly n: number }>`
        select state, count(*)::int as n from campaign_contacts where campaign_id = ${campaignId}::bigint group by state`
      const campaign = yield* sql<{ readonly state: string; readonly system: boolean }>`
        select state, coalesce(pause_reason ->> '_tag' = 'System', false) as system from campaigns where id = ${campaignId}::bigint`
      const ledger = yield* sql<{ readonly n: number }>`
        select count(*)::int as n from quota_ledger where last_sent_at > now() - interval '24 hours'`
      const owners = yield* sql<{ readonly owner: string; readonly n: number }>`
        select coalesce(lease_owner, '?') as owner, count(*)::int as n from campaign_contacts
        where campaign_id = ${campaignId}::bigint and state = 'in_progress' group by lease_owner`
      return {
        counts: Object.fromEntries(counts.map((r) => [r.state, r.n])),
        inProgressBy: Object.fromEntries(owners.map((r) => [r.owner, r.n])),
        campaign: campaign[0]?.state ?? "?",
        pausedBySystem: campaign[0]?.system ?? false,
        ledger: ledger[0]?.n ?? 0
      }
    }))

const pendingOf = (counts: Readonly<Record<string, number>>): number => PENDING.reduce((sum, s) => sum + (counts[s] ?? 0), 0)

interface SimulatorStats {
  readonly accepted: number
  readonly acceptedPerRecipient: Readonly<Record<string, number>>
  readonly maxMpsPerNumber: Readonly<Record<string, number>>
  readonly rejectionsByCode: Readonly<Record<string, number>>
  readonly webhooks: { readonly statusesPosted: number; readonly retried: number; readonly dropped: number; readonly pending: number }
  readonly messages: ReadonlyArray<{ readonly to: string; readonly undeliverable: boolean }>
}

// ---------------------------------------------------------------------------------------------------------------
// The run

/**
 * Runs one chaos campaign to its report. Everything it starts (PostgreSQL, the simulator, the daemons, the
 * temporary directory) is stopped and removed when the scope closes; a run that does not finish within
 * `budgetMs`, or whose set-up fails, fails with {@link ChaosFailed}.
 */
export const runChaos = (input: Partial<ChaosOptions> & Pick<ChaosOptions, "bin">): Effect.Effect<ChaosReport, ChaosFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const options: ChaosOptions = { ...defaults, ...input }
    const dir = yield* temporaryDirectory("chaos")
    const children = new Set<ChildProcess>()
    let postgres: Scope.Closeable | undefined
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
        if (postgres !== undefined) await Effect.runPromise(Scope.close(postgres, Exit.void))
      }))
    return yield* Effect.tryPromise({
      try: () =>
        drive(options, dir, children, {
          set: (scope) => (postgres = scope),
          get: () => postgres
        }),
      catch: (error) => (error instanceof ChaosFailed ? error : new ChaosFailed({ message: error instanceof Error ? error.stack ?? error.message : String(error) }))
    })
  })

const drive = async (
  options: ChaosOptions,
  dir: string,
  children: Set<ChildProcess>,
  server: { readonly set: (scope: Scope.Closeable | undefined) => void; readonly get: () => Scope.Closeable | undefined }
): Promise<ChaosReport> => {
  const started = Date.now()
  const deadline = started + options.budgetMs
  const say = (line: string) => options.log(`[${Math.round((Date.now() - started) / 1000)} s] ${line}`)
  const draw = generator(options.seed)
  const limit = Math.floor(options.contacts * LIMIT_SHARE)
  const { invalid, faults } = faultsOf(options)

  // PostgreSQL of the harness's own, on a fixed port so the daemons' URL survives its restarts.
  const dataDir = path.join(dir, "pg")
  await fs.mkdir(dataDir, { mode: 0o755 })
  const pgPort = await EmbeddedPostgres.freePort()
  const startPostgres = async (): Promise<string> => {
    const scope = await Effect.runPromise(Scope.make())
    server.set(scope)
    const info = await Effect.runPromise(EmbeddedPostgres.start({ dataDir, port: pgPort, durable: false, log: () => undefined }).pipe(Scope.provide(scope)))
    return Redacted.value(info.url)
  }
  const stopPostgres = async (): Promise<void> => {
    const scope = server.get()
    server.set(undefined)
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  say("starting PostgreSQL …")
  const url = await startPostgres()

  const spawnChild = (name: string, args: ReadonlyArray<string>, env: Record<string, string>) => {
    const child = spawn(process.execPath, [options.bin, ...args], {
      cwd: dir,
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"]
    })
    children.add(child)
    let tail = ""
    child.stderr?.on("data", (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-3_000)))
    if (options.logDir !== undefined) child.stderr?.pipe(createWriteStream(path.join(options.logDir, `${name}.log`), { flags: "a" }))
    child.on("exit", () => children.delete(child))
    return { child, tail: () => tail }
  }

  // The simulator, as Meta: its webhooks go to the first daemon's receiver (kept on its port across restarts).
  const [simulatorPort, ...daemonPorts] = await Promise.all(Array.from({ length: 1 + options.daemons * 2 }, () => EmbeddedPostgres.freePort()))
  const simulatorUrl = `http://127.0.0.1:${simulatorPort}`
  const slots = Array.from({ length: options.daemons }, (_, i) => ({ webhook: daemonPorts[2 * i] ?? 0, admin: daemonPorts[2 * i + 1] ?? 0 }))
  const configFile = path.join(dir, "simulator.json")
  await fs.writeFile(configFile, JSON.stringify(simulatorConfig(options, slots[0]?.webhook ?? 0, faults)))
  say("starting the simulator …")
  const simulator = spawnChild("simulator", ["simulator", "--listen", `127.0.0.1:${simulatorPort}`, "--config", configFile], {})
  await until(`the simulator answering (${simulator.tail()})`, 30_000, async () => (await status(`${simulatorUrl}/_simulator/faults`)) === 200)
  const simulatorStats = async (messages: boolean): Promise<SimulatorStats> =>
    (await (await fetch(`${simulatorUrl}/_simulator/stats?messages=${messages}`)).json()) as SimulatorStats
  const control = async (what: string, body: unknown): Promise<void> => {
    const reply = await fetch(`${simulatorUrl}/_simulator/${what}`, { method: "POST", body: JSON.stringify(body) })
    if (!reply.ok) throw new ChaosFailed({ message: `POST /_simulator/${what}: ${reply.status} ${await reply.text()}` })
  }

  // The campaign, through the real CLI.
  const env = { MEGAPHONE_DATABASE_URL: url, SIM_TOKEN: TOKEN }
  const cli = async (args: ReadonlyArray<string>): Promise<string> => {
    try {
      return (await promisify(execFile)(process.execPath, [options.bin, ...args], { cwd: dir, env: { PATH: process.env["PATH"] ?? "", ...env } })).stdout
    } catch (error) {
      throw new ChaosFailed({ message: `megaphone ${args.join(" ")} failed: ${(error as { stderr?: string }).stderr ?? String(error)}` })
    }
  }
  say(`seeding a ${options.contacts.toLocaleString("en")}-contact campaign through the CLI …`)
  await cli(["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--token-env", "SIM_TOKEN", "--graph-url", simulatorUrl,
    "--max-mps", String(options.mps)])
  await cli(["accounts", "refresh", "shop"])
  await cli(["templates", "sync", "--account", "shop"])
  // The tier Meta reports is the campaign's size; the account's limit starts lower, as on a smaller tier.
  await query(url, (sql) => sql`update accounts set messaging_limit = ${limit}, updated_at = now() where name = 'shop'`)
  const campaignId = (await cli(["campaigns", "create", "--name", "Chaos", "--account", "shop", "--template", "order_done"])).trim()
  const csv = path.join(dir, "contacts.csv")
  await fs.writeFile(csv, ["phone,1,2,3", ...Array.from({ length: options.contacts }, (_, i) => `+${recipient(i)},pane,Novák ${i},${1000 + i}`), ""].join("\n"))
  const added = JSON.parse(await cli(["campaigns", "add-contacts", campaignId, "--csv", csv, "--json"])) as { added?: number }
  if (added.added !== options.contacts) throw new ChaosFailed({ message: `add-contacts added ${added.added}, not ${options.contacts}` })

  // The daemons: each slot keeps its ports; every start is a new daemon id, so a lease names its incarnation.
  const failures: Array<string> = []
  const unexpectedExits: Array<string> = []
  let incarnations = 0
  interface Daemon {
    readonly id: string
    readonly child: ChildProcess
    readonly tail: () => string
    killed: boolean
  }
  const daemons: Array<Daemon | undefined> = slots.map(() => undefined)
  const startDaemon = async (slot: number): Promise<void> => {
    const ports = slots[slot] ?? { webhook: 0, admin: 0 }
    const id = `chaos-${slot}-${++incarnations}`
    const started = spawnChild(id, ["daemon", "--webhook-listen", `127.0.0.1:${ports.webhook}`, "--admin-listen", `127.0.0.1:${ports.admin}`], {
      ...env, ...DAEMON_ENV, MEGAPHONE_APP_SECRET: APP_SECRET, MEGAPHONE_ADMIN_TOKEN: ADMIN_TOKEN, MEGAPHONE_DAEMON_ID: id
    })
    const daemon: Daemon = { id, child: started.child, tail: started.tail, killed: false }
    daemons[slot] = daemon
    started.child.on("exit", (code, signal) => {
      if (!daemon.killed) unexpectedExits.push(`${id} exited (${signal ?? code}): ${started.tail().slice(-1_000)}`)
    })
    await until(`daemon ${id} answering /healthz (${started.tail().slice(-500)})`, 60_000, async () =>
      (await status(`http://127.0.0.1:${ports.admin}/healthz`)) === 200)
  }
  say(`starting ${options.daemons} daemons …`)
  await Promise.all(slots.map((_, slot) => startDaemon(slot)))
  await cli(["campaigns", "start", campaignId])
  const sendingStarted = Date.now()

  // The schedule, by the share of contacts settled (so a slow machine gets the same story, only later).
  type Event = { readonly at: number; readonly kind: "kill" | "restart-postgres" | "pause-template" }
  const schedule: Array<Event> = [
    ...Array.from({ length: options.kills }, () => ({ at: 0.02 + draw() * (options.killsUntil - 0.02), kind: "kill" as const })),
    ...Array.from({ length: options.pgRestarts }, (_, i) => ({ at: (i + 1) / (options.pgRestarts + 1), kind: "restart-postgres" as const })),
    { at: PAUSE_AT, kind: "pause-template" as const }
  ].sort((a, b) => a.at - b.at)

  const inFlightAtKills: Array<number> = []
  const restarts: Array<{ downMs: number; reconnectMs: number }> = []
  let pause: { askedAt: number; pausedAt: number | null; reinstated: boolean; resumed: boolean } | null = null
  let atLimit: { ledger: number; simulatorRecipients: number } | null = null
  let lastLine = 0
  let fullFor = 0
  let last: Status | undefined

  const kill = async () => {
    const running = daemons.flatMap((d, slot) => (d !== undefined && d.child.exitCode === null && d.child.signalCode === null ? [{ d, slot }] : []))
    const victim = running[Math.floor(draw() * running.length)]
    if (victim === undefined) return
    const exited = new Promise((resolve) => victim.d.child.once("exit", resolve))
    victim.d.killed = true
    victim.d.child.kill("SIGKILL")
    await exited
    // Until their lease expires nobody touches its contacts; a webhook may settle some (never add one).
    const inFlight = await query(url, (sql) => sql<{ readonly n: number }>`
      select count(*)::int as n from campaign_contacts
      where campaign_id = ${campaignId}::bigint and state = 'in_progress' and lease_owner = ${victim.d.id}`)
    inFlightAtKills.push(inFlight[0]?.n ?? 0)
    say(`kill -9 ${victim.d.id} with ${inFlight[0]?.n ?? 0} contacts in flight (kill ${inFlightAtKills.length}/${options.kills})`)
    await sleep(300 + draw() * 1_700)
    await startDaemon(victim.slot)
  }

  const restartPostgres = async () => {
    say("stopping PostgreSQL …")
    await stopPostgres()
    const stoppedAt = Date.now()
    await sleep(PG_DOWN_MS)
    await startPostgres()
    const upAt = Date.now()
    await until("every daemon ready again after the PostgreSQL restart", 60_000, async () => {
      const ready = await Promise.all(slots.map((s) => status(`http://127.0.0.1:${s.admin}/readyz`)))
      return ready.every((s) => s === 200)
    }).catch(() => failures.push(`a daemon did not reconnect within 60 s of PostgreSQL's restart ${restarts.length + 1}`))
    restarts.push({ downMs: upAt - stoppedAt, reconnectMs: Date.now() - upAt })
    say(`PostgreSQL back after ${((upAt - stoppedAt) / 1000).toFixed(1)} s; daemons ready ${((Date.now() - upAt) / 1000).toFixed(1)} s later`)
  }

  for (;;) {
    if (Date.now() > deadline) {
      throw new ChaosFailed({
        message: `the chaos run did not finish within ${options.budgetMs / 1000} s; last seen: campaign ${last?.campaign}, ` +
          `${JSON.stringify(last?.counts)}, 24 h window ${last?.ledger}/${limit}, events left: ${schedule.map((e) => `${e.kind}@${e.at.toFixed(2)}`).join(" ")}`
      })
    }
    const now = await readStatus(url, campaignId).catch(() => undefined)
    if (now === undefined) {
      await sleep(500)
      continue
    }
    last = now
    const settled = (options.contacts - pendingOf(now.counts)) / options.contacts
    if (Date.now() - lastLine > 5_000) {
      lastLine = Date.now()
      say(`campaign ${now.campaign}: ${Math.round(settled * 100)} % settled ${JSON.stringify(now.counts)}, 24 h window ${now.ledger}/${limit}, in progress by ${JSON.stringify(now.inProgressBy)}`)
    }

    // Meta's template pause: reinstated a few seconds after the campaign showed it.
    if (pause !== null && pause.pausedAt === null && now.campaign === "paused" && now.pausedBySystem) {
      pause.pausedAt = Date.now()
      say(`the campaign paused itself ${((pause.pausedAt - pause.askedAt) / 1000).toFixed(1)} s after Meta paused the template`)
    }
    if (pause !== null && !pause.reinstated && (pause.pausedAt ?? pause.askedAt + 30_000) + REINSTATE_AFTER_MS < Date.now()) {
      if (pause.pausedAt === null) failures.push("the campaign did not pause within 30 s of Meta pausing its template")
      pause.reinstated = true
      say("Meta reinstates the template …")
      await control("template-status", { name: ORDER_DONE.name, language: ORDER_DONE.language, event: "REINSTATED" })
    }
    if (pause?.reinstated === true && !pause.resumed && now.campaign === "running") pause.resumed = true

    // The 24 h window is full and the campaign waits; after a few seconds of that, Meta's count of recipients
    // (which only grows within the window) must be within the limit: then it always was. Then the tier goes
    // up, as a refresh would find it after Meta raised it.
    fullFor = now.ledger >= limit && pendingOf(now.counts) > 0 ? fullFor + 1 : 0
    if (atLimit === null && fullFor >= FULL_TICKS) {
      const stats = await simulatorStats(false)
      atLimit = { ledger: now.ledger, simulatorRecipients: Object.keys(stats.acceptedPerRecipient).length }
      say(`the 24 h window is full (${now.ledger}/${limit}; Meta counts ${atLimit.simulatorRecipients}); Meta raises the tier …`)
      await query(url, (sql) => sql`update accounts set messaging_limit = ${options.contacts}, updated_at = now() where name = 'shop'`)
      continue
    }

    const due = schedule[0]
    if (due !== undefined && due.at <= settled) {
      schedule.shift()
      if (due.kind === "kill") await kill()
      else if (due.kind === "restart-postgres") await restartPostgres()
      else {
        say("Meta pauses the template …")
        await control("template-status", { name: ORDER_DONE.name, language: ORDER_DONE.language, event: "PAUSED", reason: "NONE" })
        pause = { askedAt: Date.now(), pausedAt: null, reinstated: false, resumed: false }
      }
      continue
    }

    if (schedule.length === 0 && pause?.reinstated === true && pendingOf(now.counts) === 0 && (now.counts["sent"] ?? 0) === 0 && now.campaign === "finished") break
    await sleep(500)
  }
  const seconds = (Date.now() - started) / 1000
  say(`finished after ${Math.round((Date.now() - sendingStarted) / 1000)} s of sending; checking …`)

  // The checks, from the database and from Meta's (the simulator's) own statistics.
  const stats = await simulatorStats(true)
  const contacts = await query(url, (sql) => sql<{ readonly recipient: string; readonly state: string; readonly code: string | null; readonly attempts: number }>`
    select recipient, state, last_error_code as code, attempts from campaign_contacts where campaign_id = ${campaignId}::bigint`)
  const slotsMost = await query(url, (sql) => sql<{ readonly most: number }>`
    select coalesce(max(n), 0)::int as most from (
      select count(*) over (order by reserved_slot range between current row and ${1_000 + LATE_MS - 0.001} * interval '1 millisecond' following) as n
      from campaign_contacts where campaign_id = ${campaignId}::bigint and wamid is not null and reserved_slot is not null) w`)
  const maxPlannedPerSecond = slotsMost[0]?.most ?? 0

  const invalidSet = new Set(invalid)
  const undeliverable = new Set(stats.messages.filter((m) => m.undeliverable).map((m) => m.to))
  const wrong: Array<string> = []
  for (const c of contacts) {
    const accepted = stats.acceptedPerRecipient[c.recipient] ?? 0
    const delivered = c.state === "delivered" || c.state === "read"
    const right = invalidSet.has(c.recipient)
      ? c.state === "sending_failed" && c.code === "131009"
      : undeliverable.has(c.recipient)
      // A recipient accepted twice may have had one message delivered and the other not.
      ? (c.state === "sending_failed" && c.code === "131026") || (accepted > 1 && delivered)
      : accepted > 0
      ? delivered
      // Server errors until the retry budget was spent (131000 allows 3 attempts).
      : c.state === "error" && c.code === "131000" && c.attempts >= 3
    if (!right) wrong.push(`${c.recipient}: ${c.state} ${c.code ?? ""} after ${c.attempts} attempts, accepted ${accepted}×`)
  }
  const finalCounts = contacts.reduce<Record<string, number>>((counts, c) => ({ ...counts, [c.state]: (counts[c.state] ?? 0) + 1 }), {})
  const lost = options.contacts - contacts.length + pendingOf(finalCounts)
  const sentTwice = Object.values(stats.acceptedPerRecipient).filter((n) => n > 1).length
  const duplicateBound = inFlightAtKills.reduce((a, b) => a + b, 0)
  const refusedBeyondLimit = stats.rejectionsByCode["131048"] ?? 0

  if (lost > 0) failures.push(`${lost} contacts lost (${contacts.length} of ${options.contacts} in the database, ${pendingOf(finalCounts)} not final)`)
  if (wrong.length > 0) failures.push(`${wrong.length} contacts in a wrong final state, e.g. ${wrong.slice(0, 3).join("; ")}`)
  if (sentTwice > duplicateBound) failures.push(`${sentTwice} recipients sent twice, above the in-flight bound of ${duplicateBound}`)
  if (maxPlannedPerSecond > options.mps) failures.push(`${maxPlannedPerSecond} sends planned within a second, above the account's ${options.mps} msg/s`)
  if (refusedBeyondLimit > 0) failures.push(`Meta refused ${refusedBeyondLimit} sends beyond the 24 h limit (131048)`)
  if (atLimit === null) failures.push(`the 24 h limit of ${limit} never stopped the campaign`)
  else if (atLimit.simulatorRecipients > limit || atLimit.ledger > limit) failures.push(`the 24 h window held ${atLimit.ledger} (Meta: ${atLimit.simulatorRecipients}), above ${limit}`)
  if (pause?.pausedAt === null || pause?.resumed !== true) failures.push("the template pause did not pause and resume the campaign")
  if (stats.webhooks.dropped > 0) failures.push(`the simulator dropped ${stats.webhooks.dropped} webhook posts after its retries`)
  if (inFlightAtKills.length !== options.kills) failures.push(`${inFlightAtKills.length} kills, not ${options.kills}`)
  for (const exit of unexpectedExits) failures.push(exit)
  for (const daemon of daemons) if (daemon !== undefined) daemon.killed = true

  return {
    date: new Date().toISOString(),
    machine: machine(),
    contacts: options.contacts,
    daemons: options.daemons,
    kills: inFlightAtKills.length,
    pgRestarts: restarts.length,
    faultRate: options.faultRate,
    seed: options.seed,
    mps: options.mps,
    seconds,
    lost,
    wrongStates: wrong.length,
    wrong: wrong.slice(0, 20),
    sentTwice,
    duplicateBound,
    inFlightAtKills,
    maxPlannedPerSecond,
    simulatorMaxPerSecond: stats.maxMpsPerNumber[PHONE_ID] ?? 0,
    limit,
    atLimit,
    refusedBeyondLimit,
    restarts,
    templatePause: { pausedMs: pause === null || pause.pausedAt === null ? null : pause.pausedAt - pause.askedAt, resumed: pause?.resumed === true },
    rejectionsByCode: stats.rejectionsByCode,
    webhooks: { statusesPosted: stats.webhooks.statusesPosted, retried: stats.webhooks.retried, dropped: stats.webhooks.dropped },
    unexpectedExits,
    failures,
    ok: failures.length === 0
  }
}

/** The report as one line of figures. */
export const line = (r: ChaosReport): string => {
  const n = (x: number) => x.toLocaleString("en")
  return `chaos: ${n(r.contacts)} contacts, ${r.daemons} daemons, ${r.kills} kills, ${r.pgRestarts} PostgreSQL restart${r.pgRestarts === 1 ? "" : "s"}, ` +
    `${Math.round(r.faultRate * 100)} % faults: ${n(r.lost)} lost, ${n(r.wrongStates)} in a wrong state, ${r.sentTwice} sent twice (bound ${r.duplicateBound}), ` +
    `max ${r.maxPlannedPerSecond}/${r.mps} msg/s, 24 h limit ${r.refusedBeyondLimit === 0 && r.atLimit !== null ? "held" : "EXCEEDED"} ` +
    `(${n(r.atLimit?.simulatorRecipients ?? 0)}/${n(r.limit)}), ${Math.round(r.seconds)} s` +
    (r.ok ? "" : ` — FAILED: ${r.failures.join("; ")}`)
}
