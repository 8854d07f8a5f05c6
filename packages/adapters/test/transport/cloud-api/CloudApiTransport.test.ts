// The Cloud API adapter over real HTTP on loopback: what it sends, how every kind of answer (and non-answer) is
// classified, templates paging, the phone-number node, and that the access token never leaks into an error.
// The simulator plays Meta wherever it can; a node:http stub gives the exact answers the simulator does not
// produce on demand (Retry-After headers, usage headers, a 200 without a wamid, a cut connection, echoed tokens).
import { assert, describe, it } from "@effect/vitest"
import { Mapping, type Ports, Template } from "@megaphone/core"
import { Effect, Exit, Logger, Redacted, Result } from "effect"
import * as CloudApiTransport from "../../../src/transport/cloud-api/CloudApiTransport.ts"
import type { SimulatorConfigInput } from "../../../src/transport/simulator/Config.ts"
import * as Simulator from "../../../src/transport/simulator/Simulator.ts"
import * as StubGraph from "./StubGraph.ts"

type TransportError = Ports.Transport.TransportError

const TOKEN = "EAAG-secret-token-4f7c2b9e"

const sender = (graphUrl: string): Ports.Transport.SenderCredentials => ({
  phoneNumberId: "106540352242922",
  wabaId: "102290129340398",
  accessToken: Redacted.make(TOKEN),
  graphUrl,
  graphVersion: "v23.0"
})

const payload: Mapping.TemplateMessagePayload = {
  messaging_product: "whatsapp",
  recipient_type: "individual",
  to: "420601123456",
  type: "template",
  biz_opaque_callback_data: "campaign42:contact977",
  template: {
    name: "order_done",
    language: { code: "cs", policy: "deterministic" },
    components: [{ type: "body", parameters: [{ type: "text", text: "Anna" }, { type: "text", text: "2024-0001" }] }]
  }
}

const accepted = (wamid = "wamid.HBgMNDIwNjAx") => ({
  status: 200,
  json: { messaging_product: "whatsapp", contacts: [{ input: "420601123456", wa_id: "420601123456" }], messages: [{ id: wamid, message_status: "accepted" }] }
})

const graphError = (status: number, code: number, details?: string, headers?: Record<string, string>): StubGraph.Reply => ({
  status,
  ...(headers === undefined ? {} : { headers }),
  json: {
    error: {
      message: `(#${code}) Some title`,
      type: "OAuthException",
      code,
      ...(details === undefined ? {} : { error_data: { messaging_product: "whatsapp", details } }),
      fbtrace_id: "Az8or2yhqkZfEZ-_4Qn_Bam"
    }
  }
})

/** A stub and an adapter on it; both live as long as the test's scope. */
const setUp = (options: CloudApiTransport.Options = {}) =>
  Effect.gen(function*() {
    const stub = yield* StubGraph.start
    const transport = yield* CloudApiTransport.make(options)
    return { stub, transport, account: sender(stub.url) }
  })

/** The TransportError of a call that must fail. */
const failure = <A>(effect: Effect.Effect<A, TransportError>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) return assert.fail(`expected a failure, got ${JSON.stringify(exit.value)}`)
    const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
    if (error === undefined) return assert.fail(`expected a TransportError, got ${String(exit.cause)}`)
    assertNoToken(error.error)
    return error.error
  })

/** The token must not appear anywhere a person or a log could see it. */
const assertNoToken = (error: TransportError): void => {
  for (const text of [error.message, String(error), JSON.stringify(error), error.error.text]) {
    assert.isFalse(text.includes(TOKEN), `token leaked into: ${text}`)
  }
}

const template = (n: number) => ({
  id: String(1_000_000 + n),
  name: `tpl_${String(n).padStart(3, "0")}`,
  language: "cs",
  status: "APPROVED",
  category: "UTILITY",
  parameter_format: "POSITIONAL" as const,
  components: [{ type: "BODY" as const, text: `Hello {{1}} #${n}` }]
})

const PHONE_NUMBER_ID = "106540352242922"
const WABA_ID = "102290129340398"

const orderDone = {
  id: "900001",
  name: "order_done",
  language: "cs",
  status: "APPROVED",
  category: "UTILITY",
  parameter_format: "POSITIONAL",
  components: [{ type: "BODY", text: "Dobrý den {{1}}, objednávka {{2}} je hotová.", example: { body_text: [["Anna", "2024-0001"]] } }]
} as const

/** Meta as the simulator plays it: one number that never throttles a test, 260 templates besides order_done. */
const simulatorConfig: SimulatorConfigInput = {
  accessToken: TOKEN,
  accounts: [{
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: WABA_ID,
    displayPhoneNumber: "+420 601 000 001",
    verifiedName: "Shop s.r.o.",
    qualityRating: "GREEN",
    messagingLimitTier: "TIER_UNLIMITED",
    throughputLevel: "HIGH"
  }],
  templates: { [WABA_ID]: [orderDone, ...Array.from({ length: 260 }, (_, n) => template(n))] },
  limits: { pairSpacingMs: 0, pairBurst: 0 },
  seed: 7
}

/** A simulator and an adapter on it; both live as long as the test's scope. */
const onSimulator = (options: CloudApiTransport.Options = {}) =>
  Effect.gen(function*() {
    const simulator = yield* Simulator.start(simulatorConfig)
    const transport = yield* CloudApiTransport.make(options)
    return { simulator, transport, account: sender(simulator.url) }
  })

const withTemplate = (name: string, parameters: ReadonlyArray<string>, to = "420601123456"): Mapping.TemplateMessagePayload => ({
  ...payload,
  to,
  template: {
    name,
    language: { code: "cs", policy: "deterministic" },
    components: [{ type: "body", parameters: parameters.map((text) => ({ type: "text" as const, text })) }]
  }
})

describe("against the simulator", () => {
  it.live("sends a template and gets Meta's wamid back", () =>
    Effect.gen(function*() {
      const { simulator, transport, account } = yield* onSimulator()
      const result = yield* transport.sendTemplate(account, payload)
      assert.match(result.wamid, /^wamid\./)
      assert.strictEqual(result.waId, "420601123456")
      assert.strictEqual(result.messageStatus, "accepted")
      const stats = yield* simulator.stats
      assert.strictEqual(stats.accepted, 1)
      assert.deepStrictEqual(stats.acceptedPerRecipient, { "420601123456": 1 })
    }))

  it.live("classifies Meta's refusals by code", () =>
    Effect.gen(function*() {
      const { simulator, transport, account } = yield* onSimulator()
      const expect = (error: TransportError, errorClass: string, code: string) => {
        assert.strictEqual(error.operation, "send")
        assert.strictEqual(error.error.errorClass, errorClass, error.message)
        assert.strictEqual(error.error.code, code, error.message)
        assert.isDefined(error.error.fbtraceId)
      }
      expect(yield* failure(transport.sendTemplate(account, withTemplate("order_done", ["Anna", "1"], "12"))), "recipient", "131009")
      expect(yield* failure(transport.sendTemplate(account, withTemplate("no_such_template", ["Anna", "1"]))), "template", "132001")
      expect(yield* failure(transport.sendTemplate(account, withTemplate("order_done", ["Anna"]))), "template", "132000")
      yield* simulator.setTemplateStatus(WABA_ID, "order_done", "cs", "PAUSED")
      expect(yield* failure(transport.sendTemplate(account, payload)), "template", "132015")
      yield* simulator.setTemplateStatus(WABA_ID, "order_done", "cs", "REINSTATED")
      expect(yield* failure(transport.sendTemplate({ ...account, accessToken: Redacted.make("expired") }, payload)), "auth", "190")

      yield* simulator.setFaults({ rateLimit: 1 })
      const limited = yield* failure(transport.sendTemplate(account, payload))
      expect(limited, "rate_limited", "130429")
      assert.strictEqual(limited.error.retryAfterMs, 1_000)
      yield* simulator.setFaults({ rateLimit: 0, serverError: 1 })
      const broken = yield* failure(transport.sendTemplate(account, payload))
      expect(broken, "transient", "131000")
      assert.strictEqual(broken.error.attemptLimit, 3)
      yield* simulator.setFaults({ serverError: 0, unavailable: 1 })
      expect(yield* failure(transport.sendTemplate(account, payload)), "transient", "2")
      yield* simulator.setFaults({ unavailable: 0 })
      assert.match((yield* transport.sendTemplate(account, payload)).wamid, /^wamid\./)
      const stats = yield* simulator.stats
      assert.strictEqual(stats.accepted, 1)
    }))

  it.live("a new recipient beyond the 24 h limit is refused with 131048: an account problem", () =>
    Effect.gen(function*() {
      const small: SimulatorConfigInput = {
        ...simulatorConfig,
        accounts: simulatorConfig.accounts.map((a) => ({ ...a, messagingLimitTier: "TIER_250" }))
      }
      const simulator = yield* Simulator.start(small)
      const transport = yield* CloudApiTransport.make()
      const account = sender(simulator.url)
      for (let n = 0; n < 250; n++) {
        yield* transport.sendTemplate(account, { ...payload, to: `420602${String(n).padStart(6, "0")}` })
      }
      const refused = yield* failure(transport.sendTemplate(account, { ...payload, to: "420603000000" }))
      assert.strictEqual(refused.error.errorClass, "account")
      assert.strictEqual(refused.error.code, "131048")
      // A recipient already inside the window still goes.
      assert.match((yield* transport.sendTemplate(account, { ...payload, to: "420602000007" })).wamid, /^wamid\./)
    }))

  it.live("a hanging simulator times out: transient, outcome unknown", () =>
    Effect.gen(function*() {
      const { simulator, transport, account } = yield* onSimulator({ requestTimeoutMs: 250 })
      yield* simulator.setFaults({ hang: 1 })
      const error = yield* failure(transport.sendTemplate(account, payload))
      assert.strictEqual(error.error.errorClass, "transient")
      assert.strictEqual(error.error.code, "timeout")
      assert.include(error.error.text, "outcome unknown")
    }))

  it.live("lists all 261 templates across pages of 100", () =>
    Effect.gen(function*() {
      const { transport, account } = yield* onSimulator()
      const templates = yield* transport.listTemplates(account)
      assert.strictEqual(templates.length, 261)
      assert.deepStrictEqual(templates.map((t) => t.name).sort(), [orderDone.name, ...Array.from({ length: 260 }, (_, n) => template(n).name)].sort())
      const order = templates.find((t) => t.name === "order_done")
      assert.strictEqual(order?.components.length, 1)
      assert.strictEqual(order?.parameter_format, "POSITIONAL")
    }))

  it.live("reads the phone-number node", () =>
    Effect.gen(function*() {
      const { transport, account } = yield* onSimulator()
      const info = yield* transport.phoneNumberInfo(account)
      assert.strictEqual(info.displayPhoneNumber, "+420 601 000 001")
      assert.strictEqual(info.verifiedName, "Shop s.r.o.")
      assert.strictEqual(info.qualityRating, "GREEN")
      assert.strictEqual(info.messagingLimitTier, "TIER_UNLIMITED")
      assert.strictEqual(info.throughputLevel, "HIGH")
      assert.strictEqual(info.status, "CONNECTED")
      const unknown = yield* failure(transport.phoneNumberInfo({ ...account, phoneNumberId: "999" }))
      assert.strictEqual(unknown.error.code, "100")
    }))
})

describe("media header templates against the simulator", () => {
  const mediaTemplate = (id: string, name: string, format: "IMAGE" | "VIDEO" | "DOCUMENT") =>
    Result.getOrThrow(Template.decode({
      id, name, language: "cs", status: "APPROVED", category: "MARKETING",
      components: [{ type: "HEADER", format }, { type: "BODY", text: "Dobrý den, {{1}}, posíláme vám to." }]
    }))
  const catalog = mediaTemplate("900002", "spring_catalog", "IMAGE")
  const invoice = mediaTemplate("900003", "invoice_ready", "DOCUMENT")
  const trailer = mediaTemplate("900004", "spring_trailer", "VIDEO")
  const withMedia: SimulatorConfigInput = { ...simulatorConfig, templates: { [WABA_ID]: [orderDone, catalog, invoice, trailer] } }

  /** The payload the dispatcher sends for one CSV row `phone,media,name` of `template`. */
  const payloadFor = (template: Template.Template, media: string, to: string) => {
    const header = ["phone", "media", "name"]
    const mapping = Result.getOrThrow(Mapping.fromCsvHeader(template, header))
    const resolved = Result.getOrThrow(Mapping.resolve(template, mapping, Mapping.csvRow(header, [`+${to}`, media, "Jano"])))
    return Result.getOrThrow(Mapping.buildPayload(template, to, resolved, { bizOpaqueCallbackData: `c1:${to}` }))
  }

  it.live("sends image, document and video headers by link or media id in Meta's shape, and the simulator takes them", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start(withMedia)
      const transport = yield* CloudApiTransport.make()
      const account = sender(simulator.url)
      const sends = [
        [catalog, "https://cdn.example.com/jaro.jpg", { type: "image", image: { link: "https://cdn.example.com/jaro.jpg" } }],
        [catalog, "1215647396592284", { type: "image", image: { id: "1215647396592284" } }],
        [invoice, "https://cdn.example.com/f/Faktura%2042.pdf",
          { type: "document", document: { link: "https://cdn.example.com/f/Faktura%2042.pdf", filename: "Faktura 42.pdf" } }],
        [invoice, "1215647396592285", { type: "document", document: { id: "1215647396592285" } }],
        [trailer, "https://cdn.example.com/jaro.mp4", { type: "video", video: { link: "https://cdn.example.com/jaro.mp4" } }]
      ] as const
      for (const [n, [template, media, parameter]] of sends.entries()) {
        const to = `42060155500${n}`
        const payload = payloadFor(template, media, to)
        assert.deepStrictEqual(payload.template.components, [
          { type: "header", parameters: [parameter] },
          { type: "body", parameters: [{ type: "text", text: "Jano" }] }
        ])
        const sent = yield* transport.sendTemplate(account, payload)
        // What reached "Meta" over HTTP is exactly what the mapping built.
        const stats = yield* simulator.stats
        assert.deepStrictEqual(stats.messages.find((m) => m.wamid === sent.wamid)?.components, payload.template.components)
      }
      assert.strictEqual((yield* simulator.stats).accepted, sends.length)
    }))

  it.live("a media header Meta would not take is refused with the code and class the dispatcher acts on", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start(withMedia)
      const transport = yield* CloudApiTransport.make()
      const account = sender(simulator.url)
      const good = payloadFor(catalog, "https://cdn.example.com/jaro.jpg", "420601555100")
      const withHeader = (parameters: ReadonlyArray<unknown>): Mapping.TemplateMessagePayload => ({
        ...good,
        template: { ...good.template, components: [{ type: "header", parameters } as unknown as Mapping.PayloadComponent, ...good.template.components.slice(1)] }
      })
      const refusal = (payload: Mapping.TemplateMessagePayload) =>
        Effect.map(failure(transport.sendTemplate(account, payload)), (error) => [error.error.code, error.error.errorClass])
      // No header at all, or text where the image goes: the mapping is wrong for every contact.
      assert.deepStrictEqual(yield* refusal({ ...good, template: { ...good.template, components: good.template.components.slice(1) } }), ["132012", "template"])
      assert.deepStrictEqual(yield* refusal(withHeader([{ type: "text", text: "x" }])), ["132012", "template"])
      assert.deepStrictEqual(yield* refusal(withHeader([{ type: "image", image: {} }])), ["131008", "template"])
      assert.deepStrictEqual(yield* refusal(withHeader([{ type: "image", image: { link: "https://cdn.example.com/a.jpg", filename: "a.jpg" } }])), ["100", "template"])
      assert.deepStrictEqual(yield* refusal(withHeader([{ type: "image", image: { id: "4::aW1h" } }])), ["131009", "template"])
      assert.strictEqual((yield* simulator.stats).accepted, 0)
    }))
})

describe("sendTemplate (exact answers from a stub)", () => {
  it.live("posts Meta's documented body with the bearer token and decodes the wamid", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      stub.answer(() => accepted("wamid.ABC"))
      const result = yield* transport.sendTemplate(account, payload)
      assert.deepStrictEqual(result, { wamid: "wamid.ABC", waId: "420601123456", messageStatus: "accepted" })
      const request = stub.received[0]
      assert.isDefined(request)
      assert.strictEqual(request?.method, "POST")
      assert.strictEqual(request?.url, "/v23.0/106540352242922/messages")
      assert.strictEqual(request?.headers.authorization, `Bearer ${TOKEN}`)
      assert.strictEqual(request?.headers["content-type"], "application/json")
      assert.deepStrictEqual(JSON.parse(request?.body ?? ""), payload)
    }))

  it.live("keeps a graphUrl path prefix, defaults message_status, and reports held messages as Meta says", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      stub.answer(() => ({ status: 200, json: { messages: [{ id: "wamid.1" }] } }))
      const plain = yield* transport.sendTemplate({ ...account, graphUrl: `${stub.url}/bsp/graph/` }, payload)
      assert.deepStrictEqual(plain, { wamid: "wamid.1", waId: null, messageStatus: "accepted" })
      assert.strictEqual(stub.received[0]?.url, "/bsp/graph/v23.0/106540352242922/messages")
      stub.answer(() => ({ status: 200, json: { messages: [{ id: "wamid.2", message_status: "held_for_quality_assessment" }] } }))
      const held = yield* transport.sendTemplate(account, payload)
      assert.strictEqual(held.messageStatus, "held_for_quality_assessment")
    }))

  it.live("a 200 without a wamid, or not JSON, is a malformed response whose outcome is unknown", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      for (const answer of [
        { status: 200, json: { messages: [] } },
        { status: 200, json: { messages: [{ id: "" }] } },
        { status: 200, json: { contacts: [{ wa_id: "1" }] } },
        { status: 200, text: "<html>ok</html>" }
      ] satisfies ReadonlyArray<StubGraph.Reply>) {
        stub.answer(() => answer)
        const error = yield* failure(transport.sendTemplate(account, payload))
        assert.strictEqual(error.operation, "send")
        assert.strictEqual(error.error.errorClass, "transient")
        assert.strictEqual(error.error.code, "malformed_response")
        assert.include(error.error.text, "outcome unknown")
      }
    }))

  const cases: ReadonlyArray<{
    readonly name: string
    readonly reply: StubGraph.Reply
    readonly errorClass: string
    readonly code: string
    readonly scope?: string
    readonly retryAfterMs?: number
    readonly attemptLimit?: number
  }> = [
    { name: "130429 throughput, Retry-After 7 s", reply: graphError(429, 130429, undefined, { "retry-after": "7" }),
      errorClass: "rate_limited", code: "130429", scope: "phone_number", retryAfterMs: 7_000 },
    { name: "130429 without Retry-After: the table's 1 s", reply: graphError(429, 130429),
      errorClass: "rate_limited", code: "130429", retryAfterMs: 1_000 },
    { name: "131056 pair limit: Retry-After shorter than Meta's advice", reply: graphError(429, 131056, undefined, { "retry-after": "2" }),
      errorClass: "rate_limited", code: "131056", scope: "contact", retryAfterMs: 6_000 },
    { name: "131000 something went wrong", reply: graphError(500, 131000),
      errorClass: "transient", code: "131000", attemptLimit: 3 },
    { name: "503 HTML without a code, Retry-After 30", reply: { status: 503, text: "<html>Service Unavailable</html>", headers: { "retry-after": "30" } },
      errorClass: "transient", code: "http_503", retryAfterMs: 30_000 },
    { name: "131026 undeliverable", reply: graphError(400, 131026),
      errorClass: "recipient", code: "131026", scope: "contact" },
    { name: "131009 on `to`", reply: graphError(400, 131009, "Invalid parameter value for 'to'"),
      errorClass: "recipient", code: "131009", scope: "contact" },
    { name: "131009 on a media link", reply: graphError(400, 131009, "header: image link is not a valid URL"),
      errorClass: "template", code: "131009", scope: "template" },
    { name: "132001 template does not exist", reply: graphError(404, 132001, "template name (order_done) does not exist in cs"),
      errorClass: "template", code: "132001" },
    { name: "132000 parameter count", reply: graphError(400, 132000, "body: number of localizable_params (2) does not match the expected number of params (3)"),
      errorClass: "template", code: "132000" },
    { name: "132015 template paused", reply: graphError(400, 132015),
      errorClass: "template", code: "132015" },
    { name: "190 token expired (a Retry-After is ignored)", reply: graphError(401, 190, undefined, { "retry-after": "5" }),
      errorClass: "auth", code: "190", scope: "waba" },
    { name: "401 without a body", reply: { status: 401 },
      errorClass: "auth", code: "http_401" }
  ]

  for (const c of cases) {
    it.live(`classifies ${c.name}`, () =>
      Effect.gen(function*() {
        const { stub, transport, account } = yield* setUp()
        stub.answer(() => c.reply)
        const error = yield* failure(transport.sendTemplate(account, payload))
        assert.strictEqual(error._tag, "TransportError")
        assert.strictEqual(error.operation, "send")
        assert.strictEqual(error.error.errorClass, c.errorClass)
        assert.strictEqual(error.error.code, c.code)
        if (c.scope !== undefined) assert.strictEqual(error.error.scope, c.scope)
        assert.strictEqual(error.error.retryAfterMs, c.retryAfterMs)
        if (c.attemptLimit !== undefined) assert.strictEqual(error.error.attemptLimit, c.attemptLimit)
        if (typeof c.reply === "object" && c.reply.json !== undefined) assert.strictEqual(error.error.fbtraceId, "Az8or2yhqkZfEZ-_4Qn_Bam")
      }))
  }

  it.live("reads Retry-After given as an HTTP date against the clock", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      const inAMinute = new Date(Date.now() + 60_000).toUTCString()
      stub.answer(() => graphError(429, 130429, undefined, { "retry-after": inAMinute }))
      const error = yield* failure(transport.sendTemplate(account, payload))
      const wait = error.error.retryAfterMs ?? 0
      // HTTP dates have whole seconds: up to a second less than 60 s, never more.
      assert.isTrue(wait > 55_000 && wait <= 60_000, `retryAfterMs ${wait}`)
    }))

  it.live("summarises Meta's usage headers and honours the estimated time to regain access", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      stub.answer(() => graphError(429, 80007, undefined, {
        "x-app-usage": JSON.stringify({ call_count: 28, total_time: 25, total_cputime: 12 }),
        "x-business-use-case-usage": JSON.stringify({
          "102290129340398": [{ type: "whatsapp_business_management", call_count: 100, total_cputime: 3, total_time: 4, estimated_time_to_regain_access: 5 }]
        })
      }))
      const error = yield* failure(transport.sendTemplate(account, payload))
      assert.strictEqual(error.error.errorClass, "rate_limited")
      assert.strictEqual(error.error.retryAfterMs, 5 * 60_000)
      assert.include(error.error.text, "[Meta usage: app: calls 28%, time 25%, cpu 12%; ")
      assert.include(error.error.text, "whatsapp_business_management 102290129340398: calls 100%, time 4%, cpu 3%, regain access in 5 min]")
      // Garbage in the headers is ignored, never fatal.
      stub.answer(() => graphError(429, 130429, undefined, { "x-app-usage": "{not json", "x-business-use-case-usage": "[1,2]" }))
      const plain = yield* failure(transport.sendTemplate(account, payload))
      assert.notInclude(plain.error.text, "Meta usage")
      assert.strictEqual(plain.error.retryAfterMs, 1_000)
    }))

  it.live("connection refused is a network error: the request did not reach Meta", () =>
    Effect.gen(function*() {
      const port = yield* StubGraph.closedPort
      const transport = yield* CloudApiTransport.make()
      const error = yield* failure(transport.sendTemplate(sender(`http://127.0.0.1:${port}`), payload))
      assert.strictEqual(error.error.errorClass, "transient")
      assert.strictEqual(error.error.code, "network")
      assert.include(error.error.text, "did not reach Meta")
      assert.include(error.error.text, "ECONNREFUSED")
    }))

  it.live("a connection cut after the request was sent leaves the outcome unknown", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      stub.answer(() => "drop")
      const error = yield* failure(transport.sendTemplate(account, payload))
      assert.strictEqual(error.error.errorClass, "transient")
      assert.strictEqual(error.error.code, "malformed_response")
      assert.include(error.error.text, "outcome unknown")
    }))

  it.live("a server that hangs times out as transient with the outcome unknown, and the socket is freed", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp({ requestTimeoutMs: 300, connections: 1 })
      stub.answer(() => "hang")
      const error = yield* failure(transport.sendTemplate(account, payload))
      assert.strictEqual(error.error.errorClass, "transient")
      assert.strictEqual(error.error.code, "timeout")
      assert.include(error.error.text, "outcome unknown")
      // With one connection, a hung request that was not aborted would block this one until it timed out too.
      stub.answer(() => accepted("wamid.after"))
      const next = yield* transport.sendTemplate(account, payload)
      assert.strictEqual(next.wamid, "wamid.after")
    }))

  it.live("reuses keep-alive connections and closes them with the scope", () =>
    Effect.gen(function*() {
      const stub = yield* StubGraph.start
      stub.answer(() => accepted())
      yield* Effect.scoped(Effect.gen(function*() {
        const transport = yield* CloudApiTransport.make({ connections: 4 })
        yield* Effect.forEach(Array.from({ length: 40 }), () => transport.sendTemplate(sender(stub.url), payload), { concurrency: 8 })
        yield* Effect.forEach(Array.from({ length: 10 }), () => transport.sendTemplate(sender(stub.url), payload))
        const ports = new Set(stub.received.map((r) => r.remotePort))
        assert.isTrue(ports.size <= 4, `${ports.size} connections for 50 requests`)
        assert.isAbove(yield* Effect.promise(stub.openConnections), 0)
      }))
      // The server notices the close a moment later; poll briefly instead of sleeping a fixed time.
      let open = yield* Effect.promise(stub.openConnections)
      for (let i = 0; i < 50 && open > 0; i++) {
        yield* Effect.sleep(10)
        open = yield* Effect.promise(stub.openConnections)
      }
      assert.strictEqual(open, 0)
    }))

  it.live("a Graph URL that is not http(s) is a configuration error, not a retry", () =>
    Effect.gen(function*() {
      const transport = yield* CloudApiTransport.make()
      const error = yield* failure(transport.sendTemplate(sender("ftp://graph.example"), payload))
      assert.strictEqual(error.error.errorClass, "auth")
      assert.strictEqual(error.error.code, "invalid_graph_url")
    }))
})

describe("the access token", () => {
  it.live("never appears in an error, even when the server echoes it back", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      const echo = (request: StubGraph.Received) => `${request.headers.authorization ?? ""} ${request.url}`
      const answers: ReadonlyArray<(request: StubGraph.Received) => StubGraph.Reply> = [
        (r) => graphError(400, 131009, `bad value: ${echo(r)}`),
        (r) => graphError(400, 999_999, `unknown: ${echo(r)}`),
        (r) => ({ status: 400, json: { error: { message: `(#100) ${echo(r)}`, code: 100 } } }),
        (r) => ({ status: 500, text: echo(r) }),
        (r) => graphError(429, 130429, echo(r), { "x-business-use-case-usage": JSON.stringify({ [TOKEN]: [{ type: TOKEN, call_count: 100 }] }) })
      ]
      for (const answer of answers) {
        stub.answer(answer)
        yield* failure(transport.sendTemplate(account, payload))
        yield* failure(transport.listTemplates(account))
        yield* failure(transport.phoneNumberInfo(account))
      }
      // Also in a Graph URL (someone pasted a token into the config) and in a refused connection's message.
      yield* failure(transport.sendTemplate({ ...account, graphUrl: `ftp://${TOKEN}@graph.example` }, payload))
      const port = yield* StubGraph.closedPort
      yield* failure(transport.sendTemplate({ ...account, graphUrl: `http://127.0.0.1:${port}/${TOKEN}` }, payload))
    }))
})

describe("listTemplates (exact pages from a stub)", () => {
  /** Serves `total` templates `perPage` at a time with Graph's cursors; `broken` marks elements that are not templates. */
  const pagedTemplates = (stub: StubGraph.StubGraph, total: number, perPage: number, broken: ReadonlySet<number> = new Set()) =>
    stub.answer((request) => {
      const url = new URL(request.url, stub.url)
      const from = Number(url.searchParams.get("after")?.replace("cursor-", "") ?? "0")
      const to = Math.min(total, from + perPage)
      const data = Array.from({ length: to - from }, (_, i) => broken.has(from + i) ? { id: from + i, name: 7 } : template(from + i))
      const more = to < total
      return {
        status: 200,
        json: {
          data,
          paging: {
            cursors: { before: `cursor-${from}`, after: `cursor-${to}` },
            ...(more ? { next: `${stub.url}/v23.0/102290129340398/message_templates?limit=${perPage}&after=cursor-${to}` } : {})
          }
        }
      }
    })

  it.live("follows the cursors through 250+ templates, asks for the documented fields, and sets aside malformed ones", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      pagedTemplates(stub, 263, 100, new Set([5, 150]))
      const logged: Array<string> = []
      const capture = Logger.make((options) => {
        logged.push(`${options.logLevel} ${JSON.stringify(options.message)}`)
      })
      const templates = yield* transport.listTemplates(account).pipe(Effect.provide(Logger.layer([capture])))
      assert.strictEqual(templates.length, 261)
      assert.strictEqual(new Set(templates.map((t) => t.name)).size, 261)
      assert.strictEqual(templates[0]?.name, "tpl_000")
      assert.strictEqual(templates.at(-1)?.name, "tpl_262")
      assert.deepStrictEqual(stub.received.map((r) => r.method), ["GET", "GET", "GET"])
      const first = new URL(stub.received[0]?.url ?? "", stub.url)
      assert.strictEqual(first.pathname, "/v23.0/102290129340398/message_templates")
      assert.strictEqual(first.searchParams.get("fields"), CloudApiTransport.TEMPLATE_FIELDS)
      assert.strictEqual(first.searchParams.get("limit"), "100")
      assert.strictEqual(first.searchParams.get("after"), null)
      assert.strictEqual(new URL(stub.received[2]?.url ?? "", stub.url).searchParams.get("after"), "cursor-200")
      assert.strictEqual(stub.received[1]?.headers.authorization, `Bearer ${TOKEN}`)
      const warnings = logged.filter((line) => line.startsWith("Warn"))
      assert.strictEqual(warnings.length, 2, logged.join("\n"))
      assert.include(warnings[0] ?? "", "set aside 1 malformed template(s) on page 1")
      assert.include(warnings[1] ?? "", "page 2")
    }))

  it.live("follows paging.next when there is no cursor, on the account's own host only", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      stub.answer((request) => request.url.includes("page=2")
        ? { status: 200, json: { data: [template(2)], paging: {} } }
        : { status: 200, json: { data: [template(1)], paging: { next: `${stub.url}/v23.0/102290129340398/message_templates?page=2` } } })
      const templates = yield* transport.listTemplates(account)
      assert.deepStrictEqual(templates.map((t) => t.name), ["tpl_001", "tpl_002"])
      assert.strictEqual(stub.received[1]?.url, "/v23.0/102290129340398/message_templates?page=2")

      const other = yield* StubGraph.start
      other.answer(() => ({ status: 200, json: { data: [] } }))
      stub.answer(() => ({ status: 200, json: { data: [template(1)], paging: { next: `${other.url}/steal?page=2` } } }))
      const error = yield* failure(transport.listTemplates(account))
      assert.strictEqual(error.operation, "list_templates")
      assert.include(error.error.text, "another host")
      assert.strictEqual(other.received.length, 0)
    }))

  it.live("stops a server that repeats a cursor or never ends", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      stub.answer(() => ({ status: 200, json: { data: [template(1)], paging: { cursors: { after: "same" }, next: `${stub.url}/x?after=same` } } }))
      const repeated = yield* failure(transport.listTemplates(account))
      assert.strictEqual(repeated.operation, "list_templates")
      assert.strictEqual(repeated.error.code, "malformed_response")
      assert.include(repeated.error.text, `cursor "same" came back on page 2`)
      assert.strictEqual(stub.received.length, 2)

      let n = 0
      stub.answer(() => ({ status: 200, json: { data: [], paging: { cursors: { after: `c${++n}` }, next: `${stub.url}/x` } } }))
      const endless = yield* failure(transport.listTemplates(account))
      assert.include(endless.error.text, `more than ${CloudApiTransport.MAX_TEMPLATE_PAGES} pages`)
    }))

  it.live("a Graph error or a body that is not a templates page fails the sync", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      stub.answer(() => graphError(400, 80007, undefined, { "retry-after": "60" }))
      const limited = yield* failure(transport.listTemplates(account))
      assert.strictEqual(limited.error.errorClass, "rate_limited")
      assert.strictEqual(limited.error.retryAfterMs, 60_000)
      stub.answer(() => ({ status: 200, json: { templates: [] } }))
      const odd = yield* failure(transport.listTemplates(account))
      assert.strictEqual(odd.error.code, "malformed_response")
      assert.include(odd.error.text, "Not a templates page")
    }))
})

describe("phoneNumberInfo (exact node from a stub)", () => {
  it.live("reads the phone-number node", () =>
    Effect.gen(function*() {
      const { stub, transport, account } = yield* setUp()
      stub.answer(() => ({
        status: 200,
        json: {
          id: "106540352242922",
          display_phone_number: "+420 601 123 456",
          verified_name: "Shop s.r.o.",
          quality_rating: "GREEN",
          messaging_limit_tier: "TIER_2K",
          throughput: { level: "STANDARD" },
          name_status: "APPROVED",
          status: "CONNECTED"
        }
      }))
      const info = yield* transport.phoneNumberInfo(account)
      assert.deepStrictEqual(info, {
        displayPhoneNumber: "+420 601 123 456",
        verifiedName: "Shop s.r.o.",
        qualityRating: "GREEN",
        messagingLimitTier: "TIER_2K",
        throughputLevel: "STANDARD",
        nameStatus: "APPROVED",
        status: "CONNECTED"
      })
      const url = new URL(stub.received[0]?.url ?? "", stub.url)
      assert.strictEqual(url.pathname, "/v23.0/106540352242922")
      assert.strictEqual(url.searchParams.get("fields"), CloudApiTransport.PHONE_NUMBER_FIELDS)

      stub.answer(() => ({ status: 200, json: { display_phone_number: "+420 601 000 000" } }))
      assert.deepStrictEqual(yield* transport.phoneNumberInfo(account), {
        displayPhoneNumber: "+420 601 000 000", verifiedName: null, qualityRating: "UNKNOWN", messagingLimitTier: null,
        throughputLevel: null, nameStatus: null, status: null
      })
      stub.answer(() => ({ status: 200, json: { id: "1" } }))
      const error = yield* failure(transport.phoneNumberInfo(account))
      assert.strictEqual(error.operation, "phone_number_info")
      assert.strictEqual(error.error.code, "malformed_response")
    }))
})
