/**
 * E.164 normalisation of the phone numbers contacts arrive with (whatsapp-cloud-api.md §7).
 *
 * The `max` metadata of libphonenumber is used on purpose: it knows the real number ranges, so
 * `+420 123 456 789` is refused here instead of failing later at Meta as 131026.
 */
import { Result, Schema } from "effect"
import {
  type CountryCode,
  getCountryCallingCode,
  isSupportedCountry,
  type NumberType,
  parsePhoneNumberFromString,
  type PhoneNumber as ParsedNumber,
  validatePhoneNumberLength
} from "libphonenumber-js/max"

/** What kind of line a number is, as far as the numbering plan tells. */
export type PhoneNumberType =
  | "mobile"
  | "fixed_line"
  | "fixed_line_or_mobile"
  | "toll_free"
  | "premium_rate"
  | "shared_cost"
  | "voip"
  | "personal_number"
  | "pager"
  | "uan"
  | "voicemail"
  | "unknown"

/** A normalised phone number, in the forms Megaphone stores and sends. */
export interface PhoneNumber {
  /** `+420601123456` — the canonical form stored with the contact. */
  readonly e164: string
  /** `420601123456` — digits only, what the Cloud API takes as `to` and reports as `wa_id`. */
  readonly waId: string
  /** ISO 3166-1 alpha-2 country of the number (`CZ`), or `001` for non-geographic numbers. */
  readonly country: string
  /** The line type; `unknown` when the plan does not say. */
  readonly type: PhoneNumberType
}

/** Why a phone number was refused; the message says how to fix it. */
export type InvalidPhoneNumberReason =
  | "empty"
  | "letters"
  | "too_short"
  | "too_long"
  | "invalid_country_code"
  | "invalid_number"
  | "not_mobile"

/** A phone number that cannot be sent to, with a human explanation (contact state `invalid_record`). */
export class InvalidPhoneNumber extends Schema.TaggedError<InvalidPhoneNumber>()("InvalidPhoneNumber", {
  input: Schema.String,
  reason: Schema.Literals(["empty", "letters", "too_short", "too_long", "invalid_country_code", "invalid_number", "not_mobile"]),
  explanation: Schema.String
}) {
  override get message(): string {
    return this.explanation
  }
}

/** Options of {@link normalize}. */
export interface NormalizeOptions {
  /** Country assumed for numbers written without a country code; default `CZ`. */
  readonly defaultCountry?: string
  /** Refuse numbers that are known not to be mobile (landlines cannot normally have WhatsApp). */
  readonly requireMobile?: boolean
}

/** The country assumed when none is given: Megaphone's first users are Czech. */
export const DEFAULT_COUNTRY = "CZ"

/** A default country that libphonenumber does not know (checked where configuration is read). */
export class UnsupportedCountry extends Schema.TaggedError<UnsupportedCountry>()("UnsupportedCountry", {
  country: Schema.String
}) {
  override get message(): string {
    return `"${this.country}" is not a country code libphonenumber knows. Use a two-letter ISO 3166 code such as CZ, SK or DE.`
  }
}

/** Checks a configured default country (`cz` → `CZ`); `normalize` itself falls back to CZ for an unknown one. */
export const parseCountry = (code: string): Result.Result<string, UnsupportedCountry> => {
  const upper = code.trim().toUpperCase()
  return isSupportedCountry(upper) ? Result.succeed(upper) : Result.fail(new UnsupportedCountry({ country: code }))
}

// E.164 allows at most 15 digits; anything shorter than 4 cannot be a subscriber number anywhere.
const MAX_DIGITS = 15
const MIN_DIGITS = 4

// libphonenumber's type names, in Megaphone's lower-case spelling.
const TYPES: Readonly<Record<NonNullable<NumberType>, PhoneNumberType>> = {
  MOBILE: "mobile",
  FIXED_LINE: "fixed_line",
  FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
  TOLL_FREE: "toll_free",
  PREMIUM_RATE: "premium_rate",
  SHARED_COST: "shared_cost",
  VOIP: "voip",
  PERSONAL_NUMBER: "personal_number",
  PAGER: "pager",
  UAN: "uan",
  VOICEMAIL: "voicemail"
}

// Some plans do not classify every range: such a valid number is "unknown", not refused.
const typeOf = (type: NumberType): PhoneNumberType => (type === undefined ? "unknown" : TYPES[type])

const regionNames = new Intl.DisplayNames(["en"], { type: "region" })

const countryNames = new Map<string, string>()

/** `Czechia (CZ)` — a country a person recognises (looked up once per country: it is slow). */
const countryName = (country: string): string => {
  const known = countryNames.get(country)
  if (known !== undefined) return known
  const name = country === "001" ? undefined : regionNames.of(country)
  const shown = name === undefined || name === country ? country : `${name} (${country})`
  countryNames.set(country, shown)
  return shown
}

// A neighbour's code as the example, so the hint never suggests the code that just failed.
const exampleCode = (country: CountryCode): string => (getCountryCallingCode(country) === "421" ? "+420" : "+421")

const fail = (input: string, reason: InvalidPhoneNumber["reason"], explanation: string) =>
  Result.fail(new InvalidPhoneNumber({ input, reason, explanation }))

// The line type costs as much as the validation itself and few callers ask: it is worked out when first read.
const accept = (parsed: ParsedNumber): PhoneNumber => {
  let type: PhoneNumberType | undefined
  return {
    e164: parsed.number,
    waId: parsed.number.slice(1),
    country: parsed.country ?? "001",
    get type() {
      return (type ??= typeOf(parsed.getType()))
    }
  }
}

/**
 * Normalises a phone number as people write it (`+420 601 123 456`, `00420601123456`, `420601123456`,
 * `601 123 456`, `(+420) 601-123-456`) to E.164, or says why it cannot be sent to and how to fix it.
 */
export const normalize = (input: string, options: NormalizeOptions = {}): Result.Result<PhoneNumber, InvalidPhoneNumber> => {
  const requested = (options.defaultCountry ?? DEFAULT_COUNTRY).toUpperCase()
  const defaultCountry: CountryCode = isSupportedCountry(requested) ? requested : DEFAULT_COUNTRY
  const homeCode = `+${getCountryCallingCode(defaultCountry)}`
  const trimmed = input.trim()
  if (trimmed === "") {
    return fail(input, "empty", `The phone number is empty. Fill in the number with its country code, e.g. ${homeCode} 601 123 456.`)
  }
  if (/\p{L}/u.test(trimmed)) {
    return fail(input, "letters",
      `"${trimmed}" contains letters. Keep only digits, spaces and an optional leading +, e.g. ${homeCode} 601 123 456.`)
  }
  // Separators people type: spaces, dashes, dots, slashes, brackets.
  const compact = trimmed.replace(/[\s\-./()\u00a0]/g, "")
  if (!/^(\+|00)?\d+$/.test(compact)) {
    return fail(input, "invalid_number",
      `"${trimmed}" is not a phone number: only digits, spaces, dashes, brackets and a leading + (or 00) may appear.`)
  }
  const international = compact.startsWith("+") ? compact : compact.startsWith("00") ? `+${compact.slice(2)}` : undefined
  const digits = (international ?? compact).replace(/\D/g, "")
  if (digits.length > MAX_DIGITS) {
    return fail(input, "too_long",
      `"${trimmed}" has ${digits.length} digits; an international number has at most ${MAX_DIGITS}. Remove the extra digits.`)
  }
  if (digits.length < MIN_DIGITS) {
    return fail(input, "too_short",
      `"${trimmed}" is too short to be a phone number. Write the whole number with its country code, e.g. ${homeCode} 601 123 456.`)
  }

  // The readings tried, in order; the first valid one is the number (each validation is costly: done once).
  const candidates: Array<ParsedNumber> = []
  let valid: ParsedNumber | undefined
  const tryReading = (parsed: ParsedNumber | undefined): void => {
    if (parsed === undefined || valid !== undefined) return
    candidates.push(parsed)
    if (parsed.isValid()) valid = parsed
  }
  if (international !== undefined) {
    const parsed = parsePhoneNumberFromString(international)
    tryReading(parsed)
    // A valid number has a known country code: the length check (another parse) is for the others only.
    if (parsed === undefined || (valid === undefined && validatePhoneNumberLength(international) === "INVALID_COUNTRY")) {
      return fail(input, "invalid_country_code",
        `"${trimmed}" does not start with a known country code. Check the digits after + (e.g. ${homeCode} for ${countryName(defaultCountry)}).`)
    }
  } else {
    // Read as a national number of the default country first, then as country code + number written without "+".
    tryReading(parsePhoneNumberFromString(compact, defaultCountry))
    if (valid === undefined) tryReading(parsePhoneNumberFromString(`+${compact}`))
  }

  if (valid === undefined) {
    const home = countryName(defaultCountry)
    const best = candidates[0]
    const country = best?.country ?? (international === undefined ? defaultCountry : undefined)
    const where = country === undefined ? `a +${best?.countryCallingCode ?? ""} number` : `a number of ${countryName(country)}`
    const length = international === undefined ? validatePhoneNumberLength(compact, defaultCountry) : validatePhoneNumberLength(international)
    const otherCountry = international === undefined
      ? ` If it is not a ${home} number, add its country code, e.g. ${exampleCode(defaultCountry)}…`
      : ""
    if (length === "TOO_SHORT") {
      return fail(input, "too_short", `"${trimmed}" is too short for ${where}. Check for missing digits.${otherCountry}`)
    }
    if (length === "TOO_LONG") {
      return fail(input, "too_long", `"${trimmed}" is too long for ${where}. Check for extra digits.${otherCountry}`)
    }
    return fail(input, "invalid_number", `"${trimmed}" is not valid for ${where}. Check the digits.${otherCountry}`)
  }

  const phone = accept(valid)
  if (options.requireMobile === true && phone.type !== "mobile" && phone.type !== "fixed_line_or_mobile" && phone.type !== "unknown") {
    return fail(input, "not_mobile",
      `"${trimmed}" is a ${phone.type.replace(/_/g, " ")} number of ${countryName(phone.country)}; WhatsApp needs a mobile number. Use the contact's mobile number.`)
  }
  return Result.succeed(phone)
}
