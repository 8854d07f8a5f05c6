/**
 * Rows in and out of SQLite: prepared statements, transactions, and the records of the Storage port decoded
 * from rows with Schema (a row that does not fit fails the operation with a StorageError naming the column).
 */
import { Campaign, ContactState, ErrorClass, Filter, type Ports, SendWindow, Template } from "@megaphone/core"
import { Result, Schema } from "effect"
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite"

type CampaignContact = Ports.Storage.CampaignContact

// ---------------------------------------------------------------------------------------------------------
// Statements and transactions
// ---------------------------------------------------------------------------------------------------------

/** Named parameters of a statement (`:name` in the SQL). */
export type Params = Readonly<Record<string, SQLInputValue>>

/** The database plus a cache of its prepared statements, keyed by their SQL text. */
export interface Sql {
  readonly db: DatabaseSync
  /** The prepared statement for this SQL, prepared once. */
  readonly statement: (text: string) => StatementSync
}

/** Wrap an open database. */
export const sql = (db: DatabaseSync): Sql => {
  const cache = new Map<string, StatementSync>()
  return {
    db,
    statement: (text) => {
      let prepared = cache.get(text)
      if (prepared === undefined) {
        prepared = db.prepare(text)
        cache.set(text, prepared)
      }
      return prepared
    }
  }
}

/**
 * Run `body` in a write transaction. `BEGIN IMMEDIATE` takes the database's write lock before the first read, so
 * what the body reads cannot change under it — not by another fiber (the body is synchronous), nor by another
 * process on the same file (it waits, up to the busy timeout). A failed Result or a throw rolls everything back.
 */
export const transaction = <A, E>(s: Sql, body: () => Result.Result<A, E>): Result.Result<A, E> => {
  s.db.exec("BEGIN IMMEDIATE")
  try {
    const result = body()
    s.db.exec(Result.isSuccess(result) ? "COMMIT" : "ROLLBACK")
    return result
  } catch (error) {
    if (s.db.isTransaction) s.db.exec("ROLLBACK")
    throw error
  }
}

/** True for a string that can be one of our ids (a positive decimal integer); anything else names no row. */
export const isId = (id: string): boolean => /^[1-9]\d{0,14}$/.test(id)

/** A JSON array of values, bound as one parameter and read in SQL with `json_each(:param)`. */
export const jsonArray = (values: ReadonlyArray<string | number>): string => JSON.stringify(values)

/** A date as stored: milliseconds since the epoch. */
export const ms = (date: Date): number => date.getTime()

/** A nullable date as stored. */
export const msOrNull = (date: Date | null | undefined): number | null => (date === null || date === undefined ? null : date.getTime())

const dateOrNull = (millis: number | null): Date | null => (millis === null ? null : new Date(millis))

/** JavaScript code-unit order, which the port asks for (SQLite's BINARY collation compares UTF-8 bytes instead). */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

// ---------------------------------------------------------------------------------------------------------
// Column schemas
// ---------------------------------------------------------------------------------------------------------

const Text = Schema.String
const NullableText = Schema.NullOr(Schema.String)
const Millis = Schema.Number
const NullableMillis = Schema.NullOr(Schema.Number)
const Strings = Schema.Record(Schema.String, Schema.String)
// Any JSON document, left for the core's own decoder (templates, filters).
const Json = Schema.fromJsonString(Schema.Unknown)

const LastError = Schema.Struct({
  code: Schema.String,
  text: Schema.String,
  errorClass: Schema.optionalKey(ErrorClass.ErrorClass)
})

const PauseReason = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Operator") }),
  Schema.Struct({
    _tag: Schema.Literal("System"),
    kind: Schema.Literals(["template_unusable", "account_blocked", "auth_failed", "spam_rate_limited", "outcome_review"]),
    explanation: Schema.String,
    code: Schema.optionalKey(Schema.String)
  })
])

/** Decode a row (or fail with a message naming the column), then build the record from it. */
export const reader = <S extends Schema.ConstraintDecoder<unknown>, A>(
  schema: S,
  build: (row: S["Type"]) => A
): (row: unknown) => A => {
  const decode = Schema.decodeUnknownSync(schema)
  return (row) => build(decode(row))
}

// ---------------------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------------------

/** An `accounts` row as a record. */
export const readAccount = reader(
  Schema.Struct({
    name: Text,
    phone_number_id: Text,
    waba_id: Text,
    portfolio_id: NullableText,
    token_env: Text,
    graph_url: Text,
    graph_version: Text,
    display_phone_number: NullableText,
    messaging_limit: Schema.NullOr(Schema.Number),
    messaging_tier: NullableText,
    quality_rating: NullableText,
    throughput_mps: Schema.Number,
    max_mps: Schema.NullOr(Schema.Number),
    provider: Schema.NullOr(Schema.Literals(["meta", "360dialog"])),
    throughput_level: NullableText,
    name_status: NullableText,
    status: NullableText,
    created_at: Millis,
    updated_at: Millis
  }),
  (r): Ports.Storage.Account => ({
    name: r.name,
    phoneNumberId: r.phone_number_id,
    wabaId: r.waba_id,
    portfolioId: r.portfolio_id,
    tokenEnv: r.token_env,
    graphUrl: r.graph_url,
    graphVersion: r.graph_version,
    displayPhoneNumber: r.display_phone_number,
    messagingLimit: r.messaging_limit ?? "unlimited",
    messagingTier: r.messaging_tier,
    qualityRating: r.quality_rating,
    throughputMps: r.throughput_mps,
    // Absent, not undefined, when the operator set no cap.
    ...(r.max_mps === null ? {} : { maxMps: r.max_mps }),
    ...(r.provider === null ? {} : { provider: r.provider }),
    throughputLevel: r.throughput_level,
    nameStatus: r.name_status,
    status: r.status,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at)
  })
)

/** A `templates` row as a record; the body goes through the core's own template decoder. */
export const readTemplate = reader(
  Schema.Struct({ waba_id: Text, body: Json, synced_at: Millis, deleted_at: NullableMillis }),
  (r): Ports.Storage.StoredTemplate => {
    const template = Template.decode(r.body)
    if (Result.isFailure(template)) throw new Error(`a stored template cannot be read: ${template.failure.explanation}`)
    return { wabaId: r.waba_id, template: template.success, syncedAt: new Date(r.synced_at), deletedAt: dateOrNull(r.deleted_at) }
  }
)

/** A `directory_contacts` row as a record. */
export const readDirectoryContact = reader(
  Schema.Struct({ id: Schema.Number, phone: Text, columns: Schema.fromJsonString(Strings), created_at: Millis, updated_at: Millis }),
  (r): Ports.Storage.DirectoryContact => ({
    id: String(r.id),
    phone: r.phone,
    columns: r.columns,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at)
  })
)

/** A `filters` row as a record; the filter goes through the core's own filter decoder. */
export const readFilter = reader(
  Schema.Struct({ name: Text, filter: Json, created_at: Millis }),
  (r): Ports.Storage.SavedFilter => {
    const filter = Filter.decodeJson(r.filter)
    if (Result.isFailure(filter)) throw new Error(`the stored filter "${r.name}" cannot be read: ${filter.failure.message}`)
    return { name: r.name, filter: filter.success, createdAt: new Date(r.created_at) }
  }
)

/** A `campaigns` row as a record. */
export const readCampaign = reader(
  Schema.Struct({
    id: Schema.Number,
    name: Text,
    account_name: Text,
    template_name: Text,
    language: Text,
    note: NullableText,
    state: Schema.Literals(Campaign.states),
    pause_reason: Schema.NullOr(Schema.fromJsonString(PauseReason)),
    created_at: Millis,
    started_at: NullableMillis,
    paused_at: NullableMillis,
    ended_at: NullableMillis,
    scheduled_at: NullableMillis,
    max_mps: Schema.NullOr(Schema.Number),
    send_window: NullableText
  }),
  (r): Ports.Storage.CampaignRecord => ({
    id: String(r.id),
    name: r.name,
    accountName: r.account_name,
    templateName: r.template_name,
    language: r.language,
    note: r.note,
    maxMps: r.max_mps,
    lifecycle: {
      state: r.state,
      pauseReason: r.pause_reason,
      createdAt: new Date(r.created_at),
      startedAt: dateOrNull(r.started_at),
      pausedAt: dateOrNull(r.paused_at),
      endedAt: dateOrNull(r.ended_at),
      scheduledAt: dateOrNull(r.scheduled_at)
    },
    // Only readable windows are stored (setSendWindow formats a parsed one).
    sendWindow: r.send_window === null ? null : Result.getOrNull(SendWindow.parse(r.send_window))
  })
)

/** An `events` row as a record. */
export const readEvent = reader(
  Schema.Struct({
    id: Schema.Number,
    campaign_id: NullableText,
    kind: Text,
    message: Text,
    data: Schema.fromJsonString(Schema.Record(Schema.String, Schema.Unknown)),
    at: Millis
  }),
  (r): Ports.Storage.LoggedEvent => ({
    id: String(r.id),
    campaignId: r.campaign_id,
    kind: r.kind,
    message: r.message,
    data: r.data,
    at: new Date(r.at)
  })
)

/** A `suppressions` row as a record. */
export const readSuppression = reader(
  Schema.Struct({ recipient: Text, reason: Text, created_at: Millis }),
  (r): Ports.Storage.Suppression => ({ recipient: r.recipient, reason: r.reason, createdAt: new Date(r.created_at) })
)

// ---------------------------------------------------------------------------------------------------------
// Campaign contacts: the record plus what the port does not show (the claim's reservation)
// ---------------------------------------------------------------------------------------------------------

/** What the latest claim reserved in the 24 h window, kept on the contact so a failed send can give it back. */
export interface Reservation {
  readonly quotaKey: string
  readonly slot: Date
  readonly previousSentAt: Date | undefined
}

/** A `campaign_contacts` row: the port's record, and the reservation only the adapter sees. */
export interface StoredContact {
  readonly contact: CampaignContact
  readonly reservation: Reservation | null
}

const stateTimesOf = (times: Readonly<Record<string, number>>): Partial<Record<ContactState.ContactStateId, Date>> => {
  const out: Partial<Record<ContactState.ContactStateId, Date>> = {}
  for (const state of ContactState.states) {
    const at = times[state]
    if (at !== undefined) out[state] = new Date(at)
  }
  return out
}

/** A `campaign_contacts` row (`SELECT *`) as the record and its reservation. */
export const readContact = reader(
  Schema.Struct({
    id: Schema.Number,
    campaign_id: Schema.Number,
    phone: Text,
    recipient: Text,
    parameters: Schema.fromJsonString(Strings),
    directory_contact_id: Schema.NullOr(Schema.Number),
    time_zone: NullableText,
    added_at: Millis,
    state: Schema.Literals(ContactState.states),
    attempts: Schema.Number,
    throttled_attempts: Schema.Number,
    next_attempt_at: NullableMillis,
    lease_expires_at: NullableMillis,
    lease_owner: NullableText,
    last_error: Schema.NullOr(Schema.fromJsonString(LastError)),
    wamid: NullableText,
    wa_id: NullableText,
    state_times: Schema.fromJsonString(Schema.Record(Schema.String, Schema.Number)),
    reserved_quota_key: NullableText,
    reserved_slot: NullableMillis,
    previous_sent_at: NullableMillis
  }),
  (r): StoredContact => ({
    contact: {
      id: String(r.id),
      campaignId: String(r.campaign_id),
      phone: r.phone,
      recipient: r.recipient,
      parameters: r.parameters,
      directoryContactId: r.directory_contact_id === null ? null : String(r.directory_contact_id),
      timeZone: r.time_zone,
      progress: {
        state: r.state,
        attempts: r.attempts,
        throttledAttempts: r.throttled_attempts,
        nextAttemptAt: dateOrNull(r.next_attempt_at),
        leaseExpiresAt: dateOrNull(r.lease_expires_at),
        lastError: r.last_error,
        wamid: r.wamid,
        waId: r.wa_id,
        stateTimes: stateTimesOf(r.state_times)
      },
      leaseOwner: r.lease_owner,
      addedAt: new Date(r.added_at)
    },
    reservation: r.reserved_quota_key !== null && r.reserved_slot !== null
      ? { quotaKey: r.reserved_quota_key, slot: new Date(r.reserved_slot), previousSentAt: dateOrNull(r.previous_sent_at) ?? undefined }
      : null
  })
)

/** The columns {@link writeProgress} sets, as named parameters: a contact's progress, lease owner and reservation. */
export const progressParams = (
  progress: ContactState.ContactProgress,
  leaseOwner: string | null,
  reservation: Reservation | null
): Params => ({
  state: progress.state,
  attempts: progress.attempts,
  throttled_attempts: progress.throttledAttempts,
  next_attempt_at: msOrNull(progress.nextAttemptAt),
  lease_expires_at: msOrNull(progress.leaseExpiresAt),
  lease_owner: leaseOwner,
  last_error: progress.lastError === null ? null : JSON.stringify(progress.lastError),
  wamid: progress.wamid,
  wa_id: progress.waId,
  state_times: JSON.stringify(Object.fromEntries(Object.entries(progress.stateTimes).map(([state, at]) => [state, at.getTime()]))),
  reserved_quota_key: reservation?.quotaKey ?? null,
  reserved_slot: msOrNull(reservation?.slot),
  previous_sent_at: msOrNull(reservation?.previousSentAt)
})

/** Store a contact's progress, lease owner and reservation. */
export const writeProgress = (
  s: Sql,
  id: string,
  progress: ContactState.ContactProgress,
  leaseOwner: string | null,
  reservation: Reservation | null
): void => {
  s.statement(`
    UPDATE campaign_contacts SET
      state = :state,
      attempts = :attempts,
      throttled_attempts = :throttled_attempts,
      next_attempt_at = :next_attempt_at,
      lease_expires_at = :lease_expires_at,
      lease_owner = :lease_owner,
      last_error = :last_error,
      wamid = :wamid,
      wa_id = :wa_id,
      state_times = :state_times,
      reserved_quota_key = :reserved_quota_key,
      reserved_slot = :reserved_slot,
      previous_sent_at = :previous_sent_at
    WHERE id = :id
  `).run({ id: Number(id), ...progressParams(progress, leaseOwner, reservation) })
}

/** One contact by id, with its reservation; none for an unknown or malformed id. */
export const findContact = (s: Sql, id: string): StoredContact | undefined => {
  if (!isId(id)) return undefined
  const row = s.statement(`SELECT * FROM campaign_contacts WHERE id = :id`).get({ id: Number(id) })
  return row === undefined ? undefined : readContact(row)
}

/** Who holds a contact after a transition: its claimer while `in_progress`, nobody otherwise. */
export const leaseOwnerAfter = (progress: ContactState.ContactProgress, owner: string | null): string | null =>
  progress.state === "in_progress" ? owner : null
