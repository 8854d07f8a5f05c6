/**
 * Meta's webhook notifications (whatsapp-cloud-api.md §3) as domain items, plus the two small rules the
 * receiver needs around them: the callback data we send with each message, and opt-out replies.
 *
 * Decoding is tolerant by design: Meta adds fields and values without notice, and one item we cannot read must
 * never cost us the statuses next to it. So every `entry[]` → `changes[]` → item is decoded on its own; what we
 * cannot use becomes an `Ignored` item with its field name and reason (the receiver logs it and answers 200).
 */
import { Option, Result, Schema } from "effect"
import type * as ContactState from "./ContactState.ts"
import { type ClassifiedError, classifyWebhookError, WebhookError } from "./ErrorClass.ts"
import type * as Storage from "./ports/Storage.ts"

// ---------------------------------------------------------------------------------------------------------
// Domain items
// ---------------------------------------------------------------------------------------------------------

/** The statuses of an outbound message that change a contact (Meta's rare `deleted`/`warning` are ignored). */
export type MessageStatus = "sent" | "delivered" | "read" | "failed"

/** A status update of a message we sent (`messages` field, `value.statuses[]`). */
export interface StatusUpdate {
  readonly _tag: "StatusUpdate"
  readonly wamid: string
  readonly status: MessageStatus
  /** Meta's timestamp (unix seconds in the payload). */
  readonly at: Date
  /** The user's wa_id; null when Meta sent none (username-only users, from 2026). */
  readonly recipientId: string | null
  readonly phoneNumberId: string
  readonly wabaId: string
  /** `biz_opaque_callback_data`, echoed as we sent it. */
  readonly callbackData?: string
  /** The first of `errors[]`, classified (only on `failed`). */
  readonly error?: ClassifiedError
}

/** A message a user sent to the business number (`messages` field, `value.messages[]`). */
export interface InboundMessage {
  readonly _tag: "InboundMessage"
  readonly wabaId: string
  readonly phoneNumberId: string
  /** The user's wa_id. */
  readonly from: string
  readonly wamid: string
  readonly at: Date
  /** Meta's message type: text, button, interactive, image, … */
  readonly type: string
  readonly text?: string
  /** Quick-reply button payload (template buttons) or interactive reply id. */
  readonly buttonPayload?: string
  readonly buttonText?: string
  /** The wamid of our message the user replied to or tapped a button on. */
  readonly contextWamid?: string
}

/** `message_template_status_update`: a template was approved, paused, disabled, … */
export interface TemplateStatusChange {
  readonly _tag: "TemplateStatusChange"
  readonly wabaId: string
  readonly templateId: string
  readonly name: string
  readonly language: string
  readonly category: string | null
  /** APPROVED, REJECTED, PAUSED, DISABLED, REINSTATED, … */
  readonly event: string
  /** Meta's reason (NONE for a pause); null when Meta sent none. */
  readonly reason: string | null
  /** `other_info` of a pause or unpause (title FIRST_PAUSE, SECOND_PAUSE, UNPAUSE, …). */
  readonly otherInfo: { readonly title: string | null; readonly description: string | null } | null
  /** `rejection_info.reason` of a rejection. */
  readonly rejectionReason: string | null
}

/** `message_template_quality_update`: a template's quality score changed. */
export interface TemplateQualityUpdate {
  readonly _tag: "TemplateQualityUpdate"
  readonly wabaId: string
  readonly templateId: string
  readonly name: string
  readonly language: string
  readonly previousScore: string | null
  /** GREEN, YELLOW, RED or UNKNOWN. */
  readonly newScore: string
}

/** `phone_number_quality_update`: a number's messaging limit or throughput changed, or it was flagged. */
export interface PhoneQualityUpdate {
  readonly _tag: "PhoneQualityUpdate"
  readonly wabaId: string
  readonly displayPhoneNumber: string
  /** UPGRADE, DOWNGRADE, FLAGGED, UNFLAGGED, ONBOARDING, THROUGHPUT_UPGRADE, … */
  readonly event: string
  readonly currentLimit: string | null
  readonly oldLimit: string | null
  /** The newer field for the messaging limit (tier name or integer, -1 = unlimited). */
  readonly maxDailyConversationsPerBusiness: string | number | null
}

/** `business_capability_update`: the business's messaging limit (and number allowances) changed. */
export interface CapabilityUpdate {
  readonly _tag: "CapabilityUpdate"
  readonly wabaId: string
  /** TIER_2K, …, or an integer (-1 = unlimited). */
  readonly maxDailyConversationsPerBusiness: string | number | null
  /** Legacy per-number limit (removed Feb 2026). */
  readonly maxDailyConversationPerPhone: string | number | null
  readonly maxPhoneNumbersPerBusiness: number | null
  readonly maxPhoneNumbersPerWaba: number | null
}

/** `account_update`: violations, restrictions, bans and other WABA-level news. */
export interface AccountUpdate {
  readonly _tag: "AccountUpdate"
  readonly wabaId: string
  readonly event: string
  readonly phoneNumber: string | null
  /** `restriction_info[].restriction_type`. */
  readonly restrictionTypes: ReadonlyArray<string>
  readonly violationType: string | null
  readonly banState: string | null
  /** Business-initiated sending is blocked (§3: halt all campaigns on that WABA). */
  readonly haltsSending: boolean
}

/** A system-level error (`value.errors[]`), not tied to one message. */
export interface SystemError {
  readonly _tag: "SystemError"
  readonly wabaId: string
  readonly phoneNumberId: string | null
  readonly error: ClassifiedError
}

/** Something we do not act on (an unknown field, a rare status) or could not read; logged, never fatal. */
export interface Ignored {
  readonly _tag: "Ignored"
  readonly wabaId: string | null
  readonly field: string
  readonly reason: string
}

/** One thing a webhook notification told us. */
export type WebhookItem =
  | StatusUpdate
  | InboundMessage
  | TemplateStatusChange
  | TemplateQualityUpdate
  | PhoneQualityUpdate
  | CapabilityUpdate
  | AccountUpdate
  | SystemError
  | Ignored

/** Everything in one POST, in payload order. */
export interface WebhookBatch {
  /** Meta's `object` (`whatsapp_business_account`), when present. */
  readonly object: string | null
  readonly items: ReadonlyArray<WebhookItem>
}

/** A body that is not a webhook notification at all (no `entry[]`). */
export class WebhookDecodeError extends Schema.TaggedError<WebhookDecodeError>()("WebhookDecodeError", {
  explanation: Schema.String
}) {
  override get message(): string {
    return this.explanation
  }
}

// ---------------------------------------------------------------------------------------------------------
// Wire schemas: only what we use, so new fields never fail a decode
// ---------------------------------------------------------------------------------------------------------

// Meta sends ids as strings in some places and numbers in others (message_template_id).
const Id = Schema.Union([Schema.String, Schema.Finite])
const Tier = Schema.Union([Schema.String, Schema.Finite])

const Envelope = Schema.Struct({
  object: Schema.optionalKey(Schema.Unknown),
  entry: Schema.Array(Schema.Unknown)
})
const Entry = Schema.Struct({ id: Id, changes: Schema.Array(Schema.Unknown) })
const Change = Schema.Struct({ field: Schema.String, value: Schema.Unknown })

const MessagesValue = Schema.Struct({
  metadata: Schema.Struct({ phone_number_id: Id }),
  statuses: Schema.optionalKey(Schema.Array(Schema.Unknown)),
  messages: Schema.optionalKey(Schema.Array(Schema.Unknown)),
  errors: Schema.optionalKey(Schema.Array(Schema.Unknown))
})

const StatusWire = Schema.Struct({
  id: Schema.String,
  status: Schema.String,
  timestamp: Id,
  recipient_id: Schema.optionalKey(Schema.Unknown),
  biz_opaque_callback_data: Schema.optionalKey(Schema.Unknown),
  errors: Schema.optionalKey(Schema.Unknown)
})

const MessageWire = Schema.Struct({
  from: Schema.String,
  id: Schema.String,
  timestamp: Id,
  type: Schema.optionalKey(Schema.Unknown),
  text: Schema.optionalKey(Schema.Unknown),
  button: Schema.optionalKey(Schema.Unknown),
  interactive: Schema.optionalKey(Schema.Unknown),
  context: Schema.optionalKey(Schema.Unknown)
})

const TemplateStatusWire = Schema.Struct({
  event: Schema.String,
  message_template_id: Id,
  message_template_name: Schema.String,
  message_template_language: Schema.String,
  message_template_category: Schema.optionalKey(Schema.Unknown),
  reason: Schema.optionalKey(Schema.Unknown),
  other_info: Schema.optionalKey(Schema.Unknown),
  rejection_info: Schema.optionalKey(Schema.Unknown)
})

const TemplateQualityWire = Schema.Struct({
  message_template_id: Id,
  message_template_name: Schema.String,
  message_template_language: Schema.String,
  previous_quality_score: Schema.optionalKey(Schema.Unknown),
  new_quality_score: Schema.String
})

const PhoneQualityWire = Schema.Struct({
  display_phone_number: Id,
  event: Schema.String,
  current_limit: Schema.optionalKey(Schema.Unknown),
  old_limit: Schema.optionalKey(Schema.Unknown),
  max_daily_conversations_per_business: Schema.optionalKey(Schema.Unknown)
})

const CapabilityWire = Schema.Struct({
  max_daily_conversations_per_business: Schema.optionalKey(Schema.Unknown),
  max_daily_conversation_per_phone: Schema.optionalKey(Schema.Unknown),
  max_phone_numbers_per_business: Schema.optionalKey(Schema.Unknown),
  max_phone_numbers_per_waba: Schema.optionalKey(Schema.Unknown)
})

const AccountWire = Schema.Struct({
  event: Schema.String,
  phone_number: Schema.optionalKey(Schema.Unknown),
  violation_info: Schema.optionalKey(Schema.Unknown),
  restriction_info: Schema.optionalKey(Schema.Unknown),
  ban_info: Schema.optionalKey(Schema.Unknown)
})

// Optional parts are decoded one by one: a part of an unexpected shape is dropped, the item is kept.
const optional = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) => {
  const decode = Schema.decodeUnknownOption(schema)
  return (input: unknown): S["Type"] | undefined => (input === undefined ? undefined : Option.getOrUndefined(decode(input)))
}
const text = optional(Schema.String)
const tier = optional(Tier)
const count = optional(Schema.Finite)
const TextBody = optional(Schema.Struct({ body: Schema.String }))
const ButtonWire = optional(Schema.Struct({ payload: Schema.optionalKey(Schema.String), text: Schema.optionalKey(Schema.String) }))
const ReplyWire = Schema.Struct({ id: Schema.optionalKey(Schema.String), title: Schema.optionalKey(Schema.String) })
const InteractiveWire = optional(Schema.Struct({
  button_reply: Schema.optionalKey(ReplyWire),
  list_reply: Schema.optionalKey(ReplyWire)
}))
const ContextWire = optional(Schema.Struct({ id: Schema.optionalKey(Schema.String) }))
const OtherInfoWire = optional(Schema.Struct({
  title: Schema.optionalKey(Schema.String),
  description: Schema.optionalKey(Schema.String)
}))
const RejectionWire = optional(Schema.Struct({ reason: Schema.optionalKey(Schema.String) }))
const ViolationWire = optional(Schema.Struct({ violation_type: Schema.optionalKey(Schema.String) }))
const RestrictionsWire = optional(Schema.Array(Schema.Unknown))
const RestrictionWire = optional(Schema.Struct({ restriction_type: Schema.String }))
const BanWire = optional(Schema.Struct({ waba_ban_state: Schema.optionalKey(Schema.Unknown) }))
const ErrorsWire = optional(Schema.Array(Schema.Unknown))
const webhookError = optional(WebhookError)

const decodeWith = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) => {
  const decode = Schema.decodeUnknownResult(schema)
  return (input: unknown): Result.Result<S["Type"], string> => Result.mapError(decode(input), (error) => error.message)
}
const decodeEnvelope = decodeWith(Envelope)
const decodeEntry = decodeWith(Entry)
const decodeChange = decodeWith(Change)
const decodeMessagesValue = decodeWith(MessagesValue)
const decodeStatus = decodeWith(StatusWire)
const decodeMessage = decodeWith(MessageWire)
const decodeTemplateStatus = decodeWith(TemplateStatusWire)
const decodeTemplateQuality = decodeWith(TemplateQualityWire)
const decodePhoneQuality = decodeWith(PhoneQualityWire)
const decodeCapability = decodeWith(CapabilityWire)
const decodeAccount = decodeWith(AccountWire)

// ---------------------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------------------

// Dates past ±8.64e15 ms are invalid in JavaScript; such a timestamp is not one Meta sent.
const MAX_DATE_MS = 8.64e15

/** Meta's unix-seconds timestamp (a string, sometimes a number) as a Date; undefined when it is not one. */
export const parseTimestamp = (value: string | number): Date | undefined => {
  const seconds = typeof value === "number" ? value : /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN
  const ms = seconds * 1000
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms) : undefined
}

const deliveryStatuses: ReadonlyArray<string> = ["sent", "delivered", "read", "failed"]
const isMessageStatus = (status: string): status is MessageStatus => deliveryStatuses.includes(status)

/** What Meta gives us when a `failed` status carries no readable error object. */
const unexplainedFailure: ClassifiedError = {
  errorClass: "recipient",
  scope: "contact",
  code: "unknown",
  text: "Meta reported the message as failed without an error code"
}

const firstError = (errors: unknown): ClassifiedError | undefined => {
  const first = ErrorsWire(errors)?.[0]
  const decoded = first === undefined ? undefined : webhookError(first)
  return decoded === undefined ? undefined : classifyWebhookError(decoded)
}

const ignored = (wabaId: string | null, field: string, reason: string): Ignored => ({ _tag: "Ignored", wabaId, field, reason })

const statusItem = (raw: unknown, wabaId: string, phoneNumberId: string): WebhookItem => {
  const decoded = decodeStatus(raw)
  if (Result.isFailure(decoded)) return ignored(wabaId, "messages", `unreadable status: ${decoded.failure}`)
  const s = decoded.success
  if (!isMessageStatus(s.status)) return ignored(wabaId, "messages", `status "${s.status}" of ${s.id} is not tracked`)
  const at = parseTimestamp(s.timestamp)
  if (at === undefined) return ignored(wabaId, "messages", `status of ${s.id} has no valid timestamp`)
  const recipient = typeof s.recipient_id === "number" ? String(s.recipient_id) : text(s.recipient_id)
  const callbackData = text(s.biz_opaque_callback_data)
  const error = s.status === "failed" ? firstError(s.errors) ?? unexplainedFailure : firstError(s.errors)
  return {
    _tag: "StatusUpdate",
    wamid: s.id,
    status: s.status,
    at,
    recipientId: recipient ?? null,
    phoneNumberId,
    wabaId,
    ...(callbackData === undefined ? {} : { callbackData }),
    ...(error === undefined ? {} : { error })
  }
}

const messageItem = (raw: unknown, wabaId: string, phoneNumberId: string): WebhookItem => {
  const decoded = decodeMessage(raw)
  if (Result.isFailure(decoded)) return ignored(wabaId, "messages", `unreadable inbound message: ${decoded.failure}`)
  const m = decoded.success
  const at = parseTimestamp(m.timestamp)
  if (at === undefined) return ignored(wabaId, "messages", `inbound message ${m.id} has no valid timestamp`)
  const button = ButtonWire(m.button)
  const interactive = InteractiveWire(m.interactive)
  const reply = interactive?.button_reply ?? interactive?.list_reply
  const body = TextBody(m.text)?.body
  const payload = button?.payload ?? reply?.id
  const buttonText = button?.text ?? reply?.title
  const contextWamid = ContextWire(m.context)?.id
  return {
    _tag: "InboundMessage",
    wabaId,
    phoneNumberId,
    from: m.from,
    wamid: m.id,
    at,
    type: text(m.type) ?? "unknown",
    ...(body === undefined ? {} : { text: body }),
    ...(payload === undefined ? {} : { buttonPayload: payload }),
    ...(buttonText === undefined ? {} : { buttonText }),
    ...(contextWamid === undefined ? {} : { contextWamid })
  }
}

const messagesItems = (value: unknown, wabaId: string): ReadonlyArray<WebhookItem> => {
  const decoded = decodeMessagesValue(value)
  if (Result.isFailure(decoded)) return [ignored(wabaId, "messages", `unreadable value: ${decoded.failure}`)]
  const v = decoded.success
  const phoneNumberId = String(v.metadata.phone_number_id)
  const systemErrors = (v.errors ?? []).map((raw): WebhookItem => {
    const error = webhookError(raw)
    return error === undefined
      ? ignored(wabaId, "messages", "unreadable error object")
      : { _tag: "SystemError", wabaId, phoneNumberId, error: classifyWebhookError(error) }
  })
  return [
    ...(v.statuses ?? []).map((raw) => statusItem(raw, wabaId, phoneNumberId)),
    ...(v.messages ?? []).map((raw) => messageItem(raw, wabaId, phoneNumberId)),
    ...systemErrors
  ]
}

const templateStatusItem = (value: unknown, wabaId: string): WebhookItem => {
  const decoded = decodeTemplateStatus(value)
  if (Result.isFailure(decoded)) return ignored(wabaId, "message_template_status_update", `unreadable value: ${decoded.failure}`)
  const v = decoded.success
  const other = OtherInfoWire(v.other_info)
  return {
    _tag: "TemplateStatusChange",
    wabaId,
    templateId: String(v.message_template_id),
    name: v.message_template_name,
    language: v.message_template_language,
    category: text(v.message_template_category) ?? null,
    event: v.event,
    reason: text(v.reason) ?? null,
    otherInfo: other === undefined ? null : { title: other.title ?? null, description: other.description ?? null },
    rejectionReason: RejectionWire(v.rejection_info)?.reason ?? null
  }
}

const templateQualityItem = (value: unknown, wabaId: string): WebhookItem => {
  const decoded = decodeTemplateQuality(value)
  if (Result.isFailure(decoded)) return ignored(wabaId, "message_template_quality_update", `unreadable value: ${decoded.failure}`)
  const v = decoded.success
  return {
    _tag: "TemplateQualityUpdate",
    wabaId,
    templateId: String(v.message_template_id),
    name: v.message_template_name,
    language: v.message_template_language,
    previousScore: text(v.previous_quality_score) ?? null,
    newScore: v.new_quality_score
  }
}

const phoneQualityItem = (value: unknown, wabaId: string): WebhookItem => {
  const decoded = decodePhoneQuality(value)
  if (Result.isFailure(decoded)) return ignored(wabaId, "phone_number_quality_update", `unreadable value: ${decoded.failure}`)
  const v = decoded.success
  return {
    _tag: "PhoneQualityUpdate",
    wabaId,
    displayPhoneNumber: String(v.display_phone_number),
    event: v.event,
    currentLimit: text(v.current_limit) ?? null,
    oldLimit: text(v.old_limit) ?? null,
    maxDailyConversationsPerBusiness: tier(v.max_daily_conversations_per_business) ?? null
  }
}

const capabilityItem = (value: unknown, wabaId: string): WebhookItem => {
  const decoded = decodeCapability(value)
  if (Result.isFailure(decoded)) return ignored(wabaId, "business_capability_update", `unreadable value: ${decoded.failure}`)
  const v = decoded.success
  return {
    _tag: "CapabilityUpdate",
    wabaId,
    maxDailyConversationsPerBusiness: tier(v.max_daily_conversations_per_business) ?? null,
    maxDailyConversationPerPhone: tier(v.max_daily_conversation_per_phone) ?? null,
    maxPhoneNumbersPerBusiness: count(v.max_phone_numbers_per_business) ?? null,
    maxPhoneNumbersPerWaba: count(v.max_phone_numbers_per_waba) ?? null
  }
}

// §3: these stop business-initiated sends on the whole WABA.
const haltingRestrictions: ReadonlyArray<string> = ["RESTRICTED_BIZ_INITIATED_MESSAGING"]
const haltingBanStates: ReadonlyArray<string> = ["DISABLE", "SCHEDULE_FOR_DISABLE"]

const accountItem = (value: unknown, wabaId: string): WebhookItem => {
  const decoded = decodeAccount(value)
  if (Result.isFailure(decoded)) return ignored(wabaId, "account_update", `unreadable value: ${decoded.failure}`)
  const v = decoded.success
  const restrictionTypes = (RestrictionsWire(v.restriction_info) ?? []).flatMap((r) => {
    const restriction = RestrictionWire(r)
    return restriction === undefined ? [] : [restriction.restriction_type]
  })
  // waba_ban_state is a string in most examples and a one-element array in others.
  const banRaw = BanWire(v.ban_info)?.waba_ban_state
  const banState = text(banRaw) ?? text(RestrictionsWire(banRaw)?.[0]) ?? null
  return {
    _tag: "AccountUpdate",
    wabaId,
    event: v.event,
    phoneNumber: typeof v.phone_number === "number" ? String(v.phone_number) : text(v.phone_number) ?? null,
    restrictionTypes,
    violationType: ViolationWire(v.violation_info)?.violation_type ?? null,
    banState,
    haltsSending: restrictionTypes.some((t) => haltingRestrictions.includes(t)) ||
      (v.event === "DISABLED_UPDATE" && banState !== null && haltingBanStates.includes(banState))
  }
}

const changeItems = (field: string, value: unknown, wabaId: string): ReadonlyArray<WebhookItem> => {
  switch (field) {
    case "messages":
      return messagesItems(value, wabaId)
    case "message_template_status_update":
      return [templateStatusItem(value, wabaId)]
    case "message_template_quality_update":
      return [templateQualityItem(value, wabaId)]
    case "phone_number_quality_update":
      return [phoneQualityItem(value, wabaId)]
    case "business_capability_update":
      return [capabilityItem(value, wabaId)]
    case "account_update":
      return [accountItem(value, wabaId)]
    default:
      return [ignored(wabaId, field, "field not handled")]
  }
}

/**
 * Decodes a webhook body (already JSON-parsed). Fails only when it has no `entry[]`; anything unreadable inside
 * becomes an `Ignored` item. Never throws.
 */
export const decode = (body: unknown): Result.Result<WebhookBatch, WebhookDecodeError> => {
  const envelope = decodeEnvelope(body)
  if (Result.isFailure(envelope)) {
    return Result.fail(new WebhookDecodeError({ explanation: `Not a webhook notification: ${envelope.failure}` }))
  }
  const items: Array<WebhookItem> = []
  for (const rawEntry of envelope.success.entry) {
    const entry = decodeEntry(rawEntry)
    if (Result.isFailure(entry)) {
      items.push(ignored(null, "(entry)", `unreadable entry: ${entry.failure}`))
      continue
    }
    const wabaId = String(entry.success.id)
    for (const rawChange of entry.success.changes) {
      const change = decodeChange(rawChange)
      if (Result.isFailure(change)) items.push(ignored(wabaId, "(change)", `unreadable change: ${change.failure}`))
      else items.push(...changeItems(change.success.field, change.success.value, wabaId))
    }
  }
  return Result.succeed({ object: text(envelope.success.object) ?? null, items })
}

// ---------------------------------------------------------------------------------------------------------
// Status updates → contact events
// ---------------------------------------------------------------------------------------------------------

/**
 * The storage report for a status update: `failed` → `FailureReported` with the classified error, the others →
 * `StatusReported`. The contact id defaults to the one in the callback data, so a report matches its contact
 * even when the wamid was never stored.
 */
export const toStatusReport = (update: StatusUpdate, contactIdFromCallback?: string): Storage.StatusReport => {
  const contactId = contactIdFromCallback ??
    (update.callbackData === undefined ? undefined : Option.getOrUndefined(decodeCallbackData(update.callbackData))?.contactId)
  const event: Storage.StatusReport["event"] = update.status === "failed"
    ? { _tag: "FailureReported", error: update.error ?? unexplainedFailure, at: update.at, wamid: update.wamid }
    : {
      _tag: "StatusReported",
      status: update.status satisfies ContactState.DeliveryStatus,
      at: update.at,
      wamid: update.wamid,
      ...(update.recipientId === null ? {} : { waId: update.recipientId })
    }
  return { wamid: update.wamid, ...(contactId === undefined ? {} : { contactId }), event }
}

// ---------------------------------------------------------------------------------------------------------
// biz_opaque_callback_data
// ---------------------------------------------------------------------------------------------------------

/** What we put in `biz_opaque_callback_data`: the campaign contact and the attempt that sent the message. */
export interface CallbackData {
  /** A campaign contact id (decimal, as storage hands them out). */
  readonly contactId: string
  readonly attempt: number
}

const CALLBACK_PREFIX = "mp1"
// Decimal ids that fit a PostgreSQL bigint, without leading zeros: anything else is not one of ours.
const callbackPattern = /^mp1:([1-9]\d{0,17}):(0|[1-9]\d{0,8})$/

/** `mp1:<contactId>:<attempt>`: short (Meta allows 512 characters) and versioned, so the format can change. */
export const encodeCallbackData = (data: CallbackData): string => `${CALLBACK_PREFIX}:${data.contactId}:${data.attempt}`

/** Reads our callback data back; anything else (another system's, a newer version, garbage) is none. */
export const decodeCallbackData = (text: string): Option.Option<CallbackData> => {
  const match = callbackPattern.exec(text)
  return match === null || match[1] === undefined || match[2] === undefined
    ? Option.none()
    : Option.some({ contactId: match[1], attempt: Number(match[2]) })
}

// ---------------------------------------------------------------------------------------------------------
// Opt-out replies
// ---------------------------------------------------------------------------------------------------------

/** Replies that mean "stop messaging me" (compared without case, diacritics or punctuation). */
export const defaultOptOutWords: ReadonlyArray<string> = [
  "stop",
  "stop all",
  "stopall",
  "unsubscribe",
  "opt out",
  "optout",
  "odhlásit",
  "odhlasit",
  "odhlásit se",
  "odhlaste mě",
  "zrušit odběr",
  "nechci"
]

/** Lower case, no diacritics, punctuation and emoji as spaces, collapsed: "Odhlásit!" → "odhlasit". */
export const normaliseReply = (text: string): string =>
  text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim()

/**
 * Whether a reply opts the user out: the whole text must be one of `words` (so "please stop" in a sentence is
 * not), while a button payload (an identifier the template author chose, like `STOP_PROMO`) may also start
 * with one.
 */
export const isOptOut = (
  reply: string | { readonly payload: string },
  words: ReadonlyArray<string> = defaultOptOutWords
): boolean => {
  const normalisedWords = words.map(normaliseReply).filter((w) => w !== "")
  if (typeof reply === "string") return normalisedWords.includes(normaliseReply(reply))
  const payload = normaliseReply(reply.payload)
  return normalisedWords.some((w) => payload === w || payload.startsWith(`${w} `))
}

/** Whether an inbound message opts its sender out: its text, its button's text, or its button's payload. */
export const isOptOutMessage = (message: InboundMessage, words: ReadonlyArray<string> = defaultOptOutWords): boolean =>
  (message.text !== undefined && isOptOut(message.text, words)) ||
  (message.buttonText !== undefined && isOptOut(message.buttonText, words)) ||
  (message.buttonPayload !== undefined && isOptOut({ payload: message.buttonPayload }, words))
