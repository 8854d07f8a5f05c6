/**
 * The campaign operations (SPEC §3, §4; the seed's "+ Vytvořit kampaň"), one implementation for the CLI and the
 * admin API: create on a synced, sendable template; clone a campaign's settings and, optionally, chosen contacts;
 * the blank CSV of its variables; lifecycle changes computed by the core's `Campaign` and stored compare-and-set,
 * decided again once after a conflict; stop cancelling every contact not yet sent; adding contacts from a CSV or the
 * directory; each operator action written to the event log.
 *
 * Refusals are the tagged errors of ./Errors.ts; the storage's `StorageError` passes through. Each interface says
 * them in its own terms.
 */
import { Campaign, ContactState, type Ports, SendWindow, Template } from "@megaphone/core"
import { Clock, Effect, Fiber, Option, Result } from "effect"
import {
  AccountNotFound,
  CampaignAccountGone,
  CampaignChanged,
  CampaignNameEmpty,
  CampaignNotFound,
  CampaignTemplateGone,
  CloneStatesInvalid,
  CloneTemplateMismatch,
  LanguageAmbiguous,
  OperationRefused,
  RetryCodesUnknown,
  RetryStatesInvalid,
  TemplateNotSendable,
  TemplateNotSynced,
  TranslationNotSynced
} from "./Errors.ts"
import { forEachPageEffect } from "./Paging.ts"
import * as Rows from "./Rows.ts"
import type { CandidateBatches, Candidates, GuidedBlankCsv, Rejected } from "./Rows.ts"

type Storage = Ports.Storage.StorageShape
type CampaignRecord = Ports.Storage.CampaignRecord
type StorageError = Ports.Storage.StorageError

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

/** A campaign and its contacts per state. */
export interface CampaignWithCounts {
  readonly campaign: CampaignRecord
  readonly counts: Campaign.ContactCounts
}

// ---------------------------------------------------------------------------------------------------------
// Look-ups

/** The campaign with this id. */
export const findCampaign = (storage: Storage, id: string): Effect.Effect<CampaignRecord, CampaignNotFound | StorageError> =>
  Effect.flatMap(storage.getCampaign(id), (found) => (Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new CampaignNotFound({ id }))))

/** The synced, not deleted translations of the account's WABA. */
const liveTemplates = (storage: Storage, account: Ports.Storage.Account) =>
  Effect.map(storage.listTemplates(account.wabaId), (all) => all.filter((t) => t.deletedAt === null).map((t) => t.template))

/** The campaign's template translation as synced now; its account or template may be gone since it was created. */
export const campaignTemplate = (
  storage: Storage,
  campaign: CampaignRecord
): Effect.Effect<Template.Template, CampaignAccountGone | CampaignTemplateGone | StorageError> =>
  Effect.gen(function*() {
    const account = yield* storage.getAccount(campaign.accountName)
    if (Option.isNone(account)) return yield* new CampaignAccountGone({ campaign: campaign.id, account: campaign.accountName })
    const found = Template.findTranslation(yield* liveTemplates(storage, account.value), campaign.templateName, campaign.language)
    if (Result.isSuccess(found)) return found.success
    return yield* new CampaignTemplateGone({
      campaign: campaign.id,
      account: account.value.name,
      template: campaign.templateName,
      language: campaign.language,
      lookup: found.failure
    })
  })

/** Every campaign, by id, with its contacts per state. */
export const list = (storage: Storage): Effect.Effect<ReadonlyArray<CampaignWithCounts>, StorageError> =>
  Effect.flatMap(storage.listCampaigns(), (campaigns) =>
    Effect.forEach(campaigns, (campaign) => Effect.map(storage.campaignCounts(campaign.id), (counts) => ({ campaign, counts }))))

/** A campaign with its contacts per state and its account's rolling-24 h quota use. */
export interface CampaignDetail extends CampaignWithCounts {
  /** None when the account is gone. */
  readonly quota: Ports.Storage.QuotaUsage | undefined
}

/** One campaign in detail: the quota says when a waiting campaign can go on. */
export const show = (storage: Storage, id: string): Effect.Effect<CampaignDetail, CampaignNotFound | StorageError> =>
  Effect.gen(function*() {
    const campaign = yield* findCampaign(storage, id)
    const counts = yield* storage.campaignCounts(id)
    const account = yield* storage.getAccount(campaign.accountName)
    const quota = Option.isSome(account) ? yield* storage.quotaUsage(account.value, yield* now) : undefined
    return { campaign, counts, quota }
  })

/** The blank CSV of the campaign's template (`template-csv`): phone, then one column per variable, and its guide rows. */
export const blankCsv = (
  storage: Storage,
  id: string
): Effect.Effect<{ readonly campaign: CampaignRecord; readonly blank: GuidedBlankCsv }, CampaignNotFound | CampaignAccountGone | CampaignTemplateGone | StorageError> =>
  Effect.gen(function*() {
    const campaign = yield* findCampaign(storage, id)
    return { campaign, blank: Rows.blankCsv(yield* campaignTemplate(storage, campaign)) }
  })

// ---------------------------------------------------------------------------------------------------------
// Create

/** The campaign name as stored: trimmed, and not blank. */
export const campaignName = (name: string): Result.Result<string, CampaignNameEmpty> => {
  const trimmed = name.trim()
  return trimmed === "" ? Result.fail(new CampaignNameEmpty()) : Result.succeed(trimmed)
}

/** What a new campaign is made of. */
export interface CreateInput {
  readonly name: string
  /** The account (phone number) to send from. */
  readonly account: string
  readonly template: string
  /** Needed only when the template exists in several languages. */
  readonly language?: string | undefined
  readonly note?: string | undefined
  /** Its own messages/second cap (`Campaign.parseMaxMps`); absent: the number's rate. */
  readonly maxMps?: number | undefined
}

/** A draft campaign on a synced template that can be sent. */
export const create = (storage: Storage, input: CreateInput) =>
  Effect.gen(function*() {
    const name = yield* Effect.fromResult(campaignName(input.name))
    const found = yield* storage.getAccount(input.account)
    if (Option.isNone(found)) return yield* new AccountNotFound({ name: input.account })
    const account = found.value
    const templates = yield* liveTemplates(storage, account)
    const languages = [...new Set(templates.filter((t) => t.name === input.template).map((t) => t.language))].sort()
    let language: string
    if (input.language !== undefined) language = input.language.trim()
    else if (languages.length === 1 && languages[0] !== undefined) language = languages[0]
    else if (languages.length === 0) language = ""
    else return yield* new LanguageAmbiguous({ template: input.template, languages })
    const translation = Template.findTranslation(templates, input.template, language)
    if (Result.isFailure(translation)) {
      const lookup = translation.failure
      return yield* lookup._tag === "TemplateNotFound"
        ? new TemplateNotSynced({ account: account.name, wabaId: account.wabaId, template: input.template })
        : new TranslationNotSynced({ lookup })
    }
    const usable = Template.usability(translation.success, language)
    if (!usable.usable) return yield* new TemplateNotSendable({ template: input.template, language, problems: usable.problems })
    const campaign = yield* storage.createCampaign({
      name,
      accountName: account.name,
      templateName: translation.success.name,
      language,
      note: input.note === undefined ? null : input.note.trim(),
      maxMps: input.maxMps ?? null
    }, yield* now)
    const created: CampaignWithCounts = { campaign, counts: yield* storage.campaignCounts(campaign.id) }
    return created
  })

// ---------------------------------------------------------------------------------------------------------
// Lifecycle

/** The next lifecycle of a campaign, as one of the core's `Campaign` functions decides it. */
export type Decide = (
  campaign: CampaignRecord,
  counts: Campaign.ContactCounts,
  at: Date
) => Result.Result<Campaign.CampaignLifecycle, Campaign.CampaignOperationError>

/**
 * Store the lifecycle `decide` computes from the current campaign, compare-and-set on its state, and return the
 * campaign as stored. A conflict (someone else was first) is decided again once, on the campaign as it is then.
 */
export const changeLifecycle = (
  storage: Storage,
  id: string,
  decide: Decide
): Effect.Effect<CampaignRecord, CampaignNotFound | OperationRefused | CampaignChanged | StorageError> =>
  Effect.gen(function*() {
    for (let attempt = 0; ; attempt++) {
      const campaign = yield* findCampaign(storage, id)
      const counts = yield* storage.campaignCounts(id)
      const next = decide(campaign, counts, yield* now)
      if (Result.isFailure(next)) return yield* new OperationRefused({ campaign: id, refusal: next.failure })
      if (next.success === campaign.lifecycle) return campaign
      const stored = yield* Effect.result(storage.updateCampaignLifecycle(id, campaign.lifecycle.state, next.success))
      if (Result.isSuccess(stored)) return stored.success
      const failure = stored.failure
      if (failure._tag === "StorageError") return yield* failure
      if (failure._tag === "NotFound") return yield* new CampaignNotFound({ id })
      if (attempt === 0) continue
      return yield* new CampaignChanged({ campaign: id, detail: failure.message })
    }
  })

/** The operator's lifecycle operations. */
export type Operation = "start" | "pause" | "resume" | "stop"

/** Who asked for an operation, as the event log names them. */
export type Operator = "CLI" | "admin API"

const decisions: Readonly<Record<Operation, Decide>> = {
  start: (c, counts, at) => Campaign.start(c.lifecycle, counts, at),
  pause: (c, _counts, at) => Campaign.pause(c.lifecycle, at),
  resume: (c, counts, at) => Campaign.resume(c.lifecycle, counts, at),
  stop: (c, _counts, at) => Campaign.stop(c.lifecycle, at)
}

const pastTense: Readonly<Record<Operation, string>> = { start: "started", pause: "paused", resume: "resumed", stop: "stopped" }

/** A campaign after an operation; `cancelled` counts the contacts a stop cancelled (0 otherwise). */
export interface Operated extends CampaignWithCounts {
  readonly cancelled: number
}

/**
 * Start, pause, resume or stop a campaign and log who did it. A stop is stored first, so no daemon claims more,
 * and then every contact still waiting is cancelled.
 */
export const operate = (
  storage: Storage,
  id: string,
  operation: Operation,
  by: Operator
): Effect.Effect<Operated, CampaignNotFound | OperationRefused | CampaignChanged | StorageError> =>
  Effect.gen(function*() {
    const campaign = yield* changeLifecycle(storage, id, decisions[operation])
    const at = yield* now
    const cancelled = operation === "stop" ? yield* storage.cancelPending(id, at) : 0
    yield* storage.appendEvents([{
      campaignId: id,
      kind: `campaign_${operation}`,
      message: `Campaign ${id} ${pastTense[operation]} by an operator (${by}).`,
      data: operation === "stop" ? { cancelled } : {},
      at
    }])
    return { campaign, counts: yield* storage.campaignCounts(id), cancelled }
  })

// ---------------------------------------------------------------------------------------------------------
// Adding contacts

// Contacts per storage call while adding (each call is one transaction), and how many such calls may run at once:
// PostgreSQL spends most of the time of a big add maintaining the indexes, and two backends use two cores.
const ADD_BATCH = 5_000
const WRITES_IN_FLIGHT = 2

/** What adding contacts did. */
export interface AddContactsReport {
  readonly campaign: string
  /** The campaign's state afterwards: a finished campaign that got contacts to send runs again. */
  readonly state: Campaign.CampaignStateId
  /** New contacts, invalid records and suppressed (opted-out) recipients included. */
  readonly added: number
  readonly invalid: number
  readonly suppressed: number
  /** Recipients the campaign had already (kept once). */
  readonly alreadyInCampaign: ReadonlyArray<string>
  readonly rejected: ReadonlyArray<Rejected>
}

/**
 * Add the contacts `collect` finds for the campaign's template (`Rows.fromCsv`, `Rows.fromDirectory`), in chunks,
 * and reopen a finished campaign that got new contacts to send (`Campaign.addContacts`). A stopped campaign takes
 * none, and a template gone from Meta takes none: both are checked before `collect` reads anything. Batches are
 * written while the next is read and judged, two writes in flight at a time (a million contacts stream through).
 */
export const addContacts = <E, R>(
  storage: Storage,
  id: string,
  collect: (campaign: CampaignRecord, template: Template.Template) => Effect.Effect<Candidates | CandidateBatches, E, R>
): Effect.Effect<
  AddContactsReport,
  E | CampaignNotFound | OperationRefused | CampaignAccountGone | CampaignTemplateGone | CampaignChanged | StorageError,
  R
> =>
  Effect.gen(function*() {
    const campaign = yield* findCampaign(storage, id)
    const allowed = Campaign.addContacts(campaign.lifecycle)
    if (Result.isFailure(allowed)) return yield* new OperationRefused({ campaign: id, refusal: allowed.failure })
    const source = yield* collect(campaign, yield* campaignTemplate(storage, campaign))
    let added = 0
    let invalid = 0
    let suppressed = 0
    const alreadyInCampaign: Array<string> = []
    const rejected: Array<Rejected> = []
    const writing: Array<Fiber.Fiber<Ports.Storage.AddContactsResult, CampaignNotFound | StorageError>> = []
    // Wait for the oldest write until fewer than `room` are in flight.
    const settle = (room: number) =>
      Effect.gen(function*() {
        while (writing.length >= room) {
          const result = yield* Fiber.join(writing.shift() as Fiber.Fiber<Ports.Storage.AddContactsResult, CampaignNotFound | StorageError>)
          added += result.added
          invalid += result.invalid
          suppressed += result.suppressed
          alreadyInCampaign.push(...result.alreadyInCampaign)
        }
      })
    const write = (contacts: ReadonlyArray<Ports.Storage.NewCampaignContact>) =>
      Effect.gen(function*() {
        return yield* storage.addCampaignContacts(campaign.id, contacts, yield* now).pipe(
          Effect.catchTag("NotFound", () => Effect.fail(new CampaignNotFound({ id })))
        )
      })
    const add = (batch: Candidates) =>
      Effect.gen(function*() {
        rejected.push(...batch.rejected)
        for (let start = 0; start < batch.contacts.length; start += ADD_BATCH) {
          yield* settle(WRITES_IN_FLIGHT)
          writing.push(yield* Effect.forkChild(write(batch.contacts.slice(start, start + ADD_BATCH))))
        }
      })
    if ("_tag" in source) yield* source.forEach(add)
    else yield* add(source)
    yield* settle(1)
    const state = added > 0
      ? (yield* changeLifecycle(storage, campaign.id, (c) => Campaign.addContacts(c.lifecycle))).lifecycle.state
      : campaign.lifecycle.state
    return { campaign: campaign.id, state, added, invalid, suppressed, alreadyInCampaign, rejected }
  })

// ---------------------------------------------------------------------------------------------------------
// Retry failed contacts (issue 11, item 3)

/** What an operator asks to retry: states (`error`, `sending_failed`) and, optionally, last error codes. */
export interface RetryInput {
  readonly states: ReadonlyArray<string>
  readonly codes?: ReadonlyArray<string> | undefined
}

/**
 * The selection the input names, checked before anything is read: at least one state, each of them retryable;
 * codes trimmed, blanks dropped, duplicates once. Shared by the CLI (to refuse bad flags as a usage mistake) and
 * {@link retry}.
 */
export const retrySelection = (input: RetryInput): Result.Result<Ports.Storage.RetrySelection, RetryStatesInvalid> => {
  const given = [...new Set(input.states.map((s) => s.trim()).filter((s) => s !== ""))]
  const allowed = ContactState.retryableStates
  if (given.length === 0 || given.some((s) => !(allowed as ReadonlyArray<string>).includes(s))) {
    return Result.fail(new RetryStatesInvalid({ given, allowed: [...allowed] }))
  }
  const codes = [...new Set((input.codes ?? []).map((c) => c.trim()).filter((c) => c !== ""))]
  return Result.succeed({ states: given as ReadonlyArray<ContactState.ContactStateId>, codes })
}

/** A campaign after a retry, with how many contacts went back to `initial` and how many stayed (suppressed). */
export interface RetryReport extends CampaignWithCounts {
  readonly selection: Ports.Storage.RetrySelection
  readonly retried: number
  readonly suppressed: number
}

/**
 * Put the selected failed contacts back to `initial` with a new attempt budget (`StorageShape.retryContacts`),
 * reopen a finished campaign that got some (`Campaign.retry`), and log who did it, what and how many. A draft or
 * stopped campaign is refused; codes no failed contact of the campaign has are refused, naming those it has.
 * Recipients on the suppression list are not retried (they stay in their failed state, and are counted).
 */
export const retry = (
  storage: Storage,
  id: string,
  input: RetryInput,
  by: Operator
): Effect.Effect<
  RetryReport,
  RetryStatesInvalid | RetryCodesUnknown | CampaignNotFound | OperationRefused | CampaignChanged | StorageError
> =>
  Effect.gen(function*() {
    const selection = yield* Effect.fromResult(retrySelection(input))
    const campaign = yield* findCampaign(storage, id)
    const allowed = Campaign.retry(campaign.lifecycle)
    if (Result.isFailure(allowed)) return yield* new OperationRefused({ campaign: id, refusal: allowed.failure })
    if (selection.codes.length > 0) {
      const present = (yield* storage.failureSummary([id])).map((g) => g.code)
      const unknown = selection.codes.filter((c) => !present.includes(c))
      if (unknown.length > 0) return yield* new RetryCodesUnknown({ campaign: id, unknown, present })
    }
    const at = yield* now
    const { retried, suppressed } = yield* storage.retryContacts(id, selection, at)
    const stored = retried > 0 ? yield* changeLifecycle(storage, id, (c) => Campaign.retry(c.lifecycle)) : campaign
    const codes = selection.codes.length === 0 ? "" : ` with last error ${selection.codes.join(", ")}`
    yield* storage.appendEvents([{
      campaignId: id,
      kind: "campaign_contacts_retried",
      message: `${retried} ${selection.states.join("/")} contact(s)${codes} of campaign ${id} put back to initial by an operator ` +
        `(${by})${suppressed > 0 ? `; ${suppressed} suppressed recipient(s) left as they were` : ""}.`,
      data: { by, states: [...selection.states], codes: [...selection.codes], retried, suppressed },
      at
    }])
    return { campaign: stored, counts: yield* storage.campaignCounts(id), selection, retried, suppressed }
  })

// ---------------------------------------------------------------------------------------------------------
// Scheduled start (issue 11, item 1; the daemon's campaigns/Scheduler.ts starts them)

/** Schedule a draft to start by itself at `at` (a later call replaces the time), and log who did it. */
export const schedule = (
  storage: Storage,
  id: string,
  at: Date,
  by: Operator
): Effect.Effect<CampaignWithCounts, CampaignNotFound | OperationRefused | CampaignChanged | StorageError> =>
  Effect.gen(function*() {
    const campaign = yield* changeLifecycle(storage, id, (c, _counts, now) => Campaign.schedule(c.lifecycle, at, now))
    yield* storage.appendEvents([{
      campaignId: id,
      kind: "campaign_schedule",
      message: `Campaign ${id} scheduled to start at ${at.toISOString()} by an operator (${by}).`,
      data: { scheduled_at: at.toISOString() },
      at: yield* now
    }])
    return { campaign, counts: yield* storage.campaignCounts(id) }
  })

/** Take a draft's scheduled start away (it waits for `start` again), and log it when there was one. */
export const unschedule = (
  storage: Storage,
  id: string,
  by: Operator
): Effect.Effect<CampaignWithCounts, CampaignNotFound | OperationRefused | CampaignChanged | StorageError> =>
  Effect.gen(function*() {
    const before = (yield* findCampaign(storage, id)).lifecycle.scheduledAt
    const campaign = yield* changeLifecycle(storage, id, (c) => Campaign.unschedule(c.lifecycle))
    if (before !== null) {
      yield* storage.appendEvents([{
        campaignId: id,
        kind: "campaign_unschedule",
        message: `Campaign ${id}'s scheduled start (${before.toISOString()}) was taken away by an operator (${by}).`,
        data: { scheduled_at: before.toISOString() },
        at: yield* now
      }])
    }
    return { campaign, counts: yield* storage.campaignCounts(id) }
  })

// ---------------------------------------------------------------------------------------------------------
// Sending settings: the per-campaign rate cap (issue 11, item 6) and the send window (item 2)

/** A change to one sending setting: whether the state allows it, its value as logged before and after, the write. */
interface SettingChange<V extends string | number> {
  readonly allowed: (campaign: Campaign.CampaignLifecycle) => Result.Result<Campaign.CampaignLifecycle, Campaign.CampaignOperationError>
  readonly before: (campaign: CampaignRecord) => V | null
  readonly after: V | null
  readonly write: Effect.Effect<CampaignRecord, Ports.Storage.NotFound | StorageError>
  /** The event log line when the value changed. */
  readonly logged: (before: V | null) => { readonly kind: string; readonly message: string; readonly data: Readonly<Record<string, unknown>> }
}

/** Change a sending setting when the campaign's state allows it (not once stopped), and log it when it changed. */
const changeSetting = <V extends string | number>(
  storage: Storage,
  id: string,
  change: SettingChange<V>
): Effect.Effect<CampaignWithCounts, CampaignNotFound | OperationRefused | StorageError> =>
  Effect.gen(function*() {
    const current = yield* findCampaign(storage, id)
    const allowed = change.allowed(current.lifecycle)
    if (Result.isFailure(allowed)) return yield* new OperationRefused({ campaign: id, refusal: allowed.failure })
    const before = change.before(current)
    const campaign = yield* change.write.pipe(Effect.catchTag("NotFound", () => Effect.fail(new CampaignNotFound({ id }))))
    if (before !== change.after) yield* storage.appendEvents([{ campaignId: id, ...change.logged(before), at: yield* now }])
    return { campaign, counts: yield* storage.campaignCounts(id) }
  })

/**
 * Set the campaign's own messages/second cap (`Campaign.parseMaxMps` has checked it), or remove it (null), and
 * log who did it. It holds from the next claim on, also for a running campaign; a stopped campaign is refused.
 */
export const setRate = (
  storage: Storage,
  id: string,
  maxMps: number | null,
  by: Operator
): Effect.Effect<CampaignWithCounts, CampaignNotFound | OperationRefused | StorageError> =>
  changeSetting(storage, id, {
    allowed: Campaign.changeRate,
    before: (c) => c.maxMps,
    after: maxMps,
    write: storage.setCampaignMaxMps(id, maxMps),
    logged: (before) => ({
      kind: "campaign_rate",
      message: maxMps === null
        ? `Campaign ${id}'s rate cap (${before} msg/s) was removed by an operator (${by}): it sends at the number's rate.`
        : `Campaign ${id} capped at ${maxMps} msg/s by an operator (${by})${before === null ? "" : `, was ${before}`}.`,
      data: { max_mps: maxMps, previous: before }
    })
  })

/**
 * Set the campaign's send window, change it, or remove it (null), and log who did it when it changed. Contacts
 * waiting for the old window are judged by the new one at the next claim. A stopped campaign is refused.
 */
export const setSendWindow = (
  storage: Storage,
  id: string,
  window: SendWindow.SendWindow | null,
  by: Operator
): Effect.Effect<CampaignWithCounts, CampaignNotFound | OperationRefused | StorageError> => {
  const after = window === null ? null : SendWindow.format(window)
  return changeSetting(storage, id, {
    allowed: Campaign.changeSendWindow,
    before: (c) => (c.sendWindow === null ? null : SendWindow.format(c.sendWindow)),
    after,
    write: storage.setSendWindow(id, window),
    logged: (before) => ({
      kind: "campaign_window",
      message: after === null
        ? `Campaign ${id}'s send window (${before}) was removed by an operator (${by}): it sends at any hour.`
        : `Campaign ${id} sends only ${after} on each recipient's clock, set by an operator (${by})` +
          `${before === null ? "" : `; was ${before}`}.`,
      data: { send_window: after, previous: before }
    })
  })
}

// ---------------------------------------------------------------------------------------------------------
// Clone a campaign (issue 11, item 5)

// Contacts read from the source campaign per storage call: a campaign of a million is never in memory at once.
const CLONE_PAGE = 5_000

/** Which contacts of which campaign a clone copies: those in `states` (some of the ten contact states). */
export interface CloneContactsFrom {
  readonly campaignId: string
  readonly states: ReadonlyArray<string>
}

/** What a clone is made of: the new name, and optionally the contacts to copy. */
export interface CloneInput {
  readonly name: string
  readonly contactsFrom?: CloneContactsFrom | undefined
}

/**
 * The states a clone copies contacts in, checked before anything is read: at least one, each of the ten contact
 * states; trimmed, blanks dropped, duplicates once. Shared by the CLI (a bad `--state` is a usage mistake) and
 * {@link clone}.
 */
export const cloneStates = (states: ReadonlyArray<string>): Result.Result<ReadonlyArray<ContactState.ContactStateId>, CloneStatesInvalid> => {
  const given = [...new Set(states.map((s) => s.trim()).filter((s) => s !== ""))]
  const allowed: ReadonlyArray<string> = ContactState.states
  if (given.length === 0 || given.some((s) => !allowed.includes(s))) {
    return Result.fail(new CloneStatesInvalid({ given, allowed: [...allowed] }))
  }
  return Result.succeed(given as ReadonlyArray<ContactState.ContactStateId>)
}

/** The contacts a clone copied: from where, in which states, what adding them did, and the invalid records skipped. */
export interface ClonedContacts {
  readonly from: string
  readonly states: ReadonlyArray<ContactState.ContactStateId>
  readonly report: AddContactsReport
  /** Contacts without a recipient (an unusable phone number): nothing to send to, so not copied. */
  readonly skippedInvalid: number
}

/** A clone: the new draft with its contacts per state, the campaign it was cloned from and what was copied. */
export interface CloneReport extends CampaignWithCounts {
  readonly clonedFrom: string
  readonly contacts: ClonedContacts | undefined
}

/**
 * A follow-up campaign: a new draft with the account, template, language, note and send window of `sourceId`
 * (settings, not contacts), and, with `contactsFrom`, that campaign's contacts in the chosen states, with their frozen parameters,
 * added by the usual rules (suppressed recipients kept as invalid records, duplicates once); that campaign must send
 * the same template and language. Contacts without a recipient are skipped and counted. The source's template
 * must still be synced and sendable. Logged on the new campaign with who did it.
 */
export const clone = (storage: Storage, sourceId: string, input: CloneInput, by: Operator) =>
  Effect.gen(function*() {
    const name = yield* Effect.fromResult(campaignName(input.name))
    const states = input.contactsFrom === undefined ? undefined : yield* Effect.fromResult(cloneStates(input.contactsFrom.states))
    const source = yield* findCampaign(storage, sourceId)
    const from = input.contactsFrom === undefined ? undefined : yield* findCampaign(storage, input.contactsFrom.campaignId)
    // The copied values are frozen for the template they were added for; another template's would not fit.
    if (from !== undefined && (from.templateName !== source.templateName || from.language !== source.language)) {
      return yield* new CloneTemplateMismatch({
        campaign: source.id,
        template: source.templateName,
        language: source.language,
        from: from.id,
        fromTemplate: from.templateName,
        fromLanguage: from.language
      })
    }
    // The usual refusal when the template (or account) is gone, before anything is created.
    yield* campaignTemplate(storage, source)
    const created = yield* create(storage, {
      name,
      account: source.accountName,
      template: source.templateName,
      language: source.language,
      note: source.note ?? `Follow-up of campaign ${source.id}.`,
      maxMps: source.maxMps ?? undefined
    })
    const id = created.campaign.id
    // The send window is a setting too: the follow-up keeps the same decent hours.
    if (source.sendWindow !== null) {
      yield* storage.setSendWindow(id, source.sendWindow).pipe(Effect.catchTag("NotFound", () => Effect.fail(new CampaignNotFound({ id }))))
    }
    let contacts: ClonedContacts | undefined
    if (from !== undefined && states !== undefined) {
      let skippedInvalid = 0
      const batches: Rows.CandidateBatches = {
        _tag: "CandidateBatches",
        forEach: (add) =>
          Effect.forEach(states, (state) =>
            forEachPageEffect(
              (page) => storage.listCampaignContacts(from.id, state, page),
              (rows) => {
                const sendable = rows.filter((c) => c.recipient !== "")
                skippedInvalid += rows.length - sendable.length
                return add({
                  contacts: sendable.map((c) => ({
                    phone: c.phone,
                    recipient: c.recipient,
                    parameters: c.parameters,
                    directoryContactId: c.directoryContactId,
                    timeZone: c.timeZone
                  })),
                  rejected: []
                })
              },
              CLONE_PAGE
            ), { discard: true })
      }
      const report = yield* addContacts(storage, id, () => Effect.succeed(batches))
      contacts = { from: from.id, states, report, skippedInvalid }
    }
    yield* storage.appendEvents([{
      campaignId: id,
      kind: "campaign_clone",
      message: `Campaign ${id} cloned from campaign ${source.id} by an operator (${by})` +
        (contacts === undefined
          ? "."
          : `, with ${contacts.report.added} contact(s) of campaign ${contacts.from} in ${contacts.states.join("/")}` +
            `${contacts.skippedInvalid > 0 ? ` (${contacts.skippedInvalid} without a recipient skipped)` : ""}.`),
      data: {
        by,
        cloned_from: source.id,
        ...(contacts === undefined ? {} : { contacts_from: contacts.from, states: [...contacts.states], added: contacts.report.added })
      },
      at: yield* now
    }])
    const campaign = yield* findCampaign(storage, id)
    const report: CloneReport = { campaign, counts: yield* storage.campaignCounts(id), clonedFrom: source.id, contacts }
    return report
  })
