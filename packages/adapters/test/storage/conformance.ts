/**
 * The storage conformance suite: every adapter of the Storage port passes exactly these tests.
 *
 *   storageConformance("memory", () => MemoryStorage.layer)
 *
 * `makeLayer` is called once per test and must give a fresh, empty storage.
 */
import { Campaign, ContactState, Filter, Ports, RetryPolicy, SendWindow, Template } from "@megaphone/core"
import { Effect, Layer, Option, Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { account, unlimitedAccount } from "../support/fixtures.ts"

type Storage = Ports.Storage.StorageShape
type Account = Ports.Storage.Account

/** The suite's account fixture (shared with other tests and the benchmarks). */
export { account }

const T0 = new Date("2026-11-26T10:00:00.000Z")
const at = (ms: number) => new Date(T0.getTime() + ms)
const SECOND = 1000
const DAY = 24 * 3600 * SECOND


const orderDone = Result.getOrThrow(Template.decode({
  id: "1689556908129832",
  name: "order_done",
  language: "cs",
  status: "APPROVED",
  category: "UTILITY",
  components: [{ type: "BODY", text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena." }]
}))

/** A recipient (wa_id) numbered n. */
const recipient = (n: number) => `420601${String(n).padStart(6, "0")}`
const newContact = (n: number): Ports.Storage.NewCampaignContact => ({
  phone: `+${recipient(n)}`,
  recipient: recipient(n),
  parameters: { "1": "pane", "2": `Novák ${n}`, "3": `2024-${n}` }
})

/** Create a campaign on the account and set it running. */
const runningCampaign = (storage: Storage, accountName: string, name = "campaign") =>
  Effect.gen(function*() {
    const created = yield* storage.createCampaign(
      { name, accountName, templateName: "order_done", language: "cs", note: null },
      T0
    )
    const counts = { ...Campaign.emptyCounts, initial: 1 }
    const running = Result.getOrThrow(Campaign.start(created.lifecycle, counts, T0))
    return yield* storage.updateCampaignLifecycle(created.id, "draft", running)
  })

const stateOf = (storage: Storage, id: string) =>
  Effect.map(storage.getCampaignContact(id), (c) => Option.getOrThrow(c).progress.state)

/** Registers the suite for one adapter; `makeLayer` gives a fresh, empty storage each call. */
export const storageConformance = (
  name: string,
  makeLayer: () => Layer.Layer<Ports.Storage.Storage, unknown>,
  options: { readonly timeoutMs?: number } = {}
): void => {
  const timeout = options.timeoutMs ?? 30_000
  const run = <A, E>(body: (storage: Storage) => Effect.Effect<A, E>): Promise<A> =>
    Effect.runPromise(
      Effect.gen(function*() {
        const storage = yield* Ports.Storage.Storage
        return yield* body(storage)
      }).pipe(Effect.provide(makeLayer()), Effect.scoped) as Effect.Effect<A, never>
    )
  const test = (title: string, body: (storage: Storage) => Effect.Effect<unknown, unknown>) =>
    it(title, () => run(body), timeout)

  describe(`Storage conformance: ${name}`, () => {
    describe("accounts", () => {
      test("save, get, list; saving again replaces but keeps createdAt", (s) =>
        Effect.gen(function*() {
          yield* s.saveAccount(account("b"))
          yield* s.saveAccount(account("a", { portfolioId: "pf-1", messagingLimit: "unlimited" }))
          yield* s.saveAccount(account("b", { qualityRating: "RED", createdAt: at(5000), updatedAt: at(5000) }))
          expect((yield* s.listAccounts()).map((a) => a.name)).toEqual(["a", "b"])
          const b = Option.getOrThrow(yield* s.getAccount("b"))
          expect(b.qualityRating).toBe("RED")
          expect(b.createdAt).toEqual(T0)
          expect(b.updatedAt).toEqual(at(5000))
          expect(Option.getOrThrow(yield* s.getAccount("a"))).toEqual(account("a", { portfolioId: "pf-1", messagingLimit: "unlimited" }))
          expect(Option.isNone(yield* s.getAccount("nobody"))).toBe(true)
        }))

      test("the operator's throughput cap is kept, and saving without it removes it", (s) =>
        Effect.gen(function*() {
          yield* s.saveAccount(account("capped", { maxMps: 20 }))
          const capped = Option.getOrThrow(yield* s.getAccount("capped"))
          expect(capped.maxMps).toBe(20)
          expect(Ports.Storage.sendRate(capped)).toBe(20)
          yield* s.saveAccount(account("capped"))
          const uncapped = Option.getOrThrow(yield* s.getAccount("capped"))
          expect(uncapped.maxMps).toBeUndefined()
          expect(Ports.Storage.sendRate(uncapped)).toBe(uncapped.throughputMps)
        }))

      test("the provider is kept, and an account saved without one stays Meta direct (no provider)", (s) =>
        Effect.gen(function*() {
          yield* s.saveAccount(account("bsp", { provider: "360dialog" }))
          expect(Option.getOrThrow(yield* s.getAccount("bsp")).provider).toBe("360dialog")
          yield* s.saveAccount(account("direct", { provider: "meta" }))
          expect(Option.getOrThrow(yield* s.getAccount("direct")).provider).toBe("meta")
          yield* s.saveAccount(account("bsp"))
          expect(Option.getOrThrow(yield* s.getAccount("bsp")).provider).toBeUndefined()
        }))
    })

    describe("templates", () => {
      test("sync adds, updates, marks missing ones deleted once, and undeletes when listed again", (s) =>
        Effect.gen(function*() {
          const en = { ...orderDone, language: "en" }
          expect(yield* s.syncTemplates("waba-1", [orderDone, en], T0)).toEqual({ added: 2, updated: 0, deleted: 0 })
          expect(yield* s.syncTemplates("waba-1", [{ ...orderDone, status: "PAUSED" }], at(1000))).toEqual({ added: 0, updated: 1, deleted: 1 })
          expect(yield* s.syncTemplates("waba-1", [orderDone], at(2000))).toEqual({ added: 0, updated: 1, deleted: 0 })
          yield* s.syncTemplates("waba-2", [orderDone], at(2000))
          const listed = yield* s.listTemplates("waba-1")
          expect(listed.map((t) => [t.template.name, t.template.language, t.deletedAt])).toEqual([
            ["order_done", "cs", null],
            ["order_done", "en", at(1000)]
          ])
          expect(listed[0]?.syncedAt).toEqual(at(2000))
          expect(listed[0]?.template).toEqual(orderDone)
          expect((yield* s.listTemplates()).length).toBe(3)
          expect(yield* s.syncTemplates("waba-1", [orderDone, en], at(3000))).toEqual({ added: 0, updated: 2, deleted: 0 })
          expect((yield* s.listTemplates("waba-1")).every((t) => t.deletedAt === null)).toBe(true)
        }))

      test("a status webhook updates status and rejected reason of that one template; unknown ones are none", (s) =>
        Effect.gen(function*() {
          const en = { ...orderDone, language: "en" }
          yield* s.syncTemplates("waba-1", [{ ...orderDone, rejected_reason: "NONE" }, en], T0)
          yield* s.syncTemplates("waba-2", [orderDone], T0)
          const rejected = Option.getOrThrow(yield* s.updateTemplateStatus("waba-1", "order_done", "cs", "REJECTED", "SCAM", at(1000)))
          expect(rejected).toEqual({
            wabaId: "waba-1",
            template: { ...orderDone, status: "REJECTED", rejected_reason: "SCAM" },
            syncedAt: at(1000),
            deletedAt: null
          })
          const approved = Option.getOrThrow(yield* s.updateTemplateStatus("waba-1", "order_done", "cs", "APPROVED", null, at(2000)))
          expect(approved.template).toEqual(orderDone)
          expect("rejected_reason" in approved.template).toBe(false)
          const listed = yield* s.listTemplates()
          expect(listed.map((t) => [t.wabaId, t.template.language, t.template.status, t.syncedAt])).toEqual([
            ["waba-1", "cs", "APPROVED", at(2000)],
            ["waba-1", "en", "APPROVED", T0],
            ["waba-2", "cs", "APPROVED", T0]
          ])
          expect(listed[0]?.template).toEqual(orderDone)
          expect(Option.isNone(yield* s.updateTemplateStatus("waba-1", "order_done", "de", "PAUSED", null, at(3000)))).toBe(true)
          expect(Option.isNone(yield* s.updateTemplateStatus("waba-3", "order_done", "cs", "PAUSED", null, at(3000)))).toBe(true)
          // A template Meta no longer lists keeps its deletion mark: only the next sync decides that.
          yield* s.syncTemplates("waba-1", [orderDone], at(4000))
          const gone = Option.getOrThrow(yield* s.updateTemplateStatus("waba-1", "order_done", "en", "DELETED", null, at(5000)))
          expect([gone.template.status, gone.deletedAt]).toEqual(["DELETED", at(4000)])
        }))
    })

    describe("directory and filters", () => {
      test("import inserts, merges non-empty values on update, skips on skip", (s) =>
        Effect.gen(function*() {
          const first = yield* s.importDirectory([
            { phone: "+420601000001", columns: { name: "Anna", city: "Praha" } },
            { phone: "+420601000002", columns: { name: "Petr", city: "Brno" } }
          ], "update", T0)
          expect(first).toEqual({ inserted: 2, updated: 0, skipped: 0 })
          const second = yield* s.importDirectory([
            { phone: "+420601000001", columns: { city: "", email: "anna@example.cz" } },
            { phone: "+420601000003", columns: { name: "Eva" } }
          ], "update", at(1000))
          expect(second).toEqual({ inserted: 1, updated: 1, skipped: 0 })
          const third = yield* s.importDirectory([{ phone: "+420601000002", columns: { city: "Ostrava" } }], "skip", at(2000))
          expect(third).toEqual({ inserted: 0, updated: 0, skipped: 1 })
          const all = yield* s.listDirectory(undefined, { limit: 100 })
          expect(all.map((c) => [c.phone, c.columns])).toEqual([
            ["+420601000001", { name: "Anna", city: "Praha", email: "anna@example.cz" }],
            ["+420601000002", { name: "Petr", city: "Brno" }],
            ["+420601000003", { name: "Eva" }]
          ])
          expect(all[0]?.createdAt).toEqual(T0)
          expect(all[0]?.updatedAt).toEqual(at(1000))
          expect(yield* s.directoryColumns()).toEqual(["city", "email", "name"])
        }))

      test("a phone repeated inside one batch is handled as imported again right after", (s) =>
        Effect.gen(function*() {
          const result = yield* s.importDirectory([
            { phone: "+420601000001", columns: { name: "Anna" } },
            { phone: "+420601000001", columns: { city: "Praha" } }
          ], "update", T0)
          expect(result).toEqual({ inserted: 1, updated: 1, skipped: 0 })
          expect((yield* s.listDirectory(undefined, { limit: 10 }))[0]?.columns).toEqual({ name: "Anna", city: "Praha" })
        }))

      test("list by filter and page, with the evaluator's semantics", (s) =>
        Effect.gen(function*() {
          yield* s.importDirectory(Array.from({ length: 30 }, (_, i) => ({
            phone: `+4206010000${String(i).padStart(2, "0")}`,
            columns: { city: i % 3 === 0 ? "Praha" : "Brno", orders: String(i) }
          })), "update", T0)
          const filter = Result.getOrThrow(Filter.parse(`city = "Praha" and orders >= 9`))
          const page1 = yield* s.listDirectory(filter, { limit: 3 })
          expect(page1.map((c) => c.columns["orders"])).toEqual(["9", "12", "15"])
          const page2 = yield* s.listDirectory(filter, { limit: 3, afterId: page1[2]?.id ?? "" })
          expect(page2.map((c) => c.columns["orders"])).toEqual(["18", "21", "24"])
          const byPhone = Result.getOrThrow(Filter.parse(`phone starts with "+42060100001"`))
          expect((yield* s.listDirectory(byPhone, { limit: 100 })).length).toBe(10)
        }))

      test("count and search (phone or any column, case-insensitive) agree with listing, with and without a filter", (s) =>
        Effect.gen(function*() {
          yield* s.importDirectory([
            { phone: "+420601000001", columns: { name: "Žaneta Nováková", city: "Praha" } },
            { phone: "+420601000002", columns: { name: "Petr Novák", city: "Brno", note: "  VIP " } },
            { phone: "+420777000003", columns: { name: "Eva", city: "Praha", email: "eva@NOVAK.cz" } },
            { phone: "+420601000004", columns: { name: "Jan", city: "Ostrava" } }
          ], "update", T0)
          expect(yield* s.countDirectory(undefined)).toBe(4)
          const praha = Filter.equals("city", "Praha")
          expect(yield* s.countDirectory(praha)).toBe(2)
          const phones = (rows: ReadonlyArray<Ports.Storage.DirectoryContact>) => rows.map((c) => c.phone)
          // Any column value, whatever the case (Czech rules: Ž/ž), or the phone number.
          expect(phones(yield* s.listDirectory(undefined, { limit: 10 }, "NOVÁK"))).toEqual(["+420601000001", "+420601000002"])
          expect(phones(yield* s.listDirectory(undefined, { limit: 10 }, "novak"))).toEqual(["+420777000003"])
          expect(phones(yield* s.listDirectory(undefined, { limit: 10 }, "žaNETA"))).toEqual(["+420601000001"])
          expect(phones(yield* s.listDirectory(undefined, { limit: 10 }, "777"))).toEqual(["+420777000003"])
          expect(phones(yield* s.listDirectory(undefined, { limit: 10 }, " vip"))).toEqual(["+420601000002"])
          expect(phones(yield* s.listDirectory(undefined, { limit: 10 }, "nobody"))).toEqual([])
          expect(yield* s.countDirectory(undefined, "601")).toBe(3)
          expect(yield* s.countDirectory(undefined, "")).toBe(4)
          // Filter and search together, a page at a time.
          const novak = yield* s.listDirectory(praha, { limit: 1 }, "nov")
          expect(phones(novak)).toEqual(["+420601000001"])
          expect(phones(yield* s.listDirectory(praha, { limit: 1, afterId: novak[0]?.id ?? "" }, "nov"))).toEqual(["+420777000003"])
          expect(yield* s.countDirectory(praha, "nov")).toBe(2)
          expect(yield* s.countDirectory(Filter.equals("city", "Brno"), "777")).toBe(0)
          for (const search of ["nov", "601", "praha", "VIP", "x"]) {
            const all = yield* s.listDirectory(undefined, { limit: 10 }, search)
            expect([search, all.every((c) => Ports.Storage.matchesSearch(c, search))]).toEqual([search, true])
            expect([search, yield* s.countDirectory(undefined, search)]).toEqual([search, all.length])
          }
        }))

      test("get one contact by id or by phone; unknown ones are none", (s) =>
        Effect.gen(function*() {
          yield* s.importDirectory([
            { phone: "+420601000001", columns: { name: "Anna" } },
            { phone: "+420601000002", columns: { name: "Petr" } }
          ], "update", T0)
          const [anna, petr] = yield* s.listDirectory(undefined, { limit: 10 })
          expect(Option.getOrThrow(yield* s.getDirectoryContact({ id: anna?.id ?? "" }))).toEqual(anna)
          expect(Option.getOrThrow(yield* s.getDirectoryContact({ phone: "+420601000002" }))).toEqual(petr)
          for (const key of [{ id: "999999" }, { id: "abc" }, { id: "" }, { id: "-1" }, { phone: "420601000002" }, { phone: "+1" }]) {
            expect([key, Option.isNone(yield* s.getDirectoryContact(key))]).toEqual([key, true])
          }
        }))

      test("delete by ids and phones or by filter; campaign contacts keep their parameters and lose only the link", (s) =>
        Effect.gen(function*() {
          yield* s.importDirectory(Array.from({ length: 6 }, (_, i) => ({
            phone: `+42060100000${i}`,
            columns: { name: `Contact ${i}`, city: i < 3 ? "Praha" : "Brno" }
          })), "update", T0)
          const rows = yield* s.listDirectory(undefined, { limit: 10 })
          const idOf = (i: number) => rows[i]?.id ?? ""
          const campaign = yield* s.createCampaign({ name: "c", accountName: "a", templateName: "order_done", language: "cs", note: null }, T0)
          yield* s.addCampaignContacts(campaign.id, [0, 1, 3, 5].map((i) => ({ ...newContact(i), directoryContactId: idOf(i) })), T0)
          const before = yield* s.listCampaignContacts(campaign.id, undefined, { limit: 10 })

          // Unknown ids and phones, and ids that cannot be ids, count nothing.
          expect(yield* s.deleteDirectoryContacts([{ id: idOf(0) }, { phone: "+420601000001" }, { id: "999999" }, { id: "x" }, { phone: "+1" }]))
            .toBe(2)
          expect(yield* s.deleteDirectoryContacts([{ id: idOf(0) }, { phone: "+420601000001" }])).toBe(0)
          expect(yield* s.deleteDirectoryContacts([])).toBe(0)
          expect(Option.isNone(yield* s.getDirectoryContact({ id: idOf(0) }))).toBe(true)
          expect(Option.isNone(yield* s.getDirectoryContact({ phone: "+420601000001" }))).toBe(true)

          expect(yield* s.deleteDirectoryMatching(Filter.equals("city", "Brno"))).toBe(3)
          expect(yield* s.deleteDirectoryMatching(Filter.equals("city", "Brno"))).toBe(0)
          expect((yield* s.listDirectory(undefined, { limit: 10 })).map((c) => c.phone)).toEqual(["+420601000002"])
          expect(yield* s.countDirectory(undefined)).toBe(1)

          // The campaign is untouched but for the links to the deleted contacts.
          const after = yield* s.listCampaignContacts(campaign.id, undefined, { limit: 10 })
          expect(after).toEqual(before.map((c) => ({ ...c, directoryContactId: null })))
          expect(yield* s.campaignCounts(campaign.id)).toEqual({ ...Campaign.emptyCounts, initial: 4 })

          // The phone can come back, as a new contact with a new id.
          yield* s.importDirectory([{ phone: "+420601000000", columns: { name: "Again" } }], "update", at(1000))
          const again = Option.getOrThrow(yield* s.getDirectoryContact({ phone: "+420601000000" }))
          expect(Number(again.id)).toBeGreaterThan(Number(idOf(5)))
          expect(again.columns).toEqual({ name: "Again" })
        }))

      test("a kept link survives deleting other contacts", (s) =>
        Effect.gen(function*() {
          yield* s.importDirectory([{ phone: "+420601000001", columns: {} }, { phone: "+420601000002", columns: {} }], "update", T0)
          const [first, second] = yield* s.listDirectory(undefined, { limit: 10 })
          const campaign = yield* s.createCampaign({ name: "c", accountName: "a", templateName: "order_done", language: "cs", note: null }, T0)
          yield* s.addCampaignContacts(campaign.id, [{ ...newContact(1), directoryContactId: second?.id ?? "" }], T0)
          expect(yield* s.deleteDirectoryContacts([{ id: first?.id ?? "" }])).toBe(1)
          const [kept] = yield* s.listCampaignContacts(campaign.id, undefined, { limit: 10 })
          expect(kept?.directoryContactId).toBe(second?.id)
        }))

      test("filters: create, conflict on a taken name, get, list, delete, not found", (s) =>
        Effect.gen(function*() {
          const praha = Filter.equals("city", "Praha")
          const saved = yield* s.createFilter("praha", praha, T0)
          expect(saved).toEqual({ name: "praha", filter: praha, createdAt: T0 })
          yield* s.createFilter("brno", Filter.equals("city", "Brno"), T0)
          const taken = yield* Effect.flip(s.createFilter("praha", Filter.empty("city"), T0))
          expect(taken._tag).toBe("Conflict")
          expect(Option.getOrThrow(yield* s.getFilter("praha")).filter).toEqual(praha)
          expect((yield* s.listFilters()).map((f) => f.name)).toEqual(["brno", "praha"])
          yield* s.deleteFilter("brno")
          expect(Option.isNone(yield* s.getFilter("brno"))).toBe(true)
          expect((yield* Effect.flip(s.deleteFilter("brno")))._tag).toBe("NotFound")
        }))
    })

    describe("campaigns", () => {
      test("create as draft, get, list; lifecycle is a compare-and-set on the state", (s) =>
        Effect.gen(function*() {
          const c = yield* s.createCampaign({ name: "Jaro", accountName: "a", templateName: "order_done", language: "cs", note: "poznámka" }, T0)
          expect(c.lifecycle).toEqual(Campaign.draft(T0))
          expect(c.note).toBe("poznámka")
          expect(Option.getOrThrow(yield* s.getCampaign(c.id))).toEqual(c)
          const running = Result.getOrThrow(Campaign.start(c.lifecycle, { ...Campaign.emptyCounts, initial: 1 }, at(1000)))
          const updated = yield* s.updateCampaignLifecycle(c.id, "draft", running)
          expect(updated.lifecycle).toEqual(running)
          const stale = yield* Effect.flip(s.updateCampaignLifecycle(c.id, "draft", running))
          expect(stale._tag).toBe("Conflict")
          const paused = Result.getOrThrow(Campaign.systemPause(running, { _tag: "System", kind: "template_unusable", explanation: "paused by Meta", code: "132015" }, at(2000)))
          expect((yield* s.updateCampaignLifecycle(c.id, "running", paused)).lifecycle.pauseReason).toEqual(paused.pauseReason)
          expect((yield* Effect.flip(s.updateCampaignLifecycle("999999", "draft", running)))._tag).toBe("NotFound")
          const other = yield* s.createCampaign({ name: "Léto", accountName: "a", templateName: "order_done", language: "cs", note: null }, T0)
          expect((yield* s.listCampaigns()).map((x) => x.id)).toEqual([c.id, other.id])
          expect(Option.isNone(yield* s.getCampaign("999999"))).toBe(true)
        }))

      // Scheduled start (issue 11, item 1): the schedule is part of the lifecycle, stored and read back with it.
      test("a draft's scheduled start is stored with the lifecycle, read back by get and list, and cleared by unschedule", (s) =>
        Effect.gen(function*() {
          const c = yield* s.createCampaign({ name: "Zima", accountName: "a", templateName: "order_done", language: "cs", note: null }, T0)
          expect(c.lifecycle.scheduledAt).toBeNull()
          const when = new Date("2026-12-01T08:00:00.123Z")
          const scheduled = Result.getOrThrow(Campaign.schedule(c.lifecycle, when, T0))
          expect((yield* s.updateCampaignLifecycle(c.id, "draft", scheduled)).lifecycle).toEqual(scheduled)
          expect(Option.getOrThrow(yield* s.getCampaign(c.id)).lifecycle.scheduledAt).toEqual(when)
          expect((yield* s.listCampaigns()).find((x) => x.id === c.id)?.lifecycle.scheduledAt).toEqual(when)
          // Two schedulers starting it: the compare-and-set lets exactly one through.
          const started = Result.getOrThrow(Campaign.start(scheduled, { ...Campaign.emptyCounts, initial: 1 }, when))
          const both = yield* Effect.all([s.updateCampaignLifecycle(c.id, "draft", started), s.updateCampaignLifecycle(c.id, "draft", started)].map(Effect.result), { concurrency: "unbounded" })
          expect(both.filter(Result.isSuccess).length).toBe(1)
          expect(Option.getOrThrow(yield* s.getCampaign(c.id)).lifecycle).toMatchObject({ state: "running", scheduledAt: null })
          const other = yield* s.createCampaign({ name: "Jaro", accountName: "a", templateName: "order_done", language: "cs", note: null }, T0)
          const again = Result.getOrThrow(Campaign.schedule(other.lifecycle, when, T0))
          yield* s.updateCampaignLifecycle(other.id, "draft", again)
          const plain = Result.getOrThrow(Campaign.unschedule(again))
          expect((yield* s.updateCampaignLifecycle(other.id, "draft", plain)).lifecycle).toEqual(Campaign.draft(T0))
        }))

      test("add contacts: idempotent per recipient, invalid and suppressed kept as invalid_record, counts", (s) =>
        Effect.gen(function*() {
          const c = yield* s.createCampaign({ name: "c", accountName: "a", templateName: "order_done", language: "cs", note: null }, T0)
          yield* s.suppress([{ recipient: recipient(3), reason: "replied STOP" }], T0)
          const result = yield* s.addCampaignContacts(c.id, [
            newContact(1),
            newContact(2),
            newContact(1),
            newContact(3),
            { phone: "12ab", recipient: null, parameters: {}, invalid: { code: "invalid_phone", text: "contains letters" } },
            { phone: "12ab", recipient: null, parameters: {} }
          ], at(1000))
          expect(result).toEqual({ added: 4, invalid: 1, suppressed: 1, alreadyInCampaign: [recipient(1), "12ab"] })
          // With a recipient, an `invalid` reason is ignored: invalid means no valid phone number.
          const again = yield* s.addCampaignContacts(c.id, [newContact(2), { ...newContact(4), invalid: { code: "x", text: "ignored" } }], at(2000))
          expect(again).toEqual({ added: 1, invalid: 0, suppressed: 0, alreadyInCampaign: [recipient(2)] })
          expect(yield* s.campaignCounts(c.id)).toEqual({ ...Campaign.emptyCounts, initial: 3, invalid_record: 2 })
          const invalid = yield* s.listCampaignContacts(c.id, "invalid_record", { limit: 10 })
          expect(invalid.map((x) => [x.phone, x.progress.lastError?.code])).toEqual([[`+${recipient(3)}`, "opted_out"], ["12ab", "invalid_phone"]])
          const first = (yield* s.listCampaignContacts(c.id, undefined, { limit: 1 }))[0]
          expect(first).toMatchObject({ campaignId: c.id, phone: `+${recipient(1)}`, recipient: recipient(1), parameters: newContact(1).parameters, directoryContactId: null, leaseOwner: null, addedAt: at(1000) })
          expect(first?.progress).toEqual(ContactState.initial(at(1000)))
          const rest = yield* s.listCampaignContacts(c.id, undefined, { limit: 10, afterId: first?.id ?? "" })
          expect(rest.length).toBe(4)
          expect((yield* Effect.flip(s.addCampaignContacts("999999", [newContact(1)], T0)))._tag).toBe("NotFound")
        }))
    })

    describe("claims", () => {
      test("claim takes due contacts of running campaigns on that account only, with a lease and slots", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a"))
          yield* s.saveAccount(account("b"))
          const running = yield* runningCampaign(s, "a")
          const draft = yield* s.createCampaign({ name: "draft", accountName: "a", templateName: "order_done", language: "cs", note: null }, T0)
          const otherAccount = yield* runningCampaign(s, "b")
          yield* s.addCampaignContacts(running.id, [newContact(1), newContact(2)], T0)
          yield* s.addCampaignContacts(draft.id, [newContact(3)], T0)
          yield* s.addCampaignContacts(otherAccount.id, [newContact(4)], T0)
          const result = yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "daemon-1", now: at(SECOND) })
          expect(result.claimed.map((c) => c.contact.recipient)).toEqual([recipient(1), recipient(2)])
          for (const { contact, slot } of result.claimed) {
            expect(contact.progress.state).toBe("in_progress")
            expect(contact.progress.attempts).toBe(1)
            expect(contact.leaseOwner).toBe("daemon-1")
            expect(slot.getTime()).toBeGreaterThanOrEqual(at(SECOND).getTime())
            expect(contact.progress.leaseExpiresAt).toEqual(new Date(slot.getTime() + 60 * SECOND))
          }
          expect((yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "daemon-2", now: at(2 * SECOND) })).claimed).toEqual([])
          // A contact added later than the claim's clock (a daemon whose clock is behind) is due once its time comes.
          yield* s.addCampaignContacts(running.id, [newContact(5)], at(10 * SECOND))
          expect((yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(9 * SECOND) })).claimed).toEqual([])
          expect((yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(10 * SECOND) })).claimed.length).toBe(1)
          expect(yield* s.campaignCounts(running.id)).toEqual({ ...Campaign.emptyCounts, in_progress: 3 })
        }))

      test("hasPendingContacts is true while any contact waits or is being sent, and false once all are final", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(unlimitedAccount("a"))
          const c = yield* runningCampaign(s, "a")
          expect(yield* s.hasPendingContacts(c.id)).toBe(false)
          expect(yield* s.hasPendingContacts("999999")).toBe(false)
          expect(yield* s.hasPendingContacts("not-an-id")).toBe(false)
          yield* s.addCampaignContacts(c.id, [newContact(1), newContact(2)], T0)
          expect(yield* s.hasPendingContacts(c.id)).toBe(true)
          const claimed = (yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })).claimed
          expect(yield* s.hasPendingContacts(c.id)).toBe(true)
          yield* s.recordOutcomes(claimed.map(({ contact }, i) => ({
            contactId: contact.id,
            event: { _tag: "Accepted", wamid: `wamid.${i}`, waId: contact.recipient }
          } as const)), at(2 * SECOND))
          expect(yield* s.hasPendingContacts(c.id)).toBe(false)
        }))

      test("claims share the account fairly between its running campaigns", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(unlimitedAccount("a"))
          const big = yield* runningCampaign(s, "a", "big")
          const small = yield* runningCampaign(s, "a", "small")
          // The big campaign's contacts are all older: in plain due order the small one would wait for all 20.
          yield* s.addCampaignContacts(big.id, Array.from({ length: 20 }, (_, i) => newContact(100 + i)), T0)
          yield* s.addCampaignContacts(small.id, Array.from({ length: 4 }, (_, i) => newContact(200 + i)), at(SECOND))
          const first = yield* s.claim({ account: a, limit: 6, leaseMs: 60 * SECOND, owner: "d", now: at(2 * SECOND) })
          expect(first.claimed.map((c) => c.contact.recipient)).toEqual([
            recipient(100), recipient(200), recipient(101), recipient(201), recipient(102), recipient(202)
          ])
          const second = yield* s.claim({ account: a, limit: 6, leaseMs: 60 * SECOND, owner: "d", now: at(2 * SECOND) })
          expect(second.claimed.map((c) => c.contact.recipient)).toEqual([
            recipient(103), recipient(203), recipient(104), recipient(105), recipient(106), recipient(107)
          ])
        }))

      test("a campaign's rate cap holds across claims while another campaign on the number takes the rest", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount({ ...unlimitedAccount("a"), throughputMps: 20 })
          const slow = yield* runningCampaign(s, "a", "slow")
          const fast = yield* runningCampaign(s, "a", "fast")
          expect(slow.maxMps).toBeNull()
          const capped = yield* s.setCampaignMaxMps(slow.id, 2)
          expect(capped.maxMps).toBe(2)
          expect((yield* s.getCampaign(slow.id)).pipe(Option.map((c) => c.maxMps))).toEqual(Option.some(2))
          expect((yield* Effect.flip(s.setCampaignMaxMps("999999", 1)))._tag).toBe("NotFound")
          yield* s.addCampaignContacts(slow.id, Array.from({ length: 30 }, (_, i) => newContact(100 + i)), T0)
          yield* s.addCampaignContacts(fast.id, Array.from({ length: 60 }, (_, i) => newContact(300 + i)), T0)
          const slowSlots: Array<number> = []
          let fastCount = 0
          // Claims every 400 ms over 3 s, each handing out 1 s of slots (the dispatcher's overlapping rounds).
          for (let t = SECOND; t < 4 * SECOND; t += 400) {
            const { claimed } = yield* s.claim({ account: a, limit: 100, leaseMs: 60 * SECOND, owner: "d", now: at(t), horizonMs: SECOND })
            for (const { contact, slot } of claimed) {
              if (contact.campaignId === slow.id) slowSlots.push(slot.getTime())
              else fastCount++
            }
          }
          // Two a second, never closer than 500 ms, and the number's other slots went to the fast campaign.
          expect(slowSlots.length).toBeGreaterThanOrEqual(5)
          for (let i = 1; i < slowSlots.length; i++) expect((slowSlots[i] ?? 0) - (slowSlots[i - 1] ?? 0)).toBeGreaterThanOrEqual(500)
          expect(fastCount).toBe(60)
          // Removing the cap lets the campaign take the number's pace again.
          expect((yield* s.setCampaignMaxMps(slow.id, null)).maxMps).toBeNull()
          const after = yield* s.claim({ account: a, limit: 100, leaseMs: 60 * SECOND, owner: "d", now: at(10 * SECOND), horizonMs: SECOND })
          expect(after.claimed.length).toBe(20)
        }))

      test("retries are claimed only when due, in due order", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a"))
          const c = yield* runningCampaign(s, "a")
          yield* s.addCampaignContacts(c.id, [newContact(1), newContact(2)], T0)
          const claimed = (yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })).claimed
          const error = { errorClass: "transient", scope: "contact", code: "131000", text: "Something went wrong" } as const
          const outcomes = claimed.map(({ contact }, i) => ({
            contactId: contact.id,
            event: { _tag: "AttemptFailed", error, decision: { _tag: "RetryAt", at: at((i === 0 ? 60 : 30) * SECOND), countsAsAttempt: true } } as const
          }))
          expect((yield* s.recordOutcomes(outcomes, at(2 * SECOND))).applied).toBe(2)
          expect((yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(29 * SECOND) })).claimed).toEqual([])
          const late = yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(61 * SECOND) })
          expect(late.claimed.map((x) => [x.contact.recipient, x.contact.progress.attempts])).toEqual([[recipient(2), 2], [recipient(1), 2]])
        }))

      test("the messaging limit holds across claims; recipients already in the window cost nothing", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a", { messagingLimit: 2 }))
          const first = yield* runningCampaign(s, "a", "first")
          yield* s.addCampaignContacts(first.id, [newContact(1), newContact(2), newContact(3)], T0)
          const claim1 = yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })
          expect(claim1.claimed.map((c) => c.contact.recipient)).toEqual([recipient(1), recipient(2)])
          expect(claim1.nextCapacity?.reason).toBe("messaging_limit")
          const usage = yield* s.quotaUsage(a, at(2 * SECOND))
          expect(usage).toMatchObject({ quotaKey: "phone:pn-a", used: 2, limit: 2, remaining: 0 })
          expect(usage.nextFreeAt!.getTime()).toBeGreaterThanOrEqual(at(SECOND).getTime() + DAY)
          // Recipient 1 again, in another campaign, 10 minutes later: already in the window, so free.
          const second = yield* runningCampaign(s, "a", "second")
          yield* s.addCampaignContacts(second.id, [newContact(1), newContact(4)], T0)
          const claim2 = yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(600 * SECOND) })
          expect(claim2.claimed.map((c) => c.contact.recipient)).toEqual([recipient(1)])
          // A day later the window has moved on.
          const claim3 = yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(DAY + 700 * SECOND) })
          expect(claim3.claimed.map((c) => c.contact.recipient)).toEqual([recipient(3), recipient(4)])
        }))

      test("accounts of one portfolio share the messaging limit", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a", { portfolioId: "pf", messagingLimit: 1 }))
          const b = yield* s.saveAccount(account("b", { portfolioId: "pf", messagingLimit: 1 }))
          const ca = yield* runningCampaign(s, "a")
          const cb = yield* runningCampaign(s, "b")
          yield* s.addCampaignContacts(ca.id, [newContact(1)], T0)
          yield* s.addCampaignContacts(cb.id, [newContact(2)], T0)
          expect((yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })).claimed.length).toBe(1)
          const blocked = yield* s.claim({ account: b, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })
          expect(blocked.claimed).toEqual([])
          expect(blocked.nextCapacity?.reason).toBe("messaging_limit")
        }))

      test("the pair limit spaces sends to the same recipient from one number", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a"))
          const c1 = yield* runningCampaign(s, "a", "one")
          const c2 = yield* runningCampaign(s, "a", "two")
          yield* s.addCampaignContacts(c1.id, [newContact(1)], T0)
          yield* s.addCampaignContacts(c2.id, [newContact(1)], T0)
          expect((yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })).claimed.length).toBe(1)
          const soon = yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(3 * SECOND) })
          expect(soon.claimed).toEqual([])
          expect(soon.nextCapacity?.reason).toBe("pair_limit")
          expect((yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(8 * SECOND) })).claimed.length).toBe(1)
        }))

      test("throughput: slots are 1/mps apart, a claim hands out one horizon's worth, and 130429 slows the number", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a", { throughputMps: 5 }))
          const c = yield* runningCampaign(s, "a")
          yield* s.addCampaignContacts(c.id, Array.from({ length: 20 }, (_, i) => newContact(i)), T0)
          const first = yield* s.claim({ account: a, limit: 100, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })
          expect(first.claimed.map((x) => x.slot.getTime() - at(SECOND).getTime())).toEqual([0, 200, 400, 600, 800])
          expect(first.nextCapacity?.reason).toBe("throughput")
          // The number's slots are taken until 2 s: another claim at the same instant gets nothing.
          const same = yield* s.claim({ account: a, limit: 100, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })
          expect(same.claimed).toEqual([])
          expect(same.nextCapacity).toEqual({ at: at(2 * SECOND), reason: "throughput" })
          yield* s.throttleNumber(a.phoneNumberId, at(2 * SECOND))
          const slowed = yield* s.claim({ account: a, limit: 100, leaseMs: 60 * SECOND, owner: "d", now: at(5 * SECOND), horizonMs: 2 * SECOND })
          expect(slowed.claimed.length).toBeGreaterThan(0)
          expect(slowed.claimed.length).toBeLessThan(10)
        }))

      test("a released reservation gives the window slot back; a timeout keeps it", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a", { messagingLimit: 1 }))
          const c = yield* runningCampaign(s, "a")
          yield* s.addCampaignContacts(c.id, [newContact(1), newContact(2)], T0)
          const [claimed] = (yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })).claimed
          const error = { errorClass: "template", scope: "template", code: "132015", text: "Template paused" } as const
          yield* s.recordOutcomes([{ contactId: claimed!.contact.id, event: { _tag: "AttemptFailed", error, decision: { _tag: "Release" } }, releaseQuota: true }], at(2 * SECOND))
          expect((yield* s.quotaUsage(a, at(3 * SECOND))).used).toBe(0)
          expect(yield* stateOf(s, claimed!.contact.id)).toBe("retry_scheduled")
          const again = (yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(10 * SECOND) })).claimed
          expect(again.length).toBe(1)
          const timeout = { errorClass: "transient", scope: "contact", code: "timeout", text: "timed out; outcome unknown" } as const
          yield* s.recordOutcomes([{ contactId: again[0]!.contact.id, event: { _tag: "AttemptFailed", error: timeout, decision: { _tag: "RetryAt", at: at(100 * SECOND), countsAsAttempt: true } } }], at(11 * SECOND))
          expect((yield* s.quotaUsage(a, at(12 * SECOND))).used).toBe(1)
        }))
    })

    describe("outcomes and webhooks", () => {
      const claimOne = (s: Storage, n = 1) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a"))
          const c = yield* runningCampaign(s, "a")
          yield* s.addCampaignContacts(c.id, Array.from({ length: n }, (_, i) => newContact(i + 1)), T0)
          const claimed = (yield* s.claim({ account: a, limit: n, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND), horizonMs: 60 * SECOND })).claimed
          return { campaign: c, contacts: claimed.map((x) => x.contact) }
        })

      test("failures grouped by code, and the soonest retries, over the campaigns asked about", (s) =>
        Effect.gen(function*() {
          const { campaign, contacts } = yield* claimOne(s, 5)
          const [one, two, three, four, five] = contacts
          const undeliverable = { errorClass: "recipient", scope: "contact", code: "131026", text: "Message undeliverable" } as const
          const busy = { errorClass: "transient", scope: "contact", code: "131000", text: "Something went wrong" } as const
          yield* s.recordOutcomes([
            { contactId: one!.id, event: { _tag: "AttemptFailed", error: undeliverable, decision: { _tag: "GiveUp", reason: "final_for_contact" } } },
            { contactId: two!.id, event: { _tag: "AttemptFailed", error: busy, decision: { _tag: "RetryAt", at: at(90 * SECOND), countsAsAttempt: true } } },
            { contactId: three!.id, event: { _tag: "AttemptFailed", error: busy, decision: { _tag: "RetryAt", at: at(30 * SECOND), countsAsAttempt: true } } },
            { contactId: four!.id, event: { _tag: "Accepted", wamid: "wamid.4", waId: recipient(4) } }
          ], at(2 * SECOND))
          // A later failure of the same code: its text and time are the group's.
          yield* s.recordOutcomes([
            { contactId: five!.id, event: { _tag: "AttemptFailed", error: { ...undeliverable, text: "Undeliverable, later" }, decision: { _tag: "GiveUp", reason: "final_for_contact" } } }
          ], at(3 * SECOND))
          const groups = yield* s.failureSummary(undefined)
          expect(groups).toEqual([
            { code: "131000", count: 2, text: "Something went wrong", campaignIds: [campaign.id], lastAt: at(2 * SECOND) },
            { code: "131026", count: 2, text: "Undeliverable, later", campaignIds: [campaign.id], lastAt: at(3 * SECOND) }
          ])
          expect(yield* s.failureSummary([campaign.id])).toEqual(groups)
          expect(yield* s.failureSummary(["999999", "not-an-id"])).toEqual([])
          expect((yield* s.soonestRetries(undefined, 10)).map((c) => c.id)).toEqual([three!.id, two!.id])
          expect((yield* s.soonestRetries([campaign.id], 1)).map((c) => c.progress.nextAttemptAt)).toEqual([at(30 * SECOND)])
          expect(yield* s.soonestRetries(["999999"], 10)).toEqual([])
        }))

      test("accepted → sent with wamid; refused events are reported, not applied", (s) =>
        Effect.gen(function*() {
          const { campaign, contacts } = yield* claimOne(s, 2)
          const [one, two] = contacts
          const result = yield* s.recordOutcomes([
            { contactId: one!.id, event: { _tag: "Accepted", wamid: "wamid.1", waId: recipient(1) } },
            { contactId: two!.id, event: { _tag: "Claimed", leaseExpiresAt: at(100 * SECOND) } },
            { contactId: "999999", event: { _tag: "Released" } }
          ], at(2 * SECOND))
          expect(result.applied).toBe(1)
          expect(result.refused.map((r) => r.contactId)).toEqual([two!.id, "999999"])
          const stored = Option.getOrThrow(yield* s.getCampaignContact(one!.id))
          expect(stored.progress).toMatchObject({ state: "sent", wamid: "wamid.1", waId: recipient(1), leaseExpiresAt: null })
          expect(stored.leaseOwner).toBeNull()
          expect(yield* s.campaignCounts(campaign.id)).toEqual({ ...Campaign.emptyCounts, sent: 1, in_progress: 1 })
        }))

      test("statuses match by wamid, else by contact id; unknown ones are unmatched", (s) =>
        Effect.gen(function*() {
          const { contacts } = yield* claimOne(s, 2)
          yield* s.recordOutcomes([{ contactId: contacts[0]!.id, event: { _tag: "Accepted", wamid: "wamid.1", waId: null } }], at(2 * SECOND))
          const delivered = { _tag: "StatusReported", status: "delivered", at: at(5 * SECOND), wamid: "wamid.1" } as const
          const sentByCallback = { _tag: "StatusReported", status: "sent", at: at(4 * SECOND), wamid: "wamid.2" } as const
          const stray = { wamid: "wamid.other", event: { ...delivered, wamid: "wamid.other" } }
          const result = yield* s.applyStatuses([
            { wamid: "wamid.1", event: delivered },
            { wamid: "wamid.2", contactId: contacts[1]!.id, event: sentByCallback },
            stray
          ], at(6 * SECOND))
          expect(result.applied).toBe(2)
          expect(result.unmatched).toEqual([stray])
          expect(yield* stateOf(s, contacts[0]!.id)).toBe("delivered")
          const second = Option.getOrThrow(yield* s.getCampaignContact(contacts[1]!.id))
          expect(second.progress).toMatchObject({ state: "sent", wamid: "wamid.2" })
          // Now known by its wamid.
          yield* s.applyStatuses([{ wamid: "wamid.2", event: { ...sentByCallback, status: "read", at: at(9 * SECOND) } }], at(10 * SECOND))
          expect(yield* stateOf(s, contacts[1]!.id)).toBe("read")
        }))

      it("any permutation and duplication of webhooks ends where the in-order sequence ends", async () => {
        const kinds = ["sent", "delivered", "read"] as const
        await fc.assert(fc.asyncProperty(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()), { minLength: 1, maxLength: 6 }),
          fc.array(fc.nat(), { maxLength: 20 }),
          fc.integer(),
          async (plans, duplicates, seed) => {
            await run((s) => Effect.gen(function*() {
              const { contacts } = yield* claimOne(s, plans.length)
              const reports: Array<Ports.Storage.StatusReport> = []
              plans.forEach(([steps, fails], i) => {
                const contact = contacts[i]!
                const wamid = `wamid.${i}`
                for (let k = 0; k < Math.min(steps, 3); k++) {
                  reports.push({ wamid, contactId: contact.id, event: { _tag: "StatusReported", status: kinds[k]!, at: at((10 + k) * SECOND), wamid } })
                }
                if (fails && steps <= 1) {
                  reports.push({ wamid, contactId: contact.id, event: { _tag: "FailureReported", error: { errorClass: "recipient", scope: "contact", code: "131026", text: "Message undeliverable" }, at: at(20 * SECOND), wamid } })
                }
              })
              const expected = contacts.map((c) => {
                const mine = reports.filter((r) => r.contactId === c.id).map((r) => r.event)
                return ContactState.applyAll(c.progress, mine, at(60 * SECOND))
              })
              const shuffled = [...reports, ...duplicates.flatMap((d) => reports.length === 0 ? [] : [reports[d % reports.length]!])]
              // A seeded shuffle, delivered in batches of 3 as webhook POSTs would be.
              let x = seed | 1
              for (let i = shuffled.length - 1; i > 0; i--) {
                x = (x * 1103515245 + 12345) & 0x7fffffff
                const j = x % (i + 1)
                const tmp = shuffled[i]!
                shuffled[i] = shuffled[j]!
                shuffled[j] = tmp
              }
              for (let i = 0; i < shuffled.length; i += 3) yield* s.applyStatuses(shuffled.slice(i, i + 3), at(60 * SECOND))
              for (const [i, c] of contacts.entries()) {
                const stored = Option.getOrThrow(yield* s.getCampaignContact(c.id))
                expect(stored.progress).toEqual(expected[i])
              }
            }))
          }
        ), { numRuns: 15 })
      }, timeout * 2)

      test("expired leases are reclaimed by the policy: retry after the grace period, or held for review", (s) =>
        Effect.gen(function*() {
          const { contacts } = yield* claimOne(s, 2)
          const lease = contacts[0]!.progress.leaseExpiresAt!
          expect(yield* s.reclaimExpiredLeases(new Date(lease.getTime() - 1), RetryPolicy.defaultPolicy)).toBe(0)
          expect(yield* s.reclaimExpiredLeases(lease, RetryPolicy.defaultPolicy)).toBe(1)
          const first = Option.getOrThrow(yield* s.getCampaignContact(contacts[0]!.id))
          expect(first.progress).toMatchObject({ state: "retry_scheduled", nextAttemptAt: new Date(lease.getTime() + RetryPolicy.defaultPolicy.unknownOutcomeGraceMs) })
          expect(first.progress.lastError?.code).toBe("outcome_unknown")
          expect(first.leaseOwner).toBeNull()
          const later = new Date(contacts[1]!.progress.leaseExpiresAt!.getTime() + 1)
          expect(yield* s.reclaimExpiredLeases(later, { ...RetryPolicy.defaultPolicy, onUnknownOutcome: "hold" })).toBe(1)
          expect(yield* stateOf(s, contacts[1]!.id)).toBe("error")
          // A late sent webhook proves the first went out after all: no resend.
          yield* s.applyStatuses([{ wamid: "wamid.late", contactId: contacts[0]!.id, event: { _tag: "StatusReported", status: "sent", at: lease, wamid: "wamid.late" } }], later)
          expect(yield* stateOf(s, contacts[0]!.id)).toBe("sent")
        }))

      test("a contact reclaimed after a crash is resent without charging the 24 h window twice", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a", { messagingLimit: 1 }))
          const c = yield* runningCampaign(s, "a")
          yield* s.addCampaignContacts(c.id, [newContact(1), newContact(2)], T0)
          const [first] = (yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "crashed", now: at(SECOND) })).claimed
          const lease = first!.contact.progress.leaseExpiresAt!
          expect(yield* s.reclaimExpiredLeases(lease, RetryPolicy.defaultPolicy)).toBe(1)
          const resendAt = new Date(lease.getTime() + RetryPolicy.defaultPolicy.unknownOutcomeGraceMs)
          const resent = (yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: resendAt })).claimed
          expect(resent.map((x) => [x.contact.id, x.contact.progress.attempts])).toEqual([[first!.contact.id, 2]])
          expect((yield* s.quotaUsage(a, resendAt)).used).toBe(1)
        }))

      test("stopping cancels every pending contact and leaves sent ones alone", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a"))
          const c = yield* runningCampaign(s, "a")
          yield* s.addCampaignContacts(c.id, [newContact(1), newContact(2), newContact(3)], T0)
          const [one] = (yield* s.claim({ account: a, limit: 1, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })).claimed
          yield* s.recordOutcomes([{ contactId: one!.contact.id, event: { _tag: "Accepted", wamid: "wamid.1", waId: null } }], at(2 * SECOND))
          yield* s.claim({ account: a, limit: 1, leaseMs: 60 * SECOND, owner: "d", now: at(3 * SECOND) })
          expect(yield* s.cancelPending(c.id, at(4 * SECOND))).toBe(2)
          expect(yield* s.campaignCounts(c.id)).toEqual({ ...Campaign.emptyCounts, sent: 1, cancelled: 2 })
          expect(yield* s.cancelPending(c.id, at(5 * SECOND))).toBe(0)
        }))
    })

    describe("suppression list and event log", () => {
      test("suppress, list, unsuppress", (s) =>
        Effect.gen(function*() {
          expect(yield* s.suppress([{ recipient: recipient(2), reason: "STOP" }, { recipient: recipient(1), reason: "odhlásit" }], T0)).toBe(2)
          expect(yield* s.suppress([{ recipient: recipient(2), reason: "again" }], at(SECOND))).toBe(0)
          expect(yield* s.listSuppressions()).toEqual([
            { recipient: recipient(1), reason: "odhlásit", createdAt: T0 },
            { recipient: recipient(2), reason: "STOP", createdAt: T0 }
          ])
          expect(yield* s.unsuppress(recipient(2))).toBe(true)
          expect(yield* s.unsuppress(recipient(2))).toBe(false)
          expect((yield* s.listSuppressions()).length).toBe(1)
        }))

      test("suppressing a recipient settles their waiting contacts in every campaign, not one being sent", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a"))
          const one = yield* runningCampaign(s, "a", "one")
          const two = yield* runningCampaign(s, "a", "two")
          yield* s.addCampaignContacts(one.id, [newContact(1), newContact(2)], T0)
          yield* s.addCampaignContacts(two.id, [newContact(1)], T0)
          // Campaign one's contact of recipient 1 is in flight; campaign two's waits.
          const [inFlight] = (yield* s.claim({ account: a, limit: 1, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })).claimed
          expect(inFlight?.contact.recipient).toBe(recipient(1))
          expect(yield* s.suppress([{ recipient: recipient(1), reason: "replied STOP" }], at(2 * SECOND))).toBe(1)
          expect(yield* s.campaignCounts(one.id)).toEqual({ ...Campaign.emptyCounts, in_progress: 1, initial: 1 })
          expect(yield* s.campaignCounts(two.id)).toEqual({ ...Campaign.emptyCounts, invalid_record: 1 })
          const [settled] = yield* s.listCampaignContacts(two.id, "invalid_record", { limit: 1 })
          expect(settled?.progress.lastError?.code).toBe("opted_out")
          expect(settled?.progress.lastError?.text).toContain("replied STOP")
          expect(settled?.progress.stateTimes.invalid_record).toEqual(at(2 * SECOND))
        }))

      test("append and list events, per campaign and paged", (s) =>
        Effect.gen(function*() {
          const c = yield* s.createCampaign({ name: "c", accountName: "a", templateName: "order_done", language: "cs", note: null }, T0)
          yield* s.appendEvents([
            { campaignId: c.id, kind: "campaign.started", message: "started", data: { by: "operator" }, at: T0 },
            { campaignId: null, kind: "templates.synced", message: "3 templates", data: {}, at: at(SECOND) },
            { campaignId: c.id, kind: "campaign.paused", message: "template paused", data: { code: "132015" }, at: at(2 * SECOND) }
          ])
          const all = yield* s.listEvents(undefined, { limit: 10 })
          expect(all.map((e) => e.kind)).toEqual(["campaign.started", "templates.synced", "campaign.paused"])
          const mine = yield* s.listEvents(c.id, { limit: 10 })
          expect(mine.map((e) => [e.message, e.data, e.at])).toEqual([["started", { by: "operator" }, T0], ["template paused", { code: "132015" }, at(2 * SECOND)]])
          expect((yield* s.listEvents(undefined, { limit: 1, afterId: all[0]!.id })).map((e) => e.kind)).toEqual(["templates.synced"])
        }))
    })

    // Retry failed contacts (issue 11, item 3) ----------------------------------------------------------------
    describe("send windows", () => {
      const weekdays = Result.getOrThrow(SendWindow.parse("Mon-Fri 09:00-20:00"))
      // T0 is Thursday 26 November 2026, 10:00 UTC: 11:00 in Prague, 05:00 in New York, midnight in Honolulu.
      const prague: Ports.Storage.NewCampaignContact = { phone: "+420601000001", recipient: "420601000001", parameters: newContact(1).parameters }
      const us: Ports.Storage.NewCampaignContact = { phone: "+12025550123", recipient: "12025550123", parameters: newContact(2).parameters }
      const newYork: Ports.Storage.NewCampaignContact = { ...us, phone: "+12025550124", recipient: "12025550124", timeZone: "America/New_York" }

      test("a campaign's window is stored, read back and removed; contacts keep the time zone they were added with", (s) =>
        Effect.gen(function*() {
          yield* s.saveAccount(unlimitedAccount("a"))
          const c = yield* runningCampaign(s, "a")
          expect(c.sendWindow).toBeNull()
          expect((yield* s.setSendWindow(c.id, weekdays)).sendWindow).toEqual(weekdays)
          expect(Option.getOrThrow(yield* s.getCampaign(c.id)).sendWindow).toEqual(weekdays)
          expect((yield* s.listCampaigns()).map((x) => x.sendWindow)).toEqual([weekdays])
          expect((yield* s.setSendWindow(c.id, null)).sendWindow).toBeNull()
          expect((yield* Effect.flip(s.setSendWindow("999999", weekdays)))._tag).toBe("NotFound")
          expect((yield* Effect.flip(s.setSendWindow("not-an-id", weekdays)))._tag).toBe("NotFound")
          yield* s.addCampaignContacts(c.id, [prague, newYork], T0)
          const contacts = yield* s.listCampaignContacts(c.id, undefined, { limit: 10 })
          expect(contacts.map((x) => x.timeZone)).toEqual([null, "America/New_York"])
        }))

      test("a claim defers contacts outside their window to its next opening in their zones, using no attempt and no quota", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a"))
          const c = yield* runningCampaign(s, "a")
          yield* s.setSendWindow(c.id, weekdays)
          yield* s.addCampaignContacts(c.id, [prague, us, newYork], T0)
          const claim = (now: Date) => s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now })
          const first = yield* claim(T0)
          expect(first.claimed.map((x) => x.contact.recipient)).toEqual([prague.recipient])
          const waiting = yield* s.listCampaignContacts(c.id, "initial", { limit: 10 })
          // Every US zone must be open: 09:00 in Honolulu is 19:00 UTC; New York alone opens at 14:00 UTC.
          expect(waiting.map((x) => [x.recipient, x.progress.attempts, x.progress.nextAttemptAt?.toISOString()])).toEqual([
            [us.recipient, 0, "2026-11-26T19:00:00.000Z"],
            [newYork.recipient, 0, "2026-11-26T14:00:00.000Z"]
          ])
          expect((yield* s.quotaUsage(a, T0)).used).toBe(1)
          expect((yield* claim(at(SECOND))).claimed).toEqual([])
          const ny = yield* claim(new Date("2026-11-26T14:00:00.000Z"))
          expect(ny.claimed.map((x) => [x.contact.recipient, x.contact.progress.attempts])).toEqual([[newYork.recipient, 1]])
          const rest = yield* claim(new Date("2026-11-26T19:00:00.000Z"))
          expect(rest.claimed.map((x) => x.contact.recipient)).toEqual([us.recipient])
        }))

      test("a retry due outside the window waits for the window, keeping its state and attempts", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(unlimitedAccount("a"))
          const c = yield* runningCampaign(s, "a")
          yield* s.addCampaignContacts(c.id, [newYork], T0)
          const [sent] = (yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: T0 })).claimed
          if (sent === undefined) throw new Error("nothing claimed")
          yield* s.recordOutcomes([{
            contactId: sent.contact.id,
            event: {
              _tag: "AttemptFailed",
              error: { errorClass: "transient", scope: "contact", code: "131000", text: "Something went wrong" },
              decision: { _tag: "RetryAt", at: at(60 * SECOND), countsAsAttempt: true }
            }
          }], T0)
          yield* s.setSendWindow(c.id, weekdays)
          expect((yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(60 * SECOND) })).claimed).toEqual([])
          const waiting = Option.getOrThrow(yield* s.getCampaignContact(sent.contact.id))
          expect(waiting.progress).toMatchObject({ state: "retry_scheduled", attempts: 1, nextAttemptAt: new Date("2026-11-26T14:00:00.000Z") })
        }))

      test("changing or removing the window makes the initial contacts waiting for it due again", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(unlimitedAccount("a"))
          const c = yield* runningCampaign(s, "a")
          yield* s.setSendWindow(c.id, weekdays)
          yield* s.addCampaignContacts(c.id, [us, newYork], T0)
          expect((yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: T0 })).claimed).toEqual([])
          // Open around the clock on Thursdays: the deferred contacts go at once.
          yield* s.setSendWindow(c.id, Result.getOrThrow(SendWindow.parse("Thu 00:00-24:00")))
          const due = yield* s.listCampaignContacts(c.id, "initial", { limit: 10 })
          expect(due.map((x) => x.progress.nextAttemptAt)).toEqual([null, null])
          const claimed = yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND) })
          expect(claimed.claimed.map((x) => x.contact.recipient)).toEqual([us.recipient, newYork.recipient])
        }))
    })

    describe("retrying failed contacts", () => {
      const undeliverable = { errorClass: "recipient", scope: "contact", code: "131026", text: "Message undeliverable" } as const
      const busy = { errorClass: "transient", scope: "contact", code: "131000", text: "Something went wrong" } as const
      const giveUp = (error: typeof undeliverable | typeof busy, reason: "final_for_contact" | "attempts_exhausted") =>
        ({ _tag: "AttemptFailed", error, decision: { _tag: "GiveUp", reason } }) as const

      /**
       * Eight contacts, one per outcome: 1 sending_failed 131026, 2 error 131000, 3 sending_failed 131000 (via a failed
       * webhook after sent), 4 read, 5 sent, 6 delivered, 7 in_progress, 8 initial; plus an invalid record.
       */
      const failedCampaign = (s: Storage) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a", { messagingLimit: "unlimited", throughputMps: 1000 }))
          const c = yield* runningCampaign(s, "a")
          yield* s.addCampaignContacts(c.id, [...Array.from({ length: 8 }, (_, i) => newContact(i + 1)), { phone: "nonsense", recipient: null, parameters: {} }], T0)
          const claimed = (yield* s.claim({ account: a, limit: 7, leaseMs: 60 * SECOND, owner: "d", now: at(SECOND), horizonMs: 60 * SECOND })).claimed
          const ids = claimed.map((x) => x.contact.id)
          const [one, two, three, four, five, six] = ids
          yield* s.recordOutcomes([
            { contactId: one!, event: giveUp(undeliverable, "final_for_contact") },
            { contactId: two!, event: giveUp(busy, "attempts_exhausted") },
            { contactId: three!, event: { _tag: "Accepted", wamid: "wamid.3", waId: recipient(3) } },
            { contactId: four!, event: { _tag: "Accepted", wamid: "wamid.4", waId: null } },
            { contactId: five!, event: { _tag: "Accepted", wamid: "wamid.5", waId: null } },
            { contactId: six!, event: { _tag: "Accepted", wamid: "wamid.6", waId: null } }
          ], at(2 * SECOND))
          yield* s.applyStatuses([
            { wamid: "wamid.3", event: { _tag: "FailureReported", error: busy, at: at(3 * SECOND), wamid: "wamid.3" } },
            { wamid: "wamid.4", event: { _tag: "StatusReported", status: "read", at: at(3 * SECOND), wamid: "wamid.4" } },
            { wamid: "wamid.6", event: { _tag: "StatusReported", status: "delivered", at: at(3 * SECOND), wamid: "wamid.6" } }
          ], at(4 * SECOND))
          const all = yield* s.listCampaignContacts(c.id, undefined, { limit: 100 })
          const waiting = all.find((r) => r.progress.state === "initial")!.id
          return { account: a, campaign: c, ids, all, waiting }
        })
      const progressById = (s: Storage, campaignId: string) =>
        Effect.map(s.listCampaignContacts(campaignId, undefined, { limit: 100 }), (rows) => new Map(rows.map((r) => [r.id, r.progress])))

      test("selects exactly the requested rows and leaves the others untouched", (s) =>
        Effect.gen(function*() {
          const { campaign, ids, all } = yield* failedCampaign(s)
          expect(yield* s.campaignCounts(campaign.id)).toEqual({
            ...Campaign.emptyCounts, sending_failed: 2, error: 1, read: 1, sent: 1, delivered: 1, in_progress: 1, initial: 1, invalid_record: 1
          })
          const before = new Map(all.map((r) => [r.id, r.progress]))
          expect(yield* s.retryContacts(campaign.id, { states: ["sending_failed"], codes: [] }, at(10 * SECOND))).toEqual({ retried: 2, suppressed: 0 })
          const after = yield* progressById(s, campaign.id)
          for (const [id, progress] of after) {
            if (id === ids[0] || id === ids[2]) {
              expect(progress).toMatchObject({ state: "initial", attempts: 0, throttledAttempts: 0, wamid: null, waId: null, nextAttemptAt: null })
              expect(progress.stateTimes.initial).toEqual(at(10 * SECOND))
              expect(progress.stateTimes.sent).toBeUndefined()
              // The last error stays until the next attempt replaces it.
              expect(progress.lastError?.code).toBe(before.get(id)?.lastError?.code)
            } else {
              expect(progress).toEqual(before.get(id))
            }
          }
          // Only failed states are ever selected, whatever is asked for.
          expect(yield* s.retryContacts(campaign.id, { states: ["read", "sent", "delivered", "cancelled", "invalid_record", "initial", "in_progress"], codes: [] }, at(11 * SECOND)))
            .toEqual({ retried: 0, suppressed: 0 })
          expect(yield* progressById(s, campaign.id)).toEqual(after)
        }))

      test("the codes filter, both states at once, and zero when nothing matches", (s) =>
        Effect.gen(function*() {
          const { campaign, ids } = yield* failedCampaign(s)
          expect(yield* s.retryContacts(campaign.id, { states: ["error", "sending_failed"], codes: ["999999"] }, at(10 * SECOND))).toEqual({ retried: 0, suppressed: 0 })
          expect(yield* s.retryContacts("999999", { states: ["error"], codes: [] }, at(10 * SECOND))).toEqual({ retried: 0, suppressed: 0 })
          expect(yield* s.retryContacts(campaign.id, { states: ["error", "sending_failed"], codes: ["131000"] }, at(10 * SECOND))).toEqual({ retried: 2, suppressed: 0 })
          const after = yield* progressById(s, campaign.id)
          expect([ids[0], ids[1], ids[2]].map((id) => after.get(id!)?.state)).toEqual(["sending_failed", "initial", "initial"])
          expect(yield* s.retryContacts(campaign.id, { states: ["error", "sending_failed"], codes: ["131000"] }, at(11 * SECOND))).toEqual({ retried: 0, suppressed: 0 })
        }))

      test("retried contacts are claimed again with a new budget; the stopped campaign's are not retried; suppressed recipients stay", (s) =>
        Effect.gen(function*() {
          const { account: a, campaign, ids, waiting } = yield* failedCampaign(s)
          yield* s.suppress([{ recipient: recipient(2), reason: "STOP" }], at(5 * SECOND))
          expect(yield* s.retryContacts(campaign.id, { states: ["error", "sending_failed"], codes: [] }, at(10 * SECOND))).toEqual({ retried: 2, suppressed: 1 })
          expect(yield* stateOf(s, ids[1]!)).toBe("error")
          const { claimed } = yield* s.claim({ account: a, limit: 10, leaseMs: 60 * SECOND, owner: "d", now: at(20 * SECOND), horizonMs: 60 * SECOND })
          expect(claimed.map((x) => x.contact.id).sort()).toEqual([ids[0]!, ids[2]!, waiting].sort())
          for (const x of claimed) expect(x.contact.progress.attempts).toBe(1)
          expect(claimed.find((x) => x.contact.id === ids[0])?.contact.progress.lastError?.code).toBe("131026")
          // A new wamid is accepted (the old one is gone from the row).
          const three = claimed.find((x) => x.contact.id === ids[2])!
          const accepted = yield* s.recordOutcomes([{ contactId: three.contact.id, event: { _tag: "Accepted", wamid: "wamid.3b", waId: null } }], at(21 * SECOND))
          expect(accepted.applied).toBe(1)
          expect(Option.getOrThrow(yield* s.getCampaignContact(ids[2]!)).progress).toMatchObject({ state: "sent", wamid: "wamid.3b" })
          const stopped = Result.getOrThrow(Campaign.stop((yield* s.getCampaign(campaign.id)).pipe(Option.getOrThrow).lifecycle, at(30 * SECOND)))
          yield* s.updateCampaignLifecycle(campaign.id, "running", stopped)
          yield* s.unsuppress(recipient(2))
          expect(yield* s.retryContacts(campaign.id, { states: ["error"], codes: [] }, at(31 * SECOND))).toEqual({ retried: 0, suppressed: 0 })
          expect(yield* stateOf(s, ids[1]!)).toBe("error")
        }))

      test("a retry racing webhooks and outcomes moves back only what is still failed", (s) =>
        Effect.gen(function*() {
          const { campaign, ids } = yield* failedCampaign(s)
          // Meta's late proof that the errored contact's message went out races the retry: whichever is first, the
          // row ends consistent — sent (the retry found nothing to do, or the proof lifted the retried row), never lost.
          const results = yield* Effect.all([
            s.retryContacts(campaign.id, { states: ["error", "sending_failed"], codes: [] }, at(10 * SECOND)),
            s.applyStatuses([
              { wamid: "wamid.5", event: { _tag: "StatusReported", status: "read", at: at(9 * SECOND), wamid: "wamid.5" } },
              { wamid: "wamid.6", event: { _tag: "StatusReported", status: "read", at: at(9 * SECOND), wamid: "wamid.6" } }
            ], at(10 * SECOND)),
            s.recordOutcomes([{ contactId: ids[6]!, event: giveUp(undeliverable, "final_for_contact") }], at(10 * SECOND))
          ], { concurrency: "unbounded" })
          const retried = results[0].retried
          expect([3, 4]).toContain(retried)
          const counts = yield* s.campaignCounts(campaign.id)
          expect(counts.read).toBe(3)
          expect(counts.initial + counts.sending_failed).toBe(5)
          expect(counts.initial).toBe(1 + retried)
          expect(counts.error).toBe(0)
        }))
    })

    describe("concurrency", () => {
      const race = (s: Storage, a: Account, total: number) =>
        Effect.gen(function*() {
          const c = yield* runningCampaign(s, a.name)
          for (let i = 0; i < total; i += 2500) {
            yield* s.addCampaignContacts(c.id, Array.from({ length: Math.min(2500, total - i) }, (_, k) => newContact(i + k)), T0)
          }
          // Four claimers, each advancing its own clock, until nothing more can be claimed.
          const claimer = (owner: string) =>
            Effect.gen(function*() {
              const mine: Array<string> = []
              for (let round = 0; round < 200; round++) {
                const { claimed } = yield* s.claim({ account: a, limit: 500, leaseMs: 3600 * SECOND, owner, now: at(round * SECOND), horizonMs: SECOND })
                mine.push(...claimed.map((x) => x.contact.id))
                if (claimed.length === 0 && round > 20) break
              }
              return mine
            })
          const results = yield* Effect.all(["d1", "d2", "d3", "d4"].map(claimer), { concurrency: "unbounded" })
          return { campaign: c, claimedIds: results.flat(), perClaimer: results.map((r) => r.length) }
        })

      test("4 claimers racing over 10,000 due contacts claim each exactly once", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a", { messagingLimit: "unlimited", throughputMps: 1000 }))
          const { campaign, claimedIds } = yield* race(s, a, 10_000)
          expect(claimedIds.length).toBe(10_000)
          expect(new Set(claimedIds).size).toBe(10_000)
          expect(yield* s.campaignCounts(campaign.id)).toEqual({ ...Campaign.emptyCounts, in_progress: 10_000 })
        }))

      test("4 claimers never reserve more than the 24-hour limit between them", (s) =>
        Effect.gen(function*() {
          const a = yield* s.saveAccount(account("a", { messagingLimit: 3000, throughputMps: 1000 }))
          const { claimedIds } = yield* race(s, a, 10_000)
          expect(new Set(claimedIds).size).toBe(claimedIds.length)
          expect(claimedIds.length).toBe(3000)
          expect((yield* s.quotaUsage(a, at(300 * SECOND))).used).toBe(3000)
        }))
    })
  })
}
