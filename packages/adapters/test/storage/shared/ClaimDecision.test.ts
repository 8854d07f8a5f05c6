import { ContactState, Quota } from "@megaphone/core"
import { describe, expect, it } from "vitest"
import { bucketDeltas, campaignPace, cappedTake, decideClaims, releaseReservation } from "../../../src/storage/shared/ClaimDecision.ts"
import { account } from "../conformance.ts"

const now = new Date("2026-11-26T10:00:00.000Z")
const minute = Quota.minuteOf(now)

describe("decideClaims", () => {
  it("claims each recipient once, with lease = slot + leaseMs, and writes back deltas", () => {
    const candidates = ["420601000001", "420601000002", "420601000001"].map((recipient, i) => ({
      id: String(i + 1), campaignId: "1", recipient, progress: ContactState.initial(now)
    }))
    const previous = new Date(now.getTime() - 3_600_000)
    const decision = decideClaims(candidates, {
      buckets: new Map([[Quota.minuteOf(previous), 1]]),
      lastSentAt: new Map([["420601000001", previous]]),
      pairLastSent: new Map(),
      throughput: Quota.initialThroughput
    }, account("a", { throughputMps: 10, messagingLimit: 1 }), { limit: 10, leaseMs: 60_000, now })
    // Recipient 1 is already in the window (free); recipient 2 is new and fits the limit of 1… which is used.
    expect(decision.claims.map((c) => [c.id, c.slot.getTime() - now.getTime(), c.previousSentAt])).toEqual([["1", 0, previous]])
    expect(decision.claims[0]?.progress).toMatchObject({ state: "in_progress", attempts: 1, leaseExpiresAt: new Date(now.getTime() + 60_000) })
    expect(decision.nextCapacity?.reason).toBe("messaging_limit")
    expect(decision.bucketDeltas).toEqual(new Map([[Quota.minuteOf(previous), -1], [minute, 1]]))
    expect(decision.ledgerWrites).toEqual(new Map([["420601000001", now]]))
    expect(decision.pairWrites).toEqual(new Map([["420601000001", now]]))
  })

  it("skips a candidate the state machine will not claim", () => {
    const sent = { ...ContactState.initial(now), state: "sent" as const }
    const decision = decideClaims([{ id: "1", campaignId: "1", recipient: "420601000001", progress: sent }], {
      buckets: new Map(), lastSentAt: new Map(), pairLastSent: new Map(), throughput: Quota.initialThroughput
    }, account("a"), { limit: 10, leaseMs: 60_000, now })
    expect(decision.claims).toEqual([])
  })

  it("paces a capped campaign's contacts at its cap, between the uncapped campaign's, and returns its next free instant", () => {
    const candidates = Array.from({ length: 40 }, (_, i) => ({
      id: String(i + 1), campaignId: i % 2 === 0 ? "slow" : "fast", recipient: `4206010000${String(i).padStart(2, "0")}`,
      progress: ContactState.initial(now)
    }))
    const decision = decideClaims(candidates, {
      buckets: new Map(), lastSentAt: new Map(), pairLastSent: new Map(), throughput: Quota.initialThroughput,
      campaignPaces: new Map([["slow", campaignPace(4, 0.5, null)]])
    }, account("a", { throughputMps: 20 }), { limit: 40, leaseMs: 60_000, now, horizonMs: 1_000 })
    const slow = decision.claims.filter((c) => Number(c.id) % 2 === 1).map((c) => c.slot.getTime() - now.getTime())
    // A cap of 4 planned at half: 2 a second, 500 ms apart; the fast campaign takes the other 18 of the number's 20 slots.
    expect(slow).toEqual([0, 500])
    expect(decision.claims).toHaveLength(20)
    expect(decision.campaignNextFreeAt).toEqual(new Map([["slow", new Date(now.getTime() + 1_000)]]))
    expect(decision.nextCapacity?.reason).toBe("throughput")
  })

  it("takes no more of a capped campaign than its slots in the horizon", () => {
    expect(cappedTake(2, 2_000, 1_000)).toBe(5)
    expect(cappedTake(1_000, 2_000, 300)).toBe(300)
    expect(cappedTake(0.5, undefined, 100)).toBe(2)
  })
})

describe("releaseReservation", () => {
  const slot = new Date(now.getTime() + 500)
  it("restores the previous send, moving the bucket back", () => {
    const previous = new Date(now.getTime() - 7_200_000)
    expect(releaseReservation(slot, slot, previous)).toEqual({
      ledger: { _tag: "Restore", at: previous },
      bucketDeltas: new Map([[Quota.minuteOf(slot), -1], [Quota.minuteOf(previous), 1]])
    })
  })
  it("deletes the ledger row of a recipient new to the window", () => {
    expect(releaseReservation(slot, slot, undefined)).toEqual({ ledger: { _tag: "Delete" }, bucketDeltas: new Map([[Quota.minuteOf(slot), -1]]) })
  })
  it("changes nothing when a later send owns the row", () => {
    expect(releaseReservation(new Date(slot.getTime() + 1), slot, undefined)).toBeUndefined()
    expect(releaseReservation(undefined, slot, undefined)).toBeUndefined()
  })
  it("a previous send in the same minute nets to no bucket change", () => {
    expect(releaseReservation(slot, slot, now)?.bucketDeltas).toEqual(new Map())
  })
})

describe("bucketDeltas", () => {
  it("lists only the minutes that changed", () => {
    expect(bucketDeltas(new Map([[1, 2], [2, 1]]), new Map([[1, 2], [3, 1]]))).toEqual(new Map([[2, -1], [3, 1]]))
  })
})
