// JSON for configuration files: exactly JSON.parse's grammar, with the line and column of the first problem,
// advice that fits the usual mistakes, and duplicate keys refused.
import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as JsonText from "../../src/config/JsonText.ts"

const problem = (text: string) => {
  const parsed = JsonText.parse(text)
  return Result.isFailure(parsed) ? parsed.failure : undefined
}

describe("JsonText.parse", () => {
  it("parses what JSON.parse parses, after a byte-order mark too", () => {
    expect(JsonText.parse("\uFEFF{\"a\": [1, 2.5e3, \"x\\u00e9\\n\", true, null]}")).toEqual(Result.succeed({ a: [1, 2500, "xé\n", true, null] }))
  })

  it.each([
    ["{\n  \"a\": 1,\n}", 3, 1, "a trailing comma before } is not allowed in JSON; remove it"],
    ["[1, 2,\n]", 2, 1, "a trailing comma before ] is not allowed in JSON; remove it"],
    ["{\n  // comment\n}", 2, 3, "JSON has no comments; remove the comment"],
    ["{'a': 1}", 1, 2, "JSON strings and keys take double quotes (\"), not single quotes"],
    ["{a: 1}", 1, 2, "unexpected word; expected a key in double quotes (strings and keys take double quotes; JSON's words are true, false and null)"],
    ["{\"a\": 1 \"b\": 2}", 1, 9, "unexpected '\"'; expected ',' between properties or '}' to end the object"],
    ["{\"a\" 1}", 1, 6, "unexpected character U+0031; expected ':' after the key \"a\""],
    ["{\"a\": \"x\ny\"}", 1, 9, "a line break or control character inside a string; write it as \\n or \\t, or close the string"],
    ["{\"a\": \"\\q\"}", 1, 8, "invalid escape; JSON knows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX (write a backslash as \\\\)"],
    ["{\"a\": \"open", 1, 7, "this string is never closed; add the closing \""],
    ["{\n  \"a\": {\"b\": 1}\n", 1, 1, "this { is never closed; add the matching }"],
    ["{\"a\": 1} {}", 1, 10, "unexpected '{'; expected the end of the file after the JSON value (one object holds the whole configuration)"],
    ["   \n", 2, 1, "the file is empty; write {} to use every default"],
    ["{\"a\": -}", 1, 7, "invalid number; write numbers like 32, 0.5 or 1e3"],
    ["{\"a\": 1,\n \"a\": 2}", 2, 2, "the key \"a\" appears twice in this object (first at line 1, column 2); keep one"],
    ["{\"é\": 1, x}", 1, 10, "unexpected word; expected a key in double quotes (strings and keys take double quotes; JSON's words are true, false and null)"]
  ])("%j → line %i, column %i: %s", (text, line, column, message) => {
    expect(problem(text)).toEqual({ line, column, problem: message })
  })

  it("accepts every JSON document, with the value JSON.parse gives", () => {
    fc.assert(fc.property(fc.json(), (text) => {
      expect(JsonText.parse(text)).toEqual(Result.succeed(JSON.parse(text)))
    }))
  })

  it("refuses exactly what JSON.parse refuses (besides duplicate keys), for text near JSON", () => {
    const nearJson = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."{}[]\":,.-+0123456789eE truefalsnul\\/\n\t'") }),
      // A valid document with one character removed or inserted.
      fc.tuple(fc.json(), fc.nat(), fc.constantFrom("", ",", "}", "]", "\"", ":", "0", "x", "\\", "\n")).map(([text, at, insert]) => {
        const i = at % (text.length + 1)
        return insert === "" ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + insert + text.slice(i)
      })
    )
    fc.assert(fc.property(nearJson, (text) => {
      let valid = true
      try {
        JSON.parse(text)
      } catch {
        valid = false
      }
      const found = problem(text)
      if (valid) expect(found === undefined || found.problem.includes("appears twice")).toBe(true)
      else expect(found).toBeDefined()
    }), { numRuns: 2000 })
  })
})
