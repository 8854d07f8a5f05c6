/**
 * Campaign lifecycle: draft → running ⇄ paused → finished | stopped.
 *
 * Operators start, pause, resume, stop and add contacts, or schedule a draft to start by itself at a time (the
 * draft keeps its state until then: `scheduledAt` is a field of it); the system pauses a campaign by itself when its
 * template or account cannot send, with the reason, instead of burning through its contacts.
 */
import { Option, Result, Schema } from "effect"
import { isPending, states as contactStates, type ContactStateId } from "./ContactState.ts"
import { HIGH_THROUGHPUT_MPS } from "./Quota.ts"
import { formatWallTime } from "./Schedule.ts"

/** The campaign state ids, exactly as the CLI and the JSON API spell them. */
export const states = ["draft", "running", "paused", "finished", "stopped"] as const

/** One of the five campaign states. */
export type CampaignStateId = (typeof states)[number]

/** A campaign state's name for people. */
export const labels: Readonly<Record<CampaignStateId, { readonly en: string; readonly cs: string }>> = {
  draft: { en: "Draft", cs: "Koncept" },
  running: { en: "Running", cs: "Probíhá" },
  paused: { en: "Paused", cs: "Pozastaveno" },
  finished: { en: "Finished", cs: "Dokončeno" },
  stopped: { en: "Stopped", cs: "Ukončeno" }
}

/** Why a campaign paused itself. `operator` pauses carry no reason: a person chose it. */
export type SystemPauseKind =
  | "template_unusable"
  | "account_blocked"
  | "auth_failed"
  | "spam_rate_limited"
  | "outcome_review"

/** Why the campaign is paused. */
export type PauseReason =
  | { readonly _tag: "Operator" }
  | { readonly _tag: "System"; readonly kind: SystemPauseKind; readonly explanation: string; readonly code?: string }

/** The lifecycle part of a campaign; storage keeps it next to name, account, template and note. */
export interface CampaignLifecycle {
  readonly state: CampaignStateId
  readonly pauseReason: PauseReason | null
  readonly createdAt: Date
  readonly startedAt: Date | null
  readonly pausedAt: Date | null
  readonly endedAt: Date | null
  /** When a draft starts by itself (`schedule`); null when it waits for an operator. Only a draft has one. */
  readonly scheduledAt: Date | null
}

/** How many contacts of a campaign are in each state. */
export type ContactCounts = Readonly<Record<ContactStateId, number>>

/** Every state at zero. */
export const emptyCounts: ContactCounts = Object.fromEntries(contactStates.map((s) => [s, 0])) as Record<ContactStateId, number>

/** Contacts counted in total. */
export const totalContacts = (counts: ContactCounts): number => contactStates.reduce((n, s) => n + counts[s], 0)

/** Contacts still waiting for or in a send. */
export const pendingContacts = (counts: ContactCounts): number =>
  contactStates.reduce((n, s) => n + (isPending(s) ? counts[s] : 0), 0)

/** The operations a person (or the system) may ask for. */
export type Operation = "start" | "pause" | "resume" | "stop" | "add_contacts" | "edit" | "schedule" | "unschedule" | "retry"

/** The operations each state allows, for help texts, the dashboard's keys and the admin API. */
export const allowedOperations: Readonly<Record<CampaignStateId, ReadonlyArray<Operation>>> = {
  draft: ["start", "stop", "add_contacts", "edit", "schedule", "unschedule"],
  running: ["pause", "stop", "add_contacts", "retry"],
  paused: ["resume", "stop", "add_contacts", "retry"],
  finished: ["add_contacts", "retry"],
  stopped: []
}

/** An operation the campaign's state does not allow, with what would. */
export class CampaignOperationError extends Schema.TaggedError<CampaignOperationError>()("CampaignOperationError", {
  operation: Schema.String,
  state: Schema.String,
  message: Schema.String
}) {}

/** A new campaign. */
export const draft = (now: Date): CampaignLifecycle => ({
  state: "draft",
  pauseReason: null,
  createdAt: now,
  startedAt: null,
  pausedAt: null,
  endedAt: null,
  scheduledAt: null
})

type Outcome = Result.Result<CampaignLifecycle, CampaignOperationError>

const refuse = (campaign: CampaignLifecycle, operation: Operation, why: string): Outcome => {
  const allowed = allowedOperations[campaign.state]
  const hint = allowed.length === 0 ? "nothing more can be done with it" : `it allows: ${allowed.join(", ")}`
  return Result.fail(new CampaignOperationError({
    operation,
    state: campaign.state,
    message: `Cannot ${operation.replace("_", " ")} a ${campaign.state} campaign: ${why}; ${hint}.`
  }))
}

/** Start a draft. It needs at least one contact; with none pending it finishes at once. */
export const start = (campaign: CampaignLifecycle, counts: ContactCounts, now: Date): Outcome => {
  if (campaign.state !== "draft") return refuse(campaign, "start", "only a draft can be started (use resume for a paused one)")
  if (totalContacts(counts) === 0) return refuse(campaign, "start", "it has no contacts yet — add contacts first")
  return Result.succeed(finishIfDone({ ...campaign, state: "running", startedAt: now, scheduledAt: null }, counts, now))
}

/** An operator pause. */
export const pause = (campaign: CampaignLifecycle, now: Date): Outcome => {
  if (campaign.state !== "running") return refuse(campaign, "pause", "only a running campaign can be paused")
  return Result.succeed({ ...campaign, state: "paused", pauseReason: { _tag: "Operator" }, pausedAt: now })
}

/**
 * The system pauses a running campaign (template paused, account blocked…). An operator's pause stays an
 * operator's pause; a newer system reason replaces an older one so the explanation is current.
 */
export const systemPause = (
  campaign: CampaignLifecycle,
  reason: Extract<PauseReason, { _tag: "System" }>,
  now: Date
): Outcome => {
  if (campaign.state === "paused") {
    return Result.succeed(campaign.pauseReason?._tag === "Operator" ? campaign : { ...campaign, pauseReason: reason })
  }
  if (campaign.state !== "running") return refuse(campaign, "pause", "only a running campaign can be paused")
  return Result.succeed({ ...campaign, state: "paused", pauseReason: reason, pausedAt: now })
}

/** Resume a paused campaign (the dispatcher pauses it again if its cause is still there). */
export const resume = (campaign: CampaignLifecycle, counts: ContactCounts, now: Date): Outcome => {
  if (campaign.state !== "paused") return refuse(campaign, "resume", "only a paused campaign can be resumed")
  return Result.succeed(finishIfDone({ ...campaign, state: "running", pauseReason: null, pausedAt: null }, counts, now))
}

/** End the campaign for good; its contacts not yet sent are cancelled (ContactState's `Cancelled`). */
export const stop = (campaign: CampaignLifecycle, now: Date): Outcome => {
  if (campaign.state === "finished" || campaign.state === "stopped") {
    return refuse(campaign, "stop", "it has already ended")
  }
  return Result.succeed({ ...campaign, state: "stopped", pauseReason: null, endedAt: now, scheduledAt: null })
}

/**
 * Whether contacts may be added now. Adding to a finished campaign reopens it: the new contacts are
 * pending, so it is running again until they settle.
 */
export const addContacts = (campaign: CampaignLifecycle): Outcome => {
  if (campaign.state === "stopped") return refuse(campaign, "add_contacts", "a stopped campaign sends nothing more — create a new campaign")
  if (campaign.state === "finished") return Result.succeed({ ...campaign, state: "running", endedAt: null })
  return Result.succeed(campaign)
}

/** Whether the draft's name, account, template, language or note may still change. */
export const edit = (campaign: CampaignLifecycle): Outcome =>
  campaign.state === "draft"
    ? Result.succeed(campaign)
    : refuse(campaign, "edit", "account, template and language are fixed once a campaign has started")

/** A running campaign whose every contact is settled is finished. */
export const finishIfDone = (campaign: CampaignLifecycle, counts: ContactCounts, now: Date): CampaignLifecycle =>
  campaign.state === "running" && pendingContacts(counts) === 0 ? { ...campaign, state: "finished", endedAt: now } : campaign

/** Whether the dispatcher may send for this campaign now. */
export const isSending = (campaign: CampaignLifecycle): boolean => campaign.state === "running"

/** One line for people: the state, when a draft is scheduled to start (in `timeZone`), and why when the system paused it. */
export const describe = (campaign: CampaignLifecycle, lang: "en" | "cs" = "en", timeZone?: string): string => {
  if (campaign.state === "draft" && campaign.scheduledAt !== null) {
    const when = formatWallTime(campaign.scheduledAt, timeZone ?? "UTC") + (timeZone === undefined ? " UTC" : "")
    return lang === "cs" ? `Naplánováno na ${when}` : `Scheduled for ${when}`
  }
  const label = labels[campaign.state][lang]
  const reason = campaign.pauseReason
  if (reason === null) return label
  if (reason._tag === "Operator") return lang === "cs" ? `${label} (administrátorem)` : `${label} (by an operator)`
  return `${label}: ${reason.explanation}`
}

// ---------------------------------------------------------------------------------------------------------
// Scheduled start

/** How far in the past a schedule may be set and still be taken (a clock a little behind, a slow typist). */
export const SCHEDULE_TOLERANCE_MS = 60_000

/** Schedule a draft to start by itself at `at`; a new time replaces an older one. A time already past is refused. */
export const schedule = (campaign: CampaignLifecycle, at: Date, now: Date): Outcome => {
  if (campaign.state !== "draft") return refuse(campaign, "schedule", "only a draft can be scheduled to start")
  if (at.getTime() < now.getTime() - SCHEDULE_TOLERANCE_MS) {
    return refuse(campaign, "schedule", `${at.toISOString()} has already passed — give a later time, or start it now`)
  }
  return Result.succeed({ ...campaign, scheduledAt: at })
}

/** Take a draft's schedule away: it waits for an operator again. Unscheduling a draft without one changes nothing. */
export const unschedule = (campaign: CampaignLifecycle): Outcome => {
  if (campaign.state !== "draft") return refuse(campaign, "unschedule", "only a draft has a scheduled start")
  return Result.succeed(campaign.scheduledAt === null ? campaign : { ...campaign, scheduledAt: null })
}

/** Whether a scheduled draft's time has come. */
export const isDue = (campaign: CampaignLifecycle, now: Date): boolean =>
  campaign.state === "draft" && campaign.scheduledAt !== null && campaign.scheduledAt.getTime() <= now.getTime()

/**
 * What the scheduler does with a campaign at `now`: start it exactly as `start` would when its time has come
 * (`Some` of the outcome), nothing otherwise (`None`). A due campaign `start` refuses — no contacts yet — stays
 * scheduled: the refusal says why, and it starts on the scheduler's next look once it has contacts.
 */
export const startIfDue = (
  campaign: CampaignLifecycle,
  counts: ContactCounts,
  now: Date
): Option.Option<Outcome> => (isDue(campaign, now) ? Option.some(start(campaign, counts, now)) : Option.none())

// ---------------------------------------------------------------------------------------------------------
// Retry failed contacts (issue 11, item 3)

/**
 * Whether failed contacts may be put back to `initial` (`ContactState`'s `RetryRequested`). Running and paused
 * campaigns take them as they are (a paused one sends them once resumed); a finished one reopens to running, since
 * it has contacts to send again. A draft has sent nothing, and a stopped campaign sends nothing more.
 */
export const retry = (campaign: CampaignLifecycle): Outcome => {
  if (campaign.state === "draft") return refuse(campaign, "retry", "nothing has been sent yet — start it")
  if (campaign.state === "stopped") return refuse(campaign, "retry", "a stopped campaign sends nothing more — create a new campaign")
  if (campaign.state === "finished") return Result.succeed({ ...campaign, state: "running", endedAt: null })
  return Result.succeed(campaign)
}

// ---------------------------------------------------------------------------------------------------------
// Per-campaign rate cap (issue 11, item 6)

/** The highest cap a campaign may have: Meta's highest per-number rate (a higher one could never bind). */
export const MAX_CAMPAIGN_MPS = HIGH_THROUGHPUT_MPS

/**
 * A campaign's messages/second cap as an operator writes it (`--max-mps 5`, `0.5` for one every 2 s): a number
 * above 0 and at most 1,000; the error says what was wrong and what is accepted.
 */
export const parseMaxMps = (text: string): Result.Result<number, string> => {
  const trimmed = text.trim()
  const value = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN
  if (Number.isNaN(value) || value <= 0 || value > MAX_CAMPAIGN_MPS) {
    return Result.fail(
      `"${text}" is not a rate: give messages per second as a number above 0 and at most ${MAX_CAMPAIGN_MPS} ` +
        `(5, or 0.5 for one message every 2 seconds).`
    )
  }
  return Result.succeed(value)
}

// ---------------------------------------------------------------------------------------------------------
// Send window (issue 11, item 2; the claim defers contacts outside it, SendWindow)

/**
 * Whether a sending setting of the campaign (its send window, its rate cap) may be set, changed or removed: at any
 * time until it is stopped (a stopped campaign sends nothing more). A finished one may take one for contacts
 * added later.
 */
const changeSetting = (campaign: CampaignLifecycle, operation: string, setting: string): Outcome =>
  campaign.state === "stopped"
    ? Result.fail(new CampaignOperationError({
      operation,
      state: campaign.state,
      message: `Cannot change the ${setting} of a stopped campaign: it sends nothing more — create a new campaign.`
    }))
    : Result.succeed(campaign)

/** Whether the campaign's send window may be set, changed or removed (see `changeSetting`: not once stopped). */
export const changeSendWindow = (campaign: CampaignLifecycle): Outcome => changeSetting(campaign, "window", "send window")

/** Whether the campaign's rate cap may be set, changed or removed (not once stopped). */
export const changeRate = (campaign: CampaignLifecycle): Outcome => changeSetting(campaign, "rate", "rate cap")
