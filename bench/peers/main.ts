/**
 * Megaphone against the way a team would otherwise build a campaign sender: the same campaign — N contacts over
 * K business phone numbers, each a template message sent to the simulator plus a durable per-contact status —
 * sent by the real `megaphone daemon`, by a pg-boss worker and by a graphile-worker worker (bench/peers/*.ts),
 * one after the other on the same PostgreSQL (embedded, durable, fsync on) and the same machine, in one run.
 *
 * Each system gets a fresh database and a fresh simulator (another process, as Meta is another machine) that
 * enforces every number's messages/second (Meta's 130429 beyond it) and answers after 100 ms ± 50 ms. No status
 * webhooks (the peers have no receiver; Megaphone's webhook throughput is bench/webhook). Measured: messages the
 * simulator accepted per second from the first to the last acceptance of the campaign, the worker's peak RSS,
 * the contacts whose durable status says sent, recipients accepted twice, and refusals by code.
 *
 *   npx node bench/peers/main.ts [--contacts 40000] [--numbers 4] [--mps 1000] [--only megaphone,pg-boss,graphile-worker] [--json]
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { Campaign, Ports, Template } from "@megaphone/core"
import { Effect, Layer, Redacted, Result, type Scope } from "effect"
import pg from "pg"
import * as Database from "../../packages/adapters/src/storage/Database.ts"
import * as EmbeddedPostgres from "../../packages/adapters/src/storage/embedded/EmbeddedPostgres.ts"
import { account as accountFixture } from "../../packages/adapters/test/support/fixtures.ts"
import {
  cpuSeconds,
  cpuSecondsByName,
  goalTable,
  type Machine,
  machine,
  machineBusySeconds,
  ORDER_DONE,
  peakRssMb,
  runBenchmark,
  temporaryDirectory
} from "../support/main.ts"
import { contact, phoneNumberId } from "./seed.ts"

const SYSTEMS = ["megaphone", "pg-boss", "graphile-worker"] as const
type System = (typeof SYSTEMS)[number]

const USAGE = `Usage: npx node bench/peers/main.ts [--contacts N] [--numbers K] [--mps N] [--workers W] [--latency-ms MS] [--only LIST] [--json]
  --contacts N     contacts in the campaign (default 40,000)
  --workers W      processes of each system sharing the campaign: daemons, pg-boss or graphile-worker workers (default 1)
  --numbers K      business phone numbers the campaign is spread over (default 4)
  --mps N          each number's messages/second, enforced by the simulator (default 1,000, Meta's highest)
  --latency-ms MS  the simulator's answer time, plus up to half of it as jitter (default 100)
  --only LIST      some of ${SYSTEMS.join(",")} (default all)
  --json           print one JSON document instead of the table`

interface Options {
  readonly contacts: number
  readonly numbers: number
  readonly mps: number
  readonly workers: number
  readonly latencyMs: number
  readonly only: ReadonlyArray<System>
  readonly json: boolean
}

const parseOptions = (argv: ReadonlyArray<string>): Options => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      contacts: { type: "string" },
      numbers: { type: "string" },
      mps: { type: "string" },
      workers: { type: "string" },
      "latency-ms": { type: "string" },
      only: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" }
    }
  })
  const usage = (problem: string): never => {
    console.error(`${problem}\n${USAGE}`)
    process.exit(2)
  }
  if (values.help === true) {
    console.log(USAGE)
    process.exit(0)
  }
  const whole = (flag: string, value: string | undefined, fallback: number, min: number, max: number): number => {
    const n = Number(value ?? fallback)
    return Number.isInteger(n) && n >= min && n <= max ? n : usage(`--${flag} takes a whole number from ${min} to ${max}, not ${value}`)
  }
  const only = (values.only ?? SYSTEMS.join(",")).split(",").map((s) => s.trim())
  const unknown = only.filter((s) => !(SYSTEMS as ReadonlyArray<string>).includes(s))
  if (unknown.length > 0) usage(`--only: ${unknown.join(", ")} is not one of ${SYSTEMS.join(", ")}`)
  return {
    contacts: whole("contacts", values.contacts, 40_000, 100, 5_000_000),
    numbers: whole("numbers", values.numbers, 4, 1, 50),
    mps: whole("mps", values.mps, 1_000, 1, 1_000),
    workers: whole("workers", values.workers, 1, 1, 8),
    latencyMs: whole("latency-ms", values["latency-ms"], 100, 0, 5_000),
    only: only as ReadonlyArray<System>,
    json: values.json === true
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures and processes

const TOKEN = "bench-token"
const WABA_ID = "102290129340398"
const DAEMON_NODE_OPTIONS = "--max-old-space-size=256 --max-semi-space-size=8"
/** More Node options for the daemons only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where their time goes. */
const extraDaemonOptions = (process.env["BENCH_DAEMON_NODE_OPTIONS"] ?? "").split(" ").filter((option) => option !== "")
const root = path.join(import.meta.dirname, "..", "..")
const bin = process.env["BENCH_BIN"] ?? path.join(root, "packages", "daemon", "dist", "megaphone.mjs")

const simulatorConfig = (options: Options) => ({
  accessToken: TOKEN,
  seed: 7,
  accounts: Array.from({ length: options.numbers }, (_, k) => ({
    phoneNumberId: phoneNumberId(k),
    wabaId: WABA_ID,
    displayPhoneNumber: `+420 601 000 ${String(k).padStart(3, "0")}`,
    verifiedName: "Megaphone Bench",
    messagingLimitTier: "TIER_UNLIMITED",
    throughputLevel: "HIGH",
    mps: options.mps
  })),
  templates: { [WABA_ID]: [ORDER_DONE] },
  faults: { latencyMs: options.latencyMs, jitterMs: Math.round(options.latencyMs / 2) }
})

/** The daemon's settings from this process's environment (`MEGAPHONE_CLAIM_LIMIT=200 npx node bench/peers/main.ts`, say). */
const daemonSettings = (): Record<string, string> =>
  Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith("MEGAPHONE_") && entry[1] !== undefined))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A child process (node ARGS), killed when the scope closes if still running. */
const child = (args: ReadonlyArray<string>, env: Record<string, string>, cwd: string): Effect.Effect<ChildProcess, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const started = spawn(process.execPath, args, { cwd, env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "ignore", "pipe"] })
      let tail = ""
      started.stderr?.on("data", (chunk: Buffer) => {
        tail = (tail + chunk.toString()).slice(-4_000)
        if (process.env["BENCH_VERBOSE"] !== undefined) process.stderr.write(chunk)
      })
      started.on("exit", (code, signal) => {
        if (code !== 0 && signal === null) process.stderr.write(`\n${args.join(" ")} exited with ${code}:\n${tail}\n`)
      })
      return started
    }),
    (started) =>
      Effect.promise(async () => {
        if (started.exitCode !== null || started.signalCode !== null) return
        const exited = new Promise((resolve) => started.once("exit", resolve))
        started.kill("SIGTERM")
        const timer = setTimeout(() => started.kill("SIGKILL"), 10_000)
        await exited
        clearTimeout(timer)
      })
  )

/** Runs node ARGS to its end; fails with its output when it exits non-zero. */
const runToEnd = (args: ReadonlyArray<string>, env: Record<string, string>, cwd: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const started = spawn(process.execPath, args, { cwd, env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    started.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    started.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    started.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(" ")} exited with ${code}: ${output.slice(-2_000)}`))))
  })

interface SimulatorStats {
  readonly accepted: number
  readonly acceptedPerRecipient: Readonly<Record<string, number>>
  readonly maxMpsPerNumber: Readonly<Record<string, number>>
  readonly rejectionsByCode: Readonly<Record<string, number>>
}

const simulatorStats = async (url: string): Promise<SimulatorStats> =>
  (await (await fetch(`${url}/_simulator/stats?messages=false`)).json()) as SimulatorStats

const untilListening = async (url: string): Promise<void> => {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then(() => true, () => false)) return
    await sleep(100)
  }
  throw new Error(`the simulator did not start listening on ${url} within 30 s`)
}

/** `url` with another database name. */
const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}

// ---------------------------------------------------------------------------------------------------------------
// One system's run

interface SystemResult {
  readonly system: System
  /** Messages the simulator accepted per second, from the first acceptance to the last of the campaign. */
  readonly messagesPerSecond: number
  readonly seconds: number
  readonly firstSendMs: number
  readonly fastestSecond: number
  readonly accepted: number
  readonly durableSent: number
  readonly sentTwice: number
  readonly refusals: Readonly<Record<string, number>>
  /** The highest peak RSS of the system's worker processes. */
  readonly workerRssPeakMb: number
  /** CPU seconds used from the workers' start to the last acceptance, by party (two cores give 2 s a second). */
  readonly cpuSeconds: { readonly workers: number; readonly simulator: number; readonly postgres: number; readonly machine: number }
  readonly finished: boolean
}

/** Megaphone's campaign: K accounts (one per number), a started campaign of N/K contacts on each. */
const seedMegaphone = (url: string, options: Options, simulatorUrl: string) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const now = new Date()
    yield* storage.syncTemplates(WABA_ID, [Result.getOrThrow(Template.decode(ORDER_DONE))], now)
    const perNumber = Array.from({ length: options.numbers }, (): Array<Ports.Storage.NewCampaignContact> => [])
    for (let n = 0; n < options.contacts; n++) {
      const c = contact(n, options.numbers)
      perNumber[n % options.numbers]?.push({ phone: `+${c.recipient}`, recipient: c.recipient, parameters: { "1": c.salutation, "2": c.name, "3": c.orderNumber } })
    }
    for (let k = 0; k < options.numbers; k++) {
      const account = yield* storage.saveAccount(accountFixture(`bench-${k}`, {
        phoneNumberId: phoneNumberId(k),
        wabaId: WABA_ID,
        tokenEnv: "BENCH_TOKEN",
        graphUrl: simulatorUrl,
        messagingLimit: "unlimited",
        messagingTier: "TIER_UNLIMITED",
        throughputMps: options.mps,
        createdAt: now,
        updatedAt: now
      }))
      const created = yield* storage.createCampaign({ name: `bench ${k}`, accountName: account.name, templateName: "order_done", language: "cs", note: null }, now)
      const contacts = perNumber[k] ?? []
      for (let i = 0; i < contacts.length; i += 20_000) yield* storage.addCampaignContacts(created.id, contacts.slice(i, i + 20_000), now)
      const counts = yield* storage.campaignCounts(created.id)
      yield* storage.updateCampaignLifecycle(created.id, "draft", Result.getOrThrow(Campaign.start(created.lifecycle, counts, now)))
    }
  }).pipe(Effect.provide(Layer.fresh(Database.layer({ _tag: "Server", url: Redacted.make(url) }, { maxConnections: 2 }))))

/** Contacts whose durable status says Meta took the message. */
const durableSent = async (system: System, url: string): Promise<number> => {
  const client = new pg.Client({ connectionString: url })
  client.on("error", () => undefined)
  await client.connect()
  try {
    const query = system === "megaphone"
      ? "select count(*)::int as n from campaign_contacts where state in ('sent', 'delivered', 'read')"
      : "select count(*)::int as n from contacts where status = 'sent'"
    return (await client.query<{ n: number }>(query)).rows[0]?.n ?? 0
  } finally {
    await client.end()
  }
}

const runSystem = (system: System, options: Options, serverUrl: string, dir: string) =>
  Effect.gen(function*() {
    const admin = new pg.Client({ connectionString: serverUrl })
    admin.on("error", () => undefined) // the server stopping at the end (Ctrl+C, a failure) is not news
    yield* Effect.promise(async () => {
      await admin.connect()
      await admin.query(`create database "bench_${system.replace("-", "_")}"`)
      await admin.end()
    })
    const url = withDatabase(serverUrl, `bench_${system.replace("-", "_")}`)

    const simulatorPort = yield* Effect.promise(EmbeddedPostgres.freePort)
    const simulatorUrl = `http://127.0.0.1:${simulatorPort}`
    const configFile = path.join(dir, `simulator-${system}.json`)
    yield* Effect.promise(() => fs.writeFile(configFile, JSON.stringify(simulatorConfig(options))))
    const simulator = yield* child([bin, "simulator", "--listen", `127.0.0.1:${simulatorPort}`, "--config", configFile], {}, dir)
    yield* Effect.promise(() => untilListening(`${simulatorUrl}/_simulator/stats?messages=false`))

    process.stderr.write(`${system}: seeding ${options.contacts.toLocaleString("en")} contacts …\n`)
    const peerEnv = { PEER_DATABASE_URL: url, PEER_GRAPH_URL: simulatorUrl, PEER_TOKEN: TOKEN, PEER_MPS: String(options.mps) }
    const script = path.join(root, "bench", "peers", system === "pg-boss" ? "pgboss.ts" : "graphile.ts")
    if (system === "megaphone") yield* seedMegaphone(url, options, simulatorUrl)
    else yield* Effect.promise(() => runToEnd([script, "seed", String(options.contacts), String(options.numbers)], peerEnv, dir))

    process.stderr.write(`${system}: sending …\n`)
    const simulatorPid = simulator.pid ?? 0
    const cpuBefore = yield* Effect.promise(async () => ({
      simulator: await cpuSeconds(simulatorPid),
      postgres: await cpuSecondsByName("postgres"),
      machine: await machineBusySeconds()
    }))
    const startedAt = performance.now()
    const workers: Array<ChildProcess> = []
    for (let w = 0; w < options.workers; w++) {
      const [webhookPort, adminPort] = [yield* Effect.promise(EmbeddedPostgres.freePort), yield* Effect.promise(EmbeddedPostgres.freePort)]
      workers.push(system === "megaphone"
        ? yield* child([...DAEMON_NODE_OPTIONS.split(" "), ...extraDaemonOptions, bin, "daemon", "--webhook-listen", `127.0.0.1:${webhookPort}`, "--admin-listen", `127.0.0.1:${adminPort}`],
          { ...daemonSettings(), MEGAPHONE_DATABASE_URL: url, BENCH_TOKEN: TOKEN, MEGAPHONE_APP_SECRET: "bench-app-secret" }, dir)
        : yield* child([script, "work"], peerEnv, dir))
    }

    const measured = yield* Effect.promise(async () => {
      const deadline = startedAt + Math.max(120_000, (options.contacts / (options.numbers * options.mps)) * 10_000)
      let firstAt = Number.NaN
      let lastAt = Number.NaN
      let rssPeak = 0
      const perSecond: Array<number> = []
      let previous = 0
      let previousAt = performance.now()
      for (;;) {
        await sleep(250)
        const stats = await simulatorStats(simulatorUrl)
        const now = performance.now()
        if (Number.isNaN(firstAt) && stats.accepted > 0) firstAt = now
        if (now - previousAt >= 1_000) {
          perSecond.push(((stats.accepted - previous) * 1_000) / (now - previousAt))
          previous = stats.accepted
          previousAt = now
          process.stderr.write(`${process.stderr.isTTY ? "\r\x1b[2K" : ""}${system}: ${stats.accepted.toLocaleString("en")} accepted, ${Math.round(perSecond.at(-1) ?? 0)} msg/s${process.stderr.isTTY ? "" : "\n"}`)
        }
        for (const worker of workers) rssPeak = Math.max(rssPeak, await peakRssMb(worker.pid ?? 0))
        if (stats.accepted >= options.contacts) {
          lastAt = now
          break
        }
        if (now > deadline) break
      }
      if (process.stderr.isTTY) process.stderr.write("\n")
      const postgresAfter = await cpuSecondsByName("postgres")
      const cpu = {
        workers: (await Promise.all(workers.map((worker) => cpuSeconds(worker.pid ?? 0)))).reduce((a, b) => a + b, 0),
        simulator: (await cpuSeconds(simulatorPid)) - cpuBefore.simulator,
        postgres: [...postgresAfter].reduce((sum, [pid, after]) => sum + after - (cpuBefore.postgres.get(pid) ?? 0), 0),
        machine: (await machineBusySeconds()) - cpuBefore.machine
      }
      return { firstAt, lastAt, rssPeak, perSecond, cpu }
    })
    // The last statuses are written after the last acceptance: give the worker a moment before counting.
    yield* Effect.promise(() => sleep(2_000))
    const stats = yield* Effect.promise(() => simulatorStats(simulatorUrl))
    const sent = yield* Effect.promise(() => durableSent(system, url))
    const finished = !Number.isNaN(measured.lastAt)
    const seconds = ((finished ? measured.lastAt : performance.now()) - measured.firstAt) / 1000
    const result: SystemResult = {
      system,
      messagesPerSecond: stats.accepted / seconds,
      seconds,
      firstSendMs: measured.firstAt - startedAt,
      fastestSecond: Math.max(0, ...measured.perSecond),
      accepted: stats.accepted,
      durableSent: sent,
      sentTwice: Object.values(stats.acceptedPerRecipient).filter((n) => n > 1).length,
      refusals: stats.rejectionsByCode,
      workerRssPeakMb: measured.rssPeak,
      cpuSeconds: measured.cpu,
      finished
    }
    return result
  }).pipe(Effect.scoped)

// ---------------------------------------------------------------------------------------------------------------
// The run

interface Report {
  readonly machine: Machine
  readonly date: string
  readonly contacts: number
  readonly numbers: number
  readonly mps: number
  readonly workers: number
  readonly latencyMs: number
  readonly results: ReadonlyArray<SystemResult>
}

const bench = (options: Options) =>
  Effect.gen(function*() {
    const dir = yield* temporaryDirectory("peers")
    process.stderr.write("starting the embedded PostgreSQL (durable) …\n")
    const info = yield* EmbeddedPostgres.start({ dataDir: path.join(dir, "data"), log: () => undefined })
    const results: Array<SystemResult> = []
    for (const system of options.only) results.push(yield* runSystem(system, options, Redacted.value(info.url), dir))
    const report: Report = { machine: machine(), date: new Date().toISOString(), contacts: options.contacts, numbers: options.numbers, mps: options.mps, workers: options.workers, latencyMs: options.latencyMs, results }
    return report
  })

const table = (r: Report): string => {
  const n = (x: number, digits = 0) => x.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })
  const megaphone = r.results.find((x) => x.system === "megaphone")
  const rows: Array<[string, string, string]> = r.results.flatMap((x): Array<[string, string, string]> => [
    [`${x.system}: messages/s`, x.system === "megaphone" ? "≥ 2× the better peer" : "",
      `${n(x.messagesPerSecond)}${x.finished ? "" : " (did not finish)"}${megaphone !== undefined && x !== megaphone ? ` (Megaphone ${n(megaphone.messagesPerSecond / x.messagesPerSecond, 2)}×)` : ""}`],
    [`  fastest second / first send`, "", `${n(x.fastestSecond)} msg/s / ${n(x.firstSendMs)} ms`],
    [`  durable status sent / accepted`, "= contacts", `${n(x.durableSent)} / ${n(x.accepted)}`],
    [`  recipients sent twice`, "0", n(x.sentTwice)],
    [`  refusals by code`, "", Object.keys(x.refusals).length === 0 ? "none" : JSON.stringify(x.refusals)],
    [`  worker RSS peak`, "", `${n(x.workerRssPeakMb)} MB`],
    [`  CPU s: worker / simulator / PostgreSQL / machine`, "",
      `${n(x.cpuSeconds.workers, 1)} / ${n(x.cpuSeconds.simulator, 1)} / ${n(x.cpuSeconds.postgres, 1)} / ${n(x.cpuSeconds.machine, 1)}`]
  ])
  return goalTable([
    `Peers: a ${n(r.contacts)}-contact campaign over ${r.numbers} numbers at ${n(r.mps)} msg/s each (the simulator enforces it), ` +
    `${r.workers} worker process${r.workers === 1 ? "" : "es"} of each system, ` +
    `${r.latencyMs} ms Graph latency, durable PostgreSQL`
  ], r.machine, r.date, rows)
}

const options = parseOptions(process.argv.slice(2))
await runBenchmark(bench(options), { json: options.json, table })
