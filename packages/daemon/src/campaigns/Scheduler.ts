/**
 * Scheduled starts (`megaphone campaigns schedule ID --at TIME`): every daemon looks every few seconds for drafts
 * whose time has come and starts them as `megaphone campaigns start` would (`Campaign.startIfDue`). The schedule
 * lives in the database, so a daemon started after the time (it was down, or restarted) starts the campaign at
 * its first look. The start is the storage's compare-and-set on the draft state: with several daemons on one
 * database exactly one of them starts it; the others see a conflict and leave it.
 *
 * A due draft that cannot start — it has no contacts yet — stays scheduled: the log and the event log say why
 * (once per daemon and schedule), and it starts at the next look after contacts are added.
 */
import { Campaign, Ports } from "@megaphone/core"
import { Clock, Duration, Effect, Result, Schedule } from "effect"

type Storage = Ports.Storage.StorageShape

/** How often a daemon looks for scheduled drafts whose time has come: a start is at most this late. */
export const LOOK_EVERY = Duration.seconds(2)

/** What one look did, by campaign id. */
export interface Look {
  /** Campaigns this scheduler started. */
  readonly started: ReadonlyArray<string>
  /** Due campaigns that could not start, with why (no contacts yet). */
  readonly blocked: ReadonlyArray<{ readonly id: string; readonly reason: string }>
}

/** A scheduler over one storage: `look` starts what is due now. It remembers which refusals it already reported. */
export const make = (storage: Storage, by = "the scheduler"): { readonly look: Effect.Effect<Look, Ports.Storage.StorageError> } => {
  const reported = new Set<string>()
  const look = Effect.gen(function*() {
    const now = new Date(yield* Clock.currentTimeMillis)
    const due = (yield* storage.listCampaigns()).filter((c) => Campaign.isDue(c.lifecycle, now))
    const started: Array<string> = []
    const blocked: Array<{ id: string; reason: string }> = []
    for (const campaign of due) {
      const scheduledAt = campaign.lifecycle.scheduledAt?.toISOString() ?? ""
      const counts = yield* storage.campaignCounts(campaign.id)
      const decision = Campaign.startIfDue(campaign.lifecycle, counts, now)
      if (decision._tag === "None") continue
      const next = decision.value
      if (Result.isFailure(next)) {
        blocked.push({ id: campaign.id, reason: next.failure.message })
        const key = `${campaign.id}@${scheduledAt}`
        if (reported.has(key)) continue
        reported.add(key)
        yield* Effect.logWarning("scheduled campaign could not start; it stays scheduled").pipe(
          Effect.annotateLogs({ campaign: campaign.id, scheduled_at: scheduledAt, reason: next.failure.message })
        )
        yield* storage.appendEvents([{
          campaignId: campaign.id,
          kind: "campaign_schedule_blocked",
          message: `Campaign ${campaign.id} could not start at its scheduled time (${scheduledAt}): ${next.failure.message} ` +
            "It stays scheduled and starts once it can.",
          data: { scheduled_at: scheduledAt },
          at: now
        }])
        continue
      }
      const stored = yield* Effect.result(storage.updateCampaignLifecycle(campaign.id, "draft", next.success))
      if (Result.isFailure(stored)) {
        if (stored.failure._tag === "StorageError") return yield* stored.failure
        // Another daemon (or an operator) changed it first: theirs stands.
        yield* Effect.logDebug("scheduled campaign changed by someone else first").pipe(Effect.annotateLogs({ campaign: campaign.id }))
        continue
      }
      started.push(campaign.id)
      yield* Effect.logInfo("scheduled campaign started").pipe(
        Effect.annotateLogs({ campaign: campaign.id, scheduled_at: scheduledAt, state: stored.success.lifecycle.state })
      )
      yield* storage.appendEvents([{
        campaignId: campaign.id,
        kind: "campaign_start",
        message: `Campaign ${campaign.id} started by ${by} (scheduled for ${scheduledAt}).`,
        data: { scheduled_at: scheduledAt },
        at: now
      }])
    }
    return { started, blocked }
  })
  return { look }
}

/** Look now and then every `every` until interrupted; a storage failure is logged and the next look tries again. */
export const run = (storage: Storage, every: Duration.Input = LOOK_EVERY): Effect.Effect<void> => {
  const { look } = make(storage)
  const once = look.pipe(Effect.catchTag("StorageError", (error) =>
    Effect.logError("cannot look for scheduled campaigns; trying again").pipe(
      Effect.annotateLogs({ operation: error.operation, error: error.message })
    )))
  return Effect.asVoid(Effect.repeat(once, Schedule.spaced(every)))
}

/** The environment variable naming the zone of times given without an offset (`campaigns schedule --at`). */
export const TIME_ZONE_ENV = "MEGAPHONE_TIME_ZONE"

/** The zone a time without an offset is read in: `MEGAPHONE_TIME_ZONE`, else this machine's zone. */
export const defaultTimeZone = (env: Readonly<Record<string, string | undefined>> = process.env): string => {
  const set = env[TIME_ZONE_ENV]?.trim()
  return set === undefined || set === "" ? Intl.DateTimeFormat().resolvedOptions().timeZone : set
}
