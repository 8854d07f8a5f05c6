/**
 * The Cloud API transport: the core's Transport port over Meta's Graph API (whatsapp-cloud-api.md §1 send,
 * §2 errors, §4 templates, §5 phone-number node), on keep-alive undici pools — one per Graph origin, so the
 * real Graph API, a BSP proxy and the simulator can be used side by side.
 *
 * Every failure is a `TransportError` whose `error` the core classified: Meta's code decides (never the title),
 * the HTTP status only when the code is missing. The access token goes into the Authorization header and
 * nowhere else: it is scrubbed from every error text, even one a server echoed back.
 */
import type { IncomingHttpHeaders } from "node:http"
import { ErrorClass, Ports, Template, type Mapping } from "@megaphone/core"
import { Clock, Effect, Layer, Option, Redacted, Result, Schema, type Scope } from "effect"
import { Pool } from "undici"

type ClassifiedError = ErrorClass.ClassifiedError
type Operation = Ports.Transport.TransportError["operation"]
type SenderCredentials = Ports.Transport.SenderCredentials

// ---------------------------------------------------------------------------------------------------------------
// Options

/** How the adapter uses the network. */
export interface Options {
  /**
   * Keep-alive connections per Graph origin at most (default 4,096; opened as needed). Every account of a daemon
   * sends to the same origin (graph.facebook.com), and the dispatcher already bounds each account's sends in
   * flight: this cap is only a backstop. A request above it waits inside the pool after it left the dispatcher's
   * pacing — late, and bunched with the next ones when it goes. The first default, 256, throttled four numbers
   * at full rate to about 1,000 msg/s together (256 connections ÷ 250 ms a send).
   */
  readonly connections?: number
  /** Requests in flight on one connection (default 1: HTTP/1.1 pipelining only for a trusted server). */
  readonly pipelining?: number
  /** Limit for the whole request, connect to last body byte (default 30 s); a send that hits it has an unknown outcome. */
  readonly requestTimeoutMs?: number
  /** Limit for establishing a connection (default 10 s, undici's); nothing was sent when it hits. */
  readonly connectTimeoutMs?: number
  /** The User-Agent header (default `megaphone/0.1.0`). */
  readonly userAgent?: string
}

/** The defaults of {@link Options}. */
export const defaults = {
  connections: 4_096,
  pipelining: 1,
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  userAgent: "megaphone/0.1.0"
} as const

/** The `fields` asked of the templates API (§4): everything `Template.decode` reads. */
export const TEMPLATE_FIELDS = "id,name,language,status,category,parameter_format,components,quality_score,rejected_reason"

/** The `fields` asked of the phone-number node (§5). */
export const PHONE_NUMBER_FIELDS = "display_phone_number,verified_name,quality_rating,messaging_limit_tier,throughput,name_status,status"

/** Templates per page asked of Graph (its default is 25). */
export const TEMPLATE_PAGE_LIMIT = 100

/**
 * A server that keeps answering with a next page is broken: 1,000 pages is 100,000 templates at our page size
 * (Meta allows 6,000 per WABA) and still 25,000 if the server ignores `limit` and uses its default of 25.
 */
export const MAX_TEMPLATE_PAGES = 1_000

// ---------------------------------------------------------------------------------------------------------------
// Graph bodies, decoded at the boundary

const SendResponse = Schema.Struct({
  messages: Schema.NonEmptyArray(Schema.Struct({
    id: Schema.NonEmptyString,
    message_status: Schema.optionalKey(Schema.String)
  })),
  contacts: Schema.optionalKey(Schema.Array(Schema.Struct({ wa_id: Schema.optionalKey(Schema.String) })))
})

const PhoneNumberNode = Schema.Struct({
  display_phone_number: Schema.String,
  verified_name: Schema.optionalKey(Schema.String),
  quality_rating: Schema.optionalKey(Schema.String),
  messaging_limit_tier: Schema.optionalKey(Schema.String),
  throughput: Schema.optionalKey(Schema.Struct({ level: Schema.optionalKey(Schema.String) })),
  name_status: Schema.optionalKey(Schema.String),
  status: Schema.optionalKey(Schema.String)
})

// Only to see a `paging.next` that came without a cursor; Template.decodePage reads the cursor itself.
const PagingNext = Schema.Struct({ paging: Schema.Struct({ next: Schema.String }) })

/** Decodes Meta's answer to a send (also 360dialog's, which forwards it). */
export const decodeSendResponse = Schema.decodeUnknownOption(SendResponse)
const decodePhoneNumberNode = Schema.decodeUnknownOption(PhoneNumberNode)
const decodePagingNext = Schema.decodeUnknownOption(PagingNext)

// ---------------------------------------------------------------------------------------------------------------
// Meta's usage headers (x-app-usage, x-business-use-case-usage): percentages of the quota used

const Percent = Schema.optionalKey(Schema.Number)
const AppUsage = Schema.Struct({ call_count: Percent, total_time: Percent, total_cputime: Percent })
const BusinessUseCaseUsage = Schema.Record(Schema.String, Schema.Array(Schema.Struct({
  type: Schema.optionalKey(Schema.String),
  call_count: Percent,
  total_time: Percent,
  total_cputime: Percent,
  estimated_time_to_regain_access: Schema.optionalKey(Schema.Number)
})))
const decodeAppUsage = Schema.decodeUnknownOption(AppUsage)
const decodeBusinessUseCaseUsage = Schema.decodeUnknownOption(BusinessUseCaseUsage)

interface Usage {
  /** e.g. "app: calls 100%, time 12%; waba whatsapp_business_messaging: calls 100%, regain access in 5 min". */
  readonly summary: string
  /** Meta's own estimate of when calls are allowed again, the longest of all use cases. */
  readonly regainAccessMs: number | undefined
}

/** The first value of a response header. */
export const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** JSON of a body, or none. */
export const parseJson = (text: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
}

const percentages = (usage: { readonly call_count?: number; readonly total_time?: number; readonly total_cputime?: number }): string =>
  [["calls", usage.call_count], ["time", usage.total_time], ["cpu", usage.total_cputime]]
    .filter((entry): entry is [string, number] => entry[1] !== undefined)
    .map(([what, value]) => `${what} ${value}%`)
    .join(", ")

/** A one-line summary of Meta's usage headers, when there are any worth reading. */
const readUsage = (headers: IncomingHttpHeaders): Usage | undefined => {
  const parts: Array<string> = []
  let regainAccessMs: number | undefined
  const app = Option.flatMap(Option.fromNullishOr(header(headers, "x-app-usage")), parseJson).pipe(Option.flatMap(decodeAppUsage))
  if (Option.isSome(app)) {
    const text = percentages(app.value)
    if (text !== "") parts.push(`app: ${text}`)
  }
  const business = Option.flatMap(Option.fromNullishOr(header(headers, "x-business-use-case-usage")), parseJson)
    .pipe(Option.flatMap(decodeBusinessUseCaseUsage))
  if (Option.isSome(business)) {
    for (const [id, useCases] of Object.entries(business.value)) {
      for (const useCase of useCases) {
        const regain = useCase.estimated_time_to_regain_access
        const text = [percentages(useCase), regain !== undefined && regain > 0 ? `regain access in ${regain} min` : ""]
          .filter((s) => s !== "").join(", ")
        if (text !== "") parts.push(`${useCase.type ?? "business"} ${id}: ${text}`)
        if (regain !== undefined && regain > 0) regainAccessMs = Math.max(regainAccessMs ?? 0, regain * 60_000)
      }
    }
  }
  // A server may send many use cases; a person needs the gist, not a wall of text.
  const summary = parts.slice(0, 4).join("; ")
  return summary === "" ? undefined : { summary: summary.length > 300 ? `${summary.slice(0, 299)}…` : summary, regainAccessMs }
}

// ---------------------------------------------------------------------------------------------------------------
// Failures below HTTP

// Errors raised before a byte of the request left this machine: resending cannot duplicate a message.
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "EADDRNOTAVAIL", "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED", "UND_ERR_DESTROYED", "UND_ERR_INVALID_ARG"
])
const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"])
// TLS handshake failures (certificate, protocol) also happen before the request is written.
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED/

const errorCode = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  const code = (cause as { readonly code?: unknown }).code
  return typeof code === "string" ? code : errorCode((cause as { readonly cause?: unknown }).cause)
}

const errorText = (cause: unknown): string => {
  const message = cause instanceof Error ? cause.message : String(cause)
  const code = errorCode(cause)
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`
}

/** A request that failed without an HTTP answer: not sent, timed out, or cut off after it may have been sent. */
export const classifyRequestFailure = (operation: Operation, cause: unknown, timeoutMs: number): ClassifiedError => {
  const code = errorCode(cause)
  const detail = errorText(cause)
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return ErrorClass.classifyTransportFailure("timeout", `no answer within ${timeoutMs} ms: ${detail}`)
  }
  if (code !== undefined && (NOT_SENT_CODES.has(code) || TLS_CODE.test(code)) || operation !== "send") {
    return ErrorClass.classifyTransportFailure("network", detail)
  }
  // The connection broke after the request may have reached Meta: for a send that is an unknown outcome, and
  // "network" would claim the message did not reach Meta. Meta gave no usable answer, hence malformed_response.
  return ErrorClass.classifyTransportFailure("malformed_response", `connection lost before Meta answered: ${detail}`)
}

/** An HTTP answer we could not use (not JSON, wrong shape); for a send the message may have been accepted. */
export const malformed = (operation: Operation, detail: string): ClassifiedError =>
  operation === "send"
    ? ErrorClass.classifyTransportFailure("malformed_response", detail)
    : { errorClass: "transient", scope: "waba", code: "malformed_response", text: `Malformed response from Meta (${detail})` }

// ---------------------------------------------------------------------------------------------------------------
// The adapter

/** An HTTP answer, body read in full. */
export interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
}

/** Where a request goes. */
export interface Target {
  readonly origin: string
  /** Path and query, with any path prefix of `graphUrl` (a BSP proxy) kept. */
  readonly path: string
}

const target = (graphUrl: string, segments: ReadonlyArray<string>, query: string): Target | undefined => {
  if (!URL.canParse(graphUrl)) return undefined
  const base = new URL(graphUrl)
  if (base.protocol !== "http:" && base.protocol !== "https:") return undefined
  const prefix = base.pathname.replace(/\/+$/, "")
  return { origin: base.origin, path: `${prefix}/${segments.map(encodeURIComponent).join("/")}${query === "" ? "" : `?${query}`}` }
}

/** Removes every occurrence of the token from a text, whatever put it there. */
export const scrub = (error: ClassifiedError, token: string): ClassifiedError =>
  token !== "" && error.text.includes(token) ? { ...error, text: error.text.replaceAll(token, "[redacted]") } : error

/**
 * What a 2xx answer to a send says: the message id, the WhatsApp id and the queue status (the Cloud API's shape,
 * also behind a BSP); an answer without a message id is malformed, `secret` scrubbed from what is reported.
 */
export const sendAccepted = (answer: Answer, secret: string): Effect.Effect<Ports.Transport.SendAccepted, Ports.Transport.TransportError> => {
  const decoded = Option.flatMap(parseJson(answer.text), decodeSendResponse)
  if (Option.isNone(decoded)) {
    return Effect.fail(new Ports.Transport.TransportError({
      operation: "send",
      error: scrub(malformed("send", `HTTP ${answer.status} without a message id`), secret)
    }))
  }
  const message = decoded.value.messages[0]
  return Effect.succeed({
    wamid: message.id,
    waId: decoded.value.contacts?.[0]?.wa_id ?? null,
    messageStatus: message.message_status ?? "accepted"
  })
}

/** One HTTP exchange on keep-alive pools (one per origin), shared by the Cloud API and the BSP adapters. */
export interface Http {
  /**
   * A request with `headers` (the credential among them), body read in full, within the whole-request limit;
   * a failure without an answer is classified, and `secret` is scrubbed from its text.
   */
  readonly exchange: (
    operation: Operation,
    secret: string,
    method: "GET" | "POST",
    at: Target,
    body: string | undefined,
    headers: Readonly<Record<string, string>>
  ) => Effect.Effect<Answer, Ports.Transport.TransportError>
  /** The whole-request limit in force. */
  readonly requestTimeoutMs: number
}

/** The pools and the exchange; the scope owns the pools and closes them when it closes. */
export const makeHttp = (options: Options = {}): Effect.Effect<Http, never, Scope.Scope> =>
  Effect.gen(function*() {
    const connections = options.connections ?? defaults.connections
    const pipelining = options.pipelining ?? defaults.pipelining
    const requestTimeoutMs = options.requestTimeoutMs ?? defaults.requestTimeoutMs
    const connectTimeoutMs = options.connectTimeoutMs ?? defaults.connectTimeoutMs
    const userAgent = options.userAgent ?? defaults.userAgent
    const pools = new Map<string, Pool>()
    let closed = false

    yield* Effect.addFinalizer(() =>
      Effect.promise(() => {
        closed = true
        const all = [...pools.values()]
        pools.clear()
        // Requests still in flight were interrupted (and aborted) before the scope closes, so close() is quick.
        return Promise.all(all.map((pool) => pool.close().catch(() => pool.destroy())))
      }))

    const poolFor = (origin: string): Pool => {
      const existing = pools.get(origin)
      if (existing !== undefined) return existing
      const pool = new Pool(origin, {
        connections,
        pipelining,
        connectTimeout: connectTimeoutMs,
        // Backstops for undici's 300 s defaults; the whole-request limit below is the one that counts.
        headersTimeout: requestTimeoutMs,
        bodyTimeout: requestTimeoutMs
      })
      // After close the map stays empty, so a late call gets a closed pool's error instead of a leaked pool.
      if (!closed) pools.set(origin, pool)
      else void pool.close()
      return pool
    }

    const timeoutError = (operation: Operation, secret: string) =>
      new Ports.Transport.TransportError({
        operation,
        error: scrub(ErrorClass.classifyTransportFailure("timeout", `no answer within ${requestTimeoutMs} ms`), secret)
      })

    // One callback per request, with a plain timer for the whole-request limit: this runs for every message, and
    // a promise bridge plus a timeout race cost about as much CPU as undici's request itself.
    const exchange: Http["exchange"] = (operation, secret, method, at, body, credential) =>
      Effect.callback<Answer, Ports.Transport.TransportError>((resume) => {
        const headers: Record<string, string> = { ...credential, "user-agent": userAgent, accept: "application/json" }
        if (body !== undefined) headers["content-type"] = "application/json"
        const controller = new AbortController()
        let timedOut = false
        let settled = false
        const timer = setTimeout(() => {
          timedOut = true
          controller.abort()
        }, requestTimeoutMs)
        const settle = (effect: Effect.Effect<Answer, Ports.Transport.TransportError>) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resume(effect)
        }
        const fail = (cause: unknown) =>
          settle(Effect.fail(timedOut ? timeoutError(operation, secret) : new Ports.Transport.TransportError({
            operation,
            error: scrub(classifyRequestFailure(operation, cause, requestTimeoutMs), secret)
          })))
        try {
          poolFor(at.origin).request({ origin: at.origin, path: at.path, method, headers, body: body ?? null, signal: controller.signal })
            .then((response) =>
              response.body.text().then((text) => settle(Effect.succeed({ status: response.statusCode, headers: response.headers, text })))
            )
            .catch(fail)
        } catch (cause) {
          fail(cause)
        }
        // Interrupting the request aborts it, so a hung server does not keep a connection busy.
        return Effect.sync(() => {
          settled = true
          clearTimeout(timer)
          controller.abort()
        })
      })

    return { exchange, requestTimeoutMs }
  })

/** The Cloud API transport; the scope owns the connection pools and closes them when it closes. */
export const make = (options: Options = {}): Effect.Effect<Ports.Transport.TransportShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const http = yield* makeHttp(options)

    const fail = (operation: Operation, error: ClassifiedError, token: string) =>
      Effect.fail(new Ports.Transport.TransportError({ operation, error: scrub(error, token) }))

    /** One HTTP exchange under the account's bearer token. */
    const exchange = (
      operation: Operation,
      sender: SenderCredentials,
      method: "GET" | "POST",
      at: Target,
      body: string | undefined
    ): Effect.Effect<Answer, Ports.Transport.TransportError> => {
      const token = Redacted.value(sender.accessToken)
      return http.exchange(operation, token, method, at, body, { authorization: `Bearer ${token}` })
    }

    /** A non-2xx answer, classified by Meta's code, with Retry-After and Meta's usage headers honoured. */
    const graphError = (operation: Operation, sender: SenderCredentials, answer: Answer) =>
      Effect.gen(function*() {
        const now = new Date(yield* Clock.currentTimeMillis)
        const classified = ErrorClass.classifyGraphError({
          httpStatus: answer.status,
          body: Option.getOrUndefined(parseJson(answer.text)),
          retryAfter: header(answer.headers, "retry-after"),
          now
        })
        const usage = readUsage(answer.headers)
        const error: ClassifiedError = usage === undefined ? classified : {
          ...classified,
          text: `${classified.text} [Meta usage: ${usage.summary}]`,
          // Meta's estimate is better than our table's advice when it is longer: earlier retries only fail again.
          ...(classified.errorClass === "rate_limited" && usage.regainAccessMs !== undefined
            ? { retryAfterMs: Math.max(classified.retryAfterMs ?? 0, usage.regainAccessMs) }
            : {})
        }
        return yield* fail(operation, error, Redacted.value(sender.accessToken))
      })

    /** A GET whose 2xx answer is JSON; anything else is a TransportError. */
    const getJson = (operation: Operation, sender: SenderCredentials, at: Target) =>
      Effect.gen(function*() {
        const answer = yield* exchange(operation, sender, "GET", at, undefined)
        if (answer.status < 200 || answer.status > 299) return yield* graphError(operation, sender, answer)
        const json = parseJson(answer.text)
        if (Option.isNone(json)) {
          return yield* fail(operation, malformed(operation, `HTTP ${answer.status} with a body that is not JSON`),
            Redacted.value(sender.accessToken))
        }
        return json.value
      })

    const targetOrFail = (operation: Operation, sender: SenderCredentials, segments: ReadonlyArray<string>, query: string) => {
      const at = target(sender.graphUrl, segments, query)
      return at === undefined
        ? fail(operation, {
          errorClass: "auth",
          scope: "waba",
          code: "invalid_graph_url",
          text: `The account's Graph URL "${sender.graphUrl}" is not an http(s) URL — fix the account's configuration`
        }, Redacted.value(sender.accessToken))
        : Effect.succeed(at)
    }

    // Where each number's sends go, parsed once per account rather than once per message.
    const sendTargets = new Map<string, Effect.Effect<Target, Ports.Transport.TransportError>>()
    const sendTarget = (sender: SenderCredentials) => {
      const key = `${sender.graphUrl}\u0000${sender.graphVersion}\u0000${sender.phoneNumberId}`
      const known = sendTargets.get(key)
      if (known !== undefined) return known
      const at = targetOrFail("send", sender, [sender.graphVersion, sender.phoneNumberId, "messages"], "")
      if (sendTargets.size >= 10_000) sendTargets.clear()
      sendTargets.set(key, at)
      return at
    }

    const sendTemplate = (sender: SenderCredentials, payload: Mapping.TemplateMessagePayload) =>
      Effect.gen(function*() {
        const at = yield* sendTarget(sender)
        const answer = yield* exchange("send", sender, "POST", at, JSON.stringify(payload))
        if (answer.status < 200 || answer.status > 299) return yield* graphError("send", sender, answer)
        return yield* sendAccepted(answer, Redacted.value(sender.accessToken))
      })

    const listTemplates = (sender: SenderCredentials) =>
      Effect.gen(function*() {
        const segments = [sender.graphVersion, sender.wabaId, "message_templates"]
        const firstQuery = `fields=${TEMPLATE_FIELDS}&limit=${TEMPLATE_PAGE_LIMIT}`
        const templates: Array<Template.Template> = []
        const seen = new Set<string>()
        let at: Target = yield* targetOrFail("list_templates", sender, segments, firstQuery)
        for (let page = 1; ; page++) {
          const json = yield* getJson("list_templates", sender, at)
          const decoded = Template.decodePage(json)
          if (Result.isFailure(decoded)) {
            return yield* fail("list_templates", malformed("list_templates", `page ${page}: ${decoded.failure.explanation}`),
              Redacted.value(sender.accessToken))
          }
          templates.push(...decoded.success.templates)
          if (decoded.success.malformed.length > 0) {
            // One odd template must not stop the sync; a person still needs to know it was skipped.
            yield* Effect.logWarning(`Templates sync: set aside ${decoded.success.malformed.length} malformed template(s) on page ${page}`,
              decoded.success.malformed.map((m) => `#${m.index}: ${m.explanation}`).join("; ")).pipe(
              Effect.annotateLogs({ wabaId: sender.wabaId }))
          }
          const next = yield* nextPage(sender, segments, firstQuery, json, decoded.success.after, seen, page)
          if (next === undefined) return templates
          at = next
        }
      })

    /** Where the next templates page is, undefined at the end; a loop or a foreign host is an error. */
    const nextPage = (
      sender: SenderCredentials,
      segments: ReadonlyArray<string>,
      firstQuery: string,
      json: unknown,
      after: string | undefined,
      seen: Set<string>,
      page: number
    ): Effect.Effect<Target | undefined, Ports.Transport.TransportError> => {
      const token = Redacted.value(sender.accessToken)
      const loop = (what: string) => fail("list_templates", malformed("list_templates", `templates paging does not end: ${what}`), token)
      if (after !== undefined) {
        if (seen.has(after)) return loop(`cursor "${after}" came back on page ${page}`)
        if (page >= MAX_TEMPLATE_PAGES) return loop(`more than ${MAX_TEMPLATE_PAGES} pages`)
        seen.add(after)
        return targetOrFail("list_templates", sender, segments, `${firstQuery}&after=${encodeURIComponent(after)}`)
      }
      const next = decodePagingNext(json)
      if (Option.isNone(next)) return Effect.succeed(undefined)
      // A `next` without a cursor: follow it, but only on the account's own Graph origin — it carries the token.
      const own = target(sender.graphUrl, [], "")
      const url = URL.canParse(next.value.paging.next) ? new URL(next.value.paging.next) : undefined
      if (url === undefined || own === undefined || url.origin !== own.origin) {
        return fail("list_templates", malformed("list_templates", "paging.next points at another host; not following it"), token)
      }
      const key = `${url.pathname}${url.search}`
      if (seen.has(key)) return loop(`paging.next repeated on page ${page}`)
      if (page >= MAX_TEMPLATE_PAGES) return loop(`more than ${MAX_TEMPLATE_PAGES} pages`)
      seen.add(key)
      return Effect.succeed({ origin: own.origin, path: key })
    }

    const phoneNumberInfo = (sender: SenderCredentials) =>
      Effect.gen(function*() {
        const at = yield* targetOrFail("phone_number_info", sender, [sender.graphVersion, sender.phoneNumberId],
          `fields=${PHONE_NUMBER_FIELDS}`)
        const json = yield* getJson("phone_number_info", sender, at)
        const node = decodePhoneNumberNode(json)
        if (Option.isNone(node)) {
          return yield* fail("phone_number_info", malformed("phone_number_info", "no display_phone_number in the phone-number node"),
            Redacted.value(sender.accessToken))
        }
        const n = node.value
        return {
          displayPhoneNumber: n.display_phone_number,
          verifiedName: n.verified_name ?? null,
          qualityRating: n.quality_rating ?? "UNKNOWN",
          messagingLimitTier: n.messaging_limit_tier ?? null,
          throughputLevel: n.throughput?.level ?? null,
          nameStatus: n.name_status ?? null,
          status: n.status ?? null
        } satisfies Ports.Transport.PhoneNumberInfo
      })

    return { sendTemplate, listTemplates, phoneNumberInfo } satisfies Ports.Transport.TransportShape
  })

/** The Cloud API transport as the Transport service; the pools live as long as the layer. */
export const layer = (options: Options = {}): Layer.Layer<Ports.Transport.Transport> =>
  Layer.effect(Ports.Transport.Transport, make(options))
