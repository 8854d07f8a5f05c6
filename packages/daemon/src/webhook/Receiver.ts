/**
 * The webhook receiver: `GET /webhooks/whatsapp` answers Meta's verification handshake, `POST` takes
 * notifications (whatsapp-cloud-api.md §3).
 *
 * A POST is answered 200 only once everything it carried is stored: statuses go through the batching
 * `StatusWriter`, the rest (opt-outs, template and account news) is written directly. Anything that did not
 * make it to storage gets 503, and Meta redelivers it (for up to 7 days); redeliveries are harmless because
 * statuses are forward-only and the other writes are idempotent. Requests that can never succeed (bad
 * signature, not JSON, too big) get a 4xx and are counted, never crash the daemon.
 *
 * Wiring (issue 6 mounts it next to the admin API):
 *
 *   HttpRouter.serve(Receiver.routes).pipe(Layer.provide(Receiver.layer(config)), Layer.provide(server), …)
 */
import { type ErrorClass, Ports, Quota, Webhook } from "@megaphone/core"
import { ByteSize, type Cause, Context, Effect, Exit, Layer, Option, type Redacted, Result, type Scope } from "effect"
import { HttpIncomingMessage, HttpRouter, type HttpServerRequest, HttpServerResponse } from "effect/http"
import * as TemplateStatus from "../templates/TemplateStatus.ts"
import * as Signature from "./Signature.ts"
import * as Metrics from "../metrics/Metrics.ts"
import * as StatusWriter from "./StatusWriter.ts"

/** Where Meta calls us (SPEC §7). */
export const PATH = "/webhooks/whatsapp"

/** Meta's largest webhook body. */
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024

/** The header a BSP (360dialog) is asked to send the shared secret in, unless `webhook.secret_header` says otherwise. */
export const DEFAULT_SECRET_HEADER = "X-Megaphone-Webhook-Secret"

/**
 * How a business solution provider's deliveries prove where they came from: 360dialog forwards the Cloud API
 * payloads without Meta's signature, so it is given a secret to send in a header (`accounts webhook`).
 */
export interface SharedSecret {
  /** The header's name (any case). */
  readonly header: string
  readonly secret: Redacted.Redacted<string>
}

/** What `applyTemplateStatus` takes from a template status webhook. */
export type TemplateStatusEvent = TemplateStatus.TemplateStatusEvent

/** Pauses or resumes the campaigns on a template after a status webhook; returns the campaign ids it changed. */
export type ApplyTemplateStatus = (
  event: TemplateStatusEvent,
  now: Date
) => Effect.Effect<
  { readonly paused: ReadonlyArray<string>; readonly resumed: ReadonlyArray<string> },
  Ports.Storage.StorageError,
  Ports.Storage.Storage
>

/** The receiver's configuration; the two secrets come from MEGAPHONE_APP_SECRET and MEGAPHONE_VERIFY_TOKEN. */
export interface Config {
  readonly appSecret: Redacted.Redacted<string>
  readonly verifyToken: Redacted.Redacted<string>
  /**
   * Deliveries that carry this header with this secret are accepted without Meta's signature, but only when every
   * entry is for a 360dialog account; absent: only Meta's signature is accepted (MEGAPHONE_WEBHOOK_SECRET unset).
   */
  readonly sharedSecret?: SharedSecret
  /** Larger bodies get 413 unread (default 3 MB, Meta's maximum). */
  readonly maxBodyBytes?: number
  /** Whole replies that opt the sender out (default `Webhook.defaultOptOutWords`). */
  readonly optOutWords?: ReadonlyArray<string>
  /** Longest a status waits for its batch (default 5 ms). */
  readonly flushEveryMs?: number
  /** Write a batch at once when this many statuses wait (default 500). */
  readonly flushAt?: number
  /** Batches written concurrently (default 2). */
  readonly writers?: number
  /** Answer 503 rather than wait longer than this for storage (default 10 s; Meta gives up around there). */
  readonly ackTimeoutMs?: number
  /** Template status webhooks are handed to this (default `TemplateStatus.applyTemplateStatus`: pause/resume campaigns). */
  readonly applyTemplateStatus?: ApplyTemplateStatus
  /** Where log lines go (default: Effect's logger). Never given a secret. */
  readonly log?: (line: string) => void
}

/** What the receiver has seen since it started, for /metrics. */
export interface Counters {
  /** POST requests. */
  readonly received: number
  readonly badSignature: number
  /** Of `badSignature`: a shared-secret header that was wrong, or sent for an account that is not 360dialog's. */
  readonly badSharedSecret: number
  /** Bodies that were not JSON, or not a webhook notification. */
  readonly malformed: number
  readonly tooLarge: number
  readonly unsupportedMediaType: number
  /** POSTs answered 503 because storage failed or was too slow (Meta redelivers them). */
  readonly storageFailures: number
  readonly statusesReceived: number
  readonly statusesApplied: number
  /** Status reports the state machine refused (stale or impossible, e.g. failed after delivered). */
  readonly refused: number
  /** Status reports that matched no contact. */
  readonly unmatched: number
  /** Items not acted on: unknown fields, rare statuses, unreadable items. */
  readonly ignored: number
  readonly optOuts: number
  readonly verificationsRefused: number
}

/** The running receiver: its two handlers and its counters. */
export interface ReceiverShape {
  /** `GET /webhooks/whatsapp`: the verification handshake. */
  readonly verify: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse>
  /** `POST /webhooks/whatsapp`: a notification. */
  readonly receive: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse>
  /** A snapshot of the counters. */
  readonly counters: Effect.Effect<Counters>
}

/** The webhook receiver service (one per daemon, shared by the HTTP routes and /metrics). */
export class WebhookReceiver extends Context.Service<WebhookReceiver, ReceiverShape>()("megaphone/WebhookReceiver") {}

const emptyCounters = (): { -readonly [K in keyof Counters]: number } => ({
  received: 0,
  badSignature: 0,
  badSharedSecret: 0,
  malformed: 0,
  tooLarge: 0,
  unsupportedMediaType: 0,
  storageFailures: 0,
  statusesReceived: 0,
  statusesApplied: 0,
  refused: 0,
  unmatched: 0,
  ignored: 0,
  optOuts: 0,
  verificationsRefused: 0
})

const status = (code: number, body = ""): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(body, { status: code, contentType: "text/plain; charset=utf-8" })

// Closing the connection keeps Node from reading the rest of a body we refused.
const tooLarge = HttpServerResponse.text("Payload too large", { status: 413, headers: { connection: "close" } })

const isJson = (contentType: string | undefined): boolean => {
  const media = contentType?.split(";")[0]?.trim().toLowerCase()
  return media === "application/json" || (media?.startsWith("application/") === true && media.endsWith("+json"))
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

const parseJson = (bytes: Uint8Array): Result.Result<unknown, string> => {
  try {
    return Result.succeed(JSON.parse(utf8.decode(bytes)))
  } catch (error) {
    return Result.fail(error instanceof Error ? error.message.slice(0, 120) : "unreadable")
  }
}

const digits = (text: string | null): string => (text ?? "").replace(/\D/g, "")

type LoggedEvent = Omit<Ports.Storage.LoggedEvent, "id">

/** Builds the receiver: starts its batching writer for the scope's lifetime. */
export const make = (config: Config): Effect.Effect<ReceiverShape, never, Ports.Storage.Storage | Scope.Scope> =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const storageContext = Context.make(Ports.Storage.Storage, storage)
    const counters = emptyCounters()
    // Optional: the daemon provides it for /metrics; tests and embedders need not.
    const metrics = yield* Effect.serviceOption(Metrics.Metrics)
    const maxBodyBytes = config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    const optOutWords = config.optOutWords ?? Webhook.defaultOptOutWords
    const ackTimeoutMs = config.ackTimeoutMs ?? 10_000
    const applyTemplateStatus: ApplyTemplateStatus = config.applyTemplateStatus ??
      ((event, now) => TemplateStatus.applyTemplateStatus(event, now))
    const log = (line: string): Effect.Effect<void> =>
      config.log === undefined ? Effect.logWarning(line) : Effect.sync(() => config.log?.(line))

    const writer = yield* StatusWriter.make({
      flushEveryMs: config.flushEveryMs ?? 5,
      flushAt: config.flushAt ?? 500,
      writers: config.writers ?? 2,
      maxQueued: 50_000,
      onApplied: (result) =>
        Effect.gen(function*() {
          counters.statusesApplied += result.applied
          counters.refused += result.refused.length
          counters.unmatched += result.unmatched.length
          const first = result.refused[0]
          if (first !== undefined) {
            yield* log(`webhook: ${result.refused.length} status report(s) refused, e.g. contact ${first.contactId}: ${first.reason}`)
          }
        })
    })

    // ---------------------------------------------------------------------------------------------------
    // Accounts: limits and quality reported by Meta

    const saveChanged = (before: Ports.Storage.Account, after: Ports.Storage.Account) =>
      JSON.stringify({ ...before, updatedAt: 0 }) === JSON.stringify({ ...after, updatedAt: 0 })
        ? Effect.succeed(false)
        : Effect.as(storage.saveAccount(after), true)

    const withTier = (account: Ports.Storage.Account, value: string | number, now: Date): Ports.Storage.Account | string => {
      const limit = Quota.parseMessagingTier(value)
      return Result.isFailure(limit)
        ? `${limit.failure.value}: ${limit.failure.reason}`
        : { ...account, messagingTier: String(value), messagingLimit: limit.success, updatedAt: now }
    }

    const phoneQuality = (item: Webhook.PhoneQualityUpdate, now: Date) =>
      Effect.gen(function*() {
        const inWaba = (yield* storage.listAccounts()).filter((a) => a.wabaId === item.wabaId)
        const byNumber = inWaba.filter((a) => digits(a.displayPhoneNumber) === digits(item.displayPhoneNumber))
        // The webhook names the number only by its display form; a WABA with one account is unambiguous anyway.
        const targets = byNumber.length > 0 ? byNumber : inWaba.length === 1 ? inWaba : []
        if (targets.length === 0) yield* log(`webhook: phone_number_quality_update for ${item.displayPhoneNumber} in WABA ${item.wabaId} matches no account`)
        const tier = item.maxDailyConversationsPerBusiness ?? item.currentLimit
        const updated: Array<string> = []
        for (const account of targets) {
          let next: Ports.Storage.Account = { ...account, updatedAt: now }
          if (item.event === "THROUGHPUT_UPGRADE") {
            // Here current_limit describes throughput (TIER_UNLIMITED = 1,000 mps), not the messaging limit.
            next = { ...next, throughputMps: Quota.HIGH_THROUGHPUT_MPS, throughputLevel: "HIGH" }
          } else if (tier !== null) {
            const tiered = withTier(next, tier, now)
            if (typeof tiered === "string") yield* log(`webhook: account ${account.name}: unknown messaging tier ${tiered}`)
            else next = tiered
          }
          // FLAGGED means the rating dropped to low; `accounts refresh` reads the exact rating later.
          if (item.event === "FLAGGED") next = { ...next, qualityRating: "RED" }
          if (item.event === "UNFLAGGED") next = { ...next, qualityRating: "GREEN" }
          if (yield* saveChanged(account, next)) updated.push(account.name)
        }
        return updated
      })

    const capability = (item: Webhook.CapabilityUpdate, now: Date) =>
      Effect.gen(function*() {
        const tier = item.maxDailyConversationsPerBusiness ?? item.maxDailyConversationPerPhone
        if (tier === null) return []
        const all = yield* storage.listAccounts()
        const direct = all.filter((a) => a.wabaId === item.wabaId || a.portfolioId === item.wabaId)
        // Since Oct 2025 the limit belongs to the portfolio: every number in it shares the new value.
        const portfolios = new Set(direct.flatMap((a) => (a.portfolioId === null ? [] : [a.portfolioId])))
        const targets = all.filter((a) => direct.includes(a) || (a.portfolioId !== null && portfolios.has(a.portfolioId)))
        if (targets.length === 0) yield* log(`webhook: business_capability_update for ${item.wabaId} matches no account`)
        const updated: Array<string> = []
        for (const account of targets) {
          const next = withTier(account, tier, now)
          if (typeof next === "string") {
            yield* log(`webhook: account ${account.name}: unknown messaging tier ${next}`)
            return updated
          }
          if (yield* saveChanged(account, next)) updated.push(account.name)
        }
        return updated
      })

    // ---------------------------------------------------------------------------------------------------
    // Everything but statuses: each returns the event-log lines it is worth

    const event = (kind: string, message: string, data: Record<string, unknown>, at: Date): LoggedEvent =>
      ({ campaignId: null, kind, message, data, at })

    const other = (item: Webhook.WebhookItem, now: Date): Effect.Effect<ReadonlyArray<LoggedEvent>, Ports.Storage.StorageError> => {
      switch (item._tag) {
        case "InboundMessage": {
          if (!Webhook.isOptOutMessage(item, optOutWords)) return Effect.succeed([])
          return Effect.gen(function*() {
            const added = yield* storage.suppress([{ recipient: item.from, reason: "replied STOP" }], now)
            counters.optOuts += added
            // A redelivered reply suppresses nothing new and logs nothing twice.
            return added === 0 ? [] : [event("opt_out", `${item.from} replied to opt out; suppressed`,
              { recipient: item.from, wamid: item.wamid, ...(item.contextWamid === undefined ? {} : { replyTo: item.contextWamid }) }, now)]
          })
        }
        case "TemplateStatusChange":
          return Effect.gen(function*() {
            const result = yield* applyTemplateStatus({
              wabaId: item.wabaId,
              name: item.name,
              language: item.language,
              event: item.event,
              reason: item.reason,
              description: item.otherInfo?.description ?? item.rejectionReason ?? null
            }, now).pipe(Effect.provide(storageContext))
            return [event("template_status", `Template ${item.name} (${item.language}) is ${item.event}` +
              (item.otherInfo?.title ? ` (${item.otherInfo.title})` : ""),
              { wabaId: item.wabaId, templateId: item.templateId, name: item.name, language: item.language, event: item.event,
                reason: item.reason, paused: result.paused, resumed: result.resumed }, now)]
          })
        case "TemplateQualityUpdate":
          return Effect.succeed([event("template_quality",
            `Template ${item.name} (${item.language}) quality ${item.previousScore ?? "?"} → ${item.newScore}`,
            { wabaId: item.wabaId, templateId: item.templateId, name: item.name, language: item.language,
              previous: item.previousScore, score: item.newScore }, now)])
        case "PhoneQualityUpdate":
          return Effect.map(phoneQuality(item, now), (accounts) => [event("phone_quality",
            `Phone number ${item.displayPhoneNumber}: ${item.event}` + (item.currentLimit === null ? "" : ` (${item.currentLimit})`),
            { wabaId: item.wabaId, displayPhoneNumber: item.displayPhoneNumber, event: item.event, currentLimit: item.currentLimit,
              oldLimit: item.oldLimit, maxDailyConversationsPerBusiness: item.maxDailyConversationsPerBusiness, accounts }, now)])
        case "CapabilityUpdate":
          return Effect.map(capability(item, now), (accounts) => [event("messaging_limit",
            `Messaging limit of ${item.wabaId}: ${item.maxDailyConversationsPerBusiness ?? item.maxDailyConversationPerPhone ?? "unchanged"}`,
            { wabaId: item.wabaId, maxDailyConversationsPerBusiness: item.maxDailyConversationsPerBusiness,
              maxDailyConversationPerPhone: item.maxDailyConversationPerPhone, accounts }, now)])
        case "AccountUpdate":
          return Effect.gen(function*() {
            if (item.haltsSending) yield* log(`webhook: WABA ${item.wabaId} ${item.event}: business-initiated sending is blocked`)
            return [event("account_update", `WABA ${item.wabaId}: ${item.event}` +
              (item.restrictionTypes.length > 0 ? ` (${item.restrictionTypes.join(", ")})` : "") +
              (item.haltsSending ? "; sending is blocked" : ""),
              { wabaId: item.wabaId, event: item.event, restrictionTypes: item.restrictionTypes, violationType: item.violationType,
                banState: item.banState, haltsSending: item.haltsSending }, now)]
          })
        case "SystemError":
          return Effect.gen(function*() {
            // A throughput error reported out of band still means Meta sees us sending too fast on that number.
            if (item.error.code === "130429" && item.phoneNumberId !== null) yield* storage.throttleNumber(item.phoneNumberId, now)
            return [event("webhook_error", item.error.text,
              { wabaId: item.wabaId, phoneNumberId: item.phoneNumberId, code: item.error.code, errorClass: item.error.errorClass }, now)]
          })
        case "StatusUpdate":
        case "Ignored":
          return Effect.succeed([])
      }
    }

    // A failed status whose error reaches beyond its contact (template, number, account) is worth a log line.
    const notableFailure = (item: Webhook.StatusUpdate, now: Date): ReadonlyArray<LoggedEvent> => {
      const error: ErrorClass.ClassifiedError | undefined = item.error
      if (item.status !== "failed" || error === undefined || error.scope === "contact") return []
      return [event("delivery_failure", `Message ${item.wamid} failed: ${error.text}`,
        { wamid: item.wamid, phoneNumberId: item.phoneNumberId, code: error.code, errorClass: error.errorClass, scope: error.scope }, now)]
    }

    const process = (batch: Webhook.WebhookBatch) =>
      Effect.gen(function*() {
        const now = yield* Ports.Clock.now
        const reports: Array<Ports.Storage.StatusReport> = []
        const lagSeconds: Array<number> = []
        const others: Array<Webhook.WebhookItem> = []
        const events: Array<LoggedEvent> = []
        for (const item of batch.items) {
          if (item._tag === "StatusUpdate") {
            reports.push(Webhook.toStatusReport(item))
            lagSeconds.push(Math.max(0, (now.getTime() - item.at.getTime()) / 1000))
            events.push(...notableFailure(item, now))
          } else if (item._tag === "Ignored") {
            counters.ignored++
            yield* log(`webhook: ignored ${item.field}${item.wabaId === null ? "" : ` from WABA ${item.wabaId}`}: ${item.reason}`)
          } else {
            others.push(item)
          }
        }
        counters.statusesReceived += reports.length
        if (Option.isSome(metrics) && reports.length > 0) yield* metrics.value.recordWebhookStatuses(reports.length, lagSeconds)
        const rest = Effect.gen(function*() {
          for (const item of others) events.push(...(yield* other(item, now)))
          if (events.length > 0) yield* storage.appendEvents(events)
        })
        yield* Effect.all([writer.write(reports), rest], { concurrency: 2, discard: true })
      })

    // ---------------------------------------------------------------------------------------------------
    // HTTP

    const verify = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.sync(() => {
        const params = new URL(request.url, "http://localhost").searchParams
        const challenge = params.get("hub.challenge")
        const token = params.get("hub.verify_token")
        if (params.get("hub.mode") === "subscribe" && token !== null && challenge !== null && Signature.secretEquals(token, config.verifyToken)) {
          return HttpServerResponse.text(challenge, { contentType: "text/plain" })
        }
        counters.verificationsRefused++
        return status(403, "Forbidden")
      })

    const readBody = (request: HttpServerRequest.HttpServerRequest) =>
      request.arrayBuffer.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxBodyBytes)),
        Effect.map((buffer) => Result.succeed(new Uint8Array(buffer))),
        Effect.catchCause((cause) => {
          const tooBig = cause.reasons.some((reason) =>
            reason._tag === "Fail" && reason.error.reason._tag === "RequestParseError" && reason.error.reason.reason === "BodyTooLarge")
          return Effect.succeed(Result.fail(tooBig ? "too large" : "unreadable"))
        })
      )

    /** The first WABA of a batch that no 360dialog account belongs to (such news needs Meta's signature). */
    const notForBsp = (batch: Webhook.WebhookBatch) =>
      Effect.gen(function*() {
        const wabas = new Set(batch.items.flatMap((item) => item.wabaId === null ? [] : [item.wabaId]))
        if (wabas.size === 0) return undefined
        const bsp = new Set((yield* storage.listAccounts()).filter((a) => a.provider === "360dialog").flatMap((a) =>
          a.portfolioId === null ? [a.wabaId] : [a.wabaId, a.portfolioId]))
        return [...wabas].find((waba) => !bsp.has(waba))
      })

    /** Count a refused delivery here and on /metrics. */
    const rejected = (reason: Metrics.WebhookRejection) =>
      Effect.suspend(() => {
        if (reason === "too_large") counters.tooLarge++
        else if (reason === "unsupported_media_type") counters.unsupportedMediaType++
        else if (reason === "malformed") counters.malformed++
        else {
          counters.badSignature++
          if (reason === "bad_shared_secret") counters.badSharedSecret++
        }
        return Option.isSome(metrics) ? metrics.value.recordWebhookRejected(reason) : Effect.void
      })

    const receive = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.gen(function*() {
        counters.received++
        const declared = Number(request.headers["content-length"] ?? Number.NaN)
        if (Number.isFinite(declared) && declared > maxBodyBytes) {
          yield* rejected("too_large")
          return tooLarge
        }
        if (!isJson(request.headers["content-type"])) {
          yield* rejected("unsupported_media_type")
          return status(415, "Content-Type must be application/json")
        }
        const body = yield* readBody(request)
        if (Result.isFailure(body)) {
          if (body.failure === "too large") {
            yield* rejected("too_large")
            return tooLarge
          }
          yield* rejected("malformed")
          return status(400, "Unreadable body")
        }
        // Meta direct signs; a BSP sends the shared secret instead. A delivery with the header is judged by it alone.
        const sharedSecret = config.sharedSecret
        const secretGiven = sharedSecret === undefined ? undefined : request.headers[sharedSecret.header.toLowerCase()]
        const bySecret = sharedSecret !== undefined && secretGiven !== undefined
        if (bySecret ? !Signature.secretEquals(secretGiven, sharedSecret.secret)
          : !Signature.verify(config.appSecret, body.success, request.headers["x-hub-signature-256"])) {
          yield* rejected(bySecret ? "bad_shared_secret" : "bad_signature")
          return status(401, bySecret ? "Bad shared secret" : "Bad signature")
        }
        const json = parseJson(body.success)
        const batch = Result.isFailure(json)
          ? Result.fail(`malformed JSON (${body.success.byteLength} bytes): ${json.failure}`)
          : Result.mapError(Webhook.decode(json.success), (error) => error.explanation)
        if (Result.isFailure(batch)) {
          yield* rejected("malformed")
          yield* log(`webhook: ${batch.failure}`)
          return status(400, "Malformed notification")
        }
        if (bySecret) {
          const judged = yield* Effect.exit(notForBsp(batch.success))
          if (Exit.isFailure(judged)) {
            // Storage down: the delivery cannot be judged; 503 makes 360dialog redeliver it.
            counters.storageFailures++
            yield* log(`webhook: storage failed while checking a shared-secret delivery; answered 503: ${storageMessage(judged.cause)}`)
            return status(503, "Storage unavailable, retry later")
          }
          const foreign = judged.value
          if (foreign !== undefined) {
            yield* rejected("bad_shared_secret")
            yield* log(`webhook: refused a delivery with the shared secret for WABA ${foreign}, which has no 360dialog account; ` +
              "Meta-direct accounts need Meta's signature")
            return status(401, "Bad signature")
          }
        }
        const stored = yield* Effect.exit(process(batch.success).pipe(Effect.timeoutOption(ackTimeoutMs)))
        if (Exit.isSuccess(stored) && Option.isSome(stored.value)) return status(200, "OK")
        counters.storageFailures++
        yield* log(Exit.isSuccess(stored)
          ? `webhook: storage took longer than ${ackTimeoutMs} ms; answered 503 so Meta redelivers`
          : `webhook: storage failed; answered 503 so Meta redelivers: ${storageMessage(stored.cause)}`)
        return status(503, "Storage unavailable, retry later")
      })

    return { verify, receive, counters: Effect.sync(() => ({ ...counters })) }
  })

const storageMessage = (cause: Cause.Cause<Ports.Storage.StorageError>): string => {
  const failure = cause.reasons.find((reason) => reason._tag === "Fail")
  return failure?._tag === "Fail" ? `${failure.error.operation}: ${failure.error.message}` : "unexpected defect"
}

/** The receiver as a service, its batching writer living as long as the layer. */
export const layer = (config: Config): Layer.Layer<WebhookReceiver, never, Ports.Storage.Storage> =>
  Layer.effect(WebhookReceiver, make(config))

/** `GET` and `POST /webhooks/whatsapp` on the router; provide `layer(config)` outside the server to share it. */
export const routes: Layer.Layer<never, never, HttpRouter.HttpRouter | WebhookReceiver> = HttpRouter.use((router) =>
  Effect.gen(function*() {
    const receiver = yield* WebhookReceiver
    yield* router.add("GET", PATH, receiver.verify)
    yield* router.add("POST", PATH, receiver.receive)
  })
)
