/**
 * The Graph API simulator: Meta's Cloud API on loopback, strict the way Meta is strict (docs/simulator.md).
 *
 * API (stable):
 *
 *   start(config, { host?, port? }): Effect<SimulatorHandle, SimulatorConfigError | SimulatorListenError, Scope>
 *     `config` is the JSON configuration (Config.ts; defaults filled in), `port` 0 (default) picks a free port.
 *     The server stops when the scope closes.
 *   SimulatorHandle = {
 *     url            "http://127.0.0.1:PORT" — use `${url}/v23.0` as the Graph base URL
 *     port
 *     stats          Effect<Stats>: accepted messages, per recipient, max mps per number, rejections by code, webhooks
 *     setFaults(p)   merges a partial faults object over the faults in force
 *     setTemplateStatus(wabaId | undefined, name, language, event, reason?)  e.g. "PAUSED" → sends get 132015 and a
 *                    message_template_status_update webhook is posted
 *     advance(ms)    moves the simulator's clock forward (the 24 h window, pair limit, webhook due times)
 *     reset          back to the configured state
 *   }
 *   Simulator / layer(config, options): the same handle as a service.
 *
 * Time is Effect's `Clock` (of the fiber that calls `start`) plus the `advance` offset; randomness is a generator
 * seeded with `config.seed` (or a seed from Effect's `Random`). Served by Node's `http` module: the request path is
 * plain synchronous code over one state object, which keeps it fast (see docs/simulator.md for the figure).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Clock, Context, Duration, Effect, Fiber, Layer, Random, Result, Schema, type Scope } from "effect"
import * as Config from "./Config.ts"
import * as Dialog360Api from "./Dialog360Api.ts"
import { handle, type GraphReply } from "./GraphApi.ts"
import { prng, SimulatorState, type Stats } from "./State.ts"
import { WebhookSender } from "./Webhooks.ts"

export type { AcceptedMessage, Stats } from "./State.ts"
export { SimulatorConfigError } from "./Config.ts"

/** Where the simulator listens. */
export interface StartOptions {
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 0: a free port. */
  readonly port?: number
}

/** A template status change that names no configured template or no known event. */
export class TemplateStatusError extends Schema.TaggedError<TemplateStatusError>()("TemplateStatusError", {
  explanation: Schema.String
}) {
  override get message(): string {
    return this.explanation
  }
}

/** The server could not listen (port taken, bad host). */
export class SimulatorListenError extends Schema.TaggedError<SimulatorListenError>()("SimulatorListenError", {
  host: Schema.String,
  port: Schema.Number,
  reason: Schema.String
}) {
  override get message(): string {
    return `The simulator cannot listen on ${this.host}:${this.port}: ${this.reason}. Choose another address with --listen HOST:PORT.`
  }
}

/** A running simulator. */
export interface SimulatorHandle {
  /** `http://host:port`, without a trailing slash. */
  readonly url: string
  readonly port: number
  /** A snapshot of the statistics. */
  readonly stats: Effect.Effect<Stats>
  /** Merges a partial faults object over the faults in force; returns the faults now in force. */
  readonly setFaults: (patch: Readonly<Record<string, unknown>>) => Effect.Effect<Config.Faults, Config.SimulatorConfigError>
  /** Changes a template's status (PAUSED, DISABLED, APPROVED, REINSTATED, …) and posts the template webhook. */
  readonly setTemplateStatus: (
    wabaId: string | undefined,
    name: string,
    language: string,
    event: string,
    reason?: string
  ) => Effect.Effect<void, TemplateStatusError>
  /** Moves the simulator's clock forward. */
  readonly advance: (ms: number) => Effect.Effect<void>
  /** Back to the configured state: limits, template statuses, faults, statistics, queued webhooks. */
  readonly reset: Effect.Effect<void>
}

const MAX_BODY_BYTES = 4 * 1024 * 1024
const WEBHOOK_TICK = Duration.millis(5)

const readBody = (request: IncomingMessage, onBody: (body: string) => void, onTooLarge: () => void): void => {
  const chunks: Array<Buffer> = []
  let size = 0
  request.on("data", (chunk: Buffer) => {
    size += chunk.length
    if (size <= MAX_BODY_BYTES) chunks.push(chunk)
  })
  request.on("end", () => (size > MAX_BODY_BYTES ? onTooLarge() : onBody(Buffer.concat(chunks).toString("utf8"))))
}

const header = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0]

const writeJson = (response: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": Buffer.byteLength(text) })
  response.end(text)
}

/** Starts the simulator; it stops when the scope closes. */
export const start = (
  config: Config.SimulatorConfigInput,
  options: StartOptions = {}
): Effect.Effect<SimulatorHandle, Config.SimulatorConfigError | SimulatorListenError, Scope.Scope> =>
  Effect.gen(function*() {
    const decoded = Config.decode(config)
    if (Result.isFailure(decoded)) return yield* Effect.fail(decoded.failure)
    const conf = decoded.success
    const clock = yield* Clock.Clock
    let offset = 0
    const now = () => clock.currentTimeMillisUnsafe() + offset
    const seed = conf.seed ?? (yield* Random.nextIntBetween(0, 2 ** 31))
    // Separate streams: the number of webhook draws must not shift the fault draws of later requests.
    const drawRequest = prng(seed)
    const drawWebhook = prng(seed ^ 0x5bd1e995)
    // 360dialog mode always has a sender: a URL registered through its API is posted to even if none was configured.
    const webhookConfig = conf.webhook ?? (conf.provider === "360dialog" ? Config.unregisteredWebhook() : undefined)
    const webhooks = webhookConfig === undefined ? undefined : new WebhookSender(webhookConfig, now, drawWebhook, conf.webhook === undefined)
    const state = new SimulatorState(conf, now, drawRequest, webhooks)
    const context = yield* Effect.context<never>()
    const runAfter = (ms: number, f: () => void) =>
      Effect.runFork(Effect.sleep(Duration.millis(ms)).pipe(Effect.andThen(Effect.sync(f)), Effect.provide(context)))
    const hanging = new Set<ServerResponse>()

    const reply = (response: ServerResponse, answer: GraphReply): void => {
      if (answer.kind === "hang") {
        // Never answer; drop the connection at the cap so a client without a timeout is not held forever.
        hanging.add(response)
        const fiber = runAfter(state.faults.hangMaxMs, () => response.destroy())
        response.on("close", () => {
          hanging.delete(response)
          Effect.runFork(Fiber.interrupt(fiber))
        })
        return
      }
      const { latencyMs, jitterMs } = state.faults
      const delay = latencyMs + (jitterMs > 0 ? state.draw() * jitterMs : 0)
      if (delay <= 0) writeJson(response, answer.status, answer.body)
      else runAfter(delay, () => response.destroyed || writeJson(response, answer.status, answer.body))
    }

    const control = (request: IncomingMessage, response: ServerResponse, pathname: string, query: URLSearchParams, body: string) => {
      const parsed = (): unknown => {
        try {
          return body.trim() === "" ? {} : JSON.parse(body)
        } catch {
          return undefined
        }
      }
      const route = `${request.method ?? "GET"} ${pathname.replace(/\/$/, "")}`
      switch (route) {
        case "GET /_simulator/stats":
          return writeJson(response, 200, state.stats({ messages: query.get("messages") !== "false" }))
        case "GET /_simulator/faults":
          return writeJson(response, 200, state.faults)
        case "POST /_simulator/faults": {
          const faults = Config.decodeFaults(state.faults, parsed())
          if (Result.isFailure(faults)) return writeJson(response, 400, { error: faults.failure.message })
          state.faults = faults.success
          return writeJson(response, 200, state.faults)
        }
        case "POST /_simulator/template-status": {
          const input = parsed()
          const fields = typeof input === "object" && input !== null ? input as Record<string, unknown> : {}
          const { wabaId, name, language, event, reason } = fields
          if (typeof name !== "string" || typeof language !== "string" || typeof event !== "string" ||
            (wabaId !== undefined && typeof wabaId !== "string") || (reason !== undefined && typeof reason !== "string")) {
            return writeJson(response, 400, { error: "Expected {\"name\": string, \"language\": string, \"event\": string, \"wabaId\"?: string, \"reason\"?: string}" })
          }
          const changed = state.setTemplateStatus(wabaId, name, language, event, reason)
          if (typeof changed === "string") return writeJson(response, changed === "unknown_event" ? 400 : 404, { error: templateStatusProblem(changed, name, language, event) })
          return writeJson(response, 200, { templates: changed.map((entry) => ({ wabaId: entry.wabaId, id: entry.template.id, name, language, status: entry.status })) })
        }
        case "POST /_simulator/advance": {
          const input = parsed()
          const ms = typeof input === "object" && input !== null ? (input as Record<string, unknown>).ms : undefined
          if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) return writeJson(response, 400, { error: "Expected {\"ms\": a number ≥ 0}" })
          offset += ms
          return writeJson(response, 200, { now: now() })
        }
        case "POST /_simulator/reset":
          state.reset()
          return writeJson(response, 200, { reset: true })
        default:
          return writeJson(response, 404, {
            error: `No control endpoint ${route}. Available: GET /_simulator/stats, GET|POST /_simulator/faults, POST /_simulator/template-status, POST /_simulator/advance, POST /_simulator/reset`
          })
      }
    }

    const server = createServer({ keepAlive: true }, (request, response) => {
      readBody(request, (body) => {
        const url = new URL(request.url ?? "/", "http://simulator")
        if (url.pathname.startsWith("/_simulator/")) return control(request, response, url.pathname, url.searchParams, body)
        const apiRequest = {
          method: request.method ?? "GET",
          pathname: url.pathname,
          query: url.searchParams,
          authorization: request.headers.authorization,
          body
        }
        reply(response, conf.provider === "360dialog"
          ? Dialog360Api.handle(state, { ...apiRequest, apiKey: header(request.headers[Dialog360Api.API_KEY_HEADER]) })
          : handle(state, apiRequest))
      }, () => writeJson(response, 413, { error: { message: "(#100) Request body too large", type: "OAuthException", code: 100 } }))
    })
    server.keepAliveTimeout = 65_000

    const host = options.host ?? "127.0.0.1"
    const port = yield* Effect.acquireRelease(
      Effect.callback<number, SimulatorListenError>((resume) => {
        const onError = (error: Error) => resume(Effect.fail(new SimulatorListenError({ host, port: options.port ?? 0, reason: error.message })))
        server.once("error", onError)
        server.listen(options.port ?? 0, host, () => {
          server.off("error", onError)
          resume(Effect.succeed((server.address() as AddressInfo).port))
        })
      }),
      () =>
        Effect.promise(async () => {
          for (const response of hanging) response.destroy()
          await webhooks?.close()
          await new Promise<void>((resolve) => {
            server.close(() => resolve())
            server.closeAllConnections()
          })
        })
    )
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`
    state.baseUrl = url

    if (webhooks !== undefined) {
      yield* Effect.forkScoped(Effect.forever(Effect.sleep(WEBHOOK_TICK).pipe(Effect.andThen(Effect.sync(() => webhooks.drain())))))
    }

    return {
      url,
      port,
      stats: Effect.sync(() => state.stats()),
      setFaults: (patch) =>
        Effect.suspend(() => {
          const faults = Config.decodeFaults(state.faults, patch)
          if (Result.isFailure(faults)) return Effect.fail(faults.failure)
          state.faults = faults.success
          return Effect.succeed(state.faults)
        }),
      setTemplateStatus: (wabaId, name, language, event, reason) =>
        Effect.suspend(() => {
          const changed = state.setTemplateStatus(wabaId, name, language, event, reason)
          return typeof changed === "string"
            ? Effect.fail(new TemplateStatusError({ explanation: templateStatusProblem(changed, name, language, event) }))
            : Effect.void
        }),
      advance: (ms) => Effect.sync(() => {
        offset += Math.max(0, ms)
      }),
      reset: Effect.sync(() => state.reset())
    } satisfies SimulatorHandle
  })

const templateStatusProblem = (refusal: "unknown_template" | "unknown_event", name: string, language: string, event: string): string =>
  refusal === "unknown_event"
    ? `Unknown template event ${event}; use APPROVED, REINSTATED, PAUSED, DISABLED, REJECTED, PENDING, FLAGGED, …`
    : `No configured template ${name} in ${language}.`

/** The running simulator as a service. */
export class Simulator extends Context.Service<Simulator, SimulatorHandle>()("megaphone/Simulator") {}

/** A layer that starts the simulator and stops it with the layer's scope. */
export const layer = (
  config: Config.SimulatorConfigInput,
  options: StartOptions = {}
): Layer.Layer<Simulator, Config.SimulatorConfigError | SimulatorListenError> => Layer.effect(Simulator, start(config, options))

/** Decodes a configuration (parsed JSON) without starting anything: for the CLI's early, precise errors. */
export const decodeConfig = Config.decode
