// The admin API's bearer check on its own, without a server or a database: constant-time comparison (every
// comparison goes through node:crypto's timingSafeEqual, whatever the lengths), 401s that say nothing about how a
// wrong token differs, 503 without a configured token, and the body limit only for a request that passed.
import * as crypto from "node:crypto"
import { ByteSize, Effect, Option, Redacted } from "effect"
import { HttpIncomingMessage, HttpServerResponse } from "effect/http"
import { beforeEach, describe, expect, it, vi } from "vitest"
import { Authorization, authorizationLayer, sameToken } from "../../src/admin-api/AdminApi.ts"

// The real timingSafeEqual, watched: a comparison that bypasses it (`===`, a length check first) is caught.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>()
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) }
})
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual)

const TOKEN = "tk-3f9c0d7e5b2a41c8e06d"
const token = Redacted.make(TOKEN)

// Wrong tokens of every shape: same length, a prefix, longer, one character off at either end, case, spaces.
const WRONG = [
  "x".repeat(TOKEN.length),
  TOKEN.slice(0, -1),
  TOKEN.slice(0, 5),
  `${TOKEN}0`,
  `${TOKEN} `,
  ` ${TOKEN}`,
  `${TOKEN.slice(0, -1)}9`,
  `B${TOKEN.slice(1)}`,
  TOKEN.toUpperCase(),
  "a".repeat(10_000)
]

beforeEach(() => {
  timingSafeEqual.mockClear()
})

describe("sameToken", () => {
  it("accepts exactly the token", () => {
    expect(sameToken(TOKEN, token)).toBe(true)
    for (const given of WRONG) expect([given, sameToken(given, token)]).toEqual([given, false])
  })

  it("compares every candidate through timingSafeEqual on equal-length digests, whatever its length", () => {
    for (const given of [TOKEN, ...WRONG, ""]) {
      timingSafeEqual.mockClear()
      sameToken(given, token)
      expect([given.slice(0, 20), timingSafeEqual.mock.calls.length]).toEqual([given.slice(0, 20), 1])
      const [a, b] = timingSafeEqual.mock.calls[0] as [NodeJS.ArrayBufferView, NodeJS.ArrayBufferView]
      // SHA-256 digests: the same length for every candidate, so not even the token's length leaks.
      expect([a.byteLength, b.byteLength]).toEqual([32, 32])
    }
  })
})

/** What the bearer middleware answers for this credential, and what a handler that passed would have seen. */
const bearer = (configured: Option.Option<Redacted.Redacted<string>>, credential: string, maxBody?: ByteSize.ByteSize) =>
  Effect.runPromise(Effect.gen(function*() {
    const auth = yield* Authorization
    // The handler answers 200 with the body limit it runs under: proof the request passed, and under which limit.
    const handler = Effect.map(HttpIncomingMessage.MaxBodySize, (limit) => HttpServerResponse.text(String(limit === undefined ? "none" : Number(limit))))
    // The check reads nothing of what the router provides (request, scope, route): called here without a server.
    const checked = auth.bearer(handler, { credential: Redacted.make(credential), endpoint: undefined as never, group: undefined as never }) as
      Effect.Effect<HttpServerResponse.HttpServerResponse, unknown>
    return yield* checked.pipe(
      Effect.map((response) => ({ status: response.status, text: bodyText(response), response })),
      Effect.catch((error) => Effect.succeed({ status: 0, text: JSON.stringify(error), response: undefined }))
    )
  }).pipe(Effect.provide(authorizationLayer(configured, maxBody))))

const bodyText = (response: HttpServerResponse.HttpServerResponse): string =>
  response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""

describe("authorizationLayer", () => {
  it("lets the token through, under the body limit", async () => {
    const passed = await bearer(Option.some(token), TOKEN, ByteSize.kibibytes(4))
    expect([passed.status, passed.text]).toEqual([200, "4096"])
    expect(timingSafeEqual).toHaveBeenCalledTimes(1)
  })

  it("answers every wrong token with the same 401, which names neither token nor how they differ", async () => {
    const replies = await Promise.all(WRONG.map((given) => bearer(Option.some(token), given)))
    for (const [i, reply] of replies.entries()) {
      expect([WRONG[i], reply.status]).toEqual([WRONG[i], 401])
      expect(reply.response?.headers["www-authenticate"]).toBe("Bearer realm=\"megaphone\"")
      expect(reply.text).not.toContain(TOKEN.slice(0, 5))
      expect(reply.text.toLowerCase()).not.toContain(WRONG[i]?.trim().slice(0, 5).toLowerCase())
    }
    // One answer for all: nothing in it depends on the candidate (its length, a shared prefix, its case).
    expect(new Set(replies.map((r) => r.text)).size).toBe(1)
    expect(JSON.parse(replies[0]?.text ?? "")).toMatchObject({ _tag: "Unauthorized", message: expect.stringContaining("MEGAPHONE_ADMIN_TOKEN") })
    expect(timingSafeEqual).toHaveBeenCalledTimes(WRONG.length)
  })

  it("answers a missing or empty credential 401 without comparing, and without reading a body", async () => {
    const reply = await bearer(Option.some(token), "")
    expect(reply.status).toBe(401)
    expect(reply.text).not.toContain(TOKEN)
    expect(JSON.parse(reply.text)).toMatchObject({ _tag: "Unauthorized", message: expect.stringContaining("Authorization: Bearer <token>") })
  })

  it("without a configured token (or a blank one) refuses everything, the token itself included, with 503", async () => {
    for (const configured of [Option.none(), Option.some(Redacted.make("")), Option.some(Redacted.make("  \t"))]) {
      for (const given of ["", "anything", "  \t"]) {
        const reply = await bearer(configured, given)
        expect(reply.status).toBe(0)
        expect(JSON.parse(reply.text)).toMatchObject({ _tag: "Unavailable", message: expect.stringContaining("Set MEGAPHONE_ADMIN_TOKEN") })
      }
    }
  })
})
