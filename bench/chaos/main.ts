/**
 * `npm run chaos` (issue 10): a 20,000-contact campaign sent by 2 daemons while one of them is killed with
 * `kill -9` 20 times, PostgreSQL restarts twice, the template is paused and reinstated, and the simulator
 * injects 20 % faults with duplicated and reordered webhooks (bench/chaos/harness.ts). Prints one line of
 * figures (or one JSON document) and exits 0 only when every check held.
 *
 *   npx node bench/chaos/main.ts [--contacts 20000] [--daemons 2] [--kills 20] [--pg-restarts 2]
 *     [--fault-rate 0.2] [--seed 10] [--mps 100] [--minutes 15] [--json]
 *
 * The daemons are the production binary (`npm run build`; `npm run chaos` builds it first); CHAOS_BIN overrides it.
 * CHAOS_LOG_DIR=DIR keeps every daemon's and the simulator's log there.
 */
import * as path from "node:path"
import { parseArgs } from "node:util"
import { Effect } from "effect"
import { runBenchmark } from "../support/main.ts"
import { defaults, line, runChaos } from "./harness.ts"

const USAGE = `Usage: npx node bench/chaos/main.ts [--contacts N] [--daemons N] [--kills N] [--pg-restarts N] [--fault-rate R] [--seed N] [--mps N] [--minutes M] [--json]
  --contacts N     contacts in the campaign (default ${defaults.contacts.toLocaleString("en")}); the 24 h limit is 60 % of them
  --daemons N      daemon processes (default ${defaults.daemons})
  --kills N        kill -9 of a random daemon, each followed by its restart (default ${defaults.kills})
  --pg-restarts N  PostgreSQL restarts (default ${defaults.pgRestarts})
  --fault-rate R   share of sends answered with a fault (default ${defaults.faultRate})
  --seed N         the schedule's and the simulator's seed (default ${defaults.seed})
  --mps N          the account's messages/second (default ${defaults.mps})
  --kills-until R  the kills happen before this share of the contacts is settled (default ${defaults.killsUntil})
  --minutes M      fail if not finished within this (default ${defaults.budgetMs / 60_000})
  --json           print the whole report as JSON instead of the line`

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    contacts: { type: "string" },
    daemons: { type: "string" },
    kills: { type: "string" },
    "pg-restarts": { type: "string" },
    "fault-rate": { type: "string" },
    seed: { type: "string" },
    mps: { type: "string" },
    "kills-until": { type: "string" },
    minutes: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" }
  }
})
if (values.help === true) {
  console.log(USAGE)
  process.exit(0)
}
const number = (flag: string, value: string | undefined, fallback: number, min: number, max: number, whole = true): number => {
  const n = Number(value ?? fallback)
  if (!Number.isFinite(n) || (whole && !Number.isInteger(n)) || n < min || n > max) {
    console.error(`--${flag} takes ${whole ? "a whole number" : "a number"} from ${min} to ${max}, not ${value}\n${USAGE}`)
    process.exit(2)
  }
  return n
}

const bin = process.env["CHAOS_BIN"] ?? path.join(import.meta.dirname, "..", "..", "packages", "daemon", "dist", "megaphone.mjs")
const run = runChaos({
  bin,
  contacts: number("contacts", values.contacts, defaults.contacts, 100, 1_000_000),
  daemons: number("daemons", values.daemons, defaults.daemons, 1, 8),
  kills: number("kills", values.kills, defaults.kills, 0, 1_000),
  pgRestarts: number("pg-restarts", values["pg-restarts"], defaults.pgRestarts, 0, 100),
  faultRate: number("fault-rate", values["fault-rate"], defaults.faultRate, 0, 0.5, false),
  seed: number("seed", values.seed, defaults.seed, 0, 2 ** 31),
  mps: number("mps", values.mps, defaults.mps, 1, 1_000),
  killsUntil: number("kills-until", values["kills-until"], defaults.killsUntil, 0.05, 1, false),
  ...(process.env["CHAOS_LOG_DIR"] === undefined ? {} : { logDir: process.env["CHAOS_LOG_DIR"] }),
  budgetMs: number("minutes", values.minutes, defaults.budgetMs / 60_000, 1, 600, false) * 60_000
}).pipe(Effect.tap((report) => Effect.sync(() => (process.exitCode = report.ok ? 0 : 1))))
await runBenchmark(run, { json: values.json === true, table: line })
