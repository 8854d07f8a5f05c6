/**
 * The dispatch engine for one account: claim due contacts within every limit (the storage's claim reserves the
 * quota and hands out throughput slots), send each at its slot with bounded concurrency, and record every
 * result through the core state machine in one batch. Template, account and auth problems pause the affected
 * campaigns instead of burning through their contacts; a campaign whose every contact is final finishes.
 */
import { Campaign, ContactState, ErrorClass, Mapping, Ports, type Quota, RetryPolicy, Template, Webhook } from "@megaphone/core"
import { Clock, Duration, Effect, Option, type Redacted, Result } from "effect"

type Account = Ports.Storage.Account
type CampaignRecord = Ports.Storage.CampaignRecord
type ClaimedContact = Ports.Storage.ClaimedContact
type Outcome = Ports.Storage.Outcome
type SystemPause = Extract<Campaign.PauseReason, { _tag: "System" }>

/** How a dispatcher claims and sends. */
export interface DispatchOptions {
  /** Who claims (the daemon id), recorded on every claimed row. */
  readonly owner: string
  /** Retries, backoff and what to do after an expired lease (default `RetryPolicy.defaultPolicy`). */
  readonly policy?: RetryPolicy.RetryPolicy
  /** Contacts claimed per round at most (default 500). */
  readonly claimLimit?: number
  /** How long a claim holds once its slot has come (default 5 min); long enough for a late `sent` webhook. */
  readonly leaseMs?: number
  /** Send slots are handed out this far ahead (default 1 s); the lease is extended by it. */
  readonly horizonMs?: number
  /** Sends in flight at once (default 32). */
  readonly concurrency?: number
  /** `run` waits at most this long between rounds when nothing was due (default 1 s). */
  readonly idleMs?: number
}

/** The defaults of {@link DispatchOptions}. */
export const defaults = {
  claimLimit: 500,
  leaseMs: 5 * 60_000,
  horizonMs: 1_000,
  concurrency: 32,
  idleMs: 1_000
} as const

/** What one round did. */
export interface RoundReport {
  /** Contacts whose lease had expired (a daemon died mid-send), handed to the retry policy first. */
  readonly reclaimed: number
  readonly claimed: number
  readonly accepted: number
  /** Sends Meta (or the network) refused, by error class. */
  readonly failed: Readonly<Record<ErrorClass.ErrorClass, number>>
  /** Claims handed back unsent (campaign paused, template unusable); no attempt used. */
  readonly released: number
  /** Outcomes the state machine refused (stale: someone else settled the contact first). */
  readonly refused: number
  readonly pausedCampaigns: ReadonlyArray<string>
  readonly finishedCampaigns: ReadonlyArray<string>
  /** When a limit that held contacts back frees up, if one did. */
  readonly nextCapacity: Quota.NextCapacity | undefined
}

const noFailures = (): Record<ErrorClass.ErrorClass, number> =>
  ({ rate_limited: 0, transient: 0, recipient: 0, template: 0, account: 0, auth: 0 })

// Below HTTP the request may have reached Meta: the quota reservation must stay.
const unknownOutcomeCodes: ReadonlySet<string> = new Set(["timeout", "network", "malformed_response"])

const templateKey = (name: string, language: string): string => `${name}\u0000${language}`

/** Why a campaign's template cannot be sent now, or none when it can. */
const templateProblem = (
  templates: ReadonlyArray<Ports.Storage.StoredTemplate>,
  campaign: CampaignRecord
): Result.Result<Template.Template, SystemPause> => {
  const stored = templates.find((t) =>
    t.deletedAt === null && t.template.name === campaign.templateName && t.template.language === campaign.language
  )
  if (stored === undefined) {
    return Result.fail({
      _tag: "System",
      kind: "template_unusable",
      code: "template_missing",
      explanation: `Template ${campaign.templateName} (${campaign.language}) is not among the synced templates of this account's WABA; ` +
        `check it in WhatsApp Manager and run \`megaphone templates sync\`.`
    })
  }
  const usability = Template.usability(stored.template, campaign.language)
  if (usability.usable) return Result.succeed(stored.template)
  return Result.fail({
    _tag: "System",
    kind: "template_unusable",
    code: stored.template.status,
    explanation: usability.problems.map((p) => p.en).join(" ")
  })
}

/** The pause an error of class template, account or auth calls for; none for errors of one contact. */
const pauseFor = (error: ErrorClass.ClassifiedError): SystemPause | undefined => {
  switch (error.errorClass) {
    case "template":
      return { _tag: "System", kind: "template_unusable", code: error.code, explanation: error.text }
    case "account":
      return { _tag: "System", kind: "account_blocked", code: error.code, explanation: error.text }
    case "auth":
      return { _tag: "System", kind: "auth_failed", code: error.code, explanation: error.text }
    default:
      return undefined
  }
}

/**
 * Store the lifecycle `decide` computes, compare-and-set on the campaign's state; on a conflict read it again
 * and decide once more (a second conflict means someone else is handling it). Returns the stored record.
 */
const compareAndSet = (
  storage: Ports.Storage.StorageShape,
  id: string,
  decide: (campaign: CampaignRecord) => Effect.Effect<Option.Option<Campaign.CampaignLifecycle>, Ports.Storage.StorageError>
): Effect.Effect<Option.Option<CampaignRecord>, Ports.Storage.StorageError> => {
  const attempt = Effect.gen(function*() {
    const current = yield* storage.getCampaign(id)
    if (Option.isNone(current)) return Option.none<CampaignRecord>()
    const next = yield* decide(current.value)
    if (Option.isNone(next)) return Option.none<CampaignRecord>()
    return Option.some(yield* storage.updateCampaignLifecycle(id, current.value.lifecycle.state, next.value))
  })
  return attempt.pipe(
    Effect.catchTag("Conflict", () => attempt),
    Effect.catchTags({
      Conflict: () => Effect.succeed(Option.none<CampaignRecord>()),
      NotFound: () => Effect.succeed(Option.none<CampaignRecord>())
    })
  )
}

const millisUntil = (at: Date) => Effect.map(Clock.currentTimeMillis, (now) => at.getTime() - now)

/**
 * One dispatch round for one account: reclaim expired leases, claim due contacts, send each at its slot,
 * record the outcomes in one batch, pause campaigns that cannot send, finish those that are done.
 */
export const dispatchOnce = (
  account: Account,
  accessToken: Redacted.Redacted<string>,
  options: DispatchOptions
): Effect.Effect<RoundReport, Ports.Storage.StorageError, Ports.Storage.Storage | Ports.Transport.Transport> =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const transport = yield* Ports.Transport.Transport
    const policy = options.policy ?? RetryPolicy.defaultPolicy
    const horizonMs = options.horizonMs ?? defaults.horizonMs
    const now = new Date(yield* Clock.currentTimeMillis)

    const reclaimed = yield* storage.reclaimExpiredLeases(now, policy)
    const { claimed, nextCapacity } = yield* storage.claim({
      account,
      limit: options.claimLimit ?? defaults.claimLimit,
      // The lease runs from the claim, but a send may wait up to the horizon for its slot.
      leaseMs: (options.leaseMs ?? defaults.leaseMs) + horizonMs,
      owner: options.owner,
      now,
      horizonMs
    })

    const campaigns = (yield* storage.listCampaigns()).filter((c) => c.accountName === account.name)
    const byId = new Map(campaigns.map((c) => [c.id, c]))
    const templates = claimed.length === 0 ? [] : yield* storage.listTemplates(account.wabaId)

    // Campaigns to pause (by id) with their reason; once set, their remaining claims are released unsent.
    const halted = new Map<string, SystemPause>()
    let accountHalt: SystemPause | undefined
    const haltTemplate = (name: string, language: string, reason: SystemPause) => {
      for (const c of campaigns) {
        if (templateKey(c.templateName, c.language) === templateKey(name, language) && !halted.has(c.id)) halted.set(c.id, reason)
      }
    }
    const ready = new Map<string, Template.Template>()
    for (const id of new Set(claimed.map((c) => c.contact.campaignId))) {
      const campaign = byId.get(id)
      if (campaign === undefined) continue
      const checked = templateProblem(templates, campaign)
      if (Result.isSuccess(checked)) ready.set(id, checked.success)
      else halted.set(id, checked.failure)
    }

    const sender: Ports.Transport.SenderCredentials = {
      phoneNumberId: account.phoneNumberId,
      wabaId: account.wabaId,
      accessToken,
      graphUrl: account.graphUrl,
      graphVersion: account.graphVersion
    }
    const failed = noFailures()
    let accepted = 0
    let released = 0
    let throttled = false

    const release = (contactId: string): Outcome => {
      released++
      return { contactId, event: { _tag: "Released" }, releaseQuota: true }
    }

    const sendOne = ({ contact, slot }: ClaimedContact): Effect.Effect<Outcome, Ports.Storage.StorageError> =>
      Effect.gen(function*() {
        const wait = yield* millisUntil(slot)
        if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
        const campaign = byId.get(contact.campaignId)
        const template = ready.get(contact.campaignId)
        // Checked after the wait: a pause decided meanwhile must stop the sends that have not left yet.
        if (campaign === undefined || template === undefined || accountHalt !== undefined || halted.has(contact.campaignId)) {
          return release(contact.id)
        }
        const payload = Result.flatMap(
          Mapping.fromRecord(template, contact.parameters),
          (parameters) =>
            Mapping.buildPayload(template, contact.recipient, parameters, {
              bizOpaqueCallbackData: Webhook.encodeCallbackData({
                contactId: contact.id,
                attempt: ContactState.attemptNumber(contact.progress)
              })
            })
        )
        if (Result.isFailure(payload)) {
          haltTemplate(campaign.templateName, campaign.language, {
            _tag: "System",
            kind: "template_unusable",
            code: "parameters_mismatch",
            explanation: `Template ${campaign.templateName} (${campaign.language}) no longer fits the values stored with the ` +
              `contacts (${payload.failure.message}); add the contacts to a new campaign.`
          })
          return release(contact.id)
        }
        const sent = yield* Effect.result(transport.sendTemplate(sender, payload.success))
        if (Result.isSuccess(sent)) {
          accepted++
          return { contactId: contact.id, event: { _tag: "Accepted", wamid: sent.success.wamid, waId: sent.success.waId } }
        }
        const error = sent.failure.error
        failed[error.errorClass]++
        const at = new Date(yield* Clock.currentTimeMillis)
        if (error.errorClass === "rate_limited" && error.scope === "phone_number" && !throttled) {
          // Once per round: every 130429 of one burst tells the same thing, and each call slows the number more.
          throttled = true
          yield* storage.throttleNumber(account.phoneNumberId, at)
        }
        const pause = pauseFor(error)
        if (pause !== undefined) {
          if (error.errorClass === "template") haltTemplate(campaign.templateName, campaign.language, pause)
          else accountHalt ??= pause
        }
        const decision = yield* RetryPolicy.decideWithRandom(policy, {
          attempts: contact.progress.attempts,
          throttledAttempts: contact.progress.throttledAttempts,
          error,
          now: at
        })
        return {
          contactId: contact.id,
          event: { _tag: "AttemptFailed", error, decision },
          ...(unknownOutcomeCodes.has(error.code) ? {} : { releaseQuota: true })
        }
      })

    const outcomes = yield* Effect.forEach(claimed, sendOne, { concurrency: options.concurrency ?? defaults.concurrency })
    const recordedAt = new Date(yield* Clock.currentTimeMillis)
    const applied = outcomes.length === 0 ? undefined : yield* storage.recordOutcomes(outcomes, recordedAt)
    for (const refused of applied?.refused ?? []) {
      yield* Effect.logWarning("outcome refused by the state machine").pipe(
        Effect.annotateLogs({ contact: refused.contactId, reason: refused.reason })
      )
    }

    // Pauses: an account or auth problem stops every running campaign of the account.
    const toPause = new Map(halted)
    if (accountHalt !== undefined) {
      for (const c of campaigns) toPause.set(c.id, accountHalt)
    }
    const pausedCampaigns: Array<string> = []
    for (const [id, reason] of toPause) {
      const changed = yield* compareAndSet(storage, id, (c) =>
        Effect.succeed(c.lifecycle.state === "running" ? Result.getSuccess(Campaign.systemPause(c.lifecycle, reason, recordedAt)) : Option.none()))
      if (Option.isNone(changed)) continue
      pausedCampaigns.push(id)
      yield* storage.appendEvents([{
        campaignId: id,
        kind: "campaign_paused",
        message: `Paused by the system: ${reason.explanation}`,
        data: { by: "system", kind: reason.kind, code: reason.code ?? null, account: account.name },
        at: recordedAt
      }])
      yield* Effect.logWarning("campaign paused").pipe(Effect.annotateLogs({ campaign: id, kind: reason.kind, reason: reason.explanation }))
    }

    // With nothing claimed, check every running campaign: its last contacts may have settled elsewhere.
    const touched = claimed.length === 0
      ? campaigns.filter((c) => c.lifecycle.state === "running").map((c) => c.id)
      : [...new Set(claimed.map((c) => c.contact.campaignId))]
    const finishedCampaigns: Array<string> = []
    for (const id of touched) {
      if (toPause.has(id)) continue
      const changed = yield* compareAndSet(storage, id, (c) =>
        c.lifecycle.state !== "running"
          ? Effect.succeed(Option.none())
          : Effect.map(storage.campaignCounts(id), (counts) => {
            const next = Campaign.finishIfDone(c.lifecycle, counts, recordedAt)
            return next.state === "finished" ? Option.some(next) : Option.none()
          }))
      if (Option.isNone(changed)) continue
      finishedCampaigns.push(id)
      yield* storage.appendEvents([{
        campaignId: id,
        kind: "campaign_finished",
        message: "Finished: every contact is final.",
        data: { by: "system", account: account.name },
        at: recordedAt
      }])
    }

    return {
      reclaimed,
      claimed: claimed.length,
      accepted,
      failed,
      released,
      refused: applied?.refused.length ?? 0,
      pausedCampaigns,
      finishedCampaigns,
      nextCapacity
    }
  })

/**
 * Dispatch for one account until interrupted: round after round, waiting for the next free capacity (never
 * longer than `idleMs`, so new campaigns start promptly) when a round found nothing to send. A storage failure
 * is logged and retried after `idleMs`: the database may be restarting.
 */
export const run = (
  account: Account,
  accessToken: Redacted.Redacted<string>,
  options: DispatchOptions
): Effect.Effect<never, never, Ports.Storage.Storage | Ports.Transport.Transport> => {
  const idleMs = options.idleMs ?? defaults.idleMs
  const round = dispatchOnce(account, accessToken, options).pipe(
    Effect.flatMap((report) =>
      Effect.gen(function*() {
        if (report.claimed > 0) return
        const at = report.nextCapacity?.at
        const wait = at === undefined ? idleMs : Math.min(idleMs, Math.max(0, yield* millisUntil(at)))
        if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
      })),
    Effect.catchTag("StorageError", (error) =>
      Effect.logError("dispatch round failed; retrying").pipe(
        Effect.annotateLogs({ account: account.name, operation: error.operation, error: error.message }),
        Effect.andThen(Effect.sleep(Duration.millis(idleMs)))
      ))
  )
  return Effect.forever(round)
}
