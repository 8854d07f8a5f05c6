/**
 * What every PostgreSQL storage operation shares: typed array parameters for `unnest`, readers that turn rows
 * into records (and say which column was wrong), and the mapping of database errors to `StorageError`.
 */
import { PgTypes } from "@effect/sql-pg"
import { Ports } from "@megaphone/core"
import type { ContactState, ErrorClass } from "@megaphone/core"
import { Effect, Result } from "effect"
import { type SqlClient, SqlError } from "effect/sql"

/** A row as the driver returns it (no name transforms: see `PgStorage.make`). */
export type Row = Readonly<Record<string, unknown>>

/** The SQL client every operation runs on. */
export type Sql = SqlClient.SqlClient

/** A storage operation's result: its value, or a database error to be mapped at the port. */
export type Op<A, E = never> = Effect.Effect<A, SqlError.SqlError | Ports.Storage.StorageError | E>

// ---------------------------------------------------------------------------------------------------------
// Array parameters: typed explicitly, so an array of nulls (or an empty one) still has a type
// ---------------------------------------------------------------------------------------------------------

const arrayOf = (values: ReadonlyArray<unknown>, oid: number): PgTypes.Parameter =>
  Result.getOrThrow(PgTypes.array(values, oid))

/** A `text[]` parameter. */
export const texts = (values: ReadonlyArray<string | null>): PgTypes.Parameter => arrayOf(values, PgTypes.OID.text)

/** An `int4[]` parameter. */
export const ints = (values: ReadonlyArray<number | null>): PgTypes.Parameter => arrayOf(values, PgTypes.OID.int4)

/** An `int8[]` parameter (minutes since the epoch and other whole numbers beyond int4). */
export const bigints = (values: ReadonlyArray<number>): PgTypes.Parameter =>
  arrayOf(values.map((n) => BigInt(n)), PgTypes.OID.int8)

/** A `timestamptz[]` parameter. */
export const timestamps = (values: ReadonlyArray<Date | null>): PgTypes.Parameter =>
  arrayOf(values, PgTypes.OID.timestamptz)

/** A `text[]` of JSON documents, cast to jsonb in SQL. */
export const jsons = (values: ReadonlyArray<unknown>): PgTypes.Parameter =>
  texts(values.map((v) => (v === null || v === undefined ? null : JSON.stringify(v))))

/** True for a string PostgreSQL accepts as a bigint id; anything else names no row. */
export const isId = (id: string): boolean => /^\d{1,18}$/.test(id)

// ---------------------------------------------------------------------------------------------------------
// Row readers
// ---------------------------------------------------------------------------------------------------------

// Thrown by the readers below and turned into a StorageError by `decode`: a row that does not fit its record.
class RowShapeError extends Error {}

const value = (row: Row, column: string): unknown => {
  const v = row[column]
  // The driver gives null for SQL NULL, so undefined means the column is missing (checked only then: `in` on
  // every column of every row costs more than the rest of the decoding).
  if (v === undefined && !(column in row)) throw new RowShapeError(`column ${column} is missing`)
  return v
}

const wrong = (column: string, expected: string, got: unknown): never => {
  throw new RowShapeError(`column ${column} should be ${expected}, got ${got === null ? "null" : typeof got}`)
}

/** A text column. */
export const str = (row: Row, column: string): string => {
  const v = value(row, column)
  return typeof v === "string" ? v : wrong(column, "text", v)
}

/** A nullable text column. */
export const strOrNull = (row: Row, column: string): string | null => {
  const v = value(row, column)
  return v === null ? null : typeof v === "string" ? v : wrong(column, "text", v)
}

/** A timestamptz column. */
export const date = (row: Row, column: string): Date => {
  const v = value(row, column)
  return v instanceof Date ? v : wrong(column, "a timestamp", v)
}

/** A nullable timestamptz column. */
export const dateOrNull = (row: Row, column: string): Date | null => {
  const v = value(row, column)
  return v === null ? null : v instanceof Date ? v : wrong(column, "a timestamp", v)
}

/** A numeric column (int4, int8 or float8) as a JavaScript number. */
export const num = (row: Row, column: string): number => {
  const v = value(row, column)
  if (typeof v === "number") return v
  if (typeof v === "bigint") return Number(v)
  return wrong(column, "a number", v)
}

/** A nullable numeric column. */
export const numOrNull = (row: Row, column: string): number | null => (value(row, column) === null ? null : num(row, column))

/** A bigint id column, as the decimal string the port uses. */
export const id = (row: Row, column: string): string => {
  const v = value(row, column)
  if (typeof v === "bigint" || typeof v === "number") return String(v)
  if (typeof v === "string" && isId(v)) return v
  return wrong(column, "an id", v)
}

/** A nullable bigint id column. */
export const idOrNull = (row: Row, column: string): string | null => (value(row, column) === null ? null : id(row, column))

/** A jsonb column holding an object of strings (columns, parameters). */
export const stringRecord = (row: Row, column: string): Readonly<Record<string, string>> => {
  const v = value(row, column)
  if (typeof v !== "object" || v === null || Array.isArray(v)) return wrong(column, "a JSON object", v)
  // fromEntries defines own properties: a column named `__proto__` stays a column (assigning it would be dropped).
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === "string" ? x : String(x)]))
}

/** A jsonb column holding any object. */
export const jsonObject = (row: Row, column: string): Readonly<Record<string, unknown>> => {
  const v = value(row, column)
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : wrong(column, "a JSON object", v)
}

/** Any jsonb column, left for a Schema decoder. */
export const json = (row: Row, column: string): unknown => value(row, column)

const misfit = (operation: string) => (error: unknown) =>
  new Ports.Storage.StorageError({
    operation,
    message: `A row read from PostgreSQL does not fit: ${error instanceof Error ? error.message : String(error)}. ` +
      `Was the database changed by something other than Megaphone's migrations?`
  })

/** Turn rows into records; a row that does not fit fails the operation with a StorageError naming it. */
export const decode = <A>(operation: string, rows: ReadonlyArray<Row>, read: (row: Row) => A): Effect.Effect<Array<A>, Ports.Storage.StorageError> =>
  Effect.try({ try: () => rows.map(read), catch: misfit(operation) })

/** Turn one row into a record, failing like {@link decode}. */
export const decodeRow = <A>(operation: string, row: Row, read: (row: Row) => A): Effect.Effect<A, Ports.Storage.StorageError> =>
  Effect.try({ try: () => read(row), catch: misfit(operation) })

/** A StorageError for a stored value that does not decode (a template or filter saved by an older version, say). */
export const corrupt = (operation: string, what: string, why: string): Ports.Storage.StorageError =>
  new Ports.Storage.StorageError({ operation, message: `The stored ${what} cannot be read: ${why}` })

// ---------------------------------------------------------------------------------------------------------
// Campaign contacts: the row ↔ record mapping every contact operation shares
// ---------------------------------------------------------------------------------------------------------

/** The columns every contact query selects (alias `cc`). */
export const contactColumns = `
  cc.id, cc.campaign_id, cc.phone, cc.recipient, cc.parameters, cc.directory_contact_id, cc.time_zone, cc.added_at,
  cc.state, cc.attempts, cc.throttled_attempts, cc.next_attempt_at, cc.lease_expires_at, cc.lease_owner,
  cc.last_error_code, cc.last_error_text, cc.last_error_class, cc.wamid, cc.wa_id,
  cc.initial_at, cc.in_progress_at, cc.sent_at, cc.delivered_at, cc.read_at, cc.retry_scheduled_at,
  cc.error_at, cc.invalid_record_at, cc.sending_failed_at, cc.cancelled_at,
  cc.reserved_quota_key, cc.reserved_slot, cc.previous_sent_at`

/** What the latest claim reserved in the 24 h window, kept on the contact so a failed send can give it back. */
export interface Reservation {
  readonly quotaKey: string
  readonly slot: Date
  readonly previousSentAt: Date | undefined
}

/** A contact row: the record, plus the reservation the port does not show. */
export interface StoredContact {
  readonly contact: Ports.Storage.CampaignContact
  readonly reservation: Reservation | null
}

const contactStates: ReadonlyArray<ContactState.ContactStateId> = [
  "initial", "in_progress", "sent", "delivered", "read", "retry_scheduled", "error", "invalid_record",
  "sending_failed", "cancelled"
]

const stateTimeColumns: ReadonlyArray<readonly [ContactState.ContactStateId, string]> = contactStates.map((state) => [state, `${state}_at`])

const errorClasses: ReadonlyArray<ErrorClass.ErrorClass> = ["rate_limited", "transient", "recipient", "template", "account", "auth"]

const stateOf = (row: Row): ContactState.ContactStateId => {
  const s = str(row, "state")
  const known = contactStates.find((k) => k === s)
  return known ?? wrong("state", "a contact state", s)
}

const lastErrorOf = (row: Row): ContactState.LastError | null => {
  const code = strOrNull(row, "last_error_code")
  if (code === null) return null
  const text = strOrNull(row, "last_error_text") ?? ""
  const errorClass = errorClasses.find((c) => c === strOrNull(row, "last_error_class"))
  return errorClass === undefined ? { code, text } : { code, text, errorClass }
}

/** Read a contact row selected with {@link contactColumns}. */
export const readContact = (row: Row): StoredContact => {
  const stateTimes: Partial<Record<ContactState.ContactStateId, Date>> = {}
  for (const [state, column] of stateTimeColumns) {
    const at = dateOrNull(row, column)
    if (at !== null) stateTimes[state] = at
  }
  const progress: ContactState.ContactProgress = {
    state: stateOf(row),
    attempts: num(row, "attempts"),
    throttledAttempts: num(row, "throttled_attempts"),
    nextAttemptAt: dateOrNull(row, "next_attempt_at"),
    leaseExpiresAt: dateOrNull(row, "lease_expires_at"),
    lastError: lastErrorOf(row),
    wamid: strOrNull(row, "wamid"),
    waId: strOrNull(row, "wa_id"),
    stateTimes
  }
  const quotaKey = strOrNull(row, "reserved_quota_key")
  const slot = dateOrNull(row, "reserved_slot")
  const previousSentAt = dateOrNull(row, "previous_sent_at") ?? undefined
  return {
    contact: {
      id: id(row, "id"),
      campaignId: id(row, "campaign_id"),
      phone: str(row, "phone"),
      recipient: str(row, "recipient"),
      parameters: stringRecord(row, "parameters"),
      directoryContactId: idOrNull(row, "directory_contact_id"),
      timeZone: strOrNull(row, "time_zone"),
      progress,
      leaseOwner: strOrNull(row, "lease_owner"),
      addedAt: date(row, "added_at")
    },
    reservation: quotaKey !== null && slot !== null ? { quotaKey, slot, previousSentAt } : null
  }
}

/** One contact's new progress, as written back by {@link writeProgress}. */
export interface ProgressWrite {
  readonly id: string
  readonly progress: ContactState.ContactProgress
  readonly leaseOwner: string | null
  readonly reservation: Reservation | null
}

/**
 * Write many contacts' progress with one UPDATE. The rank guard refuses to move a row to a lower rank even if
 * a caller skipped the row lock: concurrent webhook receivers can never regress a contact. Returns the ids
 * written.
 */
export const writeProgress = (sql: Sql, rows: ReadonlyArray<ProgressWrite>): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError> => {
  if (rows.length === 0) return Effect.succeed([])
  const at = (state: ContactState.ContactStateId) => timestamps(rows.map((r) => r.progress.stateTimes[state] ?? null))
  return sql`
    update campaign_contacts cc set
      state = u.state,
      attempts = u.attempts,
      throttled_attempts = u.throttled_attempts,
      next_attempt_at = u.next_attempt_at,
      lease_expires_at = u.lease_expires_at,
      lease_owner = u.lease_owner,
      last_error_code = u.last_error_code,
      last_error_text = u.last_error_text,
      last_error_class = u.last_error_class,
      wamid = u.wamid,
      wa_id = u.wa_id,
      initial_at = u.initial_at,
      in_progress_at = u.in_progress_at,
      sent_at = u.sent_at,
      delivered_at = u.delivered_at,
      read_at = u.read_at,
      retry_scheduled_at = u.retry_scheduled_at,
      error_at = u.error_at,
      invalid_record_at = u.invalid_record_at,
      sending_failed_at = u.sending_failed_at,
      cancelled_at = u.cancelled_at,
      reserved_quota_key = u.reserved_quota_key,
      reserved_slot = u.reserved_slot,
      previous_sent_at = u.previous_sent_at
    from unnest(
      ${texts(rows.map((r) => r.id))}::text[],
      ${texts(rows.map((r) => r.progress.state))}::text[],
      ${ints(rows.map((r) => r.progress.attempts))}::int4[],
      ${ints(rows.map((r) => r.progress.throttledAttempts))}::int4[],
      ${timestamps(rows.map((r) => r.progress.nextAttemptAt))}::timestamptz[],
      ${timestamps(rows.map((r) => r.progress.leaseExpiresAt))}::timestamptz[],
      ${texts(rows.map((r) => r.leaseOwner))}::text[],
      ${texts(rows.map((r) => r.progress.lastError?.code ?? null))}::text[],
      ${texts(rows.map((r) => r.progress.lastError?.text ?? null))}::text[],
      ${texts(rows.map((r) => r.progress.lastError?.errorClass ?? null))}::text[],
      ${texts(rows.map((r) => r.progress.wamid))}::text[],
      ${texts(rows.map((r) => r.progress.waId))}::text[],
      ${at("initial")}::timestamptz[],
      ${at("in_progress")}::timestamptz[],
      ${at("sent")}::timestamptz[],
      ${at("delivered")}::timestamptz[],
      ${at("read")}::timestamptz[],
      ${at("retry_scheduled")}::timestamptz[],
      ${at("error")}::timestamptz[],
      ${at("invalid_record")}::timestamptz[],
      ${at("sending_failed")}::timestamptz[],
      ${at("cancelled")}::timestamptz[],
      ${texts(rows.map((r) => r.reservation?.quotaKey ?? null))}::text[],
      ${timestamps(rows.map((r) => r.reservation?.slot ?? null))}::timestamptz[],
      ${timestamps(rows.map((r) => r.reservation?.previousSentAt ?? null))}::timestamptz[]
    ) as u(
      id, state, attempts, throttled_attempts, next_attempt_at, lease_expires_at, lease_owner,
      last_error_code, last_error_text, last_error_class, wamid, wa_id,
      initial_at, in_progress_at, sent_at, delivered_at, read_at, retry_scheduled_at,
      error_at, invalid_record_at, sending_failed_at, cancelled_at,
      reserved_quota_key, reserved_slot, previous_sent_at
    )
    where cc.id = u.id::bigint
      and contact_state_rank(cc.state) <= contact_state_rank(u.state)
    returning cc.id
  `
}

/** Lock contacts by id, in id order so concurrent batches never deadlock, and read them. */
export const lockContactsById = (sql: Sql, ids: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError> =>
  ids.length === 0
    ? Effect.succeed([])
    : sql`
        select ${sql.literal(contactColumns)}
        from campaign_contacts cc
        where cc.id = any(${texts(ids)}::bigint[])
        order by cc.id
        for update
      `

/** Who holds a contact after a transition: its claimer while `in_progress`, nobody otherwise. */
export const leaseOwnerAfter = (progress: ContactState.ContactProgress, owner: string | null): string | null =>
  progress.state === "in_progress" ? owner : null

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

// Connection errors can quote what the driver was given; never let a URL (and its password) reach a person.
const scrub = (text: string): string => text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<database URL>")

const explain = (error: SqlError.SqlError): string => {
  const detail = scrub(error.reason.message ?? "")
  switch (error.reason._tag) {
    case "ConnectionError":
      return "Cannot reach the PostgreSQL server (is it running, and does the database URL point at it?)"
    case "AuthenticationError":
      return "PostgreSQL refused the login: check the user and password of the database URL"
    case "AuthorizationError":
      return `The database user may not do this: ${detail}`
    case "SqlSyntaxError":
      return `PostgreSQL rejected a statement (is the schema migrated? run \`megaphone migrate\`): ${detail}`
    case "UniqueViolation":
    case "ConstraintError":
      return `A database constraint refused the change: ${detail}`
    case "DeadlockError":
    case "SerializationError":
      return `The database aborted the change because another one collided with it; it is safe to retry: ${detail}`
    case "LockTimeoutError":
    case "StatementTimeoutError":
      return `The database took too long (a lock or statement timeout); retry later: ${detail}`
    case "UnknownError":
      return detail === "" ? "The database failed" : `The database failed: ${detail}`
  }
}

/** Run a storage operation, mapping database errors to a StorageError that names the operation. */
export const operation = <A, E, R>(
  name: string,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, SqlError.SqlError> | Ports.Storage.StorageError, R> =>
  Effect.mapError(effect, (error) =>
    SqlError.isSqlError(error)
      ? new Ports.Storage.StorageError({ operation: name, message: `${name}: ${explain(error)}.` })
      // Not a database error: a tagged port error (NotFound, Conflict, StorageError) that passes through.
      : (error as Exclude<E, SqlError.SqlError>))
