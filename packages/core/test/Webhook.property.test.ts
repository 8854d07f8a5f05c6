// Properties of webhook decoding and callback data: never throw, never lose a readable status, round trips.
import { Option, Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Webhook from "../src/Webhook.ts"

const contactId = fc.bigInt({ min: 1n, max: 999_999_999_999_999_999n }).map(String)
const attempt = fc.integer({ min: 0, max: 999_999_999 })

const status = fc.record({
  id: fc.string({ minLength: 1 }),
  status: fc.constantFrom("sent", "delivered", "read", "failed"),
  timestamp: fc.integer({ min: 0, max: 4_000_000_000 }).map(String),
  recipient_id: fc.string()
})

describe("Webhook properties", () => {
  it("decoding never throws on arbitrary JSON, nor on arbitrary values inside a notification", () => {
    fc.assert(fc.property(fc.jsonValue(), (json) => {
      Webhook.decode(json)
    }), { numRuns: 500 })
    fc.assert(fc.property(fc.string(), fc.jsonValue(), (field, value) => {
      const decoded = Webhook.decode({ entry: [{ id: "w", changes: [{ field, value }] }] })
      expect(Result.isSuccess(decoded)).toBe(true)
    }), { numRuns: 500 })
    const knownField = fc.constantFrom("messages", "message_template_status_update", "message_template_quality_update",
      "phone_number_quality_update", "business_capability_update", "account_update")
    fc.assert(fc.property(knownField, fc.dictionary(fc.string(), fc.jsonValue()), (field, value) => {
      expect(Result.isSuccess(Webhook.decode({ entry: [{ id: "w", changes: [{ field, value }] }] }))).toBe(true)
    }), { numRuns: 500 })
  })

  it("every readable status comes out once, in order, whatever junk sits between them", () => {
    const item = fc.oneof(status.map((s) => ({ ok: true as const, s })), fc.jsonValue().map((j) => ({ ok: false as const, s: j })))
    fc.assert(fc.property(fc.array(item, { maxLength: 12 }), (list) => {
      const value = { metadata: { phone_number_id: "p" }, statuses: list.map((i) => i.s) }
      const out = Result.getOrThrow(Webhook.decode({ entry: [{ id: "w", changes: [{ field: "messages", value }] }] })).items
      const wamids = out.flatMap((i) => (i._tag === "StatusUpdate" ? [i.wamid] : []))
      const expected = list.flatMap((i) => (i.ok ? [i.s.id] : []))
      // Junk can happen to be a readable status; the readable ones we generated must all be there, in order.
      expect(wamids.filter((w) => expected.includes(w))).toEqual(expected.filter((w) => wamids.includes(w)))
      expect(expected.every((w) => wamids.includes(w))).toBe(true)
      expect(out.length).toBe(list.length)
    }))
  })

  it("callback data round-trips and stays far below Meta's 512 characters", () => {
    fc.assert(fc.property(contactId, attempt, (id, n) => {
      const text = Webhook.encodeCallbackData({ contactId: id, attempt: n })
      expect(text.length).toBeLessThanOrEqual(32)
      expect(Webhook.decodeCallbackData(text)).toEqual(Option.some({ contactId: id, attempt: n }))
    }))
  })

  it("decodeCallbackData accepts only what encodeCallbackData writes", () => {
    fc.assert(fc.property(fc.string(), (text) => {
      const decoded = Webhook.decodeCallbackData(text)
      if (Option.isSome(decoded)) expect(Webhook.encodeCallbackData(decoded.value)).toBe(text)
    }), { numRuns: 1000 })
  })

  it("opt-out ignores case, diacritics and surrounding punctuation, never a longer sentence", () => {
    const word = fc.constantFrom(...Webhook.defaultOptOutWords)
    const dressing = fc.constantFrom("", " ", ".", "!", "!!", " 🙏", "…")
    fc.assert(fc.property(word, dressing, dressing, fc.boolean(), (w, before, after, upper) => {
      const reply = `${before}${upper ? w.toUpperCase() : w}${after}`
      expect(Webhook.isOptOut(reply)).toBe(true)
      expect(Webhook.isOptOut(`prosím ${reply} díky`)).toBe(false)
    }))
  })
})
