/** Limits and faults over real HTTP, with the simulator's clock driven by the test. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import {
  config, control, drivenClock, orderDone, PHONE_ID, PHONE_ID_2, send, startSimulator
} from "./support.ts"

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0)
const to = (i: number) => `4207${String(i).padStart(8, "0")}`

describe("throughput", () => {
  it("answers 130429 above the number's mps within a sliding second, and lets it go a second later", async () => {
    const clock = drivenClock(T0)
    const { sim, stop } = await startSimulator(config(), clock.provide)
    try {
      const answers = await Promise.all(Array.from({ length: 85 }, (_, i) => send(sim.url, orderDone(to(i)))))
      expect(answers.filter((a) => a.status === 200)).toHaveLength(80)
      const refused = answers.filter((a) => a.status === 429)
      expect(refused).toHaveLength(5)
      expect(refused[0]?.json.error?.code).toBe(130429)
      clock.advance(999)
      expect((await send(sim.url, orderDone(to(100)))).json.error?.code).toBe(130429)
      clock.advance(1)
      expect((await send(sim.url, orderDone(to(101)))).status).toBe(200)
      const stats = await fetch(`${sim.url}/_simulator/stats?messages=false`).then((r) => r.json()) as { maxMpsPerNumber: Record<string, number>; rejectionsByCode: Record<string, number> }
      expect(stats.maxMpsPerNumber[PHONE_ID]).toBe(80)
      expect(stats.rejectionsByCode["130429"]).toBe(6)
    } finally {
      await stop()
    }
  })

  it("honours an mps override", async () => {
    const clock = drivenClock(T0)
    const base = config()
    const { sim, stop } = await startSimulator({ ...base, accounts: base.accounts.map((a) => ({ ...a, mps: 3 })) }, clock.provide)
    try {
      const codes = []
      for (let i = 0; i < 4; i++) codes.push((await send(sim.url, orderDone(to(i)))).status)
      expect(codes).toEqual([200, 200, 200, 429])
    } finally {
      await stop()
    }
  })
})

describe("pair limit", () => {
  it("refuses the same recipient from the same number within 6 s with 131056, not from another number", async () => {
    const clock = drivenClock(T0)
    const { sim, stop } = await startSimulator(config(), clock.provide)
    try {
      expect((await send(sim.url, orderDone(to(1)))).status).toBe(200)
      clock.advance(5_999)
      const again = await send(sim.url, orderDone(to(1)))
      expect(again.status).toBe(429)
      expect(again.json.error?.code).toBe(131056)
      expect((await send(sim.url, orderDone(to(1)), { phoneId: PHONE_ID_2 })).status).toBe(200)
      clock.advance(1)
      expect((await send(sim.url, orderDone(to(1)))).status).toBe(200)
    } finally {
      await stop()
    }
  })

  it("allows a configured burst", async () => {
    const clock = drivenClock(T0)
    const { sim, stop } = await startSimulator(config({ limits: { pairBurst: 2 } }), clock.provide)
    try {
      const codes = []
      for (let i = 0; i < 4; i++) codes.push((await send(sim.url, orderDone(to(1)))).json.error?.code ?? 200)
      expect(codes).toEqual([200, 200, 200, 131056])
    } finally {
      await stop()
    }
  })
})

describe("messaging limit (rolling 24 h, shared by the portfolio)", () => {
  it("refuses new recipients beyond the limit with 131048, keeps serving counted ones, frees places after 24 h", async () => {
    const clock = drivenClock(T0)
    const base = config()
    // Both numbers share portfolio p1: its limit is the higher tier, here 3 (and 2).
    const accounts = base.accounts.map((a, i) => ({ ...a, messagingLimitTier: i === 0 ? 3 : 2 }))
    const { sim, stop } = await startSimulator({ ...base, accounts, limits: { pairSpacingMs: 1 } }, clock.provide)
    try {
      expect((await send(sim.url, orderDone(to(1)))).status).toBe(200)
      clock.advance(60_000)
      expect((await send(sim.url, orderDone(to(2)), { phoneId: PHONE_ID_2 })).status).toBe(200)
      expect((await send(sim.url, orderDone(to(3)))).status).toBe(200)
      const refused = await send(sim.url, orderDone(to(4)), { phoneId: PHONE_ID_2 })
      expect(refused.status).toBe(429)
      expect(refused.json.error?.code).toBe(131048)
      // A recipient already counted costs nothing.
      expect((await send(sim.url, orderDone(to(1)), { phoneId: PHONE_ID_2 })).status).toBe(200)
      // All three were last sent at T0 + 60 s: their places free exactly 24 h later.
      clock.set(T0 + 60_000 + 24 * 3_600_000 - 1)
      expect((await send(sim.url, orderDone(to(4)))).json.error?.code).toBe(131048)
      clock.advance(1)
      expect((await send(sim.url, orderDone(to(4)))).status).toBe(200)
    } finally {
      await stop()
    }
  })
})

describe("faults", () => {
  it("injects 5xx, 503 and 130429 from the configuration and changes them over the control endpoint", async () => {
    const { sim, stop } = await startSimulator(config({ faults: { serverError: 1 } }))
    try {
      const failed = await send(sim.url, orderDone(to(1)))
      expect([failed.status, failed.json.error?.code]).toEqual([500, 131000])
      // A bad payload still fails as at Meta, before any fault.
      expect((await send(sim.url, orderDone(to(2), ["a"]))).json.error?.code).toBe(132000)
      expect((await control(sim.url, "faults", { serverError: 0, unavailable: 1 })).status).toBe(200)
      const unavailable = await send(sim.url, orderDone(to(3)))
      expect([unavailable.status, unavailable.json.error?.code]).toEqual([503, 2])
      await control(sim.url, "faults", { unavailable: 0, rateLimit: 1 })
      expect((await send(sim.url, orderDone(to(4)))).json.error?.code).toBe(130429)
      const bad = await control(sim.url, "faults", { rateLimit: 2 })
      expect(bad.status).toBe(400)
      expect(String(bad.json.error)).toMatch(/rateLimit/)
      await control(sim.url, "faults", { rateLimit: 0, invalidNumbers: [`+${to(5)}`] })
      const invalid = await send(sim.url, orderDone(to(5)))
      expect(invalid.json.error?.code).toBe(131009)
      expect((await send(sim.url, orderDone(to(6)))).status).toBe(200)
    } finally {
      await stop()
    }
  })

  it("draws the same faults for the same seed", async () => {
    const run = async () => {
      const { sim, stop } = await startSimulator(config({ seed: 99, faults: { serverError: 0.5 } }))
      try {
        const codes: Array<number> = []
        for (let i = 0; i < 20; i++) codes.push((await send(sim.url, orderDone(to(i)))).status)
        return codes
      } finally {
        await stop()
      }
    }
    const first = await run()
    expect(first).toContain(500)
    expect(first).toContain(200)
    expect(await run()).toEqual(first)
  })

  it("hangs until the client gives up, and adds latency", async () => {
    const { sim, stop } = await startSimulator(config({ faults: { hang: 1, hangMaxMs: 2_000 } }))
    try {
      const started = Date.now()
      const hung = await Promise.race([
        send(sim.url, orderDone(to(1))).then(() => "answered", () => "dropped"),
        new Promise((resolve) => setTimeout(() => resolve("timeout"), 300))
      ])
      expect(hung).toBe("timeout")
      await Effect.runPromise(sim.setFaults({ hang: 0, latencyMs: 150 }))
      const answered = await send(sim.url, orderDone(to(2)))
      expect(answered.status).toBe(200)
      expect(Date.now() - started).toBeGreaterThanOrEqual(440)
    } finally {
      await stop()
    }
  })

  it("pauses a template after N accepted messages, as configured", async () => {
    const { sim, stop } = await startSimulator(config({
      faults: { templateEvents: [{ name: "order_done", language: "cs", event: "PAUSED", afterAccepted: 2 }] }
    }))
    try {
      const codes: Array<number> = []
      for (let i = 0; i < 3; i++) codes.push((await send(sim.url, orderDone(to(i)))).json.error?.code ?? 200)
      expect(codes).toEqual([200, 200, 132015])
      await control(sim.url, "reset", {})
      expect((await send(sim.url, orderDone(to(9)))).status).toBe(200)
    } finally {
      await stop()
    }
  })
})
