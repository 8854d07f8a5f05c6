/**
 * The JSON the admin API answers with: one Schema per shape (so the OpenAPI document and a derived client know
 * them) and the function that builds it from the storage records. Field names are snake_case like the CLI's
 * `--json` output (SPEC §7); the campaign, account and template shapes are the CLI's own (campaigns/Json.ts,
 * accounts/Json.ts), a campaign plus the operations its state allows.
 */
import { Campaign, Filter, type Ports } from "@megaphone/core"
import { Schema } from "effect"
import * as Campaigns from "../campaigns/Json.ts"

export {
  AddContactsReport,
  addContactsReport,
  BlankCsv,
  blankCsv,
  CampaignContact,
  campaignContact,
  campaignContactsAt,
  Counts,
  FailureGroup,
  failureGroup,
  Failures,
  ScheduledRetry,
  scheduledRetry,
  PauseReason,
  Quota,
  quota,
  RejectedRow
} from "../campaigns/Json.ts"
export { Account, account, TemplateRow, templateRow } from "../accounts/Json.ts"

const NullableString = Schema.NullOr(Schema.String)

// ---------------------------------------------------------------------------------------------------------
// Accounts and templates (the CLI's own shapes, accounts/Json.ts)

/** One account's quota, for the list of every account's. */
export const AccountQuota = Schema.Struct({ account: Schema.String, ...Campaigns.Quota.fields }).annotate({ identifier: "AccountQuota" })

// ---------------------------------------------------------------------------------------------------------
// Directory and filters

/** A directory contact: its phone number (E.164) and its columns. */
export const DirectoryContact = Schema.Struct({
  id: Schema.String,
  phone: Schema.String,
  columns: Schema.Record(Schema.String, Schema.String),
  created_at: Schema.Date,
  updated_at: Schema.Date
}).annotate({ identifier: "DirectoryContact" })

/** The directory contact as JSON. */
export const directoryContact = (c: Ports.Storage.DirectoryContact): typeof DirectoryContact.Type => ({
  id: c.id,
  phone: c.phone,
  columns: c.columns,
  created_at: c.createdAt,
  updated_at: c.updatedAt
})

/** How many directory contacts match. */
export const DirectoryCount = Schema.Struct({ matched: Schema.Number }).annotate({ identifier: "DirectoryCount" })

/** How many directory contacts a delete removed. */
export const DirectoryDeleted = Schema.Struct({ deleted: Schema.Number }).annotate({ identifier: "DirectoryDeleted" })

/** A saved filter: its text (canonical, as `Filter.print` writes it) and its parsed form. */
export const SavedFilter = Schema.Struct({
  name: Schema.String,
  where: Schema.String,
  filter: Schema.Unknown.annotate({ description: "The parsed filter (Filter AST: { _tag, column, value } nodes)." }),
  created_at: Schema.Date
}).annotate({ identifier: "Filter" })

/** The saved filter as JSON. */
export const savedFilter = (f: Ports.Storage.SavedFilter): typeof SavedFilter.Type => ({
  name: f.name,
  where: Filter.print(f.filter),
  filter: f.filter,
  created_at: f.createdAt
})

/** What a filter matches in the directory now: how many, and the first few. */
export const FilterTest = Schema.Struct({
  where: Schema.String,
  matched: Schema.Number,
  sample: Schema.Array(DirectoryContact)
}).annotate({ identifier: "FilterTest" })

// ---------------------------------------------------------------------------------------------------------
// Campaigns

const campaignFields = {
  ...Campaigns.campaignFields,
  /** What the state allows now: start, pause, resume, stop, add_contacts, edit. */
  allowed_operations: Schema.Array(Schema.String)
}

/** A campaign as `megaphone campaigns show --json` spells it (SPEC §7), plus the operations it allows now. */
export const CampaignJson = Schema.Struct(campaignFields).annotate({ identifier: "Campaign" })

/** A campaign with its account's rolling-24 h quota use (none when the account is gone). */
export const CampaignDetail = Schema.Struct({ ...campaignFields, quota: Schema.NullOr(Campaigns.Quota) }).annotate({ identifier: "CampaignDetail" })

/** A campaign after start, pause, resume or stop; `cancelled` counts the contacts a stop cancelled. */
export const CampaignChange = Schema.Struct({ ...campaignFields, cancelled: Schema.Number }).annotate({ identifier: "CampaignChange" })

/**
 * A campaign after `POST /api/campaigns/{id}/retry` (as `megaphone campaigns retry --json`): how many failed contacts
 * went back to `initial`, how many were left because their recipient is suppressed, and what was selected.
 */
export const CampaignRetry = Schema.Struct({
  ...campaignFields,
  retried: Schema.Number,
  suppressed: Schema.Number,
  states: Schema.Array(Schema.String),
  codes: Schema.Array(Schema.String)
}).annotate({ identifier: "CampaignRetry" })

/**
 * The new draft after `POST /api/campaigns/{id}/clone` (as `megaphone campaigns clone --json`): the campaign it was
 * cloned from, and the contacts copied (null when none were asked for).
 */
export const CampaignClone = Schema.Struct({
  ...campaignFields,
  cloned_from: Schema.String,
  contacts: Schema.NullOr(Campaigns.ClonedContacts)
}).annotate({ identifier: "CampaignClone" })

/** The campaign as JSON, with its contacts per state and the operations its state allows. */
export const campaign = (c: Ports.Storage.CampaignRecord, counts: Campaign.ContactCounts): typeof CampaignJson.Type => ({
  ...Campaigns.campaign(c, counts),
  allowed_operations: Campaign.allowedOperations[c.lifecycle.state]
})

/** One line of the event log. */
export const LoggedEvent = Schema.Struct({
  id: Schema.String,
  campaign: NullableString,
  kind: Schema.String,
  message: Schema.String,
  data: Schema.Record(Schema.String, Schema.Unknown),
  at: Schema.Date
}).annotate({ identifier: "Event" })

/** The logged event as JSON. */
export const loggedEvent = (e: Ports.Storage.LoggedEvent): typeof LoggedEvent.Type => ({
  id: e.id,
  campaign: e.campaignId,
  kind: e.kind,
  message: e.message,
  data: e.data,
  at: e.at
})

/** The id to pass as `after_id` for the next page, or null when this page was the last. */
export const NextAfterId = Schema.NullOr(Schema.String).annotate({
  description: "Pass as `after_id` to get the next page; null when there are no more rows."
})
