/**
 * Meta error → what the sender does about it.
 * (Contract fixed here; the classification table lands in this module.)
 */

/** What kind of failure an error is, which decides what happens next. */
export type ErrorClass = "rate_limited" | "transient" | "recipient" | "template" | "account" | "auth"

/** What an error holds back: one contact, the phone number's sending, the WABA, or the whole app. */
export type ErrorScope = "contact" | "template" | "phone_number" | "waba" | "app"

/** A failure, classified: everything the state machine, the retry policy and a person need. */
export interface ClassifiedError {
  readonly errorClass: ErrorClass
  readonly scope: ErrorScope
  /** Meta's numeric code as text ("131026"), or "http_503", "network", "timeout", "malformed_response". */
  readonly code: string
  /** Short human text: Meta's title plus details when present. */
  readonly text: string
  /** Honour at least this wait before the next try (Retry-After, or Meta's advice for the code). */
  readonly retryAfterMs?: number
  /** Some codes are retried only a few times whatever the policy says (e.g. 135000: once). */
  readonly attemptLimit?: number
  /** Meta's trace id, for support tickets. */
  readonly fbtraceId?: string
}
