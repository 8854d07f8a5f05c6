import { defineConfig } from "vitest/config"

// The files that check Meta's rate as the simulator measures it — the end-to-end tests and the dispatcher's —
// run as a second group, after everything else: the simulator counts a message when its (shared) CPU gets to
// it, and fifty other files running at once stall it while it counts.
const E2E = ["packages/*/test/e2e/**/*.test.ts", "packages/daemon/test/dispatch/Dispatcher.test.ts", "packages/daemon/test/docs/**/*.test.ts"]

export default defineConfig({
  test: {
    // One embedded PostgreSQL (and an external one when available) per run, for the storage tests; the production
    // binary, built once, for the tests that run `megaphone`.
    globalSetup: ["packages/adapters/test/support/globalSetup.ts", "packages/daemon/test/support/globalSetup.ts"],
    // Most time goes to waiting — on child processes, PostgreSQL, leases and outages in the end-to-end tests —
    // not to the CPU: more files at once than the default (cores − 1) keeps a 2-core run short.
    maxWorkers: 3,
    // A timeout only catches a hang (no test asserts a duration): 5 s, the default, is short for a test that starts
    // processes on a loaded 2-core machine.
    testTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["packages/*/test/**/*.test.{ts,tsx}", "examples/**/*.test.ts"], exclude: E2E, sequence: { groupOrder: 0 } }
      },
      // Files mostly waiting (on leases, a 30 s outage, child processes): four at once. Six kept the suite shorter
      // on a fast day, but on a slower 2-core machine the daemons were so starved of CPU that their sends left late
      // and they slowed to a crawl, past the tests' hang catchers.
      { extends: true, test: { name: "e2e", include: E2E, sequence: { groupOrder: 1 }, maxWorkers: 4 } }
    ],
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**"],
      reporter: ["text", "text-summary"],
      // The pure core is the contract developers embed: keep it thoroughly exercised.
      thresholds: { "packages/core/src/**": { lines: 90 } }
    }
  }
})
