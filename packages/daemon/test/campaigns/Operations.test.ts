// The campaign operations the CLI and the admin API share: each refusal is a tagged error carrying what a person
// needs, the lifecycle is compare-and-set, stop cancels what was not sent, adding contacts checks before it reads.
import { describe, expect, it } from "@effect/vitest"
import { Campaign, Ports, SendWindow } from "@megaphone/core"
import { Effect, Option, Result } from "effect"
import { isCampaignError, mapCampaignErrors } from "../../src/campaigns/Errors.ts"
import * as Operations from "../../src/campaigns/Operations.ts"
import * as Rows from "../../src/campaigns/Rows.ts"
import { bytes, seeded } from "./support.ts"

type Storage = Ports.Storage.StorageShape

const orders = (storage: Storage) => Operations.create(storage, { name: " Objednávky ", account: "shop", template: "order_done", note: " listopad " })

const csv = (text: string) => (campaign: Ports.Storage.CampaignRecord, template: Parameters<typeof Rows.fromCsv>[1]) =>
  Effect.fromResult(Rows.fromCsv(campaign.id, template, bytes(text), {}))

describe("create", () => {
  it.effect("stores a trimmed draft on the only language of the template", () =>
    Effect.gen(function*() {
      const { campaign, counts } = yield* orders(yield* seeded)
      expect(campaign).toMatchObject({ name: "Objednávky", accountName: "shop", templateName: "order_done", language: "cs", note: "listopad" })
      expect(campaign.lifecycle.state).toBe("draft")
      expect(Object.values(counts).every((n) => n === 0)).toBe(true)
    }))

  it.effect("refuses with the data to fix it: name, account, language, template, translation, usability", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const refusal = (input: Operations.CreateInput) => Effect.flip(Operations.create(storage, input))
      expect(yield* refusal({ name: "  ", account: "shop", template: "order_done" })).toMatchObject({ _tag: "CampaignNameEmpty" })
      expect(yield* refusal({ name: "x", account: "nobody", template: "order_done" })).toMatchObject({ _tag: "AccountNotFound", name: "nobody" })
      const ambiguous = yield* refusal({ name: "x", account: "shop", template: "welcome" })
      expect(ambiguous).toMatchObject({ _tag: "LanguageAmbiguous", template: "welcome", languages: ["cs", "en"] })
      expect(ambiguous.message).toBe("Template welcome exists in 2 languages: cs, en.")
      expect(yield* refusal({ name: "x", account: "shop", template: "nothing" })).toMatchObject({
        _tag: "TemplateNotSynced",
        account: "shop",
        wabaId: "waba-1",
        template: "nothing"
      })
      const translation = yield* refusal({ name: "x", account: "shop", template: "welcome", language: "de" })
      expect(translation).toMatchObject({ _tag: "TranslationNotSynced", lookup: { name: "welcome", language: "de", available: ["cs", "en"] } })
      const paused = yield* refusal({ name: "x", account: "shop", template: "spring_sale" })
      expect(paused).toMatchObject({ _tag: "TemplateNotSendable", template: "spring_sale", language: "cs" })
      expect(paused._tag === "TemplateNotSendable" && paused.problems.map((p) => p.code)).toEqual(["status"])
      expect(yield* storage.listCampaigns()).toEqual([])
    }))
})

describe("rate cap", () => {
  it.effect("is set at create or later, removed with null, logged with who did it, and copied by clone", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign } = yield* Operations.create(storage, { name: "Trickle", account: "shop", template: "order_done", maxMps: 2 })
      expect(campaign.maxMps).toBe(2)
      const faster = yield* Operations.setRate(storage, campaign.id, 0.5, "CLI")
      expect(faster.campaign.maxMps).toBe(0.5)
      // The same value again changes nothing and logs nothing.
      yield* Operations.setRate(storage, campaign.id, 0.5, "CLI")
      const cloned = yield* Operations.clone(storage, campaign.id, { name: "Follow-up" }, "CLI")
      expect(cloned.campaign.maxMps).toBe(0.5)
      const removed = yield* Operations.setRate(storage, campaign.id, null, "admin API")
      expect(removed.campaign.maxMps).toBeNull()
      const events = (yield* storage.listEvents(campaign.id, { limit: 50 })).filter((e) => e.kind === "campaign_rate")
      expect(events.map((e) => e.message)).toEqual([
        `Campaign ${campaign.id} capped at 0.5 msg/s by an operator (CLI), was 2.`,
        `Campaign ${campaign.id}'s rate cap (0.5 msg/s) was removed by an operator (admin API): it sends at the number's rate.`
      ])
      expect(yield* Effect.flip(Operations.setRate(storage, "999999", 1, "CLI"))).toMatchObject({ _tag: "CampaignNotFound", id: "999999" })
      // A stopped campaign sends nothing more: its cap stays as it was.
      yield* Operations.operate(storage, cloned.campaign.id, "stop", "CLI")
      const refused = yield* Effect.flip(Operations.setRate(storage, cloned.campaign.id, 5, "CLI"))
      expect(refused.message).toBe("Cannot change the rate cap of a stopped campaign: it sends nothing more — create a new campaign.")
      expect((yield* storage.getCampaign(cloned.campaign.id)).pipe(Option.map((c) => c.maxMps))).toEqual(Option.some(0.5))
    }))

  it("reads an operator's rate and says what is accepted", () => {
    expect(Campaign.parseMaxMps(" 5 ")).toEqual(Result.succeed(5))
    expect(Campaign.parseMaxMps("0.5")).toEqual(Result.succeed(0.5))
    expect(Campaign.parseMaxMps("1000")).toEqual(Result.succeed(1_000))
    for (const bad of ["0", "1001", "-1", "fast", "", "1e3", "5 msg/s"]) {
      const parsed = Campaign.parseMaxMps(bad)
      expect(Result.isFailure(parsed) && parsed.failure).toMatch(/is not a rate: give messages per second as a number above 0 and at most 1000/)
    }
  })
})

describe("send window", () => {
  const window = (text: string) => Result.getOrThrow(SendWindow.parse(text))

  it.effect("is set, changed and removed with a log line each, copied by clone with the contacts' zones, and refused once stopped", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign } = yield* orders(storage)
      const set = yield* Operations.setSendWindow(storage, campaign.id, window("Mon-Fri 09:00-20:00"), "CLI")
      expect(set.campaign.sendWindow).toEqual(window("Mon-Fri 09:00-20:00"))
      // The same window again changes nothing and logs nothing.
      yield* Operations.setSendWindow(storage, campaign.id, window("monday-friday 9:00-20:00"), "CLI")
      yield* Operations.setSendWindow(storage, campaign.id, window("Mon-Sat 08:00-18:00"), "admin API")
      yield* storage.addCampaignContacts(campaign.id, [
        { phone: "+12025550123", recipient: "12025550123", parameters: { "1": "Mr", "2": "Smith", "3": "7" }, timeZone: "America/Chicago" }
      ], new Date(0))
      const cloned = yield* Operations.clone(storage, campaign.id, { name: "Follow-up", contactsFrom: { campaignId: campaign.id, states: ["initial"] } }, "CLI")
      expect(cloned.campaign.sendWindow).toEqual(window("Mon-Sat 08:00-18:00"))
      const copied = yield* storage.listCampaignContacts(cloned.campaign.id, undefined, { limit: 10 })
      expect(copied.map((c) => c.timeZone)).toEqual(["America/Chicago"])
      const removed = yield* Operations.setSendWindow(storage, campaign.id, null, "admin API")
      expect(removed.campaign.sendWindow).toBeNull()
      const events = (yield* storage.listEvents(campaign.id, { limit: 50 })).filter((e) => e.kind === "campaign_window")
      expect(events.map((e) => e.message)).toEqual([
        `Campaign ${campaign.id} sends only Mon-Fri 09:00-20:00 on each recipient's clock, set by an operator (CLI).`,
        `Campaign ${campaign.id} sends only Mon-Sat 08:00-18:00 on each recipient's clock, set by an operator (admin API); was Mon-Fri 09:00-20:00.`,
        `Campaign ${campaign.id}'s send window (Mon-Sat 08:00-18:00) was removed by an operator (admin API): it sends at any hour.`
      ])
      yield* Operations.operate(storage, campaign.id, "stop", "CLI")
      const refused = yield* Effect.flip(Operations.setSendWindow(storage, campaign.id, window("Mon-Fri 09:00-20:00"), "CLI"))
      expect(refused._tag).toBe("OperationRefused")
      expect(refused.message).toMatch(/Cannot change the send window of a stopped campaign/)
      expect(yield* Effect.flip(Operations.setSendWindow(storage, "999999", null, "CLI"))).toMatchObject({ _tag: "CampaignNotFound", id: "999999" })
    }))
})

describe("lifecycle", () => {
  it.effect("start → pause → resume → stop; stop cancels every contact not yet sent and each step is logged with who did it", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign } = yield* orders(storage)
      const refused = yield* Effect.flip(Operations.operate(storage, campaign.id, "start", "CLI"))
      expect(refused).toMatchObject({ _tag: "OperationRefused", campaign: campaign.id, refusal: { operation: "start", state: "draft" } })
      expect(refused.message).toContain("it has no contacts yet")

      yield* Operations.addContacts(storage, campaign.id, csv("phone,1,2,3\r\n+420601123456,pane,Novák,1\r\n+420601123457,paní,Nová,2\r\n"))
      expect((yield* Operations.operate(storage, campaign.id, "start", "CLI")).campaign.lifecycle.state).toBe("running")
      expect((yield* Operations.operate(storage, campaign.id, "pause", "admin API")).campaign.lifecycle.pauseReason).toEqual({ _tag: "Operator" })
      expect((yield* Operations.operate(storage, campaign.id, "resume", "CLI")).campaign.lifecycle.state).toBe("running")
      const stopped = yield* Operations.operate(storage, campaign.id, "stop", "admin API")
      expect([stopped.campaign.lifecycle.state, stopped.cancelled, stopped.counts.cancelled]).toEqual(["stopped", 2, 2])

      const events = yield* storage.listEvents(campaign.id, { limit: 10 })
      expect(events.map((e) => [e.kind, e.message, e.data])).toEqual([
        ["campaign_start", `Campaign ${campaign.id} started by an operator (CLI).`, {}],
        ["campaign_pause", `Campaign ${campaign.id} paused by an operator (admin API).`, {}],
        ["campaign_resume", `Campaign ${campaign.id} resumed by an operator (CLI).`, {}],
        ["campaign_stop", `Campaign ${campaign.id} stopped by an operator (admin API).`, { cancelled: 2 }]
      ])
      expect(yield* Effect.flip(Operations.operate(storage, "999", "stop", "CLI"))).toMatchObject({ _tag: "CampaignNotFound", id: "999" })
    }))

  it.effect("decides again once after a conflict; a second conflict is CampaignChanged with the storage's account of it", () =>
    Effect.gen(function*() {
      const real = yield* seeded
      const { campaign } = yield* orders(real)
      let conflicts = 0
      // Another operator is first every time: the stored state does not move, the update reports the conflict.
      const contested: Storage = {
        ...real,
        updateCampaignLifecycle: (id) => {
          conflicts++
          return Effect.fail(new Ports.Storage.Conflict({ entity: "campaign", key: id, message: "state is running, not draft" }))
        }
      }
      const changed = yield* Effect.flip(Operations.changeLifecycle(contested, campaign.id, (c, _counts, at) =>
        Result.succeed({ ...c.lifecycle, state: "running", startedAt: at })))
      expect(conflicts).toBe(2)
      expect(changed).toMatchObject({ _tag: "CampaignChanged", campaign: campaign.id, detail: "state is running, not draft" })

      let once = 0
      const contestedOnce: Storage = {
        ...real,
        updateCampaignLifecycle: (id, expected, next) =>
          once++ === 0
            ? Effect.fail(new Ports.Storage.Conflict({ entity: "campaign", key: id, message: "changed" }))
            : real.updateCampaignLifecycle(id, expected, next)
      }
      const stopped = yield* Operations.changeLifecycle(contestedOnce, campaign.id, (c, _counts, at) => Result.succeed({ ...c.lifecycle, state: "stopped", endedAt: at }))
      expect([once, stopped.lifecycle.state]).toEqual([2, "stopped"])
    }))
})

describe("addContacts", () => {
  it.effect("a stopped campaign takes none, and its source is never read", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign } = yield* orders(storage)
      yield* Operations.operate(storage, campaign.id, "stop", "CLI")
      let read = false
      const refused = yield* Effect.flip(Operations.addContacts(storage, campaign.id, () =>
        Effect.sync(() => {
          read = true
          return { contacts: [], rejected: [] }
        })))
      expect([refused._tag, read]).toEqual(["OperationRefused", false])
    }))

  it.effect("reports what it added, what was there already and which lines it rejected; a finished campaign reopens", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign } = yield* Operations.create(storage, { name: "Plain", account: "shop", template: "plain" })
      yield* Operations.addContacts(storage, campaign.id, csv("phone\r\n12345\r\n"))
      // Only an invalid record: nothing to send, so starting finishes at once.
      expect((yield* Operations.operate(storage, campaign.id, "start", "CLI")).campaign.lifecycle.state).toBe("finished")
      const report = yield* Operations.addContacts(storage, campaign.id, csv("phone\r\n+420601999999\r\n12345\r\n"))
      expect(report).toEqual({
        campaign: campaign.id,
        state: "running",
        added: 1,
        invalid: 0,
        suppressed: 0,
        alreadyInCampaign: ["12345"],
        rejected: []
      })
      expect(Option.getOrThrow(yield* storage.getCampaign(campaign.id)).lifecycle.state).toBe("running")
    }))

  it.effect("adds to a running campaign: opted-out recipients are kept as invalid records, duplicates skipped, bad rows rejected", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign } = yield* orders(storage)
      yield* Operations.addContacts(storage, campaign.id, csv("phone,1,2,3\r\n+420601123456,pane,Novák,1\r\n"))
      yield* Operations.operate(storage, campaign.id, "start", "CLI")
      yield* storage.suppress([{ recipient: "420601123457", reason: "STOP" }], new Date())
      const report = yield* Operations.addContacts(storage, campaign.id, csv([
        "phone,1,2,3",
        "+420601123456,pane,Novák,1",
        "+420601123457,paní,Nová,2",
        "+420601123458,pane,Dvořák,3",
        "+420601123459,pane,,4",
        "12345,pane,Nikdo,5",
        ""
      ].join("\r\n")))
      expect(report).toEqual({
        campaign: campaign.id,
        state: "running",
        added: 3,
        invalid: 1,
        suppressed: 1,
        alreadyInCampaign: ["420601123456"],
        rejected: [{ line: 5, phone: "+420601123459", reason: expect.stringContaining("Variable 2 (Body {{2}}) is empty") }]
      })
      const contacts = yield* storage.listCampaignContacts(campaign.id, "invalid_record", { limit: 10 })
      expect(contacts.map((c) => [c.phone, c.progress.lastError?.code])).toEqual([["+420601123457", "opted_out"], ["12345", "invalid_phone"]])
      expect(yield* storage.campaignCounts(campaign.id)).toMatchObject({ initial: 2, invalid_record: 2 })
    }))

  it.effect("a campaign whose template or account is gone takes none, saying which", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign } = yield* orders(storage)
      const noTemplates: Storage = { ...storage, listTemplates: () => Effect.succeed([]) }
      const gone = yield* Effect.flip(Operations.addContacts(noTemplates, campaign.id, csv("phone,1,2,3\r\n")))
      expect(gone).toMatchObject({ _tag: "CampaignTemplateGone", campaign: campaign.id, account: "shop", template: "order_done", language: "cs" })
      expect(gone._tag === "CampaignTemplateGone" && gone.lookup._tag).toBe("TemplateNotFound")
      const noAccount: Storage = { ...storage, getAccount: () => Effect.succeed(Option.none()) }
      expect(yield* Effect.flip(Operations.blankCsv(noAccount, campaign.id))).toMatchObject({
        _tag: "CampaignAccountGone",
        campaign: campaign.id,
        account: "shop"
      })
    }))
})

describe("mapCampaignErrors", () => {
  it.effect("maps the operations' refusals and lets every other error through unchanged", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const toText = mapCampaignErrors((error) => `refused: ${error._tag}`)
      expect(yield* Effect.flip(toText(Operations.findCampaign(storage, "999")))).toBe("refused: CampaignNotFound")
      const broken = new Ports.Storage.StorageError({ operation: "getCampaign", message: "connection lost" })
      const failing: Storage = { ...storage, getCampaign: () => Effect.fail(broken) }
      expect(yield* Effect.flip(toText(Operations.findCampaign(failing, "1")))).toBe(broken)
      expect([isCampaignError(broken), isCampaignError(yield* Effect.flip(Operations.findCampaign(storage, "999")))]).toEqual([false, true])
    }))
})

// Retry failed contacts (issue 11, item 3)
describe("retry", () => {
  const undeliverable = { errorClass: "recipient", scope: "contact", code: "131026", text: "Message undeliverable" } as const
  const busy = { errorClass: "transient", scope: "contact", code: "131000", text: "Something went wrong" } as const

  /** A running campaign of three: one sending_failed (131026), one error (131000), one sent; then finished. */
  const failedCampaign = (storage: Storage) =>
    Effect.gen(function*() {
      const { campaign } = yield* orders(storage)
      yield* Operations.addContacts(storage, campaign.id, csv("phone,1,2,3\r\n+420601123456,pane,A,1\r\n+420601123457,paní,B,2\r\n+420601123458,pane,C,3\r\n"))
      yield* Operations.operate(storage, campaign.id, "start", "CLI")
      const account = Option.getOrThrow(yield* storage.getAccount("shop"))
      const { claimed } = yield* storage.claim({ account, limit: 3, leaseMs: 60_000, owner: "d", now: new Date(), horizonMs: 60_000 })
      const [one, two, three] = claimed.map((c) => c.contact.id)
      yield* storage.recordOutcomes([
        { contactId: one!, event: { _tag: "AttemptFailed", error: undeliverable, decision: { _tag: "GiveUp", reason: "final_for_contact" } } },
        { contactId: two!, event: { _tag: "AttemptFailed", error: busy, decision: { _tag: "GiveUp", reason: "attempts_exhausted" } } },
        { contactId: three!, event: { _tag: "Accepted", wamid: "wamid.3", waId: null } }
      ], new Date())
      const finished = yield* Operations.changeLifecycle(storage, campaign.id, (c, counts, at) => Result.succeed(Campaign.finishIfDone(c.lifecycle, counts, at)))
      expect(finished.lifecycle.state).toBe("finished")
      return { campaign, ids: [one!, two!, three!] }
    })

  it.effect("puts exactly the selected failed contacts back, reopens a finished campaign and logs who, what and how many", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign } = yield* failedCampaign(storage)
      const report = yield* Operations.retry(storage, campaign.id, { states: ["sending_failed"], codes: [" 131026 "] }, "CLI")
      expect([report.retried, report.suppressed, report.campaign.lifecycle.state]).toEqual([1, 0, "running"])
      expect(report.counts).toMatchObject({ initial: 1, error: 1, sent: 1, sending_failed: 0 })
      const again = yield* Operations.retry(storage, campaign.id, { states: ["error", "sending_failed"] }, "admin API")
      expect(again.retried).toBe(1)
      const events = (yield* storage.listEvents(campaign.id, { limit: 20 })).filter((e) => e.kind === "campaign_contacts_retried")
      expect(events.map((e) => e.data)).toEqual([
        { by: "CLI", states: ["sending_failed"], codes: ["131026"], retried: 1, suppressed: 0 },
        { by: "admin API", states: ["error", "sending_failed"], codes: [], retried: 1, suppressed: 0 }
      ])
      expect(events[0]?.message).toBe(`1 sending_failed contact(s) with last error 131026 of campaign ${campaign.id} put back to initial by an operator (CLI).`)
    }))

  it.effect("refuses states that cannot be retried, unknown codes, drafts and stopped campaigns, naming what would work", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign } = yield* failedCampaign(storage)
      const states = yield* Effect.flip(Operations.retry(storage, campaign.id, { states: ["sent", "error"] }, "CLI"))
      expect(states.message).toBe("Cannot retry contacts in sent: only error and sending_failed contacts can be retried.")
      expect((yield* Effect.flip(Operations.retry(storage, campaign.id, { states: [] }, "CLI"))).message).toMatch(/Name the states to retry: error, sending_failed/)
      const codes = yield* Effect.flip(Operations.retry(storage, campaign.id, { states: ["error"], codes: ["999"] }, "CLI"))
      expect(codes).toMatchObject({ _tag: "RetryCodesUnknown", unknown: ["999"], present: ["131000", "131026"] })
      const { campaign: draft } = yield* orders(storage)
      expect((yield* Effect.flip(Operations.retry(storage, draft.id, { states: ["error"] }, "CLI"))).message).toMatch(/Cannot retry a draft campaign/)
      // Reopened by retrying one, then stopped: the stop cancels it, and the other stays failed.
      expect((yield* Operations.retry(storage, campaign.id, { states: ["sending_failed"] }, "CLI")).retried).toBe(1)
      yield* Operations.operate(storage, campaign.id, "stop", "CLI")
      expect((yield* Effect.flip(Operations.retry(storage, campaign.id, { states: ["error"] }, "CLI"))).message).toMatch(/Cannot retry a stopped campaign/)
      expect(yield* storage.campaignCounts(campaign.id)).toMatchObject({ error: 1, cancelled: 1, sent: 1 })
      expect(yield* Effect.flip(Operations.retry(storage, "999", { states: ["error"] }, "CLI"))).toMatchObject({ _tag: "CampaignNotFound" })
    }))
})

// Clone a campaign (issue 11, item 5)
describe("clone", () => {
  /** A running campaign of five: sent, delivered, read, one not yet sent, one invalid phone (no recipient). */
  const sentCampaign = (storage: Storage) =>
    Effect.gen(function*() {
      const { campaign } = yield* orders(storage)
      yield* Operations.addContacts(storage, campaign.id, csv([
        "phone,1,2,3",
        "+420601123451,pane,A,1",
        "+420601123452,paní,B,2",
        "+420601123453,pane,C,3",
        "+420601123454,pane,D,4",
        "12345,pane,Nikdo,5",
        ""
      ].join("\r\n")))
      yield* Operations.operate(storage, campaign.id, "start", "CLI")
      const account = Option.getOrThrow(yield* storage.getAccount("shop"))
      const { claimed } = yield* storage.claim({ account, limit: 3, leaseMs: 60_000, owner: "d", now: new Date(), horizonMs: 60_000 })
      yield* storage.recordOutcomes(
        claimed.map((c, i) => ({ contactId: c.contact.id, event: { _tag: "Accepted", wamid: `wamid.${i}`, waId: null } as const })),
        new Date()
      )
      return campaign
    })

  it.effect("copies the settings (not the contacts) into a new draft, and logs who did it", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const source = yield* sentCampaign(storage)
      const report = yield* Operations.clone(storage, source.id, { name: " Připomínka " }, "CLI")
      expect(report.campaign).toMatchObject({ name: "Připomínka", accountName: "shop", templateName: "order_done", language: "cs", note: "listopad" })
      expect(report.campaign.id).not.toBe(source.id)
      expect([report.campaign.lifecycle.state, report.clonedFrom, report.contacts]).toEqual(["draft", source.id, undefined])
      expect(Campaign.totalContacts(report.counts)).toBe(0)
      const events = (yield* storage.listEvents(report.campaign.id, { limit: 10 })).filter((e) => e.kind === "campaign_clone")
      expect(events.map((e) => [e.message, e.data])).toEqual([
        [`Campaign ${report.campaign.id} cloned from campaign ${source.id} by an operator (CLI).`, { by: "CLI", cloned_from: source.id }]
      ])
      const { campaign: plain } = yield* Operations.create(storage, { name: "Bez poznámky", account: "shop", template: "order_done" })
      expect((yield* Operations.clone(storage, plain.id, { name: "Znovu" }, "CLI")).campaign.note).toBe(`Follow-up of campaign ${plain.id}.`)
    }))

  it.effect("copies the contacts in the chosen states with their parameters; suppressed kept invalid, invalid phones skipped and counted", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const source = yield* sentCampaign(storage)
      yield* storage.suppress([{ recipient: "420601123452", reason: "STOP" }], new Date())
      const report = yield* Operations.clone(storage, source.id, {
        name: "Připomínka",
        contactsFrom: { campaignId: source.id, states: ["sent", " initial", "invalid_record", "sent"] }
      }, "admin API")
      expect(report.contacts).toEqual({
        from: source.id,
        states: ["sent", "initial", "invalid_record"],
        skippedInvalid: 1,
        report: { campaign: report.campaign.id, state: "draft", added: 4, invalid: 0, suppressed: 1, alreadyInCampaign: [], rejected: [] }
      })
      expect(report.counts).toMatchObject({ initial: 3, invalid_record: 1 })
      const copied = yield* storage.listCampaignContacts(report.campaign.id, undefined, { limit: 10 })
      expect(copied.map((c) => [c.phone, c.recipient, c.parameters])).toEqual([
        ["+420601123451", "420601123451", { 1: "pane", 2: "A", 3: "1" }],
        ["+420601123452", "420601123452", { 1: "paní", 2: "B", 3: "2" }],
        ["+420601123453", "420601123453", { 1: "pane", 2: "C", 3: "3" }],
        ["+420601123454", "420601123454", { 1: "pane", 2: "D", 3: "4" }]
      ])
      // Copying again into the clone: everyone is there already, kept once.
      const again = yield* Operations.clone(storage, report.campaign.id, {
        name: "Třetí",
        contactsFrom: { campaignId: report.campaign.id, states: ["initial"] }
      }, "CLI")
      expect(again.contacts?.report).toMatchObject({ added: 3, alreadyInCampaign: [] })
      const event = (yield* storage.listEvents(report.campaign.id, { limit: 10 })).find((e) => e.kind === "campaign_clone")
      expect(event?.message).toBe(`Campaign ${report.campaign.id} cloned from campaign ${source.id} by an operator (admin API), ` +
        `with 4 contact(s) of campaign ${source.id} in sent/initial/invalid_record (1 without a recipient skipped).`)
    }))

  it.effect("refuses bad states, unknown campaigns and a template gone from Meta before creating anything", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const source = yield* sentCampaign(storage)
      const states = yield* Effect.flip(Operations.clone(storage, source.id, { name: "X", contactsFrom: { campaignId: source.id, states: ["sent", "unread"] } }, "CLI"))
      expect(states).toMatchObject({ _tag: "CloneStatesInvalid", given: ["sent", "unread"] })
      expect(states.message).toBe("unread is not a contact state; the states are: initial, in_progress, sent, delivered, read, retry_scheduled, " +
        "error, invalid_record, sending_failed, cancelled.")
      expect((yield* Effect.flip(Operations.clone(storage, source.id, { name: "X", contactsFrom: { campaignId: source.id, states: [] } }, "CLI"))).message)
        .toMatch(/^Name the states of the contacts to copy/)
      expect(yield* Effect.flip(Operations.clone(storage, "999", { name: "X" }, "CLI"))).toMatchObject({ _tag: "CampaignNotFound", id: "999" })
      expect(yield* Effect.flip(Operations.clone(storage, source.id, { name: "X", contactsFrom: { campaignId: "998", states: ["sent"] } }, "CLI")))
        .toMatchObject({ _tag: "CampaignNotFound", id: "998" })
      expect(yield* Effect.flip(Operations.clone(storage, source.id, { name: " " }, "CLI"))).toMatchObject({ _tag: "CampaignNameEmpty" })
      const { campaign: welcome } = yield* Operations.create(storage, { name: "Vítejte", account: "shop", template: "welcome", language: "en" })
      const other = yield* Effect.flip(Operations.clone(storage, source.id, { name: "X", contactsFrom: { campaignId: welcome.id, states: ["sent"] } }, "CLI"))
      expect(other.message).toBe(`Campaign ${welcome.id} sends welcome (en), not order_done (cs) as campaign ${source.id} does: its contacts' ` +
        "values are for another template. Copy contacts from a campaign on the same template.")
      const noTemplates: Storage = { ...storage, listTemplates: () => Effect.succeed([]) }
      expect(yield* Effect.flip(Operations.clone(noTemplates, source.id, { name: "X" }, "CLI"))).toMatchObject({
        _tag: "CampaignTemplateGone",
        campaign: source.id,
        template: "order_done"
      })
      expect((yield* Operations.list(storage)).length).toBe(2)
    }))
})
