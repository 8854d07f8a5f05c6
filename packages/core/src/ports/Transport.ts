/**
 * The transport port: how Megaphone talks to Meta's Graph API. Implemented by the Cloud API adapter (undici)
 * and the simulator; a business solution provider's API can implement it too.
 */
import { Context, type Effect, type Redacted, Schema } from "effect"
import { ClassifiedError } from "../ErrorClass.ts"
import type { TemplateMessagePayload } from "../Mapping.ts"
import type { Template } from "../Template.ts"

/**
 * Who carries an account's requests: Meta's Cloud API directly, or 360dialog (a business solution provider that
 * forwards the Cloud API behind its own URL, key header and template listing; docs/providers.md).
 */
export const Provider = Schema.Literals(["meta", "360dialog"])

/** Who carries an account's requests (absent on older records and custom transports: `meta`). */
export type Provider = typeof Provider.Type

/** What the transport needs to act for one business phone number. */
export interface SenderCredentials {
  /** The business phone number's id (not the number itself). */
  readonly phoneNumberId: string
  /** The WhatsApp Business Account the number belongs to (templates live there). */
  readonly wabaId: string
  /** A system-user token; never logged or printed. */
  readonly accessToken: Redacted.Redacted<string>
  /** Graph base URL, e.g. `https://graph.facebook.com` or the simulator's loopback address. */
  readonly graphUrl: string
  /** Pinned Graph API version, e.g. `v23.0`. */
  readonly graphVersion: string
  /** Who carries the requests (absent: `meta`); with `360dialog`, `accessToken` is the number's API key. */
  readonly provider?: Provider
}

/** Where a provider should forward the webhooks of a number, and the headers it should add to each delivery. */
export interface WebhookRegistration {
  readonly url: string
  /** Sent with every delivery, e.g. the shared secret the receiver checks; values are never logged. */
  readonly headers: Readonly<Record<string, Redacted.Redacted<string>>>
}

/** Meta took the message: its id, the WhatsApp id it resolved the recipient to, and the queue status. */
export interface SendAccepted {
  readonly wamid: string
  readonly waId: string | null
  /** `accepted`, `held_for_quality_assessment` (template pacing), or another value Meta adds. */
  readonly messageStatus: string
}

/** What Meta reports about a business phone number. */
export interface PhoneNumberInfo {
  readonly displayPhoneNumber: string
  readonly verifiedName: string | null
  /** GREEN | YELLOW | RED | UNKNOWN. */
  readonly qualityRating: string
  /** The messaging-limit tier as Meta spells it (TIER_250, TIER_2K …); `Quota` parses it. */
  readonly messagingLimitTier: string | null
  /** STANDARD (80 mps) or HIGH (1,000 mps). */
  readonly throughputLevel: string | null
  readonly nameStatus: string | null
  /** CONNECTED is needed to send. */
  readonly status: string | null
}

/** A Graph API call failed; `error` says what kind of failure it is and what to do next. */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  operation: Schema.Literals(["send", "list_templates", "phone_number_info", "register_webhook"]),
  error: ClassifiedError
}) {
  override get message(): string {
    return `${this.operation} failed: ${this.error.text}`
  }
}

/** The Graph API operations a campaign sender needs. */
export interface TransportShape {
  /** Send one template message. Timeouts come back as `transient` errors whose outcome is unknown. */
  readonly sendTemplate: (sender: SenderCredentials, payload: TemplateMessagePayload) => Effect.Effect<SendAccepted, TransportError>
  /** Every template of the sender's WABA, all pages. */
  readonly listTemplates: (sender: SenderCredentials) => Effect.Effect<ReadonlyArray<Template>, TransportError>
  /** The phone number's tier, quality rating, throughput level and name status. */
  readonly phoneNumberInfo: (sender: SenderCredentials) => Effect.Effect<PhoneNumberInfo, TransportError>
  /**
   * Tells the provider where to forward the number's webhooks (a BSP such as 360dialog); absent when the provider
   * has no such API (Meta direct: the App Dashboard sets the callback URL for the whole app).
   */
  readonly registerWebhook?: (sender: SenderCredentials, registration: WebhookRegistration) => Effect.Effect<void, TransportError>
}

/** The transport service: provide a Layer of the Cloud API adapter or the simulator. */
export class Transport extends Context.Service<Transport, TransportShape>()("megaphone/Transport") {}
