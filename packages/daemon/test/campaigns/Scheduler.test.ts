// Scheduled starts with the injected clock (TestClock): on time and not before, at the first look after the daemon
// was down at that moment, once when two schedulers race, and a draft without contacts stays scheduled.
import { describe, expect, it } from "@effect/vitest"
import { Campaign, type Ports } from "@megaphone/core"
import { Effect, Fiber, Option, Result } from "effect"
import { TestClock } from "effect/testing"
import * as Operations from "../../src/campaigns/Operations.ts"
import * as Scheduler from "../../src/campaigns/Scheduler.ts"
import { seeded, T0 } from "./support.ts"

const at = (ms: number) => new Date(T0.getTime() + ms)
const MINUTE = 60_000

/** A draft with one contact, scheduled `inMs` after T0 (the clock at T0). */
const scheduledDraft = (storage: Ports.Storage.StorageShape, inMs: number, contacts = 1) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(T0.getTime())
    const { campaign } = yield* Operations.create(storage, { name: "Advent", account: "shop", template: "order_done" })
    if (contacts > 0) {
      yield* storage.addCampaignContacts(campaign.id, [{ phone: "+420601000001", recipient: "420601000001", parameters: { "1": "pane", "2": "Nováku", "3": "1" } }], T0)
    }
    const next = Result.getOrThrow(Campaign.schedule(campaign.lifecycle, at(inMs), T0))
    return yield* storage.updateCampaignLifecycle(campaign.id, "draft", next)
  })

const stateOf = (storage: Ports.Storage.StorageShape, id: string) =>
  Effect.map(storage.getCampaign(id), (c) => Option.getOrThrow(c).lifecycle)

describe("scheduler", () => {
  it.effect("starts a scheduled draft on time, within one look, and not before", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const campaign = yield* scheduledDraft(storage, 10 * MINUTE)
      const fiber = yield* Effect.forkChild(Scheduler.run(storage))
      yield* TestClock.adjust(10 * MINUTE - 1)
      expect((yield* stateOf(storage, campaign.id)).state).toBe("draft")
      yield* TestClock.adjust(Scheduler.LOOK_EVERY)
      const started = yield* stateOf(storage, campaign.id)
      expect(started.state).toBe("running")
      expect(started.scheduledAt).toBeNull()
      expect(started.startedAt!.getTime()).toBeGreaterThanOrEqual(at(10 * MINUTE).getTime())
      expect(started.startedAt!.getTime()).toBeLessThan(at(10 * MINUTE).getTime() + 2_000)
      const events = yield* storage.listEvents(campaign.id, { limit: 10 })
      expect(events.map((e) => e.kind)).toEqual(["campaign_start"])
      expect(events[0]?.message).toMatch(/started by the scheduler \(scheduled for 2026-11-26T10:10:00.000Z\)/)
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("a daemon that was down at the time starts it at its first look", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const campaign = yield* scheduledDraft(storage, 10 * MINUTE)
      // No scheduler runs: the daemon is down until an hour later.
      yield* TestClock.adjust(70 * MINUTE)
      expect((yield* stateOf(storage, campaign.id)).state).toBe("draft")
      const fiber = yield* Effect.forkChild(Scheduler.run(storage))
      yield* TestClock.adjust(0)
      const started = yield* stateOf(storage, campaign.id)
      expect(started).toMatchObject({ state: "running", startedAt: at(70 * MINUTE) })
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("two schedulers racing start it once", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const campaign = yield* scheduledDraft(storage, MINUTE)
      yield* TestClock.adjust(MINUTE)
      const looks = yield* Effect.all([Scheduler.make(storage).look, Scheduler.make(storage).look], { concurrency: "unbounded" })
      expect(looks.flatMap((l) => l.started)).toEqual([campaign.id])
      expect((yield* storage.listEvents(campaign.id, { limit: 10 })).map((e) => e.kind)).toEqual(["campaign_start"])
    }))

  it.effect("a due draft without contacts stays scheduled, says why once, and starts once it has contacts", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const campaign = yield* scheduledDraft(storage, MINUTE, 0)
      yield* TestClock.adjust(MINUTE)
      const scheduler = Scheduler.make(storage)
      expect((yield* scheduler.look).blocked.map((b) => b.reason)).toEqual([expect.stringMatching(/add contacts first/)])
      yield* scheduler.look
      expect((yield* stateOf(storage, campaign.id))).toMatchObject({ state: "draft", scheduledAt: at(MINUTE) })
      expect((yield* storage.listEvents(campaign.id, { limit: 10 })).map((e) => e.kind)).toEqual(["campaign_schedule_blocked"])
      yield* storage.addCampaignContacts(campaign.id, [{ phone: "+420601000002", recipient: "420601000002", parameters: { "1": "paní", "2": "Nová", "3": "2" } }], at(MINUTE))
      expect((yield* scheduler.look).started).toEqual([campaign.id])
    }))
})
