import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { normalize, parseCountry } from "../src/Phone.ts"

const ok = (input: string, options?: Parameters<typeof normalize>[1]) => {
  const result = normalize(input, options)
  if (Result.isFailure(result)) throw new Error(`expected ${input} to be accepted: ${result.failure.message}`)
  return result.success
}

const refused = (input: string, options?: Parameters<typeof normalize>[1]) => {
  const result = normalize(input, options)
  if (Result.isSuccess(result)) throw new Error(`expected ${input} to be refused, got ${result.success.e164}`)
  return result.failure
}

describe("Phone.normalize", () => {
  it.each([
    "+420 601 123 456",
    "+420601123456",
    "00420601123456",
    "00420 601 123 456",
    "420601123456",
    "601123456",
    "601 123 456",
    "(+420) 601-123-456",
    "  +420.601.123.456  ",
    "+420/601/123/456"
  ])("reads %s as +420601123456", (input) => {
    expect(ok(input)).toEqual({ e164: "+420601123456", waId: "420601123456", country: "CZ", type: "mobile" })
  })

  it("uses the default country for national numbers, with its trunk prefix", () => {
    expect(ok("07911 123456", { defaultCountry: "GB" }).e164).toBe("+447911123456")
    expect(ok("0901 234 567", { defaultCountry: "sk" }).e164).toBe("+421901234567")
  })

  it("understands a foreign number written with its country code but without +", () => {
    expect(ok("421901234567")).toMatchObject({ e164: "+421901234567", country: "SK", type: "mobile" })
  })

  it("falls back to CZ when the default country is not a country", () => {
    expect(ok("601123456", { defaultCountry: "XX" }).e164).toBe("+420601123456")
  })

  it.each([
    ["+420 900 123 456", "premium_rate"],
    ["+420 811 123 456", "shared_cost"],
    ["+420 910 123 456", "voip"],
    ["+420 972 123 456", "uan"],
    ["+44 70 1234 5678", "personal_number"],
    ["+44 76 2345 6789", "pager"],
    ["+7 800 555 3535", "toll_free"]
  ])("tells %s is %s, and refuses it when a mobile is required", (input, type) => {
    expect(ok(input).type).toBe(type)
    expect(refused(input, { requireMobile: true }).reason).toBe("not_mobile")
  })

  it("tells the line type", () => {
    expect(ok("+420 212 345 678").type).toBe("fixed_line")
    expect(ok("+1 650 253 0000").type).toBe("fixed_line_or_mobile")
    expect(ok("+420 800 123 456").type).toBe("toll_free")
  })

  it("refuses an empty number", () => {
    const error = refused("   ")
    expect(error._tag).toBe("InvalidPhoneNumber")
    expect(error.reason).toBe("empty")
    expect(error.message).toContain("+420")
  })

  it("refuses letters", () => {
    expect(refused("call me").reason).toBe("letters")
    expect(refused("+420 601 ABC 456").reason).toBe("letters")
  })

  it("refuses stray symbols", () => {
    expect(refused("+420#601123456").reason).toBe("invalid_number")
    expect(refused("420+601123456").reason).toBe("invalid_number")
  })

  it("refuses numbers that are too short or too long, saying how to fix them", () => {
    const short = refused("12")
    expect(short.reason).toBe("too_short")
    expect(short.message).toMatch(/country code/)
    expect(refused("60112345").reason).toBe("too_short")
    expect(refused("60112345").message).toContain("add its country code, e.g. +421")
    expect(refused("+42060112").reason).toBe("too_short")
    expect(refused("+420 601 123 456 789 012").reason).toBe("too_long")
    expect(refused("+44 7911 1234567890").reason).toBe("too_long")
    expect(refused("+44 7911 1234567").message).toContain("too long for a +44 number")
  })

  it("refuses an unknown country code", () => {
    const error = refused("+999 123 456 789")
    expect(error.reason).toBe("invalid_country_code")
    expect(error.message).toContain("country code")
  })

  it("refuses a number that does not exist in its country's plan, naming the country", () => {
    const error = refused("+420 123 456 789")
    expect(error.reason).toBe("invalid_number")
    expect(error.message).toContain("Czechia (CZ)")
    const national = refused("123 456 789")
    expect(national.reason).toBe("invalid_number")
    expect(national.message).toContain("e.g. +421")
    expect(refused("123 456 789", { defaultCountry: "SK" }).message).toContain("e.g. +420")
  })

  it("refuses landlines when a mobile number is required", () => {
    const error = refused("+420 212 345 678", { requireMobile: true })
    expect(error.reason).toBe("not_mobile")
    expect(error.message).toContain("fixed line")
    expect(ok("+420 601 123 456", { requireMobile: true }).type).toBe("mobile")
    expect(ok("+1 650 253 0000", { requireMobile: true }).type).toBe("fixed_line_or_mobile")
  })
})

describe("parseCountry", () => {
  it("accepts ISO codes in any case and refuses unknown ones with a fix", () => {
    expect(Result.getOrThrow(parseCountry(" sk "))).toBe("SK")
    const refused = parseCountry("XX")
    expect(Result.isFailure(refused) && refused.failure.message).toMatch(/two-letter ISO 3166 code such as CZ/)
  })
})
