/**
 * JSON for configuration files: `JSON.parse` does the parsing, a small scanner finds where a broken file is
 * broken. JSON.parse's own message is not used because it does not always say where (V8's "Unexpected token"
 * names no position) and because it quotes a piece of the text, which may be a password in a database URL.
 * The scanner also refuses duplicate keys, which JSON.parse would silently resolve to the last one.
 */
import { Result } from "effect"

/** Where a JSON text is wrong, and what to do about it; it never quotes the text. */
export interface JsonProblem {
  /** 1-based line. */
  readonly line: number
  /** 1-based column, in characters (code points), as editors count them. */
  readonly column: number
  /** What is wrong there and how to fix it, e.g. `a trailing comma before } is not allowed in JSON; remove it`. */
  readonly problem: string
}

/** Parse a JSON text (a leading byte-order mark is allowed), or say at which line and column it is not JSON. */
export const parse = (text: string): Result.Result<unknown, JsonProblem> => {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text
  const found = scan(body)
  if (found !== undefined) return Result.fail({ ...lineAndColumn(body, found.at), problem: found.problem })
  try {
    return Result.succeed(JSON.parse(body))
  } catch {
    // The scanner accepts exactly JSON's grammar, so this is not expected; say so without quoting the text.
    return Result.fail({ line: 1, column: 1, problem: "the text is not valid JSON" })
  }
}

/** The 1-based line and column of a UTF-16 offset. */
export const lineAndColumn = (text: string, at: number): { readonly line: number; readonly column: number } => {
  const before = text.slice(0, at)
  const lineStart = before.lastIndexOf("\n") + 1
  const line = before.split("\n").length
  return { line, column: Array.from(before.slice(lineStart)).length + 1 }
}

interface Found {
  readonly at: number
  readonly problem: string
}

// Thrown inside `scan` only, to leave the recursion at the first problem; `scan` turns it into a value.
class Stop {
  readonly found: Found
  constructor(found: Found) {
    this.found = found
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const HEX4 = /[0-9a-fA-F]{4}/y
const ESCAPES = new Set(["\"", "\\", "/", "b", "f", "n", "r", "t"])

/** What the character at `at` is, for a message: punctuation by itself, anything else by its code point. */
const describe = (text: string, at: number): string => {
  const ch = String.fromCodePoint(text.codePointAt(at) ?? 0)
  if (/^[\p{P}\p{S}]$/u.test(ch)) return `'${ch}'`
  const code = ch.codePointAt(0) ?? 0
  return `character U+${code.toString(16).toUpperCase().padStart(4, "0")}`
}

/** The first problem in `text`, or `undefined` when it is one JSON value with unique keys. */
const scan = (text: string): Found | undefined => {
  let pos = 0
  const stop = (at: number, problem: string): never => {
    throw new Stop({ at, problem })
  }
  const skipWhitespace = () => {
    while (pos < text.length && (text[pos] === " " || text[pos] === "\t" || text[pos] === "\n" || text[pos] === "\r")) pos++
  }
  const atEnd = () => pos >= text.length

  const unexpected = (expected: string): never => {
    const ch = text[pos]
    if (ch === "/") return stop(pos, "JSON has no comments; remove the comment")
    if (ch === "'") return stop(pos, "JSON strings and keys take double quotes (\"), not single quotes")
    if (ch !== undefined && /[A-Za-z_$]/.test(ch)) {
      return stop(pos, `unexpected word; ${expected} (strings and keys take double quotes; JSON's words are true, false and null)`)
    }
    return stop(pos, `unexpected ${describe(text, pos)}; ${expected}`)
  }

  const string = (): string => {
    const start = pos
    pos++ // the opening quote
    for (;;) {
      if (atEnd()) return stop(start, "this string is never closed; add the closing \"")
      const ch = text[pos]
      if (ch === "\"") break
      if (ch === "\\") {
        const next = text[pos + 1]
        if (next === "u") {
          HEX4.lastIndex = pos + 2
          if (!HEX4.test(text)) return stop(pos, "\\u must be followed by four hexadecimal digits")
          pos += 6
          continue
        }
        if (next === undefined || !ESCAPES.has(next)) {
          return stop(pos, "invalid escape; JSON knows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX (write a backslash as \\\\)")
        }
        pos += 2
        continue
      }
      if (ch !== undefined && ch.charCodeAt(0) < 0x20) {
        return stop(pos, "a line break or control character inside a string; write it as \\n or \\t, or close the string")
      }
      pos++
    }
    pos++ // the closing quote
    return JSON.parse(text.slice(start, pos)) as string
  }

  const value = (): void => {
    skipWhitespace()
    if (atEnd()) return stop(pos, "the file ends where a value is expected")
    const ch = text[pos]
    if (ch === "{") return object()
    if (ch === "[") return array()
    if (ch === "\"") {
      string()
      return
    }
    if (ch === "-" || (ch !== undefined && ch >= "0" && ch <= "9")) {
      NUMBER.lastIndex = pos
      const match = NUMBER.exec(text)
      if (match === null) return stop(pos, "invalid number; write numbers like 32, 0.5 or 1e3")
      pos += match[0].length
      return
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, pos)) {
        pos += word.length
        return
      }
    }
    return unexpected("expected a value: a number, \"string\", true, false, null, {…} or […]")
  }

  const object = (): void => {
    const open = pos
    pos++
    const seen = new Map<string, number>()
    skipWhitespace()
    if (text[pos] === "}") {
      pos++
      return
    }
    for (;;) {
      skipWhitespace()
      if (atEnd()) return stop(open, "this { is never closed; add the matching }")
      if (text[pos] === "}" && seen.size > 0) return stop(pos, "a trailing comma before } is not allowed in JSON; remove it")
      if (text[pos] !== "\"") return unexpected("expected a key in double quotes")
      const keyAt = pos
      const key = string()
      const first = seen.get(key)
      if (first !== undefined) {
        const { line, column } = lineAndColumn(text, first)
        return stop(keyAt, `the key "${key}" appears twice in this object (first at line ${line}, column ${column}); keep one`)
      }
      seen.set(key, keyAt)
      skipWhitespace()
      if (atEnd()) return stop(open, "this { is never closed; add the matching }")
      if (text[pos] !== ":") return unexpected(`expected ':' after the key "${key}"`)
      pos++
      value()
      skipWhitespace()
      if (atEnd()) return stop(open, "this { is never closed; add the matching }")
      if (text[pos] === ",") {
        pos++
        continue
      }
      if (text[pos] === "}") {
        pos++
        return
      }
      return unexpected("expected ',' between properties or '}' to end the object")
    }
  }

  const array = (): void => {
    const open = pos
    pos++
    skipWhitespace()
    if (text[pos] === "]") {
      pos++
      return
    }
    for (;;) {
      skipWhitespace()
      if (text[pos] === "]") return stop(pos, "a trailing comma before ] is not allowed in JSON; remove it")
      if (atEnd()) return stop(open, "this [ is never closed; add the matching ]")
      value()
      skipWhitespace()
      if (atEnd()) return stop(open, "this [ is never closed; add the matching ]")
      if (text[pos] === ",") {
        pos++
        continue
      }
      if (text[pos] === "]") {
        pos++
        return
      }
      return unexpected("expected ',' between values or ']' to end the array")
    }
  }

  try {
    skipWhitespace()
    if (atEnd()) return { at: pos, problem: "the file is empty; write {} to use every default" }
    value()
    skipWhitespace()
    if (!atEnd()) unexpected("expected the end of the file after the JSON value (one object holds the whole configuration)")
    return undefined
  } catch (thrown) {
    if (thrown instanceof Stop) return thrown.found
    // Only a pathological nesting depth overflows the stack; no configuration looks like that.
    if (thrown instanceof RangeError) return { at: 0, problem: "the JSON is nested too deeply" }
    throw thrown
  }
}
