// The embedded default database against real PostgreSQL processes: start, reuse, crash recovery, refusals.
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as EmbeddedPostgres from "../../../src/storage/embedded/EmbeddedPostgres.ts"

let root: string
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "megaphone-embedded-test-"))
  await fs.chmod(root, 0o755) // as root, the server runs as user postgres, which must enter this directory
})
afterAll(() => fs.rm(root, { recursive: true, force: true }))

let counter = 0
const newDir = () => path.join(root, `data-${++counter}`)

// Test clusters skip fsync and synchronous commit; the crash test turns durability back on.
const start = (dataDir: string, durable = false) => EmbeddedPostgres.start({ dataDir, durable })

/** Runs `use` against a started server and stops it afterwards. */
const withServer = <A>(
  dataDir: string,
  use: (info: EmbeddedPostgres.EmbeddedPostgresInfo) => Effect.Effect<A, unknown, PgClient.PgClient>,
  durable = false
) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const info = yield* start(dataDir, durable)
    return yield* use(info).pipe(Effect.provide(PgClient.layer({ url: info.url, maxConnections: 2 })))
  })))

const failureOf = async (dataDir: string): Promise<unknown> => {
  const exit = await Effect.runPromiseExit(Effect.scoped(start(dataDir)))
  if (Exit.isSuccess(exit)) throw new Error("expected the start to fail")
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  if (error === undefined || error._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return error.error
}

const postmasterPid = async (dataDir: string) =>
  Number.parseInt((await fs.readFile(path.join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0] ?? "", 10)

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const waitUntilDead = async (pid: number) => {
  for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 25))
  expect(isAlive(pid)).toBe(false)
}

/** A pid that certainly belongs to no process: one that has just exited. */
const deadPid = () => {
  const result = spawnSync("true")
  return result.pid ?? 999_999
}

describe("EmbeddedPostgres.start", () => {
  it("initialises a new data directory, serves queries and stops when the scope closes", async () => {
    const dataDir = newDir()
    let pid = 0
    const result = await withServer(dataDir, (info) => Effect.gen(function*() {
      pid = yield* Effect.promise(() => postmasterPid(dataDir))
      expect(info.dataDir).toBe(dataDir)
      expect(info.database).toBe("megaphone")
      expect(Redacted.value(info.url)).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${info.port}/megaphone$`))
      expect(String(info.url)).not.toContain(Redacted.value(info.url)) // printing the URL shows no password
      const sql = yield* PgClient.PgClient
      return yield* sql<{ readonly one: number }>`select 1 as one`
    }))
    expect(result).toEqual([{ one: 1 }])
    await waitUntilDead(pid)
    const passwordFile = await fs.stat(path.join(dataDir, EmbeddedPostgres.PASSWORD_FILE))
    expect(passwordFile.mode & 0o777).toBe(0o600)
    await expect(fs.access(path.join(dataDir, EmbeddedPostgres.OWNER_FILE))).rejects.toThrow()
  })

  it("reuses the cluster on the next start: data written before is still there", async () => {
    const dataDir = newDir()
    await withServer(dataDir, () => Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      yield* sql`create table note (body text not null)`
      yield* sql`insert into note (body) values (${"Dobrý den, Žofie"})`
    }))
    const rows = await withServer(dataDir, () => Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      return yield* sql<{ readonly body: string }>`select body from note`
    }))
    expect(rows).toEqual([{ body: "Dobrý den, Žofie" }])
  })

  it("creates UTF-8 databases with Unicode-aware lower(), upper() and normalize()", async () => {
    const [row] = await withServer(newDir(), () => Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      return yield* sql<{ readonly encoding: string; readonly provider: string; readonly lower: string; readonly upper: string; readonly nfc: boolean }>`
        select pg_encoding_to_char(encoding) as encoding, datlocprovider::text as provider,
               lower('ŽLUŤOUČKÝ KŮŇ ÚPĚL') as lower, upper('ďábelské ódy') as upper,
               normalize(U&'e\\0301', NFC) = U&'\\00E9' as nfc
        from pg_database where datname = current_database()`
    }))
    expect(row).toEqual({ encoding: "UTF8", provider: "b", lower: "žluťoučký kůň úpěl", upper: "ĎÁBELSKÉ ÓDY", nfc: true })
  })

  it("starts over a stale postmaster.pid whose process is gone", async () => {
    const dataDir = newDir()
    await withServer(dataDir, () => Effect.void)
    await fs.writeFile(path.join(dataDir, "postmaster.pid"), `${deadPid()}\n${dataDir}\n1700000000\n5432\n\n127.0.0.1\n  1234  5678\nready   \n`)
    const rows = await withServer(dataDir, () => Effect.flatMap(PgClient.PgClient, (sql) => sql`select 1 as one`))
    expect(rows).toEqual([{ one: 1 }])
  })

  it("recovers after the server was killed with SIGKILL", async () => {
    const dataDir = newDir()
    await withServer(dataDir, () => Effect.gen(function*() {
      const sql = yield* PgClient.PgClient
      yield* sql`create table survivor (id int)`
      yield* sql`insert into survivor values (42)`
      const pid = yield* Effect.promise(() => postmasterPid(dataDir))
      process.kill(pid, "SIGKILL")
      yield* Effect.promise(() => waitUntilDead(pid))
    }), true)
    const rows = await withServer(dataDir, () => Effect.flatMap(PgClient.PgClient, (sql) => sql`select id from survivor`), true)
    expect(rows).toEqual([{ id: 42 }])
  })

  it("stops the server a killed Megaphone process left running, then starts", async () => {
    const dataDir = newDir()
    await withServer(dataDir, () => Effect.void) // initialise here, so the child only has to start
    const modulePath = fileURLToPath(new URL("../../../src/storage/embedded/EmbeddedPostgres.ts", import.meta.url))
    const script = `
      import { Effect } from "effect"
      import * as EmbeddedPostgres from ${JSON.stringify(modulePath)}
      await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        yield* EmbeddedPostgres.start({ dataDir: ${JSON.stringify(dataDir)}, durable: false })
        console.log("ready")
        yield* Effect.never
      })))`
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("../../..", import.meta.url)), stdio: ["ignore", "pipe", "inherit"]
    })
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve())
      child.once("exit", (code) => reject(new Error(`the child exited with ${code}`)))
    })
    const orphan = await postmasterPid(dataDir)
    child.kill("SIGKILL")
    await new Promise((resolve) => child.once("exit", resolve))
    expect(isAlive(orphan)).toBe(true) // the server outlives a kill -9 of its Megaphone

    const notes: Array<string> = []
    await Effect.runPromise(Effect.scoped(EmbeddedPostgres.start({ dataDir, durable: false, log: (line) => notes.push(line) })))
    expect(isAlive(orphan)).toBe(false)
    expect(notes.join("\n")).toContain(`stopping PostgreSQL pid ${orphan}`)
  }, 60_000) // a child process starting Node and PostgreSQL, then a second start: seconds on a loaded machine

  it("refuses a directory with someone else's files and leaves them untouched", async () => {
    const dataDir = newDir()
    await fs.mkdir(path.join(dataDir, "photos"), { recursive: true })
    await fs.writeFile(path.join(dataDir, "notes.txt"), "do not delete me")
    const before = (await fs.readdir(dataDir)).sort()

    const error = await failureOf(dataDir)
    expect(error).toBeInstanceOf(EmbeddedPostgres.DataDirNotACluster)
    expect((error as EmbeddedPostgres.DataDirNotACluster).message).toMatch(/not a PostgreSQL data directory.*notes\.txt.*MEGAPHONE_DATA_DIR/s)
    expect((await fs.readdir(dataDir)).sort()).toEqual(before)
    expect(await fs.readFile(path.join(dataDir, "notes.txt"), "utf8")).toBe("do not delete me")
  })

  it("refuses a file given as the data directory", async () => {
    const file = path.join(root, "a-file")
    await fs.writeFile(file, "x")
    const error = await failureOf(file)
    expect(error).toBeInstanceOf(EmbeddedPostgres.DataDirNotACluster)
    expect((error as EmbeddedPostgres.DataDirNotACluster).message).toContain("is a file")
  })

  it("refuses a cluster of another PostgreSQL major version", async () => {
    const dataDir = newDir()
    await fs.mkdir(dataDir)
    await fs.writeFile(path.join(dataDir, "PG_VERSION"), "15\n")
    const error = await failureOf(dataDir)
    expect(error).toBeInstanceOf(EmbeddedPostgres.ClusterVersionMismatch)
    expect((error as EmbeddedPostgres.ClusterVersionMismatch).message).toMatch(/PostgreSQL 15 cluster.*PostgreSQL 18/)
  })

  it("a second start on a directory another Megaphone process serves connects to that server and leaves it running", async () => {
    const dataDir = newDir()
    const [guest, rows] = await withServer(dataDir, (owner) => Effect.gen(function*() {
      // The guest's scope closes first: it must not stop the owner's server.
      const joined = yield* Effect.scoped(Effect.gen(function*() {
        const info = yield* EmbeddedPostgres.start({ dataDir })
        const one = yield* Effect.provide(
          Effect.gen(function*() {
            const guestSql = yield* PgClient.PgClient
            return yield* guestSql`select 1 as one`
          }),
          PgClient.layer({ url: info.url, maxConnections: 1 })
        )
        return { port: info.port, one }
      }))
      expect(joined.port).toBe(owner.port)
      const sql = yield* PgClient.PgClient
      return [joined, yield* sql`select 1 as one`] as const // the owner's server still answers
    }))
    expect(guest.one).toEqual([{ one: 1 }])
    expect(rows).toEqual([{ one: 1 }])
  })

  it("of two simultaneous first starts, one initialises and runs the server, the other connects to it", async () => {
    const dataDir = newDir()
    const attempt = () => Effect.runPromiseExit(Effect.scoped(Effect.gen(function*() {
      const info = yield* start(dataDir)
      yield* Effect.sleep("1500 millis") // overlap with the other attempt while it runs
      return info.port
    })))
    // One initialises and runs the server; the other waits until it is ready and connects to it.
    const exits = await Promise.all([attempt(), attempt()])
    const ports = exits.map((exit) => (Exit.isSuccess(exit) ? exit.value : String(exit.cause)))
    expect(typeof ports[0]).toBe("number")
    expect(ports[1], String(ports[1])).toBe(ports[0])
    const rows = await withServer(dataDir, () => Effect.flatMap(PgClient.PgClient, (sql) => sql`select 1 as one`))
    expect(rows).toEqual([{ one: 1 }])
  })

  it("refuses a data directory served by a PostgreSQL that Megaphone did not start", async () => {
    const dataDir = newDir()
    await withServer(dataDir, () => Effect.gen(function*() {
      // Someone else's server: our owner file is gone, the postmaster is alive.
      yield* Effect.promise(() => fs.rm(path.join(dataDir, EmbeddedPostgres.OWNER_FILE)))
      const error = yield* Effect.promise(() => failureOf(dataDir))
      expect(error).toBeInstanceOf(EmbeddedPostgres.DataDirInUse)
      expect((error as EmbeddedPostgres.DataDirInUse).holder).toBe("postgres")
      expect((error as EmbeddedPostgres.DataDirInUse).message).toContain("pg_ctl -D")
    }))
  })
})

describe("EmbeddedPostgres.layerPgClient", () => {
  it("provides the server and a pool on its database", async () => {
    const dataDir = newDir()
    const row = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const server = yield* EmbeddedPostgres.EmbeddedPostgres
      const sql = yield* PgClient.PgClient
      const [row] = yield* sql<{ readonly db: string }>`select current_database() as db`
      return { db: row?.db, port: server.port }
    }).pipe(Effect.provide(EmbeddedPostgres.layerPgClient({ dataDir, database: "campaigns", durable: false })))))
    expect(row.db).toBe("campaigns")
    expect(row.port).toBeGreaterThan(0)
  })
})
