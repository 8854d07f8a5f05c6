/**
 * vitest globalSetup: builds the production binary once per run (as `npm run build` does, into its own file next to
 * `dist/megaphone.mjs`, where node_modules still resolve) and hands its path to the tests that run `megaphone` as a
 * child process (read it through ../cli/binary.ts). The tests drive what ops run, and each run starts in a quarter of
 * the time the TypeScript entry point takes.
 */
import { rm } from "node:fs/promises"
import * as path from "node:path"
import type { TestProject } from "vitest/node"
import { buildBinary } from "../../build.ts"

declare module "vitest" {
  export interface ProvidedContext {
    /** The production `megaphone` binary built for this test run. */
    readonly megaphoneBinary: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const file = path.join(import.meta.dirname, "..", "..", "dist", `megaphone.test-${process.pid}.mjs`)
  await buildBinary(file)
  project.provide("megaphoneBinary", file)
  return () => rm(file, { force: true })
}
