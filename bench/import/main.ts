/**
 * The import benchmark (issue 7): the production `megaphone` binary importing a 1,000,000-row CSV as Czech Excel
 * saves it (Windows-1250, `;`, CRLF, diacritics, phones written every which way) into the directory of a durable
 * embedded PostgreSQL, then adding every one of those contacts to a campaign from a filter. Each step is one run
 * of the CLI — the production binary run as an executable, so with the Node options of its interpreter line —
 * timed from spawn to exit, with its peak resident memory (the kernel's high-water mark). BENCH_CLI_NODE_OPTIONS
 * adds Node options (e.g. to compare heap settings).
 *
 *   npm run bench:import -- [--rows 1000000] [--json]
 *
 * Goals: the import in < 30 s with peak RSS < 300 MB, and the 1,000,000 contacts added from a filter in < 30 s.
 */
import { spawn } from "node:child_process"
import { createWriteStream } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { Ports, Template } from "@megaphone/core"
import { Effect, Redacted, Result } from "effect"
import * as Database from "../../packages/adapters/src/storage/Database.ts"
import * as EmbeddedPostgres from "../../packages/adapters/src/storage/embedded/EmbeddedPostgres.ts"
import { account as accountFixture } from "../../packages/adapters/test/support/fixtures.ts"
import { windows1250 } from "../../packages/daemon/src/contacts/Windows1250.ts"
import { goalTable, type Machine, machine, ORDER_DONE, peakRssMb, runBenchmark, temporaryDirectory } from "../support/main.ts"

const USAGE = `Usage: npm run bench:import -- [--rows N] [--json]
  --rows N   good rows in the CSV (default 1,000,000), valid Czech mobiles (601 xxx xxx); after every
             thousandth, one more row with a bad phone number (rejected, with its line)
  --json     print one JSON document instead of the table`

interface Options {
  readonly rows: number
  readonly json: boolean
}

const parseOptions = (argv: ReadonlyArray<string>): Options => {
  const { values } = parseArgs({ args: [...argv], options: { rows: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } })
  if (values.help === true) {
    console.log(USAGE)
    process.exit(0)
  }
  const rows = Number(values.rows ?? 1_000_000)
  if (!Number.isInteger(rows) || rows < 1_000 || rows > 2_000_000) {
    console.error(`--rows takes a whole number from 1,000 to 2,000,000 (the Czech mobile ranges 601 and 602), not ${values.rows}\n${USAGE}`)
    process.exit(2)
  }
  return { rows, json: values.json === true }
}

const bin = process.env["BENCH_BIN"] ?? path.join(import.meta.dirname, "..", "..", "packages", "daemon", "dist", "megaphone.mjs")

// ---------------------------------------------------------------------------------------------------------------
// The file: what a Czech office exports from Excel

const HEADER = ["Telefon", "Oslovení", "Jméno", "Příjmení", "Číslo objednávky", "Město"]
const MAP = ["Telefon=phone", "Oslovení=osloveni", "Jméno=jmeno", "Příjmení=prijmeni", "Číslo objednávky=objednavka", "Město=mesto"]
const FIRST = ["Jana", "Petr", "Tomáš", "Lucie", "Jiří", "Kateřina", "Zdeněk", "Věra", "Michal", "Eliška"]
const LAST = ["Novák", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák", "Němec", "Pokorný", "Růžička"]
const TOWNS = ["Praha", "Brno", "Ostrava", "Plzeň", "Liberec", "Olomouc", "České Budějovice", "Hradec Králové", "Ústí nad Labem", "Zlín"]
const SALUTATIONS = ["pane", "paní", ""]

/** The n-th row: a distinct Czech mobile number in one of the ways people write it, or a bad one. */
const row = (n: number, bad = false): string => {
  const national = String(601_000_000 + n)
  const spaced = `${national.slice(0, 3)} ${national.slice(3, 6)} ${national.slice(6)}`
  const phone = bad
    ? `12${national.slice(2)}x` // letters and a non-Czech prefix: rejected with its line
    : [`+420 ${spaced}`, `00420${national}`, national, `(+420) ${national.slice(0, 3)}-${national.slice(3, 6)}-${national.slice(6)}`][n % 4]
  const name = FIRST[n % FIRST.length] ?? ""
  const town = TOWNS[(n >> 3) % TOWNS.length] ?? ""
  return [phone, SALUTATIONS[n % 3], name, LAST[(n >> 1) % LAST.length], `2026-${String(n).padStart(7, "0")}`, town.includes(" ") ? `"${town}"` : town]
    .join(";")
}

const writeCsv = async (file: string, rows: number): Promise<void> => {
  const out = createWriteStream(file)
  const write = (chunk: Buffer) => (out.write(chunk) ? Promise.resolve() : new Promise<void>((resolve) => out.once("drain", () => resolve())))
  await write(windows1250(`${HEADER.join(";")}\r\n`))
  for (let start = 0; start < rows; start += 10_000) {
    let text = ""
    for (let n = start; n < Math.min(rows, start + 10_000); n++) {
      text += `${row(n)}\r\n`
      // After every thousandth good row, one bad one: the rejects must not cost a good contact.
      if (n % 1_000 === 999) text += `${row(n, true)}\r\n`
    }
    await write(windows1250(text))
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())))
}

// ---------------------------------------------------------------------------------------------------------------
// Running the CLI

interface Run {
  readonly seconds: number
  readonly peakRssMb: number
  readonly stdout: string
}

/** One run of `megaphone ARGS` to its exit, timed, its memory's high-water mark read until it exits. */
const megaphone = (args: ReadonlyArray<string>, env: Record<string, string>, cwd: string): Promise<Run> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const nodeOptions = process.env["BENCH_CLI_NODE_OPTIONS"]
    // Run as a user runs it (`npx megaphone`, `./megaphone.mjs`): through its interpreter line and the Node options there.
    const child = spawn(bin, args, {
      cwd,
      env: { PATH: process.env["PATH"] ?? "", ...env, ...(nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions }) },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let peak = 0
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4_000)
      if (process.env["BENCH_VERBOSE"] !== undefined) process.stderr.write(chunk)
    })
    const poll = setInterval(() => {
      void peakRssMb(child.pid ?? 0).then((mb) => (peak = Number.isNaN(mb) ? peak : Math.max(peak, mb)))
    }, 50)
    child.on("exit", (code) => {
      clearInterval(poll)
      const seconds = (performance.now() - started) / 1000
      if (code === 0) resolve({ seconds, peakRssMb: peak, stdout })
      else reject(new Error(`megaphone ${args.slice(0, 2).join(" ")} exited with ${code}:\n${stderr}`))
    })
  })

// ---------------------------------------------------------------------------------------------------------------
// The run

interface Report {
  readonly machine: Machine
  readonly date: string
  readonly rows: number
  readonly fileMb: number
  readonly import: { readonly seconds: number; readonly rowsPerSecond: number; readonly peakRssMb: number; readonly summary: unknown }
  readonly add: { readonly seconds: number; readonly contactsPerSecond: number; readonly peakRssMb: number; readonly added: number; readonly rejected: number }
}

const bench = (options: Options) =>
  Effect.gen(function*() {
    const dir = yield* temporaryDirectory("import")
    const file = path.join(dir, "kontakty.csv")
    process.stderr.write(`writing ${options.rows.toLocaleString("en")} rows of Windows-1250 CSV …\n`)
    yield* Effect.promise(() => writeCsv(file, options.rows))
    const fileMb = (yield* Effect.promise(() => fs.stat(file))).size / 1024 ** 2

    process.stderr.write("starting the embedded PostgreSQL (durable) …\n")
    const info = yield* EmbeddedPostgres.start({ dataDir: path.join(dir, "data"), log: () => undefined })
    const env = { MEGAPHONE_DATABASE_URL: Redacted.value(info.url) }
    yield* Effect.promise(() => megaphone(["migrate"], env, dir))

    process.stderr.write("megaphone contacts import …\n")
    const imported = yield* Effect.promise(() =>
      megaphone(["contacts", "import", file, ...MAP.flatMap((m) => ["--map", m]), "--json"], env, dir))

    // An account with the seed's template synced, and a campaign on it.
    yield* Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      const now = new Date()
      yield* storage.saveAccount(accountFixture("bench", { messagingLimit: "unlimited", createdAt: now, updatedAt: now }))
      const account = yield* storage.getAccount("bench")
      if (account._tag === "None") return yield* Effect.die(new Error("the account vanished"))
      yield* storage.syncTemplates(account.value.wabaId, [Result.getOrThrow(Template.decode(ORDER_DONE))], now)
    }).pipe(Effect.provide(Database.layer({ _tag: "Server", url: info.url }, { maxConnections: 1 })))
    const created = yield* Effect.promise(() =>
      megaphone(["campaigns", "create", "--name", "bench", "--account", "bench", "--template", "order_done", "--json"], env, dir))
    const campaign = (JSON.parse(created.stdout) as { readonly id: string }).id

    process.stderr.write("megaphone campaigns add-contacts --where … …\n")
    const added = yield* Effect.promise(() =>
      megaphone([
        "campaigns", "add-contacts", campaign, "--where", "mesto is not empty", "--phone-column", "phone",
        "--var", "1=osloveni", "--var", "2=prijmeni", "--var", "3=objednavka", "--default", "1=zákazníku", "--json"
      ], env, dir))
    const addSummary = JSON.parse(added.stdout) as { readonly added: number; readonly rejected: ReadonlyArray<unknown> | number }
    const report: Report = {
      machine: machine(),
      date: new Date().toISOString(),
      rows: options.rows,
      fileMb,
      import: {
        seconds: imported.seconds,
        rowsPerSecond: options.rows / imported.seconds,
        peakRssMb: imported.peakRssMb,
        summary: JSON.parse(imported.stdout)
      },
      add: {
        seconds: added.seconds,
        contactsPerSecond: addSummary.added / added.seconds,
        peakRssMb: added.peakRssMb,
        added: addSummary.added,
        rejected: typeof addSummary.rejected === "number" ? addSummary.rejected : addSummary.rejected.length
      }
    }
    return report
  })

const table = (r: Report): string => {
  const n = (x: number, digits = 0) => x.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })
  const rows: Array<[string, string, string]> = [
    ["import: wall time", "< 30 s", `${n(r.import.seconds, 1)} s (${n(r.import.rowsPerSecond)} rows/s)`],
    ["import: peak RSS", "< 300 MB", `${n(r.import.peakRssMb)} MB`],
    ["import: summary", "", JSON.stringify(r.import.summary).slice(0, 200)],
    ["add from a filter: wall time", "< 30 s", `${n(r.add.seconds, 1)} s (${n(r.add.contactsPerSecond)} contacts/s)`],
    ["add from a filter: peak RSS", "", `${n(r.add.peakRssMb)} MB`],
    ["add from a filter: added / rejected", "", `${n(r.add.added)} / ${n(r.add.rejected)}`]
  ]
  return goalTable(
    [`Import: ${n(r.rows)} rows (${n(r.fileMb, 1)} MB, Windows-1250, ';', CRLF) into the directory, then added to a campaign`],
    r.machine,
    r.date,
    rows
  )
}

const options = parseOptions(process.argv.slice(2))
await runBenchmark(bench(options), { json: options.json, table })
