// Fuzzing the filter parser beyond Filter.property.test.ts: text made of the grammar's own pieces in any order,
// inputs of pathological size and depth, and JSON that is not a filter. Never a throw or a hang; a failure says
// where, at a token; what parses evaluates the same after a print and parse. FUZZ_SEED=<n> explores other inputs.
import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Filter from "../src/Filter.ts"
import { filterOf } from "./arbitraries.ts"

const seed = Number(process.env["FUZZ_SEED"] ?? 20_260_512)

// The pieces a person types, right and wrong: keywords in any case, operators, parentheses, literals, columns.
const piece = fc.oneof(
  fc.constantFrom("and", "OR", "Not", "in", "is", "empty", "contains", "starts", "with", "city", "orders", "město", "_x"),
  fc.constantFrom("=", "==", "!=", "<>", "<", "<=", ">", ">=", "!", "=>", "(", ")", ",", "((", "))", "'"),
  fc.constantFrom("\"Praha\"", "\"\"", "\"a\\\"b\"", "\"\\q\"", "\"open", "`Číslo objednávky`", "``", "`open", "`a\\`b`"),
  fc.constantFrom("3", "-2.5", "1e6", "1e999", "-", "3x", "2025-01-31", "2025-02-30", "2025-01-31T09:30:00Z", "2025-01-31T25:00", "0.", ".5"),
  fc.string({ unit: "binary", maxLength: 3 })
)
const space = fc.constantFrom("", " ", "  ", "\n", "\r\n", "\t", "\u00a0")
const soup = fc.array(fc.tuple(piece, space), { maxLength: 14 }).map((parts) => parts.map(([p, s]) => p + s).join(""))

/** Contacts with the columns the soup and the generated filters use, holding anything a cell can. */
const cell = fc.oneof(
  fc.constantFrom(null, undefined, "", " ", "Praha", "3", "3,5", "-2", "2025-01-31", "1e999", "NaN", "Infinity"),
  fc.string({ maxLength: 5 }),
  fc.double(),
  fc.integer()
)
const contact: fc.Arbitrary<Filter.Contact> = fc.dictionary(
  fc.constantFrom("city", "orders", "město", "_x", "Číslo objednávky", "a`b"),
  cell
)

describe("Filter.parse (fuzz)", () => {
  it("text of the grammar's pieces in any order: never throws; a failure points inside the text at a token, with a hint", () => {
    fc.assert(fc.property(soup, (text) => {
      const result = Filter.parse(text)
      if (Result.isSuccess(result)) return
      const error = result.failure
      expect(error.offset).toBeGreaterThanOrEqual(0)
      expect(error.offset).toBeLessThanOrEqual(text.length)
      // It points at what it found — the end of the input, or the start of a token — or at the quote or escape that
      // the end of the input left unfinished; never at whitespace.
      const rest = text.slice(error.offset)
      if (error.found === "end of input") expect(rest.trim() === "" || /^["`\\]/.test(rest), rest).toBe(true)
      else expect(rest.slice(0, 1)).toMatch(/\S/u)
      expect(error.message).toContain(`at line ${error.line}, column ${error.column}`)
      expect(error.hint.length).toBeGreaterThan(10)
      expect(error.message).not.toContain("undefined")
    }), { seed, numRuns: 3000 })
  })

  it("whatever parses — from the soup or generated — prints to text that parses to it, and evaluates the same on any contact", () => {
    const column = fc.constantFrom("city", "orders", "město", "_x", "Číslo objednávky", "a`b", "and")
    const value: fc.Arbitrary<Filter.Value> = fc.oneof(fc.constantFrom("Praha", "", "3", "2025-01-31", 3, -2.5, 0), fc.string({ maxLength: 3 }), fc.double({ noNaN: true, noDefaultInfinity: true }))
    // Most soup does not parse; what does joins the generated filters (a `.filter` would spend its time retrying).
    const candidate = fc.oneof(filterOf(column, value), soup.map((text) => Result.getOrUndefined(Filter.parse(text))))
    fc.assert(fc.property(candidate, fc.array(contact, { maxLength: 4 }), (filter, contacts) => {
      if (filter === undefined) return
      const again = Filter.parse(Filter.print(filter))
      if (Result.isFailure(again)) throw new Error(`${Filter.print(filter)}: ${again.failure.message}`)
      expect(again.success).toEqual(Filter.decodeJson(JSON.parse(JSON.stringify(filter))).pipe(Result.getOrThrow))
      for (const c of contacts) expect(Filter.evaluate(again.success, c)).toBe(Filter.evaluate(filter, c))
    }), { seed, numRuns: 1000 })
  })

  it("pathological sizes take time in proportion to the text, and end in a result or a clear error", () => {
    const n = 400_000
    const cases: Record<string, string> = {
      "deep parentheses": "(".repeat(n),
      "deep not": "not ".repeat(n / 4) + "a = 1",
      "long and chain": "a = 1 and ".repeat(n / 10) + "a = 1",
      "long in list": `a in (${"1, ".repeat(n / 3)}1)`,
      "long text": `a = "${"x\\n".repeat(n / 3)}"`,
      "unterminated quotes": "\"".repeat(n + 1),
      "many lines": `${"\n".repeat(n)}!`,
      "closing parentheses": `a = 1${")".repeat(n)}`,
      "long number": `a = ${"9".repeat(n)}`,
      "dangling or": `${"a = 1 or ".repeat(n / 9)}(`
    }
    for (const [name, text] of Object.entries(cases)) {
      const started = performance.now()
      const result = Filter.parse(text)
      // Linear work measures ~0.1 s here; a quadratic step would take minutes.
      expect(performance.now() - started, name).toBeLessThan(5_000)
      if (Result.isFailure(result)) expect(result.failure.message, name).toMatch(/at line \d+, column \d+ — /)
    }
    expect(Result.isFailure(Filter.parse("(".repeat(300) + "a = 1" + ")".repeat(300)))).toBe(true)
    expect(Result.isSuccess(Filter.parse("(".repeat(200) + "a = 1" + ")".repeat(200)))).toBe(true)
  })
})

describe("Filter.decodeJson (fuzz)", () => {
  // Found by this fuzzing: 3,000 nested "not"s overflowed the schema decoder's stack, and decodeJson threw.
  it("a filter nested thousands of levels deep is a FilterJsonError, not a stack overflow", () => {
    let deep: unknown = { _tag: "Equals", column: "a", value: 1 }
    for (let i = 0; i < 100_000; i++) deep = i % 3 === 0 ? { _tag: "And", filters: [deep, { _tag: "Empty", column: "b" }] } : { _tag: "Not", filter: deep }
    const decoded = Filter.decodeJson(deep)
    expect(Result.isFailure(decoded) && decoded.failure.message).toMatch(/more than 1,000 levels deep/)
    // Whatever the text form can write still decodes: 127 "not (" levels, each an "or" over an "and".
    let text = "a = 1"
    for (let i = 0; i < 127; i++) text = `b = 1 or c = 2 and not (${text})`
    const parsed = Result.getOrThrow(Filter.parse(text))
    expect(Filter.decodeJson(JSON.parse(JSON.stringify(parsed)))).toEqual(Result.succeed(parsed))
  })

  it("any JSON — and filter-shaped JSON with junk inside — is a filter or a FilterJsonError, never a throw", () => {
    const node = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.jsonValue({ maxDepth: 2 }),
        fc.record({ _tag: fc.constantFrom(...Filter.tags, "Nope"), column: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })), value: fc.jsonValue({ maxDepth: 1 }) }),
        fc.record({ _tag: fc.constantFrom("And", "Or"), filters: fc.array(tie("node"), { maxLength: 3 }) }),
        fc.record({ _tag: fc.constant("Not"), filter: tie("node") }),
        fc.record({ _tag: fc.constant("In"), column: fc.constant("a"), values: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }) })
      )
    })).node
    fc.assert(fc.property(node, (json) => {
      const decoded = Filter.decodeJson(json)
      if (Result.isFailure(decoded)) expect(decoded.failure.message.length).toBeGreaterThan(0)
      else expect(Filter.parse(Filter.print(decoded.success))).toEqual(Result.succeed(decoded.success))
    }), { seed, numRuns: 1000 })
  })
})
