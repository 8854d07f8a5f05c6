// The core is pure: it may import only effect, libphonenumber-js and countries-and-timezones (data, no I/O) and itself.
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { describe, expect, it } from "vitest"

const srcDir = join(import.meta.dirname, "..", "src")
const allowed = [/^\.\.?\//, /^effect$/, /^effect\/(Schema|Result|Option|Array|Order|Equal|Data|Predicate|Function|Redacted|Duration|DateTime|Context|Effect|Clock|Random|Layer|Stream)$/, /^libphonenumber-js(\/max|\/min)?$/, /^countries-and-timezones$/]
const forbiddenGlobals = [/\bDate\.now\(/, /\bMath\.random\(/, /\bprocess\./, /\bfetch\(/, /\brequire\(/]

const sources = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []))

const importsOf = (code: string): ReadonlyArray<string> =>
  [...code.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2] ?? "")

describe("packages/core does no I/O", () => {
  it("imports only effect, libphonenumber-js, countries-and-timezones and its own modules", () => {
    const files = sources(srcDir)
    expect(files.length).toBeGreaterThan(8)
    const offenders = files.flatMap((file) => importsOf(readFileSync(file, "utf8"))
      .filter((spec) => !allowed.some((re) => re.test(spec)))
      .map((spec) => `${relative(srcDir, file)} imports ${spec}`))
    expect(offenders).toEqual([])
  })

  it("reads no clock, randomness, environment or network of its own", () => {
    const offenders = sources(srcDir).flatMap((file) => {
      const code = readFileSync(file, "utf8").replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "")
      return forbiddenGlobals.filter((re) => re.test(code)).map((re) => `${relative(srcDir, file)} uses ${re.source}`)
    })
    expect(offenders).toEqual([])
  })

  it("the check itself catches a forbidden import", () => {
    expect(importsOf(`import { readFileSync } from "node:fs"\nimport * as X from "./X.ts"`)).toEqual(["node:fs", "./X.ts"])
  })
})
