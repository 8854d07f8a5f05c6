// Issue 6 acceptance: PostgreSQL stopped for 30 s in the middle of a campaign, then started again. The daemon
// keeps running (not ready meanwhile), backs off, reconnects and resumes; the campaign completes with nothing
// lost — every send Meta accepted is recorded, every status webhook (retried by Meta while the database was
// away) is applied, no recipient gets a message twice.
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Exit, Redacted, Scope } from "effect"
import { afterAll, expect, it } from "vitest"
import * as EmbeddedPostgres from "../../../adapters/src/storage/embedded/EmbeddedPostgres.ts"
import { allFinal, duplicates, e2eFile, eventually, seedCampaign, shown, sleep, startDaemon } from "./support.ts"

const CONTACTS = 2_000
const MPS = 100
const OUTAGE_MS = 30_000

const { cwd, scenario } = await e2eFile()
let server: Scope.Closeable | undefined
afterAll(async () => {
  if (server !== undefined) await Effect.runPromise(Scope.close(server, Exit.void))
})

/** A PostgreSQL server of this test's own (so it can stop it), on a fixed port so the daemon's URL stays right. */
const startServer = async (dataDir: string, port: number) => {
  const scope = await Effect.runPromise(Scope.make())
  const info = await Effect.runPromise(EmbeddedPostgres.start({ dataDir, port, durable: false, log: () => undefined }).pipe(Scope.provide(scope)))
  return { scope, url: Redacted.value(info.url) }
}

it("a 30 s PostgreSQL outage mid-campaign: the daemon reconnects and the campaign completes with nothing lost", async () => {
  const dataDir = join(cwd, "pg")
  await mkdir(dataDir, { mode: 0o755 })
  const port = await EmbeddedPostgres.freePort()
  const first = await startServer(dataDir, port)
  server = first.scope
  const url = first.url

  const { webhookPort, simulator, env } = await scenario({ tier: "TIER_10K", faults: { latencyMs: 20, jitterMs: 20 }, url })
  const id = await seedCampaign(cwd, env, simulator.sim.url, { contacts: CONTACTS, mps: MPS })
  const daemon = await startDaemon(cwd, env, webhookPort)
  const ready = () => fetch(`http://127.0.0.1:${daemon.adminPort}/readyz`).then((r) => r.status, () => 0)

  await eventually(() => Effect.runPromise(simulator.sim.stats), (s) => s.accepted >= CONTACTS / 4, 60_000, "a quarter sent")
  await Effect.runPromise(Scope.close(first.scope, Exit.void))
  server = undefined
  const stoppedAt = Date.now()
  expect(await eventually(ready, (s) => s === 503, 10_000, "/readyz failing while the database is down")).toBe(503)
  await sleep(OUTAGE_MS - (Date.now() - stoppedAt))
  // Still alive: an outage is waited out, not a reason to exit.
  expect(daemon.child.exitCode).toBeNull()

  const second = await startServer(dataDir, port)
  server = second.scope
  await eventually(ready, (s) => s === 200, 30_000, "/readyz again after the database is back")
  const done = await eventually(() => shown(daemon, id), (c) => c.state === "finished" && allFinal(c.counts) && (c.counts?.["sent"] ?? 0) === 0,
    120_000, "campaign finished after the outage")
  expect((done.counts?.["delivered"] ?? 0) + (done.counts?.["read"] ?? 0)).toBe(CONTACTS)
  const stats = await Effect.runPromise(simulator.sim.stats)
  expect(stats.accepted).toBe(CONTACTS)
  expect(duplicates(stats.acceptedPerRecipient)).toEqual([])
  expect(daemon.logs().some((l) => l["level"] === "error" || l["level"] === "warning")).toBe(true)

  daemon.child.kill("SIGTERM")
  expect((await daemon.exited).code).toBe(0)
}, 240_000)
