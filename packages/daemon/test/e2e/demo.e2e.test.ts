// Issue 9, point 2, end to end: `megaphone demo --headless --json` on the production binary runs the whole
// system (embedded PostgreSQL, the simulator with faults, the daemon as a child process) to completion and
// prints one JSON summary: every contact final, nothing sent twice, the limits held, the template pause seen.
import { spawn } from "node:child_process"
import { readdir } from "node:fs/promises"
import { tmpdir } from "node:os"
import { expect, it } from "vitest"
import { bin } from "../cli/binary.ts"

const CONTACTS = 300

const demoDirectories = async () => (await readdir(tmpdir())).filter((name) => name.startsWith("megaphone-demo-"))

it("demo --headless --json runs a campaign to completion through a template pause", async () => {
  const before = new Set(await demoDirectories())
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, "demo", "--headless", "--json", "--contacts", String(CONTACTS)], {
      env: { PATH: process.env["PATH"] ?? "" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()))
    child.on("exit", (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }))
  })
  expect([code, stderr.slice(-2_000)]).toEqual([0, expect.any(String)])
  const summary = JSON.parse(stdout) as {
    ok: boolean
    contacts: number
    counts: Record<string, number>
    all_final: boolean
    recipients_sent_twice: number
    messages_per_second: number
    simulator_max_mps: number
    limits: { held: boolean; throughput: { limit_mps: number; highest_seen_mps: number } }
    pause: { happened: boolean; explanation: string | null; resumed: boolean }
    import: { encoding: string; inserted: number; rejected: number }
    campaign: { state: string }
  }
  expect(summary.ok).toBe(true)
  expect(Object.values(summary.counts).reduce((a, b) => a + b, 0)).toBe(CONTACTS)
  for (const pending of ["initial", "in_progress", "retry_scheduled"]) expect(summary.counts[pending]).toBe(0)
  expect(summary.all_final).toBe(true)
  expect(summary.campaign.state).toBe("finished")
  expect(summary.recipients_sent_twice).toBe(0)
  expect(summary.limits.held).toBe(true)
  expect(summary.simulator_max_mps).toBeLessThanOrEqual(summary.limits.throughput.limit_mps)
  expect(summary.messages_per_second).toBeGreaterThan(0)
  expect(summary.pause).toMatchObject({ happened: true, resumed: true })
  expect(summary.pause.explanation).toMatch(/paused/i)
  expect(summary.import).toMatchObject({ encoding: "windows-1250", inserted: CONTACTS, rejected: 0 })
  // Progress on stderr, the JSON alone on stdout; the temporary directory is gone.
  expect(stderr).toMatch(/accepted \d+\/300/)
  expect((await demoDirectories()).filter((name) => !before.has(name))).toEqual([])
}, 90_000)
