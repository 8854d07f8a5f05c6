// The real `megaphone` binary for end-to-end CLI tests: a child process in a scratch directory, with only the
// environment a test gives it (so a token variable is set only when the test means it).
import { execFile } from "node:child_process"
import { chmod, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { Database } from "@megaphone/adapters"
import { Ports, type Template } from "@megaphone/core"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, inject } from "vitest"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import { config, type Running, startSimulator } from "../../../adapters/test/transport/simulator/support.ts"

/** The production binary this test run built (support/globalSetup.ts). */
export const bin = inject("megaphoneBinary")

/** What one run printed and how it exited. */
export interface RunResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** A scratch working directory the embedded server (running as `postgres` under root) may enter. */
export const scratchDirectory = async (): Promise<string> => {
  const cwd = await mkdtemp(join(tmpdir(), "megaphone-cli-"))
  await chmod(cwd, 0o755)
  return cwd
}

/** Runs `megaphone ARGS` in `cwd` with PATH plus `env`. */
export const megaphone = async (cwd: string, args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<RunResult> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      cwd,
      env: { PATH: process.env["PATH"] ?? "", ...env }
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

/** For a test file: a scratch directory, and the simulator (as Meta) running while the file's tests run. */
export const withSimulator = async (): Promise<{ readonly cwd: string; readonly simulator: () => Running }> => {
  const cwd = await scratchDirectory()
  let simulator: Running | undefined
  beforeAll(async () => {
    simulator = await startSimulator(config())
  })
  afterAll(async () => {
    await simulator?.stop()
    await rm(cwd, { recursive: true, force: true })
  })
  return {
    cwd,
    simulator: () => {
      if (simulator === undefined) throw new Error("the simulator starts in beforeAll")
      return simulator
    }
  }
}

/** Runs storage operations directly on a test's database (migrating it first, as the CLI does). */
export const withStorage = <A>(url: string, body: (storage: Ports.Storage.StorageShape) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(Effect.gen(function*() {
    return yield* body(yield* Ports.Storage.Storage)
  }).pipe(Effect.provide(Database.layer({ _tag: "Server", url: Redacted.make(url) }, { maxConnections: 1 })), Effect.scoped) as Effect.Effect<A>)

/**
 * A fresh embedded database with account "shop" (WABA 111, 80 msg/s, never called: its Graph URL goes nowhere) and
 * `templates` synced, for CLI tests that need no Meta. Returns its URL.
 */
export const shopDatabase = async (templates: ReadonlyArray<Template.Template>, at: Date): Promise<string> => {
  const url = Redacted.value(await freshDatabase("embedded"))
  await withStorage(url, (s) => Effect.gen(function*() {
    yield* s.saveAccount({
      name: "shop", phoneNumberId: "106540352242922", wabaId: "111", portfolioId: null, tokenEnv: "SIM_TOKEN",
      graphUrl: "http://127.0.0.1:1", graphVersion: "v23.0", displayPhoneNumber: null, messagingLimit: 250, messagingTier: null,
      qualityRating: null, throughputMps: 80, throughputLevel: null, nameStatus: null, status: null, createdAt: at, updatedAt: at
    })
    yield* s.syncTemplates("111", templates, at)
  }))
  return url
}
