/**
 * Campaigns as JSON (SPEC §7, a public contract): what `megaphone campaigns … --json` prints and the admin API
 * answers, one Schema per shape (so the OpenAPI document knows them) and the function that builds it. Field
 * names are snake_case; dates are `Date`s that print as ISO strings.
 */
import { Campaign, ContactState, type Ports, SendWindow } from "@megaphone/core"
import { Schema } from "effect"
import type { AddContactsReport as Report, ClonedContacts as Cloned } from "./Operations.ts"
import type { GuidedBlankCsv } from "./Rows.ts"

const NullableString = Schema.NullOr(Schema.String)
const NullableDate = Schema.NullOr(Schema.Date)
/** A messaging limit: a number, or `"unlimited"` for the top tier. */
export const Limit = Schema.Union([Schema.Number, Schema.Literal("unlimited")])

/** How much of a rolling-24 h messaging limit is used, and when room frees up if none is left. */
export const Quota = Schema.Struct({
  quota_key: Schema.String,
  used: Schema.Number,
  limit: Limit,
  remaining: Limit,
  next_free_at: NullableDate
}).annotate({ identifier: "Quota" })

/** The quota usage as JSON (as in `megaphone campaigns show --json`). */
export const quota = (q: Ports.Storage.QuotaUsage): typeof Quota.Type => ({
  quota_key: q.quotaKey,
  used: q.used,
  limit: q.limit,
  remaining: q.remaining,
  next_free_at: q.nextFreeAt ?? null
})

/** Why a campaign is paused: by an operator, or by the system with its reason. */
export const PauseReason = Schema.NullOr(Schema.Union([
  Schema.Struct({ by: Schema.Literal("operator") }),
  Schema.Struct({
    by: Schema.Literal("system"),
    kind: Schema.String,
    explanation: Schema.String,
    code: NullableString
  })
]))

const pauseReason = (reason: Campaign.PauseReason | null): typeof PauseReason.Type =>
  reason === null
    ? null
    : reason._tag === "Operator"
    ? { by: "operator" }
    : { by: "system", kind: reason.kind, explanation: reason.explanation, code: reason.code ?? null }

/** Contacts per state: every one of the ten state ids, zeros included. */
export const Counts = Schema.Struct(
  Object.fromEntries(ContactState.states.map((s) => [s, Schema.Number])) as Record<ContactState.ContactStateId, typeof Schema.Number>
).annotate({ identifier: "ContactCounts" })

/** The fields of a campaign as `megaphone campaigns show --json` spells it (SPEC §7). */
export const campaignFields = {
  id: Schema.String,
  name: Schema.String,
  state: Schema.Literals(Campaign.states),
  account: Schema.String,
  template: Schema.String,
  language: Schema.String,
  note: NullableString,
  /** The campaign's own messages/second ceiling (`campaigns rate ID --max-mps N`); null: the number's rate. */
  max_mps: Schema.NullOr(Schema.Number),
  pause_reason: PauseReason,
  counts: Counts,
  total: Schema.Number,
  created_at: Schema.Date,
  started_at: NullableDate,
  paused_at: NullableDate,
  ended_at: NullableDate,
  /** When a draft starts by itself (`campaigns schedule`); null without a schedule. */
  scheduled_at: NullableDate,
  /** The days and hours it sends on each recipient's clock (`campaigns window`), e.g. `Mon-Fri 09:00-20:00`; null: any time. */
  send_window: NullableString
}

/** A campaign with its contacts per state (SPEC §7). */
export const CampaignJson = Schema.Struct(campaignFields)

/** The campaign as JSON: `campaigns show --json`, and each element of `campaigns list --json`. */
export const campaign = (c: Ports.Storage.CampaignRecord, counts: Campaign.ContactCounts): typeof CampaignJson.Type => ({
  id: c.id,
  name: c.name,
  state: c.lifecycle.state,
  account: c.accountName,
  template: c.templateName,
  language: c.language,
  note: c.note,
  max_mps: c.maxMps,
  pause_reason: pauseReason(c.lifecycle.pauseReason),
  counts: Object.fromEntries(ContactState.states.map((s) => [s, counts[s]])) as Record<ContactState.ContactStateId, number>,
  total: Campaign.totalContacts(counts),
  created_at: c.lifecycle.createdAt,
  started_at: c.lifecycle.startedAt,
  paused_at: c.lifecycle.pausedAt,
  ended_at: c.lifecycle.endedAt,
  scheduled_at: c.lifecycle.scheduledAt,
  send_window: c.sendWindow === null ? null : SendWindow.format(c.sendWindow)
})

/** A campaign contact: its number, parameters and progress. */
export const CampaignContact = Schema.Struct({
  id: Schema.String,
  phone: Schema.String,
  recipient: NullableString,
  state: Schema.Literals(ContactState.states),
  attempts: Schema.Number,
  next_attempt_at: NullableDate,
  last_error: Schema.NullOr(Schema.Struct({ code: Schema.String, text: Schema.String })),
  wamid: NullableString,
  wa_id: NullableString,
  parameters: Schema.Record(Schema.String, Schema.String),
  state_times: Schema.Record(Schema.String, Schema.Date),
  added_at: Schema.Date,
  /** The recipient's own time zone (a directory column `time_zone`); null: its number's country's zones. */
  time_zone: Schema.optional(NullableString),
  /** Why a waiting contact cannot go now (its campaign's send window is closed for it), and when it can; null otherwise. */
  waiting: Schema.optional(Schema.NullOr(Schema.Struct({ reason: Schema.String, next_possible_at: NullableDate })))
}).annotate({ identifier: "CampaignContact" })

type Waiting = NonNullable<(typeof CampaignContact.Type)["waiting"]>

/**
 * The contacts of a campaign with this send window as JSON, with `waiting` said for those the window holds back
 * at `now`: the window's next opening in their zones, or their next attempt when that is later. Openings are
 * computed once per zone set (a page of a thousand contacts of one country costs one).
 */
export const campaignContactsAt = (sendWindow: SendWindow.SendWindow | null, now: Date) => {
  const waits = new Map<string, SendWindow.Wait | undefined>()
  return (c: Ports.Storage.CampaignContact): typeof CampaignContact.Type => {
    const json = campaignContact(c)
    const state = c.progress.state
    if (sendWindow === null || c.recipient === "" || (state !== "initial" && state !== "retry_scheduled")) return json
    const zones = SendWindow.recipientZones(c.recipient, c.timeZone)
    const key = zones.join(",")
    if (!waits.has(key)) waits.set(key, SendWindow.wait(sendWindow, zones, now))
    const wait = waits.get(key)
    if (wait === undefined) return json
    const next = wait.nextPossibleAt === null || c.progress.nextAttemptAt === null || wait.nextPossibleAt > c.progress.nextAttemptAt
      ? wait.nextPossibleAt
      : c.progress.nextAttemptAt
    const waiting: Waiting = { reason: wait.reason, next_possible_at: next }
    return { ...json, waiting }
  }
}

/** The campaign contact as JSON (`megaphone campaigns contacts --json`); `waiting` needs the campaign: {@link campaignContactsAt}. */
export const campaignContact = (c: Ports.Storage.CampaignContact): typeof CampaignContact.Type => ({
  id: c.id,
  phone: c.phone,
  recipient: c.recipient === "" ? null : c.recipient,
  state: c.progress.state,
  attempts: c.progress.attempts,
  next_attempt_at: c.progress.nextAttemptAt,
  last_error: c.progress.lastError === null ? null : { code: c.progress.lastError.code, text: c.progress.lastError.text },
  wamid: c.progress.wamid,
  wa_id: c.progress.waId,
  parameters: c.parameters,
  state_times: Object.fromEntries(ContactState.states.flatMap((s) => {
    const at = c.progress.stateTimes[s]
    return at === undefined ? [] : [[s, at] as const]
  })),
  added_at: c.addedAt,
  time_zone: c.timeZone,
  waiting: null
})

/** A row that was not added to a campaign, and why (`line` for CSV rows, null for directory contacts). */
export const RejectedRow = Schema.Struct({
  line: Schema.NullOr(Schema.Number),
  phone: Schema.String,
  reason: Schema.String
})

/** What adding contacts did (`megaphone campaigns add-contacts --json`). */
export const AddContactsReport = Schema.Struct({
  campaign: Schema.String,
  state: Schema.Literals(Campaign.states),
  added: Schema.Number,
  invalid: Schema.Number,
  suppressed: Schema.Number,
  already_in_campaign: Schema.Array(Schema.String),
  rejected: Schema.Array(RejectedRow)
}).annotate({ identifier: "AddContactsReport" })

/** The report of adding contacts as JSON. */
export const addContactsReport = (r: Report): typeof AddContactsReport.Type => ({
  campaign: r.campaign,
  state: r.state,
  added: r.added,
  invalid: r.invalid,
  suppressed: r.suppressed,
  already_in_campaign: r.alreadyInCampaign,
  rejected: r.rejected
})

/**
 * The contacts a clone copied (`megaphone campaigns clone --contacts-from ID --state … --json`): from which campaign,
 * in which states, what adding them did, and how many had no recipient and were skipped.
 */
export const ClonedContacts = Schema.Struct({
  from: Schema.String,
  states: Schema.Array(Schema.Literals(ContactState.states)),
  skipped_invalid: Schema.Number,
  added: AddContactsReport
}).annotate({ identifier: "ClonedContacts" })

/** The contacts a clone copied as JSON. */
export const clonedContacts = (c: Cloned): typeof ClonedContacts.Type => ({
  from: c.from,
  states: c.states,
  skipped_invalid: c.skippedInvalid,
  added: addContactsReport(c.report)
})

/**
 * The blank CSV of a campaign's template: the header to fill, one line of help per column, the CSV text (the
 * header and its guide rows), the template's texts and an example row.
 */
export const BlankCsv = Schema.Struct({
  campaign: Schema.String,
  template: Schema.String,
  language: Schema.String,
  header: Schema.Array(Schema.String),
  columns: Schema.Array(Schema.String),
  csv: Schema.String,
  texts: Schema.Array(Schema.String).annotate({ description: "The template's header and body text with their placeholders." }),
  example: Schema.Array(Schema.String).annotate({ description: "An example row: a phone number, then a value per variable." })
}).annotate({ identifier: "BlankCsv" })

/** The blank CSV as JSON (`megaphone campaigns template-csv --json`, which adds the file it wrote). */
export const blankCsv = (c: Ports.Storage.CampaignRecord, blank: GuidedBlankCsv): typeof BlankCsv.Type => ({
  campaign: c.id,
  template: c.templateName,
  language: c.language,
  header: blank.header,
  columns: blank.docs,
  csv: blank.csv,
  texts: blank.texts,
  example: blank.example
})

/** The campaign's lifecycle back from its JSON (for `Campaign.describe` and the dashboard). */
export const lifecycle = (c: typeof CampaignJson.Type): Campaign.CampaignLifecycle => {
  const reason = c.pause_reason
  return {
    state: c.state,
    pauseReason: reason === null
      ? null
      : reason.by === "operator"
      ? { _tag: "Operator" }
      // The kind travels as text; readers use only the explanation and the code.
      : { _tag: "System", kind: reason.kind as Campaign.SystemPauseKind, explanation: reason.explanation, ...(reason.code === null ? {} : { code: reason.code }) },
    createdAt: c.created_at,
    startedAt: c.started_at,
    pausedAt: c.paused_at,
    endedAt: c.ended_at,
    scheduledAt: c.scheduled_at
  }
}

/** Contacts whose last attempt failed with one code (`GET /api/failures`). */
export const FailureGroup = Schema.Struct({
  code: Schema.String,
  count: Schema.Number,
  /** The text of the most recent of them. */
  text: Schema.String,
  campaigns: Schema.Array(Schema.String),
  last_at: Schema.Date
}).annotate({ identifier: "FailureGroup" })

/** A contact waiting for its retry, and its campaign. */
export const ScheduledRetry = Schema.Struct({ campaign: Schema.String, contact: CampaignContact }).annotate({ identifier: "ScheduledRetry" })

/** What is failing now: failures by code, most frequent first, and the retries due soonest. */
export const Failures = Schema.Struct({
  errors: Schema.Array(FailureGroup),
  retries: Schema.Array(ScheduledRetry)
}).annotate({ identifier: "Failures" })

/** A contact waiting for its retry as JSON. */
export const scheduledRetry = (c: Ports.Storage.CampaignContact): typeof ScheduledRetry.Type => ({ campaign: c.campaignId, contact: campaignContact(c) })

/** A failure group as JSON. */
export const failureGroup = (g: Ports.Storage.FailureGroup): typeof FailureGroup.Type => ({
  code: g.code,
  count: g.count,
  text: g.text,
  campaigns: g.campaignIds,
  last_at: g.lastAt
})
