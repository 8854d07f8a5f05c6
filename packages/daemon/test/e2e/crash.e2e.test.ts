// Issue 6 acceptance: `kill -9` of a daemon in the middle of a campaign, then a restart. The campaign completes,
// no contact is lost, and a recipient can get a message twice only if its send was in flight at the kill and no
// `sent` webhook proved it within the grace (docs/architecture.md, "Crashes and duplicates") — so the duplicates
// can never outnumber the contacts that were in progress when the daemon died.
import { Effect } from "effect"
import { expect, it } from "vitest"
import { withStorage } from "../cli/binary.ts"
import { allFinal, contactsOf, duplicates, e2eFile, eventually, seedCampaign, show, shown, startDaemon } from "./support.ts"

const CONTACTS = 1_500
const MPS = 100

const { cwd, scenario } = await e2eFile()

it("kill -9 mid-campaign, then a restart: the campaign completes with nothing lost and no duplicate beyond the in-flight bound", async () => {
  // Slow answers keep many sends in flight at the moment of the kill.
  const { url, webhookPort, simulator, env } = await scenario({ tier: "TIER_10K", faults: { latencyMs: 150, jitterMs: 100 } })
  const id = await seedCampaign(cwd, env, simulator.sim.url, { contacts: CONTACTS, mps: MPS })

  const first = await startDaemon(cwd, env, webhookPort)
  await eventually(() => Effect.runPromise(simulator.sim.stats), (s) => s.accepted >= CONTACTS / 3, 60_000, "a third sent")
  first.child.kill("SIGKILL")
  expect((await first.exited).signal).toBe("SIGKILL")
  const atKill = await show(cwd, env, id)
  const inFlight = atKill.counts?.["in_progress"] ?? 0
  expect(inFlight).toBeGreaterThan(0)

  // The restarted daemon waits out the dead one's leases, then settles those contacts too.
  const second = await startDaemon(cwd, env, webhookPort)
  const done = await eventually(() => shown(second, id), (c) => c.state === "finished" && allFinal(c.counts) && (c.counts?.["sent"] ?? 0) === 0,
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
