// The production binary (`npm run build`, what systemd runs) works like `bin/megaphone.ts`: built into a scratch
// directory, it migrates a fresh database and prints the same JSON.
import { execFile } from "node:child_process"
import { rm } from "node:fs/promises"
import { join } from "node:path"
import { promisify } from "node:util"
import { Redacted } from "effect"
import { afterAll, expect, it } from "vitest"
import { freshDatabase } from "../../adapters/test/support/postgres.ts"
import { buildBinary } from "../build.ts"
import { megaphone, scratchDirectory } from "./cli/binary.ts"

const cwd = await scratchDirectory()
afterAll(() => rm(cwd, { recursive: true, force: true }))

it("builds one module that runs the CLI on plain Node", async () => {
  const file = join(cwd, "megaphone.mjs")
  await buildBinary(file)
  const url = Redacted.value(await freshDatabase("embedded"))
  const env = { PATH: process.env["PATH"] ?? "", MEGAPHONE_DATABASE_URL: url }
  const built = await promisify(execFile)(process.execPath, [file, "migrate", "--json"], { cwd, env })
  const migrated = JSON.parse(built.stdout) as { applied: ReadonlyArray<unknown> }
  expect(migrated.applied.length).toBeGreaterThan(0)
  // The same answer as the TypeScript entry point gives on the now migrated database.
  const again = await promisify(execFile)(process.execPath, [file, "migrate", "--json"], { cwd, env })
  expect(JSON.parse(again.stdout)).toEqual(JSON.parse((await megaphone(cwd, ["migrate", "--json"], { MEGAPHONE_DATABASE_URL: url })).stdout))
  const help = await promisify(execFile)(process.execPath, [file, "daemon", "--help"], { cwd, env })
  expect(help.stdout).toContain("--config")
}, 60_000)
