// `megaphone templates sync | list` as a user runs them: the real binary, a real PostgreSQL (seeded through
// the storage where a test needs campaigns), and the simulator as Meta over HTTP.
import { Campaign, Ports, Template } from "@megaphone/core"
import { Effect, Redacted, Result } from "effect"
import { describe, expect, it } from "vitest"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import {
  PHONE_ID, TOKEN, WABA_ID
} from "../../../adapters/test/transport/simulator/support.ts"
import { megaphone, withSimulator, withStorage } from "./binary.ts"

const { cwd, simulator: running } = await withSimulator()

const T0 = new Date("2026-11-26T10:00:00.000Z")


const template = (fields: Record<string, unknown>): Template.Template =>
  Result.getOrThrow(Template.decode({ category: "UTILITY", components: [], ...fields }))

const account = (name: string, wabaId: string, graphUrl = "http://127.0.0.1:1"): Ports.Storage.Account => ({
  name, phoneNumberId: name === "shop" ? PHONE_ID : "555", wabaId, portfolioId: null, tokenEnv: "SIM_TOKEN", graphUrl,
  graphVersion: "v23.0", displayPhoneNumber: null, messagingLimit: 250, messagingTier: null, qualityRating: null,
  throughputMps: 80, throughputLevel: null, nameStatus: null, status: null, createdAt: T0, updatedAt: T0
})

describe("megaphone templates list", () => {
  it("shows status, category, variables and the ⚠ explanation of what cannot be sent, in text and JSON", async () => {
    const url = Redacted.value(await freshDatabase("embedded"))
    await withStorage(url, (s) => Effect.gen(function*() {
      yield* s.saveAccount(account("shop", "111"))
      yield* s.saveAccount(account("abroad", "222"))
      yield* s.syncTemplates("111", [
        template({ id: "1", name: "order_done", language: "cs", status: "APPROVED",
          components: [{ type: "BODY", text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena." }] }),
        template({ id: "2", name: "spring_sale", language: "cs", status: "PAUSED", category: "MARKETING",
          components: [{ type: "BODY", text: "Sleva {{1}}" }] }),
        template({ id: "3", name: "old", language: "en", status: "APPROVED" })
      ], T0)
      yield* s.syncTemplates("111", [
        template({ id: "1", name: "order_done", language: "cs", status: "APPROVED",
          components: [{ type: "BODY", text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena." }] }),
        template({ id: "2", name: "spring_sale", language: "cs", status: "PAUSED", category: "MARKETING",
          components: [{ type: "BODY", text: "Sleva {{1}}" }] })
      ], new Date(T0.getTime() + 1000))
      yield* s.syncTemplates("222", [
        template({ id: "4", name: "welcome", language: "de", status: "REJECTED", rejected_reason: "SCAM" }),
        template({ id: "5", name: "catalog", language: "cs", status: "APPROVED", category: "MARKETING",
          components: [{ type: "HEADER", format: "IMAGE" }, { type: "BODY", text: "Dobrý den, {{1}}, posíláme katalog." }] })
      ], T0)
    }))

    const listed = await megaphone(cwd, ["templates", "list", "--account", "shop", "--json", "--database-url", url])
    expect(listed.code).toBe(0)
    const { templates } = JSON.parse(listed.stdout)
    expect(templates.map((t: { name: string }) => t.name)).toEqual(["old", "order_done", "spring_sale"])
    expect(templates[1]).toEqual({
      waba_id: "111", accounts: ["shop"], name: "order_done", language: "cs", status: "APPROVED", category: "UTILITY", header: null,
      variables: ["1", "2", "3"], usable: true, explanation: null, synced_at: "2026-11-26T10:00:01.000Z", deleted_at: null
    })
    expect(templates[2]).toMatchObject({ status: "PAUSED", usable: false, explanation: expect.stringMatching(/^Template spring_sale is paused by Meta/) })
    // Gone from Meta's list: shown as deleted, with why it cannot be sent.
    expect(templates[0]).toMatchObject({ status: "DELETED", usable: false, deleted_at: "2026-11-26T10:00:01.000Z",
      explanation: expect.stringMatching(/^Template old was deleted/) })

    const text = await megaphone(cwd, ["templates", "list"], { MEGAPHONE_DATABASE_URL: url })
    expect(text.code).toBe(0)
    const lines = text.stdout.split("\n")
    expect(lines[0]).toMatch(/^WABA\s+NAME\s+LANGUAGE\s+STATUS\s+CATEGORY\s+HEADER\s+VARIABLES\s+PROBLEM$/)
    expect(lines.find((l) => l.includes("order_done"))).toMatch(/^111\s+order_done\s+cs\s+APPROVED\s+UTILITY\s+-\s+1, 2, 3$/)
    expect(lines.find((l) => l.includes("catalog"))).toMatch(/^222\s+catalog\s+cs\s+APPROVED\s+MARKETING\s+image\s+header\.image, 1$/)
    expect(lines.find((l) => l.includes("welcome"))).toMatch(/^222\s+welcome\s+de\s+REJECTED\s+UTILITY\s+-\s+-\s+⚠ Template welcome was rejected by Meta: Meta considers it deceptive or a scam\./)
    expect(text.stdout).toContain("5 template(s), 2 can be sent, 3 cannot (⚠).")

    const nobody = await megaphone(cwd, ["templates", "list", "--account", "nobody", "--database-url", url])
    expect(nobody.code).toBe(1)
    expect(nobody.stderr).toContain('No account named "nobody"')
  }, 60_000)

  it("on an empty database says how to sync", async () => {
    const url = Redacted.value(await freshDatabase("embedded"))
    const empty = await megaphone(cwd, ["templates", "list", "--database-url", url])
    expect([empty.code, empty.stdout]).toEqual([0, "No templates synced yet. Run: megaphone templates sync\n"])
    expect(JSON.parse((await megaphone(cwd, ["templates", "list", "--json", "--database-url", url])).stdout)).toEqual({ templates: [] })
  }, 60_000)
})

describe("megaphone templates sync", () => {
  it("fetches the templates from the simulator, explains the unusable ones, and pauses a campaign whose template Meta paused", async () => {
    const url = Redacted.value(await freshDatabase("embedded"))
    const run = (args: ReadonlyArray<string>) => megaphone(cwd, [...args, "--database-url", url], { SIM_TOKEN: TOKEN })
    await run(["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--graph-url", running().sim.url,
      "--token-env", "SIM_TOKEN"])

    const first = await run(["templates", "sync", "--json"])
    expect(first.code).toBe(0)
    expect(first.stderr).toContain(`Syncing the templates of shop (WABA ${WABA_ID})…`)
    const [result] = JSON.parse(first.stdout).accounts
    expect(result).toMatchObject({ account: "shop", waba_id: WABA_ID, ok: true, added: 7, updated: 0, deleted: 0, paused_campaigns: [], resumed_campaigns: [] })
    expect(result.problems.map((p: { name: string; status: string }) => [p.name, p.status])).toEqual([
      ["lucky_draw", "REJECTED"], ["old_promo", "DISABLED"], ["winter_sale", "PAUSED"]
    ])
    expect(result.problems[0].explanation).toContain("it is promotional but was submitted as UTILITY")

    // A running campaign on order_done; then Meta pauses the template and the next sync catches it.
    const campaignId = await withStorage(url, (s) => Effect.gen(function*() {
      const created = yield* s.createCampaign({ name: "orders", accountName: "shop", templateName: "order_done", language: "cs", note: null }, T0)
      yield* s.addCampaignContacts(created.id, [{ phone: "+420601000009", recipient: "420601000009", parameters: { "1": "a", "2": "b", "3": "c" } }], T0)
      const counts = yield* s.campaignCounts(created.id)
      yield* s.updateCampaignLifecycle(created.id, "draft", Result.getOrThrow(Campaign.start(created.lifecycle, counts, T0)))
      return created.id
    }))
    await Effect.runPromise(running().sim.setTemplateStatus(WABA_ID, "order_done", "cs", "PAUSED"))
    try {
      const second = await run(["templates", "sync"])
      expect(second.code).toBe(0)
      expect(second.stdout).toContain("shop: 7 template(s) — 0 added, 7 updated, 0 deleted.")
      expect(second.stdout).toMatch(/⚠ order_done \(cs\) PAUSED: Template order_done is paused by Meta/)
      expect(second.stdout).toContain(`Paused campaign(s) ${campaignId}: their template cannot be sent now.`)
      const lifecycle = await withStorage(url, (s) => Effect.map(s.getCampaign(campaignId), (c) => c._tag === "Some" ? c.value.lifecycle : null))
      expect(lifecycle?.pauseReason).toMatchObject({ _tag: "System", kind: "template_unusable", code: "PAUSED" })
    } finally {
      await Effect.runPromise(running().sim.reset)
    }
    const third = await run(["templates", "sync", "--account", "shop", "--json"])
    expect(JSON.parse(third.stdout).accounts[0].resumed_campaigns).toEqual([campaignId])
    expect(first.stdout + first.stderr + third.stdout + third.stderr).not.toContain(TOKEN)
  }, 60_000)

  it("goes on past an account that fails, reports it in the JSON, and exits 1", async () => {
    const url = Redacted.value(await freshDatabase("embedded"))
    const none = await megaphone(cwd, ["templates", "sync", "--database-url", url])
    expect(none.code).toBe(1)
    expect(none.stderr).toContain("No accounts yet. Add one with `megaphone accounts add NAME")
    await withStorage(url, (s) => Effect.gen(function*() {
      yield* s.saveAccount(account("shop", WABA_ID, running().sim.url))
      yield* s.saveAccount({ ...account("broken", "999", running().sim.url), tokenEnv: "BROKEN_TOKEN" })
    }))
    const result = await megaphone(cwd, ["templates", "sync", "--json", "--database-url", url], { SIM_TOKEN: TOKEN })
    expect(result.code).toBe(1)
    const { accounts } = JSON.parse(result.stdout)
    expect(accounts.map((a: { account: string; ok: boolean }) => [a.account, a.ok])).toEqual([["broken", false], ["shop", true]])
    expect(accounts[0].error).toContain("environment variable BROKEN_TOKEN, which is not set")
    expect(result.stderr).toContain("error: The templates of 1 of 2 accounts could not be synced: broken (see the JSON).")
  }, 60_000)
})
