// End-to-end harness: the real `megaphone daemon` as child processes (started, SIGTERMed, or killed with -9),
// the simulator as Meta in this process, a campaign seeded through the real CLI, and checks read from the
// database and from the simulator's statistics.
import { type ChildProcess, spawn } from "node:child_process"
import { rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Ports } from "@megaphone/core"
import { Effect, Redacted } from "effect"
import { afterAll, expect } from "vitest"
import * as EmbeddedPostgres from "../../../adapters/src/storage/embedded/EmbeddedPostgres.ts"
import type { SimulatorConfigInput } from "../../../adapters/src/transport/simulator/Config.ts"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import { config, PHONE_ID, type Running, startSimulator, TOKEN, WABA_ID } from "../../../adapters/test/transport/simulator/support.ts"
import { bin, megaphone, scratchDirectory, withStorage } from "../cli/binary.ts"

export { PHONE_ID, TOKEN, WABA_ID }

export const APP_SECRET = "e2e-app-secret"
export const ADMIN_TOKEN = "e2e-admin-token"
/** What 360dialog is asked to send with each webhook (`accounts webhook`), and the daemon checks. */
export const WEBHOOK_SECRET = "e2e-bsp-shared-secret"

/** Who carries the account's requests in a scenario: Meta's Cloud API directly, or 360dialog. */
export type Provider = "meta" | "360dialog"

/**
 * Short retry waits so a faulty campaign settles in seconds (the rules are the production ones); the shortest
 * lease the configuration allows, so a crashed daemon's contacts come back within the test.
 */
export const FAST_RETRIES: Record<string, string> = {
  MEGAPHONE_RETRY_MAX_ATTEMPTS: "5",
  MEGAPHONE_RETRY_BASE_DELAY_MS: "200",
  MEGAPHONE_RETRY_MAX_DELAY_MS: "1000",
  MEGAPHONE_RETRY_RATE_LIMITED_BASE_DELAY_MS: "200",
  MEGAPHONE_RETRY_UNKNOWN_OUTCOME_GRACE_MS: "3000",
  MEGAPHONE_LEASE_MS: "60000",
  MEGAPHONE_IDLE_MS: "200"
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `read` until `done` holds, for at most `ms`. */
export const eventually = async <A>(read: () => Promise<A>, done: (a: A) => boolean, ms: number, what: string): Promise<A> => {
  const until = Date.now() + ms
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > until) throw new Error(`${what} not reached within ${ms} ms; last: ${JSON.stringify(value)}`)
    await sleep(250)
  }
}

/** A running `megaphone daemon` child process. */
export interface DaemonProcess {
  readonly child: ChildProcess
  readonly webhookPort: number
  readonly adminPort: number
  /** Everything it wrote on stderr so far. */
  readonly stderr: () => string
  /** Its JSON log lines so far. */
  readonly logs: () => ReadonlyArray<Record<string, unknown>>
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

const running = new Set<ChildProcess>()

/** Kills every daemon a test left running (call in afterAll). */
export const killAll = () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
}

/** Starts `megaphone daemon` in `cwd` with `env` (plus the app secret and admin token) on fresh loopback ports. */
export const startDaemon = async (cwd: string, env: Record<string, string>, webhookPort?: number): Promise<DaemonProcess> => {
  const ports = { webhook: webhookPort ?? await EmbeddedPostgres.freePort(), admin: await EmbeddedPostgres.freePort() }
  let stderr = ""
  const child = spawn(process.execPath, [bin, "daemon", "--webhook-listen", `127.0.0.1:${ports.webhook}`, "--admin-listen", `127.0.0.1:${ports.admin}`], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", MEGAPHONE_APP_SECRET: APP_SECRET, MEGAPHONE_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
    stdio: ["ignore", "ignore", "pipe"]
  })
  running.add(child)
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    }))
  const daemon: DaemonProcess = {
    child,
    webhookPort: ports.webhook,
    adminPort: ports.admin,
    stderr: () => stderr,
    logs: () => stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>),
    exited
  }
  await eventually(() => fetch(`http://127.0.0.1:${ports.admin}/healthz`).then((r) => r.status, () => 0), (s) => s === 200, 30_000,
    `daemon answering /healthz (stderr: ${stderr.slice(-500)})`)
  return daemon
}

/**
 * The simulator as Meta, posting its webhooks to `webhookPort`, with the faults and accounts a test wants. In
 * 360dialog mode it does not sign, and posts where `accounts webhook` registers (with the secret header).
 */
export const startMeta = (webhookPort: number, patch: Partial<SimulatorConfigInput> = {}): Promise<Running> => {
  const base = config()
  return startSimulator({
    ...base,
    webhook: {
      url: `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`,
      ...(patch.provider === "360dialog" ? {} : { appSecret: APP_SECRET }),
      delays: { sentMs: 20, deliveredMs: 40, readMs: 60, jitterMs: 20 },
      probabilities: { delivered: 1, read: 0.5 },
      // Meta retries a failed webhook for days; an outage in a test must not exhaust the simulator's patience.
      maxAttempts: 20,
      retryMaxMs: 3_000
    },
    ...patch
  })
}

/** What one end-to-end scenario runs on. */
export interface Scenario {
  readonly url: string
  readonly webhookPort: number
  readonly simulator: Running
  /** The environment of the CLI and the daemons: the database, the account's token, the fast retries. */
  readonly env: Record<string, string>
  readonly provider: Provider
}

/**
 * For a test file: a scratch directory and `scenario`, which starts Meta (the simulator, its number at `tier`
 * and a rate far above what the account may use, with `faults`) on a fresh database (or `url`). After the
 * file's tests every daemon is killed, every simulator stopped and the directory removed.
 */
export const e2eFile = async () => {
  const cwd = await scratchDirectory()
  const simulators: Array<Running> = []
  afterAll(async () => {
    killAll()
    for (const simulator of simulators) await simulator.stop()
    await rm(cwd, { recursive: true, force: true })
  })
  const scenario = async (options: {
    readonly tier: string
    readonly faults: NonNullable<SimulatorConfigInput["faults"]>
    readonly url?: string
    /** Default `meta`; `360dialog` runs the simulator in its 360dialog mode and the account through it. */
    readonly provider?: Provider
  }): Promise<Scenario> => {
    const url = options.url ?? Redacted.value(await freshDatabase("embedded"))
    const webhookPort = await EmbeddedPostgres.freePort()
    const provider = options.provider ?? "meta"
    const simulator = await startMeta(webhookPort, {
      provider,
      accounts: [{ phoneNumberId: PHONE_ID, wabaId: WABA_ID, displayPhoneNumber: "+420 601 000 001", verifiedName: "Megaphone Shop",
        messagingLimitTier: options.tier, throughputLevel: "HIGH", mps: 5_000 }],
      faults: options.faults
    })
    simulators.push(simulator)
    const env = { MEGAPHONE_DATABASE_URL: url, SIM_TOKEN: TOKEN, ...FAST_RETRIES }
    return { url, webhookPort, simulator, provider, env: provider === "360dialog" ? { ...env, MEGAPHONE_WEBHOOK_SECRET: WEBHOOK_SECRET } : env }
  }
  return { cwd, scenario }
}

/** A recipient (wa_id) numbered n: Czech mobiles 420 601 2xx xxx. */
export const recipient = (n: number): string => `420601${String(200_000 + n)}`

/** Runs `megaphone ARGS` through the real CLI and expects it to succeed (the command and stderr show when not). */
export const cli = (cwd: string, env: Record<string, string>) => async (args: ReadonlyArray<string>) => {
  const result = await megaphone(cwd, args, env)
  expect([args.join(" "), result.code, result.stderr]).toEqual([args.join(" "), 0, expect.any(String)])
  return result
}

/**
 * Through the real CLI: account "shop" (its tier and throughput read from the simulator by `accounts refresh`)
 * and its templates synced from the simulator.
 */
export const setUpShop = async (
  cwd: string,
  env: Record<string, string>,
  simulatorUrl: string,
  through?: { readonly provider: Provider; readonly webhookPort: number }
): Promise<void> => {
  const run = cli(cwd, env)
  const provider = through?.provider ?? "meta"
  await run(["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--token-env", "SIM_TOKEN", "--graph-url", simulatorUrl,
    ...(provider === "meta" ? [] : ["--provider", provider])])
  await run(["accounts", "refresh", "shop"])
  if (through !== undefined && provider === "360dialog") {
    await run(["accounts", "webhook", "shop", "--url", `http://127.0.0.1:${through.webhookPort}/webhooks/whatsapp`])
    // 360dialog's API does not report the tier (refresh keeps the default 250); Meta's account webhook would set it.
    const limit = 100_000
    await withStorage(env["MEGAPHONE_DATABASE_URL"] ?? "", (s) =>
      Effect.gen(function*() {
        const account = yield* s.getAccount("shop")
        if (account._tag === "Some") yield* s.saveAccount({ ...account.value, messagingLimit: limit, messagingTier: "TIER_100K", updatedAt: new Date() })
      }))
  }
  await run(["templates", "sync", "--account", "shop"])
}

/**
 * Through the real CLI: the account (its tier and throughput read from the simulator by `accounts refresh`),
 * its templates, a campaign on `order_done` with `contacts` contacts from a CSV; returns the campaign id.
 * `mps` then caps the account's throughput in the database, below what the simulator allows, so "never above
 * the configured rate" is checked against a limit the simulator itself would not enforce.
 */
export const seedCampaign = async (
  cwd: string,
  env: Record<string, string>,
  simulatorUrl: string,
  options: {
    readonly contacts: number
    readonly mps?: number
    readonly start?: boolean
    /** The account's provider, and where its webhooks are registered (360dialog). */
    readonly through?: { readonly provider: Provider; readonly webhookPort: number }
  }
): Promise<string> => {
  const run = cli(cwd, env)
  await setUpShop(cwd, env, simulatorUrl, options.through)
  const id = (await run(["campaigns", "create", "--name", "Objednávky", "--account", "shop", "--template", "order_done"])).stdout.trim()
  const csv = join(cwd, `contacts-${id}.csv`)
  const rows = Array.from({ length: options.contacts }, (_, i) => `+${recipient(i)},pane,Novák ${i},${1000 + i}`)
  await writeFile(csv, ["phone,1,2,3", ...rows, ""].join("\n"))
  expect(JSON.parse((await run(["campaigns", "add-contacts", id, "--csv", csv, "--json"])).stdout)).toMatchObject({ added: options.contacts })
  if (options.mps !== undefined) {
    const mps = options.mps
    await withStorage(env["MEGAPHONE_DATABASE_URL"] ?? "", (s) =>
      Effect.gen(function*() {
        const account = yield* s.getAccount("shop")
        if (account._tag === "Some") yield* s.saveAccount({ ...account.value, throughputMps: mps, updatedAt: new Date() })
      }))
  }
  if (options.start !== false) await run(["campaigns", "start", id])
  return id
}

/** `campaigns show ID --json` through the CLI. */
export const show = async (cwd: string, env: Record<string, string>, id: string) =>
  JSON.parse((await megaphone(cwd, ["campaigns", "show", id, "--json"], env)).stdout || "{}") as {
    state?: string
    counts?: Record<string, number>
    pause_reason?: unknown
  }

/**
 * The same JSON through the daemon's admin API (`GET /api/campaigns/ID`): polling this costs the machine no
 * process start, which would otherwise load the CPU the rate checks run on.
 */
export const shown = async (daemon: DaemonProcess, id: string): Promise<Awaited<ReturnType<typeof show>>> => {
  const reply = await fetch(`http://127.0.0.1:${daemon.adminPort}/api/campaigns/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    .catch(() => undefined)
  return reply?.ok === true ? await reply.json() as Awaited<ReturnType<typeof show>> : {}
}

const PENDING = ["initial", "in_progress", "retry_scheduled"]

/** Every contact settled: nothing initial, in progress or waiting for a retry. */
export const allFinal = (counts: Record<string, number> | undefined): boolean =>
  counts !== undefined && PENDING.every((s) => (counts[s] ?? 0) === 0)

/** Every contact of the campaign, read directly from the database. */
export const contactsOf = (url: string, campaignId: string) =>
  withStorage(url, (s) =>
    Effect.gen(function*() {
      const all: Array<Ports.Storage.CampaignContact> = []
      for (;;) {
        const last = all.at(-1)
        const page = yield* s.listCampaignContacts(campaignId, undefined, { limit: 1000, ...(last === undefined ? {} : { afterId: last.id }) })
        all.push(...page)
        if (page.length < 1000) return all
      }
    }))

/** The most of `times` (ms) inside any window of `windowMs`. */
export const mostInWindow = (times: ReadonlyArray<number>, windowMs: number): number => {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowMs) start++
    most = Math.max(most, end - start + 1)
  }
  return most
}

/**
 * The most accepted sends whose slots fall in any window of `windowMs`, from the database. A send leaves within
 * `dispatch.lateMs` of its slot or not at all, so with `windowMs` = 1 s + lateMs this bounds what any second of
 * departures holds — across every daemon, whatever the machine's load. (The simulator's own count also sees
 * its stalls on a loaded test machine: arrivals it handles late bunch up.)
 */
export const maxSlotsInWindow = (url: string, campaignId: string, windowMs: number): Promise<number> =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const rows = yield* sql<{ readonly slot: Date }>`
      select reserved_slot as slot from campaign_contacts
      where campaign_id = ${campaignId}::bigint and wamid is not null and reserved_slot is not null
      order by reserved_slot`
    return mostInWindow(rows.map((r) => new Date(r.slot).getTime()), windowMs)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))))

/** Recipients the simulator accepted more than once. */
export const duplicates = (acceptedPerRecipient: Readonly<Record<string, number>>): ReadonlyArray<string> =>
  Object.entries(acceptedPerRecipient).filter(([, n]) => n > 1).map(([r]) => r)
