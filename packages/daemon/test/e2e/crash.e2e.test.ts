// Issue 6 acceptance: `kill -9` of a daemon in the middle of a campaign, then a restart. The campaign completes,
// no contact is lost, and a recipient can get a message twice only if its send was in flight at the kill and no
// `sent` webhook proved it within the grace (docs/architecture.md, "Crashes and duplicates") — so the duplicates
// can never outnumber the contacts that were in progress when the daemon died.
import { rm } from "node:fs/promises"
import { Effect, Redacted } from "effect"
import { afterAll, expect, it } from "vitest"
import * as EmbeddedPostgres from "../../../adapters/src/storage/embedded/EmbeddedPostgres.ts"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import type { Running } from "../../../adapters/test/transport/simulator/support.ts"
import { scratchDirectory, withStorage } from "../cli/binary.ts"
import {
  allFinal, contactsOf, duplicates, eventually, FAST_RETRIES, killAll, PHONE_ID, seedCampaign, show, startDaemon, startMeta, TOKEN,
  WABA_ID
} from "./support.ts"

const CONTACTS = 1_500
const MPS = 100

const cwd = await scratchDirectory()
let simulator: Running | undefined
afterAll(async () => {
  killAll()
  await simulator?.stop()
  await rm(cwd, { recursive: true, force: true })
})

it("kill -9 mid-campaign, then a restart: the campaign completes with nothing lost and no duplicate beyond the in-flight bound", async () => {
  const url = Redacted.value(await freshDatabase("embedded"))
  const webhookPort = await EmbeddedPostgres.freePort()
  simulator = await startMeta(webhookPort, {
    accounts: [{ phoneNumberId: PHONE_ID, wabaId: WABA_ID, displayPhoneNumber: "+420 601 000 001", verifiedName: "Megaphone Shop",
      messagingLimitTier: "TIER_10K", throughputLevel: "HIGH", mps: 5_000 }],
    // Slow answers keep many sends in flight at the moment of the kill.
    faults: { latencyMs: 150, jitterMs: 100 }
  })
  const env = { MEGAPHONE_DATABASE_URL: url, SIM_TOKEN: TOKEN, ...FAST_RETRIES }
  const id = await seedCampaign(cwd, env, simulator.sim.url, { contacts: CONTACTS, mps: MPS })

  const first = await startDaemon(cwd, env, webhookPort)
  await eventually(() => Effect.runPromise(simulator!.sim.stats), (s) => s.accepted >= CONTACTS / 3, 60_000, "a third sent")
  first.child.kill("SIGKILL")
  expect((await first.exited).signal).toBe("SIGKILL")
  const atKill = await show(cwd, env, id)
  const inFlight = atKill.counts?.["in_progress"] ?? 0
  expect(inFlight).toBeGreaterThan(0)

  // The restarted daemon waits out the dead one's leases, then settles those contacts too.
  const second = await startDaemon(cwd, env, webhookPort)
  const done = await eventually(() => show(cwd, env, id), (c) => c.state === "finished" && allFinal(c.counts) && (c.counts?.["sent"] ?? 0) === 0,
    150_000, "campaign finished after the restart")
  expect((done.counts?.["delivered"] ?? 0) + (done.counts?.["read"] ?? 0)).toBe(CONTACTS)

  const stats = await Effect.runPromise(simulator.sim.stats)
  const twice = duplicates(stats.acceptedPerRecipient)
  expect(twice.length).toBeLessThanOrEqual(inFlight)
  expect(new Set(Object.keys(stats.acceptedPerRecipient)).size).toBe(CONTACTS)
  // Zero lost: every contact has its wamid, and the one Meta knows for it.
  const contacts = await contactsOf(url, id)
  expect(contacts.filter((c) => c.progress.wamid === null)).toEqual([])
  const events = await withStorage(url, (s) => s.listEvents(id, { limit: 1000 }))
  expect(events.map((e) => e.kind)).toContain("campaign_finished")

  second.child.kill("SIGTERM")
  expect((await second.exited).code).toBe(0)
  console.info(`kill -9 with ${inFlight} contacts in progress: ${twice.length} recipients got the message twice`)
}, 240_000)
