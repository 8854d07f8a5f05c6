// Examples for the quota windows: tiers, the 24 h messaging window, minute buckets, slots, backoff, pair spacing.
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import * as Quota from "../src/Quota.ts"

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0)
const DAY = Quota.QUOTA_WINDOW_MS
const at = (offsetMs: number): Date => new Date(T0 + offsetMs)
const ms = (dates: ReadonlyArray<Date>): ReadonlyArray<number> => dates.map((d) => d.getTime() - T0)
const ledgerOf = (entries: ReadonlyArray<readonly [string, number]>): Quota.MessagingLedger =>
  new Map(entries.map(([r, offset]) => [r, at(offset)]))

const A = "420601000001"
const B = "420601000002"
const C = "420601000003"
const D = "420601000004"

describe("parseMessagingTier", () => {
  it.each([
    ["TIER_50", 50], ["TIER_250", 250], ["TIER_1K", 1_000], ["TIER_2K", 2_000], ["TIER_10K", 10_000],
    ["TIER_100K", 100_000], ["TIER_UNLIMITED", "unlimited"], ["TIER_NOT_SET", 250],
    [2000, 2000], ["2000", 2000], [-1, "unlimited"], ["-1", "unlimited"], [0, 0], [" tier_2k ", 2_000]
  ] as const)("reads %s", (value, limit) => {
    expect(Quota.parseMessagingTier(value)).toEqual(Result.succeed(limit))
  })

  it.each(["TIER_5K", "", "lots", "2k", -2, 1.5, "1e3", Number.MAX_VALUE])("refuses %s with a typed error", (value) => {
    const result = Quota.parseMessagingTier(value)
    if (Result.isSuccess(result)) throw new Error("expected a refusal")
    expect(result.failure._tag).toBe("UnknownMessagingTier")
    expect(result.failure.value).toBe(String(value))
  })
})

describe("messaging limit", () => {
  it("lets a recipient already messaged in the window go without using capacity", () => {
    const ledger = ledgerOf([[A, 0], [B, 1_000]])
    const result = Quota.admitRecipients(ledger, [A, C, B, A], 2, at(60_000))
    expect(result.admitted).toEqual([A, B])
    expect(result.deferred).toEqual([C])
    expect(Quota.usage(result.ledger, 2, at(60_000)).used).toBe(2)
    // The re-send keeps A counted until 24 h after it.
    expect(result.ledger.get(A)).toEqual(at(60_000))
  })

  it("frees capacity exactly 24 h after the oldest counted send", () => {
    const ledger = ledgerOf([[A, 0], [B, 5_000]])
    const full = Quota.admitRecipients(ledger, [C], 2, at(10_000))
    expect(full.deferred).toEqual([C])
    expect(full.nextFreeAt).toEqual(at(DAY))
    expect(Quota.admitRecipients(ledger, [C], 2, at(DAY - 1)).admitted).toEqual([])
    expect(Quota.admitRecipients(ledger, [C], 2, at(DAY)).admitted).toEqual([C])
  })

  it("after a limit is lowered, frees capacity only when enough recipients have left", () => {
    const ledger = ledgerOf([[A, 0], [B, 1_000], [C, 2_000]])
    expect(Quota.usage(ledger, 1, at(3_000))).toEqual({ used: 3, limit: 1, remaining: 0, nextFreeAt: at(DAY + 2_000) })
    expect(Quota.admitRecipients(ledger, [D], 1, at(3_000)).nextFreeAt).toEqual(at(DAY + 2_000))
  })

  it("admits new recipients in order while there is room, and says nothing about free capacity when none waits", () => {
    const result = Quota.admitRecipients(Quota.emptyLedger, [A, B, C], 5, at(0))
    expect(result).toMatchObject({ admitted: [A, B, C], deferred: [], nextFreeAt: undefined })
    expect(Quota.usage(result.ledger, 5, at(0))).toEqual({ used: 3, limit: 5, remaining: 2, nextFreeAt: at(0) })
  })

  it("admits everyone under an unlimited tier and never under a limit of 0", () => {
    expect(Quota.admitRecipients(Quota.emptyLedger, [A, B], "unlimited", at(0)).admitted).toEqual([A, B])
    expect(Quota.usage(ledgerOf([[A, 0]]), "unlimited", at(1))).toMatchObject({ remaining: "unlimited", nextFreeAt: at(1) })
    const none = Quota.admitRecipients(Quota.emptyLedger, [A], 0, at(0))
    expect(none).toMatchObject({ admitted: [], deferred: [A], nextFreeAt: undefined })
  })

  it("prunes recipients whose latest send left the window", () => {
    const ledger = ledgerOf([[A, 0], [B, 10]])
    expect([...Quota.prune(ledger, at(DAY + 5)).keys()]).toEqual([B])
    expect(Quota.admitRecipients(ledger, [], 5, at(DAY + 5)).ledger.has(A)).toBe(false)
  })

  it("releases a send that never reached Meta back to the previous state", () => {
    const admitted = Quota.admitRecipients(ledgerOf([[A, 0]]), [A, B], 5, at(100)).ledger
    expect(Quota.releaseRecipient(admitted, B, undefined).has(B)).toBe(false)
    expect(Quota.releaseRecipient(admitted, A, at(0)).get(A)).toEqual(at(0))
  })
})

describe("minute buckets", () => {
  it("counts a partly expired minute whole, so the rolling count only errs high", () => {
    // A at 09:00:30, B at 09:01:10: one minute each.
    let buckets = Quota.moveRecipientInBuckets(new Map(), undefined, at(30_000))
    buckets = Quota.moveRecipientInBuckets(buckets, undefined, at(70_000))
    expect(Quota.countFromBuckets(buckets, at(70_000))).toBe(2)
    // At 09:00:45 next day A has left the exact window, but its minute still touches it.
    expect(Quota.countFromBuckets(buckets, at(DAY + 45_000))).toBe(2)
    expect(Quota.countFromBuckets(buckets, at(DAY + 60_000))).toBe(1)
    expect(Quota.pruneBuckets(buckets, at(DAY + 60_000)).size).toBe(1)
    expect(Quota.bucketsNextFreeAt(buckets, 2, at(70_000))).toEqual(at(DAY + 60_000))
    expect(Quota.bucketsNextFreeAt(buckets, 3, at(70_000))).toEqual(at(70_000))
    expect(Quota.bucketsNextFreeAt(buckets, 0, at(70_000))).toBeUndefined()
    expect(Quota.minuteOf(at(70_000)) - Quota.minuteOf(at(30_000))).toBe(1)
  })

  it("moves a re-sent recipient to its new minute and ignores a bucket already pruned", () => {
    const one = Quota.moveRecipientInBuckets(new Map([[Quota.minuteOf(at(0)), 2]]), at(0), at(120_000))
    expect([...one.values()]).toEqual([1, 1])
    expect(Quota.moveRecipientInBuckets(new Map(), at(0), undefined).size).toBe(0)
  })

  it("admits from buckets: free for recipients in the window, deferred past the limit", () => {
    const buckets = Quota.moveRecipientInBuckets(new Map(), undefined, at(0))
    const input = { buckets, lastSentAt: new Map([[A, at(0)]]), limit: 2, now: at(1_000) }
    const result = Quota.admitRecipientsBucketed({ ...input, candidates: [A, B, C] })
    expect(result).toMatchObject({ admitted: [A, B], deferred: [C], nextFreeAt: at(DAY + 60_000) })
    expect(Quota.countFromBuckets(result.buckets, at(1_000))).toBe(2)
    expect(result.lastSentAt.get(A)).toEqual(at(1_000))
    const roomy = Quota.admitRecipientsBucketed({ ...input, candidates: [B], limit: "unlimited" })
    expect(roomy.nextFreeAt).toBeUndefined()
    // A send already booked later (a future slot) stays as it is.
    const booked = Quota.admitRecipientsBucketed({ ...input, lastSentAt: new Map([[A, at(5_000)]]), candidates: [A] })
    expect(booked.lastSentAt.get(A)).toEqual(at(5_000))
    expect(booked.buckets).toBe(buckets)
  })
})

describe("throughput", () => {
  it("spaces slots 1/mps apart, rounded up to whole milliseconds", () => {
    const r = Quota.reserveSlots(Quota.initialThroughput, 4, 80, at(0))
    expect(ms(r.slots)).toEqual([0, 13, 25, 38])
    expect(r.state.nextFreeAt).toEqual(at(50))
    const next = Quota.reserveSlots(r.state, 2, 80, at(10))
    expect(ms(next.slots)).toEqual([50, 63])
    expect(Quota.reserveSlots(Quota.initialThroughput, 3, 1_000, at(0)).slots).toEqual([at(0), at(1), at(2)])
  })

  it("reserves nothing for n = 0 and leaves the row as it was", () => {
    const r = Quota.reserveSlots(Quota.initialThroughput, 0, 80, at(0))
    expect(r.slots).toEqual([])
    expect(r.state).toEqual(Quota.initialThroughput)
  })

  it("uses Meta's defaults: 80, 1000 when HIGH, 20 for coexistence numbers", () => {
    expect(Quota.throughputFor({})).toBe(80)
    expect(Quota.throughputFor({ level: "HIGH" })).toBe(1_000)
    expect(Quota.throughputFor({ level: "STANDARD" })).toBe(80)
    expect(Quota.throughputFor({ level: "HIGH", coexistence: true })).toBe(20)
  })

  it("slows the rate a tenth after 130429, once per overrun, and gives it back step by step", () => {
    const first = Quota.throttled(Quota.initialThroughput, at(0))
    expect(first).toEqual({ nextFreeAt: at(250), rateFactor: 0.9, decreasedAt: at(0) })
    expect(Quota.effectiveMps(first, 80, at(0))).toBe(72)
    // More 130429s from the same overrun pause but do not slow down again.
    const same = Quota.throttled(first, at(4_000))
    expect(same).toEqual({ ...first, nextFreeAt: at(4_250) })
    expect(Quota.effectiveMps(first, 80, at(5_000))).toBe(76)
    expect(Quota.effectiveMps(first, 80, at(10_000))).toBe(80)
    const second = Quota.throttled(first, at(5_000))
    expect(second.rateFactor).toBeCloseTo(0.855)
    const slots = Quota.reserveSlots(second, 3, 80, at(6_000)).slots
    expect(ms(slots)).toEqual([6_000, 6_015, 6_030])
  })

  it("never drops below the floor and forgets the backoff once recovered", () => {
    const slow = { ...Quota.defaultBackoff, recoverEveryMs: 60_000 }
    let state = Quota.initialThroughput
    for (let i = 0; i < 40; i++) state = Quota.throttled(state, at(i * 5_000), slow)
    expect(state.rateFactor).toBe(0.05)
    expect(Quota.effectiveMps(state, 20, at(195_000), slow)).toBe(1)
    const recovered = Quota.reserveSlots(state, 1, 20, at(195_000 + 20 * 60_000), slow).state
    expect(recovered).toMatchObject({ rateFactor: 1, decreasedAt: undefined })
  })
})

describe("pair limit", () => {
  it("lets the same recipient go again only 6 s after its last send", () => {
    expect(Quota.pairReadyAt(undefined)).toBeUndefined()
    expect(Quota.pairReadyAt(at(0))).toEqual(at(6_000))
    expect(Quota.pairReadyAt(at(0), 100)).toEqual(at(100))
    const last = new Map([[A, at(0)], [B, at(-10_000)]])
    expect(Quota.filterPairReady([A, B, C, B], last, at(5_999))).toEqual({
      ready: [B, C],
      waiting: [{ recipient: A, readyAt: at(6_000) }]
    })
    expect(Quota.filterPairReady([A], last, at(6_000)).ready).toEqual([A])
  })
})

describe("planSends", () => {
  const base = {
    messagingLedger: Quota.emptyLedger,
    messagingLimit: 10 as Quota.MessagingLimit,
    throughputState: Quota.initialThroughput,
    mps: 80,
    pairLastSent: new Map<string, Date>(),
    now: at(0)
  }

  it("hands out slots and records each send at its slot", () => {
    const plan = Quota.planSends({ ...base, candidates: [A, B, C] })
    expect(plan.sends.map((s) => [s.recipient, s.slot.getTime() - T0])).toEqual([[A, 0], [B, 13], [C, 25]])
    expect(plan.messagingLedger.get(C)).toEqual(at(25))
    expect(plan.pairLastSent.get(B)).toEqual(at(13))
    expect(plan.throughputState.nextFreeAt).toEqual(at(38))
    expect(plan.deferred).toEqual([])
    expect(plan.nextCapacity).toBeUndefined()
  })

  it("names the limit that holds each candidate back and when capacity frees", () => {
    const plan = Quota.planSends({
      ...base,
      candidates: [A, B, C, D],
      messagingLedger: ledgerOf([[A, -DAY + 60_000], [B, -1_000]]),
      messagingLimit: 2,
      pairLastSent: new Map([[B, at(-1_000)]])
    })
    expect(plan.sends.map((s) => s.recipient)).toEqual([A])
    // A's re-send keeps it counted for another 24 h, so B is now the oldest in the window.
    expect(plan.deferred).toEqual([
      { recipient: B, reason: "pair_limit", readyAt: at(5_000) },
      { recipient: C, reason: "messaging_limit", readyAt: at(DAY - 1_000) },
      { recipient: D, reason: "messaging_limit", readyAt: at(DAY - 1_000) }
    ])
    expect(plan.nextCapacity).toEqual({ at: at(5_000), reason: "pair_limit" })
  })

  it("defers past the batch size or the horizon as throughput, ready at the next slot", () => {
    const batch = Quota.planSends({ ...base, candidates: [A, B, C], max: 2 })
    expect(batch.sends.map((s) => s.recipient)).toEqual([A, B])
    expect(batch.nextCapacity).toEqual({ at: at(25), reason: "throughput" })
    const slow = Quota.planSends({ ...base, candidates: [A, B, C], mps: 1, horizonMs: 1_500 })
    expect(slow.sends.map((s) => s.slot)).toEqual([at(0), at(1_000)])
    expect(slow.deferred).toEqual([{ recipient: C, reason: "throughput", readyAt: at(2_000) }])
    const busy = Quota.planSends({ ...base, candidates: [A], throughputState: { ...Quota.initialThroughput, nextFreeAt: at(5_000) } })
    expect(busy.sends).toEqual([])
    expect(busy.nextCapacity).toEqual({ at: at(5_000), reason: "throughput" })
  })

  it("reports no time when a limit of 0 holds everyone back", () => {
    const plan = Quota.planSends({ ...base, candidates: [A, B], messagingLimit: 0, pairLastSent: new Map([[B, at(0)]]) })
    expect(plan.deferred).toEqual([
      { recipient: B, reason: "messaging_limit", readyAt: undefined },
      { recipient: A, reason: "messaging_limit", readyAt: undefined }
    ])
    expect(plan.nextCapacity).toEqual({ at: undefined, reason: "messaging_limit" })
  })
})
