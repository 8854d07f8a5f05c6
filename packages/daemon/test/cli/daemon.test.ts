// `megaphone daemon` end to end, as ops run it: the real binary as a child process on a fresh embedded
// PostgreSQL, the simulator as Meta (posting signed status webhooks to the daemon), everything seeded through
// the CLI. The campaign must finish, the webhooks must land, and SIGTERM must stop the daemon cleanly with exit 0.
import { type ChildProcess, spawn } from "node:child_process"
import { rm, writeFile } from "node:fs/promises"
import { type AddressInfo, createServer as createNetServer } from "node:net"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import { afterAll, expect, it } from "vitest"
import * as EmbeddedPostgres from "../../../adapters/src/storage/embedded/EmbeddedPostgres.ts"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import { config, PHONE_ID, PHONE_ID_2, type Running, startSimulator, TOKEN, WABA_ID } from "../../../adapters/test/transport/simulator/support.ts"
import { eventually } from "../e2e/support.ts"
import { bin, megaphone, scratchDirectory } from "./binary.ts"

const APP_SECRET = "daemon-test-app-secret"
const ADMIN_TOKEN = "daemon-test-admin-token"

const cwd = await scratchDirectory()
let simulator: Running | undefined
let child: ChildProcess | undefined
afterAll(async () => {
  // Only if the test failed before its own SIGTERM: never leave the daemon running.
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  await simulator?.stop()
  await rm(cwd, { recursive: true, force: true })
})

/** Runs `megaphone ARGS` with `env`, expecting exit 0 (the command and its stderr say which failed). */
const succeeds = (env: Record<string, string>) => async (args: ReadonlyArray<string>) => {
  const result = await megaphone(cwd, args, env)
  expect([args.join(" "), result.code, result.stderr]).toEqual([args.join(" "), 0, expect.any(String)])
  return result
}

it("sends a campaign to the simulator, applies its webhooks, answers health checks and stops on SIGTERM with exit 0", async () => {
  const url = Redacted.value(await freshDatabase("embedded"))
  const [webhookPort, adminPort] = [await EmbeddedPostgres.freePort(), await EmbeddedPostgres.freePort()]
  const base = config()
  simulator = await startSimulator({
    ...base,
    webhook: { url: `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`, appSecret: APP_SECRET, delays: { sentMs: 10, deliveredMs: 20, readMs: 20, jitterMs: 0 } }
  })
  const env = { MEGAPHONE_DATABASE_URL: url, SIM_TOKEN: TOKEN }
  const run = succeeds(env)

  await run(["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--token-env", "SIM_TOKEN", "--graph-url", simulator.sim.url])
  // An account whose token variable the daemon will not have: it warns once and skips it.
  const other = await megaphone(cwd, ["accounts", "add", "other", "--phone-number-id", PHONE_ID_2, "--waba-id", WABA_ID,
    "--token-env", "OTHER_TOKEN", "--graph-url", simulator.sim.url], { ...env, OTHER_TOKEN: TOKEN })
  expect([other.code, other.stderr]).toEqual([0, expect.any(String)])
  await run(["templates", "sync", "--account", "shop"])
  const id = (await run(["campaigns", "create", "--name", "Objednávky", "--account", "shop", "--template", "order_done"])).stdout.trim()
  const csv = join(cwd, "contacts.csv")
  const rows = Array.from({ length: 100 }, (_, i) => `+420601${String(200_000 + i)},pane,Novák ${i},${1000 + i}`)
  await writeFile(csv, ["phone,1,2,3", ...rows, ""].join("\n"))
  expect(JSON.parse((await run(["campaigns", "add-contacts", id, "--csv", csv, "--json"])).stdout)).toMatchObject({ added: 100 })
  await run(["campaigns", "start", id])

  let stderr = ""
  const daemon = spawn(process.execPath, [bin, "daemon", "--webhook-listen", `127.0.0.1:${webhookPort}`, "--admin-listen", `127.0.0.1:${adminPort}`], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", ...env, MEGAPHONE_APP_SECRET: APP_SECRET, MEGAPHONE_VERIFY_TOKEN: "verify-me", MEGAPHONE_ADMIN_TOKEN: ADMIN_TOKEN },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child = daemon
  daemon.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => daemon.on("exit", (code) => resolve(code)))

  const show = async () => JSON.parse((await megaphone(cwd, ["campaigns", "show", id, "--json"], env)).stdout || "{}") as {
    state?: string
    counts?: Record<string, number>
  }
  const finished = await eventually(show, (c) => c.state === "finished", 30_000, "campaign finished")
  expect(finished.counts?.["initial"]).toBe(0)
  const settled = await eventually(show, (c) => (c.counts?.["delivered"] ?? 0) + (c.counts?.["read"] ?? 0) === 100, 10_000, "webhooks applied")
  expect(settled.counts?.["read"]).toBeGreaterThan(0)

  const admin = `http://127.0.0.1:${adminPort}`
  const health = await fetch(`${admin}/healthz`)
  expect([health.status, await health.text()]).toEqual([200, "ok"])
  expect((await fetch(`${admin}/readyz`)).status).toBe(200)
  // The admin API: the token from MEGAPHONE_ADMIN_TOKEN, nothing without it.
  expect((await fetch(`${admin}/api/campaigns`)).status).toBe(401)
  expect((await fetch(`${admin}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401)
  const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const shown = await (await fetch(`${admin}/api/campaigns/${id}`, { headers: bearer })).json() as { state: string }
  expect(shown.state).toBe("finished")
  const metrics = await (await fetch(`${admin}/metrics`, { headers: bearer })).text()
  expect(metrics).toMatch(/megaphone_sends_total\{[^}]*result="accepted"[^}]*\} 100/)
  expect(metrics).toMatch(/megaphone_webhook_statuses_total(\{[^}]*\})? [1-9]/)

  const started = Date.now()
  daemon.kill("SIGTERM")
  expect(await exited).toBe(0)
  expect(Date.now() - started).toBeLessThan(10_000)

  // Every line is one JSON object with a level and a message; the secrets appear nowhere.
  const lines = stderr.split("\n").filter((l) => l !== "")
  for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: expect.any(String), message: expect.any(String) })
  const messages = lines.map((l) => JSON.parse(l) as { message: string; account?: string })
  expect(messages.filter((m) => m.account === "other" && m.message.includes("OTHER_TOKEN"))).toHaveLength(1)
  expect(messages.some((m) => m.message === "progress")).toBe(true)
  expect(messages.at(-1)?.message).toBe("stopped")
  for (const secret of [APP_SECRET, TOKEN, "verify-me", ADMIN_TOKEN, url]) expect(stderr).not.toContain(secret)
  expect(metrics).not.toContain(TOKEN)

  const stats = await Effect.runPromise(simulator.sim.stats)
  expect(stats.accepted).toBe(100)
  expect(Object.values(stats.acceptedPerRecipient).filter((n) => n > 1)).toEqual([])
}, 60_000)

it("refuses to start on a port already in use, naming the setting and what to do", async () => {
  const url = Redacted.value(await freshDatabase("embedded"))
  const taken = createNetServer()
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
  const port = (taken.address() as AddressInfo).port
  try {
    const result = await megaphone(cwd, ["daemon", "--admin-listen", `127.0.0.1:${port}`, "--webhook-listen", "127.0.0.1:0"], {
      MEGAPHONE_DATABASE_URL: url,
      MEGAPHONE_APP_SECRET: APP_SECRET
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`Cannot listen on 127.0.0.1:${port} (admin.listen): 127.0.0.1:${port} is already in use`)
    expect(result.stderr).toContain("--admin-listen")
  } finally {
    taken.close()
  }
}, 30_000)

it("a second SIGTERM during the shutdown interrupts the sends in flight at once and still exits 0", async () => {
  const url = Redacted.value(await freshDatabase("embedded"))
  const [webhookPort, adminPort] = [await EmbeddedPostgres.freePort(), await EmbeddedPostgres.freePort()]
  // Meta never answers a send (for two minutes): every send stays in flight.
  const slow = await startSimulator({ ...config(), faults: { hang: 1, hangMaxMs: 120_000 } })
  try {
    const env = { MEGAPHONE_DATABASE_URL: url, SIM_TOKEN: TOKEN }
    const run = succeeds(env)
    await run(["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--token-env", "SIM_TOKEN", "--graph-url", slow.sim.url])
    await run(["templates", "sync", "--account", "shop"])
    const id = (await run(["campaigns", "create", "--name", "Pomalá", "--account", "shop", "--template", "order_done"])).stdout.trim()
    const csv = join(cwd, "slow.csv")
    await writeFile(csv, ["phone,1,2,3", ...Array.from({ length: 20 }, (_, i) => `+420602${String(300_000 + i)},pane,Novák ${i},${i}`), ""].join("\n"))
    await run(["campaigns", "add-contacts", id, "--csv", csv])
    await run(["campaigns", "start", id])

    let stderr = ""
    const daemon = spawn(process.execPath, [bin, "daemon", "--webhook-listen", `127.0.0.1:${webhookPort}`, "--admin-listen", `127.0.0.1:${adminPort}`], {
      cwd,
      env: { PATH: process.env["PATH"] ?? "", ...env, MEGAPHONE_APP_SECRET: APP_SECRET, MEGAPHONE_SHUTDOWN_DEADLINE_MS: "600000" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    child = daemon
    daemon.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => daemon.on("exit", (code) => resolve(code)))
    const show = async () => JSON.parse((await megaphone(cwd, ["campaigns", "show", id, "--json"], env)).stdout || "{}") as { counts?: Record<string, number> }
    await eventually(show, (c) => (c.counts?.["in_progress"] ?? 0) === 20, 20_000, "every contact in flight")

    daemon.kill("SIGTERM")
    await eventually(async () => stderr, (s) => s.includes("waiting for the rounds in flight"), 10_000, "the shutdown began")
    const started = Date.now()
    daemon.kill("SIGTERM")
    expect(await exited).toBe(0)
    // Not the ten-minute deadline: the second signal cut the wait short.
    expect(Date.now() - started).toBeLessThan(15_000)
    const messages = stderr.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { message: string })
    expect(messages.some((m) => m.message.includes("interrupted (second signal)"))).toBe(true)
    expect(messages.at(-1)?.message).toBe("stopped")
  } finally {
    await slow.stop()
  }
}, 90_000)
