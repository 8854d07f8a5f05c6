// The dashboard's two sources on the same data: over the real daemon's admin API and straight on PostgreSQL
// (read-only). They must show the same campaigns, accounts, errors by code, retries, template issues and pages
// of contacts; the API's actions change the campaign; the database's are refused. The account's token is not in
// the daemon's environment, so it never dispatches and the data stays as seeded.
import { rm } from "node:fs/promises"
import { Ports, Template } from "@megaphone/core"
import { Effect, Redacted, Result } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import * as Operations from "../../src/campaigns/Operations.ts"
import * as ApiSource from "../../src/tui/ApiSource.ts"
import * as StorageSource from "../../src/tui/StorageSource.ts"
import { scratchDirectory, withStorage } from "../cli/binary.ts"
import { ADMIN_TOKEN, killAll, startDaemon } from "../e2e/support.ts"
import type { Source } from "@megaphone/tui"

const T0 = new Date("2026-11-26T10:00:00.000Z")
const cwd = await scratchDirectory()
let url = ""
let api: Source.Source
let db: Source.Source
let id = ""

const template = (fields: Record<string, unknown>): Template.Template =>
  Result.getOrThrow(Template.decode({ category: "UTILITY", status: "APPROVED", components: [], ...fields }))

const failure = (code: string, text: string) => ({ errorClass: "recipient" as const, scope: "contact" as const, code, text })

beforeAll(async () => {
  url = Redacted.value(await freshDatabase("embedded"))
  id = await withStorage(url, (s) =>
    Effect.gen(function*() {
      const account = yield* s.saveAccount({
        name: "shop", phoneNumberId: "106540352242922", wabaId: "111", portfolioId: null, tokenEnv: "SIM_TOKEN",
        graphUrl: "http://127.0.0.1:1", graphVersion: "v23.0", displayPhoneNumber: "+420 601 000 001", messagingLimit: 1000,
        messagingTier: "TIER_1K", qualityRating: "GREEN", throughputMps: 80, throughputLevel: null, nameStatus: null, status: null,
        createdAt: T0, updatedAt: T0
      })
      yield* s.syncTemplates("111", [
        template({ id: "1", name: "order_done", language: "cs", components: [{ type: "BODY", text: "Dobrý den, {{1}}." }] }),
        template({ id: "2", name: "spring_sale", language: "cs", status: "PAUSED", components: [{ type: "BODY", text: "Sleva {{1}}" }] })
      ], T0)
      const { campaign } = yield* Operations.create(s, { name: "Objednávky", account: "shop", template: "order_done", language: undefined, note: undefined })
      yield* s.addCampaignContacts(campaign.id, Array.from({ length: 8 }, (_, i) => ({
        phone: `+420601${200_000 + i}`, recipient: `420601${200_000 + i}`, parameters: { 1: `Novák ${i}` }
      })), T0)
      yield* Operations.operate(s, campaign.id, "start", "CLI")
      // Four sends: accepted, failed for good (131026), failed twice (131000, a retry scheduled), failed once more (131026).
      const now = new Date()
      const { claimed } = yield* s.claim({ account, limit: 4, leaseMs: 60_000, owner: "test", now })
      const [a, b, c, d] = claimed.map((x) => x.contact.id)
      const retryAt = new Date(now.getTime() + 3_600_000)
      yield* s.recordOutcomes([
        { contactId: a ?? "", event: { _tag: "Accepted", wamid: "wamid.A", waId: null } },
        { contactId: b ?? "", event: { _tag: "AttemptFailed", error: failure("131026", "(#131026) Message undeliverable"), decision: { _tag: "GiveUp", reason: "final_for_contact" } } },
        { contactId: c ?? "", event: { _tag: "AttemptFailed", error: failure("131000", "(#131000) Something went wrong"), decision: { _tag: "RetryAt", at: retryAt, countsAsAttempt: true } } },
        { contactId: d ?? "", event: { _tag: "AttemptFailed", error: failure("131026", "(#131026) Message undeliverable"), decision: { _tag: "GiveUp", reason: "attempts_exhausted" } } }
      ], now)
      return campaign.id
    }))
  const daemon = await startDaemon(cwd, { MEGAPHONE_DATABASE_URL: url })
  api = ApiSource.make({ _tag: "Remote", baseUrl: `http://127.0.0.1:${daemon.adminPort}`, token: Redacted.make(ADMIN_TOKEN) })
  db = StorageSource.make((effect) => withStorage(url, (s) => Effect.provideService(effect, Ports.Storage.Storage, s)),
    "the test database", "no daemon in this test")
}, 120_000)

afterAll(async () => {
  killAll()
  await rm(cwd, { recursive: true, force: true })
})

describe("the dashboard's sources", () => {
  it("read the same campaigns, accounts, errors, retries and template issues", async () => {
    const [campaigns, accounts, errors, retries, issues] = await Promise.all([api.campaigns(), api.accounts(), api.recentErrors(), api.retries(), api.templateIssues()])
    expect(campaigns).toEqual(await db.campaigns())
    expect(campaigns).toMatchObject([{ id, name: "Objednávky", account: "shop", template: "order_done", language: "cs", lifecycle: { state: "running", pauseReason: null } }])
    expect(campaigns[0]?.counts).toMatchObject({ initial: 4, sent: 1, sending_failed: 1, error: 1, retry_scheduled: 1 })

    expect(accounts).toEqual(await db.accounts())
    expect(accounts).toEqual([{ name: "shop", displayPhoneNumber: "+420 601 000 001", tier: "TIER_1K", qualityRating: "GREEN", used: 4, limit: 1000, nextFreeAt: null, throughputMps: 80 }])

    expect(errors).toEqual(await db.recentErrors())
    expect(errors).toEqual([
      { code: "131026", count: 2, sample: "(#131026) Message undeliverable", campaigns: [id] },
      { code: "131000", count: 1, sample: "(#131000) Something went wrong", campaigns: [id] }
    ])
    expect(retries).toEqual(await db.retries())
    expect(retries).toMatchObject({ total: 1, soonest: [{ campaignId: id, attempts: 1, lastError: { code: "131000" } }] })

    // The database knows the template itself, so it can also say the problem in Czech.
    const fromDb = await db.templateIssues()
    expect(issues).toEqual(fromDb.map((i) => ({ ...i, explanation: { en: i.explanation.en } })))
    expect(fromDb).toMatchObject([{ template: "spring_sale", language: "cs", status: "PAUSED", accounts: ["shop"] }])
    expect(fromDb[0]?.explanation.en).toContain("Template spring_sale is paused by Meta for low quality")
    expect(fromDb[0]?.explanation.cs).toContain("Šablonu spring_sale pozastavila Meta kvůli nízké kvalitě")
  }, 30_000)

  it("page through a campaign's contacts alike, in one state or all", async () => {
    const first = await api.contacts(id, { limit: 3 })
    expect(first).toEqual(await db.contacts(id, { limit: 3 }))
    expect(first.contacts).toHaveLength(3)
    expect(first.nextAfterId).toBe(first.contacts[2]?.id)
    const rest = await api.contacts(id, { limit: 10, afterId: first.nextAfterId ?? "" })
    expect(rest).toEqual(await db.contacts(id, { limit: 10, afterId: first.nextAfterId ?? "" }))
    expect(rest).toMatchObject({ nextAfterId: null })
    expect(rest.contacts).toHaveLength(5)
    const failed = await api.contacts(id, { limit: 10, state: "sending_failed" })
    expect(failed.contacts).toMatchObject([{ state: "sending_failed", attempts: 1, lastError: { code: "131026" }, stateTimes: { sending_failed: expect.any(Date) } }])
  }, 30_000)

  it("act through the API; read-only refuses with the reason", async () => {
    await expect(db.pause(id)).rejects.toThrow("Read-only — no daemon in this test")
    await expect(db.addContacts(id, { _tag: "Csv", path: "x.csv", defaults: {} })).rejects.toThrow("Read-only")
    const paused = await api.pause(id)
    expect(paused).toMatchObject({ campaign: { id, lifecycle: { state: "paused", pauseReason: { _tag: "Operator" } } }, cancelled: 0 })
    await expect(api.pause(id)).rejects.toThrow(/Cannot pause a paused campaign/)
    const added = await api.addContacts(id, { _tag: "Directory", filter: { where: "phone = \"+420999000111\"" }, phoneColumn: "phone", vars: { 1: "phone" }, defaults: {} })
    expect(added).toMatchObject({ added: 0, state: "paused" })
    await expect(api.addContacts(id, { _tag: "Csv", path: "/nonexistent.csv", defaults: {} })).rejects.toThrow("Cannot read /nonexistent.csv")
    // Retry failed (issue 11, item 3): the error and the sending_failed contact go back to initial; the stop cancels them too.
    await expect(db.retry(id, { states: ["error", "sending_failed"] })).rejects.toThrow("Read-only")
    const retried = await api.retry(id, { states: ["error", "sending_failed"] })
    expect(retried).toMatchObject({ retried: 2, suppressed: 0, campaign: { lifecycle: { state: "paused" }, counts: { initial: 6, error: 0, sending_failed: 0 } } })
    const stopped = await api.stop(id)
    expect(stopped).toMatchObject({ campaign: { lifecycle: { state: "stopped" } }, cancelled: 7 })
    await expect(api.retry(id, { states: ["error"] })).rejects.toThrow(/Cannot retry a stopped campaign/)
    expect((await db.campaigns())[0]?.lifecycle.state).toBe("stopped")
  }, 30_000)
})
