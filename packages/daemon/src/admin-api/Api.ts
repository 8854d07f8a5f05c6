/**
 * The admin API as data (Effect HttpApi "MegaphoneAdmin"): every endpoint with its path, inputs, JSON answer and
 * errors. The server (`AdminApi.layer`), the OpenAPI document at `/openapi.json` and clients
 * (`HttpApiClient.make(Api)`, as the CLI and the dashboard use it) all come from this one description.
 *
 * This module does no I/O, so a client can import it without the server's dependencies.
 */
import { ContactState } from "@megaphone/core"
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity, OpenApi } from "effect/http-api"
import { BadRequest, Conflict, InvalidFilter, NotFound, NotReady, Unauthorized, Unavailable } from "./Errors.ts"
import * as Json from "./Json.ts"

/** The media type of `/metrics` (Prometheus text exposition format 0.0.4). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** Rows per page when `limit` is not given, and the most a page may hold. */
export const PAGE = { default: 100, max: 1000 } as const

// ---------------------------------------------------------------------------------------------------------
// Middleware (implemented in AdminApi.ts)

/**
 * Every route but `/healthz` and `/readyz` needs `Authorization: Bearer <MEGAPHONE_ADMIN_TOKEN>`: 401 without it
 * or with another token, 503 when the daemon has no token configured (the API is never open by default).
 */
export class Authorization extends HttpApiMiddleware.Service<Authorization>()("megaphone/AdminApi/Authorization", {
  error: [Unauthorized, Unavailable],
  security: {
    bearer: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "The token in the daemon's MEGAPHONE_ADMIN_TOKEN environment variable.")
    )
  }
}) {}

/**
 * Errors every protected endpoint may answer: 400 when the request does not decode (which field, what was
 * expected), 503 when the database fails.
 */
export class CommonErrors extends HttpApiMiddleware.Service<CommonErrors>()("megaphone/AdminApi/CommonErrors", {
  error: [BadRequest, Unavailable]
}) {}

// ---------------------------------------------------------------------------------------------------------
// Inputs

const Int = Schema.Int
const paging = {
  after_id: Schema.optional(Schema.String.annotate({ description: "Only rows with a greater id (the previous page's next_after_id)." })),
  limit: Schema.optional(Int.check(Schema.isBetween({ minimum: 1, maximum: PAGE.max })).annotate({
    description: `Rows per page, 1–${PAGE.max} (default ${PAGE.default}).`
  }))
}
const nameParam = { name: Schema.String }
const idParam = { id: Schema.String }
const Where = Schema.String.annotate({ description: "A filter expression, e.g. `city = \"Praha\" and age >= 18` (see docs/filters.md)." })

/** The body of `POST /api/filters`. */
export const NewFilter = Schema.Struct({
  name: Schema.String.annotate({ description: "A name to refer to the filter by." }),
  where: Where
})

/** The body of `POST /api/filters/test`: try an expression before saving it. */
export const FilterProbe = Schema.Struct({
  where: Where,
  sample: Schema.optional(Int.check(Schema.isBetween({ minimum: 0, maximum: 100 })))
})

/** The body of `POST /api/campaigns` (as `megaphone campaigns create`). */
export const NewCampaign = Schema.Struct({
  name: Schema.String,
  account: Schema.String.annotate({ description: "The account (phone number) to send from." }),
  template: Schema.String.annotate({ description: "A synced template of the account's WABA." }),
  language: Schema.optional(Schema.String.annotate({ description: "Required when the template exists in several languages." })),
  note: Schema.optional(Schema.String),
  max_mps: Schema.optional(Schema.Number.annotate({
    description: "The campaign's own messages/second cap, above 0 and at most 1,000 (as `campaigns rate`); absent: the number's rate."
  }))
})

/** The body of `POST /api/campaigns/:id/rate` (as `megaphone campaigns rate`). */
export const CampaignRate = Schema.Struct({
  max_mps: Schema.NullOr(Schema.Number).annotate({
    description: "Messages per second above 0 and at most 1,000 (0.5: one every 2 s); null removes the cap."
  })
})

/** The body of `POST /api/campaigns/:id/contacts/directory` (as `campaigns add-contacts --filter|--where`). */
export const DirectoryContacts = Schema.Struct({
  filter: Schema.optional(Schema.String.annotate({ description: "A saved filter's name (give this or `where`)." })),
  where: Schema.optional(Where),
  phone_column: Schema.String.annotate({ description: "The directory column holding the phone number (usually `phone`)." }),
  vars: Schema.optional(Schema.Record(Schema.String, Schema.String).annotate({
    description: "VARIABLE → directory column that fills it, e.g. { \"1\": \"first_name\" }."
  })),
  defaults: Schema.optional(Schema.Record(Schema.String, Schema.String).annotate({
    description: "VARIABLE → value used when the contact's value is empty."
  }))
})

/** The body of `POST /api/campaigns/:id/window` (as `megaphone campaigns window`). */
export const CampaignWindow = Schema.Struct({
  window: Schema.NullOr(Schema.String).annotate({
    description: "The days and hours the campaign sends on each recipient's clock, e.g. \"Mon-Fri 09:00-20:00\" or " +
      "\"Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00\"; null removes the window (any hour)."
  })
})

/** The body of `POST /api/campaigns/:id/schedule` (as `megaphone campaigns schedule --at`). */
export const ScheduleStart = Schema.Struct({
  at: Schema.String.annotate({
    description: "When the draft starts: ISO 8601 with an offset (2026-12-01T09:00+01:00, …Z) or a zone " +
      "(2026-12-01T09:00[Europe/Prague]); without either, in the daemon's MEGAPHONE_TIME_ZONE (default its machine's zone)."
  })
})

/** The body of `POST /api/campaigns/:id/retry` (as `megaphone campaigns retry`). */
export const RetryFailed = Schema.Struct({
  states: Schema.Array(Schema.String).annotate({
    description: "The failed states to put back to initial: `error`, `sending_failed` or both (any other is a 400)."
  }),
  codes: Schema.optional(Schema.Array(Schema.String).annotate({
    description: "Only contacts whose last error has one of these codes (e.g. `131026`); default any code."
  }))
})

/** The body of `POST /api/campaigns/:id/clone` (as `megaphone campaigns clone`). */
export const CloneCampaign = Schema.Struct({
  name: Schema.String.annotate({ description: "The new campaign's name." }),
  contacts_from: Schema.optional(Schema.Struct({
    campaign_id: Schema.String.annotate({ description: "The campaign whose contacts to copy (usually the one cloned)." }),
    states: Schema.Array(Schema.String).annotate({
      description: `The states of the contacts to copy, some of: ${ContactState.states.join(", ")} (any other is a 400).`
    })
  }).annotate({ description: "Copy these contacts, with their parameters; without it only the settings are copied." }))
})

/** A CSV upload: UTF-8 bytes, `phone` then one column per variable in the template's order (see template-csv). */
const CsvBody = Schema.Uint8Array.pipe(HttpApiSchema.asUint8Array({ contentType: "text/csv" })).annotate({
  description: "UTF-8 CSV: a header row, then `phone` and one cell per template variable in order (`;`, `,` or tab between cells)."
})

// ---------------------------------------------------------------------------------------------------------
// Groups

/** `/healthz` and `/readyz`: no token needed, for load balancers and systemd. */
export const Health = HttpApiGroup.make("health").add(
  HttpApiEndpoint.get("healthz", "/healthz", {
    success: Schema.String.pipe(HttpApiSchema.asText()).annotate({ description: "`ok`: the process answers." })
  }).annotate(OpenApi.Summary, "Liveness: the process answers."),
  HttpApiEndpoint.get("readyz", "/readyz", {
    success: Schema.String.pipe(HttpApiSchema.asText()).annotate({ description: "`ready`: the database answered `select 1`." }),
    error: NotReady
  }).annotate(OpenApi.Summary, "Readiness: the database answers `select 1` within 2 s.")
).annotate(OpenApi.Description, "Health checks (no token).")

/** `/openapi.json` and `/metrics`. */
export const System = HttpApiGroup.make("system").add(
  HttpApiEndpoint.get("openapi", "/openapi.json", {
    success: Schema.Unknown.annotate({ description: "This API's OpenAPI 3.1 document." })
  }).annotate(OpenApi.Summary, "The OpenAPI document of this API."),
  HttpApiEndpoint.get("metrics", "/metrics", {
    success: Schema.String.pipe(HttpApiSchema.asText({ contentType: METRICS_CONTENT_TYPE })).annotate({
      description: "Prometheus text exposition format 0.0.4."
    })
  }).annotate(OpenApi.Summary, "Prometheus metrics: sends, retries, webhook lag, contacts by state, quota use.")
).annotate(OpenApi.Description, "The API description and Prometheus metrics.")

/** Accounts and their rolling-24 h quota. */
export const Accounts = HttpApiGroup.make("accounts").add(
  HttpApiEndpoint.get("list", "/api/accounts", {
    success: Schema.Struct({ accounts: Schema.Array(Json.Account) })
  }).annotate(OpenApi.Summary, "Every account (tokens are never shown, only the variable that holds one)."),
  HttpApiEndpoint.get("show", "/api/accounts/:name", {
    params: nameParam,
    success: Json.Account,
    error: NotFound
  }).annotate(OpenApi.Summary, "One account."),
  HttpApiEndpoint.get("quota", "/api/accounts/:name/quota", {
    params: nameParam,
    success: Json.Quota,
    error: NotFound
  }).annotate(OpenApi.Summary, "The account's rolling-24 h unique-recipient use: used, limit, remaining, next_free_at."),
  HttpApiEndpoint.get("quotas", "/api/quota", {
    success: Schema.Struct({ quotas: Schema.Array(Json.AccountQuota) })
  }).annotate(OpenApi.Summary, "Every account's rolling-24 h quota use.")
).annotate(OpenApi.Description, "WhatsApp accounts (business phone numbers) and their messaging limits.")

/** Synced templates. */
export const Templates = HttpApiGroup.make("templates").add(
  HttpApiEndpoint.get("list", "/api/templates", {
    query: { account: Schema.optional(Schema.String.annotate({ description: "Only this account's WABA." })) },
    success: Schema.Struct({ templates: Schema.Array(Json.TemplateRow) })
  }).annotate(OpenApi.Summary, "Synced templates with their variables and why one cannot be sent.")
).annotate(OpenApi.Description, "Message templates as last synced from Meta.")

/** How a directory request selects contacts: a saved filter or an expression, and a search text. */
const directorySelection = {
  filter: Schema.optional(Schema.String.annotate({ description: "A saved filter's name." })),
  where: Schema.optional(Where),
  search: Schema.optional(Schema.String.annotate({
    description: "Only contacts whose phone number or any column value contains this text (case-insensitive, as `contains`)."
  }))
}

const contactKeyParam = {
  id: Schema.String.annotate({ description: "The contact's id (digits), or its phone number (e.g. `+420601123456`, URL-encoded)." })
}

/** The body of `POST /api/directory/contacts/delete`: the contacts to delete, by key or through a filter. */
export const DirectoryDeletion = Schema.Struct({
  contacts: Schema.optional(Schema.Array(Schema.String).check(Schema.isMaxLength(10_000)).annotate({
    description: "Ids or phone numbers (at most 10,000); ones that name no contact are ignored. Give this, `filter` or `where`."
  })),
  filter: Schema.optional(Schema.String.annotate({ description: "Delete every contact matching this saved filter." })),
  where: Schema.optional(Where)
})

/** The contact directory. */
export const Directory = HttpApiGroup.make("directory").add(
  HttpApiEndpoint.get("list", "/api/directory/contacts", {
    query: { ...directorySelection, ...paging },
    success: Schema.Struct({ contacts: Schema.Array(Json.DirectoryContact), next_after_id: Json.NextAfterId }),
    error: InvalidFilter
  }).annotate(OpenApi.Summary, "Directory contacts, all or matching a filter and a search text, a page at a time."),
  HttpApiEndpoint.get("count", "/api/directory/count", {
    query: directorySelection,
    success: Json.DirectoryCount,
    error: InvalidFilter
  }).annotate(OpenApi.Summary, "How many directory contacts match a filter and a search text (all without either)."),
  HttpApiEndpoint.get("show", "/api/directory/contacts/:id", {
    params: contactKeyParam,
    success: Json.DirectoryContact,
    error: NotFound
  }).annotate(OpenApi.Summary, "One directory contact, by id or phone number."),
  HttpApiEndpoint.delete("delete", "/api/directory/contacts/:id", {
    params: contactKeyParam,
    success: Json.DirectoryDeleted,
    error: NotFound
  }).annotate(OpenApi.Summary, "Delete one directory contact; campaign contacts added from it stay, parameters and all."),
  HttpApiEndpoint.post("deleteMany", "/api/directory/contacts/delete", {
    payload: DirectoryDeletion,
    success: Json.DirectoryDeleted,
    error: InvalidFilter
  }).annotate(OpenApi.Summary, "Delete directory contacts by id or phone, or every one matching a filter; answers how many."),
  HttpApiEndpoint.get("columns", "/api/directory/columns", {
    success: Schema.Struct({ columns: Schema.Array(Schema.String) })
  }).annotate(OpenApi.Summary, "The column names used in the directory (filters and mappings may use these and `phone`).")
).annotate(OpenApi.Description, "The contact directory that filters select from.")

/** Saved filters. */
export const Filters = HttpApiGroup.make("filters").add(
  HttpApiEndpoint.get("list", "/api/filters", {
    success: Schema.Struct({ filters: Schema.Array(Json.SavedFilter) })
  }).annotate(OpenApi.Summary, "Every saved filter."),
  HttpApiEndpoint.get("show", "/api/filters/:name", {
    params: nameParam,
    success: Json.SavedFilter,
    error: NotFound
  }).annotate(OpenApi.Summary, "One saved filter."),
  HttpApiEndpoint.post("create", "/api/filters", {
    payload: NewFilter,
    success: Json.SavedFilter.pipe(HttpApiSchema.status(201)),
    error: [InvalidFilter, Conflict]
  }).annotate(OpenApi.Summary, "Save a filter (its text is checked, and its columns against the directory's)."),
  HttpApiEndpoint.delete("delete", "/api/filters/:name", {
    params: nameParam,
    error: NotFound
  }).annotate(OpenApi.Summary, "Delete a saved filter."),
  HttpApiEndpoint.get("test", "/api/filters/:name/test", {
    params: nameParam,
    query: { sample: Schema.optional(Int.check(Schema.isBetween({ minimum: 0, maximum: 100 }))) },
    success: Json.FilterTest,
    error: NotFound
  }).annotate(OpenApi.Summary, "How many directory contacts a saved filter matches, and a sample (default 10)."),
  HttpApiEndpoint.post("probe", "/api/filters/test", {
    payload: FilterProbe,
    success: Json.FilterTest,
    error: InvalidFilter
  }).annotate(OpenApi.Summary, "Try a filter expression without saving it: count and sample.")
).annotate(OpenApi.Description, "Saved filters over the directory.")

const campaignId = { params: idParam }

/** Campaigns, their lifecycle, contacts and events. */
export const Campaigns = HttpApiGroup.make("campaigns").add(
  HttpApiEndpoint.get("list", "/api/campaigns", {
    success: Schema.Struct({ campaigns: Schema.Array(Json.CampaignJson) })
  }).annotate(OpenApi.Summary, "Every campaign with its contacts per state."),
  HttpApiEndpoint.get("show", "/api/campaigns/:id", {
    ...campaignId,
    success: Json.CampaignDetail,
    error: NotFound
  }).annotate(OpenApi.Summary, "One campaign: state (and why paused), contacts per state, the account's quota use."),
  HttpApiEndpoint.post("create", "/api/campaigns", {
    payload: NewCampaign,
    success: Json.CampaignJson.pipe(HttpApiSchema.status(201)),
    error: [BadRequest]
  }).annotate(OpenApi.Summary, "Create a draft campaign sending a synced template from an account."),
  HttpApiEndpoint.post("start", "/api/campaigns/:id/start", { ...campaignId, success: Json.CampaignChange, error: [NotFound, Conflict] })
    .annotate(OpenApi.Summary, "Start a draft campaign."),
  HttpApiEndpoint.post("pause", "/api/campaigns/:id/pause", { ...campaignId, success: Json.CampaignChange, error: [NotFound, Conflict] })
    .annotate(OpenApi.Summary, "Pause a running campaign."),
  HttpApiEndpoint.post("resume", "/api/campaigns/:id/resume", { ...campaignId, success: Json.CampaignChange, error: [NotFound, Conflict] })
    .annotate(OpenApi.Summary, "Resume a paused campaign."),
  HttpApiEndpoint.post("stop", "/api/campaigns/:id/stop", { ...campaignId, success: Json.CampaignChange, error: [NotFound, Conflict] })
    .annotate(OpenApi.Summary, "End a campaign for good; its contacts not yet sent are cancelled."),
  HttpApiEndpoint.post("retry", "/api/campaigns/:id/retry", {
    ...campaignId,
    payload: RetryFailed,
    success: Json.CampaignRetry,
    error: [NotFound, Conflict]
  }).annotate(OpenApi.Summary, "Put failed contacts (error, sending_failed; optionally by error code) back to initial with a new attempt budget."),
  HttpApiEndpoint.post("clone", "/api/campaigns/:id/clone", {
    ...campaignId,
    payload: CloneCampaign,
    success: Json.CampaignClone.pipe(HttpApiSchema.status(201)),
    error: [NotFound, Conflict]
  }).annotate(
    OpenApi.Summary,
    "A follow-up draft with the campaign's account, template, language and note; optionally another campaign's contacts in chosen states."
  ),
  HttpApiEndpoint.post("schedule", "/api/campaigns/:id/schedule", {
    ...campaignId,
    payload: ScheduleStart,
    success: Json.CampaignJson,
    error: [NotFound, Conflict, BadRequest]
  }).annotate(OpenApi.Summary, "Schedule a draft to start by itself at a time (a later call replaces it); a time already past is a 409."),
  HttpApiEndpoint.post("unschedule", "/api/campaigns/:id/unschedule", { ...campaignId, success: Json.CampaignJson, error: [NotFound, Conflict] })
    .annotate(OpenApi.Summary, "Take a draft's scheduled start away: it waits for start again."),
  HttpApiEndpoint.post("rate", "/api/campaigns/:id/rate", {
    ...campaignId,
    payload: CampaignRate,
    success: Json.CampaignJson,
    error: [NotFound, Conflict, BadRequest]
  }).annotate(OpenApi.Summary, "Cap the campaign's messages/second below the number's (others on the number use the rest), or remove the cap."),
  HttpApiEndpoint.post("window", "/api/campaigns/:id/window", {
    ...campaignId,
    payload: CampaignWindow,
    success: Json.CampaignJson,
    error: [NotFound, Conflict, BadRequest]
  }).annotate(
    OpenApi.Summary,
    "Send only on these days and hours of each recipient's clock (others wait, using no attempt), or at any hour (null)."
  ),
  HttpApiEndpoint.get("templateCsv", "/api/campaigns/:id/template-csv", { ...campaignId, success: Json.BlankCsv, error: [NotFound, Conflict] })
    .annotate(OpenApi.Summary, "The blank CSV of the campaign's template: the header to fill and what each column means."),
  HttpApiEndpoint.post("addFromDirectory", "/api/campaigns/:id/contacts/directory", {
    ...campaignId,
    payload: DirectoryContacts,
    success: Json.AddContactsReport,
    error: [NotFound, Conflict, InvalidFilter]
  }).annotate(OpenApi.Summary, "Add directory contacts through a saved filter or an expression, mapping columns to variables."),
  HttpApiEndpoint.post("addFromCsv", "/api/campaigns/:id/contacts/csv", {
    ...campaignId,
    query: {
      default: Schema.optional(Schema.Array(Schema.String).annotate({
        description: "VARIABLE=VALUE, repeatable: used when a row's value is empty."
      }))
    },
    payload: CsvBody,
    success: Json.AddContactsReport,
    error: [NotFound, Conflict]
  }).annotate(OpenApi.Summary, "Add contacts from an uploaded CSV (Content-Type: text/csv)."),
  HttpApiEndpoint.get("contacts", "/api/campaigns/:id/contacts", {
    ...campaignId,
    query: { state: Schema.optional(Schema.Literals(ContactState.states)), ...paging },
    success: Schema.Struct({ campaign: Schema.String, contacts: Schema.Array(Json.CampaignContact), next_after_id: Json.NextAfterId }),
    error: NotFound
  }).annotate(OpenApi.Summary, "The campaign's contacts, optionally in one state, a page at a time."),
  HttpApiEndpoint.get("failures", "/api/failures", {
    query: {
      campaign: Schema.optional(Schema.Array(Schema.String).annotate({ description: "Only these campaigns (repeatable); default every one." })),
      retries: Schema.optional(Int.check(Schema.isBetween({ minimum: 0, maximum: 100 })).annotate({
        description: "How many of the retries due soonest to list (default 5)."
      }))
    },
    success: Json.Failures
  }).annotate(OpenApi.Summary, "What is failing: contacts in error, sending_failed or retry_scheduled by their last error's code, and the retries due soonest."),
  HttpApiEndpoint.get("events", "/api/campaigns/:id/events", {
    ...campaignId,
    query: paging,
    success: Schema.Struct({ events: Schema.Array(Json.LoggedEvent), next_after_id: Json.NextAfterId }),
    error: NotFound
  }).annotate(OpenApi.Summary, "The campaign's event log (operations, pauses, finishes), a page at a time.")
).annotate(OpenApi.Description, "Template-message campaigns.")

/** The whole event log. */
export const Events = HttpApiGroup.make("events").add(
  HttpApiEndpoint.get("list", "/api/events", {
    query: paging,
    success: Schema.Struct({ events: Schema.Array(Json.LoggedEvent), next_after_id: Json.NextAfterId })
  }).annotate(OpenApi.Summary, "Every campaign's events, oldest first, a page at a time.")
).annotate(OpenApi.Description, "The event log.")

/** The Megaphone admin API: health, system, accounts, templates, directory, filters, campaigns, events. */
export const Api = HttpApi.make("MegaphoneAdmin")
  .add(Health)
  .add(
    System.middleware(CommonErrors).middleware(Authorization),
    Accounts.middleware(CommonErrors).middleware(Authorization),
    Templates.middleware(CommonErrors).middleware(Authorization),
    Directory.middleware(CommonErrors).middleware(Authorization),
    Filters.middleware(CommonErrors).middleware(Authorization),
    Campaigns.middleware(CommonErrors).middleware(Authorization),
    Events.middleware(CommonErrors).middleware(Authorization)
  )
  .annotateMerge(OpenApi.annotations({
    title: "Megaphone admin API",
    version: "1",
    description: "Operate a Megaphone daemon: accounts, templates, directory, filters, campaigns. Every route except " +
      "/healthz and /readyz needs `Authorization: Bearer <MEGAPHONE_ADMIN_TOKEN>`."
  }))
