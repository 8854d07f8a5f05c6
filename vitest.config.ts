import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.{ts,tsx}"],
    // One embedded PostgreSQL (and an external one when available) per run, for the storage tests.
    globalSetup: ["packages/adapters/test/support/globalSetup.ts"],
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**"],
      reporter: ["text", "text-summary"],
      // The pure core is the contract developers embed: keep it thoroughly exercised.
      thresholds: { "packages/core/src/**": { lines: 90 } }
    }
  }
})
