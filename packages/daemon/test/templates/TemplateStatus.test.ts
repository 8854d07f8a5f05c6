// Template status webhooks and the campaigns on the template: pause with the reason, resume when approved
// again, never touch other templates, languages, WABAs or an operator's pause, and survive a racing operator.
import { describe, expect, it } from "@effect/vitest"
import { MemoryStorage } from "@megaphone/adapters"
import { Campaign, Ports, Template } from "@megaphone/core"
import { Effect, Result } from "effect"
import { applyTemplateStatus, statusAfter, type TemplateStatusEvent } from "../../src/templates/TemplateStatus.ts"
import { account, at, campaign, lifecycleOf, orderDone, statusOf, T0 } from "./fixtures.ts"

type Storage = Ports.Storage.StorageShape

const event = (name: string, overrides: Partial<TemplateStatusEvent> = {}): TemplateStatusEvent => ({
  wabaId: "waba-1",
  name: "order_done",
  language: "cs",
  event: name,
  reason: "NONE",
  description: null,
  ...overrides
})

/** Accounts shop + outlet on waba-1 and abroad on waba-2, both WABAs synced, and campaigns around order_done cs. */
const setUp = Effect.gen(function*() {
  const storage = yield* MemoryStorage.make
  for (const a of [account("shop", "waba-1"), account("outlet", "waba-1"), account("abroad", "waba-2")]) yield* storage.saveAccount(a)
  yield* storage.syncTemplates("waba-1", [orderDone(), orderDone({ language: "en" })], T0)
  yield* storage.syncTemplates("waba-2", [orderDone()], T0)
  const shop = yield* campaign(storage, "shop")
  const outlet = yield* campaign(storage, "outlet")
  const english = yield* campaign(storage, "shop", { language: "en" })
  const abroad = yield* campaign(storage, "abroad")
  const draft = yield* campaign(storage, "shop", { draft: true })
  const byOperator = yield* campaign(storage, "shop")
  yield* storage.updateCampaignLifecycle(byOperator.id, "running", Result.getOrThrow(Campaign.pause(byOperator.lifecycle, at(10))))
  return { storage, ids: { shop: shop.id, outlet: outlet.id, english: english.id, abroad: abroad.id, draft: draft.id, byOperator: byOperator.id } }
})

const apply = (storage: Storage, e: TemplateStatusEvent, now: Date, options: { autoResume?: boolean } = {}) =>
  applyTemplateStatus(e, now, options).pipe(Effect.provideService(Ports.Storage.Storage, storage))

describe("applyTemplateStatus", () => {
  it.effect("PAUSED pauses the running campaigns on that template of every account of the WABA, with Meta's explanation", () =>
    Effect.gen(function*() {
      const { storage, ids } = yield* setUp
      const result = yield* apply(storage, event("PAUSED", { description: "Your template has been paused for 3 hours." }), at(1000))
      expect(result).toEqual({ paused: [ids.shop, ids.outlet], resumed: [] })
      expect(yield* statusOf(storage, "waba-1", "order_done", "cs")).toBe("PAUSED")
      const paused = yield* lifecycleOf(storage, ids.shop)
      expect(paused.state).toBe("paused")
      expect(paused.pausedAt).toEqual(at(1000))
      expect(paused.pauseReason).toEqual({
        _tag: "System",
        kind: "template_unusable",
        explanation: Template.explainStatus(orderDone({ status: "PAUSED" })).en,
        code: "PAUSED"
      })
      expect(Campaign.describe(paused)).toMatch(/^Paused: Template order_done is paused by Meta for low quality/)
      // Other language, other WABA, a draft and an operator's pause stay as they were.
      expect((yield* lifecycleOf(storage, ids.english)).state).toBe("running")
      expect((yield* lifecycleOf(storage, ids.abroad)).state).toBe("running")
      expect((yield* lifecycleOf(storage, ids.draft)).state).toBe("draft")
      expect((yield* lifecycleOf(storage, ids.byOperator)).pauseReason).toEqual({ _tag: "Operator" })
      expect(yield* statusOf(storage, "waba-2", "order_done", "cs")).toBe("APPROVED")
      const log = yield* storage.listEvents(ids.shop, { limit: 10 })
      expect(log.map((e) => [e.kind, e.at])).toEqual([["campaign_paused", at(1000)]])
      expect(log[0]?.message).toMatch(/^Paused by the system: Template order_done is paused by Meta/)
      expect(log[0]?.data).toMatchObject({ by: "system", kind: "template_unusable", code: "PAUSED", source: "webhook",
        description: "Your template has been paused for 3 hours." })
    }))

  it.effect("APPROVED after a pause resumes what the system paused, not what an operator paused", () =>
    Effect.gen(function*() {
      const { storage, ids } = yield* setUp
      yield* apply(storage, event("PAUSED"), at(1000))
      const result = yield* apply(storage, event("APPROVED", { description: "UNPAUSE" }), at(2000))
      expect(result).toEqual({ paused: [], resumed: [ids.shop, ids.outlet] })
      const resumed = yield* lifecycleOf(storage, ids.shop)
      expect([resumed.state, resumed.pauseReason, resumed.pausedAt]).toEqual(["running", null, null])
      expect((yield* lifecycleOf(storage, ids.byOperator)).state).toBe("paused")
      expect(yield* statusOf(storage, "waba-1", "order_done", "cs")).toBe("APPROVED")
      expect((yield* storage.listEvents(ids.shop, { limit: 10 })).map((e) => e.kind)).toEqual(["campaign_paused", "campaign_resumed"])
    }))

  it.effect("REINSTATED counts as approved; auto-resume can be switched off", () =>
    Effect.gen(function*() {
      const { storage, ids } = yield* setUp
      yield* apply(storage, event("PAUSED"), at(1000))
      expect(yield* apply(storage, event("REINSTATED"), at(2000), { autoResume: false })).toEqual({ paused: [], resumed: [] })
      expect(yield* statusOf(storage, "waba-1", "order_done", "cs")).toBe("APPROVED")
      expect((yield* lifecycleOf(storage, ids.shop)).state).toBe("paused")
      expect(yield* apply(storage, event("REINSTATED"), at(3000))).toEqual({ paused: [], resumed: [ids.shop, ids.outlet] })
    }))

  it.effect("REJECTED stores the reason and explains it; DISABLED later updates the explanation of the paused campaigns", () =>
    Effect.gen(function*() {
      const { storage, ids } = yield* setUp
      expect((yield* apply(storage, event("REJECTED", { reason: "SCAM" }), at(1000))).paused).toEqual([ids.shop, ids.outlet])
      const stored = (yield* storage.listTemplates("waba-1")).find((t) => t.template.language === "cs")?.template
      expect(stored?.rejected_reason).toBe("SCAM")
      const rejected = (yield* lifecycleOf(storage, ids.shop)).pauseReason
      expect(rejected?._tag === "System" && rejected.explanation).toContain("Meta considers it deceptive or a scam.")

      expect(yield* apply(storage, event("DISABLED"), at(2000))).toEqual({ paused: [], resumed: [] })
      const disabled = yield* lifecycleOf(storage, ids.shop)
      expect(disabled.pauseReason).toMatchObject({ kind: "template_unusable", code: "DISABLED" })
      expect(disabled.pausedAt).toEqual(at(1000))
      expect((yield* storage.listEvents(ids.shop, { limit: 10 })).map((e) => e.kind))
        .toEqual(["campaign_paused", "campaign_pause_reason_changed"])
      // The same news twice writes nothing more.
      yield* apply(storage, event("DISABLED"), at(3000))
      expect((yield* storage.listEvents(ids.shop, { limit: 10 })).length).toBe(2)
    }))

  it.effect("every status that cannot be sent pauses; FLAGGED only warns and changes nothing", () =>
    Effect.gen(function*() {
      for (const status of ["PENDING_DELETION", "DELETED", "LOCKED", "LIMIT_EXCEEDED", "ARCHIVED", "IN_APPEAL", "SOMETHING_NEW"]) {
        const { storage, ids } = yield* setUp
        expect((yield* apply(storage, event(status), at(1000))).paused).toEqual([ids.shop, ids.outlet])
        expect((yield* lifecycleOf(storage, ids.shop)).pauseReason).toMatchObject({ code: status })
      }
      const { storage, ids } = yield* setUp
      expect(yield* apply(storage, event("FLAGGED"), at(1000))).toEqual({ paused: [], resumed: [] })
      expect(yield* statusOf(storage, "waba-1", "order_done", "cs")).toBe("APPROVED")
      expect((yield* lifecycleOf(storage, ids.shop)).state).toBe("running")
      expect([statusAfter("REINSTATED"), statusAfter("FLAGGED"), statusAfter("PAUSED"), statusAfter("toString")])
        .toEqual(["APPROVED", undefined, "PAUSED", "toString"])
    }))

  it.effect("a webhook for a template never synced still pauses campaigns on it", () =>
    Effect.gen(function*() {
      const { storage } = yield* setUp
      const welcome = yield* campaign(storage, "shop", { template: "welcome" })
      expect((yield* apply(storage, event("DISABLED", { name: "welcome" }), at(1000))).paused).toEqual([welcome.id])
      expect((yield* storage.listTemplates("waba-1")).some((t) => t.template.name === "welcome")).toBe(false)
    }))

  it.effect("an operator who stops or pauses the campaign first wins: the pause re-reads once and leaves it", () =>
    Effect.gen(function*() {
      const { storage, ids } = yield* setUp
      // The operator acts between our read and our write, for both campaigns.
      let raced = 0
      const racing: Storage = {
        ...storage,
        updateCampaignLifecycle: (id, expected, next) =>
          Effect.gen(function*() {
            if (raced < 2) {
              raced++
              const current = yield* lifecycleOf(storage, id)
              const operator = id === ids.shop ? Campaign.stop(current, at(500)) : Campaign.pause(current, at(500))
              yield* storage.updateCampaignLifecycle(id, current.state, Result.getOrThrow(operator))
            }
            return yield* storage.updateCampaignLifecycle(id, expected, next)
          })
      }
      expect(yield* apply(racing, event("PAUSED"), at(1000))).toEqual({ paused: [], resumed: [] })
      expect((yield* lifecycleOf(storage, ids.shop)).state).toBe("stopped")
      expect((yield* lifecycleOf(storage, ids.outlet)).pauseReason).toEqual({ _tag: "Operator" })
      expect(yield* storage.listEvents(undefined, { limit: 10 })).toEqual([])
    }))

  it.effect("a conflict that leaves the campaign running is retried once and the pause is stored", () =>
    Effect.gen(function*() {
      const { storage, ids } = yield* setUp
      let conflicts = 0
      const racing: Storage = {
        ...storage,
        updateCampaignLifecycle: (id, expected, next) =>
          conflicts++ === 0
            ? Effect.fail(new Ports.Storage.Conflict({ entity: "campaign", key: id, message: "changed" }))
            : storage.updateCampaignLifecycle(id, expected, next)
      }
      expect((yield* apply(racing, event("PAUSED"), at(1000))).paused).toEqual([ids.shop, ids.outlet])
      expect(conflicts).toBe(3)
    }))
})
