import { Result } from "effect"
import { describe, expect, it } from "vitest"
import * as Filter from "../src/Filter.ts"

const ok = (text: string): Filter.Filter => {
  const result = Filter.parse(text)
  if (Result.isFailure(result)) throw new Error(`expected ${JSON.stringify(text)} to parse: ${result.failure.message}`)
  return result.success
}

const fail = (text: string): Filter.FilterParseError => {
  const result = Filter.parse(text)
  if (Result.isSuccess(result)) throw new Error(`expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(result.success)}`)
  return result.failure
}

const { equals, notEquals, contains, startsWith, lt, lte, gt, gte, empty, notEmpty, isIn, and, or, not } = Filter

describe("parse", () => {
  it("reads every comparison", () => {
    expect(ok(`city = "Praha"`)).toEqual(equals("city", "Praha"))
    expect(ok(`city != "Praha"`)).toEqual(notEquals("city", "Praha"))
    expect(ok(`city <> "Praha"`)).toEqual(notEquals("city", "Praha"))
    expect(ok(`orders == 3`)).toEqual(equals("orders", 3))
    expect(ok(`name contains "Nov"`)).toEqual(contains("name", "Nov"))
    expect(ok(`name starts with "Ja"`)).toEqual(startsWith("name", "Ja"))
    expect(ok(`orders < 3`)).toEqual(lt("orders", 3))
    expect(ok(`orders <= -2.5`)).toEqual(lte("orders", -2.5))
    expect(ok(`orders > 1e3`)).toEqual(gt("orders", 1000))
    expect(ok(`created >= 2025-01-31`)).toEqual(gte("created", "2025-01-31"))
    expect(ok(`created < 2025-01-31T10:00:00.5+01:00`)).toEqual(lt("created", "2025-01-31T10:00:00.5+01:00"))
    expect(ok(`email is empty`)).toEqual(empty("email"))
    expect(ok(`email is not empty`)).toEqual(notEmpty("email"))
    expect(ok(`city in ("Praha", "Brno", 3, 2025-01-31)`)).toEqual(isIn("city", ["Praha", "Brno", 3, "2025-01-31"]))
    expect(ok(`city in ("Praha")`)).toEqual(isIn("city", ["Praha"]))
  })

  it("combines with and / or / not, and binding tighter than or", () => {
    expect(ok(`city = "Praha" and orders >= 3`)).toEqual(and(equals("city", "Praha"), gte("orders", 3)))
    expect(ok(`a = 1 or b = 2 and c = 3`)).toEqual(or(equals("a", 1), and(equals("b", 2), equals("c", 3))))
    expect(ok(`(a = 1 or b = 2) and c = 3`)).toEqual(and(or(equals("a", 1), equals("b", 2)), equals("c", 3)))
    expect(ok(`not (a = 1 or b != 2)`)).toEqual(not(or(equals("a", 1), notEquals("b", 2))))
    expect(ok(`not a = 1 and b = 2`)).toEqual(and(not(equals("a", 1)), equals("b", 2)))
    expect(ok(`not not a is empty`)).toEqual(not(not(empty("a"))))
    expect(ok(`a = 1 and b = 2 and c = 3`)).toEqual(and(equals("a", 1), equals("b", 2), equals("c", 3)))
    expect(ok(`(a = 1 and b = 2) and c = 3`)).toEqual(and(and(equals("a", 1), equals("b", 2)), equals("c", 3)))
    expect(ok(`((a = 1))`)).toEqual(equals("a", 1))
  })

  it("takes keywords in any case", () => {
    expect(ok(`City = "a" AND NOT b IS NOT EMPTY Or c Starts WITH "x" oR d IN (1)`)).toEqual(
      or(and(equals("City", "a"), not(notEmpty("b"))), startsWith("c", "x"), isIn("d", [1]))
    )
  })

  it("reads Unicode and backticked column names and string escapes", () => {
    expect(ok(`město = "Brno"`)).toEqual(equals("město", "Brno"))
    expect(ok("`Číslo objednávky` = 42")).toEqual(equals("Číslo objednávky", 42))
    expect(ok("`and` is empty")).toEqual(empty("and"))
    expect(ok("`a\\`b\\\\c` is empty")).toEqual(empty("a`b\\c"))
    expect(ok(`note = "say \\"hi\\" \\\\ \\n\\t\\r"`)).toEqual(equals("note", "say \"hi\" \\ \n\t\r"))
    expect(ok(`_x1 = ""`)).toEqual(equals("_x1", ""))
  })

  it("spans lines and odd whitespace", () => {
    expect(ok("city = \"Praha\"\r\n  and\torders\u00a0>= 3\n")).toEqual(and(equals("city", "Praha"), gte("orders", 3)))
  })
})

describe("parse errors", () => {
  it("says where a value is missing, with a hint", () => {
    const error = fail(`city = `)
    expect(error._tag).toBe("FilterParseError")
    expect(error.message).toBe(`expected a value after "=" at line 1, column 8 — put text in double quotes: city = "Praha"`)
    expect(error).toMatchObject({ line: 1, column: 8, offset: 7, expected: "a value", found: "end of input" })
  })

  it("suggests quoting a bare word", () => {
    expect(fail(`city = Praha`)).toMatchObject({ column: 8, found: `"Praha"`, hint: `put text in double quotes: city = "Praha"` })
    expect(fail(`name starts with Ja`).hint).toBe(`put text in double quotes: name starts with "Ja"`)
    expect(fail("`Číslo objednávky` contains (").hint).toBe("put text in double quotes: `Číslo objednávky` contains \"Praha\"")
  })

  it.each([
    ["", 1, 1, "a condition"],
    [`city = 'Praha'`, 1, 8, "a value"],
    [`name = "abc`, 1, 8, `a closing "`],
    ["`abc = 1", 1, 1, "a closing `"],
    ["`` = 1", 1, 1, "a column name"],
    [`name = "a\\qb"`, 1, 10, `an escape: \\" \\\\ \\n \\r \\t`],
    ["`a\\\"b` is empty", 1, 3, "an escape: \\` \\\\ \\n \\r \\t"],
    [`name = "a\\`, 1, 10, `an escape: \\" \\\\ \\n \\r \\t`],
    [`city "Praha"`, 1, 6, "an operator (=, !=, <, <=, >, >=, contains, starts with, is empty, is not empty or in (…))"],
    [`city`, 1, 5, "an operator (=, !=, <, <=, >, >=, contains, starts with, is empty, is not empty or in (…))"],
    [`name starts "Ja"`, 1, 13, `"with"`],
    [`email is full`, 1, 10, `"empty"`],
    [`email is not full`, 1, 14, `"empty"`],
    [`city in "Praha"`, 1, 9, `"("`],
    [`city in ()`, 1, 10, "a value"],
    [`city in ("a" "b")`, 1, 14, `"," or ")"`],
    [`city in ("a",)`, 1, 14, "a value"],
    [`city in ("a"`, 1, 13, `"," or ")"`],
    [`(a = 1`, 1, 7, `")"`],
    [`()`, 1, 2, "a condition"],
    [`(`, 1, 2, "a condition"],
    [`a = 1 b = 2`, 1, 7, `"and", "or" or the end`],
    [`a = 1)`, 1, 6, `"and", "or" or the end`],
    [`and = 1`, 1, 1, "a condition"],
    [`"Praha" = city`, 1, 1, "a condition"],
    [`= 1`, 1, 1, "a condition"],
    [`d > 2025-02-30`, 1, 5, "a valid date"],
    [`d > 2025-13-01`, 1, 5, "a valid date"],
    [`d > 2025-01-01T24:00`, 1, 5, "a valid date"],
    [`d > 2025-01-01T10:00+24:00`, 1, 5, "a valid date"],
    [`d > 2025-01-011`, 1, 5, "a date such as 2025-01-31 or 2025-01-31T09:30:00Z"],
    [`n = 3abc`, 1, 5, "a number such as 3, -2.5 or 1e6"],
    [`n = 3.`, 1, 5, "a number such as 3, -2.5 or 1e6"],
    [`n = 1e999`, 1, 5, "a finite number"],
    [`n = -x`, 1, 5, "a number"],
    [`not`, 1, 4, "a condition"],
    [`a = 1 and`, 1, 10, "a condition"],
    [`a = 1 or not`, 1, 13, "a condition"],
    [`a ! 1`, 1, 3, "a column, a value, an operator or a parenthesis"],
    [`a = 1 & b = 2`, 1, 7, "a column, a value, an operator or a parenthesis"],
    ["city = \"Praha\"\nand orders >=\n  x", 3, 3, "a value"],
    ["city = \"Praha\"\r\nand orders >=\r\n  x", 3, 3, "a value"],
    ["a = 1\r\rb", 3, 1, `"and", "or" or the end`],
    ["`😀😀` = ", 1, 8, "a value"]
  ])("%j fails at line %i, column %i expecting %s", (text, line, column, expected) => {
    const error = fail(text)
    expect({ line: error.line, column: error.column, expected: error.expected }).toEqual({ line, column, expected })
    expect(error.message).toContain(`at line ${line}, column ${column} — ${error.hint}`)
    expect(error.hint.length).toBeGreaterThan(10)
  })

  it("gives offsets in UTF-16 units and columns in characters", () => {
    expect(fail("`😀😀` = ")).toMatchObject({ offset: 9, column: 8 })
  })

  it("gives specific hints", () => {
    expect(fail(`a ! 1`).hint).toContain("!=")
    expect(fail(`a = 1 & b = 2`).hint).toContain("backticks")
    expect(fail(`and = 1`).hint).toBe("\"and\" is a keyword; write a column with that name in backticks: `and` = \"x\"")
    expect(fail(`"Praha" = city`).hint).toBe(`a condition starts with a column name: city = "Praha"`)
    expect(fail(`a = 1)`).hint).toContain(`extra ")"`)
    expect(fail(`a = 1 and`).message).toBe(`expected a condition after "and" at line 1, column 10 — continue with a condition: and city = "Praha"`)
    expect(fail(`a = 1 AND or b = 1`).message).toContain(`after "AND"`)
    expect(fail(`city = 'Praha'`).hint).toBe(`put text in double quotes: city = "Praha"`)
  })

  it("refuses nesting deep enough to exhaust the stack, without throwing", () => {
    expect(fail(`${"not ".repeat(300)}a = 1`).expected).toBe("a simpler filter")
    expect(fail(`${"(".repeat(300)}a = 1${")".repeat(300)}`).expected).toBe("a simpler filter")
    expect(ok(`${"not ".repeat(200)}a = 1`)._tag).toBe("Not")
  })
})

describe("print", () => {
  it("writes canonical text", () => {
    expect(Filter.print(ok(`CITY  =  "Praha"  AND orders>=3`))).toBe(`CITY = "Praha" and orders >= 3`)
    expect(Filter.print(ok(`a <> 1 or b == 2`))).toBe(`a != 1 or b = 2`)
    expect(Filter.print(ok(`not (a = 1 or b != 2)`))).toBe(`not (a = 1 or b != 2)`)
    expect(Filter.print(ok(`x STARTS WITH "J" and y Contains "n" and z is NOT empty and w IS EMPTY`)))
      .toBe(`x starts with "J" and y contains "n" and z is not empty and w is empty`)
    expect(Filter.print(ok(`a < 1 or a <= 2 or a > 3 or a >= 4 or a in (1, "x")`)))
      .toBe(`a < 1 or a <= 2 or a > 3 or a >= 4 or a in (1, "x")`)
  })

  it("parenthesises only where the structure needs it", () => {
    expect(Filter.print(and(and(equals("a", 1), equals("b", 2)), or(equals("c", 3), equals("d", 4)), not(equals("e", 5)))))
      .toBe(`(a = 1 and b = 2) and (c = 3 or d = 4) and not e = 5`)
    expect(Filter.print(or(or(equals("a", 1), equals("b", 2)), and(equals("c", 3), equals("d", 4)))))
      .toBe(`(a = 1 or b = 2) or c = 3 and d = 4`)
    expect(Filter.print(not(and(equals("a", 1), equals("b", 2))))).toBe(`not (a = 1 and b = 2)`)
    expect(Filter.print(not(not(empty("a"))))).toBe(`not not a is empty`)
  })

  it("quotes columns and values only when it must", () => {
    expect(Filter.print(equals("město", "Brno"))).toBe(`město = "Brno"`)
    expect(Filter.print(equals("Číslo objednávky", 42))).toBe("`Číslo objednávky` = 42")
    expect(Filter.print(empty("and"))).toBe("`and` is empty")
    expect(Filter.print(empty("NOT"))).toBe("`NOT` is empty")
    expect(Filter.print(empty("2nd"))).toBe("`2nd` is empty")
    expect(Filter.print(empty("a`b\\c\n"))).toBe("`a\\`b\\\\c\\n` is empty")
    expect(Filter.print(equals("d", "2025-01-31"))).toBe(`d = 2025-01-31`)
    expect(Filter.print(equals("d", "2025-01-31T10:00:00Z"))).toBe(`d = 2025-01-31T10:00:00Z`)
    expect(Filter.print(equals("d", "2025-02-30"))).toBe(`d = "2025-02-30"`)
    expect(Filter.print(equals("n", -0))).toBe(`n = 0`)
    expect(Filter.print(equals("n", 1e21))).toBe(`n = 1e+21`)
    expect(Filter.print(equals("s", "a\"b\\c\n\r\t`"))).toBe(`s = "a\\"b\\\\c\\n\\r\\t\`"`)
    expect(ok(Filter.print(equals("n", 1e21)))).toEqual(equals("n", 1e21))
    expect(Object.is((ok(`n = -0`) as Filter.Equals).value, 0)).toBe(true)
    expect(Object.is((ok(`n = -1e-999`) as Filter.Equals).value, 0)).toBe(true)
    expect(ok(Filter.print(equals("n", 1e-7)))).toEqual(equals("n", 1e-7))
  })
})

describe("decodeJson", () => {
  it("accepts the AST as JSON", () => {
    const filter = and(equals("city", "Praha"), or(gte("orders", 3), isIn("tier", ["gold", 1])), not(empty("email")))
    const decoded = Filter.decodeJson(JSON.parse(JSON.stringify(filter)))
    expect(Result.isSuccess(decoded) && decoded.success).toEqual(filter)
    expect(JSON.stringify(filter)).toBe(
      `{"_tag":"And","filters":[{"_tag":"Equals","column":"city","value":"Praha"},{"_tag":"Or","filters":[{"_tag":"Gte","column":"orders","value":3},{"_tag":"In","column":"tier","values":["gold",1]}]},{"_tag":"Not","filter":{"_tag":"Empty","column":"email"}}]}`
    )
  })

  it.each([
    [{ _tag: "Nope" }, `Expected a filter: an object with "_tag" one of Equals, NotEquals`],
    ["city = 1", `Expected a filter`],
    [null, `Expected a filter`],
    [{ _tag: "Equals", value: 1 }, `at ["column"]`],
    [{ _tag: "Equals", column: "", value: 1 }, `Expected a column name (non-empty text)\n  at ["column"]`],
    [{ _tag: "Equals", column: "a", value: Number.POSITIVE_INFINITY }, `at ["value"]`],
    [{ _tag: "Equals", column: "a", value: null }, `Expected text or a finite number\n  at ["value"]`],
    [{ _tag: "In", column: "a", values: [] }, `at ["values"]`],
    [{ _tag: "And", filters: [{ _tag: "Empty", column: "a" }] }, `at ["filters"][1]`],
    [{ _tag: "Or", filters: [{ _tag: "Empty", column: "a" }, { _tag: "Gt", column: "b", value: true }] }, `at ["filters"][1]["value"]`],
    [{ _tag: "Not" }, `at ["filter"]`]
  ])("rejects %j clearly", (input, message) => {
    const decoded = Filter.decodeJson(input)
    expect(Result.isFailure(decoded)).toBe(true)
    if (Result.isFailure(decoded)) {
      expect(decoded.failure._tag).toBe("FilterJsonError")
      expect(decoded.failure.message).toContain(message)
    }
  })
})

describe("evaluate", () => {
  const matches = (text: string, contact: Filter.Contact): boolean => Filter.evaluate(ok(text), contact)

  it("equals compares trimmed text case-sensitively", () => {
    expect(matches(`city = "Praha"`, { city: " Praha " })).toBe(true)
    expect(matches(`city = "Praha"`, { city: "praha" })).toBe(false)
    expect(matches(`city = "Praha"`, {})).toBe(false)
    expect(matches(`city = ""`, {})).toBe(true)
    // NFD "Plzeň" from a Mac export still equals the NFC text typed in the filter.
    expect(matches(`city = "Plzeň"`, { city: "Plzen\u0308".replace("n\u0308", "n\u030c") })).toBe(true)
  })

  it("equals compares numbers numerically when the filter's value is a number", () => {
    expect(matches(`orders = 3`, { orders: "3" })).toBe(true)
    expect(matches(`orders = 3`, { orders: "3.0" })).toBe(true)
    expect(matches(`orders = 3`, { orders: " 3 " })).toBe(true)
    expect(matches(`orders = 3`, { orders: 3 })).toBe(true)
    expect(matches(`orders = 3.5`, { orders: "3,5" })).toBe(true)
    expect(matches(`orders = 3`, { orders: "three" })).toBe(false)
    expect(matches(`orders = 3`, { orders: Number.NaN })).toBe(false)
    expect(matches(`zip = 1234`, { zip: "01234" })).toBe(true)
    expect(matches(`zip = "1234"`, { zip: "01234" })).toBe(false)
    expect(matches(`zip = "3"`, { zip: 3 })).toBe(true)
  })

  it("equals compares dates as dates when the filter's value is a date", () => {
    expect(matches(`created = 2025-01-31`, { created: "2025-01-31T23:59:00Z" })).toBe(true)
    expect(matches(`created = 2025-01-31`, { created: "31. 1. 2025" })).toBe(true)
    expect(matches(`created = 2025-01-31`, { created: "31.01.2025" })).toBe(true)
    expect(matches(`created = 2025-01-31`, { created: "32.01.2025" })).toBe(false)
    expect(matches(`created = 2025-01-31T10:00:00+01:00`, { created: "2025-01-31T09:00Z" })).toBe(true)
    expect(matches(`created = 2025-01-31`, { created: "soon" })).toBe(false)
  })

  it("not equals is the negation of equals, so a missing column differs", () => {
    expect(matches(`city != "Praha"`, { city: "Brno" })).toBe(true)
    expect(matches(`city != "Praha"`, { city: "Praha" })).toBe(false)
    expect(matches(`city != "Praha"`, {})).toBe(true)
  })

  it("contains and starts with ignore case, Czech letters included", () => {
    expect(matches(`name contains "NOV"`, { name: "Jana Nováková" })).toBe(true)
    expect(matches(`name contains "žluťoučký"`, { name: "ŽLUŤOUČKÝ kůň" })).toBe(true)
    expect(matches(`name contains "x"`, { name: "Jana" })).toBe(false)
    expect(matches(`name starts with "ja"`, { name: "  Jana" })).toBe(true)
    expect(matches(`name starts with "ana"`, { name: "Jana" })).toBe(false)
    expect(matches(`phone contains 777`, { phone: 420777123456 })).toBe(true)
    expect(matches(`name contains "a"`, { name: null })).toBe(false)
  })

  it("orders numbers, dates, and nothing else", () => {
    expect(matches(`orders >= 3`, { orders: "3" })).toBe(true)
    expect(matches(`orders >= 3`, { orders: "2.99" })).toBe(false)
    expect(matches(`orders > 3`, { orders: 4 })).toBe(true)
    expect(matches(`orders < 3`, { orders: "-1" })).toBe(true)
    expect(matches(`orders <= 3`, { orders: "3" })).toBe(true)
    expect(matches(`orders >= 3`, { orders: "many" })).toBe(false)
    expect(matches(`orders < 3`, { orders: "many" })).toBe(false)
    expect(matches(`orders >= 3`, {})).toBe(false)
    expect(matches(`orders < 3`, { orders: "" })).toBe(false)
    expect(matches(`name > "M"`, { name: "Z" })).toBe(false)
    expect(matches(`orders >= "3"`, { orders: "4" })).toBe(true)
    expect(matches(`created >= 2025-01-31`, { created: "2025-02-01" })).toBe(true)
    expect(matches(`created >= 2025-01-31`, { created: "2025-01-30" })).toBe(false)
    expect(matches(`created <= 2025-01-31`, { created: "2025-01-31T22:00:00Z" })).toBe(true)
    expect(matches(`created < 2025-01-31T00:00:00Z`, { created: "2025-01-31T00:30:00+01:00" })).toBe(true)
    expect(matches(`created > 2025-01-31T00:00:00Z`, { created: "2025-01-31T00:30:00" })).toBe(true)
    expect(matches(`created < 2025-01-31`, { created: "1. 1. 2025" })).toBe(true)
    expect(matches(`created < 2025-01-31`, { created: "0050-01-01" })).toBe(true)
    expect(matches(`created > 1950-01-01`, { created: "0050-01-01" })).toBe(false)
    expect(matches(`created > 2024-02-28`, { created: "2024-02-29" })).toBe(true)
    expect(matches(`created > 2024-02-28`, { created: "2023-02-29" })).toBe(false)
    expect(matches(`created > 2024-02-28`, { created: "1900-02-29" })).toBe(false)
    expect(matches(`created < 2024-02-28`, { created: "2000-02-29T12:00:00.123Z" })).toBe(true)
    expect(matches(`created > 2025-01-31`, { created: 20250201 })).toBe(false)
  })

  it("treats missing, null and blank as empty", () => {
    for (const contact of [{}, { email: null }, { email: undefined }, { email: "" }, { email: "  \u00a0" }]) {
      expect(matches(`email is empty`, contact)).toBe(true)
      expect(matches(`email is not empty`, contact)).toBe(false)
    }
    expect(matches(`email is empty`, { email: 0 })).toBe(false)
    expect(matches(`email is not empty`, { email: "a@b.cz" })).toBe(true)
  })

  it("reads only the contact's own columns", () => {
    expect(matches("`constructor` is empty", {})).toBe(true)
    expect(matches("`toString` is not empty", {})).toBe(false)
  })

  it("in uses equals semantics", () => {
    expect(matches(`city in ("Praha", "Brno")`, { city: "Brno" })).toBe(true)
    expect(matches(`city in ("Praha", "Brno")`, { city: "Ostrava" })).toBe(false)
    expect(matches(`orders in (1, 2, 3)`, { orders: "2.0" })).toBe(true)
  })

  it("combines with and, or, not", () => {
    const contact = { city: "Praha", orders: "5", email: "" }
    expect(matches(`city = "Praha" and orders >= 3`, contact)).toBe(true)
    expect(matches(`city = "Brno" and orders >= 3`, contact)).toBe(false)
    expect(matches(`city = "Brno" or orders >= 3`, contact)).toBe(true)
    expect(matches(`city = "Brno" or orders >= 30`, contact)).toBe(false)
    expect(matches(`not email is not empty`, contact)).toBe(true)
  })
})

describe("constructors", () => {
  it("build plain data", () => {
    expect(and(empty("a"), empty("b"), empty("c"))).toEqual({
      _tag: "And",
      filters: [{ _tag: "Empty", column: "a" }, { _tag: "Empty", column: "b" }, { _tag: "Empty", column: "c" }]
    })
    expect(Object.getPrototypeOf(equals("a", 1))).toBe(Object.prototype)
    expect(Filter.tags).toContain("StartsWith")
  })
})

describe("columns", () => {
  it("lists each referenced column once, in first-use order", () => {
    expect(Filter.columns(ok(`b = 1 and (a is empty or not b > 2) and c in (1) or a contains "x"`))).toEqual(["b", "a", "c"])
    expect(Filter.columns(ok(`x starts with "a"`))).toEqual(["x"])
  })

  it("checkColumns passes known columns through", () => {
    const filter = ok(`city = "Praha" and orders >= 3`)
    const checked = Filter.checkColumns(filter, ["city", "orders", "email"])
    expect(Result.isSuccess(checked) && checked.success).toBe(filter)
  })

  it("checkColumns names every unknown column, with likely intended names", () => {
    const checked = Filter.checkColumns(ok(`mesto = "Praha" and Orders >= 3 and tier = 1 and mesto is not empty`), ["město", "orders"])
    expect(Result.isFailure(checked)).toBe(true)
    if (Result.isFailure(checked)) {
      expect(checked.failure._tag).toBe("UnknownColumnsError")
      expect(checked.failure.unknown).toEqual(["mesto", "Orders", "tier"])
      expect(checked.failure.suggestions).toEqual({ mesto: "město", Orders: "orders" })
      expect(checked.failure.message).toBe(
        `unknown columns "mesto" (did you mean "město"?), "Orders" (did you mean "orders"?), "tier"; the directory has: "město", "orders"`
      )
    }
    const none = Filter.checkColumns(empty("a"), [])
    expect(Result.isFailure(none) && none.failure.message).toBe(`unknown column "a"; the directory has: no columns`)
  })
})
