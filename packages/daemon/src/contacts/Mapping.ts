/**
 * Which CSV column fills which directory column (SPEC §1 "map its columns onto directory columns, existing or
 * new"). The proposal: the phone column by its header name (phone, telefon, mobil, číslo telefonu, WhatsApp, …)
 * or else by its values; every other column onto the existing directory column of the same name ignoring case
 * and accents, or a new one named by the trimmed header. `--map CSVCOL=column` overrides a column (`#N` or the
 * header name), `CSVCOL=phone` picks the phone column, `CSVCOL=` skips one.
 */
import { Phone } from "@megaphone/core"
import { Result } from "effect"
import {
  ColumnsCollide,
  HeaderNameMissing,
  MapColumnAmbiguous,
  MapColumnUnknown,
  type MapProblem,
  MapRuleInvalid,
  MapRulesConflict,
  PhoneColumnMissing
} from "./Errors.ts"

/** One `--map CSVCOL=column`. */
export interface MapRule {
  readonly source: string
  /** `""` skips the column; `phone` (any case) makes it the phone column. */
  readonly target: string
}

/** Where a CSV column goes. */
export type Target =
  | { readonly _tag: "Phone" }
  | { readonly _tag: "Column"; readonly name: string; readonly existing: boolean }
  | { readonly _tag: "Skip" }

/** One CSV column, where it goes and why. */
export interface ColumnMapping {
  /** 0-based position in the row. */
  readonly index: number
  readonly header: string
  readonly target: Target
  /** `--map`, `by name`, `by values`, `existing column`, `new column`. */
  readonly how: string
}

/** The mapping of a whole header. */
export interface Mapping {
  readonly columns: ReadonlyArray<ColumnMapping>
  /** The index of the phone column. */
  readonly phone: number
}

/** `--map` text as a rule; the text up to the first `=` names the CSV column. */
export const parseRule = (text: string): Result.Result<MapRule, MapRuleInvalid> => {
  const at = text.indexOf("=")
  if (at <= 0 || text.slice(0, at).trim() === "") return Result.fail(new MapRuleInvalid({ rule: text }))
  return Result.succeed({ source: text.slice(0, at).trim(), target: text.slice(at + 1) })
}

/** Lower case without accents and with single spaces: `Příjmení ` and `prijmeni` are one name. */
export const fold = (name: string): string =>
  name.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim()

/** A header as a directory column name: trimmed, inner whitespace (line breaks included) one space. */
export const cleanName = (header: string): string => header.trim().replace(/\s+/g, " ")

// Folded, punctuation as spaces: `Tel.` → `tel`, `Číslo telefonu` → `cislo telefonu`.
const phoneKey = (header: string): string => fold(header).replace(/[^a-z0-9]+/g, " ").trim()

/** Header names that mean "the phone number", folded (Czech, Slovak, English). */
export const PHONE_NAMES: ReadonlySet<string> = new Set([
  "phone", "phone number", "phone no", "phone nr", "telephone", "telephone number", "tel", "tel no", "tel c", "tel cislo",
  "telefon", "telefonni cislo", "telefonne cislo", "cislo telefonu", "cislo tel", "mobil", "mobile", "mobile phone",
  "mobile number", "mobilni telefon", "mobilni cislo", "mobilne cislo", "cislo mobilu", "mobilni tel", "gsm", "cell", "cell phone",
  "cellphone", "whatsapp", "whatsapp number", "whatsapp cislo", "msisdn", "phone e164", "e164"
])

/** Whether a header names the phone number. */
export const isPhoneHeader = (header: string): boolean => PHONE_NAMES.has(phoneKey(header))

// A column is the phone column by its values when most of its sample's non-empty cells read as phone numbers.
const PHONE_SHARE = 0.8

/** The share of a column's non-empty sample values that normalise as phone numbers (0 when all are empty). */
const phoneShare = (sample: ReadonlyArray<ReadonlyArray<string>>, index: number, country: string): number => {
  let values = 0
  let phones = 0
  for (const row of sample) {
    const value = row[index]?.trim() ?? ""
    if (value === "") continue
    values++
    if (Result.isSuccess(Phone.normalize(value, { defaultCountry: country }))) phones++
  }
  return values === 0 ? 0 : phones / values
}

/** What {@link propose} needs. */
export interface ProposeInput {
  readonly file: string
  readonly headerLine: number
  readonly header: ReadonlyArray<string>
  /** The first data rows, for finding the phone column by its values. */
  readonly sample: ReadonlyArray<ReadonlyArray<string>>
  /** The directory's columns now. */
  readonly existing: ReadonlyArray<string>
  readonly rules: ReadonlyArray<MapRule>
  readonly country: string
}

/** The `--map` rules by column index, or which rule is wrong. */
export const resolveRules = (
  header: ReadonlyArray<string>,
  rules: ReadonlyArray<MapRule>
): Result.Result<ReadonlyMap<number, MapRule>, MapProblem> => {
  const byIndex = new Map<number, MapRule>()
  const names = header.map((h) => h.trim())
  for (const rule of rules) {
    let index: number
    const numbered = /^#(\d+)$/.exec(rule.source)
    if (numbered !== null) {
      index = Number(numbered[1]) - 1
      if (index < 0 || index >= header.length) return Result.fail(new MapColumnUnknown({ source: rule.source, headers: names }))
    } else {
      const exact = matches(names, (h) => h.toLowerCase() === rule.source.toLowerCase())
      const found = exact.length > 0 ? exact : matches(names, (h) => fold(h) === fold(rule.source))
      if (found.length === 0) return Result.fail(new MapColumnUnknown({ source: rule.source, headers: names }))
      if (found.length > 1) return Result.fail(new MapColumnAmbiguous({ source: rule.source, columns: found.map((i) => i + 1) }))
      index = found[0]!
    }
    const before = byIndex.get(index)
    if (before !== undefined) {
      return Result.fail(new MapRulesConflict({
        message: `--map ${before.source}=${before.target} and --map ${rule.source}=${rule.target} both say where column #${index + 1} ` +
          `(${JSON.stringify(names[index])}) goes; keep one.`
      }))
    }
    byIndex.set(index, rule)
  }
  const phones = [...byIndex.entries()].filter(([, r]) => fold(r.target) === "phone")
  if (phones.length > 1) {
    return Result.fail(new MapRulesConflict({
      message: `--map names ${phones.length} phone columns (${phones.map(([i]) => `#${i + 1}`).join(", ")}); the directory keys ` +
        `each contact by one phone number. Map the others to columns of their own, e.g. --map '#${phones[1]![0] + 1}=mobil 2'.`
    }))
  }
  return Result.succeed(byIndex)
}

const matches = (names: ReadonlyArray<string>, test: (name: string) => boolean): Array<number> =>
  names.flatMap((h, i) => (test(h) ? [i] : []))

/**
 * The mapping of a header: the `--map` rules where given, the proposal elsewhere. Fails — before anything is
 * written — on a `--map` mistake, a nameless or colliding column, or no phone column.
 */
export const propose = (
  input: ProposeInput
): Result.Result<Mapping, MapProblem | HeaderNameMissing | ColumnsCollide | PhoneColumnMissing> => {
  const { header, rules, existing, sample, country, file, headerLine } = input
  const resolved = resolveRules(header, rules)
  if (Result.isFailure(resolved)) return Result.fail(resolved.failure)
  const byIndex = resolved.success
  const existingByKey = new Map<string, string>()
  // An exact spelling wins over another that folds the same.
  for (const name of existing) if (!existingByKey.has(fold(name))) existingByKey.set(fold(name), name)
  for (const name of existing) if (fold(name) === name) existingByKey.set(fold(name), name)

  const toColumn = (name: string): Target => {
    const known = existingByKey.get(fold(name))
    return known !== undefined ? { _tag: "Column", name: known, existing: true } : { _tag: "Column", name: cleanName(name), existing: false }
  }

  // The phone column: a rule's, else by name (the best by values among several), else by values.
  const ruled = [...byIndex.entries()].find(([, r]) => fold(r.target) === "phone")
  let phone: { readonly index: number; readonly how: string } | undefined = ruled === undefined ? undefined : { index: ruled[0], how: "--map" }
  if (phone === undefined) {
    const free = header.map((_, i) => i).filter((i) => !byIndex.has(i))
    const named = free.filter((i) => isPhoneHeader(header[i]!))
    const best = (candidates: ReadonlyArray<number>, threshold: number) => {
      let chosen: number | undefined
      let share = threshold
      for (const i of candidates) {
        const s = phoneShare(sample, i, country)
        if (s > share || (chosen === undefined && s >= share)) {
          chosen = i
          share = s
        }
      }
      return chosen
    }
    if (named.length === 1) phone = { index: named[0]!, how: "by name" }
    else if (named.length > 1) phone = { index: best(named, 0) ?? named[0]!, how: "by name" }
    else {
      const byValues = best(free, PHONE_SHARE)
      if (byValues !== undefined) phone = { index: byValues, how: "by values" }
    }
  }
  if (phone === undefined) return Result.fail(new PhoneColumnMissing({ file, headers: header.map((h) => h.trim()) }))

  const columns: Array<ColumnMapping> = []
  for (let index = 0; index < header.length; index++) {
    const name = header[index]!.trim()
    const rule = byIndex.get(index)
    if (index === phone.index) {
      columns.push({ index, header: name, target: { _tag: "Phone" }, how: phone.how })
    } else if (rule !== undefined) {
      const target: Target = cleanName(rule.target) === "" ? { _tag: "Skip" } : toColumn(rule.target)
      columns.push({ index, header: name, target, how: "--map" })
    } else if (name === "") {
      return Result.fail(new HeaderNameMissing({ file, line: headerLine, column: index + 1 }))
    } else {
      const target = toColumn(name)
      columns.push({ index, header: name, target, how: target._tag === "Column" && target.existing ? "existing column" : "new column" })
    }
  }

  const seen = new Map<string, ColumnMapping>()
  for (const c of columns) {
    if (c.target._tag !== "Column") continue
    const key = fold(c.target.name)
    const other = seen.get(key)
    if (other !== undefined) {
      return Result.fail(new ColumnsCollide({
        file,
        line: headerLine,
        target: c.target.name,
        columns: [{ number: other.index + 1, header: other.header }, { number: c.index + 1, header: c.header }]
      }))
    }
    seen.set(key, c)
  }
  return Result.succeed({ columns, phone: phone.index })
}

/** How a person reads a column's destination: `phone`, `Jméno (new)`, `(skipped)`. */
export const describeTarget = (target: Target): string =>
  target._tag === "Phone" ? "phone" : target._tag === "Skip" ? "(skipped)" : `${target.name} (${target.existing ? "existing" : "new"})`
