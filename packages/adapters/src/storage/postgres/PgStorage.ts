/**
 * The PostgreSQL storage adapter, for an external server and for the embedded default alike. Each operation
 * lives in the module of its concept (`Claim`, `Progress`, `CampaignContacts`, `Directory`, `Catalog`, `Log`)
 * with its SQL next to it; this module wires them into the port and runs the migrations.
 */
import { Ports } from "@megaphone/core"
import { Effect, Layer } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import * as CampaignContacts from "./CampaignContacts.ts"
import * as Catalog from "./Catalog.ts"
import * as Claim from "./Claim.ts"
import * as Directory from "./Directory.ts"
import * as Log from "./Log.ts"
import schema from "./migrations/0001_schema.ts"
import filterFunctions from "./migrations/0002_filter_functions.ts"
import directoryLinks from "./migrations/0003_directory_links.ts"
import accountMaxMps from "./migrations/0004_account_max_mps.ts"
import campaignSchedule from "./migrations/0005_campaign_schedule.ts"
import sendWindow from "./migrations/0006_send_window.ts"
import campaignRateCap from "./migrations/0007_campaign_rate_cap.ts"
import accountProvider from "./migrations/0008_account_provider.ts"
import * as Progress from "./Progress.ts"
import { operation } from "./Rows.ts"

type StorageShape = Ports.Storage.StorageShape

/** The migrations, by `<id>_<name>`; the migrator records them in `megaphone_migrations`. */
export const migrations = {
  "0001_schema": schema,
  "0002_filter_functions": filterFunctions,
  "0003_directory_links": directoryLinks,
  "0004_account_max_mps": accountMaxMps,
  "0005_campaign_schedule": campaignSchedule,
  "0006_send_window": sendWindow,
  "0007_campaign_rate_cap": campaignRateCap,
  "0008_account_provider": accountProvider
}

// Any constant works: it only has to be the same for every Megaphone daemon sharing a database.
const MIGRATION_LOCK = 0x6d656761

/**
 * Bring the schema up to date (daemon start, `megaphone migrate`). Several daemons may start at once: the run
 * holds a transaction-scoped advisory lock, since even creating the migrations table can race. Returns the
 * migrations it applied.
 */
export const migrate: Effect.Effect<ReadonlyArray<readonly [id: number, name: string]>, Ports.Storage.StorageError, SqlClient.SqlClient> =
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(Effect.gen(function*() {
      yield* sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`
      return yield* Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: "megaphone_migrations" })
    }))
  }).pipe(
    Effect.catchTag("MigrationError", (error) =>
      Effect.fail(new Ports.Storage.StorageError({ operation: "migrate", message: `migrate: ${error.message}` }))),
    (effect) => operation("migrate", effect)
  )

/** The adapter over whatever SqlClient is provided (a pool on an external server, or the embedded one). */
export const make: Effect.Effect<StorageShape, never, SqlClient.SqlClient> = Effect.gen(function*() {
  // Raw column names whatever name transforms the client was configured with: the row readers expect them.
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  return {
    saveAccount: (account) => operation("saveAccount", Catalog.saveAccount(sql, account)),
    getAccount: (name) => operation("getAccount", Catalog.getAccount(sql, name)),
    listAccounts: () => operation("listAccounts", Catalog.listAccounts(sql)),

    syncTemplates: (wabaId, templates, now) => operation("syncTemplates", Catalog.syncTemplates(sql, wabaId, templates, now)),
    listTemplates: (wabaId) => operation("listTemplates", Catalog.listTemplates(sql, wabaId)),
    updateTemplateStatus: (wabaId, name, language, status, rejectedReason, now) =>
      operation("updateTemplateStatus", Catalog.updateTemplateStatus(sql, wabaId, name, language, status, rejectedReason, now)),

    importDirectory: (contacts, onDuplicate, now) =>
      operation("importDirectory", Directory.importDirectory(sql, contacts, onDuplicate, now)),
    listDirectory: (filter, page, search) => operation("listDirectory", Directory.listDirectory(sql, filter, page, search)),
    countDirectory: (filter, search) => operation("countDirectory", Directory.countDirectory(sql, filter, search)),
    getDirectoryContact: (key) => operation("getDirectoryContact", Directory.getDirectoryContact(sql, key)),
    deleteDirectoryContacts: (keys) => operation("deleteDirectoryContacts", Directory.deleteDirectoryContacts(sql, keys)),
    deleteDirectoryMatching: (filter) => operation("deleteDirectoryMatching", Directory.deleteDirectoryMatching(sql, filter)),
    directoryColumns: () => operation("directoryColumns", Directory.directoryColumns(sql)),

    createFilter: (name, filter, now) => operation("createFilter", Catalog.createFilter(sql, name, filter, now)),
    getFilter: (name) => operation("getFilter", Catalog.getFilter(sql, name)),
    listFilters: () => operation("listFilters", Catalog.listFilters(sql)),
    deleteFilter: (name) => operation("deleteFilter", Catalog.deleteFilter(sql, name)),

    createCampaign: (campaign, now) => operation("createCampaign", Catalog.createCampaign(sql, campaign, now)),
    getCampaign: (id) => operation("getCampaign", Catalog.getCampaign(sql, id)),
    listCampaigns: () => operation("listCampaigns", Catalog.listCampaigns(sql)),
    setCampaignMaxMps: (id, maxMps) => operation("setCampaignMaxMps", Catalog.setCampaignMaxMps(sql, id, maxMps)),
    setSendWindow: (id, window) => operation("setSendWindow", Catalog.setSendWindow(sql, id, window)),
    updateCampaignLifecycle: (id, expected, next) =>
      operation("updateCampaignLifecycle", Catalog.updateCampaignLifecycle(sql, id, expected, next)),
    campaignCounts: (id) => operation("campaignCounts", CampaignContacts.campaignCounts(sql, id)),
    hasPendingContacts: (id) => operation("hasPendingContacts", CampaignContacts.hasPendingContacts(sql, id)),
    failureSummary: (ids) => operation("failureSummary", CampaignContacts.failureSummary(sql, ids)),
    soonestRetries: (ids, limit) => operation("soonestRetries", CampaignContacts.soonestRetries(sql, ids, limit)),

    addCampaignContacts: (campaignId, contacts, now) =>
      operation("addCampaignContacts", CampaignContacts.addCampaignContacts(sql, campaignId, contacts, now)),
    listCampaignContacts: (campaignId, state, page) =>
      operation("listCampaignContacts", CampaignContacts.listCampaignContacts(sql, campaignId, state, page)),
    getCampaignContact: (id) => operation("getCampaignContact", CampaignContacts.getCampaignContact(sql, id)),

    claim: (request) => operation("claim", Claim.claim(sql, request)),
    recordOutcomes: (outcomes, now) => operation("recordOutcomes", Progress.recordOutcomes(sql, outcomes, now)),
    applyStatuses: (reports, now) => operation("applyStatuses", Progress.applyStatuses(sql, reports, now)),
    reclaimExpiredLeases: (now, policy) => operation("reclaimExpiredLeases", Progress.reclaimExpiredLeases(sql, now, policy)),
    cancelPending: (campaignId, now) => operation("cancelPending", Progress.cancelPending(sql, campaignId, now)),
    throttleNumber: (phoneNumberId, now) => operation("throttleNumber", Claim.throttleNumber(sql, phoneNumberId, now)),
    quotaUsage: (account, now) => operation("quotaUsage", Claim.quotaUsage(sql, account, now)),

    suppress: (entries, now) => operation("suppress", Log.suppress(sql, entries, now)),
    unsuppress: (recipient) => operation("unsuppress", Log.unsuppress(sql, recipient)),
    listSuppressions: () => operation("listSuppressions", Log.listSuppressions(sql)),

    appendEvents: (events) => operation("appendEvents", Log.appendEvents(sql, events)),
    listEvents: (campaignId, page) => operation("listEvents", Log.listEvents(sql, campaignId, page)),

    // Retry failed contacts (issue 11, item 3)
    retryContacts: (campaignId, selection, now) => operation("retryContacts", Progress.retryContacts(sql, campaignId, selection, now))
  }
})

/** The Storage service backed by PostgreSQL; the schema must be migrated (see {@link migrate}). */
export const layer: Layer.Layer<Ports.Storage.Storage, never, SqlClient.SqlClient> = Layer.effect(Ports.Storage.Storage, make)
