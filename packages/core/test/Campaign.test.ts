import { Option, Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Campaign from "../src/Campaign.ts"
import type { CampaignLifecycle, ContactCounts } from "../src/Campaign.ts"
import * as ContactState from "../src/ContactState.ts"

const t0 = new Date("2026-11-26T10:00:00Z")
const t1 = new Date("2026-11-26T11:00:00Z")
const counts = (partial: Partial<Record<ContactState.ContactStateId, number>>): ContactCounts => ({ ...Campaign.emptyCounts, ...partial })
const waiting = counts({ initial: 5 })
const done = counts({ read: 3, sending_failed: 1, invalid_record: 1 })

const ok = (r: Result.Result<CampaignLifecycle, Campaign.CampaignOperationError>): CampaignLifecycle => {
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}
const refused = (r: Result.Result<CampaignLifecycle, Campaign.CampaignOperationError>): string => {
  if (Result.isSuccess(r)) throw new Error("expected a refusal")
  return r.failure.message
}

describe("campaign lifecycle", () => {
  it("draft → running ⇄ paused → stopped", () => {
    const running = ok(Campaign.start(Campaign.draft(t0), waiting, t1))
    expect(running).toMatchObject({ state: "running", startedAt: t1 })
    const paused = ok(Campaign.pause(running, t1))
    expect(paused).toMatchObject({ state: "paused", pauseReason: { _tag: "Operator" }, pausedAt: t1 })
    expect(Campaign.describe(paused)).toBe("Paused (by an operator)")
    const resumed = ok(Campaign.resume(paused, waiting, t1))
    expect(resumed).toMatchObject({ state: "running", pauseReason: null })
    expect(ok(Campaign.stop(resumed, t1))).toMatchObject({ state: "stopped", endedAt: t1 })
  })

  it("finishes when every contact is settled", () => {
    const running = ok(Campaign.start(Campaign.draft(t0), waiting, t0))
    expect(Campaign.finishIfDone(running, waiting, t1).state).toBe("running")
    expect(Campaign.finishIfDone(running, done, t1)).toMatchObject({ state: "finished", endedAt: t1 })
    expect(ok(Campaign.start(Campaign.draft(t0), done, t1)).state).toBe("finished")
  })

  it("the system pause carries its explanation and does not override an operator's pause", () => {
    const running = ok(Campaign.start(Campaign.draft(t0), waiting, t0))
    const reason = { _tag: "System", kind: "template_unusable", explanation: "template order_done was paused by Meta for low quality", code: "132015" } as const
    const paused = ok(Campaign.systemPause(running, reason, t1))
    expect(paused.pauseReason).toEqual(reason)
    expect(Campaign.describe(paused)).toBe("Paused: template order_done was paused by Meta for low quality")
    const newer = { ...reason, kind: "account_blocked", explanation: "account locked" } as const
    expect(ok(Campaign.systemPause(paused, newer, t1)).pauseReason).toEqual(newer)
    const byOperator = ok(Campaign.pause(running, t1))
    expect(ok(Campaign.systemPause(byOperator, reason, t1)).pauseReason).toEqual({ _tag: "Operator" })
    expect(refused(Campaign.systemPause(Campaign.draft(t0), reason, t1))).toMatch(/only a running campaign/)
    expect(Campaign.describe(byOperator, "cs")).toBe("Pozastaveno (administrátorem)")
  })

  it("adding contacts is allowed until the campaign is stopped, and reopens a finished one", () => {
    const finished = ok(Campaign.start(Campaign.draft(t0), done, t0))
    expect(ok(Campaign.addContacts(finished))).toMatchObject({ state: "running", endedAt: null })
    expect(ok(Campaign.addContacts(Campaign.draft(t0))).state).toBe("draft")
    const stopped = ok(Campaign.stop(Campaign.draft(t0), t1))
    expect(refused(Campaign.addContacts(stopped))).toMatch(/create a new campaign/)
  })

  it("retrying failed contacts is allowed while running or paused, reopens a finished campaign, and is refused on draft or stopped", () => {
    const running = ok(Campaign.start(Campaign.draft(t0), waiting, t0))
    expect(ok(Campaign.retry(running))).toBe(running)
    const paused = ok(Campaign.pause(running, t1))
    expect(ok(Campaign.retry(paused))).toBe(paused)
    const finished = ok(Campaign.start(Campaign.draft(t0), done, t0))
    expect(ok(Campaign.retry(finished))).toMatchObject({ state: "running", endedAt: null })
    expect(refused(Campaign.retry(Campaign.draft(t0)))).toMatch(/Cannot retry a draft campaign: .*nothing has been sent yet/)
    expect(refused(Campaign.retry(ok(Campaign.stop(running, t1))))).toMatch(/Cannot retry a stopped campaign: .*create a new campaign/)
  })

  it("refuses operations the state does not allow, saying what it allows", () => {
    const d = Campaign.draft(t0)
    expect(refused(Campaign.start(d, Campaign.emptyCounts, t0))).toMatch(/add contacts first/)
    expect(refused(Campaign.pause(d, t0))).toBe("Cannot pause a draft campaign: only a running campaign can be paused; it allows: start, stop, add_contacts, edit, schedule, unschedule.")
    expect(refused(Campaign.resume(d, waiting, t0))).toMatch(/only a paused campaign/)
    const running = ok(Campaign.start(d, waiting, t0))
    expect(refused(Campaign.start(running, waiting, t0))).toMatch(/use resume/)
    expect(refused(Campaign.edit(running))).toMatch(/fixed once a campaign has started/)
    expect(ok(Campaign.edit(d))).toBe(d)
    const stopped = ok(Campaign.stop(running, t1))
    expect(refused(Campaign.stop(stopped, t1))).toMatch(/already ended.*nothing more can be done/)
  })

  it("counts contacts: total and pending", () => {
    const c = counts({ initial: 2, in_progress: 1, retry_scheduled: 3, sent: 4, error: 1 })
    expect(Campaign.totalContacts(c)).toBe(11)
    expect(Campaign.pendingContacts(c)).toBe(6)
    expect(Campaign.isSending(ok(Campaign.start(Campaign.draft(t0), c, t0)))).toBe(true)
  })

  it("property: every reachable state's operations succeed exactly when allowedOperations lists them", () => {
    const op = fc.constantFrom("start", "pause", "resume", "stop", "add_contacts", "edit", "retry", "schedule", "unschedule") as fc.Arbitrary<Campaign.Operation>
    fc.assert(fc.property(fc.array(op, { maxLength: 12 }), fc.boolean(), (ops, settled) => {
      const c = settled ? done : waiting
      let campaign = Campaign.draft(t0)
      for (const o of ops) {
        const apply = {
          start: () => Campaign.start(campaign, c, t1),
          pause: () => Campaign.pause(campaign, t1),
          resume: () => Campaign.resume(campaign, c, t1),
          stop: () => Campaign.stop(campaign, t1),
          add_contacts: () => Campaign.addContacts(campaign),
          edit: () => Campaign.edit(campaign),
          retry: () => Campaign.retry(campaign),
          schedule: () => Campaign.schedule(campaign, t1, t0),
          unschedule: () => Campaign.unschedule(campaign)
        }[o]()
        expect(Result.isSuccess(apply)).toBe(Campaign.allowedOperations[campaign.state].includes(o))
        if (Result.isSuccess(apply)) campaign = Campaign.finishIfDone(apply.success, c, t1)
        if (campaign.state === "paused") expect(campaign.pauseReason).not.toBeNull()
      }
    }))
  })
})

// ---------------------------------------------------------------------------------------------------------
// Scheduled start (issue 11, item 1)

describe("scheduled start", () => {
  const at = new Date("2026-12-01T08:00:00Z")

  it("schedules a draft, shows it, starts it at its time exactly as start does, and forgets the schedule once started", () => {
    const scheduled = ok(Campaign.schedule(Campaign.draft(t0), at, t0))
    expect(scheduled).toMatchObject({ state: "draft", scheduledAt: at })
    expect(Campaign.describe(scheduled)).toBe("Scheduled for 2026-12-01 08:00 UTC")
    expect(Campaign.describe(scheduled, "en", "Europe/Prague")).toBe("Scheduled for 2026-12-01 09:00")
    expect(Campaign.describe(scheduled, "cs", "Europe/Prague")).toBe("Naplánováno na 2026-12-01 09:00")
    expect(Campaign.startIfDue(scheduled, waiting, new Date(at.getTime() - 1))).toEqual(Option.none())
    const started = ok(Option.getOrThrow(Campaign.startIfDue(scheduled, waiting, at)))
    expect(started).toMatchObject({ state: "running", startedAt: at, scheduledAt: null })
    expect(Campaign.startIfDue(started, waiting, at)).toEqual(Option.none())
  })

  it("a due campaign without contacts is refused like start and stays scheduled", () => {
    const scheduled = ok(Campaign.schedule(Campaign.draft(t0), at, t0))
    expect(refused(Option.getOrThrow(Campaign.startIfDue(scheduled, Campaign.emptyCounts, at)))).toMatch(/add contacts first/)
  })

  it("refuses a time already past (beyond the tolerance) and anything but a draft", () => {
    const now = new Date(at.getTime() + 2 * Campaign.SCHEDULE_TOLERANCE_MS)
    expect(refused(Campaign.schedule(Campaign.draft(t0), at, now))).toMatch(/has already passed.*give a later time/)
    expect(ok(Campaign.schedule(Campaign.draft(t0), new Date(at.getTime() - 1000), at)).scheduledAt).toEqual(new Date(at.getTime() - 1000))
    const running = ok(Campaign.start(Campaign.draft(t0), waiting, t0))
    expect(refused(Campaign.schedule(running, at, t0))).toMatch(/only a draft can be scheduled/)
    expect(refused(Campaign.unschedule(running))).toMatch(/only a draft has a scheduled start/)
  })

  it("stop and unschedule take the schedule away; unschedule restores the plain draft", () => {
    const d = Campaign.draft(t0)
    const scheduled = ok(Campaign.schedule(d, at, t0))
    expect(ok(Campaign.unschedule(scheduled))).toEqual(d)
    expect(ok(Campaign.unschedule(d))).toBe(d)
    expect(ok(Campaign.stop(scheduled, t1)).scheduledAt).toBeNull()
  })

  it("property: a schedule fires at or after its time, never before; unschedule restores a plain draft", () => {
    const time = fc.integer({ min: 0, max: 10 * 24 * 3600 * 1000 }).map((ms) => new Date(t0.getTime() + ms))
    fc.assert(fc.property(time, time, fc.boolean(), (when, now, hasContacts) => {
      const scheduled = ok(Campaign.schedule(Campaign.draft(t0), when, t0))
      const decision = Campaign.startIfDue(scheduled, hasContacts ? waiting : Campaign.emptyCounts, now)
      expect(Option.isSome(decision)).toBe(now.getTime() >= when.getTime())
      if (Option.isSome(decision) && Result.isSuccess(decision.value)) {
        expect(decision.value.success.startedAt?.getTime()).toBeGreaterThanOrEqual(when.getTime())
      }
      expect(ok(Campaign.unschedule(scheduled))).toEqual(Campaign.draft(t0))
    }))
  })
})
