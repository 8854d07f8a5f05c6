/**
 * The dispatch engine for one account: claim due contacts within every limit (the storage's claim reserves the
 * quota and hands out throughput slots), send each at its slot with bounded concurrency, and record every
 * result through the core state machine in one batch. Template, account and auth problems pause the affected
 * campaigns instead of burning through their contacts; a campaign whose every contact is final finishes.
 *
 * `run` overlaps rounds: the next claim is made while the previous round's later slots are still waiting, so
 * the number's throughput is used without a gap between rounds (a round is a claim, its sends, and one write of
 * their outcomes). Outcomes are written persistently: while the database is away the write is retried until the
 * lease would expire, so a message Meta accepted is not forgotten because PostgreSQL restarted.
 */
import { Campaign, ContactState, ErrorClass, Mapping, Ports, type Quota, RetryPolicy, Template, Webhook } from "@megaphone/core"
import { Clock, Deferred, Duration, Effect, Option, type Redacted, Result, Semaphore } from "effect"
import { senderCredentials } from "../templates/TemplateSync.ts"
import * as Pacer from "./Pacer.ts"

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
  /** Send slots are handed out this far ahead (default 2 s); the lease is extended by it. */
  readonly horizonMs?: number
  /** Sends in flight at once, across overlapping rounds (default: enough for the number's rate at 500 ms per send). */
  readonly concurrency?: number
  /** `run` waits at most this long between rounds when nothing was due (default 1 s). */
  readonly idleMs?: number
  /** Rounds `run` keeps in flight at once (default 4). */
  readonly roundsInFlight?: number
  /**
   * A send that cannot leave within this long after its slot is handed back unsent (default 50 ms): late sends
   * bunch with the punctual ones of the next slots — of this daemon or another — above the number's rate.
   */
  readonly lateMs?: number
}

/** The defaults of {@link DispatchOptions}. */
export const defaults = {
  claimLimit: 500,
  leaseMs: 5 * 60_000,
  horizonMs: 2_000,
  idleMs: 1_000,
  roundsInFlight: 4,
  lateMs: 50
} as const

/**
 * Sends in flight by default: the number's messages/second times half a second (Graph answers a send in 100–500
 * ms), at least 32, at most 1,024.
 */
export const defaultConcurrency = (account: Pick<Account, "throughputMps" | "maxMps">): number =>
  Math.min(1_024, Math.max(32, Math.ceil(Ports.Storage.sendRate(account) / 2)))

/** How much later than its departure a request may reach Meta (over the internet to Meta: jitter, not latency). */
const ARRIVAL_JITTER_MS = 25

/**
 * The rate slots are planned at, so that no second holds more than the number's rate however the sends fall:
 * each may leave up to `lateMs` after its slot and arrive up to the jitter later, so a 1-second window can see the
 * slots of a span W = 1 s + that much; slots 1/r apart put at most ⌊W·r⌋ + 1 in it, which stays within the rate
 * only while W·r < rate — hence 2 ms more (slots are whole milliseconds). With the defaults it is 93 % of the
 * number's rate (928 of 1,000 msg/s).
 */
export const plannedMps = (account: Pick<Account, "throughputMps" | "maxMps">, lateMs: number): number =>
  (Ports.Storage.sendRate(account) * 1_000) / (1_000 + lateMs + ARRIVAL_JITTER_MS + 2)

const withoutCap = ({ maxMps: _cap, ...account }: Account): Account => account

/** A campaign is checked for whether it finished at most this often while it sends. */
const FINISH_CHECK_MS = 1_000

/** What one round did. */
export interface RoundReport {
  /** Contacts whose lease had expired (a daemon died mid-send), handed to the retry policy first. */
  readonly reclaimed: number
  readonly claimed: number
  readonly accepted: number
  /** Sends Meta (or the network) refused, by error class. */
  readonly failed: Readonly<Record<ErrorClass.ErrorClass, number>>
  /** The same refusals by Meta's error code (`timeout`, `network`… below HTTP). */
  readonly failedCodes: Readonly<Record<string, number>>
  /** Claims handed back unsent (campaign paused, template unusable); no attempt used. */
  readonly released: number
  /** Failed sends the retry policy gave another attempt (`retry_scheduled`). */
  readonly retriesScheduled: number
  /** Of the released, those whose slot was missed by more than `lateMs` (sends could not keep up). */
  readonly late: number
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

/** A pause decided by a round, for the rounds claimed before it (`upTo`): later claims no longer see the campaign. */
interface Halt {
  readonly reason: SystemPause
  readonly upTo: number
}

/** What the rounds of one account share: the send permits, the pauses they decided, when campaigns were checked. */
export interface AccountDispatch {
  readonly account: Account
  readonly accessToken: Redacted.Redacted<string>
  readonly options: DispatchOptions
  readonly permits: Semaphore.Semaphore
  /** No more than the number's messages/second leave this process in any second, however late sends are. */
  readonly pacer: Pacer.Pacer
  /** Rounds claimed so far; each round's number. */
  claimed: number
  /** The share of the planned rate this daemon claims at now (see {@link nextPace}). */
  pace: number
  /** How far ahead of the claim's start its first slot is planned (see {@link claimAhead}). */
  claimAheadMs: number
  /** Whether the pace fell because sends left late, until it is back at the full rate (for the two log lines). */
  behind: boolean
  /** Until the pace first falls, it grows fast (see {@link nextPace}). */
  slowStart: boolean
  /** The last round claimed when the pace last fell: later reports of those rounds do not lower it again. */
  fellAfterRound: number
  readonly halts: Map<string, Halt>
  accountHalt: Halt | undefined
  readonly finishCheckedAt: Map<string, number>
}

/** The shared state of one account's rounds. */
export const makeAccountDispatch = (
  account: Account,
  accessToken: Redacted.Redacted<string>,
  options: DispatchOptions
): Effect.Effect<AccountDispatch> =>
  Effect.map(Semaphore.make(options.concurrency ?? defaultConcurrency(account)), (permits) => ({
    account,
    accessToken,
    options,
    permits,
    pacer: Pacer.make(Ports.Storage.sendRate(account)),
    claimed: 0,
    pace: START_PACE,
    claimAheadMs: 0,
    behind: false,
    slowStart: true,
    fellAfterRound: 0,
    halts: new Map(),
    accountHalt: undefined,
    finishCheckedAt: new Map()
  }))

/** The lowest share of the planned rate {@link nextPace} goes down to. */
export const MIN_PACE = 0.05
/** Late sends a round may have (as a share of its claims) before the pace is lowered. */
export const LATE_TOLERANCE = 0.01
/** The most one round lowers the pace by (a share of the pace). */
export const MAX_SLOWDOWN = 0.3
/** How much of the planned rate a round sent wholly on time gives back once the pace has had to fall. */
export const PACE_STEP = 0.1
/** Until the first fall (the slow start), a round on time raises the pace by this share of itself, or the step. */
export const PACE_GROWTH = 0.25
/** The pace a dispatch starts at: half the rate, the full rate after four rounds sent on time (a slow start). */
export const START_PACE = 0.5

/**
 * The share of the number's planned rate to claim at next, after a round of `claimed` sends of which `late`
 * missed their slot (sends that cannot leave in time are handed back, not sent in a bunch). A machine that cannot
 * keep up — CPU starved, a stalled event loop — would otherwise claim slots it cannot use round after round and
 * hand most of them back, sending far less than it could. Lowered by the late share (by at most
 * {@link MAX_SLOWDOWN}) when more than {@link LATE_TOLERANCE} of a round was late; raised after a round with none —
 * during the slow start (from {@link START_PACE}, until the first fall) by {@link PACE_GROWTH} of itself, after it
 * by {@link PACE_STEP}, so it settles near what the machine can send instead of swinging past it. Only ever
 * slower than the number's rate, so no limit is at stake.
 */
export const nextPace = (pace: number, claimed: number, late: number, slowStart = false): number => {
  if (claimed === 0) return pace
  const lateShare = late / claimed
  if (lateShare > LATE_TOLERANCE) return Math.max(MIN_PACE, pace * (1 - Math.min(MAX_SLOWDOWN, lateShare)))
  if (late > 0) return pace
  return Math.min(1, pace + (slowStart ? Math.max(PACE_STEP, pace * PACE_GROWTH) : PACE_STEP))
}

/**
 * Applies {@link nextPace} to the account's dispatch after round `round`. The rounds in flight when the pace fell
 * were claimed at the old pace and report the same congestion: their late sends do not lower it again (once per
 * episode, as TCP halves its window once per round trip). Says once when it falls behind, once when it caught up.
 */
const adjustPace = (state: AccountDispatch, round: number, claimed: number, late: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    const before = state.pace
    const next = nextPace(before, claimed, late, state.slowStart)
    if (next < before && round <= state.fellAfterRound) return Effect.void
    state.pace = next
    if (next < before) {
      state.fellAfterRound = state.claimed
      state.slowStart = false
    }
    const mps = Math.round(plannedMps(state.account, state.options.lateMs ?? defaults.lateMs) * state.pace)
    if (state.pace < before && !state.behind) {
      state.behind = true
      return Effect.logWarning("sends are leaving late: this process cannot keep up with the number's rate, so it claims slower").pipe(
        Effect.annotateLogs({ account: state.account.name, late, claimed, claiming_mps: mps })
      )
    }
    if (state.behind && state.pace === 1) {
      state.behind = false
      return Effect.logInfo("sends leave on time again: claiming at the number's full rate").pipe(
        Effect.annotateLogs({ account: state.account.name, claiming_mps: mps })
      )
    }
    return Effect.void
  })

/**
 * The most a claim's first slot is planned ahead of its start. Longer would plan slots that claims taking up to a
 * second on a loaded machine do not miss (1.5 s was tried), but every round's first send then waits that long, and
 * on a busy machine that slowed the end-to-end tests of small campaigns by a third or more.
 */
export const MAX_CLAIM_AHEAD_MS = 500

/**
 * How far ahead of its start the next claim plans its first slot: about twice what claims take now (a moving
 * average that follows a slower database within a few rounds, and a faster one more slowly), at most
 * {@link MAX_CLAIM_AHEAD_MS}.
 */
export const claimAhead = (aheadMs: number, tookMs: number): number =>
  Math.min(MAX_CLAIM_AHEAD_MS, Math.max(2 * tookMs, 0.8 * aheadMs + 0.2 * 2 * tookMs))

/** A claim and what its sends need: the campaigns and templates as they were at the claim. */
interface Round {
  readonly number: number
  readonly reclaimed: number
  readonly claimed: ReadonlyArray<ClaimedContact>
  readonly nextCapacity: Quota.NextCapacity | undefined
  /** Due contacts the claim left waiting for their send window. */
  readonly deferred: number
  readonly campaigns: ReadonlyArray<CampaignRecord>
  readonly ready: ReadonlyMap<string, Template.Template>
  /** Campaigns whose template the claim already found unusable, with the reason. */
  readonly unusable: ReadonlyMap<string, SystemPause>
}

/** Reclaim expired leases, claim due contacts, and check the claimed campaigns' templates. */
const claimRound = (state: AccountDispatch): Effect.Effect<Round, Ports.Storage.StorageError, Ports.Storage.Storage> =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const { account, options } = state
    const policy = options.policy ?? RetryPolicy.defaultPolicy
    const horizonMs = options.horizonMs ?? defaults.horizonMs
    const startedAt = yield* Clock.currentTimeMillis
    const now = new Date(startedAt)

    const reclaimed = yield* storage.reclaimExpiredLeases(now, policy)
    const claiming = yield* storage.claim({
      // The storage plans slots at the account's throughputMps: the planned rate, the operator's cap included.
      account: { ...withoutCap(account), throughputMps: plannedMps(account, options.lateMs ?? defaults.lateMs) * state.pace },
      limit: options.claimLimit ?? defaults.claimLimit,
      // The lease runs from the claim, but a send may wait up to the horizon for its slot.
      leaseMs: (options.leaseMs ?? defaults.leaseMs) + horizonMs,
      owner: options.owner,
      // Slots start when the claim is back, not when it was asked for: a claim that takes longer than `lateMs`
      // (a loaded database) would otherwise hand out first slots already missed, to be handed back unsent — round
      // after round for a campaign's last few contacts. Later slots only ever mean slower: no limit is at stake.
      now: new Date(startedAt + state.claimAheadMs),
      horizonMs,
      // A campaign's own cap keeps the same margin for late sends as the number's rate.
      capFactor: plannedMps(account, options.lateMs ?? defaults.lateMs) / Ports.Storage.sendRate(account)
    })
    const { claimed, nextCapacity } = claiming
    const tookMs = (yield* Clock.currentTimeMillis) - startedAt
    state.claimAheadMs = claimAhead(state.claimAheadMs, tookMs)
    const number = ++state.claimed
    // The claim is committed: from here a database away must not strand its contacts until their leases expire.
    const read = <A>(what: string, query: Effect.Effect<A, Ports.Storage.StorageError>) =>
      claimed.length === 0 ? query : persistently(what, persistFor(options), query)
    const campaigns = (yield* read("reading the claimed campaigns", storage.listCampaigns())).filter((c) => c.accountName === account.name)
    const byId = new Map(campaigns.map((c) => [c.id, c]))
    const templates = claimed.length === 0 ? [] : yield* read("reading the claimed templates", storage.listTemplates(account.wabaId))
    const ready = new Map<string, Template.Template>()
    const unusable = new Map<string, SystemPause>()
    for (const id of new Set(claimed.map((c) => c.contact.campaignId))) {
      const campaign = byId.get(id)
      if (campaign === undefined) continue
      const checked = templateProblem(templates, campaign)
      if (Result.isSuccess(checked)) ready.set(id, checked.success)
      else unusable.set(id, checked.failure)
    }
    return { number, reclaimed, claimed, nextCapacity, deferred: claiming.deferred ?? 0, campaigns, ready, unusable }
  })

/** How long an outcome write is retried while the database is away: until shortly before the leases expire. */
const persistFor = (options: DispatchOptions): number => Math.max(1_000, (options.leaseMs ?? defaults.leaseMs) - 10_000)

/**
 * Run a storage write until it succeeds, backing off from 200 ms to 5 s, for at most `forMs`: what it records
 * happened at Meta and must not be lost to a database restart. The last failure is returned after that.
 */
const persistently = <A>(
  what: string,
  forMs: number,
  write: Effect.Effect<A, Ports.Storage.StorageError>
): Effect.Effect<A, Ports.Storage.StorageError> =>
  Effect.gen(function*() {
    const until = (yield* Clock.currentTimeMillis) + forMs
    let delay = 200
    for (;;) {
      const result = yield* Effect.result(write)
      if (Result.isSuccess(result)) return result.success
      const now = yield* Clock.currentTimeMillis
      if (now + delay > until) return yield* Effect.fail(result.failure)
      yield* Effect.logWarning(`${what} failed; retrying`).pipe(
        Effect.annotateLogs({ operation: result.failure.operation, error: result.failure.message, retry_in_ms: delay })
      )
      yield* Effect.sleep(Duration.millis(delay))
      delay = Math.min(5_000, delay * 2)
    }
  })

/** Send a claimed round at its slots, record the outcomes, pause campaigns that cannot send, finish those done. */
const completeRound = (
  state: AccountDispatch,
  round: Round
): Effect.Effect<RoundReport, Ports.Storage.StorageError, Ports.Storage.Storage | Ports.Transport.Transport> =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const transport = yield* Ports.Transport.Transport
    const { account, options } = state
    const policy = options.policy ?? RetryPolicy.defaultPolicy
    const lateMs = options.lateMs ?? defaults.lateMs
    const { campaigns, claimed, ready } = round
    const byId = new Map(campaigns.map((c) => [c.id, c]))

    // Pauses this round decides (by campaign id); the shared ones stop the other rounds claimed until now.
    const halted = new Map(round.unusable)
    let accountHalt: SystemPause | undefined
    const haltFor = (campaignId: string): boolean => {
      if (halted.has(campaignId) || accountHalt !== undefined) return true
      const shared = state.halts.get(campaignId)
      return (shared !== undefined && shared.upTo >= round.number) ||
        (state.accountHalt !== undefined && state.accountHalt.upTo >= round.number)
    }
    const haltTemplate = (name: string, language: string, reason: SystemPause) => {
      for (const c of campaigns) {
        if (templateKey(c.templateName, c.language) !== templateKey(name, language) || halted.has(c.id)) continue
        halted.set(c.id, reason)
        state.halts.set(c.id, { reason, upTo: state.claimed })
      }
    }
    const haltAccount = (reason: SystemPause) => {
      accountHalt ??= reason
      state.accountHalt = { reason, upTo: state.claimed }
    }

    const sender: Ports.Transport.SenderCredentials = senderCredentials(account, state.accessToken)
    const failed = noFailures()
    const failedCodes: Record<string, number> = {}
    let accepted = 0
    let released = 0
    let late = 0
    let retriesScheduled = 0
    let throttled = false

    const release = (contactId: string): Outcome => {
      released++
      return { contactId, event: { _tag: "Released" }, releaseQuota: true }
    }

    const send = (contact: Ports.Storage.CampaignContact, campaign: CampaignRecord, template: Template.Template) =>
      Effect.gen(function*() {
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
          return { contactId: contact.id, event: { _tag: "Accepted", wamid: sent.success.wamid, waId: sent.success.waId } } satisfies Outcome
        }
        const error = sent.failure.error
        failed[error.errorClass]++
        failedCodes[error.code] = (failedCodes[error.code] ?? 0) + 1
        const at = new Date(yield* Clock.currentTimeMillis)
        if (error.errorClass === "rate_limited" && error.scope === "phone_number" && !throttled) {
          // Once per round: every 130429 of one burst tells the same thing, and each call slows the number more.
          throttled = true
          // Only advice on pace: a database away must not fail the round and lose what Meta accepted in it.
          yield* storage.throttleNumber(account.phoneNumberId, at).pipe(
            Effect.catchTag("StorageError", (error) =>
              Effect.logWarning("could not store the slower pace after a rate-limit answer").pipe(
                Effect.annotateLogs({ account: account.name, operation: error.operation, error: error.message })
              ))
          )
        }
        const pause = pauseFor(error)
        if (pause !== undefined) {
          if (error.errorClass === "template") haltTemplate(campaign.templateName, campaign.language, pause)
          else haltAccount(pause)
        }
        const decision = yield* RetryPolicy.decideWithRandom(policy, {
          attempts: contact.progress.attempts,
          throttledAttempts: contact.progress.throttledAttempts,
          error,
          now: at
        })
        if (decision._tag === "RetryAt") retriesScheduled++
        return {
          contactId: contact.id,
          event: { _tag: "AttemptFailed", error, decision },
          ...(unknownOutcomeCodes.has(error.code) ? {} : { releaseQuota: true })
        } satisfies Outcome
      })

    const sendOne = ({ contact, slot }: ClaimedContact): Effect.Effect<Outcome, Ports.Storage.StorageError> =>
      Effect.gen(function*() {
        const wait = yield* millisUntil(slot)
        if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
        return yield* state.permits.withPermit(Effect.gen(function*() {
          const campaign = byId.get(contact.campaignId)
          const template = ready.get(contact.campaignId)
          // Checked after the wait: a pause decided meanwhile must stop the sends that have not left yet.
          if (campaign === undefined || template === undefined || haltFor(contact.campaignId)) return release(contact.id)
          yield* state.pacer.admit
          // A slot missed (all permits busy, a stalled event loop, a cold start) is handed back rather than sent
          // in a bunch with later slots; the contact is due again at once, without using an attempt.
          if ((yield* millisUntil(slot)) < -lateMs) {
            late++
            return release(contact.id)
          }
          return yield* send(contact, campaign, template)
        }))
      })

    const outcomes = yield* Effect.forEach(claimed, sendOne, { concurrency: "unbounded" })
    const recordedAt = new Date(yield* Clock.currentTimeMillis)
    const applied = outcomes.length === 0
      ? undefined
      : yield* persistently("recording send outcomes", persistFor(options), storage.recordOutcomes(outcomes, recordedAt))
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

    // Every running campaign of the account, not only those claimed now: a campaign's last contacts may settle
    // while another campaign keeps the rounds busy (a capped one trickles for hours), or in another daemon. Each
    // campaign is checked at most every FINISH_CHECK_MS.
    const nowMs = recordedAt.getTime()
    const touched = campaigns.filter((c) => c.lifecycle.state === "running").map((c) => c.id)
      .filter((id) => !toPause.has(id) && nowMs - (state.finishCheckedAt.get(id) ?? -Infinity) >= FINISH_CHECK_MS)
    const finishedCampaigns: Array<string> = []
    for (const id of touched) {
      state.finishCheckedAt.set(id, nowMs)
      const changed = yield* compareAndSet(storage, id, (c) =>
        c.lifecycle.state !== "running"
          ? Effect.succeed(Option.none())
          : Effect.gen(function*() {
            // Most checks find a pending contact at once; only a campaign that may be done is counted.
            if (yield* storage.hasPendingContacts(id)) return Option.none()
            const next = Campaign.finishIfDone(c.lifecycle, yield* storage.campaignCounts(id), recordedAt)
            return next.state === "finished" ? Option.some(next) : Option.none()
          }))
      if (Option.isNone(changed)) continue
      state.finishCheckedAt.delete(id)
      finishedCampaigns.push(id)
      yield* storage.appendEvents([{
        campaignId: id,
        kind: "campaign_finished",
        message: "Finished: every contact is final.",
        data: { by: "system", account: account.name },
        at: recordedAt
      }])
    }

    yield* adjustPace(state, round.number, claimed.length, late)

    return {
      reclaimed: round.reclaimed,
      claimed: claimed.length,
      accepted,
      failed,
      failedCodes,
      released,
      retriesScheduled,
      late,
      refused: applied?.refused.length ?? 0,
      pausedCampaigns,
      finishedCampaigns,
      nextCapacity: round.nextCapacity
    }
  })

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
    const state = yield* makeAccountDispatch(account, accessToken, options)
    return yield* completeRound(state, yield* claimRound(state))
  })

/** How `run` is stopped and watched. */
export interface RunControl {
  /** Once done, no further claim is made; `run` returns when the rounds in flight have finished. */
  readonly stopping?: Deferred.Deferred<void>
  /** Called with each finished round's report (counting, logging). */
  readonly onRound?: (report: RoundReport) => void
}

/**
 * Dispatch for one account until `stopping` (or interruption): claim, start the round's sends, and claim the
 * next round shortly before this one's last slot, keeping up to `roundsInFlight` rounds going. When nothing
 * was due it waits for the next free capacity (never longer than `idleMs`, so new campaigns start promptly).
 * A storage failure is logged and retried with backoff (1 s up to 10 s): the database may be restarting.
 */
export const run = (
  account: Account,
  accessToken: Redacted.Redacted<string>,
  options: DispatchOptions,
  control: RunControl = {}
): Effect.Effect<void, never, Ports.Storage.Storage | Ports.Transport.Transport> =>
  Effect.gen(function*() {
    const idleMs = options.idleMs ?? defaults.idleMs
    const horizonMs = options.horizonMs ?? defaults.horizonMs
    const maxRounds = Math.max(1, options.roundsInFlight ?? defaults.roundsInFlight)
    const state = yield* makeAccountDispatch(account, accessToken, options)
    const rounds = yield* Semaphore.make(maxRounds)
    const stopping = control.stopping ?? (yield* Deferred.make<void>())
    // Waiting is cut short by a stop; a round in flight is not.
    const pause = (ms: number) => Effect.raceFirst(Effect.sleep(Duration.millis(ms)), Deferred.await(stopping))
    const failing = (error: Ports.Storage.StorageError) =>
      Effect.logError("dispatch round failed; retrying").pipe(
        Effect.annotateLogs({ account: account.name, operation: error.operation, error: error.message })
      )
    let backoffMs = idleMs

    while (!(yield* Deferred.isDone(stopping))) {
      yield* rounds.take(1)
      if (yield* Deferred.isDone(stopping)) {
        yield* rounds.release(1)
        break
      }
      const claimed = yield* Effect.result(claimRound(state))
      if (Result.isFailure(claimed)) {
        yield* rounds.release(1)
        yield* failing(claimed.failure)
        yield* pause(backoffMs)
        backoffMs = Math.min(10_000, backoffMs * 2)
        continue
      }
      backoffMs = idleMs
      const round = claimed.success
      yield* Effect.forkChild(completeRound(state, round).pipe(
        Effect.tap((report) => Effect.sync(() => control.onRound?.(report))),
        Effect.catchTag("StorageError", failing),
        Effect.ensuring(rounds.release(1))
      ))
      if (round.claimed.length > 0) {
        // Claim again when this round's last slot is half a horizon away: the next slots follow without a gap.
        const last = Math.max(...round.claimed.map((c) => c.slot.getTime()))
        const wait = yield* millisUntil(new Date(last - horizonMs / 2))
        if (wait > 0) yield* pause(wait)
        continue
      }
      // A claim that only put contacts off to their send window may have left sendable ones behind them: look again now.
      if (round.deferred > 0) continue
      const at = round.nextCapacity?.at
      const wait = at === undefined ? idleMs : Math.min(idleMs, Math.max(0, yield* millisUntil(at)))
      if (wait > 0) yield* pause(wait)
    }
    // Let the rounds in flight finish: their sends are recorded before `run` returns.
    yield* rounds.take(maxRounds)
  })
