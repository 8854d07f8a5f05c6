/** Shared set-up of the simulator tests: a configuration, a running simulator, a driven clock, a webhook receiver. */
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { Clock, Effect, Exit, Scope } from "effect"
import { request } from "undici"
import { Simulator } from "../../../src/index.ts"
import type { SimulatorConfigInput } from "../../../src/transport/simulator/Config.ts"

/** The token every test request carries. */
export const TOKEN = "test-token"
/** The first account's numbers. */
export const PHONE_ID = "106540352242922"
export const WABA_ID = "102290129340398"
/** A second account in the same portfolio (shared messaging limit). */
export const PHONE_ID_2 = "106540352242923"

const body = (text: string, example?: ReadonlyArray<string>) =>
  example === undefined ? { type: "BODY" as const, text } : { type: "BODY" as const, text, example: { body_text: [example] } }

/** The seed's templates plus one of each kind the validation has to know. */
export const templates = [
  {
    id: "1001", name: "order_done", language: "cs", status: "APPROVED", category: "UTILITY",
    components: [body("Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena.", ["Jana", "Nováková", "42"])]
  },
  {
    id: "1002", name: "spring_sale", language: "cs", status: "APPROVED", category: "MARKETING", parameter_format: "NAMED",
    components: [{ type: "BODY", text: "Ahoj {{first_name}}, sleva {{discount}}." }]
  },
  {
    id: "1003", name: "shipping_update", language: "cs", status: "APPROVED", category: "UTILITY",
    components: [
      { type: "HEADER", format: "TEXT", text: "Zásilka {{1}}" },
      body("Dobrý den, {{1}}, zásilka je na cestě."),
      { type: "BUTTONS", buttons: [{ type: "URL", text: "Sledovat", url: "https://shop.example/t/{{1}}" }] }
    ]
  },
  { id: "1004", name: "winter_sale", language: "cs", status: "PAUSED", category: "MARKETING", components: [body("Sleva {{1}}")] },
  { id: "1005", name: "old_promo", language: "cs", status: "DISABLED", category: "MARKETING", components: [body("Sleva")] },
  { id: "1006", name: "lucky_draw", language: "cs", status: "REJECTED", category: "UTILITY", rejected_reason: "PROMOTIONAL", components: [body("Výhra")] },
  {
    id: "1007", name: "coupon", language: "en", status: "APPROVED", category: "MARKETING",
    components: [
      { type: "HEADER", format: "IMAGE" },
      body("Your code"),
      { type: "BUTTONS", buttons: [{ type: "COPY_CODE", example: "SPRING25" }] }
    ]
  }
] as const

/** A configuration with two numbers of one portfolio and the templates above; `patch` replaces top-level keys. */
export const config = (patch: Partial<SimulatorConfigInput> = {}): SimulatorConfigInput => ({
  accessToken: TOKEN,
  seed: 7,
  accounts: [
    {
      phoneNumberId: PHONE_ID, wabaId: WABA_ID, portfolioId: "p1", displayPhoneNumber: "+420 601 000 001",
      verifiedName: "Megaphone Shop", messagingLimitTier: "TIER_2K"
    },
    {
      phoneNumberId: PHONE_ID_2, wabaId: WABA_ID, portfolioId: "p1", displayPhoneNumber: "+420 601 000 002",
      verifiedName: "Megaphone Shop 2", messagingLimitTier: "TIER_250", throughputLevel: "HIGH"
    }
  ],
  templates: { [WABA_ID]: templates },
  ...patch
})

/** A clock the test sets; sleeping stays real so the server's timers still run. */
export const drivenClock = (startMs: number) => {
  let t = startMs
  const make = (real: Clock.Clock): Clock.Clock => ({
    currentTimeMillisUnsafe: () => t,
    currentTimeMillis: Effect.sync(() => t),
    currentTimeNanosUnsafe: () => BigInt(t) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(t) * 1_000_000n),
    monotonicTimeNanosUnsafe: () => real.monotonicTimeNanosUnsafe(),
    monotonicTimeNanos: real.monotonicTimeNanos,
    sleep: (duration) => real.sleep(duration)
  })
  return {
    provide: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.gen(function*() {
        const real = yield* Clock.Clock
        return yield* Effect.provideService(effect, Clock.Clock, make(real))
      }),
    set: (ms: number) => {
      t = ms
    },
    advance: (ms: number) => {
      t += ms
    },
    now: () => t
  }
}

/** A started simulator and how to stop it. */
export interface Running {
  readonly sim: Simulator.SimulatorHandle
  readonly stop: () => Promise<void>
}

/** Starts a simulator outside any test scope (for beforeAll / afterAll). */
export const startSimulator = async (
  input: SimulatorConfigInput,
  wrap: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> = (effect) => effect
): Promise<Running> => {
  const scope = await Effect.runPromise(Scope.make())
  const sim = await Effect.runPromise(wrap(Simulator.start(input).pipe(Scope.provide(scope))))
  return { sim, stop: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** A Graph answer: status and parsed JSON. */
export interface Answer {
  readonly status: number
  // The tests look into Graph JSON freely.
  readonly json: Record<string, unknown> & { error?: { code: number; message: string; error_data?: { details: string } } }
}

/** `POST /{version}/{phone}/messages` with a body. */
export const send = async (
  url: string,
  message: unknown,
  options: { readonly token?: string | null; readonly version?: string; readonly phoneId?: string } = {}
): Promise<Answer> => {
  const token = options.token === undefined ? TOKEN : options.token
  const response = await request(`${url}/${options.version ?? "v23.0"}/${options.phoneId ?? PHONE_ID}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof message === "string" ? message : JSON.stringify(message)
  })
  return { status: response.statusCode, json: await response.body.json() as Answer["json"] }
}

/** A GET on the simulator. */
export const get = async (url: string, path: string, token: string = TOKEN): Promise<Answer> => {
  const response = await request(path.startsWith("http") ? path : `${url}${path}`, { headers: { authorization: `Bearer ${token}` } })
  return { status: response.statusCode, json: await response.body.json() as Answer["json"] }
}

/** A JSON POST to the control endpoint. */
export const control = async (url: string, path: string, body: unknown): Promise<Answer> => {
  const response = await request(`${url}/_simulator/${path}`, { method: "POST", body: JSON.stringify(body) })
  return { status: response.statusCode, json: await response.body.json() as Answer["json"] }
}

/** A valid send of the seed's template. */
export const orderDone = (to: string, values: ReadonlyArray<string> = ["Jana", "Nováková", "42"], extra: Record<string, unknown> = {}) => ({
  messaging_product: "whatsapp",
  recipient_type: "individual",
  to,
  type: "template",
  template: {
    name: "order_done",
    language: { code: "cs" },
    components: [{ type: "body", parameters: values.map((text) => ({ type: "text", text })) }]
  },
  ...extra
})

/** One POST the receiver got. */
export interface Received {
  readonly headers: IncomingHttpHeaders
  readonly raw: string
  readonly json: {
    readonly entry: ReadonlyArray<{
      readonly id: string
      readonly changes: ReadonlyArray<{ readonly field: string; readonly value: Record<string, unknown> & { statuses?: ReadonlyArray<Record<string, unknown>> } }>
    }>
  }
}

/** A tiny webhook receiver; `status(n)` decides the answer to the n-th POST (0-based). */
export const receiver = async (status: (n: number) => number = () => 200) => {
  const received: Array<Received> = []
  let n = 0
  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8")
      const code = status(n++)
      if (code >= 200 && code < 300) received.push({ headers: req.headers, raw, json: JSON.parse(raw) as Received["json"] })
      res.writeHead(code).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp`,
    received,
    attempts: () => n,
    statuses: () => received.flatMap((r) => r.json.entry.flatMap((e) => e.changes.flatMap((c) => c.value.statuses ?? []))),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }
}

/** Waits (polling, bounded) until `check` holds. */
export const eventually = async (check: () => boolean, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
