/**
 * vitest globalSetup: one embedded PostgreSQL cluster per test run and, in parallel, an "external" server —
 * the one named by MEGAPHONE_TEST_DATABASE_URL, or a throwaway cluster of the system's PostgreSQL
 * (/usr/lib/postgresql/<version>/bin) — handed to the workers with `provide` (read them through ./postgres.ts).
 * Everything started here is stopped and every temporary directory removed at the end of the run.
 */
import { execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Redacted, Scope } from "effect"
import type { TestProject } from "vitest/node"
import * as EmbeddedPostgres from "../../src/storage/embedded/EmbeddedPostgres.ts"
import type { ServerAvailability, TestServers } from "./postgres.ts"

/** Environment variable naming an external server for the tests (it must allow CREATE DATABASE); `none` skips it. */
export const EXTERNAL_URL_ENV = "MEGAPHONE_TEST_DATABASE_URL"

type Teardown = () => Promise<void>

interface Started {
  readonly server: ServerAvailability
  readonly teardown: Teardown
}

// Plenty of connections: test files run in parallel, each with its own pool.
const TEST_SETTINGS = { max_connections: "300" }

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(2)} s`

const startEmbedded = async (root: string): Promise<Started> => {
  const began = performance.now()
  const scope = Effect.runSync(Scope.make())
  const dataDir = path.join(root, "embedded")
  const logs: Array<string> = []
  try {
    const info = await Effect.runPromise(EmbeddedPostgres.start({
      dataDir, database: "postgres", durable: false, settings: TEST_SETTINGS, log: (line) => logs.push(line)
    }).pipe(Scope.provide(scope)))
    return {
      server: { available: true, adminUrl: Redacted.value(info.url), description: `embedded PostgreSQL on 127.0.0.1:${info.port}, started in ${seconds(began)}` },
      teardown: () => Effect.runPromise(Scope.close(scope, Exit.void))
    }
  } catch (cause) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    const reason = `the embedded PostgreSQL did not start: ${cause instanceof Error ? cause.message : String(cause)}`
    return { server: { available: false, reason: `${reason}\n${logs.slice(-10).join("\n")}` }, teardown: async () => {} }
  }
}

const run = (file: string, args: ReadonlyArray<string>, asPostgres: boolean): Promise<string> => {
  // PostgreSQL refuses root: run the system binaries as the postgres user, as Debian's own scripts do.
  const [command, argv] = asPostgres ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args]
  return new Promise((resolve, reject) => {
    execFile(command, argv, { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LC_ALL: "C" } },
      (error, stdout, stderr) => error ? reject(new Error(`${file} failed: ${stderr.trim() || error.message}`)) : resolve(stdout))
  })
}

/** The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl, if any. */
const systemPostgres = async (): Promise<{ bin: string; version: string } | undefined> => {
  const base = "/usr/lib/postgresql"
  const versions = await fs.readdir(base).catch(() => [])
  for (const version of versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))) {
    const bin = path.join(base, version, "bin")
    const usable = await Promise.all(["initdb", "pg_ctl", "postgres"].map((name) => fs.access(path.join(bin, name), fs.constants.X_OK)))
      .then(() => true, () => false)
    if (usable) return { bin, version }
  }
  return undefined
}

const postgresIds = async (): Promise<{ uid: number; gid: number } | undefined> => {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"], false), run("id", ["-g", "postgres"], false)])
    return { uid: Number.parseInt(uid, 10), gid: Number.parseInt(gid, 10) }
  } catch {
    return undefined
  }
}

const startSystemCluster = async (root: string): Promise<Started> => {
  const began = performance.now()
  const found = await systemPostgres()
  if (found === undefined) {
    return {
      server: { available: false, reason: `${EXTERNAL_URL_ENV} is not set and no system PostgreSQL was found under /usr/lib/postgresql/*/bin` },
      teardown: async () => {}
    }
  }
  const asRoot = process.getuid?.() === 0
  const ids = asRoot ? await postgresIds() : undefined
  if (asRoot && ids === undefined) {
    return {
      server: { available: false, reason: `${EXTERNAL_URL_ENV} is not set and, running as root, there is no postgres user to run the system PostgreSQL ${found.version}` },
      teardown: async () => {}
    }
  }
  const dir = path.join(root, "external")
  const dataDir = path.join(dir, "data")
  await fs.mkdir(dir, { mode: 0o700 })
  const password = randomBytes(18).toString("base64url")
  await fs.writeFile(path.join(dir, "password"), `${password}\n`, { mode: 0o600 })
  if (ids !== undefined) {
    await fs.chown(dir, ids.uid, ids.gid)
    await fs.chown(path.join(dir, "password"), ids.uid, ids.gid)
  }
  const tool = (name: string) => path.join(found.bin, name)
  let started = false
  const stop = async () => {
    if (started) await run(tool("pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"], asRoot).catch(() => undefined)
  }
  try {
    await run(tool("initdb"), [
      "-D", dataDir, "--username=postgres", `--pwfile=${path.join(dir, "password")}`, "--auth=scram-sha-256",
      "--encoding=UTF8", "--locale=C.UTF-8", "--lc-messages=C", "--no-sync"
    ], asRoot)
    const port = await EmbeddedPostgres.freePort()
    // pg_ctl passes -o through a shell: '' is an empty socket directory list, i.e. TCP on loopback only.
    const options = [
      `-p ${port}`, "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''", "-c fsync=off",
      "-c synchronous_commit=off", "-c full_page_writes=off", `-c max_connections=${TEST_SETTINGS.max_connections}`
    ].join(" ")
    started = true
    await run(tool("pg_ctl"), ["-D", dataDir, "-l", path.join(dir, "server.log"), "-o", options, "-w", "-t", "30", "start"], asRoot)
    return {
      server: {
        available: true,
        adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
        description: `system PostgreSQL ${found.version} on 127.0.0.1:${port}, started in ${seconds(began)}`
      },
      teardown: stop
    }
  } catch (cause) {
    await stop()
    const log = await fs.readFile(path.join(dir, "server.log"), "utf8").catch(() => "")
    const reason = `the system PostgreSQL ${found.version} did not start: ${cause instanceof Error ? cause.message : String(cause)}`
    return { server: { available: false, reason: `${reason}\n${log.trim().split("\n").slice(-10).join("\n")}` }, teardown: async () => {} }
  }
}

// On a server we do not own, drop what this run created; on our own throwaway clusters the directory goes anyway.
const dropRunDatabases = (adminUrl: string, prefix: string): Promise<void> =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const rows = yield* sql<{ readonly datname: string }>`
      select datname from pg_database where starts_with(datname, ${prefix})`
    for (const { datname } of rows) yield* sql.unsafe(`drop database if exists "${datname}" with (force)`)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(adminUrl), maxConnections: 1 }))))

const startExternal = async (root: string, prefix: string): Promise<Started> => {
  const fromEnv = process.env[EXTERNAL_URL_ENV]
  if (fromEnv === "none") return { server: { available: false, reason: `${EXTERNAL_URL_ENV}=none` }, teardown: async () => {} }
  if (fromEnv === undefined || fromEnv === "") return startSystemCluster(root)
  const host = URL.canParse(fromEnv) ? new URL(fromEnv).host : "?"
  return {
    server: { available: true, adminUrl: fromEnv, description: `${EXTERNAL_URL_ENV} (${host})` },
    teardown: () => dropRunDatabases(fromEnv, prefix).catch((cause: unknown) => {
      console.warn(`Could not drop this run's databases (${prefix}*) on ${host}: ${String(cause)}`)
    })
  }
}

// If vitest dies without tearing down (SIGTERM from a timeout, kill -9), this detached shell stops both servers
// (fast shutdown via their postmaster.pid) and removes the directory, so no test run leaves processes behind.
const WATCHDOG = `
  while kill -0 "$1" 2>/dev/null; do sleep 1; done
  for pidfile in "$2/embedded/postmaster.pid" "$2/external/data/postmaster.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(head -n 1 "$pidfile")
    kill -INT "$pid" 2>/dev/null
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  done
  rm -rf "$2"`

const startWatchdog = (root: string): (() => void) => {
  const watchdog = spawn("sh", ["-c", WATCHDOG, "megaphone-test-watchdog", String(process.pid), root], { detached: true, stdio: "ignore" })
  watchdog.unref()
  return () => {
    // Its own process group (detached): stop the shell and the sleep it may be in.
    if (watchdog.pid !== undefined && watchdog.exitCode === null) {
      try {
        process.kill(-watchdog.pid, "SIGTERM")
      } catch {
        // already gone
      }
    }
  }
}

/** Starts the servers and provides them as `megaphonePostgres`; returns the teardown vitest runs at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "megaphone-test-pg-"))
  await fs.chmod(root, 0o755) // as root, both servers run as user postgres, which must enter this directory
  const stopWatchdog = startWatchdog(root)
  const databasePrefix = `megaphone_test_${randomBytes(4).toString("hex")}_`
  const [embedded, external] = await Promise.all([startEmbedded(root), startExternal(root, databasePrefix)])
  const servers: TestServers = { databasePrefix, embedded: embedded.server, external: external.server }
  project.provide("megaphonePostgres", servers)
  for (const [kind, server] of Object.entries({ embedded: embedded.server, external: external.server })) {
    console.info(`PostgreSQL for tests, ${kind}: ${server.available ? server.description : `unavailable — ${server.reason}`}`)
  }
  return async () => {
    stopWatchdog()
    await Promise.all([embedded.teardown(), external.teardown()])
    await fs.rm(root, { recursive: true, force: true })
  }
}
