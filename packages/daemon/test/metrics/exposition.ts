// A checker of the Prometheus text exposition format 0.0.4, strict enough to catch what a scraper would reject:
// the line grammar, label value escaping, HELP/TYPE placement, families kept together, and histogram buckets.
// (No test-runner imports: any test may use it.)

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*"
const LABEL = "[a-zA-Z_][a-zA-Z0-9_]*"
// Inside a label value only \\, \" and \n may be escaped; a raw quote, backslash or line break may not appear.
const VALUE = "(?:[^\"\\\\\\n]|\\\\[\"\\\\n])*"
const NUMBER = "(?:NaN|[+-]Inf|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)"

const sampleLine = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}="${VALUE}",?)*)\\})? (${NUMBER})(?: (-?\\d+))?$`)
const labelPair = new RegExp(`(${LABEL})="(${VALUE})",?`, "g")
const helpLine = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`)
const typeLine = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)

/** One parsed sample. */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const unescape = (value: string): string => value.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c))

/** Every sample of the text, labels unescaped (lines that do not parse are left out; see {@link checkExposition}). */
export const samples = (text: string): ReadonlyArray<Sample> =>
  text.split("\n").flatMap((line) => {
    const m = sampleLine.exec(line)
    if (m === null || m[1] === undefined || m[3] === undefined) return []
    const labels: Record<string, string> = {}
    for (const pair of (m[2] ?? "").matchAll(labelPair)) if (pair[1] !== undefined) labels[pair[1]] = unescape(pair[2] ?? "")
    const raw = m[3]
    const value = raw === "+Inf" ? Number.POSITIVE_INFINITY : raw === "-Inf" ? Number.NEGATIVE_INFINITY : Number(raw)
    return [{ name: m[1], labels, value }]
  })

/** Everything wrong with an exposition text, one line per problem (empty when a scraper would accept it all). */
export const checkExposition = (text: string): Array<string> => {
  const problems: Array<string> = []
  if (text.length > 0 && !text.endsWith("\n")) problems.push("the text does not end with a line break")
  const types = new Map<string, string>()
  const helps = new Set<string>()
  const finished = new Set<string>()
  const sampled = new Set<string>()
  let current: string | undefined
  const familyOf = (name: string): string => {
    for (const suffix of ["_bucket", "_sum", "_count"]) {
      const base = name.slice(0, -suffix.length)
      if (name.endsWith(suffix) && (types.get(base) === "histogram" || types.get(base) === "summary")) return base
    }
    return name
  }
  const enter = (family: string, line: number) => {
    if (family === current) return
    if (current !== undefined) finished.add(current)
    if (finished.has(family)) problems.push(`line ${line}: family ${family} appears again after other families`)
    current = family
  }
  const buckets = new Map<string, Array<{ le: number; count: number }>>()
  const counts = new Map<string, number>()

  text.split("\n").forEach((line, index) => {
    const n = index + 1
    if (line === "") return
    if (line.startsWith("#")) {
      if (line.startsWith("# HELP ")) {
        const m = helpLine.exec(line)
        if (m === null || m[1] === undefined) return void problems.push(`line ${n}: malformed HELP: ${line}`)
        if (helps.has(m[1])) problems.push(`line ${n}: second HELP for ${m[1]}`)
        helps.add(m[1])
        enter(m[1], n)
      } else if (line.startsWith("# TYPE ")) {
        const m = typeLine.exec(line)
        if (m === null || m[1] === undefined || m[2] === undefined) return void problems.push(`line ${n}: malformed TYPE: ${line}`)
        if (types.has(m[1])) problems.push(`line ${n}: second TYPE for ${m[1]}`)
        if (sampled.has(m[1])) problems.push(`line ${n}: TYPE of ${m[1]} after its samples`)
        types.set(m[1], m[2])
        enter(m[1], n)
      }
      return
    }
    const m = sampleLine.exec(line)
    if (m === null || m[1] === undefined) return void problems.push(`line ${n}: not a sample line: ${JSON.stringify(line)}`)
    const [sample] = samples(line)
    if (sample === undefined) return void problems.push(`line ${n}: unreadable sample`)
    const family = familyOf(sample.name)
    enter(family, n)
    sampled.add(family)
    const labelNames = Object.keys(sample.labels)
    if (new Set(labelNames).size !== [...(m[2] ?? "").matchAll(labelPair)].length) problems.push(`line ${n}: a label appears twice`)
    if (types.get(family) === "counter" && !(sample.value >= 0)) problems.push(`line ${n}: counter ${sample.name} is negative or NaN`)
    if (types.get(family) === "histogram") {
      const { le, ...rest } = sample.labels
      const key = `${family}${JSON.stringify(rest)}`
      if (sample.name.endsWith("_bucket")) {
        if (le === undefined) return void problems.push(`line ${n}: histogram bucket without le`)
        const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le)
        buckets.set(key, [...(buckets.get(key) ?? []), { le: bound, count: sample.value }])
      } else if (sample.name.endsWith("_count")) counts.set(key, sample.value)
    }
  })

  for (const [key, list] of buckets) {
    for (let i = 1; i < list.length; i++) {
      const [before, after] = [list[i - 1], list[i]]
      if (before !== undefined && after !== undefined && (after.le <= before.le || after.count < before.count)) {
        problems.push(`${key}: buckets must ascend in le with non-decreasing counts`)
      }
    }
    const last = list.at(-1)
    if (last?.le !== Number.POSITIVE_INFINITY) problems.push(`${key}: no le="+Inf" bucket`)
    else if (counts.get(key) !== last.count) problems.push(`${key}: the +Inf bucket (${last.count}) differs from _count (${counts.get(key)})`)
  }
  return problems
}
