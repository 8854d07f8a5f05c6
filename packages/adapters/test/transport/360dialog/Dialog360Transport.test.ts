// The 360dialog adapter over real HTTP on loopback against the simulator in 360dialog mode: what it sends (the
// D360-API-KEY header, POST /messages, the Cloud API body), every error class from 360dialog's and Meta's
// envelopes, template listing through 360dialog's offset paging into the same template model, webhook
// registration, and that neither the API key nor a registered secret leaks into an error.
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import type { Mapping, Ports } from "@megaphone/core"
import { Effect, Exit, Redacted } from "effect"
import * as Dialog360Transport from "../../../src/transport/360dialog/Dialog360Transport.ts"
import * as ProviderTransport from "../../../src/transport/ProviderTransport.ts"
import type { SimulatorConfigInput } from "../../../src/transport/simulator/Config.ts"
import * as Simulator from "../../../src/transport/simulator/Simulator.ts"

type TransportError = Ports.Transport.TransportError

const API_KEY = "d360-key-7Hc2kQ9x"
const PHONE_ID = "106540352242922"
const WABA_ID = "102290129340398"

const body = (text: string) => ({ type: "BODY" as const, text })

const simulatorConfig = (patch: Partial<SimulatorConfigInput> = {}): SimulatorConfigInput => ({
  provider: "360dialog",
  accessToken: "unused-in-360dialog-mode",
  seed: 11,
  accounts: [{
    phoneNumberId: PHONE_ID, wabaId: WABA_ID, displayPhoneNumber: "+420 601 000 001", verifiedName: "Shop",
    messagingLimitTier: "TIER_100K", mps: 10_000, apiKey: API_KEY
  }],
  limits: { pairSpacingMs: 0 },
  templates: {
    [WABA_ID]: [
      { id: "1001", name: "order_done", language: "cs", status: "APPROVED", category: "UTILITY", components: [body("Dobrý den, {{1}}, objednávka {{2}}.")] },
      { id: "1004", name: "winter_sale", language: "cs", status: "PAUSED", category: "MARKETING", components: [body("Sleva {{1}}")] },
      { id: "1006", name: "lucky_draw", language: "cs", status: "REJECTED", category: "UTILITY", rejected_reason: "PROMOTIONAL", components: [body("Výhra")] },
      // Enough templates for three pages of 100.
      ...Array.from({ length: 230 }, (_, i) => ({
        id: String(5000 + i), name: `bulk_${i}`, language: "en", status: "APPROVED", category: "MARKETING", components: [body("Hi")]
      }))
    ]
  },
  ...patch
})

const sender = (url: string, key = API_KEY): Ports.Transport.SenderCredentials => ({
  phoneNumberId: PHONE_ID,
  wabaId: WABA_ID,
  accessToken: Redacted.make(key),
  graphUrl: url,
  graphVersion: "v23.0",
  provider: "360dialog"
})

const payload = (to = "420601123456", name = "order_done", values: ReadonlyArray<string> = ["Anna", "2024-0001"]): Mapping.TemplateMessagePayload => ({
  messaging_product: "whatsapp",
  recipient_type: "individual",
  to,
  type: "template",
  biz_opaque_callback_data: "campaign42:contact977",
  template: {
    name,
    language: { code: "cs", policy: "deterministic" },
    components: [{ type: "body", parameters: values.map((text) => ({ type: "text" as const, text })) }]
  }
})

const setUp = (patch: Partial<SimulatorConfigInput> = {}) =>
  Effect.gen(function*() {
    const simulator = yield* Simulator.start(simulatorConfig(patch))
    const transport = yield* Dialog360Transport.make({ requestTimeoutMs: 2_000 })
    return { simulator, transport, account: sender(simulator.url) }
  })

/** The TransportError of a call that must fail; the API key must not be in it. */
const failure = <A>(effect: Effect.Effect<A, TransportError>, secrets: ReadonlyArray<string> = [API_KEY]) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) return assert.fail(`expected a failure, got ${JSON.stringify(exit.value)}`)
    const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
    if (error === undefined) return assert.fail(`expected a TransportError, got ${String(exit.cause)}`)
    const transportError: TransportError = error.error
    for (const text of [transportError.message, String(transportError), JSON.stringify(transportError)]) {
      for (const secret of secrets) assert.isFalse(text.includes(secret), `secret leaked into: ${text}`)
    }
    return transportError.error
  })

describe("360dialog transport against the simulator in 360dialog mode", () => {
  it.live("sends with the D360-API-KEY header to POST /messages and returns the wamid", () =>
    Effect.gen(function*() {
      const { simulator, transport, account } = yield* setUp()
      const accepted = yield* transport.sendTemplate(account, payload())
      assert.match(accepted.wamid, /^wamid\./)
      assert.strictEqual(accepted.waId, "420601123456")
      assert.strictEqual(accepted.messageStatus, "accepted")
      const stats = yield* simulator.stats
      assert.strictEqual(stats.accepted, 1)
      assert.strictEqual(stats.messages[0]?.callbackData, "campaign42:contact977")
    }))

  it.live("the Graph paths and a bearer token are not 360dialog's: a Meta-direct sender is refused", () =>
    Effect.gen(function*() {
      const { simulator } = yield* setUp()
      const meta = yield* ProviderTransport.make()
      const error = yield* failure(meta.sendTemplate({ ...sender(simulator.url), provider: "meta" }, payload()))
      assert.strictEqual(error.errorClass, "auth")
    }))

  it.live("every error class", () =>
    Effect.gen(function*() {
      const { simulator, transport, account } = yield* setUp({
        faults: { invalidNumbers: ["420601999999"] }
      })
      // auth: a wrong key — 360dialog's own 401 envelope.
      const auth = yield* failure(transport.sendTemplate(sender(simulator.url, "wrong-key"), payload()), [API_KEY, "wrong-key"])
      assert.strictEqual(auth.errorClass, "auth")
      assert.strictEqual(auth.code, "360dialog_401")
      assert.isDefined(auth.fbtraceId)
      // recipient: Meta's 131009 about `to`, forwarded in Meta's envelope.
      const recipient = yield* failure(transport.sendTemplate(account, payload("420601999999")))
      assert.strictEqual(recipient.errorClass, "recipient")
      assert.strictEqual(recipient.code, "131009")
      // template: paused (132015) and unknown (132001).
      const paused = yield* failure(transport.sendTemplate(account, payload("420601123457", "winter_sale", ["10 %"])))
      assert.deepStrictEqual([paused.errorClass, paused.code], ["template", "132015"])
      const unknown = yield* failure(transport.sendTemplate(account, payload("420601123457", "no_such_template")))
      assert.deepStrictEqual([unknown.errorClass, unknown.code], ["template", "132001"])
      // rate_limited: 360dialog's own limit comes as HTTP 400; Meta's throughput limit as 130429.
      yield* simulator.setFaults({ providerRateLimit: 1 })
      const provider = yield* failure(transport.sendTemplate(account, payload()))
      assert.deepStrictEqual([provider.errorClass, provider.scope, provider.code], ["rate_limited", "phone_number", "360dialog_400"])
      assert.isAtLeast(provider.retryAfterMs ?? 0, 1_000)
      yield* simulator.setFaults({ providerRateLimit: 0, rateLimit: 1 })
      const meta = yield* failure(transport.sendTemplate(account, payload()))
      assert.deepStrictEqual([meta.errorClass, meta.code], ["rate_limited", "130429"])
      // transient: Meta's 131000 behind 360dialog.
      yield* simulator.setFaults({ rateLimit: 0, serverError: 1 })
      const transient = yield* failure(transport.sendTemplate(account, payload()))
      assert.deepStrictEqual([transient.errorClass, transient.code], ["transient", "131000"])
      // account: 360dialog stops a number over an unpaid invoice.
      yield* simulator.setFaults({ serverError: 0, providerPaymentRequired: true })
      const account_ = yield* failure(transport.sendTemplate(account, payload()))
      assert.deepStrictEqual([account_.errorClass, account_.scope], ["account", "waba"])
      yield* simulator.setFaults({ providerPaymentRequired: false })
      yield* transport.sendTemplate(account, payload())
    }))

  it.live("a hanging 360dialog times out: transient, outcome unknown", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start(simulatorConfig({ faults: { hang: 1, hangMaxMs: 5_000 } }))
      const transport = yield* Dialog360Transport.make({ requestTimeoutMs: 250 })
      const error = yield* failure(transport.sendTemplate(sender(simulator.url), payload()))
      assert.deepStrictEqual([error.errorClass, error.code], ["transient", "timeout"])
    })))

  it.live("lists every template through 360dialog's offset paging, in Meta's template model", () =>
    Effect.gen(function*() {
      const { transport, account } = yield* setUp()
      const templates = yield* transport.listTemplates(account)
      assert.strictEqual(templates.length, 233)
      const byName = new Map(templates.map((t) => [t.name, t]))
      assert.strictEqual(byName.get("order_done")?.status, "APPROVED")
      assert.strictEqual(byName.get("winter_sale")?.status, "PAUSED")
      assert.strictEqual(byName.get("lucky_draw")?.rejected_reason, "PROMOTIONAL")
      assert.strictEqual(byName.get("order_done")?.components[0]?.type, "BODY")
      assert.strictEqual(byName.get("bulk_229")?.category, "MARKETING")
    }))

  it("maps 360dialog's spelling of a template onto Meta's", () => {
    assert.deepStrictEqual(Dialog360Transport.toMetaTemplate({
      name: "welcome", language: "en", status: "submitted", category: "utility", namespace: "ns", rejected_reason: null,
      quality_score: "unknown", components: []
    }), { name: "welcome", language: "en", status: "PENDING", category: "UTILITY", namespace: "ns", components: [], id: "welcome:en" })
  })

  it("classifies 360dialog's envelope, Meta's envelope, and Meta's error embedded in 360dialog's message", () => {
    const meta = (message: string) => ({ meta: { success: false, http_code: 400, developer_message: message } })
    assert.strictEqual(Dialog360Transport.classifyError({ status: 400, body: meta("Your WhatsApp for Business API has been disabled") }).errorClass, "account")
    assert.strictEqual(Dialog360Transport.classifyError({ status: 403, body: meta("The endpoint is blocked") }).errorClass, "account")
    assert.strictEqual(Dialog360Transport.classifyError({ status: 502, body: meta("WhatsApp for Business API not available") }).errorClass, "transient")
    assert.strictEqual(Dialog360Transport.classifyError({ status: 500, body: meta("Internal server error") }).errorClass, "transient")
    const embedded = Dialog360Transport.classifyError({
      status: 400,
      body: meta('Invalid payload ({"error":{"message":"(#131026) Message undeliverable","code":131026,"fbtrace_id":"Ab"}})')
    })
    assert.deepStrictEqual([embedded.errorClass, embedded.code], ["recipient", "131026"])
    const graph = Dialog360Transport.classifyError({ status: 429, body: { error: { code: 130429, message: "(#130429) Rate limit hit" } }, retryAfter: "7" })
    assert.deepStrictEqual([graph.errorClass, graph.retryAfterMs], ["rate_limited", 7_000])
  })

  it.live("phoneNumberInfo is not offered by 360dialog's API: a transient error, never a crash", () =>
    Effect.gen(function*() {
      const { transport, account } = yield* setUp()
      const error = yield* failure(transport.phoneNumberInfo(account))
      assert.strictEqual(error.code, "not_supported")
    }))
})

describe("webhook registration at 360dialog", () => {
  it.live("POST /v1/configs/webhook makes the simulator forward statuses there with the header, without Meta's signature", () =>
    Effect.scoped(Effect.gen(function*() {
      const received: Array<{ headers: Record<string, string | Array<string> | undefined>; body: string }> = []
      const server = createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (c: Buffer) => chunks.push(c))
        request.on("end", () => {
          received.push({ headers: request.headers, body: Buffer.concat(chunks).toString() })
          response.writeHead(200).end()
        })
      })
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
      )
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp`
      const simulator = yield* Simulator.start(simulatorConfig({ webhook: { url: "http://127.0.0.1:9/never", delays: { sentMs: 0, deliveredMs: 0, readMs: 0 } } }))
      const transport = yield* Dialog360Transport.make()
      const account = sender(simulator.url)
      const secret = "s3cret-header-value"
      const register = transport.registerWebhook
      assert.isDefined(register)
      if (register === undefined) return
      yield* register(account, { url, headers: { "X-Megaphone-Webhook-Secret": Redacted.make(secret) } })
      yield* transport.sendTemplate(account, payload())
      for (let i = 0; i < 200 && received.length < 3; i++) yield* Effect.sleep("10 millis")
      assert.isAtLeast(received.length, 1)
      const first = received[0]
      assert.strictEqual(first?.headers["x-megaphone-webhook-secret"], secret)
      assert.isUndefined(first?.headers["x-hub-signature-256"])
      assert.include(first?.body ?? "", "\"statuses\"")
      // A bad URL is refused by 360dialog; the secret does not leak into the error.
      const error = yield* failure(register(account, { url: "not a url", headers: { "X-Megaphone-Webhook-Secret": Redacted.make(secret) } }), [API_KEY, secret])
      assert.strictEqual(error.code, "http_400")
    })))
})
