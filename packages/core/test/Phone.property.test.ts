import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { normalize } from "../src/Phone.ts"

// Czech mobile numbers (whatsapp-cloud-api.md §7): 601–608, 702–705, 72x, 73x, 77x, 790–799 + six digits.
const czMobile = fc.tuple(
  fc.constantFrom("601", "602", "603", "604", "605", "606", "607", "608", "702", "703", "704", "705", "720", "731", "777", "799"),
  fc.integer({ min: 0, max: 999_999 }).map((n) => String(n).padStart(6, "0"))
).map(([prefix, rest]) => `${prefix}${rest}`)

// The ways people write the same number.
const written = (national: string) => [
  `+420${national}`,
  `+420 ${national.slice(0, 3)} ${national.slice(3, 6)} ${national.slice(6)}`,
  `00420${national}`,
  `420${national}`,
  national,
  `(+420) ${national.slice(0, 3)}-${national.slice(3, 6)}-${national.slice(6)}`
]

describe("Phone properties", () => {
  it("every way of writing a Czech mobile number normalises to the same E.164 and wa_id", () => {
    fc.assert(fc.property(czMobile, (national) => {
      for (const input of written(national)) {
        const result = normalize(input, { requireMobile: true })
        expect(Result.isSuccess(result) && result.success).toEqual({ e164: `+420${national}`, waId: `420${national}`, country: "CZ", type: "mobile" })
      }
    }))
  })

  it("whatever the input, an accepted number is E.164 and its wa_id is its digits", () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom("0", "1", "4", "6", "9", "+", " ", "-", "(", ")", "a"), maxLength: 20 }), (input) => {
      const result = normalize(input)
      if (Result.isSuccess(result)) {
        expect(result.success.e164).toMatch(/^\+[1-9]\d{3,14}$/)
        expect(result.success.waId).toBe(result.success.e164.slice(1))
      } else {
        expect(result.failure.explanation.length).toBeGreaterThan(10)
      }
    }), { numRuns: 500 })
  })
})
