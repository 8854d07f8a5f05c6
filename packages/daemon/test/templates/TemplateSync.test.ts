// Template sync with a fake Meta: what it stores, which templates it explains, and the campaigns it pauses
// (template now unusable or gone) and resumes — the same decisions as the status webhook.
import { describe, expect, it } from "@effect/vitest"
import { MemoryStorage } from "@megaphone/adapters"
import { Ports, Template } from "@megaphone/core"
import { Effect, Exit, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { syncTemplates } from "../../src/templates/TemplateSync.ts"
import { account, at, campaign, lifecycleOf, orderDone, statusOf, T0 } from "./fixtures.ts"

type Storage = Ports.Storage.StorageShape

const token = Redacted.make("EAAG-secret")

/** A fake Graph API whose template list the test changes between syncs; it records who asked. */
const fakeMeta = () => {
  const state = { templates: [] as ReadonlyArray<Template.Template>, calls: [] as Array<Ports.Transport.SenderCredentials> }
  const transport = Ports.Transport.Transport.of({
    sendTemplate: () => Effect.die("not used"),
    phoneNumberInfo: () => Effect.die("not used"),
    listTemplates: (sender) => Effect.sync(() => {
      state.calls.push(sender)
      return state.templates
    })
  })
  return { state, transport }
}

const promo = orderDone({ id: "2", name: "spring_sale", category: "MARKETING", status: "PAUSED", quality_score: { score: "RED" } })
const gappy = orderDone({ id: "3", name: "gappy", components: [{ type: "BODY", text: "Hi {{1}}, see {{3}}" }] })

const shop = account("shop", "waba-1")

const sync = (storage: Storage, transport: Ports.Transport.TransportShape, options: { autoResume?: boolean } = {}) =>
  syncTemplates(shop, token, options).pipe(
    Effect.provideService(Ports.Storage.Storage, storage),
    Effect.provideService(Ports.Transport.Transport, transport)
  )

describe("syncTemplates", () => {
  it.effect("stores every template of the WABA and explains each one that cannot be sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0.getTime())
      const storage = yield* MemoryStorage.make
      yield* storage.saveAccount(shop)
      const meta = fakeMeta()
      meta.state.templates = [orderDone(), promo, gappy]
      const report = yield* sync(storage, meta.transport)
      expect(report).toMatchObject({ added: 3, updated: 0, deleted: 0, paused: [], resumed: [] })
      expect(report.problems).toEqual([
        { name: "gappy", language: "cs", status: "APPROVED", explanation: expect.stringContaining("they must be numbered {{1}}, {{2}} without gaps") },
        { name: "spring_sale", language: "cs", status: "PAUSED", explanation: Template.explainStatus(promo).en }
      ])
      expect(report.problems[1]?.explanation).toContain("(quality RED)")
      expect(meta.state.calls).toEqual([{ phoneNumberId: shop.phoneNumberId, wabaId: "waba-1", accessToken: token,
        graphUrl: shop.graphUrl, graphVersion: "v23.0" }])
      const stored = yield* storage.listTemplates("waba-1")
      expect(stored.map((t) => [t.template.name, t.syncedAt])).toEqual([["gappy", T0], ["order_done", T0], ["spring_sale", T0]])
    }))

  it.effect("a running campaign pauses when its template is paused or gone, and resumes when it is approved again", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0.getTime())
      const storage = yield* MemoryStorage.make
      yield* storage.saveAccount(shop)
      yield* storage.saveAccount(account("outlet", "waba-1"))
      yield* storage.saveAccount(account("abroad", "waba-2"))
      const meta = fakeMeta()
      meta.state.templates = [orderDone(), promo]
      yield* sync(storage, meta.transport)
      yield* storage.syncTemplates("waba-2", [orderDone()], T0)
      const mine = yield* campaign(storage, "shop")
      const sibling = yield* campaign(storage, "outlet")
      const elsewhere = yield* campaign(storage, "abroad")
      const sale = yield* campaign(storage, "shop", { template: "spring_sale" })

      // Syncing a WABA catches campaigns started on a template that was paused meanwhile.
      yield* TestClock.setTime(at(1000).getTime())
      meta.state.templates = [orderDone({ status: "PAUSED" }), promo]
      const paused = yield* sync(storage, meta.transport)
      expect(paused).toMatchObject({ added: 0, updated: 2, deleted: 0, resumed: [] })
      expect([...paused.paused].sort()).toEqual([mine.id, sibling.id, sale.id].sort())
      expect((yield* lifecycleOf(storage, mine.id)).pauseReason).toMatchObject({ kind: "template_unusable", code: "PAUSED" })
      expect((yield* lifecycleOf(storage, elsewhere.id)).state).toBe("running")
      expect((yield* storage.listEvents(mine.id, { limit: 5 }))[0]?.data).toMatchObject({ source: "sync", code: "PAUSED" })

      yield* TestClock.setTime(at(2000).getTime())
      meta.state.templates = [orderDone(), promo]
      const resumed = yield* sync(storage, meta.transport)
      expect([...resumed.resumed].sort()).toEqual([mine.id, sibling.id].sort())
      expect((yield* lifecycleOf(storage, sale.id)).state).toBe("paused")

      // Gone from Meta's list: deleted, and its campaigns pause saying so.
      yield* TestClock.setTime(at(3000).getTime())
      meta.state.templates = [promo]
      const gone = yield* sync(storage, meta.transport, { autoResume: false })
      expect(gone).toMatchObject({ deleted: 1, paused: [mine.id, sibling.id] })
      const reason = (yield* lifecycleOf(storage, mine.id)).pauseReason
      expect(reason).toMatchObject({ kind: "template_unusable", code: "DELETED" })
      expect(reason?._tag === "System" && reason.explanation).toMatch(/^Template order_done was deleted\./)
      expect(yield* statusOf(storage, "waba-2", "order_done", "cs")).toBe("APPROVED")
    }))

  it.effect("a campaign on an approved template with a structural problem pauses with that problem's code", () =>
    Effect.gen(function*() {
      const storage = yield* MemoryStorage.make
      yield* storage.saveAccount(shop)
      const meta = fakeMeta()
      meta.state.templates = [orderDone()]
      yield* sync(storage, meta.transport)
      const mine = yield* campaign(storage, "shop")
      meta.state.templates = [orderDone({ components: [{ type: "BODY", text: "Hi {{1}}, see {{3}}" }] })]
      expect((yield* sync(storage, meta.transport)).paused).toEqual([mine.id])
      expect((yield* lifecycleOf(storage, mine.id)).pauseReason).toMatchObject({ code: "placeholder_gap" })
    }))

  it.effect("a Graph failure fails the sync and stores nothing", () =>
    Effect.gen(function*() {
      const storage = yield* MemoryStorage.make
      const failing = Ports.Transport.Transport.of({
        sendTemplate: () => Effect.die("not used"),
        phoneNumberInfo: () => Effect.die("not used"),
        listTemplates: () => Effect.fail(new Ports.Transport.TransportError({
          operation: "list_templates",
          error: { errorClass: "auth", scope: "waba", code: "190", text: "(#190) Access token expired" }
        }))
      })
      const exit = yield* Effect.exit(sync(storage, failing))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(exit)).toContain("list_templates failed: (#190) Access token expired")
      expect(yield* storage.listTemplates()).toEqual([])
    }))
})
