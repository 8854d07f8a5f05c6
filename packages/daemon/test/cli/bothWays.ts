// The CLI run both ways on one database: directly, and through a running daemon's admin API (MEGAPHONE_ADMIN_URL),
// which must print the same. The remote runs get no database URL and an empty scratch data directory that must
// still not exist afterwards: they cannot have read the database themselves.
import { rm } from "node:fs/promises"
import { join } from "node:path"
import type { Ports } from "@megaphone/core"
import { type Effect, Redacted } from "effect"
import { afterAll, beforeAll, expect } from "vitest"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import { ADMIN_TOKEN, killAll, startDaemon } from "../e2e/support.ts"
import { megaphone, type RunResult, scratchDirectory, withStorage } from "./binary.ts"

/** What a both-ways test file gets: the two routes, and a check that they agree. */
export interface BothWays {
  /** The database's URL (set before the tests run). */
  readonly url: () => string
  /** The working directories of the direct and the remote runs. */
  readonly cwd: string
  readonly remoteCwd: string
  /** The remote runs' data directory, which must never be created. */
  readonly dataDir: string
  /** `megaphone ARGS` directly on the database. */
  readonly direct: (args: ReadonlyArray<string>) => Promise<RunResult>
  /** `megaphone ARGS` through the daemon's admin API (`env` replaces the API's address and token). */
  readonly remote: (args: ReadonlyArray<string>, env?: Record<string, string>) => Promise<RunResult>
  /** The API's address and token, as the remote runs get them. */
  readonly remoteEnv: () => Record<string, string>
  /** The same command both ways: the same exit code, stdout and stderr (after `normalise`); the direct result. */
  readonly same: (args: ReadonlyArray<string>) => Promise<RunResult>
}

/** A fresh database seeded by `seed`, a daemon on it for the file's tests; everything removed afterwards. */
export const bothWays = async (
  seed: (storage: Ports.Storage.StorageShape) => Effect.Effect<unknown, unknown>,
  normalise: (result: RunResult) => RunResult = (result) => result
): Promise<BothWays> => {
  const cwd = await scratchDirectory()
  const remoteCwd = await scratchDirectory()
  const dataDir = join(remoteCwd, "no-database-here")
  let url = ""
  let adminUrl = ""
  beforeAll(async () => {
    url = Redacted.value(await freshDatabase("embedded"))
    await withStorage(url, seed)
    adminUrl = `http://127.0.0.1:${(await startDaemon(cwd, { MEGAPHONE_DATABASE_URL: url })).adminPort}`
  }, 120_000)
  afterAll(async () => {
    killAll()
    await rm(cwd, { recursive: true, force: true })
    await rm(remoteCwd, { recursive: true, force: true })
  })
  const direct = (args: ReadonlyArray<string>) => megaphone(cwd, args, { MEGAPHONE_DATABASE_URL: url })
  const remoteEnv = (): Record<string, string> => ({ MEGAPHONE_ADMIN_URL: adminUrl, MEGAPHONE_ADMIN_TOKEN: ADMIN_TOKEN, MEGAPHONE_DATA_DIR: dataDir })
  const remote = (args: ReadonlyArray<string>, env: Record<string, string> = remoteEnv()) => megaphone(remoteCwd, args, env)
  return {
    url: () => url,
    cwd,
    remoteCwd,
    dataDir,
    direct,
    remote,
    remoteEnv,
    same: async (args) => {
      const [d, r] = [normalise(await direct(args)), normalise(await remote(args))]
      expect({ args, ...r }).toEqual({ args, ...d })
      return d
    }
  }
}
