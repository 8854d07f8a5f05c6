/**
 * `X-Hub-Signature-256` (whatsapp-cloud-api.md §3): HMAC-SHA256 of the raw body bytes, keyed with the app
 * secret. Computed over the bytes as received — Meta escapes unicode, so re-serialised JSON would not match.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import { Redacted } from "effect"

const header = /^sha256=([0-9a-fA-F]{64})$/

/** The header value Meta would send for this body: `sha256=<hex>` (for tests, benchmarks and the simulator). */
export const sign = (appSecret: Redacted.Redacted<string>, body: Uint8Array): string =>
  `sha256=${createHmac("sha256", Redacted.value(appSecret)).update(body).digest("hex")}`

/** True when the header is a well-formed `sha256=` signature of exactly these bytes; constant-time compare. */
export const verify = (appSecret: Redacted.Redacted<string>, body: Uint8Array, value: string | undefined): boolean => {
  const match = value === undefined ? null : header.exec(value.trim())
  if (match === null || match[1] === undefined) return false
  const expected = createHmac("sha256", Redacted.value(appSecret)).update(body).digest()
  return timingSafeEqual(Buffer.from(match[1], "hex"), expected)
}

/** Compares two secrets in constant time whatever their lengths (hashing first hides the length too). */
export const secretEquals = (given: string, secret: Redacted.Redacted<string>): boolean =>
  timingSafeEqual(createHash("sha256").update(given).digest(), createHash("sha256").update(Redacted.value(secret)).digest())
