/** Status and template webhooks posted to a tiny local receiver: shape, signature, order, duplicates, redelivery. */
import { createHmac } from "node:crypto"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { SimulatorConfigInput } from "../../../src/transport/simulator/Config.ts"
import { config, control, eventually, orderDone, PHONE_ID, receiver, send, startSimulator, WABA_ID } from "./support.ts"

const SECRET = "app-secret"
const to = (i: number) => `4207${String(i).padStart(8, "0")}`
const fast = { sentMs: 0, deliveredMs: 5, readMs: 5, jitterMs: 0 }

const withReceiver = async (
  webhook: Omit<NonNullable<SimulatorConfigInput["webhook"]>, "url" | "appSecret">,
  run: (sim: Awaited<ReturnType<typeof startSimulator>>["sim"], hook: Awaited<ReturnType<typeof receiver>>) => Promise<void>,
  answer?: (n: number) => number,
  patch: Partial<SimulatorConfigInput> = {}
) => {
  const hook = await receiver(answer)
  const { sim, stop } = await startSimulator(config({ ...patch, webhook: { url: hook.url, appSecret: SECRET, ...webhook } }))
  try {
    await run(sim, hook)
  } finally {
    await stop()
    await hook.close()
  }
}

const wamidOf = (answer: Awaited<ReturnType<typeof send>>) => (answer.json.messages as Array<{ id: string }>)[0]?.id ?? ""

describe("status webhooks", () => {
  it("posts signed sent → delivered → read in Meta's shape, in order when reordering is off", async () => {
    await withReceiver({ delays: fast }, async (sim, hook) => {
      const wamids: Array<string> = []
      for (let i = 0; i < 5; i++) wamids.push(wamidOf(await send(sim.url, orderDone(to(i), undefined, { biz_opaque_callback_data: `c:${i}` }))))
      await eventually(() => hook.statuses().length === 15)
      for (const post of hook.received) {
        const expected = `sha256=${createHmac("sha256", SECRET).update(post.raw).digest("hex")}`
        expect(post.headers["x-hub-signature-256"]).toBe(expected)
        expect(post.json).toMatchObject({ object: "whatsapp_business_account", entry: [{ id: WABA_ID, changes: [{ field: "messages" }] }] })
        expect(post.json.entry[0]?.changes[0]?.value).toMatchObject({
          messaging_product: "whatsapp", metadata: { display_phone_number: "420601000001", phone_number_id: PHONE_ID }
        })
      }
      // Non-ASCII is escaped as Meta does; here the payload is ASCII anyway, so the raw body parses back to itself.
      expect(hook.received[0]?.raw).not.toMatch(/[^\x20-\x7e]/)
      wamids.forEach((wamid, i) => {
        const mine = hook.statuses().filter((s) => s.id === wamid)
        expect(mine.map((s) => s.status)).toEqual(["sent", "delivered", "read"])
        expect(mine[0]).toMatchObject({
          recipient_id: to(i), biz_opaque_callback_data: `c:${i}`, timestamp: expect.stringMatching(/^\d{10}$/),
          pricing: { billable: true, pricing_model: "PMP", type: "regular", category: "utility" }
        })
        expect(mine[2]).not.toHaveProperty("pricing")
      })
      await eventually(() => Effect.runSync(sim.stats).webhooks.posted === 15)
      const stats = await Effect.runPromise(sim.stats)
      expect(stats.webhooks).toMatchObject({ posted: 15, statusesPosted: 15, failed: 0, pending: 0 })
    })
  })

  it("batches several statuses per POST", async () => {
    await withReceiver({ delays: { sentMs: 1_000, deliveredMs: 0, readMs: 0, jitterMs: 0 }, probabilities: { delivered: 0 }, batchSize: 10 }, async (sim, hook) => {
      await Promise.all(Array.from({ length: 6 }, (_, i) => send(sim.url, orderDone(to(i)))))
      // Hold the event loop (the simulator's too) until every status is due, so however slowly a loaded machine
      // sent them, one drain finds all six due together.
      const sent = Date.now()
      while (Date.now() < sent + 1_100) { /* busy on purpose */ }
      await eventually(() => hook.statuses().length === 6)
      expect(hook.received.length).toBeLessThan(6)
      expect(hook.received.some((post) => (post.json.entry[0]?.changes[0]?.value.statuses?.length ?? 0) > 1)).toBe(true)
    })
  })

  it("duplicates and reorders when configured", async () => {
    await withReceiver({ delays: { sentMs: 0, deliveredMs: 1, readMs: 1, jitterMs: 0 }, duplicates: 0.3, reorder: { windowMs: 200 } }, async (sim, hook) => {
      const wamids: Array<string> = []
      for (let i = 0; i < 30; i++) wamids.push(wamidOf(await send(sim.url, orderDone(to(i)))))
      await eventually(() => new Set(hook.statuses().map((s) => `${String(s.id)}:${String(s.status)}`)).size === 90 &&
        Effect.runSync(sim.stats).webhooks.pending === 0)
      expect(hook.statuses().length).toBeGreaterThan(90)
      const rank = { sent: 0, delivered: 1, read: 2 } as Record<string, number>
      const outOfOrder = wamids.filter((wamid) => {
        const seen = hook.statuses().filter((s) => s.id === wamid).map((s) => rank[String(s.status)] ?? 0)
        return seen.some((r, i) => i > 0 && r < (seen[i - 1] ?? 0))
      })
      expect(outOfOrder.length).toBeGreaterThan(0)
    })
  })

  it("redelivers after a 500 with backoff, up to maxAttempts", async () => {
    await withReceiver({ delays: fast, probabilities: { delivered: 0 }, retryBaseMs: 20, maxAttempts: 3 }, async (sim, hook) => {
      const wamid = wamidOf(await send(sim.url, orderDone(to(1))))
      await eventually(() => hook.statuses().length === 1)
      expect(hook.attempts()).toBe(3)
      expect(hook.statuses()[0]).toMatchObject({ id: wamid, status: "sent" })
      // The receiver has the body before the simulator has read its 200: wait for the count, then check it.
      await eventually(() => Effect.runSync(sim.stats).webhooks.posted === 1)
      expect((await Effect.runPromise(sim.stats)).webhooks).toMatchObject({ posted: 1, failed: 2, retried: 2, dropped: 0 })
    }, (n) => (n < 2 ? 500 : 200))
  })

  it("gives up after maxAttempts and counts the drop", async () => {
    await withReceiver({ delays: fast, probabilities: { delivered: 0 }, retryBaseMs: 10, maxAttempts: 2 }, async (sim, hook) => {
      await send(sim.url, orderDone(to(1)))
      await eventually(() => Effect.runSync(sim.stats).webhooks.dropped === 1)
      expect(hook.attempts()).toBe(2)
    }, () => 503)
  })

  it("reports an undeliverable recipient as failed with 131026", async () => {
    await withReceiver({ delays: fast }, async (sim, hook) => {
      const answer = await send(sim.url, orderDone(to(7)))
      expect(answer.status).toBe(200)
      await eventually(() => hook.statuses().length === 1)
      expect(hook.statuses()[0]).toMatchObject({ id: wamidOf(answer), status: "failed", errors: [{ code: 131026 }] })
      expect(hook.statuses()[0]).not.toHaveProperty("pricing")
    }, undefined, { faults: { undeliverableRecipients: [to(7)] } })
  })
})

describe("template status webhooks", () => {
  it("posts message_template_status_update on PAUSED and REINSTATED, and sends follow the status", async () => {
    await withReceiver({ delays: fast }, async (sim, hook) => {
      await Effect.runPromise(sim.setTemplateStatus(WABA_ID, "order_done", "cs", "PAUSED"))
      expect((await send(sim.url, orderDone(to(1)))).json.error?.code).toBe(132015)
      expect((await control(sim.url, "template-status", { name: "order_done", language: "cs", event: "REINSTATED" })).status).toBe(200)
      expect((await send(sim.url, orderDone(to(2)))).status).toBe(200)
      await eventually(() => hook.received.filter((r) => r.json.entry[0]?.changes[0]?.field === "message_template_status_update").length === 2)
      const events = hook.received
        .filter((r) => r.json.entry[0]?.changes[0]?.field === "message_template_status_update")
        .map((r) => r.json.entry[0]?.changes[0]?.value)
      expect(events[0]).toMatchObject({
        event: "PAUSED", message_template_id: 1001, message_template_name: "order_done", message_template_language: "cs",
        message_template_category: "UTILITY", reason: "NONE", other_info: { title: "FIRST_PAUSE" }
      })
      expect(events[1]).toMatchObject({ event: "REINSTATED", other_info: { title: "UNPAUSE" } })
      const unknown = await Effect.runPromise(Effect.flip(sim.setTemplateStatus(WABA_ID, "nope", "cs", "PAUSED")))
      expect(unknown.message).toMatch(/nope/)
    })
  })
})
