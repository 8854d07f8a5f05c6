/**
 * A transport for "Relay", a hypothetical business solution provider: Megaphone's Transport port implemented
 * against an API that is not Meta's Graph API. What a transport owes the rest of Megaphone:
 *
 * - `sendTemplate` posts the core's Cloud API body (`Mapping.buildPayload`) wherever the provider wants it and
 *   answers Meta's message id (`wamid`) — the status webhooks are matched by it.
 * - Every failure becomes a `TransportError` holding a `ClassifiedError`: its class decides whether the contact is
 *   retried, given up, or its campaign paused. Classify with the core (`ErrorClass.classifyGraphError`,
 *   `classifyTransportFailure`); never invent classes, or the retry policy and pauses go wrong.
 * - A timeout is the `timeout` failure: Meta may have taken the message, so the dispatcher keeps the quota
 *   reservation and the retry policy treats the outcome as unknown.
 * - `listTemplates` returns every template (all pages) decoded by `Template.decode`; `phoneNumberInfo` the number's
 *   tier, quality and throughput in Meta's spelling.
 *
 * `SenderCredentials` carry the account: `graphUrl` is Relay's base URL, `graphVersion` its API version (`v1`),
 * `accessToken` the Relay key (sent as `X-Relay-Key`, never logged).
 */
import { ErrorClass, Ports, Template } from "@megaphone/core"
import { Clock, Effect, Layer, Redacted, Result, Schema } from "effect"

type Operation = Ports.Transport.TransportError["operation"]

/** How the Relay transport behaves. */
export interface Options {
  /** A request without an answer after this long fails as a `timeout` (default 10 s). */
  readonly timeoutMs?: number
}

// ---------------------------------------------------------------------------------------------------------
// Relay's answers, decoded with Schema where they cross the boundary
// ---------------------------------------------------------------------------------------------------------

const Accepted = Schema.Struct({ id: Schema.String, wamid: Schema.String, recipient: Schema.NullOr(Schema.String), queue: Schema.String })

const Failure = Schema.Struct({
  error: Schema.Union([
    Schema.Struct({ kind: Schema.Literal("meta"), metaCode: Schema.Int, title: Schema.String, details: Schema.optionalKey(Schema.String) }),
    Schema.Struct({ kind: Schema.Literal("relay"), reason: Schema.String })
  ])
})

const Channel = Schema.Struct({
  displayNumber: Schema.String,
  verifiedName: Schema.NullOr(Schema.String),
  quality: Schema.String,
  tier: Schema.NullOr(Schema.String),
  throughput: Schema.NullOr(Schema.String),
  nameStatus: Schema.NullOr(Schema.String),
  state: Schema.NullOr(Schema.String)
})

const TemplatePage = Schema.Struct({ items: Schema.Array(Schema.Unknown), nextCursor: Schema.NullOr(Schema.String) })

// ---------------------------------------------------------------------------------------------------------
// One request
// ---------------------------------------------------------------------------------------------------------

/** What came back over HTTP, before it is understood. */
interface Reply {
  readonly status: number
  readonly body: unknown
  readonly retryAfter: string | undefined
}

const transportError = (operation: Operation, error: ErrorClass.ClassifiedError) =>
  new Ports.Transport.TransportError({ operation, error })

/**
 * A refusal, classified by the core's table: Relay passes Meta's code on, so it is classified exactly as the Cloud
 * API adapter would (by rebuilding Graph's error envelope); Relay's own failures are classified by HTTP status.
 */
const classify = (reply: Reply, now: Date): ErrorClass.ClassifiedError => {
  const failure = Schema.decodeUnknownOption(Failure)(reply.body)
  const error = failure._tag === "Some" ? failure.value.error : undefined
  const body = error?.kind === "meta"
    ? { error: { code: error.metaCode, message: error.title, ...(error.details === undefined ? {} : { error_data: { details: error.details } }) } }
    : { error: { message: error?.reason ?? "Relay gave no reason" } }
  return ErrorClass.classifyGraphError({ httpStatus: reply.status, body, retryAfter: reply.retryAfter, now })
}

/** A failed fetch in a line: undici hides the reason (ECONNREFUSED, a DNS failure) in `cause`. */
const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message
}

/** Makes the Relay transport. */
export const make = (options: Options = {}): Ports.Transport.TransportShape => {
  const timeoutMs = options.timeoutMs ?? 10_000

  /** One call to Relay; a 2xx answer decoded by `schema`, anything else a classified `TransportError`. */
  const call = <A>(
    operation: Operation,
    sender: Ports.Transport.SenderCredentials,
    path: string,
    schema: Schema.Decoder<A>,
    body?: unknown
  ): Effect.Effect<A, Ports.Transport.TransportError> =>
    Effect.gen(function*() {
      const reply = yield* Effect.tryPromise({
        try: async (interrupted): Promise<Reply> => {
          const response = await fetch(`${sender.graphUrl}/${sender.graphVersion}${path}`, {
            method: body === undefined ? "GET" : "POST",
            headers: {
              "x-relay-key": Redacted.value(sender.accessToken),
              ...(body === undefined ? {} : { "content-type": "application/json" })
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.any([interrupted, AbortSignal.timeout(timeoutMs)])
          })
          const text = await response.text()
          let parsed: unknown
          try {
            parsed = JSON.parse(text)
          } catch {
            parsed = text
          }
          return { status: response.status, body: parsed, retryAfter: response.headers.get("retry-after") ?? undefined }
        },
        catch: (error) => {
          const timedOut = error instanceof DOMException && error.name === "TimeoutError"
          // A timeout may have reached Meta (outcome unknown); a refused connection did not.
          return transportError(operation, ErrorClass.classifyTransportFailure(timedOut ? "timeout" : "network", describe(error)))
        }
      })
      if (reply.status < 200 || reply.status > 299) {
        return yield* Effect.fail(transportError(operation, classify(reply, new Date(yield* Clock.currentTimeMillis))))
      }
      const decoded = Schema.decodeUnknownResult(schema)(reply.body)
      if (Result.isFailure(decoded)) {
        // A 2xx we cannot read: for a send, Meta may have taken the message.
        return yield* Effect.fail(transportError(operation,
          ErrorClass.classifyTransportFailure("malformed_response", `Relay answered ${reply.status}: ${decoded.failure.message}`)))
      }
      return decoded.success
    })

  return {
    sendTemplate: (sender, payload) =>
      Effect.map(
        call("send", sender, `/channels/${encodeURIComponent(sender.phoneNumberId)}/messages`, Accepted, payload),
        (accepted): Ports.Transport.SendAccepted => ({ wamid: accepted.wamid, waId: accepted.recipient, messageStatus: accepted.queue })
      ),

    listTemplates: (sender) =>
      Effect.gen(function*() {
        const templates: Array<Template.Template> = []
        let cursor: string | null = ""
        // Every page: a template missing from the list would look deleted to the sync.
        while (cursor !== null) {
          const query: string = cursor === "" ? "" : `?cursor=${encodeURIComponent(cursor)}`
          const page: typeof TemplatePage.Type = yield* call("list_templates", sender,
            `/accounts/${encodeURIComponent(sender.wabaId)}/templates${query}`, TemplatePage)
          for (const item of page.items) {
            const decoded = Template.decode(item)
            // One malformed template is set aside (as the Cloud API adapter does), never sinking the rest.
            if (Result.isSuccess(decoded)) templates.push(decoded.success)
            else yield* Effect.logWarning("Relay listed a template Megaphone cannot read").pipe(Effect.annotateLogs({ error: decoded.failure.message }))
          }
          cursor = page.nextCursor
        }
        return templates
      }),

    phoneNumberInfo: (sender) =>
      Effect.map(
        call("phone_number_info", sender, `/channels/${encodeURIComponent(sender.phoneNumberId)}`, Channel),
        (channel): Ports.Transport.PhoneNumberInfo => ({
          displayPhoneNumber: channel.displayNumber,
          verifiedName: channel.verifiedName,
          qualityRating: channel.quality,
          messagingLimitTier: channel.tier,
          throughputLevel: channel.throughput,
          nameStatus: channel.nameStatus,
          status: channel.state
        })
      )
  }
}

/** The Relay transport as the Transport service. */
export const layer = (options: Options = {}): Layer.Layer<Ports.Transport.Transport> =>
  Layer.succeed(Ports.Transport.Transport, make(options))
