/**
 * Every benchmark in one run, one table: figure, target, measured, and the ratio against the better peer
 * (pg-boss, graphile-worker) measured in the same run. Each benchmark runs as its own process with `--json`
 * (its progress on stderr), one after the other, so they never compete for the machine.
 *
 *   npm run bench                     # builds the binary first; about 15 minutes on 2 cores
 *   npx node bench/main.ts [--quick] [--json]   # --quick: smaller runs (about 5 minutes), for a smoke test
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { goalTable, machine } from "./support/main.ts"

const { values } = parseArgs({ options: { quick: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } })
if (values.help === true) {
  console.log("Usage: npx node bench/main.ts [--quick] [--json]")
  process.exit(0)
}
const quick = values.quick === true

/** Runs `node bench/NAME/main.ts ARGS --json` and returns its JSON report. */
const runJson = (name: string, args: ReadonlyArray<string>): Promise<unknown> =>
  new Promise((resolve, reject) => {
    process.stderr.write(`\n── bench/${name} ${args.join(" ")}\n`)
    const child = spawn(process.execPath, [path.join(import.meta.dirname, name, "main.ts"), ...args, "--json"], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.on("exit", (code) => {
      try {
        resolve(JSON.parse(out))
      } catch {
        reject(new Error(`bench/${name} exited with ${code} without a JSON report:\n${out.slice(-2_000)}`))
      }
    })
  })

interface PeerResult {
  readonly system: "megaphone" | "pg-boss" | "graphile-worker"
  readonly messagesPerSecond: number
  readonly durableSent: number
  readonly sentTwice: number
  readonly workerRssPeakMb: number
}
interface PeersReport {
  readonly contacts: number
  readonly numbers: number
  readonly workers: number
  readonly results: ReadonlyArray<PeerResult>
}
interface DispatchReport {
  readonly contacts: number
  readonly sustainedMps: number
  readonly simulatorMaxMps: number
  readonly firstSendMs: number
  readonly daemonRssPeakMb: number
}
interface WebhookReport {
  readonly statusesPerSecond: number
  readonly latencyMs: { readonly p99: number }
}
interface ImportReport {
  readonly rows: number
  readonly import: { readonly rowsPerSecond: number; readonly peakRssMb: number }
  readonly add: { readonly contactsPerSecond: number; readonly added: number }
}

const contacts = quick ? "8000" : "40000"
const peers1 = await runJson("peers", ["--contacts", contacts, "--numbers", "4", "--workers", "1"]) as PeersReport
const peers2 = await runJson("peers", ["--contacts", contacts, "--numbers", "4", "--workers", "2"]) as PeersReport
const dispatch = await runJson("dispatch", quick ? ["--contacts", "100000", "--seconds", "15"] : []) as DispatchReport
const webhook = await runJson("webhook", quick ? ["--seconds", "5"] : []) as WebhookReport
const imported = await runJson("import", quick ? ["--rows", "100000"] : []) as ImportReport

const n = (x: number, digits = 0) => x.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })

/** Megaphone's figure, and the ratio against the better of the peers. */
const versusPeers = (report: PeersReport): string => {
  const mine = report.results.find((r) => r.system === "megaphone")
  const better = report.results.filter((r) => r.system !== "megaphone").sort((a, b) => b.messagesPerSecond - a.messagesPerSecond)[0]
  if (mine === undefined) return "not measured"
  const peers = report.results.filter((r) => r.system !== "megaphone").map((r) => `${r.system} ${n(r.messagesPerSecond)}`).join(", ")
  return `${n(mine.messagesPerSecond)} msg/s` +
    (better === undefined ? "" : ` — ${n(mine.messagesPerSecond / better.messagesPerSecond, 2)}× the better peer (${peers})`)
}

const rows: Array<[string, string, string]> = [
  [`end to end, 1 daemon (${n(peers1.contacts)} contacts, ${peers1.numbers} numbers)`, "≥ 1,000 msg/s, ≥ 2× peers", versusPeers(peers1)],
  [`end to end, 2 daemons (same campaign)`, "≥ 2× peers", versusPeers(peers2)],
  [`1 number at 1,000 msg/s, ${n(dispatch.contacts)}-contact campaign`, "≥ 1,000 msg/s, ≤ 1,000 in any second",
    `${n(dispatch.sustainedMps)} msg/s, highest second ${n(dispatch.simulatorMaxMps)}`],
  ["daemon RSS on that campaign", "< 200 MB", `${n(dispatch.daemonRssPeakMb)} MB`],
  ["daemon start → first send", "", `${n(dispatch.firstSendMs)} ms`],
  ["webhook statuses/s, acknowledgement p99", "≥ 3,000/s, < 50 ms", `${n(webhook.statusesPerSecond)}/s, p99 ${n(webhook.latencyMs.p99, 1)} ms`],
  [`directory import (${n(imported.rows)} rows, Windows-1250 CSV)`, "1M rows < 30 s, < 300 MB", `${n(imported.import.rowsPerSecond)} rows/s, peak ${n(imported.import.peakRssMb)} MB`],
  [`add contacts from a filter (${n(imported.add.added)})`, "1M < 30 s", `${n(imported.add.contactsPerSecond)} contacts/s`]
]
const date = new Date().toISOString()
if (values.json === true) {
  console.log(JSON.stringify({ machine: machine(), date, quick, peers: [peers1, peers2], dispatch, webhook, import: imported }, null, 2))
} else {
  console.log(`\n${goalTable([`Megaphone benchmarks${quick ? " (--quick)" : ""}`], machine(), date, rows)}`)
}
