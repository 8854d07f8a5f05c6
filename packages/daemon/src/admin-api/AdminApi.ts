/**
 * The daemon's admin HTTP API (issue 6, SPEC §7): the JSON API over accounts, templates, directory, filters and
 * campaigns, `/openapi.json`, `/metrics`, `/healthz` and `/readyz`, as routes to serve.
 *
 *   const admin = HttpRouter.serve(AdminApi.layer({ token }), { disableListenLog: true, disableLogger: true }).pipe(
 *     Layer.provide(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 8787 }))
 *   )
 *
 * It needs the storage, the SQL client (for `/readyz`) and the {@link Metrics} service, which the daemon
 * provides once outside the servers so the dispatcher records into the same counters `/metrics` shows.
 *
 * Every route except `/healthz` and `/readyz` needs `Authorization: Bearer <token>`. The token is compared in
 * constant time (SHA-256 digests of both, so not even its length leaks); without a configured token every
 * protected route answers 503 — the API is never open by default.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import type { Ports } from "@megaphone/core"
import { ByteSize, Effect, Layer, Option, Redacted } from "effect"
import type { FileSystem, Path } from "effect"
import { type Etag, HttpClient, HttpClientRequest, HttpIncomingMessage, type HttpPlatform, type HttpRouter, HttpServerResponse } from "effect/http"
import { HttpApiBuilder, HttpApiClient, HttpApiMiddleware } from "effect/http-api"
import type { SqlClient } from "effect/sql"
import type { Metrics } from "../metrics/Metrics.ts"
import { Api, Authorization, CommonErrors } from "./Api.ts"
import { BadRequest, Unavailable } from "./Errors.ts"
import * as Handlers from "./Handlers.ts"

export { Api, Authorization, CommonErrors, METRICS_CONTENT_TYPE, PAGE } from "./Api.ts"
export * as Errors from "./Errors.ts"
export * as Json from "./Json.ts"

/** The environment variable the daemon reads the admin token from. */
export const TOKEN_ENV = "MEGAPHONE_ADMIN_TOKEN"

/** How the API is served. */
export interface Options {
  /** The bearer token every protected route requires (from MEGAPHONE_ADMIN_TOKEN); none locks them all (503). */
  readonly token: Option.Option<Redacted.Redacted<string>>
  /** Larger request bodies (CSV uploads) are refused unread (default {@link DEFAULT_MAX_BODY}). */
  readonly maxBody?: ByteSize.ByteSize
}

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/** Whether `given` is the token, in time independent of where they differ and of their lengths. */
export const sameToken = (given: string, expected: Redacted.Redacted<string>): boolean =>
  timingSafeEqual(digest(given), digest(Redacted.value(expected)))

const unauthorized = (message: string) =>
  HttpServerResponse.jsonUnsafe({ _tag: "Unauthorized", message }, {
    status: 401,
    headers: { "www-authenticate": "Bearer realm=\"megaphone\"" }
  })

/** The largest request body read by default (a CSV of about a million contacts). */
export const DEFAULT_MAX_BODY = ByteSize.mebibytes(64)

/**
 * The bearer check: 401 with a JSON body (and `WWW-Authenticate`) unless the token matches; 503 without a token.
 * Only a request that passes may send a body, of at most `maxBody` bytes.
 */
export const authorizationLayer = (
  token: Option.Option<Redacted.Redacted<string>>,
  maxBody: ByteSize.ByteSize = DEFAULT_MAX_BODY
): Layer.Layer<Authorization> => {
  // Digest the expected token once; a configured but blank token counts as none.
  const expected = Option.filter(token, (t) => Redacted.value(t).trim() !== "")
  return Layer.succeed(Authorization, {
    bearer: (httpEffect, { credential }) => {
      if (Option.isNone(expected)) {
        return Effect.fail(new Unavailable({
          message: `The admin API is locked: no token is configured. Set ${TOKEN_ENV} to a long random secret ` +
            `(e.g. \`openssl rand -hex 32\`) in the daemon's environment and restart it.`
        }))
      }
      const given = Redacted.value(credential)
      if (given === "") {
        return Effect.succeed(unauthorized(`This route needs the admin token: send the header \`Authorization: Bearer <token>\` ` +
          `with the value of ${TOKEN_ENV} from the daemon's environment.`))
      }
      if (!sameToken(given, expected.value)) {
        return Effect.succeed(unauthorized(`The bearer token is not the admin token. Use the value of ${TOKEN_ENV} from the ` +
          `daemon's environment (tokens are compared exactly, without surrounding spaces).`))
      }
      return Effect.provideService(httpEffect, HttpIncomingMessage.MaxBodySize, maxBody)
    }
  })
}

const SLOT: Readonly<Record<string, string>> = { Params: "path", Query: "query string", Headers: "headers", Payload: "body" }

/** A request that does not decode answers 400 naming the part, the field and what was expected. */
export const commonErrorsLayer: Layer.Layer<CommonErrors> = HttpApiMiddleware.layerSchemaErrorTransform(CommonErrors, (error) => {
  const slot = SLOT[error.kind]
  // A response that does not encode is our bug, not the caller's: it stays a 500.
  if (slot === undefined) return Effect.fail(error)
  return Effect.fail(new BadRequest({
    message: `The request's ${slot} is not valid: ${error.cause.message.replace(/\s*\n\s*/g, " ")}. ` +
      `See /openapi.json for what this endpoint takes.`
  }))
})

/** Every group's handlers, with the two middlewares. */
const handlers = Layer.mergeAll(
  Handlers.health,
  Handlers.system,
  Handlers.accounts,
  Handlers.templates,
  Handlers.directory,
  Handlers.filters,
  Handlers.campaigns,
  Handlers.events
)

/**
 * The admin API's routes on the `HttpRouter` (serve them with `HttpRouter.serve`). The platform services
 * (FileSystem, Path, HttpPlatform, Etag) come with `NodeHttpServer.layer`.
 */
export const layer = (options: Options): Layer.Layer<
  never,
  never,
  | HttpRouter.HttpRouter
  | Ports.Storage.Storage
  | SqlClient.SqlClient
  | Metrics
  | FileSystem.FileSystem
  | Path.Path
  | HttpPlatform.HttpPlatform
  | Etag.Generator
> =>
  HttpApiBuilder.layer(Api).pipe(
    Layer.provide(handlers),
    Layer.provide([authorizationLayer(options.token, options.maxBody), commonErrorsLayer])
  )

/** Where a client reaches the API, and the token it sends. */
export interface ClientOptions {
  /** e.g. `http://127.0.0.1:8787` */
  readonly baseUrl: string
  readonly token: Redacted.Redacted<string>
}

/** A typed client of the admin API (for the CLI and the dashboard): `client.campaigns.show({ params: { id } })`. */
export const client = (options: ClientOptions) =>
  HttpApiClient.make(Api, {
    baseUrl: options.baseUrl,
    transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(options.token))
  })
