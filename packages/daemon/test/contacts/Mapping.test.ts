// The mapping of CSV columns onto directory columns: the proposal, `--map`, and the refusals before any write.
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { type MapRule, parseRule, propose, type ProposeInput } from "../../src/contacts/Mapping.ts"

const input = (header: ReadonlyArray<string>, more: Partial<ProposeInput> = {}): ProposeInput => ({
  file: "kontakty.csv", headerLine: 1, header, sample: [], existing: [], rules: [], country: "CZ", ...more
})

const rules = (...texts: ReadonlyArray<string>): ReadonlyArray<MapRule> => texts.map((t) => Result.getOrThrow(parseRule(t)))

const targets = (result: ReturnType<typeof propose>) =>
  Result.getOrThrow(result).columns.map((c) => [c.header, c.target._tag === "Column" ? c.target.name : c.target._tag, c.how])

const failure = (result: ReturnType<typeof propose>) => {
  if (Result.isSuccess(result)) throw new Error("expected a failure")
  return result.failure
}

describe("mapping proposal", () => {
  it.each(["Telefon", "telefon ", "TEL.", "Mobil", "Číslo telefonu", "Telefonní číslo", "Phone number", "WhatsApp", "mobile"])(
    "finds the phone column by its name: %s",
    (name) => {
      const mapping = Result.getOrThrow(propose(input(["Jméno", name, "Poznámka"])))
      expect(mapping.phone).toBe(1)
    }
  )

  it("finds the phone column by its values when no header names it", () => {
    const sample = [["Jan", "1001", "+420 777 123 456"], ["Eva", "1002", "777123457"], ["Petr", "1003", ""], ["Ola", "1004", "00420777123458"]]
    const mapping = Result.getOrThrow(propose(input(["Jméno", "Objednávka", "Kontakt"], { sample })))
    expect(mapping.columns[2]).toMatchObject({ target: { _tag: "Phone" }, how: "by values" })
  })

  it("of two phone-named columns takes the one whose values are phone numbers", () => {
    const sample = [["Jan", "", "+420 777 123 456"], ["Eva", "-", "777123457"]]
    expect(Result.getOrThrow(propose(input(["Jméno", "Telefon", "Mobil"], { sample }))).phone).toBe(2)
  })

  it("maps onto existing directory columns ignoring case and accents, else a new column named by the trimmed header", () => {
    const result = propose(input(["jmeno", "PŘÍJMENÍ", "Telefon", "  Číslo   objednávky "], { existing: ["Jméno", "Příjmení"] }))
    expect(targets(result)).toEqual([
      ["jmeno", "Jméno", "existing column"],
      ["PŘÍJMENÍ", "Příjmení", "existing column"],
      ["Telefon", "Phone", "by name"],
      ["Číslo   objednávky", "Číslo objednávky", "new column"]
    ])
  })

  it("fails without a phone column, telling to use --map COLUMN=phone", () => {
    const error = failure(propose(input(["Jméno", "Příjmení"], { sample: [["Jan", "Novák"]] })))
    expect(error._tag).toBe("PhoneColumnMissing")
    expect(error.message).toContain("--map COLUMN=phone")
    expect(error.message).toContain("#1 \"Jméno\", #2 \"Příjmení\"")
  })

  it("refuses a repeated header name and a nameless column before anything is written, naming the column numbers", () => {
    const twice = failure(propose(input(["Jméno", "Telefon", "jméno"])))
    expect(twice).toMatchObject({ _tag: "ColumnsCollide", columns: [{ number: 1 }, { number: 3 }] })
    expect(twice.message).toContain("--map '#3=")
    const nameless = failure(propose(input(["Jméno", "", "Telefon"])))
    expect(nameless).toMatchObject({ _tag: "HeaderNameMissing", column: 2 })
    expect(nameless.message).toContain("--map '#2='")
  })

  it("--map resolves what the header cannot: a repeated or nameless column by number", () => {
    const result = propose(input(["Jméno", "", "Telefon", "Jméno"], { rules: rules("#2=poznámka", "#4=Jméno 2") }))
    expect(targets(result)).toEqual([["Jméno", "Jméno", "new column"], ["", "poznámka", "--map"], ["Telefon", "Phone", "by name"], ["Jméno", "Jméno 2", "--map"]])
  })

  it("--map picks the phone column, skips a column, and finds headers ignoring case", () => {
    const result = propose(input(["Jméno", "Telefon", "Kontakt", "Interní"], { rules: rules("kontakt=phone", "INTERNÍ=", "telefon=pevná linka") }))
    expect(targets(result)).toEqual([["Jméno", "Jméno", "new column"], ["Telefon", "pevná linka", "--map"], ["Kontakt", "Phone", "--map"], ["Interní", "Skip", "--map"]])
  })

  it("--map with an unknown column lists the headers and suggests the closest", () => {
    const error = failure(propose(input(["Jméno", "Příjmení", "Telefon"], { rules: rules("Prijmeni2=surname") })))
    expect(error._tag).toBe("MapColumnUnknown")
    expect(error.message).toContain("Did you mean \"Příjmení\"?")
    expect(error.message).toContain("#1 \"Jméno\", #2 \"Příjmení\", #3 \"Telefon\"")
    expect(failure(propose(input(["a", "Telefon"], { rules: rules("#3=x") }))).message).toContain("no column #3 (it has 2)")
  })

  it("--map refuses a header several columns share, two rules for one column, and two phone columns", () => {
    expect(failure(propose(input(["Jméno", "Telefon", "Jméno"], { rules: rules("jméno=x") })))._tag).toBe("MapColumnAmbiguous")
    expect(failure(propose(input(["Jméno", "Telefon"], { rules: rules("#1=x", "jméno=y") })))._tag).toBe("MapRulesConflict")
    expect(failure(propose(input(["Tel", "Mobil"], { rules: rules("tel=phone", "mobil=PHONE") }))).message).toContain("2 phone columns")
  })

  it("--map without = is refused", () => {
    expect(Result.isFailure(parseRule("Jméno"))).toBe(true)
    expect(Result.isFailure(parseRule("=x"))).toBe(true)
    expect(Result.getOrThrow(parseRule("a=b=c"))).toEqual({ source: "a", target: "b=c" })
  })
})
