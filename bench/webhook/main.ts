/**
 * The webhook receiver benchmark (issue 5): the receiver on loopback with durable storage (the embedded
 * PostgreSQL, fsync on, in a fresh temporary data directory) takes signed status webhooks — a few statuses per
 * POST, as Meta sends them — from concurrent senders in worker threads, for a fixed time. Prints statuses/s and
 * the acknowledgement latency (POST sent → 200 received, which the receiver answers only once the statuses
 * are stored). Progress goes to stderr.
 *
 *   npx node bench/webhook/main.ts [--seconds 10] [--senders 24] [--writers N] [--flush-ms N] [--json]
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import { createServer } from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads"
import { NodeHttpServer } from "@effect/platform-node"
import { Campaign, Ports } from "@megaphone/core"
import { Effect, Layer, Redacted, Result } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { SqlClient } from "effect/sql"
import * as Database from "../../packages/adapters/src/storage/Database.ts"
import * as Receiver from "../../packages/daemon/src/webhook/Receiver.ts"
import * as Signature from "../../packages/daemon/src/webhook/Signature.ts"
import { unlimitedAccount } from "../../packages/adapters/test/support/fixtures.ts"
import { machine, runBenchmark } from "../support/main.ts"

// ---------------------------------------------------------------------------------------------------------------
// Senders (worker threads): each runs `loops` concurrent POST loops over its own messages

interface SenderInput {
  readonly url: string
  readonly secret: string
  readonly wamids: ReadonlyArray<string>
  readonly loops: number
  readonly seconds: number
}

interface SenderOutput {
  /** When the first POST left and the last answer came, as epoch milliseconds (worker clocks share the origin). */
  readonly startedAt: number
  readonly endedAt: number
  readonly latenciesMs: ReadonlyArray<number>
  readonly statusesAcked: number
  readonly posts: number
  readonly refused: Readonly<Record<string, number>>
}

// Statuses per POST cycle through 1–5 (mean 3): Meta usually sends one, sometimes several.
const PER_POST = [1, 3, 5, 2, 4]
const STATUS_ORDER = ["sent", "delivered", "read"] as const
const BLOCK = 500

const sender = async (input: SenderInput): Promise<SenderOutput> => {
  const secret = Redacted.make(input.secret)
  // The stream of statuses: per block of messages sent, then delivered, then read — in flight together, as in a campaign.
  const stream: Array<readonly [string, string]> = []
  for (let start = 0; start < input.wamids.length; start += BLOCK) {
    const block = input.wamids.slice(start, start + BLOCK)
    for (const status of STATUS_ORDER) for (const wamid of block) stream.push([wamid, status])
  }
  let cursor = 0
  let nPost = 0
  const latenciesMs: Array<number> = []
  const refused: Record<string, number> = {}
  let statusesAcked = 0
  const startedAt = performance.timeOrigin + performance.now()
  const deadline = performance.now() + input.seconds * 1000
  const loop = async () => {
    while (performance.now() < deadline && cursor < stream.length) {
      const take = PER_POST[nPost++ % PER_POST.length] ?? 1
      const slice = stream.slice(cursor, cursor + take)
      cursor += take
      const timestamp = String(Math.floor(Date.now() / 1000))
      const body = new TextEncoder().encode(JSON.stringify({
        object: "whatsapp_business_account",
        entry: [{ id: "waba-bench", changes: [{ field: "messages", value: {
          messaging_product: "whatsapp",
          metadata: { display_phone_number: "15550783881", phone_number_id: "pn-bench" },
          statuses: slice.map(([wamid, status]) => ({
            id: wamid, status, timestamp, recipient_id: "420601000000",
            pricing: { billable: true, pricing_model: "PMP", type: "regular", category: "marketing" }
          }))
        } }] }]
      }))
      const started = performance.now()
      const response = await fetch(input.url, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "x-hub-signature-256": Signature.sign(secret, body) }
      })
      await response.arrayBuffer()
      if (response.status === 200) {
        latenciesMs.push(performance.now() - started)
        statusesAcked += slice.length
      } else {
        refused[String(response.status)] = (refused[String(response.status)] ?? 0) + 1
      }
    }
  }
  await Promise.all(Array.from({ length: input.loops }, loop))
  return { startedAt, endedAt: performance.timeOrigin + performance.now(), latenciesMs, statusesAcked, posts: latenciesMs.length + Object.values(refused).reduce((a, b) => a + b, 0), refused }
}

if (!isMainThread) {
  const output = await sender(workerData as SenderInput)
  parentPort?.postMessage(output)
}

// ---------------------------------------------------------------------------------------------------------------
// Options

const USAGE = `Usage: npx node bench/webhook/main.ts [--seconds N] [--senders N] [--writers N] [--flush-ms N] [--json]
  --seconds N    how long the senders post (default 10)
  --senders N    concurrent senders, split over two worker threads (default 24)
  --writers N    the receiver's concurrent batch writers (default: the receiver's, 2)
  --flush-ms N   the receiver's longest batch wait (default: the receiver's, 5)
  --json         print one JSON document instead of the table`

interface Options {
  readonly seconds: number
  readonly senders: number
  readonly writers: number | undefined
  readonly flushMs: number | undefined
  readonly json: boolean
}

const parseOptions = (argv: ReadonlyArray<string>): Options => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: "string" },
      senders: { type: "string" },
      writers: { type: "string" },
      "flush-ms": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" }
    }
  })
  if (values.help === true) {
    console.log(USAGE)
    process.exit(0)
  }
  const seconds = values.seconds === undefined ? 10 : Number(values.seconds)
  const senders = values.senders === undefined ? DEFAULT_SENDERS : Number(values.senders)
  const writers = values.writers === undefined ? undefined : Number(values.writers)
  const flushMs = values["flush-ms"] === undefined ? undefined : Number(values["flush-ms"])
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600 || !Number.isInteger(senders) || senders < 2 || senders > 512 ||
    (writers !== undefined && (!Number.isInteger(writers) || writers < 1 || writers > 32)) ||
    (flushMs !== undefined && (!Number.isFinite(flushMs) || flushMs < 0 || flushMs > 1000))) {
    console.error(`--seconds must be 1–600, --senders 2–512, --writers 1–32, --flush-ms 0–1000\n${USAGE}`)
    process.exit(2)
  }
  return { seconds, senders, writers, flushMs, json: values.json === true }
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

const DEFAULT_SENDERS = 24
const GOAL_RATE = 3_000
const GOAL_P99_MS = 50
// Enough messages that senders never run dry: 3 statuses each, far above the goal rate.
const MESSAGES_PER_SECOND = 6_000

/** An account that never limits: the database, not Meta's limits, is measured. */
const account = unlimitedAccount("bench", { wabaId: "waba-bench", phoneNumberId: "pn-bench", displayPhoneNumber: "+1 555-078-3881" })

/** A running campaign of `total` contacts, all claimed and accepted by "Meta" with wamids; returns the wamids. */
const seed = (storage: Ports.Storage.StorageShape, total: number) =>
  Effect.gen(function*() {
    const now = new Date()
    yield* storage.saveAccount(account)
    const created = yield* storage.createCampaign({ name: "bench", accountName: "bench", templateName: "t", language: "cs", note: null }, now)
    const running = Result.getOrThrow(Campaign.start(created.lifecycle, { ...Campaign.emptyCounts, initial: total }, now))
    yield* storage.updateCampaignLifecycle(created.id, "draft", running)
    for (let start = 0; start < total; start += 20_000) {
      yield* storage.addCampaignContacts(created.id, Array.from({ length: Math.min(20_000, total - start) }, (_, i) => {
        const recipient = `420${600_000_000 + start + i}`
        return { phone: `+${recipient}`, recipient, parameters: { "1": "pane" } }
      }), now)
    }
    const wamids: Array<string> = []
    for (;;) {
      const { claimed } = yield* storage.claim({ account, limit: 1_000, leaseMs: 600_000, owner: "bench", now, horizonMs: 3_600_000 })
      if (claimed.length === 0) break
      const outcomes = claimed.map(({ contact }) => ({
        contactId: contact.id,
        event: { _tag: "Accepted", wamid: `wamid.HBgLNDIwNjAxMDAwMDAwFQIAERgS${contact.id}`, waId: contact.recipient } as const
      }))
      yield* storage.recordOutcomes(outcomes, now)
      for (const o of outcomes) wamids.push(o.event.wamid)
    }
    return { campaignId: created.id, wamids }
  })

/** What the receiver asked of storage: batches and their sizes and durations. */
const flushes = { batches: 0, reports: 0, totalMs: 0, maxMs: 0 }

/** The storage, with every `applyStatuses` batch counted and timed. */
const timedStorage = Layer.effect(Ports.Storage.Storage, Effect.map(Effect.service(Ports.Storage.Storage), (s): Ports.Storage.StorageShape => ({
  ...s,
  applyStatuses: (reports, now) => {
    const started = performance.now()
    return Effect.ensuring(s.applyStatuses(reports, now), Effect.sync(() => {
      const ms = performance.now() - started
      flushes.batches++
      flushes.reports += reports.length
      flushes.totalMs += ms
      flushes.maxMs = Math.max(flushes.maxMs, ms)
    }))
  }
})))

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN

const runWorkers = (inputs: ReadonlyArray<SenderInput>) =>
  Promise.all(inputs.map((input) => new Promise<SenderOutput>((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: input })
    worker.once("message", (output: SenderOutput) => resolve(output))
    worker.once("error", reject)
  })))

// ---------------------------------------------------------------------------------------------------------------
// The run

const run = (options: Options) =>
  Effect.gen(function*() {
    const dataDir = yield* Effect.acquireRelease(
      Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "megaphone-bench-webhook-"))),
      (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
    )
    const notes = { checkpoints: 0 }
    const log = (line: string) => {
      if (/checkpoint starting/.test(line)) notes.checkpoints++
      if (/WARNING|ERROR|FATAL|PANIC/.test(line)) process.stderr.write(`postgres: ${line}\n`)
    }
    const secret = randomBytes(16).toString("hex")
    process.stderr.write(`starting the embedded PostgreSQL in ${dataDir}\n`)
    const receiverLog: Array<string> = []
    const app = HttpRouter.serve(Receiver.routes, { disableListenLog: true, disableLogger: true }).pipe(
      Layer.provideMerge(Receiver.layer({
        appSecret: Redacted.make(secret),
        verifyToken: Redacted.make(randomBytes(8).toString("hex")),
        applyTemplateStatus: () => Effect.succeed({ paused: [], resumed: [] }),
        ...(options.writers === undefined ? {} : { writers: options.writers }),
        ...(options.flushMs === undefined ? {} : { flushEveryMs: options.flushMs }),
        log: (line) => receiverLog.push(line)
      })),
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
      Layer.provideMerge(timedStorage),
      Layer.provideMerge(Database.layer({ _tag: "Embedded", dataDir }, { maxConnections: 8 }, log))
    )
    return yield* Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      const receiver = yield* Receiver.WebhookReceiver
      const address = (yield* HttpServer.HttpServer).address
      if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
      const url = `http://127.0.0.1:${address.port}${Receiver.PATH}`

      const messages = MESSAGES_PER_SECOND * options.seconds
      process.stderr.write(`seeding ${messages.toLocaleString("en")} accepted messages\n`)
      const { campaignId, wamids } = yield* seed(storage, messages)
      // As autovacuum would soon after a big import: without statistics the planner scans the whole table.
      const sql = yield* SqlClient.SqlClient
      yield* sql`analyze`
      // Write the seed's dirty pages out now, so the run does not pay for the set-up.
      yield* sql`checkpoint`
      const checkpointsBefore = notes.checkpoints
      Object.assign(flushes, { batches: 0, reports: 0, totalMs: 0, maxMs: 0 })

      const workers = 2
      process.stderr.write(`posting for ${options.seconds} s from ${options.senders} senders in ${workers} worker threads\n`)
      const outputs = yield* Effect.promise(() => runWorkers(Array.from({ length: workers }, (_, w) => ({
        url,
        secret,
        wamids: wamids.filter((_, i) => i % workers === w),
        loops: Math.ceil(options.senders / workers),
        seconds: options.seconds
      }))))
      // From the first POST to the last answer: worker start-up is not part of the figure.
      const elapsed = (Math.max(...outputs.map((o) => o.endedAt)) - Math.min(...outputs.map((o) => o.startedAt))) / 1000

      const latencies = outputs.flatMap((o) => o.latenciesMs).sort((a, b) => a - b)
      const statusesAcked = outputs.reduce((n, o) => n + o.statusesAcked, 0)
      const posts = outputs.reduce((n, o) => n + o.posts, 0)
      const refused: Record<string, number> = {}
      for (const o of outputs) for (const [code, n] of Object.entries(o.refused)) refused[code] = (refused[code] ?? 0) + n
      const counters = yield* receiver.counters
      const counts = yield* storage.campaignCounts(campaignId)
      const rate = statusesAcked / elapsed
      const p50 = percentile(latencies, 50)
      const p99 = percentile(latencies, 99)
      return {
        date: new Date().toISOString().slice(0, 10),
        command: `npx node bench/webhook/main.ts${options.seconds === 10 ? "" : ` --seconds ${options.seconds}`}` +
          `${options.senders === DEFAULT_SENDERS ? "" : ` --senders ${options.senders}`}` +
          `${options.writers === undefined ? "" : ` --writers ${options.writers}`}` +
          `${options.flushMs === undefined ? "" : ` --flush-ms ${options.flushMs}`}`,
        machine: machine(),
        senders: options.senders,
        seconds: Number(elapsed.toFixed(2)),
        posts,
        statusesAcked,
        statusesPerSecond: Math.round(rate),
        postsPerSecond: Math.round(posts / elapsed),
        latencyMs: {
          p50: Number(p50.toFixed(2)),
          p90: Number(percentile(latencies, 90).toFixed(2)),
          p99: Number(p99.toFixed(2)),
          max: Number((latencies.at(-1) ?? Number.NaN).toFixed(2))
        },
        refused,
        receiver: counters,
        finalCounts: { sent: counts.sent, delivered: counts.delivered, read: counts.read },
        checkpointsDuringRun: notes.checkpoints - checkpointsBefore,
        batches: {
          count: flushes.batches,
          meanStatuses: Number((flushes.reports / Math.max(1, flushes.batches)).toFixed(1)),
          meanMs: Number((flushes.totalMs / Math.max(1, flushes.batches)).toFixed(2)),
          maxMs: Number(flushes.maxMs.toFixed(2))
        },
        receiverLogLines: receiverLog.slice(0, 5),
        goals: {
          rate: { goal: GOAL_RATE, met: rate >= GOAL_RATE },
          p99: { goalMs: GOAL_P99_MS, met: p99 < GOAL_P99_MS }
        }
      }
    }).pipe(Effect.provide(app))
  })

type Report = Effect.Success<ReturnType<typeof run>>

const n = (value: number) => value.toLocaleString("en")

const table = (r: Report): string => {
  const rows: Array<readonly [string, string, string, string]> = [
    ["Statuses acknowledged (200, stored)", n(r.statusesAcked), "", ""],
    ["POSTs (1–5 statuses each, mean 3)", `${n(r.posts)} (${n(r.postsPerSecond)}/s)`, "", ""],
    ["Statuses per second", n(r.statusesPerSecond), `≥ ${n(GOAL_RATE)}`, r.goals.rate.met ? "yes" : "no"],
    ["Acknowledgement latency p50", `${r.latencyMs.p50.toFixed(1)} ms`, "", ""],
    ["Acknowledgement latency p90", `${r.latencyMs.p90.toFixed(1)} ms`, "", ""],
    ["Acknowledgement latency p99", `${r.latencyMs.p99.toFixed(1)} ms`, `< ${GOAL_P99_MS} ms`, r.goals.p99.met ? "yes" : "no"],
    ["Acknowledgement latency max", `${r.latencyMs.max.toFixed(1)} ms`, "", ""]
  ]
  const header = ["Measure", "Value", "Goal", "Met"] as const
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`
  const refused = Object.entries(r.refused).map(([code, count]) => `${count} × ${code}`).join(", ")
  return [
    `Webhook receiver benchmark, ${r.date}: ${r.senders} senders for ${r.seconds} s; durable embedded PostgreSQL`,
    `${r.machine.cores} × ${r.machine.cpu}, ${r.machine.memoryGiB} GiB, ${r.machine.platform}, Node ${r.machine.node}`,
    "",
    line(header),
    `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`,
    ...rows.map(line),
    "",
    `Non-200 answers: ${refused === "" ? "none" : refused}. Receiver counters: ${JSON.stringify(r.receiver)}.`,
    `Storage batches (applyStatuses): ${n(r.batches.count)}, mean ${r.batches.meanStatuses} statuses, ` +
      `mean ${r.batches.meanMs} ms, max ${r.batches.maxMs} ms.`,
    `Final contact states: ${JSON.stringify(r.finalCounts)}. Checkpoints during the run: ${r.checkpointsDuringRun}.`
  ].join("\n")
}

if (isMainThread) {
  const options = parseOptions(process.argv.slice(2))
  await runBenchmark(run(options), { json: options.json, table })
}
