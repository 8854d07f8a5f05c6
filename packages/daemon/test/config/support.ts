// Helpers for the configuration tests: scratch files and the loader run to its success or its error.
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll } from "vitest"
import type { ConfigError } from "../../src/config/ConfigError.ts"
import { type DaemonConfig, load, type LoadInput } from "../../src/config/DaemonConfig.ts"

/** The one secret the daemon requires, so tests about other things load. */
export const APP_SECRET = "app-secret-7c1f0e"

/** A scratch directory for this test file, removed after its tests. */
export const scratch = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "megaphone-config-"))
  afterAll(() => rm(dir, { recursive: true, force: true }))
  return dir
}

let counter = 0

/** Writes `content` (text, or a value written as JSON) to a new file in `dir`; returns its path. */
export const writeFileIn = async (dir: string, content: unknown, name = `file-${++counter}.json`): Promise<string> => {
  const path = join(dir, name)
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content, null, 2))
  return path
}

/** `load` with the app secret in the environment unless the input says otherwise. */
const withDefaults = (input: Partial<LoadInput>): LoadInput => ({
  flags: {},
  ...input,
  env: { MEGAPHONE_APP_SECRET: APP_SECRET, ...input.env }
})

/** The loaded configuration (the test fails if loading fails). */
export const loadOk = (input: Partial<LoadInput> = {}): Promise<DaemonConfig> => Effect.runPromise(load(withDefaults(input)))

/** The error loading fails with (the test fails if it loads). */
export const loadError = (input: Partial<LoadInput> = {}): Promise<ConfigError> =>
  Effect.runPromise(Effect.flip(load(withDefaults(input))))
