/**
 * The JSON the admin API answers with: one Schema per shape (so the OpenAPI document and a derived client know
 * them) and the function that builds it from the storage records. Field names are snake_case like the CLI's
 * `--json` output (SPEC §7); the campaign shapes are the CLI's own (campaigns/Json.ts), a campaign plus the
 * operations its state allows.
 */
import { Campaign, Filter, type Ports, Template } from "@megaphone/core"
import { Schema } from "effect"
import * as Campaigns from "../campaigns/Json.ts"
import { problemOf } from "../templates/TemplateSync.ts"

export {
  AddContactsReport,
  addContactsReport,
  BlankCsv,
  blankCsv,
  CampaignContact,
  campaignContact,
  Counts,
  PauseReason,
  Quota,
  quota,
  RejectedRow
} from "../campaigns/Json.ts"

const NullableString = Schema.NullOr(Schema.String)
const NullableDate = Schema.NullOr(Schema.Date)
const { Limit } = Campaigns

// ---------------------------------------------------------------------------------------------------------
// Accounts

/** An account; the access token is never part of it, only the name of the variable that holds it. */
export const Account = Schema.Struct({
  name: Schema.String,
  phone_number_id: Schema.String,
  waba_id: Schema.String,
  portfolio_id: NullableString,
  token_env: Schema.String,
  graph_url: Schema.String,
  graph_version: Schema.String,
  display_phone_number: NullableString,
  messaging_limit: Limit,
  messaging_tier: NullableString,
  quality_rating: NullableString,
  throughput_mps: Schema.Number,
  throughput_level: NullableString,
  name_status: NullableString,
  status: NullableString,
  created_at: Schema.Date,
  updated_at: Schema.Date
}).annotate({ identifier: "Account" })

/** The account as JSON (the same fields as `megaphone accounts show --json`). */
export const account = (a: Ports.Storage.Account): typeof Account.Type => ({
  name: a.name,
  phone_number_id: a.phoneNumberId,
  waba_id: a.wabaId,
  portfolio_id: a.portfolioId,
  token_env: a.tokenEnv,
  graph_url: a.graphUrl,
  graph_version: a.graphVersion,
  display_phone_number: a.displayPhoneNumber,
  messaging_limit: a.messagingLimit,
  messaging_tier: a.messagingTier,
  quality_rating: a.qualityRating,
  throughput_mps: a.throughputMps,
  throughput_level: a.throughputLevel,
  name_status: a.nameStatus,
  status: a.status,
  created_at: a.createdAt,
  updated_at: a.updatedAt
})

/** One account's quota, for the list of every account's. */
export const AccountQuota = Schema.Struct({ account: Schema.String, ...Campaigns.Quota.fields }).annotate({ identifier: "AccountQuota" })

// ---------------------------------------------------------------------------------------------------------
// Templates

/** A synced template: what Meta said, its variables, and why it cannot be sent (when it cannot). */
export const TemplateRow = Schema.Struct({
  waba_id: Schema.String,
  accounts: Schema.Array(Schema.String),
  name: Schema.String,
  language: Schema.String,
  status: Schema.String,
  category: Schema.String,
  variables: Schema.Array(Schema.String),
  usable: Schema.Boolean,
  explanation: NullableString,
  synced_at: Schema.Date,
  deleted_at: NullableDate
}).annotate({ identifier: "Template" })

/** A stored template as JSON (the same fields as `megaphone templates list --json`). */
export const templateRow = (stored: Ports.Storage.StoredTemplate, accounts: ReadonlyArray<Ports.Storage.Account>): typeof TemplateRow.Type => {
  // A template Meta no longer lists is gone, whatever status it had when it was last listed.
  const template = stored.deletedAt === null ? stored.template : { ...stored.template, status: "DELETED" }
  const problem = problemOf(template)
  return {
    waba_id: stored.wabaId,
    accounts: accounts.filter((a) => a.wabaId === stored.wabaId).map((a) => a.name),
    name: template.name,
    language: template.language,
    status: template.status,
    category: template.category,
    variables: Template.variables(template).map((v) => v.key),
    usable: problem === undefined,
    explanation: problem?.explanation ?? null,
    synced_at: stored.syncedAt,
    deleted_at: stored.deletedAt
  }
}

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
