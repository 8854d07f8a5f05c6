import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.{ts,tsx}"],
    // One embedded PostgreSQL (and an external one when available) per run, for the storage tests.
    globalSetup: ["packages/adapters/test/support/globalSetup.ts"],
    // Most time goes to waiting — on child processes, PostgreSQL, leases and outages in the end-to-end tests —
    // not to the CPU: more files at once than the default (cores − 1) keeps a 2-core run short.
    maxWorkers: 3,
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**"],
      reporter: ["text", "text-summary"],
      // The pure core is the contract developers embed: keep it thoroughly exercised.
      thresholds: { "packages/core/src/**": { lines: 90 } }
    }
  }
})
