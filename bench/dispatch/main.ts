/**
 * The dispatch benchmark (issue 6): the real `megaphone daemon` process sending one big running campaign to the
 * simulator (another process, as Meta is another machine) with durable state in the embedded PostgreSQL (fsync
 * on, a fresh temporary data directory). The account's number is HIGH throughput — 1,000 messages/second, Meta's
 * highest — with an unlimited messaging tier; the simulator answers after a latency and posts sent/delivered/read
 * webhooks back to the daemon, which stores them too. After a warm-up the benchmark measures, second by second,
 * the messages the simulator accepted and the daemon's resident memory, then stops the daemon with SIGTERM.
 *
 *   npx node bench/dispatch/main.ts [--contacts 1000000] [--seconds 60] [--mps 1000] [--latency-ms 100] [--json]
 *
 * Goals: ≥ 1,000 messages/second sustained (never above the number's limit) and daemon RSS < 200 MB. The daemon
 * is the production binary (`npm run build`) run with the Node options docs/operations.md recommends.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { Campaign, Ports, Template } from "@megaphone/core"
import { Effect, Layer, Redacted, Result, type Scope } from "effect"
import * as Database from "../../packages/adapters/src/storage/Database.ts"
import * as EmbeddedPostgres from "../../packages/adapters/src/storage/embedded/EmbeddedPostgres.ts"
import { account as accountFixture } from "../../packages/adapters/test/support/fixtures.ts"
import { goalTable, type Machine, machine, ORDER_DONE, progress, rssMb, runBenchmark, temporaryDirectory } from "../support/main.ts"

const USAGE = `Usage: npx node bench/dispatch/main.ts [--contacts N] [--seconds S] [--mps N] [--latency-ms MS] [--json]
  --contacts N     contacts in the campaign (default 1,000,000)
  --seconds S      length of the measure, after a 10 s warm-up (default 60)
  --mps N          the number's messages/second limit (default 1,000, Meta's highest)
  --latency-ms MS  the simulator's answer time, plus up to half of it as jitter (default 100)
  --simulator-mps N  the rate the simulator enforces (default: --mps; higher shows what the daemon itself
                   paces to when Meta's clock is not stricter than its own)
  --json           print one JSON document instead of the table`

interface Options {
  readonly contacts: number
  readonly seconds: number
  readonly mps: number
  readonly latencyMs: number
  readonly simulatorMps: number
  readonly json: boolean
}

const parseOptions = (argv: ReadonlyArray<string>): Options => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      contacts: { type: "string" },
      seconds: { type: "string" },
      mps: { type: "string" },
      "latency-ms": { type: "string" },
      "simulator-mps": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" }
    }
  })
  if (values.help === true) {
    console.log(USAGE)
    process.exit(0)
  }
  const whole = (flag: string, value: string | undefined, fallback: number, min: number, max: number): number => {
    const n = Number(value ?? fallback)
    if (!Number.isInteger(n) || n < min || n > max) {
      console.error(`--${flag} takes a whole number from ${min} to ${max}, not ${value}\n${USAGE}`)
      process.exit(2)
    }
    return n
  }
  const mps = whole("mps", values.mps, 1_000, 1, 1_000)
  return {
    contacts: whole("contacts", values.contacts, 1_000_000, 1_000, 10_000_000),
    seconds: whole("seconds", values.seconds, 60, 5, 3_600),
    mps,
    latencyMs: whole("latency-ms", values["latency-ms"], 100, 0, 5_000),
    simulatorMps: whole("simulator-mps", values["simulator-mps"], mps, 1, 100_000),
    json: values.json === true
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

const TOKEN = "bench-token"
const APP_SECRET = "bench-app-secret"
const PHONE_ID = "106540352242922"
const WABA_ID = "102290129340398"
const WARM_UP_MS = 10_000
const INSERT_CHUNK = 20_000
// The production binary (`npm run build`; `npm run bench:dispatch` builds it first) with the Node options
// docs/operations.md recommends for the daemon; BENCH_BIN and BENCH_DAEMON_NODE_OPTIONS override them.
const bin = process.env["BENCH_BIN"] ?? path.join(import.meta.dirname, "..", "..", "packages", "daemon", "dist", "megaphone.mjs")
const DAEMON_NODE_OPTIONS = "--max-old-space-size=256 --max-semi-space-size=8"

const simulatorConfig = (options: Options, webhookPort: number) => ({
  accessToken: TOKEN,
  seed: 7,
  accounts: [{
    phoneNumberId: PHONE_ID,
    wabaId: WABA_ID,
    displayPhoneNumber: "+420 601 000 001",
    verifiedName: "Megaphone Bench",
    messagingLimitTier: "TIER_UNLIMITED",
    throughputLevel: "HIGH",
    mps: options.simulatorMps
  }],
  templates: { [WABA_ID]: [ORDER_DONE] },
  webhook: {
    url: `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`,
    appSecret: APP_SECRET,
    delays: { sentMs: 200, deliveredMs: 500, readMs: 2_000, jitterMs: 200 },
    probabilities: { delivered: 0.95, read: 0.5 },
    batchSize: 10,
    concurrency: 16
  },
  faults: { latencyMs: options.latencyMs, jitterMs: Math.round(options.latencyMs / 2) }
})

/** Distinct Czech mobile numbers: 420 6xx xxx xxx. */
const newContact = (n: number): Ports.Storage.NewCampaignContact => {
  const recipient = `420${600_000_000 + n}`
  return { phone: `+${recipient}`, recipient, parameters: { "1": "pane", "2": `Novák ${n}`, "3": `2024-${n}` } }
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A child process that is killed when the benchmark's scope closes (Ctrl+C, failure) if still running. */
const child = (args: ReadonlyArray<string>, env: Record<string, string>, cwd: string): Effect.Effect<ChildProcess, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const started = spawn(process.execPath, [bin, ...args], { cwd, env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "ignore", "pipe"] })
      let tail = ""
      started.stderr?.on("data", (chunk: Buffer) => {
        tail = (tail + chunk.toString()).slice(-4_000)
        if (process.env["BENCH_VERBOSE"] !== undefined) process.stderr.write(chunk)
      })
      started.on("exit", (code, signal) => {
        if (code !== 0 && signal === null) process.stderr.write(`\n${args[0]} exited with ${code}:\n${tail}\n`)
      })
      return started
    }),
    (started) => Effect.sync(() => (started.exitCode === null && started.signalCode === null ? started.kill("SIGKILL") : true))
  )

const untilListening = async (url: string, what: string): Promise<void> => {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then(() => true, () => false)) return
    await sleep(100)
  }
  throw new Error(`${what} did not start listening on ${url} within 30 s`)
}

interface SimulatorStats {
  readonly accepted: number
  readonly maxMpsPerNumber: Readonly<Record<string, number>>
  readonly rejectionsByCode: Readonly<Record<string, number>>
  readonly webhooks: { readonly statusesPosted: number; readonly failed: number; readonly dropped: number }
}

const simulatorStats = async (url: string): Promise<SimulatorStats> =>
  (await (await fetch(`${url}/_simulator/stats?messages=false`)).json()) as SimulatorStats

// ---------------------------------------------------------------------------------------------------------------
// The run

interface Report {
  readonly machine: Machine
  readonly date: string
  readonly contacts: number
  readonly mpsLimit: number
  readonly simulatorMps: number
  readonly latencyMs: number
  readonly seedSeconds: number
  readonly firstSendMs: number
  readonly measuredSeconds: number
  readonly sustainedMps: number
  readonly slowestSecond: number
  readonly fastestSecond: number
  readonly simulatorMaxMps: number
  readonly rejections: Readonly<Record<string, number>>
  readonly webhookStatuses: number
  readonly daemonRssPeakMb: number
  readonly daemonRssEndMb: number
  readonly stopSeconds: number
  readonly stopExitCode: number | null
}

const bench = (options: Options) =>
  Effect.gen(function*() {
    const dir = yield* temporaryDirectory("dispatch")
    process.stderr.write("starting the embedded PostgreSQL (durable) …\n")
    const info = yield* EmbeddedPostgres.start({ dataDir: path.join(dir, "data"), log: () => undefined })
    const url = Redacted.value(info.url)

    const seedStarted = performance.now()
    const campaignId = yield* Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      const now = new Date()
      const account = yield* storage.saveAccount(accountFixture("bench", {
        phoneNumberId: PHONE_ID,
        wabaId: WABA_ID,
        tokenEnv: "BENCH_TOKEN",
        graphUrl: "http://127.0.0.1:1", // set below, once the simulator's port is known
        messagingLimit: "unlimited",
        messagingTier: "TIER_UNLIMITED",
        throughputMps: options.mps,
        createdAt: now,
        updatedAt: now
      }))
      yield* storage.syncTemplates(WABA_ID, [Result.getOrThrow(Template.decode(ORDER_DONE))], now)
      const created = yield* storage.createCampaign({ name: "bench", accountName: account.name, templateName: "order_done", language: "cs", note: null }, now)
      const bar = progress("adding contacts", options.contacts)
      for (let start = 0; start < options.contacts; start += INSERT_CHUNK) {
        const n = Math.min(INSERT_CHUNK, options.contacts - start)
        yield* storage.addCampaignContacts(created.id, Array.from({ length: n }, (_, i) => newContact(start + i)), now)
        bar.update(start + n)
      }
      bar.finish(options.contacts)
      return created.id
    }).pipe(Effect.provide(Database.layer({ _tag: "Server", url: info.url }, { maxConnections: 2 })))
    const seedSeconds = (performance.now() - seedStarted) / 1000

    const [simulatorPort, webhookPort, adminPort] = [
      yield* Effect.promise(EmbeddedPostgres.freePort),
      yield* Effect.promise(EmbeddedPostgres.freePort),
      yield* Effect.promise(EmbeddedPostgres.freePort)
    ]
    const simulatorUrl = `http://127.0.0.1:${simulatorPort}`
    const configFile = path.join(dir, "simulator.json")
    yield* Effect.promise(() => fs.writeFile(configFile, JSON.stringify(simulatorConfig(options, webhookPort))))
    const env = {
      MEGAPHONE_DATABASE_URL: url,
      BENCH_TOKEN: TOKEN,
      MEGAPHONE_APP_SECRET: APP_SECRET,
      NODE_OPTIONS: process.env["BENCH_DAEMON_NODE_OPTIONS"] ?? DAEMON_NODE_OPTIONS
    }
    yield* child(["simulator", "--listen", `127.0.0.1:${simulatorPort}`, "--config", configFile], {}, dir)
    yield* Effect.promise(() => untilListening(`${simulatorUrl}/_simulator/stats?messages=false`, "the simulator"))

    // Point the account at the simulator and start the campaign, then start the daemon.
    yield* Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      const account = yield* storage.getAccount("bench")
      if (account._tag === "Some") yield* storage.saveAccount({ ...account.value, graphUrl: simulatorUrl })
      const campaign = yield* storage.getCampaign(campaignId)
      if (campaign._tag === "None") return yield* Effect.die(new Error("the campaign vanished"))
      const counts = yield* storage.campaignCounts(campaignId)
      const now = new Date()
      yield* storage.updateCampaignLifecycle(campaignId, "draft", Result.getOrThrow(Campaign.start(campaign.value.lifecycle, counts, now)))
    }).pipe(Effect.provide(Layer.fresh(Database.layer({ _tag: "Server", url: info.url }, { maxConnections: 1 }))))

    process.stderr.write(`daemon sending to the simulator: ${WARM_UP_MS / 1000} s warm-up, then ${options.seconds} s measured …\n`)
    const startedAt = performance.now()
    const daemon = yield* child(["daemon", "--webhook-listen", `127.0.0.1:${webhookPort}`, "--admin-listen", `127.0.0.1:${adminPort}`], env, dir)
    const pid = daemon.pid ?? 0

    return yield* Effect.promise(async () => {
      let firstSendMs = Number.NaN
      while (Number.isNaN(firstSendMs)) {
        if ((await simulatorStats(simulatorUrl)).accepted > 0) firstSendMs = performance.now() - startedAt
        else if (performance.now() - startedAt > 60_000) throw new Error("the daemon sent nothing within 60 s")
        else await sleep(50)
      }
      let rssPeak = 0
      const warmUntil = performance.now() + WARM_UP_MS
      while (performance.now() < warmUntil) {
        rssPeak = Math.max(rssPeak, await rssMb(pid))
        await sleep(1_000)
      }
      const begin = await simulatorStats(simulatorUrl)
      const beginAt = performance.now()
      const perSecond: Array<number> = []
      let last = begin.accepted
      let lastAt = beginAt
      for (let s = 0; s < options.seconds; s++) {
        await sleep(1_000 - ((performance.now() - beginAt) % 1_000))
        const stats = await simulatorStats(simulatorUrl)
        const now = performance.now()
        perSecond.push(((stats.accepted - last) * 1000) / (now - lastAt))
        last = stats.accepted
        lastAt = now
        rssPeak = Math.max(rssPeak, await rssMb(pid))
        process.stderr.write(`${process.stderr.isTTY ? "\r\x1b[2K" : ""}${s + 1}/${options.seconds} s: ${Math.round(perSecond.at(-1) ?? 0)} msg/s, daemon RSS ${Math.round(await rssMb(pid))} MB${process.stderr.isTTY ? "" : "\n"}`)
      }
      if (process.stderr.isTTY) process.stderr.write("\n")
      const end = await simulatorStats(simulatorUrl)
      const measuredSeconds = (lastAt - beginAt) / 1000
      const rssEnd = await rssMb(pid)
      const stopStarted = performance.now()
      const exited = new Promise<number | null>((resolve) => daemon.on("exit", (code) => resolve(code)))
      daemon.kill("SIGTERM")
      const stopExitCode = await exited
      const report: Report = {
        machine: machine(),
        date: new Date().toISOString(),
        contacts: options.contacts,
        mpsLimit: options.mps,
        simulatorMps: options.simulatorMps,
        latencyMs: options.latencyMs,
        seedSeconds,
        firstSendMs,
        measuredSeconds,
        sustainedMps: (end.accepted - begin.accepted) / measuredSeconds,
        slowestSecond: Math.min(...perSecond),
        fastestSecond: Math.max(...perSecond),
        simulatorMaxMps: end.maxMpsPerNumber[PHONE_ID] ?? 0,
        rejections: end.rejectionsByCode,
        webhookStatuses: end.webhooks.statusesPosted,
        daemonRssPeakMb: rssPeak,
        daemonRssEndMb: rssEnd,
        stopSeconds: (performance.now() - stopStarted) / 1000,
        stopExitCode
      }
      return report
    })
  })

const table = (r: Report): string => {
  const n = (x: number, digits = 0) => x.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })
  const rows: Array<[string, string, string]> = [
    ["sustained messages/s", `≥ ${n(Math.min(1_000, r.mpsLimit))}`, n(r.sustainedMps)],
    ["slowest / fastest second", "", `${n(r.slowestSecond)} / ${n(r.fastestSecond)}`],
    ["highest msg/s the simulator saw", `≤ ${n(r.mpsLimit)}`, n(r.simulatorMaxMps)],
    ["daemon RSS, peak", "< 200 MB", `${n(r.daemonRssPeakMb)} MB`],
    ["daemon RSS, at the end", "", `${n(r.daemonRssEndMb)} MB`],
    ["first send after daemon start", "", `${n(r.firstSendMs)} ms`],
    ["refusals by code", "none", Object.keys(r.rejections).length === 0 ? "none" : JSON.stringify(r.rejections)],
    ["webhook statuses posted", "", n(r.webhookStatuses)],
    ["SIGTERM → exit", "exit 0", `${n(r.stopSeconds, 1)} s, exit ${r.stopExitCode}`],
    ["seeding the campaign", "", `${n(r.contacts)} contacts in ${n(r.seedSeconds, 1)} s`]
  ]
  return goalTable([
    `Dispatch: ${n(r.contacts)}-contact campaign, ${n(r.mpsLimit)} msg/s number (the simulator enforces ${n(r.simulatorMps)}), ` +
    `${r.latencyMs} ms Graph latency, ${n(r.measuredSeconds, 1)} s measured`
  ], r.machine, r.date, rows)
}

const options = parseOptions(process.argv.slice(2))
await runBenchmark(bench(options), { json: options.json, table })
