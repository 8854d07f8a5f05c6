// How every benchmark ends: print its report (a table, or one JSON document), clean up on Ctrl+C, and set the
// exit code — a missed goal is a finding for docs/benchmarks.md, not a failure.
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Cause, Effect, Exit, type Scope } from "effect"
import * as EmbeddedPostgres from "../../packages/adapters/src/storage/embedded/EmbeddedPostgres.ts"

/** Run a benchmark to its report; Ctrl+C closes its scope (servers stopped, temp data deleted) and exits 130. */
export const runBenchmark = async <R, E>(
  run: Effect.Effect<R, E, Scope.Scope>,
  options: { readonly json: boolean; readonly table: (report: R) => string }
): Promise<void> => {
  const exit = await Effect.runPromiseExit(
    run.pipe(
      Effect.map((report) => ({ _tag: "Done", report }) as const),
      Effect.raceFirst(Effect.map(EmbeddedPostgres.awaitShutdownSignal, (signal) => ({ _tag: "Signal", signal }) as const)),
      Effect.scoped
    )
  )
  if (Exit.isFailure(exit)) {
    const errors = Cause.prettyErrors(exit.cause)
    console.error(errors.length > 0 ? errors.map((e) => e.message).join("\n") : Cause.pretty(exit.cause))
    process.exitCode = 1
  } else if (exit.value._tag === "Signal") {
    console.error(`\n${exit.value.signal}: stopped; everything it started was cleaned up.`)
    process.exitCode = 130
  } else {
    console.log(options.json ? JSON.stringify(exit.value.report, null, 2) : options.table(exit.value.report))
  }
}

/** The machine a benchmark ran on, for its report. */
export interface Machine {
  readonly cores: number
  readonly cpu: string
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
}

/** Describe this machine: figures only mean something next to the cores and memory they came from. */
export const machine = (): Machine => {
  const cpus = os.cpus()
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Progress on stderr: one rewritten line on a terminal, a line per tenth otherwise (CI logs stay short).

/** A progress line for `total` items: rewritten in place on a terminal, one line per tenth otherwise. */
export const progress = (label: string, total: number) => {
  const started = performance.now()
  const tty = process.stderr.isTTY
  let lastDraw = 0
  let lastTenth = 0
  const line = (done: number) => {
    const seconds = (performance.now() - started) / 1000
    const rate = seconds > 0 ? Math.round(done / seconds) : 0
    return `${label}: ${done.toLocaleString("en")}/${total.toLocaleString("en")} (${rate.toLocaleString("en")}/s, ${seconds.toFixed(1)} s)`
  }
  return {
    update: (done: number) => {
      const now = performance.now()
      if (tty && now - lastDraw > 200) {
        lastDraw = now
        process.stderr.write(`\r\x1b[2K${line(done)}`)
      } else if (!tty && Math.floor((done * 10) / total) > lastTenth) {
        lastTenth = Math.floor((done * 10) / total)
        process.stderr.write(`${line(done)}\n`)
      }
    },
    finish: (done: number) => process.stderr.write(tty ? `\r\x1b[2K${line(done)}\n` : lastTenth < 10 ? `${line(done)}\n` : "")
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reports

/** A report: its title lines, the machine, then one aligned line per figure (what, goal, measured). */
export const goalTable = (title: ReadonlyArray<string>, machine: Machine, date: string, rows: ReadonlyArray<readonly [string, string, string]>): string => {
  const what = Math.max(...rows.map((r) => r[0].length))
  const goal = Math.max(...rows.map((r) => r[1].length))
  return [
    ...title,
    `${machine.cores} cores, ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${date}`,
    "",
    ...rows.map(([a, b, c]) => `${a.padEnd(what)}  ${b.padEnd(goal)}  ${c}`)
  ].join("\n")
}

// ---------------------------------------------------------------------------------------------------------------
// Memory of a child process (Linux /proc)

const statusKb = async (pid: number, field: "VmRSS" | "VmHWM"): Promise<number> => {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8").catch(() => "")
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN)
}

/** The resident memory of a process in MB, from /proc (Linux). */
export const rssMb = async (pid: number): Promise<number> => (await statusKb(pid, "VmRSS")) / 1024

/** The highest resident memory of a process so far in MB (the kernel's high-water mark). */
export const peakRssMb = async (pid: number): Promise<number> => (await statusKb(pid, "VmHWM")) / 1024

const CLOCK_TICKS = 100 // USER_HZ: /proc counts CPU time in 1/100 s on Linux

/** The CPU time (user + system) a process has used so far, in seconds, from /proc (Linux); 0 once it is gone. */
export const cpuSeconds = async (pid: number): Promise<number> => {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "")
  // The fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / CLOCK_TICKS
}

/** The CPU time all processes named `name` (e.g. every PostgreSQL backend) have used so far, by pid, in seconds. */
export const cpuSecondsByName = async (name: string): Promise<ReadonlyMap<number, number>> => {
  const pids = (await fs.readdir("/proc")).filter((entry) => /^\d+$/.test(entry)).map(Number)
  const found = new Map<number, number>()
  for (const pid of pids) {
    const comm = (await fs.readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim()
    if (comm === name) found.set(pid, await cpuSeconds(pid))
  }
  return found
}

/** The machine's busy CPU time so far (every core, every process), in seconds, from /proc/stat. */
export const machineBusySeconds = async (): Promise<number> => {
  const line = (await fs.readFile("/proc/stat", "utf8")).split("\n")[0] ?? ""
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.split(/\s+/).slice(1).map(Number)
  return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures

/** A fresh temporary directory, deleted when the benchmark's scope closes; the embedded server may enter it. */
export const temporaryDirectory = (name: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const created = await fs.mkdtemp(path.join(os.tmpdir(), `megaphone-bench-${name}-`))
      await fs.chmod(created, 0o755) // the embedded server runs as `postgres` under root and must enter it
      return created
    }),
    (created) => Effect.promise(() => fs.rm(created, { recursive: true, force: true }))
  )

/** The seed's template as Meta lists it: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena." (the demo's). */
export { ORDER_DONE } from "../../packages/daemon/src/demo/Demo.ts"
