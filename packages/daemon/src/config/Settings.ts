/**
 * Every setting of the daemon in one table: its key in the configuration file, its environment variable and
 * flag, its default, what values it takes (the Schema that checks it and the same rule in words), and what it
 * does. The loader, the error messages and docs/operations.md all follow this table; a test keeps the
 * Schema, the table and the document in step.
 */
import { Phone, RetryPolicy } from "@megaphone/core"
import { Database } from "@megaphone/adapters"
import { Result, Schema, SchemaTransformation } from "effect"
import * as Dispatcher from "../dispatch/Dispatcher.ts"

/** How a setting's text from the environment or a flag is read: integers become numbers, the rest stays text. */
export type Kind = "integer" | "text"

/** One configuration key, as the loader, its messages and the documentation see it. */
export interface Setting {
  /** Dotted path in the configuration file, e.g. `dispatch.concurrency`. */
  readonly key: string
  /** The rule in words, completing "expected …": `an integer between 1 and 1024`. */
  readonly expected: string
  readonly kind: Kind
  /** The environment variable that overrides the file. */
  readonly env: string | undefined
  /** The command-line flag that overrides the environment. */
  readonly flag: string | undefined
  /** The default, as it would be written in the file; `undefined` when unset by default. */
  readonly default: string | number | undefined
  /** A secret is never echoed in messages and lives only in a `Redacted` once decoded. */
  readonly secret: boolean
  readonly description: string
}

interface Check<S extends Schema.Top> {
  readonly schema: S
  readonly expected: string
  readonly kind: Kind
}

interface Options<S extends Schema.Top> {
  readonly env?: string
  readonly flag?: string
  readonly default?: S["Encoded"] & (string | number)
  readonly secret?: boolean
  readonly description: string
}

const define = <S extends Schema.Top>(key: string, check: Check<S>, options: Options<S>): { readonly setting: Setting; readonly schema: S } => ({
  schema: check.schema,
  setting: {
    key,
    expected: check.expected,
    kind: check.kind,
    env: options.env,
    flag: options.flag,
    default: options.default,
    secret: options.secret ?? false,
    description: options.description
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Checks

const integer = (minimum: number, maximum: number) => ({
  schema: Schema.Int.check(Schema.isBetween({ minimum, maximum })),
  expected: `an integer between ${minimum} and ${maximum}`,
  kind: "integer" as const
})

const milliseconds = (minimum: number, maximum: number) => ({
  ...integer(minimum, maximum),
  expected: `an integer number of milliseconds between ${minimum} and ${maximum}`
})

const oneOf = <const L extends ReadonlyArray<string>>(values: L) => ({
  schema: Schema.Literals(values),
  expected: `one of ${values.map((v) => `"${v}"`).join(", ")}`,
  kind: "text" as const
})

/** Where a server listens. */
export interface ListenAddress {
  /** An IPv4 address, an IPv6 address (without brackets) or a host name. */
  readonly host: string
  /** 0 asks the system for a free port. */
  readonly port: number
}

const LISTEN = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/

/** `127.0.0.1:8787` or `[::1]:8787` as host and port; `undefined` when it is not HOST:PORT with a port up to 65535. */
export const parseListen = (text: string): ListenAddress | undefined => {
  const match = LISTEN.exec(text.trim())
  const host = match?.[1]
  const port = Number(match?.[2])
  if (host === undefined || !(port <= 65_535)) return undefined
  return { host: host.replace(/^\[|\]$/g, ""), port }
}

/** `HOST:PORT`, with brackets around an IPv6 address. */
export const formatListen = (address: ListenAddress): string =>
  address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`

const listen = {
  schema: Schema.String.check(Schema.makeFilter((text: string) => parseListen(text) !== undefined)).pipe(
    Schema.decodeTo(
      Schema.Struct({ host: Schema.String, port: Schema.Int }),
      SchemaTransformation.transform({
        decode: (text: string): ListenAddress => parseListen(text) ?? { host: "", port: 0 }, // checked just above
        encode: formatListen
      })
    )
  ),
  expected: "HOST:PORT such as 127.0.0.1:8787 or [::1]:8787, with a port between 0 and 65535",
  kind: "text" as const
}

const country = {
  schema: Schema.String.check(Schema.makeFilter((code: string) => Result.isSuccess(Phone.parseCountry(code)))).pipe(
    Schema.decodeTo(
      Schema.String,
      SchemaTransformation.transform({
        decode: (code: string) => Result.getOrElse(Phone.parseCountry(code), () => code),
        encode: (code: string) => code
      })
    )
  ),
  expected: "a two-letter ISO 3166 country code, such as CZ, SK or DE",
  kind: "text" as const
}

const postgresUrl = {
  schema: Schema.RedactedFromValue(Schema.String.check(Schema.isPattern(/^postgres(ql)?:\/\/\S+$/))),
  expected: "a PostgreSQL URL such as postgres://USER:PASSWORD@HOST:5432/DATABASE",
  kind: "text" as const
}

const directory = {
  schema: Schema.String.check(Schema.makeFilter((path: string) => path.trim() !== "")),
  expected: "a directory path",
  kind: "text" as const
}

const daemonIdentifier = {
  schema: Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/)),
  expected: "1 to 64 letters, digits and . _ : @ - starting with a letter or digit",
  kind: "text" as const
}

// ---------------------------------------------------------------------------------------------------------------
// The settings

const DAY_MS = 86_400_000

/** The default of `shutdown.deadlineMs`: how long in-flight rounds may take to finish after SIGTERM. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 20_000

/** The values of `log.level`, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const

/** A `log.level`: the least severe level written. */
export type LogLevelName = typeof LOG_LEVELS[number]

const databaseUrl = define("database.url", postgresUrl, {
  env: "MEGAPHONE_DATABASE_URL",
  flag: "--database-url",
  secret: true,
  description: "PostgreSQL server to use. Unset: the embedded PostgreSQL in database.dataDir. Holds a password, so it is " +
    "read like a secret: MEGAPHONE_DATABASE_URL, MEGAPHONE_DATABASE_URL_FILE or the credential MEGAPHONE_DATABASE_URL."
})
const dataDir = define("database.dataDir", directory, {
  env: "MEGAPHONE_DATA_DIR",
  default: Database.DEFAULT_DATA_DIR,
  description: "Data directory of the embedded PostgreSQL (used only without database.url); relative to the working directory."
})
const maxConnections = define("database.maxConnections", integer(1, 1000), {
  env: "MEGAPHONE_DATABASE_MAX_CONNECTIONS",
  default: 10,
  description: "Connections this daemon opens to PostgreSQL at most."
})
const webhookListen = define("webhook.listen", listen, {
  env: "MEGAPHONE_WEBHOOK_LISTEN",
  flag: "--webhook-listen",
  default: "0.0.0.0:8788",
  description: "Where Meta's webhooks are received (GET/POST /webhooks/whatsapp); put TLS in front of it."
})
const headerName = {
  schema: Schema.String.check(Schema.isPattern(/^[A-Za-z0-9-]{1,64}$/)),
  expected: "an HTTP header name: 1 to 64 letters, digits and -",
  kind: "text" as const
}
const webhookSecretHeader = define("webhook.secretHeader", headerName, {
  env: "MEGAPHONE_WEBHOOK_SECRET_HEADER",
  default: "X-Megaphone-Webhook-Secret",
  description: "The header in which a BSP (360dialog) sends MEGAPHONE_WEBHOOK_SECRET with each webhook; accepted only for " +
    "360dialog accounts (docs/providers.md). Meta-direct webhooks still need Meta's signature."
})
const adminListen = define("admin.listen", listen, {
  env: "MEGAPHONE_ADMIN_LISTEN",
  flag: "--admin-listen",
  default: "127.0.0.1:8787",
  description: "Where the admin API, /healthz, /readyz and /metrics are served."
})
const concurrency = define("dispatch.concurrency", integer(1, 1024), {
  env: "MEGAPHONE_CONCURRENCY",
  description: "Sends in flight at once per account, across overlapping rounds. Unset: the phone number's " +
    "messages/second ÷ 2, at least 32 and at most 1024."
})
const claimLimit = define("dispatch.claimLimit", integer(1, 10_000), {
  env: "MEGAPHONE_CLAIM_LIMIT",
  default: Dispatcher.defaults.claimLimit,
  description: "Contacts claimed per round at most."
})
const leaseMs = define("dispatch.leaseMs", milliseconds(60_000, DAY_MS), {
  env: "MEGAPHONE_LEASE_MS",
  default: Dispatcher.defaults.leaseMs,
  description: "How long a claim holds once its send slot has come; longer than a send's 30 s request timeout and than " +
    "a late `sent` webhook takes. A contact of a crashed daemon is retried after it."
})
const horizonMs = define("dispatch.horizonMs", milliseconds(100, 60_000), {
  env: "MEGAPHONE_HORIZON_MS",
  default: Dispatcher.defaults.horizonMs,
  description: "How far ahead send slots are handed out; must be less than dispatch.leaseMs."
})
const idleMs = define("dispatch.idleMs", milliseconds(10, 60_000), {
  env: "MEGAPHONE_IDLE_MS",
  default: Dispatcher.defaults.idleMs,
  description: "Longest wait between rounds when nothing is due."
})
const roundsInFlight = define("dispatch.roundsInFlight", integer(1, 64), {
  env: "MEGAPHONE_ROUNDS_IN_FLIGHT",
  default: Dispatcher.defaults.roundsInFlight,
  description: "Claim rounds in flight at once per account (the next claim overlaps the sends of the last)."
})
const lateMs = define("dispatch.lateMs", milliseconds(0, 1_000), {
  env: "MEGAPHONE_LATE_MS",
  default: Dispatcher.defaults.lateMs,
  description: "A send that cannot leave this long after its slot is handed back unsent. Slots are planned at " +
    "rate × 1000 / (1000 + lateMs + 27), so no second ever holds more than the number's rate: smaller sends closer " +
    "to the rate on a machine that keeps up."
})
const maxAttempts = define("retry.maxAttempts", integer(1, 100), {
  env: "MEGAPHONE_RETRY_MAX_ATTEMPTS",
  default: RetryPolicy.defaultPolicy.maxAttempts,
  description: "Attempts per contact (rate-limited tries do not count); then the contact is `error`."
})
const baseDelayMs = define("retry.baseDelayMs", milliseconds(100, DAY_MS), {
  env: "MEGAPHONE_RETRY_BASE_DELAY_MS",
  default: RetryPolicy.defaultPolicy.baseDelayMs,
  description: "Backoff ceiling of the first retry; doubles per attempt, with full jitter."
})
const maxDelayMs = define("retry.maxDelayMs", milliseconds(100, DAY_MS), {
  env: "MEGAPHONE_RETRY_MAX_DELAY_MS",
  default: RetryPolicy.defaultPolicy.maxDelayMs,
  description: "No single wait is longer; at least retry.baseDelayMs and retry.rateLimitedBaseDelayMs."
})
const rateLimitedBaseDelayMs = define("retry.rateLimitedBaseDelayMs", milliseconds(100, DAY_MS), {
  env: "MEGAPHONE_RETRY_RATE_LIMITED_BASE_DELAY_MS",
  default: RetryPolicy.defaultPolicy.rateLimitedBaseDelayMs,
  description: "Backoff ceiling of the first retry after a rate-limit answer (Meta's Retry-After wins when longer)."
})
const unknownOutcomeGraceMs = define("retry.unknownOutcomeGraceMs", milliseconds(0, DAY_MS), {
  env: "MEGAPHONE_RETRY_UNKNOWN_OUTCOME_GRACE_MS",
  default: RetryPolicy.defaultPolicy.unknownOutcomeGraceMs,
  description: "After an expired lease (outcome unknown), wait this long for a late `sent` webhook before resending."
})
const onUnknownOutcome = define("retry.onUnknownOutcome", oneOf(["retry", "hold"]), {
  env: "MEGAPHONE_RETRY_ON_UNKNOWN_OUTCOME",
  default: RetryPolicy.defaultPolicy.onUnknownOutcome,
  description: "After an expired lease: `retry` resends after the grace, `hold` parks the contact for a person (no duplicates at all)."
})
const deadlineMs = define("shutdown.deadlineMs", milliseconds(0, 3_600_000), {
  env: "MEGAPHONE_SHUTDOWN_DEADLINE_MS",
  default: DEFAULT_SHUTDOWN_DEADLINE_MS,
  description: "After SIGTERM, how long rounds in flight may take to finish before they are interrupted. Keep the unit's TimeoutStopSec longer."
})
const level = define("log.level", oneOf(LOG_LEVELS), {
  env: "MEGAPHONE_LOG_LEVEL",
  default: "info",
  description: "Least severe log level written to stderr."
})
const defaultCountry = define("phone.defaultCountry", country, {
  env: "MEGAPHONE_DEFAULT_COUNTRY",
  default: Phone.DEFAULT_COUNTRY,
  description: "Country assumed for phone numbers written without a country code."
})
const daemonId = define("daemonId", daemonIdentifier, {
  env: "MEGAPHONE_DAEMON_ID",
  description: "This daemon's name in leases and logs; unique per daemon. Unset: daemon-PID-RANDOM."
})

/** Every setting, in the order of the configuration file. */
export const settings: ReadonlyArray<Setting> = [
  databaseUrl, dataDir, maxConnections, webhookListen, webhookSecretHeader, adminListen,
  concurrency, claimLimit, leaseMs, horizonMs, idleMs, roundsInFlight, lateMs,
  maxAttempts, baseDelayMs, maxDelayMs, rateLimitedBaseDelayMs, unknownOutcomeGraceMs, onUnknownOutcome,
  deadlineMs, level, defaultCountry, daemonId
].map((d) => d.setting)

/** The settings of the daemon, decoded: the file's shape, every default filled in, secrets `Redacted`. */
export const DaemonSettings = Schema.Struct({
  database: Schema.Struct({
    url: Schema.optionalKey(databaseUrl.schema),
    dataDir: dataDir.schema,
    maxConnections: maxConnections.schema
  }),
  webhook: Schema.Struct({ listen: webhookListen.schema, secretHeader: webhookSecretHeader.schema }),
  admin: Schema.Struct({ listen: adminListen.schema }),
  dispatch: Schema.Struct({
    concurrency: Schema.optionalKey(concurrency.schema),
    claimLimit: claimLimit.schema,
    leaseMs: leaseMs.schema,
    horizonMs: horizonMs.schema,
    idleMs: idleMs.schema,
    roundsInFlight: roundsInFlight.schema,
    lateMs: lateMs.schema
  }),
  retry: Schema.Struct({
    maxAttempts: maxAttempts.schema,
    baseDelayMs: baseDelayMs.schema,
    maxDelayMs: maxDelayMs.schema,
    rateLimitedBaseDelayMs: rateLimitedBaseDelayMs.schema,
    unknownOutcomeGraceMs: unknownOutcomeGraceMs.schema,
    onUnknownOutcome: onUnknownOutcome.schema
  }),
  shutdown: Schema.Struct({ deadlineMs: deadlineMs.schema }),
  log: Schema.Struct({ level: level.schema }),
  phone: Schema.Struct({ defaultCountry: defaultCountry.schema }),
  daemonId: Schema.optionalKey(daemonId.schema)
})

/** The decoded settings (see {@link DaemonSettings}). */
export type DaemonSettings = typeof DaemonSettings.Type

/** The settings in a file's terms (`HOST:PORT` text, the URL as text), as `Schema.encode` gives them back; a file may leave out any key. */
export type DaemonSettingsFile = typeof DaemonSettings.Encoded

/** The sections of the file: `database`, `webhook`, … (every key with a dot has one). */
export const sections: ReadonlyArray<string> = [...new Set(settings.flatMap((s) => {
  const parts = s.key.split(".")
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("."))
}))]
