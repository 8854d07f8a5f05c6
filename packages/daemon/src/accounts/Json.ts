/**
 * Accounts and their synced templates as JSON (SPEC §7, a public contract): what `megaphone accounts … --json`
 * and `megaphone templates list --json` print and the admin API answers, one Schema per shape (so the OpenAPI
 * document knows them) and the function that builds it. The access token is never part of any of them.
 */
import { type Ports, Template } from "@megaphone/core"
import { Schema } from "effect"
import { Limit } from "../campaigns/Json.ts"
import { problemOf } from "../templates/TemplateSync.ts"

const NullableString = Schema.NullOr(Schema.String)
const NullableDate = Schema.NullOr(Schema.Date)

/** An account; the access token is never part of it, only the name of the variable that holds it. */
export const Account = Schema.Struct({
  name: Schema.String,
  phone_number_id: Schema.String,
  waba_id: Schema.String,
  portfolio_id: NullableString,
  token_env: Schema.String,
  graph_url: Schema.String,
  graph_version: Schema.String,
  /** Who carries the requests: `meta` (the Cloud API directly) or `360dialog` (docs/providers.md). */
  provider: Schema.Literals(["meta", "360dialog"]),
  display_phone_number: NullableString,
  messaging_limit: Limit,
  messaging_tier: NullableString,
  quality_rating: NullableString,
  throughput_mps: Schema.Number,
  /** The operator's cap (`accounts add --max-mps`); the daemon sends at the lower of the two. */
  max_mps: Schema.NullOr(Schema.Number),
  throughput_level: NullableString,
  name_status: NullableString,
  status: NullableString,
  created_at: Schema.Date,
  updated_at: Schema.Date
}).annotate({ identifier: "Account" })

/** The account as JSON (`megaphone accounts show --json`, `GET /api/accounts/{name}`). */
export const account = (a: Ports.Storage.Account): typeof Account.Type => ({
  name: a.name,
  phone_number_id: a.phoneNumberId,
  waba_id: a.wabaId,
  portfolio_id: a.portfolioId,
  token_env: a.tokenEnv,
  graph_url: a.graphUrl,
  graph_version: a.graphVersion,
  provider: a.provider ?? "meta",
  display_phone_number: a.displayPhoneNumber,
  messaging_limit: a.messagingLimit,
  messaging_tier: a.messagingTier,
  quality_rating: a.qualityRating,
  throughput_mps: a.throughputMps,
  max_mps: a.maxMps ?? null,
  throughput_level: a.throughputLevel,
  name_status: a.nameStatus,
  status: a.status,
  created_at: a.createdAt,
  updated_at: a.updatedAt
})

/** A synced template: what Meta said, its variables, and why it cannot be sent (when it cannot). */
export const TemplateRow = Schema.Struct({
  waba_id: Schema.String,
  accounts: Schema.Array(Schema.String),
  name: Schema.String,
  language: Schema.String,
  status: Schema.String,
  category: Schema.String,
  /** What the header is — `text`, `image`, `video`, `document` (or another format Meta has) — or null without one. */
  header: NullableString,
  variables: Schema.Array(Schema.String),
  usable: Schema.Boolean,
  explanation: NullableString,
  synced_at: Schema.Date,
  deleted_at: NullableDate
}).annotate({ identifier: "Template" })

/** A stored template as JSON (`megaphone templates list --json`, `GET /api/templates`); `accounts` name its WABA's. */
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
    header: Template.headerKind(template) ?? null,
    variables: Template.variables(template).map((v) => v.key),
    usable: problem === undefined,
    explanation: problem?.explanation ?? null,
    synced_at: stored.syncedAt,
    deleted_at: stored.deletedAt
  }
}
