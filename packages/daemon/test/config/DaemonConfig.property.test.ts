// Properties of the loader: any valid settings, spread over the file and the environment, load to exactly the
// values given (the environment winning, defaults filling the rest); any unknown key and any out-of-range
// integer is reported with its key.
import { rm } from "node:fs/promises"
import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DaemonSettings, type Setting, settings } from "../../src/config/Settings.ts"
import { suggest } from "../../src/config/Suggest.ts"
import { loadError, loadOk, scratch, writeFileIn } from "./support.ts"

const dir = await scratch()
const DAY = 86_400_000

// Valid values per key, as written in a file. Ranges that relate are kept apart so that any mix of two valid
// configurations, or of one with the defaults, is valid too (horizon < lease, base delays ≤ max delay — the
// default max delay is 15 min —, webhook and admin ports differ).
const hosts = fc.constantFrom("127.0.0.1", "0.0.0.0", "::1", "localhost", "megaphone.example.org")
const listenIn = (min: number, max: number) =>
  fc.tuple(hosts, fc.integer({ min, max })).map(([host, port]) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`))
const valid: Readonly<Record<string, fc.Arbitrary<string | number>>> = {
  "database.url": fc.stringMatching(/^[a-z0-9]{1,12}$/).map((password) => `postgres://megaphone:${password}@db:5432/megaphone`),
  "database.dataDir": fc.stringMatching(/^[a-z0-9/._-]*[a-z0-9]$/),
  "database.maxConnections": fc.integer({ min: 1, max: 1000 }),
  "webhook.listen": listenIn(1, 30_000),
  "admin.listen": listenIn(30_001, 65_535),
  "dispatch.concurrency": fc.integer({ min: 1, max: 1024 }),
  "dispatch.claimLimit": fc.integer({ min: 1, max: 10_000 }),
  "dispatch.leaseMs": fc.integer({ min: 60_001, max: DAY }),
  "dispatch.horizonMs": fc.integer({ min: 100, max: 60_000 }),
  "dispatch.idleMs": fc.integer({ min: 10, max: 60_000 }),
  "dispatch.roundsInFlight": fc.integer({ min: 1, max: 64 }),
  "dispatch.lateMs": fc.integer({ min: 0, max: 1_000 }),
  "retry.maxAttempts": fc.integer({ min: 1, max: 100 }),
  "retry.baseDelayMs": fc.integer({ min: 100, max: 900_000 }),
  "retry.maxDelayMs": fc.integer({ min: 900_000, max: DAY }),
  "retry.rateLimitedBaseDelayMs": fc.integer({ min: 100, max: 900_000 }),
  "retry.unknownOutcomeGraceMs": fc.integer({ min: 0, max: DAY }),
  "retry.onUnknownOutcome": fc.constantFrom("retry", "hold"),
  "shutdown.deadlineMs": fc.integer({ min: 0, max: 3_600_000 }),
  "log.level": fc.constantFrom("debug", "info", "warning", "error"),
  "phone.defaultCountry": fc.constantFrom("CZ", "SK", "DE", "AT", "PL", "US", "GB"),
  "daemonId": fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}$/),
  "webhook.secretHeader": fc.stringMatching(/^[A-Za-z0-9-]{1,30}$/)
}

const where = fc.constantFrom("default", "file", "env", "both")

const setIn = (tree: Record<string, unknown>, key: string, value: unknown) => {
  const parts = key.split(".")
  let node = tree
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>
  node[parts[parts.length - 1] ?? key] = value
}
const getIn = (tree: unknown, key: string): unknown =>
  key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], tree)

const case_ = fc.record(Object.fromEntries(settings.map((s) => [s.key, fc.tuple(where, valid[s.key]!, valid[s.key]!)])))

describe("DaemonConfig properties", () => {
  it("has a valid-value generator for every setting (so the properties below cover them all)", () => {
    expect(Object.keys(valid).sort()).toEqual(settings.map((s) => s.key).sort())
  })

  it("any valid settings from the file and the environment load to exactly those values; the environment wins", async () => {
    await fc.assert(fc.asyncProperty(case_, async (picked) => {
      const file: Record<string, unknown> = {}
      const env: Record<string, string> = {}
      const expected = new Map<string, unknown>()
      for (const s of settings) {
        const [at, fromFile, fromEnv] = picked[s.key]!
        if (at === "file" || at === "both") setIn(file, s.key, fromFile)
        if (at === "env" || at === "both") env[s.env!] = String(fromEnv)
        expected.set(s.key, at === "default" ? s.default : at === "file" ? fromFile : fromEnv)
      }
      const path = await writeFileIn(dir, file)
      const config = await loadOk({ file: path, env })
      await rm(path)
      // Encoding gives the settings back as they are written (HOST:PORT, plain URL): compare in those terms.
      const written = Schema.encodeUnknownSync(DaemonSettings)(config)
      for (const s of settings) expect([s.key, getIn(written, s.key)]).toEqual([s.key, expected.get(s.key)])
    }), { numRuns: 150 })
  })

  it("any unknown key, at the top level or in a section, is reported with its path", async () => {
    const parents = ["", ...new Set(settings.filter((s) => s.key.includes(".")).map((s) => s.key.split(".")[0]!))]
    const known = new Set([...parents.filter((p) => p !== ""), ...settings.map((s) => s.key)])
    const unknownKey = fc.tuple(fc.constantFrom(...parents), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/))
      .map(([parent, name]) => (parent === "" ? name : `${parent}.${name}`))
      .filter((key) => !known.has(key))
    await fc.assert(fc.asyncProperty(unknownKey, fc.jsonValue(), async (key, value) => {
      const file: Record<string, unknown> = {}
      setIn(file, key, value)
      const path = await writeFileIn(dir, file)
      const error = await loadError({ file: path })
      await rm(path)
      const problem = error.problems.find((p) => p.key === key)
      expect(problem).toMatchObject({ origin: "file", source: path })
      expect(problem?.message).toMatch(/^unknown key\. (Did you mean|The keys)/)
      // Whatever is suggested is a real key.
      for (const suggestion of suggest(key, [...known])) expect(known.has(suggestion)).toBe(true)
    }), { numRuns: 150 })
  })

  it("any integer outside a setting's range is reported for that setting, from the file or the environment", async () => {
    const integers = settings.filter((s): s is Setting & { env: string } => s.kind === "integer" && s.env !== undefined)
    const bounds = (s: Setting) => s.expected.match(/between (\d+) and (\d+)/)!.slice(1).map(Number) as [number, number]
    const outside = fc.constantFrom(...integers).chain((s) => {
      const [min, max] = bounds(s)
      return fc.tuple(fc.constant(s), fc.oneof(fc.integer({ min: -1_000_000, max: min - 1 }), fc.integer({ min: max + 1, max: max * 10 + 10 })), fc.boolean())
    })
    await fc.assert(fc.asyncProperty(outside, async ([s, value, viaEnv]) => {
      const file: Record<string, unknown> = {}
      if (!viaEnv) setIn(file, s.key, value)
      const path = await writeFileIn(dir, file)
      const error = await loadError({ file: path, env: viaEnv ? { [s.env]: String(value) } : {} })
      await rm(path)
      expect(error.problems).toEqual([{
        origin: viaEnv ? "environment" : "file",
        source: viaEnv ? s.env : path,
        key: s.key,
        message: `expected ${s.expected}, got ${value}`
      }])
    }), { numRuns: 150 })
  })
})
