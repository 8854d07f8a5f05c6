// The shipped operations examples stay true: the systemd unit has what docs/operations.md promises, the example
// config.json and environment file load without a problem, and the configuration reference lists every setting.
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { SECRET_NAMES } from "../../src/config/DaemonConfig.ts"
import { fileVariable } from "../../src/config/Secrets.ts"
import { DEFAULT_SHUTDOWN_DEADLINE_MS, settings } from "../../src/config/Settings.ts"
import { loadOk } from "./support.ts"

const root = join(import.meta.dirname, "..", "..", "..", "..")
const examples = join(root, "examples", "systemd")

/** A unit file as section → key → values (a key may repeat; an empty assignment is kept as ""). */
const parseUnit = (text: string): Map<string, Map<string, Array<string>>> => {
  const sections = new Map<string, Map<string, Array<string>>>()
  let current: Map<string, Array<string>> | undefined
  // A trailing backslash continues the line.
  for (const line of text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    const section = /^\[(.+)\]$/.exec(line)
    if (section !== null) {
      current = new Map()
      sections.set(section[1]!, current)
      continue
    }
    const eq = line.indexOf("=")
    if (current === undefined || eq < 0) throw new Error(`not a unit file line: ${line}`)
    const [key, value] = [line.slice(0, eq).trim(), line.slice(eq + 1).trim()]
    current.set(key, [...(current.get(key) ?? []), value])
  }
  return sections
}

/** systemd's time span in milliseconds: `45`, `45s`, `1min 30s`, `2m`. */
const timeSpanMs = (text: string): number => {
  const units: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 }
  let total = 0
  for (const [, n, unit] of text.matchAll(/(\d+)\s*([a-z]*)/g)) total += Number(n) * (units[unit === "" ? "s" : unit!] ?? Number.NaN)
  return total
}

const unitText = await readFile(join(examples, "megaphone.service"), "utf8")
const unit = parseUnit(unitText)
const service = unit.get("Service")!
const one = (key: string): string | undefined => service.get(key)?.at(-1)
const configPath = join(examples, "config.json")

describe("examples/systemd/megaphone.service", () => {
  it("restarts on failure, runs as a dedicated user, and stops with SIGTERM", () => {
    expect([one("Type"), one("Restart"), one("KillSignal"), one("KillMode")]).toEqual(["simple", "on-failure", "SIGTERM", "mixed"])
    expect(one("User") === "megaphone" || one("DynamicUser") === "yes").toBe(true)
    expect(timeSpanMs(one("RestartSec") ?? "")).toBeGreaterThan(0)
  })

  it("gives the daemon longer to stop than its shutdown deadline (default and example config)", async () => {
    const stopMs = timeSpanMs(one("TimeoutStopSec") ?? "")
    const config = await loadOk({ file: configPath })
    expect(stopMs).toBeGreaterThan(DEFAULT_SHUTDOWN_DEADLINE_MS)
    expect(stopMs).toBeGreaterThan(config.shutdown.deadlineMs)
  })

  it("runs the daemon with the example configuration's path", () => {
    expect(one("ExecStart")).toMatch(/ daemon --config \/etc\/megaphone\/config\.json$/)
  })

  it("has the hardening options", () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: "yes", ProtectSystem: "strict", ProtectHome: "yes", PrivateTmp: "yes", PrivateDevices: "yes",
      ProtectKernelTunables: "yes", ProtectKernelModules: "yes", ProtectKernelLogs: "yes", ProtectControlGroups: "yes",
      ProtectClock: "yes", ProtectHostname: "yes", ProtectProc: "invisible", RestrictNamespaces: "yes", RestrictRealtime: "yes",
      RestrictSUIDSGID: "yes", LockPersonality: "yes", RemoveIPC: "yes", SystemCallArchitectures: "native",
      SystemCallFilter: "@system-service", SystemCallErrorNumber: "EPERM",
      // No capabilities at all, none to gain; files private to the service user; its only writable directory.
      CapabilityBoundingSet: "", AmbientCapabilities: "", UMask: "0077", StateDirectory: "megaphone", StateDirectoryMode: "0700"
    }
    expect(Object.fromEntries(Object.keys(expected).map((key) => [key, one(key)]))).toEqual(expected)
    expect(one("RestrictAddressFamilies")?.split(/\s+/).sort()).toEqual(["AF_INET", "AF_INET6", "AF_UNIX"])
    // Not root, and nothing writable outside the state directory: no ReadWritePaths= widening ProtectSystem=strict.
    expect(one("User") ?? "root").not.toBe("root")
    expect(service.get("ReadWritePaths")).toBeUndefined()
  })

  it("leaves MemoryDenyWriteExecute off on purpose, saying why: V8's JIT needs writable, executable memory", () => {
    expect(one("MemoryDenyWriteExecute")).toBe("no")
    // The comment right above it explains the exception (docs/operations.md does too).
    const lines = unitText.split("\n")
    const at = lines.findIndex((l) => l.startsWith("MemoryDenyWriteExecute="))
    expect(lines[at - 1]).toMatch(/^#.*(V8|JIT)/)
  })

  it("passes the secrets as credentials under their own names, and reads an optional EnvironmentFile", () => {
    const credentials = new Map((service.get("LoadCredential") ?? []).map((line) => [line.split(":")[0], line.split(":")[1]]))
    for (const name of [...Object.values(SECRET_NAMES), "MEGAPHONE_ACCESS_TOKEN"]) {
      expect([name, credentials.get(name)]).toEqual([name, `/etc/megaphone/credentials/${name}`])
    }
    expect(service.get("EnvironmentFile")).toEqual(["-/etc/megaphone/megaphone.env"])
  })
})

describe("examples/systemd/config.json and megaphone.env.example", () => {
  it("config.json loads with no problem and keeps the embedded database inside the StateDirectory", async () => {
    const config = await loadOk({ file: configPath })
    expect(config.database.dataDir.startsWith(`/var/lib/${one("StateDirectory")}/`)).toBe(true)
    expect(config.sources["database.dataDir"]).toBe(configPath)
  })

  it("every variable in the environment file example is one Megaphone reads", async () => {
    const text = await readFile(join(examples, "megaphone.env.example"), "utf8")
    const secrets = [...Object.values(SECRET_NAMES), "MEGAPHONE_DATABASE_URL", "MEGAPHONE_ACCESS_TOKEN"]
    const known = new Set([...settings.flatMap((s) => (s.env === undefined ? [] : [s.env])), ...secrets, ...secrets.map(fileVariable)])
    const variables = [...text.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!)
    expect(variables.length).toBeGreaterThan(5)
    expect(variables.filter((name) => !known.has(name))).toEqual([])
  })
})

describe("docs/operations.md", () => {
  it("lists every setting with its variable, flag and default, and every secret", async () => {
    const docs = await readFile(join(root, "docs", "operations.md"), "utf8")
    for (const s of settings) {
      const row = docs.split("\n").find((line) => line.startsWith(`| \`${s.key}\` `))
      expect([s.key, row]).toEqual([s.key, expect.any(String)])
      expect(row).toContain(`\`${s.env}\``)
      if (s.flag !== undefined) expect(row).toContain(`\`${s.flag}\``)
      if (s.default !== undefined) expect(row).toContain(`\`${s.default}\``)
    }
    for (const name of Object.values(SECRET_NAMES)) expect(docs).toContain(`\`${name}\``)
  })
})
