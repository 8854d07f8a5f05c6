// Send windows with the injected clock (TestClock), through the dispatcher: a campaign limited to Mon–Fri 09:00–20:00
// on each recipient's clock runs into a closing window mid-campaign; the contacts left wait — no attempt used, no
// quota — and go the next morning at 09:00 their time. Prague and Bratislava open at 09:00 CET/CEST; a +1 number
// only once the window is open in every US zone (09:00 in Honolulu), one with its own zone on New York's hours.
import { describe, expect, it } from "@effect/vitest"
import { Ports, SendWindow } from "@megaphone/core"
import { Effect, Fiber, Option, Redacted, Result } from "effect"
import { TestClock } from "effect/testing"
import * as Json from "../../src/campaigns/Json.ts"
import * as Operations from "../../src/campaigns/Operations.ts"
import { dispatchOnce } from "../../src/dispatch/Dispatcher.ts"
import { seeded } from "../campaigns/support.ts"

const parameters = { "1": "pane", "2": "Nováku", "3": "42" }
const contact = (phone: string, timeZone?: string): Ports.Storage.NewCampaignContact & { readonly recipient: string } => ({
  phone,
  recipient: phone.slice(1),
  parameters,
  ...(timeZone === undefined ? {} : { timeZone })
})

// Added in this order (ids 1–8): the claims take two at a time, in id order.
const P1 = contact("+420601000001")
const B1 = contact("+421903000001")
const P2 = contact("+420601000002")
const B2 = contact("+421903000002")
const P3 = contact("+420601000003")
const B3 = contact("+421903000003")
const NEW_YORK = contact("+12125550101", "America/New_York")
const US = contact("+12025550123")

/** A transport that accepts every message at once, and remembers when each recipient's left. */
const acceptingTransport = (sentAt: Map<string, number>, now: () => number): Ports.Transport.TransportShape => {
  const sendTemplate: Ports.Transport.TransportShape["sendTemplate"] = (_sender, payload) =>
    Effect.sync(() => {
      sentAt.set(payload.to, now())
      return { wamid: `wamid.${payload.to}`, waId: payload.to, messageStatus: "accepted" }
    })
  // Only sends happen in this story.
  return { sendTemplate } as unknown as Ports.Transport.TransportShape
}

/** A running campaign on "shop" with this window and these contacts, and a dispatcher round at a time of choice. */
const story = (startIso: string, window: string, contacts: ReadonlyArray<Ports.Storage.NewCampaignContact>) =>
  Effect.gen(function*() {
    const storage = yield* seeded
    const shop = Option.getOrThrow(yield* storage.getAccount("shop"))
    let clock = Date.parse(startIso)
    yield* TestClock.setTime(clock)
    const { campaign } = yield* Operations.create(storage, { name: "Story", account: "shop", template: "order_done" })
    yield* Operations.setSendWindow(storage, campaign.id, Result.getOrThrow(SendWindow.parse(window)), "CLI")
    yield* storage.addCampaignContacts(campaign.id, contacts, new Date(clock))
    yield* Operations.operate(storage, campaign.id, "start", "CLI")
    const sentAt = new Map<string, number>()
    const transport = acceptingTransport(sentAt, () => clock)
    /** One dispatcher round at `iso` (two contacts at most), its sends' slots let pass; how many it claimed. */
    const roundAt = (iso: string) =>
      Effect.gen(function*() {
        clock = Date.parse(iso)
        yield* TestClock.setTime(clock)
        const fiber = yield* Effect.forkChild(dispatchOnce(shop, Redacted.make("token"), { owner: "d", claimLimit: 2 }).pipe(
          Effect.provideService(Ports.Storage.Storage, storage),
          Effect.provideService(Ports.Transport.Transport, transport)
        ))
        yield* TestClock.adjust(5_000)
        return (yield* Fiber.join(fiber)).claimed
      })
    const progress = (c: Ports.Storage.NewCampaignContact) =>
      Effect.map(storage.listCampaignContacts(campaign.id, undefined, { limit: 100 }), (rows) => rows.find((row) => row.recipient === c.recipient)!.progress)
    return { storage, shop, campaign, sentAt, roundAt, progress }
  })

describe("send windows in dispatch", () => {
  it.effect("in winter a +1 number's window closes at 20:00 in New York: it goes the next day after Prague's and Bratislava's morning", () =>
    Effect.gen(function*() {
      // Wednesday 2 December 2026, 00:58 UTC on Thursday: 19:58 on Wednesday in New York, 01:58 on Thursday in Prague.
      const U1 = contact("+12025550101")
      const U2 = contact("+12025550102")
      const U3 = contact("+12025550103")
      const { sentAt, roundAt, progress } = yield* story("2026-12-03T00:58:00Z", "Mon-Fri 09:00-20:00", [U1, P1, B1, U2, U3])
      // Two contacts a round: Prague and Bratislava sleep and are put off to their morning; U1 and U2 go before
      // New York's 20:00.
      expect(yield* roundAt("2026-12-03T00:58:00Z")).toBe(1)
      expect(yield* roundAt("2026-12-03T00:59:00Z")).toBe(1)
      // 20:00 in New York: the window closes for the US with U3 still to go.
      expect(yield* roundAt("2026-12-03T01:00:00Z")).toBe(0)
      expect([...sentAt.keys()]).toEqual([U1, U2].map((c) => c.recipient))
      expect(yield* progress(P1)).toMatchObject({ state: "initial", attempts: 0, nextAttemptAt: new Date("2026-12-03T08:00:00Z") })
      expect(yield* progress(B1)).toMatchObject({ state: "initial", attempts: 0, nextAttemptAt: new Date("2026-12-03T08:00:00Z") })
      // The next day, once it is 09:00 in Honolulu too (14:00 in New York): 11 hours after Prague's and Bratislava's 09:00.
      expect(yield* progress(U3)).toMatchObject({ state: "initial", attempts: 0, nextAttemptAt: new Date("2026-12-03T19:00:00Z") })
      expect(yield* roundAt("2026-12-03T08:00:00Z")).toBe(2)
      expect(yield* roundAt("2026-12-03T18:59:00Z")).toBe(0)
      expect(yield* roundAt("2026-12-03T19:00:00Z")).toBe(1)
      expect([...sentAt.entries()].map(([to, at]) => [to, new Date(at).toISOString()])).toEqual([
        [U1.recipient, "2026-12-03T00:58:00.000Z"],
        [U2.recipient, "2026-12-03T00:59:00.000Z"],
        [P1.recipient, "2026-12-03T08:00:00.000Z"],
        [B1.recipient, "2026-12-03T08:00:00.000Z"],
        [U3.recipient, "2026-12-03T19:00:00.000Z"]
      ])
      for (const c of [U1, P1, B1, U2, U3]) expect(yield* progress(c)).toMatchObject({ state: "sent", attempts: 1 })
    }))

  it.effect("a window that closes mid-campaign: the rest wait without attempts and go the next morning in their own zones", () =>
    Effect.gen(function*() {
      // Wednesday 15 July 2026, 17:58 UTC: 19:58 in Prague and Bratislava (CEST), 13:58 in New York, 07:58 in Honolulu.
      const { storage, shop, campaign, sentAt, roundAt } = yield* story("2026-07-15T17:58:00Z", "Mon-Fri 09:00-20:00", [
        P1, B1, P2, B2, P3, B3, NEW_YORK, US
      ])
      const contacts = () => storage.listCampaignContacts(campaign.id, undefined, { limit: 100 })
      const byRecipient = (rows: ReadonlyArray<Ports.Storage.CampaignContact>, c: Ports.Storage.NewCampaignContact) =>
        rows.find((row) => row.recipient === c.recipient)!

      expect(yield* roundAt("2026-07-15T17:58:00Z")).toBe(2)
      expect(yield* roundAt("2026-07-15T17:59:00Z")).toBe(2)
      // 20:00 in Prague and Bratislava: the window closes with P3 and B3 still to go.
      expect(yield* roundAt("2026-07-15T18:00:00Z")).toBe(0)
      // 14:01 in New York: the contact with its own zone goes; the plain +1 number waits for every US zone.
      expect(yield* roundAt("2026-07-15T18:01:00Z")).toBe(1)
      expect([...sentAt.keys()]).toEqual([P1, B1, P2, B2, NEW_YORK].map((c) => c.recipient))

      const waiting = yield* contacts()
      for (const c of [P3, B3]) {
        expect(byRecipient(waiting, c).progress).toMatchObject({
          state: "initial",
          attempts: 0,
          nextAttemptAt: new Date("2026-07-16T07:00:00Z") // Thursday 09:00 in Prague and Bratislava
        })
      }
      // 09:00 in Honolulu: the first moment the window is open in every zone of the US.
      expect(byRecipient(waiting, US).progress).toMatchObject({ state: "initial", attempts: 0, nextAttemptAt: new Date("2026-07-15T19:00:00Z") })
      const evening = new Date("2026-07-15T18:01:00Z")
      expect((yield* storage.quotaUsage(shop, evening)).used).toBe(5)

      // What an operator sees (`campaigns contacts --json`): why they wait, and until when.
      const shown = waiting.map(Json.campaignContactsAt(Option.getOrThrow(yield* storage.getCampaign(campaign.id)).sendWindow, evening))
      expect(shown.find((c) => c.recipient === P3.recipient)?.waiting).toEqual({
        reason: "outside the send window Mon-Fri 09:00-20:00 (Europe/Prague)",
        next_possible_at: new Date("2026-07-16T07:00:00Z")
      })
      expect(shown.find((c) => c.recipient === US.recipient)?.waiting?.reason).toMatch(/^outside the send window Mon-Fri 09:00-20:00 \(\d+ zones, America\/Adak … Pacific\/Honolulu\)$/)
      expect(shown.find((c) => c.recipient === P1.recipient)?.waiting).toBeNull()

      expect(yield* roundAt("2026-07-15T18:59:00Z")).toBe(0)
      expect(yield* roundAt("2026-07-15T19:00:00Z")).toBe(1)
      expect(sentAt.get(US.recipient)).toBe(Date.parse("2026-07-15T19:00:00Z"))
      expect(yield* roundAt("2026-07-16T06:59:00Z")).toBe(0)
      expect(yield* roundAt("2026-07-16T07:00:00Z")).toBe(2)
      expect(sentAt.get(P3.recipient)).toBe(Date.parse("2026-07-16T07:00:00Z"))
      expect(sentAt.get(B3.recipient)).toBe(Date.parse("2026-07-16T07:00:00Z"))

      // Every contact was sent once, on its first attempt: waiting used none.
      const done = yield* contacts()
      expect(done.map((c) => [c.progress.state, c.progress.attempts])).toEqual(done.map(() => ["sent", 1]))
      expect((yield* storage.quotaUsage(shop, new Date("2026-07-16T07:00:00Z"))).used).toBe(8)
      expect(Option.getOrThrow(yield* storage.getCampaign(campaign.id)).lifecycle.state).toBe("finished")
    }))
})
