/**
 * The storage port: everything Megaphone keeps, and the operations that must be atomic when several daemons
 * share one database. Implemented by the in-memory adapter and the PostgreSQL adapter (server or embedded);
 * one conformance suite holds them to the same behaviour.
 *
 * Adapters persist what the core computes: contact progress comes from `ContactState.transition`, quota
 * decisions from `Quota.planSendsBucketed`. Only the atomicity is theirs.
 */
import { Context, type Effect, type Option, Schema } from "effect"
import type * as Campaign from "../Campaign.ts"
import type * as ContactState from "../ContactState.ts"
import * as Filter from "../Filter.ts"
import type * as Quota from "../Quota.ts"
import type * as RetryPolicy from "../RetryPolicy.ts"
import type * as SendWindow from "../SendWindow.ts"
import type * as Template from "../Template.ts"
import type * as Transport from "./Transport.ts"

// ---------------------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------------------

/** A WhatsApp account: one business phone number in a WABA, with what Meta last reported about it. */
export interface Account {
  /** The operator's handle for the account (`megaphone accounts add NAME`). */
  readonly name: string
  readonly phoneNumberId: string
  readonly wabaId: string
  /** The business portfolio; since Oct 2025 the messaging limit is shared by all its numbers. */
  readonly portfolioId: string | null
  /** Name of the environment variable holding the access token — never the token itself. */
  readonly tokenEnv: string
  readonly graphUrl: string
  readonly graphVersion: string
  readonly displayPhoneNumber: string | null
  /** Unique recipients per rolling 24 h (from the tier). */
  readonly messagingLimit: Quota.MessagingLimit
  readonly messagingTier: string | null
  readonly qualityRating: string | null
  /** Messages per second of the number as Meta sets it (80 by default, 1,000 when HIGH). */
  readonly throughputMps: number
  /** The operator's cap on the number's messages per second, when lower than Meta's (absent: Meta's rate). */
  readonly maxMps?: number
  /** Who carries the account's requests (absent: Meta direct); `tokenEnv` then names the provider's key. */
  readonly provider?: Transport.Provider
  readonly throughputLevel: string | null
  readonly nameStatus: string | null
  readonly status: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** The messages per second an account may send: Meta's rate, or the operator's cap when that is lower. */
export const sendRate = (account: Pick<Account, "throughputMps" | "maxMps">): number =>
  account.maxMps === undefined ? account.throughputMps : Math.min(account.throughputMps, account.maxMps)

/** The key whose rolling-24 h window an account's sends count against: its portfolio, or else the number. */
export const quotaKey = (account: Pick<Account, "portfolioId" | "phoneNumberId">): string =>
  account.portfolioId !== null ? `portfolio:${account.portfolioId}` : `phone:${account.phoneNumberId}`

/**
 * Whether a directory contact matches a search text: its phone number or any of its column values contains the
 * text as the filter operator `contains` reads it (trimmed, case-insensitive in Czech rules). Every adapter's
 * search selects exactly these contacts.
 */
export const matchesSearch = (contact: Pick<DirectoryContact, "phone" | "columns">, search: string): boolean => {
  const needle = Filter.contains("value", search)
  return [contact.phone, ...Object.values(contact.columns)].some((value) => Filter.evaluate(needle, { value }))
}

/** A template as last synced from a WABA; `deletedAt` is set once Meta no longer lists it. */
export interface StoredTemplate {
  readonly wabaId: string
  readonly template: Template.Template
  readonly syncedAt: Date
  readonly deletedAt: Date | null
}

/** What a template sync changed. */
export interface TemplateSyncResult {
  readonly added: number
  readonly updated: number
  readonly deleted: number
}

/** A contact of the directory: a phone number plus named columns (name, email, anything an import brings). */
export interface DirectoryContact {
  readonly id: string
  /** E.164, as normalised on import. */
  readonly phone: string
  readonly columns: Readonly<Record<string, string>>
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** One directory contact named by its id or by its phone number (E.164, exactly as stored). */
export type DirectoryKey = { readonly id: string } | { readonly phone: string }

/** A directory contact to import; the phone number is its key. */
export interface NewDirectoryContact {
  readonly phone: string
  readonly columns: Readonly<Record<string, string>>
}

/** What an import did: rows inserted, existing rows updated (their columns merged), rows skipped. */
export interface DirectoryImportResult {
  readonly inserted: number
  readonly updated: number
  readonly skipped: number
}

/** A saved, named filter. */
export interface SavedFilter {
  readonly name: string
  readonly filter: Filter.Filter
  readonly createdAt: Date
}

/** A campaign: what it sends, from which account, and where it stands. */
export interface CampaignRecord {
  readonly id: string
  readonly name: string
  readonly accountName: string
  readonly templateName: string
  readonly language: string
  readonly note: string | null
  /**
   * The campaign's own messages/second ceiling below the number's (`campaigns rate ID --max-mps N`): it trickles
   * while other campaigns on the number use the rest. Null: the number's rate, shared fairly.
   */
  readonly maxMps: number | null
  readonly lifecycle: Campaign.CampaignLifecycle
  /** When it may message a recipient, on the recipient's clock (`campaigns window`); null: at any time. */
  readonly sendWindow: SendWindow.SendWindow | null
}

/** A campaign to create (it starts as a draft). */
export interface NewCampaign {
  readonly name: string
  readonly accountName: string
  readonly templateName: string
  readonly language: string
  readonly note: string | null
  /** See `CampaignRecord.maxMps` (absent: none). */
  readonly maxMps?: number | null
}

/** A contact inside a campaign: its frozen parameters and its progress. */
export interface CampaignContact {
  readonly id: string
  readonly campaignId: string
  /** The phone number as it was given (CSV cell or directory value). */
  readonly phone: string
  /** The WhatsApp id sent to (`to`): E.164 digits; empty for an invalid record. */
  readonly recipient: string
  /** Template parameters resolved when the contact was added, by variable key; a later edit changes nothing. */
  readonly parameters: Readonly<Record<string, string>>
  /**
   * The directory contact it was added from; null when it came from a CSV, or once that directory contact was
   * deleted (the campaign contact itself, with its frozen parameters, stays).
   */
  readonly directoryContactId: string | null
  /**
   * The recipient's own IANA time zone, frozen when the contact was added (a directory column `time_zone`); null:
   * the send window is read in the zones of the number's country (`SendWindow.recipientZones`).
   */
  readonly timeZone: string | null
  readonly progress: ContactState.ContactProgress
  /** The daemon holding the claim while `in_progress`. */
  readonly leaseOwner: string | null
  readonly addedAt: Date
}

/**
 * A contact to add to a campaign. Without a recipient it is kept as `invalid_record` with `invalid` as reason;
 * with one, `invalid` is ignored (a row whose values are bad is reported by the caller, not added).
 */
export interface NewCampaignContact {
  readonly phone: string
  readonly recipient: string | null
  readonly parameters: Readonly<Record<string, string>>
  readonly directoryContactId?: string | null
  /** The recipient's own IANA time zone (checked by the caller); absent or null: its country's. */
  readonly timeZone?: string | null
  readonly invalid?: ContactState.LastError
}

/** What adding contacts did. A recipient already in the campaign keeps its one row and is reported. */
export interface AddContactsResult {
  readonly added: number
  readonly invalid: number
  /** Recipients added as `invalid_record` because they are on the suppression list. */
  readonly suppressed: number
  readonly alreadyInCampaign: ReadonlyArray<string>
}

/** Ask for due contacts of one account's running campaigns. */
export interface ClaimRequest {
  readonly account: Account
  readonly limit: number
  /** How long the claim holds; past it the outcome counts as unknown (see RetryPolicy). */
  readonly leaseMs: number
  /** Who claims (daemon id), recorded on the rows. */
  readonly owner: string
  readonly now: Date
  /** Hand out send slots starting within this long (default 1 s). */
  readonly horizonMs?: number
  /**
   * Campaign rate caps are planned at this share of themselves (default 1), as the dispatcher plans the number
   * below its nominal rate (`account.throughputMps` of this request) to leave room for late sends.
   */
  readonly capFactor?: number
}

/** A claimed contact and the instant its send may start (its throughput slot). */
export interface ClaimedContact {
  readonly contact: CampaignContact
  readonly slot: Date
}

/** What a claim handed out, and when more capacity frees up if limits held contacts back. */
export interface ClaimResult {
  readonly claimed: ReadonlyArray<ClaimedContact>
  readonly nextCapacity: Quota.NextCapacity | undefined
  /** Due contacts left waiting for their campaign's send window (`Deferred`); more may be due behind them. */
  readonly deferred?: number
}

/** The outcome of a send (or of handing a claim back), for one contact. */
export interface Outcome {
  readonly contactId: string
  readonly event: ContactState.ContactEvent
  /**
   * True when Meta certainly did not take the message (an error answer, or released before sending): the
   * quota reservation made by the claim is given back. Never set it for a timeout — the outcome is unknown.
   */
  readonly releaseQuota?: boolean
}

/** A status webhook for one message, matched by wamid or else by the contact id from biz_opaque_callback_data. */
export interface StatusReport {
  readonly wamid: string
  readonly contactId?: string
  readonly event: Extract<ContactState.ContactEvent, { _tag: "StatusReported" | "FailureReported" }>
}

/** What applying a batch of outcomes or reports did. */
export interface ApplyResult {
  readonly applied: number
  /** Events the state machine refused (stale, impossible), with its reason: log them, nothing else to do. */
  readonly refused: ReadonlyArray<{ readonly contactId: string; readonly reason: string }>
  /** Reports that matched no contact (another system's message, or a deleted campaign). */
  readonly unmatched: ReadonlyArray<StatusReport>
}

/** Contacts whose last attempt failed with the same code (`StorageShape.failureSummary`). */
export interface FailureGroup {
  /** Meta's code (`131026`), or one of Megaphone's (`invalid_phone`, `opted_out`, `timeout`, …). */
  readonly code: string
  readonly count: number
  /** The text of the most recent of them. */
  readonly text: string
  /** The campaigns they belong to, by id. */
  readonly campaignIds: ReadonlyArray<string>
  /** When the most recent of them entered its state. */
  readonly lastAt: Date
}

/** How much of an account's rolling-24 h messaging limit is used. */
export interface QuotaUsage {
  readonly quotaKey: string
  readonly used: number
  readonly limit: Quota.MessagingLimit
  readonly remaining: number | "unlimited"
  readonly nextFreeAt: Date | undefined
}

/** A recipient who must not be messaged (opted out), and why. */
export interface Suppression {
  readonly recipient: string
  readonly reason: string
  readonly createdAt: Date
}

/** One line of the event log: campaign operations and notable state changes, for people and audits. */
export interface LoggedEvent {
  readonly id: string
  readonly campaignId: string | null
  readonly kind: string
  readonly message: string
  readonly data: Readonly<Record<string, unknown>>
  readonly at: Date
}

/** A page request: rows after `afterId` (ids ascend), at most `limit`. */
export interface Page {
  readonly afterId?: string
  readonly limit: number
}

/** Which failed contacts of a campaign to put back to `initial` (`StorageShape.retryContacts`). */
export interface RetrySelection {
  /** Some of `ContactState.retryableStates` (`error`, `sending_failed`); others select nothing. */
  readonly states: ReadonlyArray<ContactState.ContactStateId>
  /** Only contacts whose last error has one of these codes; empty: any code (or none). */
  readonly codes: ReadonlyArray<string>
}

/** What a retry did. */
export interface RetryResult {
  /** Contacts put back to `initial` with a new attempt budget. */
  readonly retried: number
  /** Selected contacts left as they were because their recipient is on the suppression list. */
  readonly suppressed: number
}

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

/** The database failed (connection lost, constraint broken…): retry later or fix the server. */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  operation: Schema.String,
  message: Schema.String
}) {}

/** The named thing does not exist. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  entity: Schema.String,
  key: Schema.String
}) {
  override get message(): string {
    return `No ${this.entity} "${this.key}".`
  }
}

/** The thing exists already, or changed under us (another daemon or operator was first). */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  entity: Schema.String,
  key: Schema.String,
  message: Schema.String
}) {}

// ---------------------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------------------

type Op<A, E = never> = Effect.Effect<A, StorageError | E>

/**
 * Everything Megaphone keeps.
 *
 * Shared rules every adapter follows (the conformance suite checks them):
 * - Ids are decimal integers as strings, increasing in insertion order; pages ascend by id.
 * - Names and lists sort by JavaScript code-unit order (PostgreSQL: `COLLATE "C"`).
 * - A contact is due when it is `initial` or `retry_scheduled` and its due time — `nextAttemptAt`, or else
 *   `addedAt` — has come (`<= now`). One plain comparison keeps the claim's index scan fast even before the
 *   database has statistics.
 * - Claims share an account fairly between its running campaigns: each campaign's due contacts in order of
 *   (due time, id), and the n-th of every campaign before the (n+1)-th of any (ties by due time, id). A big
 *   campaign started first does not hold a small one back until it is done.
 * - A due contact whose campaign's send window is closed for it (`SendWindow.isOpen` in its zones) is not claimed:
 *   the claim gives it `Deferred` until the window's next opening (`ClaimDecision` decides it for every adapter).
 */
export interface StorageShape {
  // Accounts
  /** Create or replace an account by name. */
  readonly saveAccount: (account: Account) => Op<Account>
  readonly getAccount: (name: string) => Op<Option.Option<Account>>
  /** Every account by name. */
  readonly listAccounts: () => Op<ReadonlyArray<Account>>

  // Templates
  /**
   * Replace a WABA's templates (keyed by name + language) with what Meta lists now: new ones are added,
   * listed ones updated (and undeleted), ones no longer listed get `deletedAt = now` (counted once).
   */
  readonly syncTemplates: (wabaId: string, templates: ReadonlyArray<Template.Template>, now: Date) => Op<TemplateSyncResult>
  /** Every template, deleted ones included, by WABA, name and language. */
  readonly listTemplates: (wabaId?: string) => Op<ReadonlyArray<StoredTemplate>>
  /**
   * Set one template's `status` and `rejected_reason` as a status webhook reported them (`null` removes the
   * reason: one left from an earlier rejection would be stale) and its `syncedAt` to `now`. Nothing else of
   * the template changes, nor `deletedAt` (the next sync decides that). Returns the updated record; none when
   * the template was never synced.
   */
  readonly updateTemplateStatus: (
    wabaId: string,
    name: string,
    language: string,
    status: string,
    rejectedReason: string | null,
    now: Date
  ) => Op<Option.Option<StoredTemplate>>

  // Directory
  /**
   * Import contacts keyed by phone. An existing phone is updated — its columns merged, the import's non-empty
   * values winning (an empty cell never erases a value) — or skipped. A phone repeated inside one batch is
   * handled as if imported again right after.
   */
  readonly importDirectory: (
    contacts: ReadonlyArray<NewDirectoryContact>,
    onDuplicate: "update" | "skip",
    now: Date
  ) => Op<DirectoryImportResult>
  /**
   * Directory contacts matching a filter (all without one) and a search text (see {@link matchesSearch}; none
   * without one), by ascending id. The filter sees the contact's columns plus `phone` (a column named `phone`
   * wins over the contact's phone number), exactly as `Filter.evaluate(filter, { phone, ...columns })` does.
   */
  readonly listDirectory: (filter: Filter.Filter | undefined, page: Page, search?: string) => Op<ReadonlyArray<DirectoryContact>>
  /** How many directory contacts {@link listDirectory} would give for this filter and search, counted in one step. */
  readonly countDirectory: (filter: Filter.Filter | undefined, search?: string) => Op<number>
  /** One directory contact by id or by phone; none when no contact has it. */
  readonly getDirectoryContact: (key: DirectoryKey) => Op<Option.Option<DirectoryContact>>
  /**
   * Delete the directory contacts these keys name (keys naming no contact are ignored); returns how many were
   * deleted. Campaign contacts added from them stay as they are, frozen parameters included: only their
   * `directoryContactId` becomes null, in the same atomic step.
   */
  readonly deleteDirectoryContacts: (keys: ReadonlyArray<DirectoryKey>) => Op<number>
  /** Delete every directory contact matching the filter, as {@link deleteDirectoryContacts} does; returns how many. */
  readonly deleteDirectoryMatching: (filter: Filter.Filter) => Op<number>
  /** Every column name used in the directory's columns (not `phone` itself unless imported as a column), sorted. */
  readonly directoryColumns: () => Op<ReadonlyArray<string>>

  // Filters
  /** Save a new filter; an existing name is a Conflict. */
  readonly createFilter: (name: string, filter: Filter.Filter, now: Date) => Op<SavedFilter, Conflict>
  readonly getFilter: (name: string) => Op<Option.Option<SavedFilter>>
  readonly listFilters: () => Op<ReadonlyArray<SavedFilter>>
  readonly deleteFilter: (name: string) => Op<void, NotFound>

  // Campaigns
  /** A new campaign in `draft` (`Campaign.draft(now)`). */
  readonly createCampaign: (campaign: NewCampaign, now: Date) => Op<CampaignRecord>
  readonly getCampaign: (id: string) => Op<Option.Option<CampaignRecord>>
  /** Every campaign by id. */
  readonly listCampaigns: () => Op<ReadonlyArray<CampaignRecord>>
  /**
   * Store the lifecycle computed by `Campaign` if the campaign is still in `expected` state; otherwise
   * Conflict (someone else changed it first) — re-read and decide again.
   */
  readonly updateCampaignLifecycle: (
    id: string,
    expected: Campaign.CampaignStateId,
    next: Campaign.CampaignLifecycle
  ) => Op<CampaignRecord, NotFound | Conflict>
  /**
   * Set a campaign's send window, or remove it with null. In the same atomic step its `initial` contacts that wait
   * for the old window (a next attempt time, which only a window gives them) are due again at once, so the next
   * claim judges them by the new window; retries keep their time.
   */
  readonly setSendWindow: (id: string, window: SendWindow.SendWindow | null) => Op<CampaignRecord, NotFound>
  /** How many contacts of the campaign are in each state (every state present, zeros included). */
  /** Set or remove (null) the campaign's rate cap; its pace starts afresh. */
  readonly setCampaignMaxMps: (id: string, maxMps: number | null) => Op<CampaignRecord, NotFound>
  readonly campaignCounts: (id: string) => Op<Campaign.ContactCounts>
  /**
   * The contacts of these campaigns (all campaigns without a list) now in `error`, `sending_failed` or
   * `retry_scheduled`, grouped by their last error's code: most frequent first, ties by code. For the "what is
   * failing" view of an operator; contacts without a last error are not counted.
   */
  readonly failureSummary: (campaignIds: ReadonlyArray<string> | undefined) => Op<ReadonlyArray<FailureGroup>>
  /**
   * The contacts of these campaigns (all without a list) waiting in `retry_scheduled`, soonest next attempt first
   * (ties by id), at most `limit`.
   */
  readonly soonestRetries: (campaignIds: ReadonlyArray<string> | undefined, limit: number) => Op<ReadonlyArray<CampaignContact>>
  /**
   * Whether any contact of the campaign is still pending (`initial`, `in_progress`, `retry_scheduled`): the cheap
   * question a dispatcher asks before counting a campaign's contacts to see whether it finished.
   */
  readonly hasPendingContacts: (id: string) => Op<boolean>

  // Campaign contacts
  /**
   * Add contacts with `ContactState.initial(now)`, idempotent per (campaign, recipient) — per (campaign,
   * phone) for contacts without a recipient. Without a recipient a contact is kept as `invalid_record` with
   * its `invalid` reason (default code `invalid_phone`); a suppressed recipient is kept as `invalid_record`
   * with code `opted_out`. `added` counts every new row, `invalid` and `suppressed` those two kinds among them.
   */
  readonly addCampaignContacts: (
    campaignId: string,
    contacts: ReadonlyArray<NewCampaignContact>,
    now: Date
  ) => Op<AddContactsResult, NotFound>
  /** Contacts of a campaign, optionally in one state, by ascending id. */
  readonly listCampaignContacts: (
    campaignId: string,
    state: ContactState.ContactStateId | undefined,
    page: Page
  ) => Op<ReadonlyArray<CampaignContact>>
  readonly getCampaignContact: (id: string) => Op<Option.Option<CampaignContact>>

  // Dispatch
  /**
   * Claim due contacts (initial, or retries whose time has come) of the account's running campaigns, moving
   * them to `in_progress` with a lease, and reserve their quota — pair spacing, the rolling-24 h window of
   * the account's quota key, the number's throughput slots — in the same atomic step, so daemons sharing the
   * database never exceed a limit together and never claim a contact twice.
   */
  readonly claim: (request: ClaimRequest) => Op<ClaimResult>
  /**
   * Apply send outcomes (via `ContactState.transition`) in one batch, in the given order. Outcomes with
   * `releaseQuota` give back what the claim reserved in the 24 h window (the recipient's previous send time
   * is restored) unless a later claim has sent to that recipient since.
   */
  readonly recordOutcomes: (outcomes: ReadonlyArray<Outcome>, now: Date) => Op<ApplyResult>
  /**
   * Apply status webhooks in one batch, in the given order: matched by wamid, else by `contactId`;
   * forward-only and idempotent through `ContactState.transition`, safe under concurrent writers.
   */
  readonly applyStatuses: (reports: ReadonlyArray<StatusReport>, now: Date) => Op<ApplyResult>
  /**
   * Contacts whose lease expired while `in_progress` (their daemon died) get `LeaseExpired` with
   * `RetryPolicy.decideUnknownOutcome`. Their quota reservation is kept: a resend is free in the window.
   */
  readonly reclaimExpiredLeases: (now: Date, policy: RetryPolicy.RetryPolicy) => Op<number>
  /** `Cancelled` for every pending contact of the campaign (it was stopped); returns how many changed. */
  readonly cancelPending: (campaignId: string, now: Date) => Op<number>
  /** After a 130429 for this number: slow its throughput (see `Quota.throttled`). */
  readonly throttleNumber: (phoneNumberId: string, now: Date) => Op<void>
  /** The rolling-24 h usage of the account's quota key (counted from the minute buckets, never low). */
  readonly quotaUsage: (account: Account, now: Date) => Op<QuotaUsage>

  // Suppression list
  /**
   * Add recipients to the suppression list (existing ones keep their reason); returns how many were new. Their
   * contacts still waiting to be sent (`initial`, `retry_scheduled`) in any campaign get `OptedOut` in the same
   * atomic step; a send already in flight is not called back.
   */
  readonly suppress: (entries: ReadonlyArray<{ readonly recipient: string; readonly reason: string }>, now: Date) => Op<number>
  /** Remove a recipient from the suppression list; false when it was not there. */
  readonly unsuppress: (recipient: string) => Op<boolean>
  /** The suppression list by recipient. */
  readonly listSuppressions: () => Op<ReadonlyArray<Suppression>>

  // Event log
  /** Append to the event log. */
  readonly appendEvents: (events: ReadonlyArray<Omit<LoggedEvent, "id">>) => Op<void>
  /** Events of one campaign (or all), by ascending id. */
  readonly listEvents: (campaignId: string | undefined, page: Page) => Op<ReadonlyArray<LoggedEvent>>

  // Retry failed contacts (issue 11, item 3)
  /**
   * `RetryRequested` for every contact of the campaign in one of `selection.states` (only `error` and
   * `sending_failed` can be) whose last error code is one of `selection.codes` (any without codes), in id order,
   * in the same atomic step as checking that the campaign is running, paused or finished: a stopped (or draft, or
   * unknown) campaign gets none back. A contact whose recipient is on the suppression list stays as it is and is
   * counted in `suppressed`. Large campaigns may be done in several transactions, as `cancelPending` does.
   */
  readonly retryContacts: (campaignId: string, selection: RetrySelection, now: Date) => Op<RetryResult>
}

/** The storage service: provide the in-memory or the PostgreSQL adapter's Layer. */
export class Storage extends Context.Service<Storage, StorageShape>()("megaphone/Storage") {}
