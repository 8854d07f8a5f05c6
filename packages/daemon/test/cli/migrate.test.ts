// `megaphone migrate` as a user runs it: the real binary, a real PostgreSQL, SPEC §7 exit codes.
import { execFile } from "node:child_process"
import { rm } from "node:fs/promises"
import { join } from "node:path"
import { promisify } from "node:util"
import { Redacted } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import { megaphone as run, scratchDirectory } from "./binary.ts"

const cwd = await scratchDirectory()
afterAll(() => rm(cwd, { recursive: true, force: true }))
const megaphone = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => run(cwd, args, env)

describe("megaphone migrate", () => {
  it("applies the migrations once, then reports the schema up to date, in text and JSON", async () => {
    const url = Redacted.value(await freshDatabase("embedded"))
    const first = await megaphone(["migrate", "--database-url", url])
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(/Applied \d+ migration\(s\) to the PostgreSQL server/)
    expect(first.stdout).toContain("0001 schema")
    const again = await megaphone(["migrate", "--json"], { MEGAPHONE_DATABASE_URL: url })
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual({ database: "server", applied: [] })
  }, 60_000)

  it("without a URL it uses the embedded database in MEGAPHONE_DATA_DIR, reuses it, and stops it on exit", async () => {
    const dataDir = join(cwd, "data")
    const first = await megaphone(["migrate", "--json"], { MEGAPHONE_DATA_DIR: dataDir })
    expect(first.code).toBe(0)
    expect(JSON.parse(first.stdout).applied.length).toBeGreaterThan(0)
    const again = await megaphone(["migrate"], { MEGAPHONE_DATA_DIR: dataDir })
    expect(again.stdout).toContain(`The schema of the embedded database in ${dataDir} is up to date.`)
    const running = await promisify(execFile)("pgrep", ["-f", dataDir]).then((r) => r.stdout, () => "")
    expect(running).toBe("")
  }, 120_000)

  it("a URL that is not PostgreSQL is a failure (1) with a fix, and the URL is not echoed", async () => {
    const result = await megaphone(["migrate"], { MEGAPHONE_DATABASE_URL: "mysql://user:hunter2@db/x" })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: MEGAPHONE_DATABASE_URL is not a PostgreSQL URL\. Write it as postgres:/)
    expect(result.stderr).not.toContain("hunter2")
  })

  it("an unreachable server is a failure (1) that never prints the password", async () => {
    const result = await megaphone(["migrate"], { MEGAPHONE_DATABASE_URL: "postgres://megaphone:hunter2@127.0.0.1:1/megaphone" })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: .*Cannot reach the PostgreSQL server/)
    expect(result.stderr + result.stdout).not.toContain("hunter2")
  }, 30_000)

  it("bad usage exits with 2", async () => {
    const result = await megaphone(["migrate", "--no-such-flag"])
    expect(result.code).toBe(2)
    expect(result.stdout + result.stderr).toContain("Unrecognized flag: --no-such-flag")
  })
})
