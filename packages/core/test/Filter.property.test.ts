import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Filter from "../src/Filter.ts"
import { filterOf } from "./arbitraries.ts"

const isoDate = fc
  .date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2100-12-31T23:59:59Z"), noInvalidDate: true })
  .chain((date) => fc.constantFrom(date.toISOString().slice(0, 10), date.toISOString(), date.toISOString().slice(0, 16) + "+02:00"))

const number = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0))
)

const anyColumn = fc.oneof(
  fc.constantFrom("city", "orders", "město", "Číslo objednávky", "and", "NOT", "In", "2nd", "e-mail", "a`b\\c", "_x", "constructor"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 8 })
)

const anyValue: fc.Arbitrary<Filter.Value> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("Praha", "", " 3 ", "3.0", "2025-02-30", "a\"b", "\\", "\n\t\r", "or", "`"),
  number,
  isoDate
)

const anyFilter = filterOf(anyColumn, anyValue)

const parsed = (text: string): Filter.Filter => {
  const result = Filter.parse(text)
  if (Result.isFailure(result)) throw new Error(`${JSON.stringify(text)}: ${result.failure.message}`)
  return result.success
}

/** A deliberately untidy printer: random keyword case, extra whitespace and redundant parentheses. */
const untidy = (filter: Filter.Filter, seed: number): string => {
  let state = seed >>> 0
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state
  }
  const word = (keyword: string): string =>
    [...keyword].map((ch) => (next() & 1 ? ch.toUpperCase() : ch)).join("")
  const space = (): string => [" ", "  ", "\n", "\t", "\r\n "][next() % 5] as string
  const column = (c: string): string => Filter.print(Filter.empty(c)).slice(0, -" is empty".length)
  const value = (v: Filter.Value): string => Filter.print(Filter.equals("x", v)).slice("x = ".length)
  const keywords = (phrase: string): string => phrase.split(" ").map(word).join(space())
  const symbols: Record<Filter.ValueComparison["_tag"], ReadonlyArray<string>> = {
    Equals: ["=", "=="], NotEquals: ["!=", "<>"], Contains: ["contains"], StartsWith: ["starts with"],
    Lt: ["<"], Lte: ["<="], Gt: [">"], Gte: [">="]
  }
  const leaf = (f: Filter.Comparison): string => {
    switch (f._tag) {
      case "Empty": return `${column(f.column)}${space()}${keywords("is empty")}`
      case "NotEmpty": return `${column(f.column)}${space()}${keywords("is not empty")}`
      case "In": return `${column(f.column)}${space()}${word("in")}${space()}(${f.values.map((v) => `${space()}${value(v)}`).join(",")})`
      default: {
        const choices = symbols[f._tag]
        const symbol = choices[next() % choices.length] as string
        return `${column(f.column)}${space()}${keywords(symbol)}${space()}${value(f.value)}`
      }
    }
  }
  const go = (f: Filter.Filter): string => {
    switch (f._tag) {
      case "Not": {
        const inner = f.filter._tag === "And" || f.filter._tag === "Or" ? `(${space()}${go(f.filter)}${space()})` : go(f.filter)
        return `${word("not")}${space()}${inner}`
      }
      case "And":
      case "Or": {
        const nested = (child: Filter.Filter): boolean =>
          f._tag === "And" ? child._tag === "And" || child._tag === "Or" : child._tag === "Or"
        return f.filters.map((child) => nested(child) ? `(${go(child)})` : go(child))
          .join(`${space()}${word(f._tag.toLowerCase())}${space()}`)
      }
      default:
        return next() % 4 === 0 ? `(${space()}${leaf(f)}${space()})` : leaf(f)
    }
  }
  return `${space()}${go(filter)}${space()}`
}

describe("Filter text form (properties)", () => {
  it("parse(print(ast)) gives the AST back", () => {
    fc.assert(fc.property(anyFilter, (filter) => {
      expect(parsed(Filter.print(filter))).toEqual(filter)
    }), { numRuns: 2000 })
  })

  it("printing is stable: print(parse(print(x))) === print(x)", () => {
    fc.assert(fc.property(anyFilter, (filter) => {
      const text = Filter.print(filter)
      expect(Filter.print(parsed(text))).toBe(text)
    }))
  })

  it("keyword case, whitespace and redundant parentheses do not change the AST", () => {
    fc.assert(fc.property(anyFilter, fc.integer(), (filter, seed) => {
      expect(parsed(untidy(filter, seed))).toEqual(filter)
    }), { numRuns: 1000 })
  })

  it("never throws, and errors point inside the text", () => {
    const printedThenDamaged = fc.tuple(anyFilter, fc.nat(), fc.nat(), fc.string({ maxLength: 2 }))
      .map(([f, at, cut, insert]) => {
        const text = Filter.print(f)
        const i = at % (text.length + 1)
        return text.slice(0, i) + insert + text.slice(i + (cut % 3))
      })
    fc.assert(fc.property(fc.oneof(fc.string({ unit: "binary" }), printedThenDamaged), (text) => {
      const result = Filter.parse(text)
      if (Result.isFailure(result)) {
        const error = result.failure
        expect(error.offset).toBeGreaterThanOrEqual(0)
        expect(error.offset).toBeLessThanOrEqual(text.length)
        expect(error.line).toBeGreaterThanOrEqual(1)
        expect(error.column).toBeGreaterThanOrEqual(1)
        expect(error.message).toContain(`at line ${error.line}, column ${error.column}`)
      } else {
        expect(parsed(Filter.print(result.success))).toEqual(result.success)
      }
    }), { numRuns: 3000 })
  })

  it("JSON is the AST: decodeJson(JSON round trip) gives it back", () => {
    fc.assert(fc.property(anyFilter, (filter) => {
      const decoded = Filter.decodeJson(JSON.parse(JSON.stringify(filter)))
      expect(Result.isSuccess(decoded) && decoded.success).toEqual(filter)
    }))
  })
})

// Evaluation is checked on a few columns, so that leaves actually match some contacts.
const knownColumns = ["city", "orders", "created", "email"] as const
const cellValue = fc.oneof(
  fc.constantFrom(null, undefined, "", "  ", "Praha", "praha", "Brno", "3", "3.0", "-2", "many", "2025-01-31", "31. 1. 2025"),
  number,
  isoDate,
  fc.string({ maxLength: 4 })
)
const contact: fc.Arbitrary<Filter.Contact> = fc.record(
  Object.fromEntries(knownColumns.map((c) => [c, cellValue])) as Record<(typeof knownColumns)[number], typeof cellValue>,
  { requiredKeys: [] }
)
const smallValue: fc.Arbitrary<Filter.Value> = fc.oneof(
  fc.constantFrom("Praha", "Brno", "pra", "3", "", "2025-01-31", 3, 0, -2, 3.5),
  isoDate,
  fc.integer({ min: -5, max: 5 })
)
const knownFilter = filterOf(fc.constantFrom(...knownColumns, "missing"), smallValue)

/** Combinators by boolean algebra; leaves by the module itself. */
const reference = (filter: Filter.Filter, c: Filter.Contact): boolean => {
  switch (filter._tag) {
    case "And": return filter.filters.reduce<boolean>((acc, f) => acc && reference(f, c), true)
    case "Or": return filter.filters.reduce<boolean>((acc, f) => acc || reference(f, c), false)
    case "Not": return !reference(filter.filter, c)
    default: return Filter.evaluate(filter, c)
  }
}

describe("Filter evaluation (properties)", () => {
  it("and / or / not follow boolean algebra", () => {
    fc.assert(fc.property(knownFilter, contact, (filter, c) => {
      expect(Filter.evaluate(filter, c)).toBe(reference(filter, c))
    }), { numRuns: 2000 })
  })

  it("not inverts, and De Morgan holds", () => {
    fc.assert(fc.property(knownFilter, knownFilter, contact, (a, b, c) => {
      expect(Filter.evaluate(Filter.not(a), c)).toBe(!Filter.evaluate(a, c))
      expect(Filter.evaluate(Filter.not(Filter.and(a, b)), c)).toBe(Filter.evaluate(Filter.or(Filter.not(a), Filter.not(b)), c))
      expect(Filter.evaluate(Filter.not(Filter.or(a, b)), c)).toBe(Filter.evaluate(Filter.and(Filter.not(a), Filter.not(b)), c))
    }))
  })

  it("the negated comparisons are exact negations, and in is equals on any value", () => {
    fc.assert(fc.property(fc.constantFrom(...knownColumns), smallValue, fc.array(smallValue, { minLength: 1, maxLength: 3 }), contact,
      (column, value, values, c) => {
        expect(Filter.evaluate(Filter.notEquals(column, value), c)).toBe(!Filter.evaluate(Filter.equals(column, value), c))
        expect(Filter.evaluate(Filter.notEmpty(column), c)).toBe(!Filter.evaluate(Filter.empty(column), c))
        const list = values as unknown as readonly [Filter.Value, ...Array<Filter.Value>]
        expect(Filter.evaluate(Filter.isIn(column, list), c)).toBe(values.some((v) => Filter.evaluate(Filter.equals(column, v), c)))
      }))
  })

  it("orderings are consistent: < is > reversed, <= is < or equal, and numbers are trichotomous", () => {
    fc.assert(fc.property(fc.constantFrom(...knownColumns), smallValue, contact, (column, value, c) => {
      const holds = (f: Filter.Filter): boolean => Filter.evaluate(f, c)
      const comparable = holds(Filter.lt(column, value)) || holds(Filter.gte(column, value))
      if (comparable) {
        expect(holds(Filter.lte(column, value))).toBe(!holds(Filter.gt(column, value)))
        expect(holds(Filter.gte(column, value))).toBe(!holds(Filter.lt(column, value)))
      } else {
        expect([Filter.lt, Filter.lte, Filter.gt, Filter.gte].some((op) => holds(op(column, value)))).toBe(false)
      }
      if (holds(Filter.empty(column))) expect(holds(Filter.lte(column, value)) || holds(Filter.gte(column, value))).toBe(false)
    }))
    fc.assert(fc.property(number, number, (a, b) => {
      const c = { n: String(a) }
      const outcomes = [Filter.lt("n", b), Filter.equals("n", b), Filter.gt("n", b)].filter((f) => Filter.evaluate(f, c))
      expect(outcomes).toHaveLength(1)
      expect(Filter.evaluate(Filter.lt("n", b), c)).toBe(Filter.evaluate(Filter.gt("n", a), { n: b }))
    }))
  })

  it("contains and starts with ignore case", () => {
    const czech = fc.string({ unit: fc.constantFrom(..."abcčdďeěéiíňoórřsštťuůúyýzžABCČDĎEĚÉIÍŇOÓRŘSŠTŤUŮÚYÝZŽ "), maxLength: 10 })
    fc.assert(fc.property(czech, czech, czech, (before, middle, after) => {
      const c = { name: before + middle + after }
      expect(Filter.evaluate(Filter.contains("name", middle.toLocaleUpperCase("cs")), c)).toBe(true)
      expect(Filter.evaluate(Filter.startsWith("name", (before + middle).trim().toLocaleLowerCase("cs")), c)).toBe(true)
    }))
  })

  it("columns lists exactly the referenced columns, and checkColumns accepts them", () => {
    fc.assert(fc.property(anyFilter, (filter) => {
      const used = Filter.columns(filter)
      expect(new Set(used).size).toBe(used.length)
      const checked = Filter.checkColumns(filter, used)
      expect(Result.isSuccess(checked)).toBe(true)
      const [first, ...rest] = used
      const missing = Filter.checkColumns(filter, rest)
      expect(Result.isFailure(missing) && missing.failure.unknown).toEqual([first])
    }))
  })
})
