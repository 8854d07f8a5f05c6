// Issue 6 acceptance: two daemons on one database share a campaign and together respect every limit — the
// account's messages/second (the simulator would allow far more) and the rolling-24 h unique-recipient limit: a
// campaign larger than the limit waits, shows when capacity frees up, and continues once the window has moved.
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { expect, it } from "vitest"
import { megaphone } from "../cli/binary.ts"
import { allFinal, duplicates, e2eFile, eventually, maxSlotsInWindow, PHONE_ID, seedCampaign, shown, startDaemon } from "./support.ts"

const LIMIT = 250
const CONTACTS = 300
const MPS = 100
const DAY_MS = 24 * 3600 * 1000
/** `dispatch.lateMs`, the default. */
const LATE_MS = 50

const { cwd, scenario } = await e2eFile()

/**
 * Moves everything the 24 h window remembers a day and two minutes into the past: as if that had gone by (the
 * window counts per minute and errs on the safe side by up to a minute).
 */
const aDayLater = (url: string) =>
  Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    yield* sql`update quota_buckets set minute = minute - 1442`
    yield* sql`update quota_ledger set last_sent_at = last_sent_at - interval '1 day 2 minutes'`
    yield* sql`update pair_last_sent set last_sent_at = last_sent_at - interval '1 day 2 minutes'`
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 }))))

it("two daemons share a campaign within the account's rate and its 24 h limit, and continue when the window frees", async () => {
  const { url, webhookPort, simulator, env } = await scenario({ tier: "TIER_250", faults: { latencyMs: 5, jitterMs: 10 } })
  const id = await seedCampaign(cwd, env, simulator.sim.url, { contacts: CONTACTS, mps: MPS, start: false })
  // Both running before the campaign starts, so both compete for its contacts from the first round.
  const [first, second] = await Promise.all([startDaemon(cwd, env, webhookPort), startDaemon(cwd, env)])
  expect((await megaphone(cwd, ["campaigns", "start", id], env)).code).toBe(0)

  // The limit is reached and the campaign waits, saying when capacity frees up.
  const waiting = await eventually(() => shown(first, id), (c) => (c.counts?.["initial"] ?? 0) === CONTACTS - LIMIT &&
    (c.counts?.["in_progress"] ?? 0) === 0, 30_000, "the 24 h limit reached") as { state?: string; quota?: { used: number; remaining: number; next_free_at: string | null } }
  expect(waiting.state).toBe("running")
  expect(waiting.quota).toMatchObject({ used: LIMIT, remaining: 0 })
  expect(Date.parse(waiting.quota?.next_free_at ?? "")).toBeGreaterThan(Date.now() + DAY_MS - 3_600_000)
  const stats = await simulator.sim.stats.pipe(Effect.runPromise)
  expect(stats.accepted).toBe(LIMIT)
  // Never asked Meta beyond the limit, never above the account's rate — both daemons together.
  expect(stats.rejectionsByCode["131048"]).toBeUndefined()
  expect(await maxSlotsInWindow(url, id, 1_000 + LATE_MS)).toBeLessThanOrEqual(MPS)
  const claimedBy = (daemon: typeof first) =>
    daemon.logs().filter((l) => l["message"] === "progress").reduce((sum, l) => sum + Number(l["claimed"] ?? 0), 0)
  // Progress lines come every 5 s; wait for the first of each.
  await eventually(async () => [claimedBy(first), claimedBy(second)], ([a, b]) => (a ?? 0) > 0 && (b ?? 0) > 0, 15_000, "both daemons claimed")

  // A day later (for the database and for Meta) the rest goes out.
  await aDayLater(url)
  await Effect.runPromise(simulator.sim.advance(DAY_MS + 120_000))
  const done = await eventually(() => shown(first, id), (c) => c.state === "finished" && allFinal(c.counts) && (c.counts?.["sent"] ?? 0) === 0,
    60_000, "campaign finished")
  expect((done.counts?.["delivered"] ?? 0) + (done.counts?.["read"] ?? 0)).toBe(CONTACTS)
  const after = await simulator.sim.stats.pipe(Effect.runPromise)
  expect(after.accepted).toBe(CONTACTS)
  expect(duplicates(after.acceptedPerRecipient)).toEqual([])
  expect(await maxSlotsInWindow(url, id, 1_000 + LATE_MS)).toBeLessThanOrEqual(MPS)
  console.info(`two daemons at ${MPS} msg/s: the simulator counted at most ${after.maxMpsPerNumber[PHONE_ID]} in a second`)

  for (const daemon of [first, second]) daemon.child.kill("SIGTERM")
  expect((await Promise.all([first.exited, second.exited])).map((e) => e.code)).toEqual([0, 0])
}, 150_000)
