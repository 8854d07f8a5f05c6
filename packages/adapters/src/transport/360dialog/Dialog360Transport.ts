/**
 * The 360dialog transport: the core's Transport port over 360dialog's Cloud API endpoint (docs/providers.md).
 * 360dialog forwards the Cloud API, so the message body and the success answer are Meta's; what differs is the
 * base URL (`https://waba-v2.360dialog.io`, no Graph version), the per-number `D360-API-KEY` header instead of a
 * bearer token, the template listing (`GET /v1/configs/templates`, offset paging, `waba_templates[]`, lower-case
 * statuses) and 360dialog's own error envelope (`{meta: {http_code, developer_message}}`), which is mapped onto
 * the core's classes here. Errors in Meta's envelope are classified by the core's table, as for Meta direct.
 *
 * The HTTP plumbing (pools, limits, failure classification, malformed answers, token scrubbing) is the Cloud API
 * adapter's `makeHttp`; this module only knows 360dialog's paths, header and shapes.
 */
import { ErrorClass, Ports, Template, type Mapping } from "@megaphone/core"
import { Clock, Effect, Layer, Option, Redacted, Result, Schema, type Scope } from "effect"
import * as CloudApi from "../cloud-api/CloudApiTransport.ts"

type ClassifiedError = ErrorClass.ClassifiedError
type Operation = Ports.Transport.TransportError["operation"]
type SenderCredentials = Ports.Transport.SenderCredentials

/** 360dialog's Cloud API base URL (the on-premise `waba.360dialog.io` is not supported). */
export const DEFAULT_BASE_URL = "https://waba-v2.360dialog.io"

/** The header that carries a number's API key. */
export const API_KEY_HEADER = "D360-API-KEY"

/** Templates asked per page of `GET /v1/configs/templates`. */
export const TEMPLATE_PAGE_LIMIT = 100

/** A listing that never reaches its `total` is broken: stop after this many pages (100,000 templates). */
export const MAX_TEMPLATE_PAGES = 1_000

/** How the adapter uses the network: the Cloud API adapter's options. */
export type Options = CloudApi.Options

// ---------------------------------------------------------------------------------------------------------------
// 360dialog bodies, decoded at the boundary

/** 360dialog's own error envelope (unverified shape: docs/providers.md § Errors). */
const ProviderErrorBody = Schema.Struct({
  meta: Schema.Struct({
    success: Schema.optionalKey(Schema.Boolean),
    http_code: Schema.optionalKey(Schema.Number),
    developer_message: Schema.optionalKey(Schema.String),
    "360dialog_trace_id": Schema.optionalKey(Schema.String)
  })
})
const decodeProviderError = Schema.decodeUnknownOption(ProviderErrorBody)

/** `GET /v1/configs/templates`: offset paging around `waba_templates` (items decoded one by one below). */
const TemplateListing = Schema.Struct({
  waba_templates: Schema.Array(Schema.Unknown),
  count: Schema.optionalKey(Schema.Number),
  total: Schema.optionalKey(Schema.Number),
  offset: Schema.optionalKey(Schema.Number),
  limit: Schema.optionalKey(Schema.Number)
})
const decodeListing = Schema.decodeUnknownOption(TemplateListing)

// 360dialog spells statuses in lower case and has a `submitted` state that Meta calls PENDING (unverified).
const STATUS_ALIASES: Readonly<Record<string, string>> = { SUBMITTED: "PENDING", CREATED: "PENDING" }

/**
 * One element of `waba_templates` in Meta's template model: upper-case status and category, nulls dropped,
 * an id made of name and language when 360dialog gives none. Exported for the simulator and the tests.
 */
export const toMetaTemplate = (item: unknown): unknown => {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return item
  const source = item as Readonly<Record<string, unknown>>
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(source)) if (value !== null) out[key] = value
  if (typeof out.status === "string") {
    const upper = out.status.toUpperCase()
    out.status = STATUS_ALIASES[upper] ?? upper
  }
  if (typeof out.category === "string") out.category = out.category.toUpperCase()
  if (out.id === undefined && typeof out.name === "string" && typeof out.language === "string") out.id = `${out.name}:${out.language}`
  // A quality score in a shape Meta does not use would set the whole template aside; it is only informative.
  const quality = out.quality_score
  if (quality !== undefined && (typeof quality !== "object" || typeof (quality as { score?: unknown }).score !== "string")) {
    delete out.quality_score
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// 360dialog's own errors → the core's classes (its error-code reference; docs/providers.md § Errors)

const rule = (pattern: RegExp, errorClass: ErrorClass.ErrorClass, scope: ErrorClass.ErrorScope, what: string, retryAfterMs?: number) =>
  ({ pattern, errorClass, scope, what, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) })

const PROVIDER_RULES = [
  rule(/exceeded the endpoint rate limit/i, "rate_limited", "phone_number", "360dialog's endpoint rate limit — slowing down", 1_000),
  rule(/lack of payment/i, "account", "waba", "360dialog stopped sending for an unpaid invoice — settle it with 360dialog or the partner"),
  rule(/has been disabled/i, "account", "phone_number", "360dialog disabled this number's API — contact 360dialog support"),
  rule(/endpoint is blocked/i, "account", "phone_number", "360dialog blocked this endpoint for the number — contact 360dialog support"),
  rule(/invalid api_?key/i, "auth", "phone_number", "360dialog refused the API key — check the key in the account's token variable")
] as const

/** 360dialog's own envelope: its message decides the few cases whose HTTP status misleads (400 for its rate limit). */
const classifyProviderError = (status: number, message: string, traceId: string | undefined): ClassifiedError => {
  const trace = traceId === undefined ? {} : { fbtraceId: traceId }
  const matched = PROVIDER_RULES.find((r) => r.pattern.test(message))
  const code = `360dialog_${status}`
  if (matched !== undefined) {
    return {
      errorClass: matched.errorClass,
      scope: matched.scope,
      code,
      text: `HTTP ${status} ${matched.what} (${message})`,
      ...("retryAfterMs" in matched ? { retryAfterMs: matched.retryAfterMs } : {}),
      ...trace
    }
  }
  // Anything else: the core's fallback by HTTP status (429 slows down, 401/403 stop, 5xx retries, …).
  const byStatus = ErrorClass.classifyGraphError({ httpStatus: status, body: undefined })
  return { ...byStatus, code: status === 401 ? code : byStatus.code, text: `${byStatus.text} — 360dialog: ${message}`, ...trace }
}

// 360dialog sometimes wraps Meta's error as text: `Invalid payload ({"error":{…}})`.
const embeddedGraphError = (message: string): unknown => {
  const start = message.indexOf("{\"error\"")
  if (start < 0) return undefined
  const end = message.lastIndexOf("}")
  return Option.getOrUndefined(CloudApi.parseJson(message.slice(start, end + 1)))
}

/** A non-2xx answer of 360dialog, classified: Meta's envelope by Meta's table, 360dialog's by its reference. */
export const classifyError = (input: { readonly status: number; readonly body: unknown; readonly retryAfter?: string | undefined; readonly now?: Date }): ClassifiedError => {
  const provider = decodeProviderError(input.body)
  if (Option.isSome(provider)) {
    const meta = provider.value.meta
    const message = meta.developer_message?.trim() ?? ""
    const embedded = embeddedGraphError(message)
    if (embedded !== undefined) {
      return ErrorClass.classifyGraphError({ httpStatus: input.status, body: embedded, retryAfter: input.retryAfter, now: input.now })
    }
    const classified = classifyProviderError(input.status, message === "" ? "no message" : message, meta["360dialog_trace_id"])
    const wait = ErrorClass.parseRetryAfter(input.retryAfter, input.now)
    return wait !== undefined && (classified.errorClass === "rate_limited" || classified.errorClass === "transient")
      ? { ...classified, retryAfterMs: Math.max(wait, classified.retryAfterMs ?? 0) }
      : classified
  }
  return ErrorClass.classifyGraphError({ httpStatus: input.status, body: input.body, retryAfter: input.retryAfter, now: input.now })
}

// ---------------------------------------------------------------------------------------------------------------
// The adapter

const target = (baseUrl: string, path: string, query: string): CloudApi.Target | undefined => {
  if (!URL.canParse(baseUrl)) return undefined
  const base = new URL(baseUrl)
  if (base.protocol !== "http:" && base.protocol !== "https:") return undefined
  return { origin: base.origin, path: `${base.pathname.replace(/\/+$/, "")}${path}${query === "" ? "" : `?${query}`}` }
}

/** The 360dialog transport; the scope owns the connection pools and closes them when it closes. */
export const make = (options: Options = {}): Effect.Effect<Ports.Transport.TransportShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    // The Cloud API adapter's pools, limits and failure classification; only the credential header differs.
    const http = yield* CloudApi.makeHttp(options)

    const fail = (operation: Operation, error: ClassifiedError, key: string) =>
      Effect.fail(new Ports.Transport.TransportError({ operation, error: CloudApi.scrub(error, key) }))

    const targetOrFail = (operation: Operation, sender: SenderCredentials, path: string, query: string) => {
      const at = target(sender.graphUrl, path, query)
      return at === undefined
        ? fail(operation, {
          errorClass: "auth",
          scope: "waba",
          code: "invalid_graph_url",
          text: `The account's 360dialog URL "${sender.graphUrl}" is not an http(s) URL — fix the account's configuration`
        }, Redacted.value(sender.accessToken))
        : Effect.succeed(at)
    }

    /** One HTTP exchange under the number's API key. */
    const exchange = (operation: Operation, sender: SenderCredentials, method: "GET" | "POST", at: CloudApi.Target, body: string | undefined) => {
      const key = Redacted.value(sender.accessToken)
      return http.exchange(operation, key, method, at, body, { [API_KEY_HEADER]: key })
    }

    const answerError = (operation: Operation, sender: SenderCredentials, answer: CloudApi.Answer) =>
      Effect.gen(function*() {
        const now = new Date(yield* Clock.currentTimeMillis)
        const error = classifyError({
          status: answer.status,
          body: Option.getOrUndefined(CloudApi.parseJson(answer.text)),
          retryAfter: CloudApi.header(answer.headers, "retry-after"),
          now
        })
        return yield* fail(operation, error, Redacted.value(sender.accessToken))
      })

    const sendTemplate = (sender: SenderCredentials, payload: Mapping.TemplateMessagePayload) =>
      Effect.gen(function*() {
        const at = yield* targetOrFail("send", sender, "/messages", "")
        const answer = yield* exchange("send", sender, "POST", at, JSON.stringify(payload))
        if (answer.status < 200 || answer.status > 299) return yield* answerError("send", sender, answer)
        // The Cloud API's own answer, passed through.
        return yield* CloudApi.sendAccepted(answer, Redacted.value(sender.accessToken))
      })

    const listTemplates = (sender: SenderCredentials) =>
      Effect.gen(function*() {
        const key = Redacted.value(sender.accessToken)
        const templates: Array<Template.Template> = []
        let offset = 0
        for (let page = 1; ; page++) {
          const at = yield* targetOrFail("list_templates", sender, "/v1/configs/templates", `limit=${TEMPLATE_PAGE_LIMIT}&offset=${offset}`)
          const answer = yield* exchange("list_templates", sender, "GET", at, undefined)
          if (answer.status < 200 || answer.status > 299) return yield* answerError("list_templates", sender, answer)
          const listing = Option.flatMap(CloudApi.parseJson(answer.text), decodeListing)
          if (Option.isNone(listing)) {
            return yield* fail("list_templates", CloudApi.malformed("list_templates", `page ${page}: no waba_templates array`), key)
          }
          const items = listing.value.waba_templates
          const malformed: Array<string> = []
          items.forEach((item, index) => {
            const decoded = Template.decode(toMetaTemplate(item))
            if (Result.isSuccess(decoded)) templates.push(decoded.success)
            else malformed.push(`#${offset + index}: ${decoded.failure.explanation}`)
          })
          if (malformed.length > 0) {
            yield* Effect.logWarning(`Templates sync: set aside ${malformed.length} malformed template(s) on page ${page}`, malformed.join("; "))
              .pipe(Effect.annotateLogs({ wabaId: sender.wabaId }))
          }
          offset += items.length
          const total = listing.value.total
          if (items.length === 0 || (total !== undefined ? offset >= total : items.length < TEMPLATE_PAGE_LIMIT)) return templates
          if (page >= MAX_TEMPLATE_PAGES) {
            return yield* fail("list_templates", CloudApi.malformed("list_templates", `templates paging does not end: more than ${MAX_TEMPLATE_PAGES} pages`), key)
          }
        }
      })

    // 360dialog's messaging API has no phone-number node: tier and quality come from Meta's webhooks instead.
    const phoneNumberInfo = (sender: SenderCredentials) =>
      fail("phone_number_info", {
        errorClass: "transient",
        scope: "waba",
        code: "not_supported",
        text: "360dialog's API does not report the number's tier or quality; they are updated from Meta's account webhooks"
      }, Redacted.value(sender.accessToken))

    const registerWebhook = (sender: SenderCredentials, registration: Ports.Transport.WebhookRegistration) =>
      Effect.gen(function*() {
        const at = yield* targetOrFail("register_webhook", sender, "/v1/configs/webhook", "")
        const headers = Object.fromEntries(Object.entries(registration.headers).map(([name, value]) => [name, Redacted.value(value)]))
        const answer = yield* exchange("register_webhook", sender, "POST", at, JSON.stringify({ url: registration.url, headers }))
        if (answer.status < 200 || answer.status > 299) {
          // The answer may echo the secret header back: scrub it as well as the key.
          const secrets = Object.values(headers)
          return yield* answerError("register_webhook", sender, answer).pipe(Effect.mapError((e) =>
            new Ports.Transport.TransportError({
              operation: e.operation,
              error: secrets.reduce((error, secret) => CloudApi.scrub(error, secret), e.error)
            })))
        }
      })

    return { sendTemplate, listTemplates, phoneNumberInfo, registerWebhook } satisfies Ports.Transport.TransportShape
  })

/** The 360dialog transport as the Transport service; the pools live as long as the layer. */
export const layer = (options: Options = {}): Layer.Layer<Ports.Transport.Transport> =>
  Layer.effect(Ports.Transport.Transport, make(options))
