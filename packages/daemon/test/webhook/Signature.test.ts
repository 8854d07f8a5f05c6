// X-Hub-Signature-256 on its own: only an HMAC-SHA256 of exactly the received bytes, keyed with the app secret,
// passes; every comparison of a well-formed signature (and of the verify token) goes through timingSafeEqual.
// Receiver.test.ts checks the same over HTTP: a refused signature is 401 and nothing is applied.
import { createHmac } from "node:crypto"
import * as crypto from "node:crypto"
import { Redacted } from "effect"
import fc from "fast-check"
import { beforeEach, describe, expect, it, vi } from "vitest"
import * as Signature from "../../src/webhook/Signature.ts"

vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>()
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) }
})
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual)

const APP_SECRET = Redacted.make("app-secret-9d41c7")
const body = new TextEncoder().encode(JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: "1", changes: [] }] }))
const hex = createHmac("sha256", "app-secret-9d41c7").update(body).digest("hex")

beforeEach(() => {
  timingSafeEqual.mockClear()
})

describe("Signature.verify", () => {
  it("accepts Meta's header for exactly these bytes (surrounding spaces and upper-case hex too)", () => {
    expect(Signature.sign(APP_SECRET, body)).toBe(`sha256=${hex}`)
    for (const header of [`sha256=${hex}`, ` sha256=${hex} `, `sha256=${hex.toUpperCase()}`]) {
      expect([header, Signature.verify(APP_SECRET, body, header)]).toEqual([header, true])
    }
    expect(timingSafeEqual).toHaveBeenCalledTimes(3)
  })

  it("refuses a missing, malformed or wrongly keyed signature, and one over other bytes", () => {
    const refused = [
      undefined,
      "",
      "sha256=",
      `sha256=${hex.slice(0, 63)}`,
      `sha256=${hex}0`,
      `sha256=${hex.slice(0, 63)}g`,
      `sha1=${hex}`,
      `SHA256=${hex}`,
      hex,
      `sha256=${hex},sha256=${hex}`,
      `sha256=${"0".repeat(64)}`,
      Signature.sign(Redacted.make("someone-else"), body),
      Signature.sign(Redacted.make("app-secret-9d41c"), body),
      // Signed over different bytes: the same JSON re-serialised, one byte more, nothing at all.
      Signature.sign(APP_SECRET, new TextEncoder().encode(JSON.stringify(JSON.parse(new TextDecoder().decode(body)), null, 1))),
      Signature.sign(APP_SECRET, Uint8Array.from([...body, 0x20])),
      Signature.sign(APP_SECRET, new Uint8Array(0))
    ]
    for (const header of refused) expect([header, Signature.verify(APP_SECRET, body, header)]).toEqual([header, false])
  })

  it("refuses any other body under a valid signature (property)", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (signed, sent) => {
      const header = Signature.sign(APP_SECRET, signed)
      expect(Signature.verify(APP_SECRET, sent, header)).toBe(Buffer.from(signed).equals(Buffer.from(sent)))
    }), { numRuns: 300 })
  })

  it("compares a well-formed signature through timingSafeEqual, never with ===", () => {
    Signature.verify(APP_SECRET, body, `sha256=${"0".repeat(64)}`)
    Signature.verify(APP_SECRET, body, `sha256=${hex}`)
    expect(timingSafeEqual).toHaveBeenCalledTimes(2)
    for (const [a, b] of timingSafeEqual.mock.calls as Array<[NodeJS.ArrayBufferView, NodeJS.ArrayBufferView]>) {
      expect([a.byteLength, b.byteLength]).toEqual([32, 32])
    }
  })
})

describe("Signature.secretEquals (the verify token)", () => {
  it("accepts exactly the secret and compares every candidate, whatever its length, through timingSafeEqual", () => {
    const token = Redacted.make("verify-token-5521")
    const candidates = ["verify-token-5521", "verify-token-552", "verify-token-55210", "", "x".repeat(17), "VERIFY-TOKEN-5521"]
    expect(candidates.map((c) => Signature.secretEquals(c, token))).toEqual([true, false, false, false, false, false])
    expect(timingSafeEqual).toHaveBeenCalledTimes(candidates.length)
  })
})
