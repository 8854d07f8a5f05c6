/**
 * What a template's status means for the campaigns that send it (SPEC §2, whatsapp-cloud-api.md §3): the
 * stored template follows Meta's `message_template_status_update` webhook, every running campaign on a
 * template that can no longer be sent pauses itself with the reason, and campaigns the system paused for that
 * reason resume once the template is approved again. A template sync reaches the same decisions through
 * {@link reconcileCampaigns}, so the rule lives here once.
 */
import { Campaign, Ports, Template } from "@megaphone/core"
import { Effect, Option, Result } from "effect"

type Storage = Ports.Storage.StorageShape
type CampaignRecord = Ports.Storage.CampaignRecord

/** A `message_template_status_update` webhook for one template translation, as the receiver decoded it. */
export interface TemplateStatusEvent {
  readonly wabaId: string
  readonly name: string
  readonly language: string
  /** Meta's `event`: APPROVED, PAUSED, DISABLED, REJECTED, REINSTATED, FLAGGED, … */
  readonly event: string
  /** Meta's `reason` (a rejection reason, or NONE). */
  readonly reason: string | null
  /** `other_info.description`, e.g. how long a pause lasts. */
  readonly description: string | null
}

/** The campaigns a status change paused and resumed, by id. */
export interface CampaignChanges {
  readonly paused: ReadonlyArray<string>
  readonly resumed: ReadonlyArray<string>
}

/** How campaigns follow their template. */
export interface ReconcileOptions {
  /**
   * Resume campaigns the system paused because their template could not be sent, once it can again
   * (default true). Off: they stay paused until an operator resumes them.
   */
  readonly autoResume?: boolean
}

/** Why a reconciliation happens, for the event log: Meta's event (or the sync's status) and what Meta said. */
export interface ReconcileCause {
  /** Stored as the pause reason's code: the webhook event, or the status a sync found. */
  readonly code: string
  readonly source: "webhook" | "sync"
  readonly reason?: string | null
  readonly description?: string | null
}

// Events that are not a status themselves: REINSTATED (after an appeal) and UNARCHIVED bring the template
// back to approved; FLAGGED only warns of low quality — the template can still be sent.
const EVENT_STATUS: Readonly<Record<string, string | undefined>> = {
  REINSTATED: "APPROVED",
  UNARCHIVED: "APPROVED",
  FLAGGED: undefined
}

/** The status a webhook event leaves the template in, or undefined when the event changes no status. */
export const statusAfter = (event: string): string | undefined => (Object.hasOwn(EVENT_STATUS, event) ? EVENT_STATUS[event] : event)

/** A stand-in for a template Meta reports but Megaphone never synced: enough to explain its status. */
const unsyncedTemplate = (name: string, language: string, status: string): Template.Template => ({
  id: "",
  name,
  language,
  status,
  category: "",
  parameter_format: "POSITIONAL",
  components: []
})

/**
 * Apply a template status webhook: store the template's new status, then pause every running campaign on it
 * when it cannot be sent (reason `template_unusable`, the explanation of `Template`, the event as code), or
 * resume those the system paused for it when it can be sent again.
 */
export const applyTemplateStatus = (
  event: TemplateStatusEvent,
  now: Date,
  options: ReconcileOptions = {}
): Effect.Effect<CampaignChanges, Ports.Storage.StorageError, Ports.Storage.Storage> =>
  Effect.gen(function*() {
    const status = statusAfter(event.event)
    if (status === undefined) return { paused: [], resumed: [] }
    const storage = yield* Ports.Storage.Storage
    const stored = yield* storage.updateTemplateStatus(event.wabaId, event.name, event.language, status, event.reason, now)
    // Campaigns are only created on synced templates, but a webhook may still beat the first sync of a WABA.
    const template = Option.match(stored, {
      onNone: () => unsyncedTemplate(event.name, event.language, status),
      onSome: (s) => s.template
    })
    return yield* reconcileCampaigns(
      event.wabaId,
      event.name,
      event.language,
      template,
      { code: event.event, source: "webhook", reason: event.reason, description: event.description },
      now,
      options
    )
  })

/** Whether the system paused this campaign because its template could not be sent. */
const pausedForTemplate = (campaign: CampaignRecord): boolean =>
  campaign.lifecycle.state === "paused" &&
  campaign.lifecycle.pauseReason?._tag === "System" &&
  campaign.lifecycle.pauseReason.kind === "template_unusable"

/**
 * Make the campaigns of a WABA's accounts on one template translation follow it: `template` is what is known
 * now (`undefined` when Meta no longer lists it). Unusable → running campaigns pause (and ones already paused
 * for their template get the current explanation); usable → those resume unless `autoResume` is off.
 */
export const reconcileCampaigns = (
  wabaId: string,
  name: string,
  language: string,
  template: Template.Template | undefined,
  cause: ReconcileCause,
  now: Date,
  options: ReconcileOptions = {}
): Effect.Effect<CampaignChanges, Ports.Storage.StorageError, Ports.Storage.Storage> =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const accounts = new Set((yield* storage.listAccounts()).filter((a) => a.wabaId === wabaId).map((a) => a.name))
    const campaigns = (yield* storage.listCampaigns()).filter((c) =>
      accounts.has(c.accountName) && c.templateName === name && c.language === language
    )
    const paused: Array<string> = []
    const resumed: Array<string> = []
    if (campaigns.length === 0) return { paused, resumed }

    const current = template ?? unsyncedTemplate(name, language, "DELETED")
    const usability = Template.usability(current, language)
    const details = {
      template: name,
      language,
      wabaId,
      code: cause.code,
      source: cause.source,
      reason: cause.reason ?? null,
      description: cause.description ?? null
    }

    if (!usability.usable) {
      const reason: Extract<Campaign.PauseReason, { _tag: "System" }> = {
        _tag: "System",
        kind: "template_unusable",
        explanation: usability.problems.map((p) => p.en).join(" "),
        code: cause.code
      }
      for (const campaign of campaigns) {
        const changed = yield* compareAndSet(storage, campaign, (c) => Effect.succeed(pauseDecision(c, reason, now)))
        if (Option.isNone(changed)) continue
        const [before, after] = changed.value
        const newlyPaused = before.lifecycle.state === "running"
        if (newlyPaused) paused.push(after.id)
        yield* storage.appendEvents([{
          campaignId: after.id,
          kind: newlyPaused ? "campaign_paused" : "campaign_pause_reason_changed",
          message: `${newlyPaused ? "Paused" : "Still paused"} by the system: ${reason.explanation}`,
          data: { by: "system", kind: reason.kind, ...details },
          at: now
        }])
      }
      return { paused, resumed }
    }

    if (options.autoResume === false) return { paused, resumed }
    for (const campaign of campaigns) {
      const changed = yield* compareAndSet(storage, campaign, (c) =>
        pausedForTemplate(c)
          ? Effect.map(storage.campaignCounts(c.id), (counts) => Result.getSuccess(Campaign.resume(c.lifecycle, counts, now)))
          : Effect.succeed(Option.none()))
      if (Option.isNone(changed)) continue
      const [, after] = changed.value
      resumed.push(after.id)
      yield* storage.appendEvents([{
        campaignId: after.id,
        kind: "campaign_resumed",
        message: `Resumed by the system: template ${name} (${language}) can be sent again.`,
        data: { by: "system", ...details },
        at: now
      }])
    }
    return { paused, resumed }
  })

/** The lifecycle after a system pause, or none when nothing changes (not running, or an operator's pause). */
const pauseDecision = (
  campaign: CampaignRecord,
  reason: Extract<Campaign.PauseReason, { _tag: "System" }>,
  now: Date
): Option.Option<Campaign.CampaignLifecycle> => {
  const current = campaign.lifecycle.pauseReason
  const running = campaign.lifecycle.state === "running"
  // Only refresh our own reason: a campaign paused because its account is blocked stays paused for that.
  const refresh = pausedForTemplate(campaign) && current?._tag === "System" &&
    (current.explanation !== reason.explanation || current.code !== reason.code)
  if (!running && !refresh) return Option.none()
  return Result.getSuccess(Campaign.systemPause(campaign.lifecycle, reason, now))
}

/**
 * Store the lifecycle `decide` computes, compare-and-set on the campaign's state. Someone else may change the
 * campaign first (an operator, another daemon): then read it again and decide once more; a second conflict
 * means it is being handled elsewhere. Returns the record before and after, or none when nothing changed.
 */
const compareAndSet = (
  storage: Storage,
  campaign: CampaignRecord,
  decide: (campaign: CampaignRecord) => Effect.Effect<Option.Option<Campaign.CampaignLifecycle>, Ports.Storage.StorageError>
): Effect.Effect<Option.Option<readonly [CampaignRecord, CampaignRecord]>, Ports.Storage.StorageError> => {
  const attempt = (record: CampaignRecord) =>
    Effect.gen(function*() {
      const next = yield* decide(record)
      if (Option.isNone(next)) return Option.none<readonly [CampaignRecord, CampaignRecord]>()
      const updated = yield* storage.updateCampaignLifecycle(record.id, record.lifecycle.state, next.value)
      return Option.some([record, updated] as const)
    })
  return attempt(campaign).pipe(
    Effect.catchTag("Conflict", () =>
      Effect.flatMap(storage.getCampaign(campaign.id), (reread) =>
        Option.match(reread, {
          onNone: () => Effect.succeed(Option.none<readonly [CampaignRecord, CampaignRecord]>()),
          onSome: (record) => attempt(record).pipe(Effect.catchTags({
            Conflict: () => Effect.succeed(Option.none<readonly [CampaignRecord, CampaignRecord]>()),
            NotFound: () => Effect.succeed(Option.none<readonly [CampaignRecord, CampaignRecord]>())
          }))
        }))),
    Effect.catchTag("NotFound", () => Effect.succeed(Option.none<readonly [CampaignRecord, CampaignRecord]>()))
  )
}
