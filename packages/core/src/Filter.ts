/**
 * Saved contact filters (SPEC §1): the conditions over directory columns that
 * select which contacts a campaign messages.
 *
 * One filter has three faces that all describe the same plain-data AST:
 * - text a person types (`city = "Praha" and orders >= 3`) — {@link parse} / {@link print};
 * - JSON stored in the database or sent over HTTP — the AST as-is, checked by {@link decodeJson};
 * - code — the constructors ({@link equals}, {@link and}, …).
 *
 * Grammar of the text form (keywords are case-insensitive):
 * ```
 * filter     = or
 * or         = and { "or" and }
 * and        = unary { "and" unary }
 * unary      = "not" unary | "(" filter ")" | comparison
 * comparison = column ( ("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") value
 *                     | "contains" value | "starts" "with" value
 *                     | "is" ["not"] "empty"
 *                     | "in" "(" value { "," value } ")" )
 * column     = identifier | "`" any text, with \` and \\ escapes "`"
 * identifier = (letter | "_") { letter | mark | digit | "_" }      (Unicode: město, Číslo_objednávky)
 * value      = string | number | date
 * string     = '"' any text, with \" \\ \n \r \t escapes '"'
 * number     = ["-"] digits ["." digits] [("e" | "E") ["+" | "-"] digits]
 * date       = YYYY-MM-DD ["T" hh:mm [":" ss ["." fraction]] ["Z" | ("+" | "-") hh:mm]]   (kept as a string)
 * ```
 */
import { Result, Schema } from "effect"

// ---------------------------------------------------------------------------
// The AST
// ---------------------------------------------------------------------------

/** A literal a filter compares against: text (ISO dates are text too) or a number. */
export type Value = string | number

/** `column = value`: equal text, or equal numbers when the filter's value is a number. */
export interface Equals { readonly _tag: "Equals"; readonly column: string; readonly value: Value }
/** `column != value`: the negation of {@link Equals}. */
export interface NotEquals { readonly _tag: "NotEquals"; readonly column: string; readonly value: Value }
/** `column contains value`: case-insensitive substring. */
export interface Contains { readonly _tag: "Contains"; readonly column: string; readonly value: Value }
/** `column starts with value`: case-insensitive prefix. */
export interface StartsWith { readonly _tag: "StartsWith"; readonly column: string; readonly value: Value }
/** `column < value` over numbers or dates. */
export interface Lt { readonly _tag: "Lt"; readonly column: string; readonly value: Value }
/** `column <= value` over numbers or dates. */
export interface Lte { readonly _tag: "Lte"; readonly column: string; readonly value: Value }
/** `column > value` over numbers or dates. */
export interface Gt { readonly _tag: "Gt"; readonly column: string; readonly value: Value }
/** `column >= value` over numbers or dates. */
export interface Gte { readonly _tag: "Gte"; readonly column: string; readonly value: Value }
/** `column is empty`: missing, null or blank. */
export interface Empty { readonly _tag: "Empty"; readonly column: string }
/** `column is not empty`: the negation of {@link Empty}. */
export interface NotEmpty { readonly _tag: "NotEmpty"; readonly column: string }
/** `column in (a, b, …)`: equals one of the values. */
export interface In { readonly _tag: "In"; readonly column: string; readonly values: readonly [Value, ...Array<Value>] }
/** Every operand holds; two or more operands, so that the text form round-trips. */
export interface And { readonly _tag: "And"; readonly filters: readonly [Filter, Filter, ...Array<Filter>] }
/** At least one operand holds; two or more operands. */
export interface Or { readonly _tag: "Or"; readonly filters: readonly [Filter, Filter, ...Array<Filter>] }
/** The operand does not hold. */
export interface Not { readonly _tag: "Not"; readonly filter: Filter }

/** A condition on one column. */
export type Comparison = Equals | NotEquals | Contains | StartsWith | Lt | Lte | Gt | Gte | Empty | NotEmpty | In

/** A saved filter: a condition on columns, combined with and / or / not. Plain JSON-serialisable data. */
export type Filter = Comparison | And | Or | Not

/** The comparisons that take a single value, by tag. */
export type ValueComparison = Equals | NotEquals | Contains | StartsWith | Lt | Lte | Gt | Gte

// ---------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------

/** `column = value`. */
export const equals = (column: string, value: Value): Equals => ({ _tag: "Equals", column, value })
/** `column != value`. */
export const notEquals = (column: string, value: Value): NotEquals => ({ _tag: "NotEquals", column, value })
/** `column contains value`. */
export const contains = (column: string, value: Value): Contains => ({ _tag: "Contains", column, value })
/** `column starts with value`. */
export const startsWith = (column: string, value: Value): StartsWith => ({ _tag: "StartsWith", column, value })
/** `column < value`. */
export const lt = (column: string, value: Value): Lt => ({ _tag: "Lt", column, value })
/** `column <= value`. */
export const lte = (column: string, value: Value): Lte => ({ _tag: "Lte", column, value })
/** `column > value`. */
export const gt = (column: string, value: Value): Gt => ({ _tag: "Gt", column, value })
/** `column >= value`. */
export const gte = (column: string, value: Value): Gte => ({ _tag: "Gte", column, value })
/** `column is empty`. */
export const empty = (column: string): Empty => ({ _tag: "Empty", column })
/** `column is not empty`. */
export const notEmpty = (column: string): NotEmpty => ({ _tag: "NotEmpty", column })
/** `column in (values…)` — named `isIn` because `in` is a reserved word. */
export const isIn = (column: string, values: readonly [Value, ...Array<Value>]): In => ({ _tag: "In", column, values })
/** All of the filters. */
export const and = (first: Filter, second: Filter, ...rest: ReadonlyArray<Filter>): And =>
  ({ _tag: "And", filters: [first, second, ...rest] })
/** Any of the filters. */
export const or = (first: Filter, second: Filter, ...rest: ReadonlyArray<Filter>): Or =>
  ({ _tag: "Or", filters: [first, second, ...rest] })
/** The opposite of the filter. */
export const not = (filter: Filter): Not => ({ _tag: "Not", filter })

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** The filter text is not valid; says where, what was expected there, and how to fix it. */
export class FilterParseError extends Schema.TaggedError<FilterParseError>()("FilterParseError", {
  /** The whole sentence, ready to show: what, where, and the hint. */
  message: Schema.String,
  /** 1-based line of the problem. */
  line: Schema.Number,
  /** 1-based column, counted in characters (code points) as a person counts them. */
  column: Schema.Number,
  /** 0-based offset into the text in UTF-16 units, for `text.slice`. */
  offset: Schema.Number,
  /** What the parser wanted at that place, e.g. `a value`. */
  expected: Schema.String,
  /** What it found instead, e.g. `end of input` or `"Praha"`. */
  found: Schema.String,
  /** How to fix it, with an example. */
  hint: Schema.String
}) {}

/** A filter received as JSON does not have the shape of a filter. */
export class FilterJsonError extends Schema.TaggedError<FilterJsonError>()("FilterJsonError", {
  /** What is wrong and at which path, e.g. `Expected a finite number\n  at ["filters"][1]["value"]`. */
  message: Schema.String
}) {}

/** A filter names columns the directory does not have. */
export class UnknownColumnsError extends Schema.TaggedError<UnknownColumnsError>()("UnknownColumnsError", {
  /** One sentence naming every unknown column, with suggestions. */
  message: Schema.String,
  /** The unknown columns, in first-use order. */
  unknown: Schema.Array(Schema.String),
  /** For each unknown column that looks like a known one, the likely intended name. */
  suggestions: Schema.Record(Schema.String, Schema.String)
}) {}

// ---------------------------------------------------------------------------
// JSON form
// ---------------------------------------------------------------------------

const ColumnSchema = Schema.NonEmptyString.annotate({ expected: "a column name (non-empty text)" })
const ValueSchema = Schema.Union([Schema.String, Schema.Finite]).annotate({ expected: "text or a finite number" })
const FilterRef = Schema.suspend((): Schema.Codec<Filter> => FilterSchema)
const Operands = Schema.TupleWithRest(Schema.Tuple([FilterRef, FilterRef]), [FilterRef])
const valueNode = <Tag extends ValueComparison["_tag"]>(tag: Tag) =>
  Schema.TaggedStruct(tag, { column: ColumnSchema, value: ValueSchema })

/** Every node tag, for messages and for code that switches on filters. */
export const tags = [
  "Equals", "NotEquals", "Contains", "StartsWith", "Lt", "Lte", "Gt", "Gte",
  "Empty", "NotEmpty", "In", "And", "Or", "Not"
] as const satisfies ReadonlyArray<Filter["_tag"]>

/** The JSON shape of a filter: the AST as-is, `{ "_tag": "Equals", "column": "city", "value": "Praha" }`. */
export const FilterSchema: Schema.Codec<Filter> = Schema.Union([
  valueNode("Equals"),
  valueNode("NotEquals"),
  valueNode("Contains"),
  valueNode("StartsWith"),
  valueNode("Lt"),
  valueNode("Lte"),
  valueNode("Gt"),
  valueNode("Gte"),
  Schema.TaggedStruct("Empty", { column: ColumnSchema }),
  Schema.TaggedStruct("NotEmpty", { column: ColumnSchema }),
  Schema.TaggedStruct("In", { column: ColumnSchema, values: Schema.NonEmptyArray(ValueSchema) }),
  Schema.TaggedStruct("And", { filters: Operands }),
  Schema.TaggedStruct("Or", { filters: Operands }),
  Schema.TaggedStruct("Not", { filter: FilterRef })
]).annotate({ expected: `a filter: an object with "_tag" one of ${tags.join(", ")}` })

const decodeFilter = Schema.decodeUnknownResult(FilterSchema)

// The decoder recurses once per level and overflows the stack near 3,000 levels; the text form cannot nest past
// about 520 (`nestingLimit` parentheses, each an `or` over an `and`), so saved filters stay well inside this.
const jsonNestingLimit = 1_000

/** Whether filter nodes (through `filter` and `filters`) nest deeper than `limit`; iterative, so any depth is safe. */
const nestsDeeperThan = (input: unknown, limit: number): boolean => {
  const stack: Array<readonly [unknown, number]> = [[input, 1]]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [node, depth] = next
    if (typeof node !== "object" || node === null) continue
    if (depth > limit) return true
    const { filter, filters } = node as { readonly filter?: unknown; readonly filters?: unknown }
    if (filter !== undefined) stack.push([filter, depth + 1])
    if (Array.isArray(filters)) for (const f of filters) stack.push([f, depth + 1])
  }
  return false
}

/** Checks a filter that arrived as JSON (already `JSON.parse`d) and returns it typed, or says what is wrong where. Never throws. */
export const decodeJson = (input: unknown): Result.Result<Filter, FilterJsonError> => {
  if (nestsDeeperThan(input, jsonNestingLimit)) {
    return Result.fail(new FilterJsonError({
      message: `The filter nests "not", "and" and "or" more than ${jsonNestingLimit.toLocaleString("en")} levels deep. ` +
        `Flatten it: "and" and "or" take any number of operands, and "not" twice cancels out.`
    }))
  }
  const decoded = decodeFilter(input)
  return Result.isSuccess(decoded)
    ? Result.succeed(decoded.success)
    : Result.fail(new FilterJsonError({ message: decoded.failure.message }))
}

// ---------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------

type Token =
  | { readonly kind: "word"; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: "column"; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: "string"; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: "number"; readonly value: number; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: "date"; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: "op"; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: "punct"; readonly text: "(" | ")" | ","; readonly start: number; readonly end: number }
  | { readonly kind: "end"; readonly text: ""; readonly start: number; readonly end: number }

// Where a column name may be written bare; anything else goes in backticks.
const identifierPattern = /[\p{L}_][\p{L}\p{M}\p{N}_]*/uy
const identifierWhole = /^[\p{L}_][\p{L}\p{M}\p{N}_]*$/u
const numberPattern = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const datePattern = /\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?/y
const dateWhole = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/
// A number or date glued to more letters or digits is a typo, not two tokens.
const gluedAfterLiteral = /[\p{L}\p{N}_.]/u
const operatorPattern = /!=|<>|<=|>=|==|=|<|>/y
// Words with a meaning in the grammar: printed in backticks when used as column names.
const keywords = new Set(["and", "or", "not", "in", "is", "empty", "contains", "starts", "with"])
const nestingLimit = 256

interface Problem {
  readonly offset: number
  readonly description: string
  readonly expected: string
  readonly found: string
  readonly hint: string
}

const escapes: Readonly<Record<string, string>> = { "\"": "\"", "\\": "\\", "`": "`", n: "\n", r: "\r", t: "\t" }

/** Reads a quoted string or backticked column starting at `start` (the opening quote). */
const readQuoted = (text: string, start: number, quote: "\"" | "`"): Result.Result<{ text: string; end: number }, Problem> => {
  const what = quote === "\"" ? "text" : "column name"
  let out = ""
  let i = start + 1
  while (i < text.length) {
    const ch = text[i] as string
    if (ch === quote) return Result.succeed({ text: out, end: i + 1 })
    if (ch === "\\") {
      const next = text[i + 1]
      const replacement = next === undefined ? undefined : escapes[next]
      if (replacement === undefined || (next === "`" && quote === "\"") || (next === "\"" && quote === "`")) {
        return Result.fail({
          offset: i,
          description: `unknown escape "\\${next ?? ""}" in ${what}`,
          expected: `an escape: \\${quote} \\\\ \\n \\r \\t`,
          found: next === undefined ? "end of input" : `"\\${next}"`,
          hint: `write \\\\ for a backslash and \\${quote} for a ${quote === "\"" ? "double quote" : "backtick"}`
        })
      }
      out += replacement
      i += 2
      continue
    }
    out += ch
    i += 1
  }
  return Result.fail({
    offset: start,
    description: `unterminated ${what}`,
    expected: `a closing ${quote}`,
    found: "end of input",
    hint: quote === "\""
      ? `close the text with a double quote: name = "Jana"`
      : "close the column name with a backtick: `Číslo objednávky` = 42"
  })
}

const tokenize = (text: string): Result.Result<ReadonlyArray<Token>, Problem> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < text.length) {
    const ch = text[i] as string
    if (/\s/u.test(ch)) {
      i += 1
      continue
    }
    const start = i
    if (ch === "(" || ch === ")" || ch === ",") {
      tokens.push({ kind: "punct", text: ch, start, end: i + 1 })
      i += 1
      continue
    }
    if (ch === "\"" || ch === "`") {
      const quoted = readQuoted(text, i, ch)
      if (Result.isFailure(quoted)) return Result.fail(quoted.failure)
      if (ch === "`" && quoted.success.text.length === 0) {
        return Result.fail({
          offset: start,
          description: "empty column name",
          expected: "a column name",
          found: "``",
          hint: "put the column name between the backticks: `Číslo objednávky` = 42"
        })
      }
      tokens.push({ kind: ch === "\"" ? "string" : "column", text: quoted.success.text, start, end: quoted.success.end })
      i = quoted.success.end
      continue
    }
    if (ch === "'") {
      return Result.fail({
        offset: start,
        description: "single quotes do not delimit text",
        expected: "a value",
        found: "'",
        hint: `put text in double quotes: city = "Praha"`
      })
    }
    operatorPattern.lastIndex = i
    const operator = operatorPattern.exec(text)
    if (operator !== null) {
      tokens.push({ kind: "op", text: operator[0], start, end: i + operator[0].length })
      i += operator[0].length
      continue
    }
    if (/[0-9-]/.test(ch)) {
      datePattern.lastIndex = i
      const date = datePattern.exec(text)
      numberPattern.lastIndex = i
      const number = date === null ? numberPattern.exec(text) : null
      const literal = date ?? number
      if (literal === null) {
        return Result.fail({
          offset: start,
          description: `unexpected "${ch}"`,
          expected: "a number",
          found: `"${ch}"`,
          hint: "write negative numbers with the minus sign right before the digits: balance >= -10"
        })
      }
      const end = i + literal[0].length
      const after = text[end]
      if (after !== undefined && gluedAfterLiteral.test(after)) {
        return Result.fail({
          offset: start,
          description: `malformed ${date === null ? "number" : "date"} "${text.slice(start, end + 1)}"`,
          expected: date === null ? "a number such as 3, -2.5 or 1e6" : "a date such as 2025-01-31 or 2025-01-31T09:30:00Z",
          found: `"${text.slice(start, end + 1)}"`,
          hint: "put text in double quotes if it is not a number or a date: code = \"12AB\""
        })
      }
      if (date !== null) {
        if (parseIsoDate(date[0]) === undefined) {
          return Result.fail({
            offset: start,
            description: `"${date[0]}" is not a real date`,
            expected: "a valid date",
            found: `"${date[0]}"`,
            hint: "check month (01–12), day, hours (00–23) and minutes (00–59): created >= 2025-01-31"
          })
        }
        tokens.push({ kind: "date", text: date[0], start, end })
      } else {
        const value = Number(literal[0])
        if (!Number.isFinite(value)) {
          return Result.fail({
            offset: start,
            description: `number "${literal[0]}" is too large`,
            expected: "a finite number",
            found: `"${literal[0]}"`,
            hint: "use a smaller number, or put it in double quotes to compare it as text"
          })
        }
        // "-0" and underflow give -0, which would print as "0" and read back as a different value.
        tokens.push({ kind: "number", value: value === 0 ? 0 : value, text: literal[0], start, end })
      }
      i = end
      continue
    }
    identifierPattern.lastIndex = i
    const word = identifierPattern.exec(text)
    if (word !== null) {
      tokens.push({ kind: "word", text: word[0], start, end: i + word[0].length })
      i += word[0].length
      continue
    }
    const character = String.fromCodePoint(text.codePointAt(i) as number)
    return Result.fail({
      offset: start,
      description: `unexpected character "${character}"`,
      expected: "a column, a value, an operator or a parenthesis",
      found: `"${character}"`,
      hint: character === "!"
        ? `write != for "not equal": city != "Praha"`
        : "write a column name with odd characters in backticks: `e-mail` is empty"
    })
  }
  tokens.push({ kind: "end", text: "", start: text.length, end: text.length })
  return Result.succeed(tokens)
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

const describeToken = (token: Token): string => {
  switch (token.kind) {
    case "end": return "end of input"
    case "string": return `text "${token.text}"`
    case "column": return `column \`${token.text}\``
    case "word":
    case "op":
    case "punct":
    case "number":
    case "date": return `"${token.text}"`
  }
}

const isKeyword = (token: Token, keyword: string): boolean =>
  token.kind === "word" && token.text.toLowerCase() === keyword

const valueOperators: Readonly<Record<string, ValueComparison["_tag"]>> = {
  "=": "Equals", "==": "Equals", "!=": "NotEquals", "<>": "NotEquals",
  "<": "Lt", "<=": "Lte", ">": "Gt", ">=": "Gte"
}

const operatorList = "=, !=, <, <=, >, >=, contains, starts with, is empty, is not empty or in (…)"

/** Recursive descent over the token list; the first problem stops it (one clear message beats many). */
class Parser {
  private position = 0
  private depth = 0
  private readonly tokens: ReadonlyArray<Token>
  constructor(tokens: ReadonlyArray<Token>) {
    this.tokens = tokens
  }

  private peek(): Token {
    // The token list always ends with an "end" token, and the parser never moves past it.
    return this.tokens[Math.min(this.position, this.tokens.length - 1)] as Token
  }

  private advance(): Token {
    const token = this.peek()
    if (token.kind !== "end") this.position += 1
    return token
  }

  private problem(expected: string, after: string | undefined, hint: string): Result.Result<never, Problem> {
    const token = this.peek()
    return Result.fail({
      offset: token.start,
      description: `expected ${expected}${after === undefined ? "" : ` after "${after}"`}`,
      expected,
      found: describeToken(token),
      hint
    })
  }

  parseAll(): Result.Result<Filter, Problem> {
    if (this.peek().kind === "end") {
      return this.problem("a condition", undefined, `write a condition such as city = "Praha" and orders >= 3`)
    }
    const filter = this.parseOr()
    if (Result.isFailure(filter)) return filter
    const token = this.peek()
    if (token.kind === "end") return filter
    if (token.kind === "punct" && token.text === ")") {
      return this.problem("\"and\", \"or\" or the end", undefined, "remove the extra \")\" or add the matching \"(\"")
    }
    return this.problem("\"and\", \"or\" or the end", undefined,
      `join conditions with and / or: city = "Praha" and orders >= 3`)
  }

  private parseOr(): Result.Result<Filter, Problem> {
    return this.parseChain("or", () => this.parseAnd(), (filters) => ({ _tag: "Or", filters }))
  }

  private parseAnd(): Result.Result<Filter, Problem> {
    return this.parseChain("and", () => this.parseUnary(), (filters) => ({ _tag: "And", filters }))
  }

  private parseChain(
    keyword: "and" | "or",
    operand: () => Result.Result<Filter, Problem>,
    combine: (filters: readonly [Filter, Filter, ...Array<Filter>]) => Filter
  ): Result.Result<Filter, Problem> {
    const first = operand()
    if (Result.isFailure(first)) return first
    const rest: Array<Filter> = []
    while (isKeyword(this.peek(), keyword)) {
      const word = this.advance().text
      const next = operand()
      if (Result.isFailure(next)) return this.afterKeyword(next.failure, word)
      rest.push(next.success)
    }
    const [second, ...more] = rest
    return second === undefined ? first : Result.succeed(combine([first.success, second, ...more]))
  }

  // A missing operand after and/or/not reads better as "after \"and\"" than as a bare "expected a column".
  private afterKeyword(problem: Problem, word: string): Result.Result<never, Problem> {
    return problem.expected === "a condition" && this.peek().start === problem.offset
      ? this.problem("a condition", word, `continue with a condition: ${word.toLowerCase()} city = "Praha"`)
      : Result.fail(problem)
  }

  private parseUnary(): Result.Result<Filter, Problem> {
    if (this.depth >= nestingLimit) {
      return this.problem("a simpler filter", undefined, `nest "not" and parentheses at most ${nestingLimit} deep`)
    }
    this.depth += 1
    const result = this.parseUnnested()
    this.depth -= 1
    return result
  }

  private parseUnnested(): Result.Result<Filter, Problem> {
    const token = this.peek()
    if (isKeyword(token, "not")) {
      this.advance()
      const operand = this.parseUnary()
      return Result.isFailure(operand)
        ? this.afterKeyword(operand.failure, token.text)
        : Result.succeed({ _tag: "Not", filter: operand.success })
    }
    if (token.kind === "punct" && token.text === "(") {
      this.advance()
      if (this.peek().kind === "end" || (this.peek().kind === "punct" && this.peek().text === ")")) {
        return this.problem("a condition", "(", `put a condition inside the parentheses: (city = "Praha")`)
      }
      const inner = this.parseOr()
      if (Result.isFailure(inner)) return inner
      const close = this.peek()
      if (close.kind === "punct" && close.text === ")") {
        this.advance()
        return inner
      }
      return this.problem("\")\"", undefined, "close the parenthesis opened earlier, or join conditions with and / or")
    }
    return this.parseComparison()
  }

  private parseComparison(): Result.Result<Filter, Problem> {
    const token = this.peek()
    if (token.kind !== "column" && token.kind !== "word") {
      return this.problem("a condition", undefined,
        token.kind === "string"
          ? `a condition starts with a column name: city = ${JSON.stringify(token.text)}`
          : `start a condition with a column name: city = "Praha"`)
    }
    if (token.kind === "word" && keywords.has(token.text.toLowerCase())) {
      return this.problem("a condition", undefined,
        `"${token.text}" is a keyword; write a column with that name in backticks: \`${token.text}\` = "x"`)
    }
    this.advance()
    const column = token.text
    const bare = token.kind === "word" ? column : printColumn(column)
    const operator = this.peek()
    if (operator.kind === "op") {
      this.advance()
      const tag = valueOperators[operator.text] as ValueComparison["_tag"]
      const value = this.parseValue(operator.text, bare)
      return Result.map(value, (v) => ({ _tag: tag, column, value: v }))
    }
    if (isKeyword(operator, "contains")) {
      this.advance()
      return Result.map(this.parseValue(operator.text, bare), (value) => contains(column, value))
    }
    if (isKeyword(operator, "starts")) {
      this.advance()
      if (!isKeyword(this.peek(), "with")) {
        return this.problem("\"with\"", operator.text, `write "starts with": ${bare} starts with "Ja"`)
      }
      const withWord = this.advance()
      return Result.map(this.parseValue(`${operator.text} ${withWord.text}`, bare), (value) => startsWith(column, value))
    }
    if (isKeyword(operator, "is")) {
      this.advance()
      const negated = isKeyword(this.peek(), "not")
      const notWord = negated ? this.advance() : undefined
      if (!isKeyword(this.peek(), "empty")) {
        return this.problem("\"empty\"", notWord === undefined ? operator.text : `${operator.text} ${notWord.text}`,
          `write "${bare} is empty" or "${bare} is not empty"; to compare, use =: ${bare} = "Praha"`)
      }
      this.advance()
      return Result.succeed(negated ? notEmpty(column) : empty(column))
    }
    if (isKeyword(operator, "in")) {
      this.advance()
      return this.parseList(operator.text, column, bare)
    }
    return this.problem(`an operator (${operatorList})`, bare, `for example: ${bare} = "Praha"`)
  }

  private parseList(keyword: string, column: string, bare: string): Result.Result<Filter, Problem> {
    const example = `${bare} in ("Praha", "Brno")`
    if (!(this.peek().kind === "punct" && this.peek().text === "(")) {
      return this.problem("\"(\"", keyword, `put the list in parentheses: ${example}`)
    }
    this.advance()
    const first = this.parseValue("(", bare, example)
    if (Result.isFailure(first)) return Result.fail(first.failure)
    const values: [Value, ...Array<Value>] = [first.success]
    for (;;) {
      const token = this.peek()
      if (token.kind === "punct" && token.text === ")") {
        this.advance()
        return Result.succeed(isIn(column, values))
      }
      if (!(token.kind === "punct" && token.text === ",")) {
        return this.problem("\",\" or \")\"", undefined, `separate values with commas and close the list: ${example}`)
      }
      this.advance()
      const next = this.parseValue(",", bare, example)
      if (Result.isFailure(next)) return Result.fail(next.failure)
      values.push(next.success)
    }
  }

  private parseValue(after: string, bare: string, example?: string): Result.Result<Value, Problem> {
    const token = this.peek()
    if (token.kind === "string" || token.kind === "date" || token.kind === "number") {
      this.advance()
      return Result.succeed(token.kind === "number" ? token.value : token.text)
    }
    const word = token.kind === "word" ? JSON.stringify(token.text) : "\"Praha\""
    return this.problem("a value", after,
      `put text in double quotes: ${example ?? `${bare} ${after.toLowerCase()} ${word}`}`)
  }
}

/** Where in the text an offset is: 1-based line and column, counting \r\n as one break and characters by code point. */
const locate = (text: string, offset: number): { readonly line: number; readonly column: number } => {
  let line = 1
  let column = 1
  let i = 0
  while (i < offset) {
    const code = text.charCodeAt(i)
    if (code === 10 || (code === 13 && text.charCodeAt(i + 1) !== 10)) {
      line += 1
      column = 1
    } else if (code !== 13) {
      column += 1
    }
    // A surrogate pair is one character for the person reading the message.
    i += code >= 0xd800 && code <= 0xdbff && i + 1 < offset ? 2 : 1
  }
  return { line, column }
}

/** Reads the text form of a filter; on a mistake, says where it is, what was expected, and how to fix it. Never throws. */
export const parse = (text: string): Result.Result<Filter, FilterParseError> => {
  const tokens = tokenize(text)
  const parsed = Result.isFailure(tokens) ? Result.fail(tokens.failure) : new Parser(tokens.success).parseAll()
  if (Result.isSuccess(parsed)) return Result.succeed(parsed.success)
  const problem = parsed.failure
  const { line, column } = locate(text, problem.offset)
  return Result.fail(new FilterParseError({
    message: `${problem.description} at line ${line}, column ${column} — ${problem.hint}`,
    line,
    column,
    offset: problem.offset,
    expected: problem.expected,
    found: problem.found,
    hint: problem.hint
  }))
}

// ---------------------------------------------------------------------------
// Printer
// ---------------------------------------------------------------------------

const escapeQuoted = (text: string, quote: "\"" | "`"): string =>
  quote + text.replace(quote === "\"" ? /["\\\n\r\t]/g : /[`\\\n\r\t]/g, (ch) =>
    ch === "\n" ? "\\n" : ch === "\r" ? "\\r" : ch === "\t" ? "\\t" : `\\${ch}`) + quote

const printColumn = (column: string): string =>
  identifierWhole.test(column) && !keywords.has(column.toLowerCase()) ? column : escapeQuoted(column, "`")

const printValue = (value: Value): string =>
  typeof value === "number"
    ? (Object.is(value, -0) ? "0" : String(value))
    : dateWhole.test(value) && parseIsoDate(value) !== undefined ? value : escapeQuoted(value, "\"")

const printOperand = (filter: Filter, parenthesise: boolean): string =>
  parenthesise ? `(${print(filter)})` : print(filter)

const printSymbol: Readonly<Record<ValueComparison["_tag"], string>> = {
  Equals: "=", NotEquals: "!=", Contains: "contains", StartsWith: "starts with", Lt: "<", Lte: "<=", Gt: ">", Gte: ">="
}

/** The canonical text of a filter: parsing it gives the same AST back. */
export const print = (filter: Filter): string => {
  switch (filter._tag) {
    case "Equals":
    case "NotEquals":
    case "Contains":
    case "StartsWith":
    case "Lt":
    case "Lte":
    case "Gt":
    case "Gte":
      return `${printColumn(filter.column)} ${printSymbol[filter._tag]} ${printValue(filter.value)}`
    case "Empty": return `${printColumn(filter.column)} is empty`
    case "NotEmpty": return `${printColumn(filter.column)} is not empty`
    case "In": return `${printColumn(filter.column)} in (${filter.values.map(printValue).join(", ")})`
    // Parentheses keep nested and/or nodes nested when read back, so the AST round-trips exactly.
    case "And": return filter.filters.map((f) => printOperand(f, f._tag === "And" || f._tag === "Or")).join(" and ")
    case "Or": return filter.filters.map((f) => printOperand(f, f._tag === "Or")).join(" or ")
    case "Not": return `not ${printOperand(filter.filter, filter.filter._tag === "And" || filter.filter._tag === "Or")}`
  }
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

/** One contact as the filter sees it: column name → cell. */
export type Contact = Readonly<Record<string, string | number | null | undefined>>

type Cell = string | number | null | undefined

const numericText = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const decimalCommaText = /^[+-]?\d+,\d+$/

/** A cell or value as a number, when it is one: numbers, and text like "3", "3.0", "-2.5" or Czech "3,5". */
const asNumber = (value: Cell): number | undefined => {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined
  if (value === null || value === undefined) return undefined
  const text = value.trim()
  const normalised = numericText.test(text) ? text : decimalCommaText.test(text) ? text.replace(",", ".") : undefined
  if (normalised === undefined) return undefined
  const number = Number(normalised)
  return Number.isFinite(number) ? number : undefined
}

const daysBeforeMonth = (year: number, month: number): number => {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  return [0, 31, 28 + (leap ? 1 : 0), 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month] ?? 0
}

interface Instant {
  /** Days since 1970-01-01 of the calendar date as written. */
  readonly day: number
  /** Milliseconds since the epoch; a time without an offset is read as UTC, so results never depend on the machine. */
  readonly ms: number
  /** Whether only a date was written. */
  readonly dateOnly: boolean
}

const isoDateParts = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))?)?$/
const czechDateParts = /^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})$/

const instant = (
  year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number,
  offsetMinutes: number, dateOnly: boolean
): Instant | undefined => {
  if (month < 1 || month > 12 || day < 1 || day > daysBeforeMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 59 || Math.abs(offsetMinutes) > 23 * 60 + 59) return undefined
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999.
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  const days = date.getTime() / 86_400_000
  return { day: days, ms: days * 86_400_000 + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + ms, dateOnly }
}

/** Reads an ISO date (`2025-01-31`) or date-time (`2025-01-31T09:30:00+01:00`). */
const parseIsoDate = (text: string): Instant | undefined => {
  const m = isoDateParts.exec(text)
  if (m === null) return undefined
  const n = (i: number): number => Number(m[i] ?? 0)
  const offsetMinutes = m[9] === undefined ? 0 : (m[9] === "-" ? -1 : 1) * (n(10) * 60 + n(11))
  if (n(10) > 23 || n(11) > 59) return undefined
  const fraction = Number(`0.${m[7] ?? "0"}`) * 1000
  return instant(n(1), n(2), n(3), n(4), n(5), n(6), fraction, offsetMinutes, m[4] === undefined)
}

/** A cell as a date: ISO, or the Czech `31. 1. 2025` / `31.01.2025` that Czech Excel exports. */
const asDate = (value: Cell): Instant | undefined => {
  if (typeof value !== "string") return undefined
  const text = value.trim()
  const czech = czechDateParts.exec(text)
  return czech === null
    ? parseIsoDate(text)
    : instant(Number(czech[3]), Number(czech[2]), Number(czech[1]), 0, 0, 0, 0, 0, true)
}

/** Orders two dates; a date-only side compares by calendar day, so `created <= 2025-01-31` includes that whole day. */
const compareDates = (a: Instant, b: Instant): number =>
  a.dateOnly || b.dateOnly ? a.day - b.day : a.ms - b.ms

const text = (value: Cell): string =>
  value === null || value === undefined ? "" : String(value).trim().normalize("NFC")

const fold = (value: Cell): string => text(value).toLocaleLowerCase("cs")

const cell = (contact: Contact, column: string): Cell =>
  // Own keys only: a column called "constructor" must not find Object.prototype's.
  Object.hasOwn(contact, column) ? contact[column] : undefined

const isEqual = (cellValue: Cell, value: Value): boolean => {
  if (typeof value === "number") {
    const number = asNumber(cellValue)
    if (number !== undefined) return number === value
  } else {
    const filterDate = parseIsoDate(value)
    const cellDate = filterDate === undefined ? undefined : asDate(cellValue)
    if (filterDate !== undefined && cellDate !== undefined) return compareDates(cellDate, filterDate) === 0
  }
  return text(cellValue) === text(value)
}

/** Orders cell against value: numerically, or as dates; undefined when they are not comparable. */
const order = (cellValue: Cell, value: Value): number | undefined => {
  const a = asNumber(cellValue)
  const b = asNumber(value)
  if (a !== undefined && b !== undefined) return a - b
  const x = asDate(cellValue)
  const y = typeof value === "string" ? parseIsoDate(value.trim()) : undefined
  return x !== undefined && y !== undefined ? compareDates(x, y) : undefined
}

const ordered = (cellValue: Cell, value: Value, accept: (difference: number) => boolean): boolean => {
  const difference = order(cellValue, value)
  return difference !== undefined && accept(difference)
}

/**
 * Whether a contact matches a filter. Pure; the semantics, chosen so a filter does what an operator means:
 * - A missing column, `null`, `undefined` or blank text (after trim) is empty. `is empty` holds for exactly those.
 * - `=` / `!=`: when the filter's value is a number and the cell is numeric ("3", "3.0", " 3 ", Czech "3,5", or a
 *   number), compare numerically, so "3" = 3. When the filter's value is an ISO date and the cell is a date (ISO or
 *   Czech `31. 1. 2025`), compare as dates. Otherwise compare trimmed, NFC-normalised text, case-sensitively, so
 *   `zip = "01234"` stays textual. A missing column is "" and so `city != "Praha"` holds for it. `!=` is exactly `not =`.
 * - `contains` / `starts with`: trimmed text, case-insensitive in Czech rules (`toLocaleLowerCase("cs")`).
 * - `<` `<=` `>` `>=`: numerically when both sides are numeric, as dates when both are dates (by calendar day
 *   when either side is a date only; date-times without an offset are UTC), otherwise false — a non-numeric
 *   cell never satisfies `orders >= 3`, and neither does an empty one.
 * - `in`: `=` against any of the values.
 */
export const evaluate = (filter: Filter, contact: Contact): boolean => {
  switch (filter._tag) {
    case "Equals": return isEqual(cell(contact, filter.column), filter.value)
    case "NotEquals": return !isEqual(cell(contact, filter.column), filter.value)
    case "Contains": return fold(cell(contact, filter.column)).includes(fold(filter.value))
    case "StartsWith": return fold(cell(contact, filter.column)).startsWith(fold(filter.value))
    case "Lt": return ordered(cell(contact, filter.column), filter.value, (d) => d < 0)
    case "Lte": return ordered(cell(contact, filter.column), filter.value, (d) => d <= 0)
    case "Gt": return ordered(cell(contact, filter.column), filter.value, (d) => d > 0)
    case "Gte": return ordered(cell(contact, filter.column), filter.value, (d) => d >= 0)
    case "Empty": return text(cell(contact, filter.column)) === ""
    case "NotEmpty": return text(cell(contact, filter.column)) !== ""
    case "In": {
      const value = cell(contact, filter.column)
      return filter.values.some((v) => isEqual(value, v))
    }
    case "And": return filter.filters.every((f) => evaluate(f, contact))
    case "Or": return filter.filters.some((f) => evaluate(f, contact))
    case "Not": return !evaluate(filter.filter, contact)
  }
}

// ---------------------------------------------------------------------------
// Columns
// ---------------------------------------------------------------------------

/** The columns a filter reads, each once, in the order they first appear. */
export const columns = (filter: Filter): ReadonlyArray<string> => {
  const seen = new Set<string>()
  const visit = (f: Filter): void => {
    switch (f._tag) {
      case "And":
      case "Or": f.filters.forEach(visit); return
      case "Not": visit(f.filter); return
      default: seen.add(f.column)
    }
  }
  visit(filter)
  return [...seen]
}

// Case, diacritics and separators are the usual reasons a typed column name misses: "mesto" for "město".
const loosely = (name: string): string =>
  name.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase("cs").replace(/[\s_-]+/g, "")

/** Checks a filter against the directory's columns before it is saved or used, naming every unknown column. */
export const checkColumns = (filter: Filter, known: ReadonlyArray<string>): Result.Result<Filter, UnknownColumnsError> => {
  const knownSet = new Set(known)
  const unknown = columns(filter).filter((c) => !knownSet.has(c))
  if (unknown.length === 0) return Result.succeed(filter)
  const suggestions: Record<string, string> = {}
  for (const column of unknown) {
    const match = known.find((k) => loosely(k) === loosely(column))
    if (match !== undefined) suggestions[column] = match
  }
  const named = unknown.map((c) => suggestions[c] === undefined ? `"${c}"` : `"${c}" (did you mean "${suggestions[c]}"?)`)
  return Result.fail(new UnknownColumnsError({
    message: `unknown column${unknown.length === 1 ? "" : "s"} ${named.join(", ")}; the directory has: ${
      known.length === 0 ? "no columns" : known.map((k) => `"${k}"`).join(", ")}`,
    unknown,
    suggestions
  }))
}
