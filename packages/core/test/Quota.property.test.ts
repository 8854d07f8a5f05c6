// Properties of the quota windows: random schedules replayed against brute-force references.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Quota from "../src/Quota.ts"

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0)
const DAY = Quota.QUOTA_WINDOW_MS

interface Send {
  readonly recipient: string
  readonly at: number
}

/** Brute force: the most unique recipients any rolling window (T − 24 h, T] ever holds. */
const maxUniqueInAnyWindow = (sends: ReadonlyArray<Send>): number =>
  Math.max(0, ...sends.map(({ at: end }) => new Set(sends.filter((s) => s.at > end - DAY && s.at <= end).map((s) => s.recipient)).size))

/** Brute force: unique recipients with a send in the window ending at `now` or booked after it. */
const countedAt = (sends: ReadonlyArray<Send>, now: number): number =>
  new Set(sends.filter((s) => s.at > now - DAY).map((s) => s.recipient)).size

/** Brute force: the most slots any half-open second [a, a + 1000) holds. */
const maxPerSecond = (slots: ReadonlyArray<number>): number => {
  const sorted = [...slots].sort((a, b) => a - b)
  let best = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= 1000) j++
    best = Math.max(best, i - j + 1)
  }
  return best
}

/** Brute force: the shortest gap between two sends to the same recipient. */
const minPairGap = (sends: ReadonlyArray<Send>): number => {
  const byRecipient = new Map<string, Array<number>>()
  for (const s of sends) byRecipient.set(s.recipient, [...(byRecipient.get(s.recipient) ?? []), s.at])
  let gap = Infinity
  for (const times of byRecipient.values()) {
    const sorted = [...times].sort((a, b) => a - b)
    for (let i = 1; i < sorted.length; i++) gap = Math.min(gap, (sorted[i] ?? 0) - (sorted[i - 1] ?? 0))
  }
  return gap
}

const recipient = fc.integer({ min: 0, max: 24 }).map((i) => `4206010000${String(i).padStart(2, "0")}`)

/** Gaps between calls: often bursts, sometimes hours, sometimes right at the pair-spacing or 24 h edge. */
const gap = fc.oneof(
  fc.integer({ min: 0, max: 3_000 }),
  fc.constantFrom(999, 1_000, 5_999, 6_000),
  fc.integer({ min: 0, max: 30 * 3_600_000 }),
  fc.constantFrom(DAY - 1, DAY, DAY + 1, DAY - 60_000, DAY + 60_000)
)

const step = fc.record({
  gap,
  candidates: fc.array(recipient, { maxLength: 8 }),
  kind: fc.constantFrom("admit", "plan"),
  throttle: fc.boolean(),
  max: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
  probe: fc.integer({ min: 0, max: 26 * 3_600_000 })
})

const schedule = fc.array(step, { minLength: 1, maxLength: 40 })
const limit = fc.integer({ min: 1, max: 20 })
const mps = fc.constantFrom(1, 2, 3, 7, 20, 80)

describe("messaging limit", () => {
  it("never lets a rolling 24 h window hold more unique recipients than the limit (admit and plan mixed)", () => {
    fc.assert(
      fc.property(schedule, limit, mps, (steps, lim, rate) => {
        let now = T0
        let ledger = Quota.emptyLedger
        let throughput = Quota.initialThroughput
        let pairLastSent: ReadonlyMap<string, Date> = new Map()
        const sends: Array<Send> = []
        for (const s of steps) {
          now += s.gap
          if (s.kind === "admit") {
            const result = Quota.admitRecipients(ledger, s.candidates, lim, new Date(now))
            ledger = result.ledger
            sends.push(...result.admitted.map((r) => ({ recipient: r, at: now })))
          } else {
            const plan = Quota.planSends({
              candidates: s.candidates, messagingLedger: ledger, messagingLimit: lim, throughputState: throughput,
              mps: rate, pairLastSent, now: new Date(now)
            })
            ledger = plan.messagingLedger
            throughput = plan.throughputState
            pairLastSent = plan.pairLastSent
            sends.push(...plan.sends.map((p) => ({ recipient: p.recipient, at: p.slot.getTime() })))
          }
          expect(Quota.usage(ledger, lim, new Date(now)).used).toBe(countedAt(sends, now))
        }
        expect(maxUniqueInAnyWindow(sends)).toBeLessThanOrEqual(lim)
      })
    )
  })

  it("lets recipients already in the window go without consuming capacity, and fills the rest of the room", () => {
    fc.assert(
      fc.property(schedule, limit, (steps, lim) => {
        let now = T0
        let ledger = Quota.emptyLedger
        for (const s of steps) {
          now += s.gap
          const before = Quota.usage(ledger, lim, new Date(now)).used
          const inWindow = new Set(s.candidates.filter((r) => (ledger.get(r)?.getTime() ?? -Infinity) > now - DAY))
          const fresh = new Set(s.candidates.filter((r) => !inWindow.has(r)))
          const result = Quota.admitRecipients(ledger, s.candidates, lim, new Date(now))
          for (const r of inWindow) expect(result.admitted).toContain(r)
          const admittedFresh = result.admitted.filter((r) => !inWindow.has(r)).length
          expect(admittedFresh).toBe(Math.min(fresh.size, Math.max(0, lim - before)))
          expect(Quota.usage(result.ledger, lim, new Date(now)).used).toBe(before + admittedFresh)
          if (result.deferred.length > 0) {
            const freeAt = result.nextFreeAt?.getTime() ?? Infinity
            expect(freeAt).toBeGreaterThan(now)
            // Just before nextFreeAt nothing new fits; at nextFreeAt one does.
            expect(Quota.admitRecipients(result.ledger, ["new"], lim, new Date(freeAt - 1)).admitted).toEqual([])
            expect(Quota.admitRecipients(result.ledger, ["new"], lim, new Date(freeAt)).admitted).toEqual(["new"])
          }
          ledger = result.ledger
        }
      })
    )
  })
})

describe("minute buckets", () => {
  it("count at least the exact rolling count, and admission through them never exceeds the limit", () => {
    fc.assert(
      fc.property(schedule, limit, (steps, lim) => {
        let now = T0
        let buckets: Quota.MinuteBuckets = new Map()
        const lastSentAt = new Map<string, Date>()
        const sends: Array<Send> = []
        for (const s of steps) {
          now += s.gap
          if (s.throttle) buckets = Quota.pruneBuckets(buckets, new Date(now))
          const before = Quota.countFromBuckets(buckets, new Date(now))
          const inWindow = new Set(s.candidates.filter((r) => (lastSentAt.get(r)?.getTime() ?? -Infinity) > now - DAY))
          const rows = new Map(s.candidates.flatMap((r) => {
            const row = lastSentAt.get(r)
            return row === undefined ? [] : [[r, row] as const]
          }))
          const result = Quota.admitRecipientsBucketed({ buckets, lastSentAt: rows, candidates: s.candidates, limit: lim, now: new Date(now) })
          for (const r of inWindow) expect(result.admitted).toContain(r)
          const admittedFresh = result.admitted.filter((r) => !inWindow.has(r)).length
          expect(Quota.countFromBuckets(result.buckets, new Date(now))).toBeLessThanOrEqual(before + admittedFresh)
          buckets = result.buckets
          for (const [r, sentAt] of result.lastSentAt) lastSentAt.set(r, sentAt)
          sends.push(...result.admitted.map((r) => ({ recipient: r, at: now })))
          for (const probe of [now, now + s.probe]) {
            expect(Quota.countFromBuckets(buckets, new Date(probe))).toBeGreaterThanOrEqual(countedAt(sends, probe))
          }
          if (result.deferred.length > 0) {
            const freeAt = result.nextFreeAt?.getTime() ?? Infinity
            expect(Quota.countFromBuckets(buckets, new Date(freeAt))).toBeLessThan(lim)
            expect(Quota.countFromBuckets(buckets, new Date(freeAt - 1))).toBeGreaterThanOrEqual(lim)
          }
        }
        expect(maxUniqueInAnyWindow(sends)).toBeLessThanOrEqual(lim)
      })
    )
  })
})

describe("throughput", () => {
  it("never puts more than mps slots in any 1-second window, with or without backoff", () => {
    const reservation = fc.record({
      gap: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 120_000 })),
      n: fc.integer({ min: 0, max: 30 }),
      throttle: fc.boolean()
    })
    fc.assert(
      fc.property(fc.array(reservation, { maxLength: 40 }), mps, (steps, rate) => {
        let now = T0
        let state = Quota.initialThroughput
        let previousEnd = -Infinity
        const slots: Array<number> = []
        for (const s of steps) {
          now += s.gap
          if (s.throttle) state = Quota.throttled(state, new Date(now))
          const r = Quota.reserveSlots(state, s.n, rate, new Date(now))
          const times = r.slots.map((d) => d.getTime())
          expect(times).toHaveLength(s.n)
          for (const t of times) expect(t).toBeGreaterThanOrEqual(Math.max(now, previousEnd))
          if (times.length > 0) previousEnd = times[times.length - 1] ?? previousEnd
          expect(r.state.nextFreeAt.getTime()).toBeGreaterThanOrEqual(previousEnd)
          slots.push(...times)
          state = r.state
        }
        expect(maxPerSecond(slots)).toBeLessThanOrEqual(rate)
      })
    )
  })
})

/** A planner under test, with its own messaging state (an exact ledger, or buckets plus ledger rows). */
interface Planner<S> {
  readonly initial: S
  readonly plan: (state: S, input: Omit<Quota.PlanInput, "messagingLedger">) => { readonly plan: Omit<Quota.SendPlan, "messagingLedger">; readonly state: S }
}

const exactPlanner: Planner<Quota.MessagingLedger> = {
  initial: Quota.emptyLedger,
  plan: (ledger, input) => {
    const plan = Quota.planSends({ ...input, messagingLedger: ledger })
    return { plan, state: plan.messagingLedger }
  }
}

/** Like a storage adapter: it passes only the candidates' ledger rows, and keeps every row it gets back. */
const bucketedPlanner: Planner<{ readonly buckets: Quota.MinuteBuckets; readonly rows: ReadonlyMap<string, Date> }> = {
  initial: { buckets: new Map(), rows: new Map() },
  plan: (state, input) => {
    const lastSentAt = new Map(input.candidates.flatMap((r) => {
      const at = state.rows.get(r)
      return at === undefined ? [] : [[r, at] as const]
    }))
    const plan = Quota.planSendsBucketed({ ...input, buckets: state.buckets, lastSentAt })
    return { plan, state: { buckets: plan.buckets, rows: new Map([...state.rows, ...plan.lastSentAt]) } }
  }
}

describe.each([
  ["planSends (exact ledger)", exactPlanner as Planner<unknown>],
  ["planSendsBucketed (minute buckets, as storage does)", bucketedPlanner as Planner<unknown>]
])("%s", (_name, planner) => {
  it("respects the messaging limit, throughput and pair spacing together, and never plans into the past", () => {
    fc.assert(
      fc.property(schedule, limit, mps, fc.constantFrom(1_000, 6_000), (steps, lim, rate, spacing) => {
        let now = T0
        let messaging = planner.initial
        let throughput = Quota.initialThroughput
        let pairLastSent: ReadonlyMap<string, Date> = new Map()
        const sends: Array<Send> = []
        for (const s of steps) {
          now += s.gap
          if (s.throttle) throughput = Quota.throttled(throughput, new Date(now))
          const { plan, state } = planner.plan(messaging, {
            candidates: s.candidates, messagingLimit: lim, throughputState: throughput,
            mps: rate, pairLastSent, now: new Date(now), pairSpacingMs: spacing,
            ...(s.max === undefined ? {} : { max: s.max })
          })
          expect(plan.sends.length).toBeLessThanOrEqual(s.max ?? Infinity)
          expect(plan.sends.length + plan.deferred.length).toBe(new Set(s.candidates).size)
          for (const p of plan.sends) expect(p.slot.getTime()).toBeGreaterThanOrEqual(now)
          for (const d of plan.deferred) expect(d.readyAt === undefined || d.readyAt.getTime() >= now).toBe(true)
          const readyAts = plan.deferred.flatMap((d) => (d.readyAt === undefined ? [] : [d.readyAt.getTime()]))
          if (plan.nextCapacity?.at !== undefined) expect(plan.nextCapacity.at.getTime()).toBe(Math.min(...readyAts))
          messaging = state
          throughput = plan.throughputState
          pairLastSent = plan.pairLastSent
          sends.push(...plan.sends.map((p) => ({ recipient: p.recipient, at: p.slot.getTime() })))
        }
        expect(maxUniqueInAnyWindow(sends)).toBeLessThanOrEqual(lim)
        expect(maxPerSecond(sends.map((s) => s.at))).toBeLessThanOrEqual(rate)
        expect(minPairGap(sends)).toBeGreaterThanOrEqual(spacing)
      })
    )
  })
})

describe("planSends", () => {
  it("never sends to the same recipient twice within the pair spacing", () => {
    const pairStep = fc.record({
      gap: fc.oneof(fc.integer({ min: 0, max: 7_000 }), fc.constantFrom(0, 1, 5_999, 6_000, 6_001)),
      candidates: fc.array(fc.constantFrom("420601000001", "420601000002", "420601000003"), { maxLength: 3 })
    })
    fc.assert(
      fc.property(fc.array(pairStep, { maxLength: 30 }), fc.constantFrom(20, 1_000), (steps, rate) => {
        let now = T0
        let throughput = Quota.initialThroughput
        let ledger = Quota.emptyLedger
        let pairLastSent: ReadonlyMap<string, Date> = new Map()
        const sends: Array<Send> = []
        for (const s of steps) {
          now += s.gap
          const plan = Quota.planSends({
            candidates: s.candidates, messagingLedger: ledger, messagingLimit: "unlimited", throughputState: throughput,
            mps: rate, pairLastSent, now: new Date(now)
          })
          for (const d of plan.deferred.filter((d) => d.reason === "pair_limit")) {
            expect(d.readyAt).toEqual(Quota.pairReadyAt(pairLastSent.get(d.recipient)))
          }
          ledger = plan.messagingLedger
          throughput = plan.throughputState
          pairLastSent = plan.pairLastSent
          sends.push(...plan.sends.map((p) => ({ recipient: p.recipient, at: p.slot.getTime() })))
        }
        expect(minPairGap(sends)).toBeGreaterThanOrEqual(Quota.PAIR_SPACING_MS)
      })
    )
  })
})

describe("per-campaign rate caps (groups)", () => {
  // Two capped groups and uncapped recipients share one number; plans follow each other like claims do.
  const groupOf = (r: string): string | undefined => {
    const i = Number(r.slice(-3))
    return i % 3 === 0 ? "a" : i % 3 === 1 ? "b" : undefined
  }
  const groupStep = fc.record({
    gap: fc.oneof(fc.integer({ min: 0, max: 1_500 }), fc.integer({ min: 0, max: 20_000 })),
    fresh: fc.integer({ min: 0, max: 40 }),
    horizon: fc.constantFrom(200, 1_000, 2_000),
    throttle: fc.boolean()
  })
  it("holds every group to its rate and the number to its own, hands out no slot past the horizon, and loses no candidate", () => {
    fc.assert(
      fc.property(
        fc.array(groupStep, { minLength: 1, maxLength: 25 }),
        fc.constantFrom(20, 80, 1_000),
        fc.constantFrom(1, 3, 7),
        fc.constantFrom(2, 5, 19),
        (steps, rate, capA, capB) => {
          let now = T0
          let throughput = Quota.initialThroughput
          let paces = new Map<string, Quota.GroupPace>([
            ["a", { nextFreeAt: new Date(0), mps: capA }],
            ["b", { nextFreeAt: new Date(0), mps: capB }]
          ])
          let next = 0
          let waiting: Array<string> = []
          const byGroup = new Map<string, Array<number>>([["a", []], ["b", []]])
          const all: Array<number> = []
          for (const s of steps) {
            now += s.gap
            if (s.throttle) throughput = Quota.throttled(throughput, new Date(now))
            for (let i = 0; i < s.fresh; i++) waiting.push(`420601${String(next++).padStart(6, "0")}`)
            const plan = Quota.planSends({
              candidates: waiting, messagingLedger: Quota.emptyLedger, messagingLimit: "unlimited", throughputState: throughput,
              mps: rate, pairLastSent: new Map(), now: new Date(now), horizonMs: s.horizon,
              groups: { groupOf: new Map(waiting.flatMap((r) => { const g = groupOf(r); return g === undefined ? [] : [[r, g] as const] })), paces }
            })
            const sent = new Set(plan.sends.map((p) => p.recipient))
            const deferred = new Set(plan.deferred.map((d) => d.recipient))
            for (const r of waiting) expect(sent.has(r) !== deferred.has(r)).toBe(true)
            for (const p of plan.sends) {
              const at = p.slot.getTime()
              expect(at).toBeGreaterThanOrEqual(now)
              expect(at).toBeLessThan(now + s.horizon)
              all.push(at)
              const g = groupOf(p.recipient)
              if (g !== undefined) byGroup.get(g)?.push(at)
            }
            waiting = waiting.filter((r) => !sent.has(r))
            throughput = plan.throughputState
            paces = new Map([...paces].map(([g, pace]) => [g, { ...pace, nextFreeAt: plan.groupNextFreeAt.get(g) ?? pace.nextFreeAt }]))
          }
          expect(maxPerSecond(all)).toBeLessThanOrEqual(rate)
          expect(maxPerSecond(byGroup.get("a") ?? [])).toBeLessThanOrEqual(capA)
          expect(maxPerSecond(byGroup.get("b") ?? [])).toBeLessThanOrEqual(capB)
        }
      )
    )
  })

  it("lets uncapped sends use the number's slots between a capped campaign's", () => {
    const capped = Array.from({ length: 50 }, (_, i) => `4206019${String(i).padStart(5, "0")}`)
    const free = Array.from({ length: 50 }, (_, i) => `4206018${String(i).padStart(5, "0")}`)
    const plan = Quota.planSends({
      candidates: [...capped, ...free], messagingLedger: Quota.emptyLedger, messagingLimit: "unlimited",
      throughputState: Quota.initialThroughput, mps: 50, pairLastSent: new Map(), now: new Date(T0), horizonMs: 1_000,
      groups: { groupOf: new Map(capped.map((r) => [r, "slow"])), paces: new Map([["slow", { nextFreeAt: new Date(0), mps: 5 }]]) }
    })
    const sentCapped = plan.sends.filter((p) => capped.includes(p.recipient)).length
    expect(sentCapped).toBe(5)
    // The number's 50 slots in the second: 5 for the capped campaign, the other 45 for the uncapped one.
    expect(plan.sends).toHaveLength(50)
    expect(plan.groupNextFreeAt.get("slow")?.getTime()).toBe(T0 + 1_000)
  })
})
