/**
 * Meta error → what the sender does about it.
 * Source of truth: shared/whatsapp-cloud-api.md §2 (classification table) and §3 (webhook error objects).
 * Logic keys on Meta's numeric `code` (+ `error_data.details` for two codes), never on the title:
 * Meta says titles "will eventually be deprecated".
 */
import { Option, Schema } from "effect"

/** What kind of failure an error is, which decides what happens next. */
export const ErrorClass = Schema.Literals(["rate_limited", "transient", "recipient", "template", "account", "auth"])

/** What kind of failure an error is, which decides what happens next. */
export type ErrorClass = typeof ErrorClass.Type

/** What an error holds back: one contact, the phone number's sending, the WABA, or the whole app. */
export const ErrorScope = Schema.Literals(["contact", "template", "phone_number", "waba", "app"])

/** What an error holds back: one contact, the phone number's sending, the WABA, or the whole app. */
export type ErrorScope = typeof ErrorScope.Type

/** A failure, classified: everything the state machine, the retry policy and a person need. */
export const ClassifiedError = Schema.Struct({
  errorClass: ErrorClass,
  scope: ErrorScope,
  /** Meta's numeric code as text ("131026"), or "http_503", "network", "timeout", "malformed_response". */
  code: Schema.String,
  /** Short human text: Meta's title plus details when present. */
  text: Schema.String,
  /** Honour at least this wait before the next try (Retry-After, or Meta's advice for the code). */
  retryAfterMs: Schema.optionalKey(Schema.Number),
  /** Some codes are retried only a few times whatever the policy says (e.g. 135000: once). */
  attemptLimit: Schema.optionalKey(Schema.Number),
  /** Meta's trace id, for support tickets. */
  fbtraceId: Schema.optionalKey(Schema.String)
})

/** A failure, classified: everything the state machine, the retry policy and a person need. */
export type ClassifiedError = typeof ClassifiedError.Type

/** One row of the classification table: a Meta code (or range), how it is classified, and why. */
export interface ErrorCodeEntry {
  readonly code: number
  /** Last code of a range (200–299); absent for a single code. */
  readonly through?: number
  /** Our own stable short title (Meta's titles may change or disappear). */
  readonly title: string
  /** What the code means, in a few words an operator understands. */
  readonly meaning: string
  /** What to do about it. */
  readonly action: string
  readonly errorClass: ErrorClass
  readonly scope: ErrorScope
  /** Why this class, in one line (the table's "R/F/P/T" turned into a decision). */
  readonly reason: string
  readonly retryAfterMs?: number
  readonly attemptLimit?: number
  /** "F or P" codes: when `details` names the recipient it is a recipient failure, else the class above. */
  readonly recipientWhenDetailsNameRecipient?: true
}

const MINUTE = 60_000

/** The classification table (§2), in the order of the source; docs render it as is. */
export const errorCodeTable: ReadonlyArray<ErrorCodeEntry> = [
  // Throttling
  { code: 4, title: "App rate limit reached", meaning: "too many Graph API calls from this app",
    action: "back off for minutes; check the app's rate-limit dashboard",
    errorClass: "rate_limited", scope: "app", retryAfterMs: MINUTE,
    reason: "R: app-wide call quota, clears with time" },
  { code: 80007, title: "WABA rate limit reached", meaning: "too many calls for this WhatsApp Business Account",
    action: "back off; poll templates less often",
    errorClass: "rate_limited", scope: "waba", retryAfterMs: MINUTE,
    reason: "R: business-use-case limit of the WABA, clears with time" },
  { code: 130429, title: "Throughput limit reached", meaning: "messages per second for this number exceeded",
    action: "slow down this number; retry in seconds",
    errorClass: "rate_limited", scope: "phone_number", retryAfterMs: 1_000,
    reason: "R: per-number mps cap, clears in seconds" },
  { code: 131048, title: "Spam rate limit hit", meaning: "number restricted because many messages were blocked or reported",
    action: "stop campaigns on this number; check quality rating; retry much later",
    errorClass: "account", scope: "phone_number",
    reason: "P: continuing would worsen the number's quality; a human decides when to resume" },
  { code: 131056, title: "Pair rate limit hit", meaning: "too many messages to the same user too fast",
    action: "retry this contact after at least 6 s; check for duplicate sends",
    errorClass: "rate_limited", scope: "contact", retryAfterMs: 6_000,
    reason: "R: limit on one business→user pair only" },
  // Authorisation and permissions
  { code: 0, title: "Authentication failed", meaning: "access token invalid, expired or revoked",
    action: "stop sending; replace the access token",
    errorClass: "auth", scope: "waba", reason: "P: every send with this token fails" },
  { code: 190, title: "Access token expired", meaning: "the access token is no longer valid",
    action: "stop sending; replace the access token",
    errorClass: "auth", scope: "waba", reason: "P: every send with this token fails" },
  { code: 3, title: "Capability not permitted", meaning: "the app lacks the API method or capability",
    action: "fix the app's permissions in Meta's dashboard",
    errorClass: "auth", scope: "waba", reason: "P: configuration error, every send fails" },
  { code: 10, title: "Permission denied", meaning: "permission not granted or removed, or number not in this WABA",
    action: "grant whatsapp_business_messaging; check the number belongs to the WABA",
    errorClass: "auth", scope: "waba", reason: "P: configuration error, every send fails" },
  { code: 200, through: 299, title: "API permission error", meaning: "the token lacks a required permission",
    action: "grant the missing permission to the token",
    errorClass: "auth", scope: "waba", reason: "P: configuration error, every send fails" },
  // Payload and recipient
  { code: 100, title: "Invalid parameter", meaning: "a field of the request is unsupported, misspelt or invalid",
    action: "check the details: a bad recipient skips the contact, anything else needs a fix to the payload or config",
    errorClass: "template", scope: "template", recipientWhenDetailsNameRecipient: true,
    reason: "F or P: recipient field → that contact only; otherwise every send hits it" },
  { code: 131008, title: "Required parameter missing", meaning: "the message lacks a required parameter",
    action: "fix the template mapping; every send of this template fails",
    errorClass: "template", scope: "template", reason: "P/T: payload built wrong for the whole template" },
  { code: 131009, title: "Parameter value not valid", meaning: "a parameter value is invalid (phone format, media link …)",
    action: "check the details: a bad phone number skips the contact, anything else needs a fix",
    errorClass: "template", scope: "template", recipientWhenDetailsNameRecipient: true,
    reason: "F or P: per-contact value (phone) → that contact; template-wide value → every send" },
  { code: 131021, title: "Recipient cannot be sender", meaning: "the contact is the business number itself",
    action: "drop the contact",
    errorClass: "recipient", scope: "contact", reason: "F: only this contact is wrong" },
  { code: 131026, title: "Message undeliverable", meaning: "the number is not on WhatsApp or cannot receive this message",
    action: "mark the contact undeliverable; maybe try again in a later campaign",
    errorClass: "recipient", scope: "contact", reason: "F: about this user's WhatsApp, not our payload" },
  { code: 131030, title: "Recipient not in allowed list", meaning: "test numbers may only message up to 5 allowed recipients",
    action: "add the contact to the allowed list or use a production number",
    errorClass: "recipient", scope: "contact", reason: "F/P: other allowed contacts still work, so only this one fails" },
  { code: 131047, title: "Re-engagement message", meaning: "more than 24 h since the user last replied; free-form send outside the window",
    action: "check the payload is a template message",
    errorClass: "recipient", scope: "contact", reason: "F: table says final per contact; a template send should not see it" },
  { code: 131051, title: "Unsupported message type", meaning: "the message type is not supported",
    action: "fix the payload",
    errorClass: "template", scope: "template", reason: "P: payload bug, every send fails" },
  { code: 131052, title: "Media download error", meaning: "media could not be downloaded",
    action: "fix the media link of the template",
    errorClass: "template", scope: "template", reason: "P/T: a broken media link hits every contact" },
  { code: 131053, title: "Media upload error", meaning: "header media unreachable, too big or of the wrong type",
    action: "fix the media link of the template",
    errorClass: "template", scope: "template", reason: "P/T: a broken media link hits every contact" },
  // Templates
  { code: 132000, title: "Parameter count mismatch", meaning: "number of parameters differs from the template's placeholders",
    action: "fix the variable mapping of the template",
    errorClass: "template", scope: "template", reason: "T: every send of this template fails" },
  { code: 132001, title: "Template does not exist", meaning: "no approved template with this name in this language",
    action: "re-sync templates; check the name and language code",
    errorClass: "template", scope: "template", reason: "T: every send of this template fails" },
  { code: 132005, title: "Translated text too long", meaning: "the filled-in text is too long",
    action: "shorten this contact's values or skip the contact",
    errorClass: "recipient", scope: "contact", reason: "F: this contact's values are too long" },
  { code: 132007, title: "Template format policy violated", meaning: "parameter content violates WhatsApp policy",
    action: "check this contact's values; if a fixed value is at fault, fix the mapping",
    errorClass: "recipient", scope: "contact", reason: "F/T: values are usually per contact; we cannot tell a fixed value apart" },
  { code: 132008, title: "Template parameter value invalid", meaning: "a parameter value is not accepted",
    action: "fix this contact's value",
    errorClass: "recipient", scope: "contact", reason: "F/T: values are usually per contact" },
  { code: 132012, title: "Parameter format mismatch", meaning: "a parameter has the wrong type (e.g. text where an image is expected)",
    action: "fix the component mapping of the template",
    errorClass: "template", scope: "template", reason: "T: mapping shape is wrong for every send" },
  { code: 132015, title: "Template paused", meaning: "the template was paused for low quality",
    action: "wait for Meta to reinstate it (3 h first, 6 h second pause)",
    errorClass: "template", scope: "template", reason: "T (temporary): resumes on an APPROVED status webhook" },
  { code: 132016, title: "Template disabled", meaning: "the template was paused too many times and is disabled for good",
    action: "use another template",
    errorClass: "template", scope: "template", reason: "T (final): it will never send again" },
  { code: 132018, title: "Invalid template parameters", meaning: "a parameter value is not allowed (newline, tab, more than 4 spaces …)",
    action: "clean this contact's values",
    errorClass: "recipient", scope: "contact", reason: "F/T: the offending value is usually per contact" },
  { code: 132068, title: "Flow blocked", meaning: "the template's flow is in a blocked state",
    action: "fix or replace the flow",
    errorClass: "template", scope: "template", reason: "T: every send with this flow fails" },
  { code: 132069, title: "Flow throttled", meaning: "the flow's hourly send limit was reached",
    action: "wait an hour",
    errorClass: "rate_limited", scope: "template", retryAfterMs: 60 * MINUTE,
    reason: "R/T: clears after the hour; holds back only this template" },
  // Account
  { code: 131031, title: "Business account locked", meaning: "locked for a policy violation or failed verification",
    action: "stop everything; resolve it in Business Support Home",
    errorClass: "account", scope: "waba", reason: "P: nothing sends until a human acts" },
  { code: 131042, title: "Payment issue", meaning: "no valid payment method, credit line over limit or billing not set up",
    action: "fix billing, then resume",
    errorClass: "account", scope: "waba", reason: "P: nothing sends until billing is fixed" },
  { code: 131045, title: "Incorrect certificate", meaning: "the phone number's registration is broken",
    action: "re-register the phone number",
    errorClass: "account", scope: "phone_number", reason: "P: this number cannot send until re-registered" },
  { code: 131057, title: "Account in maintenance mode", meaning: "the account is in maintenance (e.g. a throughput upgrade)",
    action: "retry after a minute",
    errorClass: "rate_limited", scope: "phone_number", retryAfterMs: MINUTE,
    reason: "R: lasts about a minute and is no fault of the message" },
  { code: 131005, title: "Access denied", meaning: "the account may not do this",
    action: "check the account's permissions",
    errorClass: "account", scope: "waba", reason: "P: every send is denied" },
  { code: 368, title: "Temporarily blocked for policy violations", meaning: "the WABA is restricted or disabled",
    action: "stop; see Business Support Home",
    errorClass: "account", scope: "waba", reason: "P: nothing sends until the restriction ends" },
  { code: 130497, title: "Country restricted", meaning: "the business may not message users in this country",
    action: "skip contacts in that country",
    errorClass: "recipient", scope: "contact", reason: "F: depends on the contact's country" },
  { code: 130472, title: "Part of a Meta experiment", meaning: "the user's number is in a marketing experiment; not billed",
    action: "do not retry this message",
    errorClass: "recipient", scope: "contact", reason: "F: Meta holds this user back" },
  // Meta-side failures
  { code: 1, title: "Unknown API error", meaning: "invalid request or possible server error",
    action: "retry a few times, then give up on the contact",
    errorClass: "transient", scope: "contact", attemptLimit: 3, reason: "R (limited): may be our request, so not forever" },
  { code: 2, title: "API service unavailable", meaning: "temporary downtime or overload at Meta",
    action: "back off; check metastatus.com",
    errorClass: "transient", scope: "app", reason: "R: Meta outage hits every send" },
  { code: 131000, title: "Something went wrong", meaning: "generic or unknown failure at Meta",
    action: "retry up to 3 times, then give up on the contact",
    errorClass: "transient", scope: "contact", attemptLimit: 3, reason: "R (limited): may never succeed" },
  { code: 131016, title: "Service unavailable", meaning: "WhatsApp service temporarily unavailable",
    action: "back off; check the status page",
    errorClass: "transient", scope: "app", reason: "R: Meta outage hits every send" },
  { code: 133004, title: "Server temporarily unavailable", meaning: "a WhatsApp server is temporarily unavailable",
    action: "back off and retry",
    errorClass: "transient", scope: "app", reason: "R: Meta outage hits every send" },
  { code: 135000, title: "Generic user error", meaning: "unknown error, probably in the parameters",
    action: "retried once; check the parameters if it persists",
    errorClass: "transient", scope: "contact", attemptLimit: 2, reason: "F (limited R): retry once, then fail" },
  // Marketing delivery
  { code: 131049, title: "Not delivered for ecosystem health", meaning: "Meta limits marketing messages to this user; not billed",
    action: "do not retry in this campaign; wait 24 h or more before marketing to them again",
    errorClass: "recipient", scope: "contact", reason: "F for this campaign: retrying soon fails again" },
  { code: 131050, title: "User stopped marketing messages", meaning: "the user opted out of this business's marketing in WhatsApp",
    action: "suppress the contact for marketing",
    errorClass: "recipient", scope: "contact", reason: "F (hard opt-out): the user said no" }
]

/** The table entry for a Meta code, if the code is in the table. */
export const lookup = (code: number): ErrorCodeEntry | undefined =>
  errorCodeTable.find((entry) => code >= entry.code && code <= (entry.through ?? entry.code))

// "F or P" codes: does the detail point at the recipient rather than the payload or the sender's config?
// Careful with `phone_number_id` and "business phone number": those are the sender, not the recipient.
const recipientDetail =
  /\brecipient\b|\bwa_id\b|(?<!business\s)\bphone[ _]number\b(?![ _]?id\b)|['"`‘’“”]to['"`‘’“”]|\b(?:param(?:eter)?|field)\s+to\b|\bto\s+(?:param(?:eter)?|field|number)\b/i

/** True when an error's `details` names the recipient (`to`, the phone number) rather than the payload. */
export const detailsNameRecipient = (details: string | undefined): boolean =>
  details !== undefined && recipientDetail.test(details)

const cleanTitle = (title: string | undefined, code: string): string | undefined => {
  // Meta's message repeats the code as "(#131026) Title"; we show the code once.
  const stripped = title?.replace(/^\s*\(#\d+\)\s*/, "").trim()
  return stripped === undefined || stripped === "" || stripped === code ? undefined : stripped
}

interface RawError {
  readonly code: number | undefined
  readonly title: string | undefined
  readonly details: string | undefined
  readonly fbtraceId: string | undefined
}

const classifyCode = (raw: RawError & { readonly code: number }, entry: ErrorCodeEntry): ClassifiedError => {
  const details = raw.details?.trim() || undefined
  const toRecipient = entry.recipientWhenDetailsNameRecipient === true && detailsNameRecipient(details)
  const code = String(raw.code)
  return {
    errorClass: toRecipient ? "recipient" : entry.errorClass,
    scope: toRecipient ? "contact" : entry.scope,
    code,
    text: `(#${code}) ${entry.title} — ${details ?? entry.meaning}`,
    ...(entry.retryAfterMs === undefined ? {} : { retryAfterMs: entry.retryAfterMs }),
    ...(entry.attemptLimit === undefined ? {} : { attemptLimit: entry.attemptLimit }),
    ...(raw.fbtraceId === undefined ? {} : { fbtraceId: raw.fbtraceId })
  }
}

const notUnderstood = "response not understood; giving up on this contact after one attempt"

/** What we do when the code is missing or unknown: decide by HTTP status (§2 fallback). */
const classifyByStatus = (httpStatus: number | undefined, raw: RawError): ClassifiedError => {
  const code = raw.code === undefined ? (httpStatus === undefined ? "unknown" : `http_${httpStatus}`) : String(raw.code)
  const head = raw.code === undefined ? (httpStatus === undefined ? "Unknown error" : `HTTP ${httpStatus}`) : `(#${code})`
  const said = [cleanTitle(raw.title, code), raw.details?.trim() || undefined].filter((s) => s !== undefined).join(": ")
  const text = (what: string): string => `${head} ${what}${said === "" ? "" : ` (${said})`}`
  const trace = raw.fbtraceId === undefined ? {} : { fbtraceId: raw.fbtraceId }
  if (httpStatus === 429) {
    return { errorClass: "rate_limited", scope: "phone_number", code, text: text("Too many requests — slowing down"), ...trace }
  }
  if (httpStatus === 401 || httpStatus === 403) {
    return { errorClass: "auth", scope: "waba", code,
      text: text(httpStatus === 401 ? "Unauthorised — check the access token" : "Forbidden — check the token's permissions"), ...trace }
  }
  if (httpStatus === 408 || (httpStatus !== undefined && httpStatus >= 500 && httpStatus <= 599)) {
    return { errorClass: "transient", scope: "contact", code, text: text("Meta is having trouble — retrying later"), ...trace }
  }
  return { errorClass: "transient", scope: "contact", code, attemptLimit: 1, text: text(`Unknown error — ${notUnderstood}`), ...trace }
}

const classifyRaw = (httpStatus: number | undefined, raw: RawError): ClassifiedError => {
  const entry = raw.code === undefined ? undefined : lookup(raw.code)
  return entry === undefined || raw.code === undefined
    ? classifyByStatus(httpStatus, raw)
    : classifyCode({ ...raw, code: raw.code }, entry)
}

/** Meta's Graph error envelope (`{ error: { … } }`), every field optional: we take what is there. */
export const GraphErrorBody = Schema.Struct({
  error: Schema.Struct({
    message: Schema.optionalKey(Schema.String),
    type: Schema.optionalKey(Schema.String),
    code: Schema.optionalKey(Schema.Int),
    error_subcode: Schema.optionalKey(Schema.Int),
    error_data: Schema.optionalKey(Schema.Struct({ details: Schema.optionalKey(Schema.String) })),
    fbtrace_id: Schema.optionalKey(Schema.String)
  })
})

/** The decoded Graph error envelope. */
export type GraphErrorBody = typeof GraphErrorBody.Type

// When some other field has an odd type, the code alone still decides the class.
const GraphErrorCodeOnly = Schema.Struct({ error: Schema.Struct({ code: Schema.Int }) })

const decodeGraphBody = Schema.decodeUnknownOption(GraphErrorBody)
const decodeGraphCodeOnly = Schema.decodeUnknownOption(GraphErrorCodeOnly)

const rawFromBody = (body: unknown): RawError => {
  const full = decodeGraphBody(body)
  if (Option.isSome(full)) {
    const e = full.value.error
    return { code: e.code, title: e.message, details: e.error_data?.details, fbtraceId: e.fbtrace_id }
  }
  const codeOnly = decodeGraphCodeOnly(body)
  return { code: Option.isSome(codeOnly) ? codeOnly.value.error.code : undefined,
    title: undefined, details: undefined, fbtraceId: undefined }
}

/** Retry-After (delta seconds or HTTP date) in milliseconds from `now`; undefined when unusable. */
export const parseRetryAfter = (value: string | undefined, now: Date | undefined): number | undefined => {
  const trimmed = value?.trim()
  if (trimmed === undefined || trimmed === "") return undefined
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  if (now === undefined) return undefined
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime())
}

/** What came back from a non-2xx Graph API call. */
export interface GraphErrorInput {
  readonly httpStatus: number
  /** The parsed JSON body, or whatever it was (HTML, empty, undefined). */
  readonly body: unknown
  /** The Retry-After header as sent (seconds or HTTP date). */
  readonly retryAfter?: string | undefined
  /** Needed only to read a Retry-After given as an HTTP date. */
  readonly now?: Date | undefined
}

/** Classifies a failed Graph API send: by Meta's code (+ details), else by HTTP status. Never throws. */
export const classifyGraphError = (input: GraphErrorInput): ClassifiedError => {
  const classified = classifyRaw(input.httpStatus, rawFromBody(input.body))
  const header = parseRetryAfter(input.retryAfter, input.now)
  // Retry-After only matters for errors that are retried; wait for the longer of header and code advice.
  if (header === undefined || (classified.errorClass !== "rate_limited" && classified.errorClass !== "transient")) {
    return classified
  }
  return { ...classified, retryAfterMs: Math.max(header, classified.retryAfterMs ?? 0) }
}

/** Webhook error object from `statuses[].errors[]` (§3); `message` repeats the title. */
export const WebhookError = Schema.Struct({
  code: Schema.Int,
  title: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  error_data: Schema.optionalKey(Schema.Struct({ details: Schema.optionalKey(Schema.String) })),
  href: Schema.optionalKey(Schema.String)
})

/** A decoded webhook error object. */
export type WebhookError = typeof WebhookError.Type

/** Classifies the error of a `failed` status webhook, with the same table (no HTTP status there). */
export const classifyWebhookError = (error: WebhookError): ClassifiedError =>
  classifyRaw(undefined, {
    code: error.code,
    title: error.title ?? error.message,
    details: error.error_data?.details,
    fbtraceId: undefined
  })

/** How a request failed before Meta gave a usable answer. */
export type TransportFailureKind = "timeout" | "network" | "malformed_response"

const transportTexts: Readonly<Record<TransportFailureKind, string>> = {
  timeout: "Timed out waiting for Meta — the request may have reached Meta, outcome unknown",
  network: "Network error — the request did not reach Meta",
  malformed_response: "Malformed response from Meta — the message may have been accepted, outcome unknown"
}

/**
 * Whether Meta may have taken the message although the send failed: a timeout or an unreadable answer (a network
 * error never reached Meta). Such a send is retried only after the grace of an unknown outcome, as after a crash.
 */
export const outcomeUnknown = (error: Pick<ClassifiedError, "code">): boolean =>
  error.code === "timeout" || error.code === "malformed_response"

/** Classifies a failure below HTTP (timeout, network, unreadable answer): always transient. */
export const classifyTransportFailure = (kind: TransportFailureKind, detail: string): ClassifiedError => ({
  errorClass: "transient",
  scope: "contact",
  code: kind,
  text: detail.trim() === "" ? transportTexts[kind] : `${transportTexts[kind]} (${detail.trim()})`
})

/** A one-line English explanation of a code (Meta's, "http_503", or a transport kind) and what to do. */
export const explain = (code: number | string): string => {
  const text = String(code).trim()
  if (text === "timeout" || text === "network" || text === "malformed_response") return transportTexts[text]
  const http = /^http_(\d+)$/.exec(text)
  if (http !== null) {
    const status = Number(http[1])
    return classifyByStatus(status, { code: undefined, title: undefined, details: undefined, fbtraceId: undefined }).text
  }
  const entry = /^\d+$/.test(text) ? lookup(Number(text)) : undefined
  return entry === undefined
    ? `(#${text}) Unknown error code — see Meta's error-codes page`
    : `(#${text}) ${entry.title} — ${entry.meaning}; ${entry.action}.`
}
