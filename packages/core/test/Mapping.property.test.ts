import { Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Mapping from "../src/Mapping.ts"
import * as Template from "../src/Template.ts"

// Graph JSON of a sendable template: positional or named, optional text/image header, optional variable buttons.
const templateJson = fc.record({
  format: fc.constantFrom("POSITIONAL" as const, "NAMED" as const),
  bodyVariables: fc.integer({ min: 0, max: 6 }),
  repeatFirst: fc.boolean(),
  fixedText: fc.string({ maxLength: 300 }).map((text) => text.replace(/[{}]/g, "")),
  header: fc.constantFrom("none", "text", "fixed", "image", "video", "document"),
  urlButton: fc.boolean(),
  couponButton: fc.boolean()
}).map(({ format, bodyVariables, repeatFirst, fixedText, header, urlButton, couponButton }) => {
  const name = (i: number) => (format === "NAMED" ? `var_${i}` : String(i))
  const placeholders = Array.from({ length: bodyVariables }, (_, i) => `{{${name(bodyVariables - i)}}}`)
  const body = `${fixedText} ${placeholders.join(" and ")}${repeatFirst && bodyVariables > 0 ? ` again {{${name(1)}}}` : ""}.`
  const components: Array<unknown> = []
  if (header === "text") components.push({ type: "HEADER", format: "TEXT", text: `Order {{${format === "NAMED" ? "order" : "1"}}}` })
  if (header === "fixed") components.push({ type: "HEADER", format: "TEXT", text: "Your order" })
  if (header === "image") components.push({ type: "HEADER", format: "IMAGE" })
  if (header === "video") components.push({ type: "HEADER", format: "VIDEO" })
  if (header === "document") components.push({ type: "HEADER", format: "DOCUMENT" })
  components.push({ type: "BODY", text: body })
  const buttons: Array<unknown> = [{ type: "QUICK_REPLY", text: "Stop" }]
  if (urlButton) buttons.push({ type: "URL", text: "Open", url: "https://shop.example/o/{{1}}" })
  if (couponButton) buttons.push({ type: "COPY_CODE", example: "CODE" })
  components.push({ type: "BUTTONS", buttons })
  return { id: "1", name: "generated", language: "cs", status: "APPROVED", category: "UTILITY", parameter_format: format, components }
}).map((json) => {
  const decoded = Template.decode(json)
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.message)
  return decoded.success
})

// Contact values as they arrive from real CSVs: blanks, line breaks, tabs, runs of spaces, long text, links.
const cell = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("", " ", "\t", "pane", "a\nb", "a\tb", "x     y", "x    y", "https://cdn.example/a.jpg", "http://x.example", "SPRING25",
    "1215647396592284", "https://cdn.example/Faktura%2042.pdf", "https://cdn.example/a b.pdf", "ftp://cdn.example/a.pdf"),
  fc.string({ unit: fc.constantFrom("a", " ", "\n", "\t", "é", "/"), maxLength: 30 }),
  fc.string({ unit: fc.constantFrom("x", "y"), minLength: 10, maxLength: 1100 }),
  // Each fits alone, but two or three together overflow the body: the limit after hydration.
  fc.integer({ min: 200, max: 700 }).map((length) => "w".repeat(length))
)

const columns = Array.from({ length: 10 }, (_, i) => `c${i}`)
const row = fc.dictionary(fc.constantFrom("phone", ...columns), fc.option(cell, { nil: undefined }))

// A default that passes every rule of its variable: what validate accepts.
const defaultFor = (variable: Template.TemplateVariable): string => {
  if (variable.kind === "image" || variable.kind === "document" || variable.kind === "video") return "https://cdn.example/default"
  return variable.kind === "coupon_code" ? "WELCOME" : "zákazníku"
}

const mappingOf = (template: Template.Template, withDefaults: boolean): Mapping.ValidMapping => {
  const variables = Template.variables(template)
  const sources = Object.fromEntries(variables.map((variable, i) => {
    const column = columns[i] ?? "c0"
    return [variable.key, withDefaults ? { column, default: defaultFor(variable) } : { column }]
  }))
  const mapping = Mapping.validate(template, { phoneColumn: "phone", variables: sources }, ["phone", ...columns])
  if (Result.isFailure(mapping)) throw new Error(mapping.failure.message)
  return mapping.success
}

const isMedia = (variable: Template.TemplateVariable) => variable.kind === "image" || variable.kind === "document" || variable.kind === "video"

describe("Mapping properties", () => {
  it("a default for every variable never yields an empty parameter", () => {
    fc.assert(fc.property(templateJson, row, (template, contact) => {
      const result = Mapping.resolve(template, mappingOf(template, true), contact)
      if (Result.isSuccess(result)) {
        expect(result.success.values).toHaveLength(Template.variables(template).length)
        for (const value of result.success.values) expect(value.value.trim()).not.toBe("")
      } else {
        expect(result.failure.problems.map((problem) => problem.rule)).not.toContain("empty")
      }
    }), { numRuns: 500 })
  })

  it("every resolved value satisfies Meta's parameter rules", () => {
    fc.assert(fc.property(templateJson, fc.boolean(), row, (template, withDefaults, contact) => {
      const result = Mapping.resolve(template, mappingOf(template, withDefaults), contact)
      if (Result.isFailure(result)) {
        expect(result.failure.problems.length).toBeGreaterThan(0)
        return
      }
      const byKey = Mapping.toRecord(result.success)
      for (const { variable, value } of result.success.values) {
        expect(value).not.toBe("")
        expect(value.length).toBeLessThanOrEqual(variable.maxLength)
        if (isMedia(variable)) expect(/^\d+$/.test(value) || (new URL(value).protocol === "https:" && !/\s/.test(value))).toBe(true)
        else if (variable.kind === "url_suffix") expect(value).not.toMatch(/\s/)
        else {
          expect(value).not.toMatch(/[\n\r\t]/)
          expect(value).not.toMatch(/ {5}/)
        }
        if (variable.kind === "coupon_code") expect(value.length).toBeLessThanOrEqual(15)
      }
      const { header, body } = Template.texts(template)
      if (header !== undefined) expect(Template.hydrate(header, (name) => byKey[`header.${name}`]).length).toBeLessThanOrEqual(60)
      if (body !== undefined) expect(Template.hydrate(body, (name) => byKey[name]).length).toBeLessThanOrEqual(1024)
    }), { numRuns: 500 })
  })

  it("the payload has exactly as many body parameters as the body has placeholders", () => {
    fc.assert(fc.property(templateJson, (template) => {
      // An empty contact: every value comes from its (valid) default.
      const resolved = Mapping.resolve(template, mappingOf(template, true), {})
      if (Result.isFailure(resolved)) throw new Error(resolved.failure.message)
      const payload = Mapping.buildPayload(template, "420601123456", resolved.success)
      if (Result.isFailure(payload)) throw new Error(payload.failure.message)
      const bodyComponent = payload.success.template.components.find((component) => component.type === "body")
      const expected = Template.placeholders(Template.texts(template).body ?? "").length
      expect(bodyComponent?.parameters.length ?? 0).toBe(expected)
      if (expected === 0) expect(bodyComponent).toBeUndefined()
    }), { numRuns: 300 })
  })

  it("a media header value is sent exactly when it is an https link or a media id, as one parameter of the header's kind", () => {
    const mediaValue = fc.oneof(
      cell,
      fc.webUrl({ validSchemes: ["https", "http"], withQueryParameters: true, withFragments: true }),
      fc.stringMatching(/^[0-9]{1,20}$/),
      fc.string({ unit: fc.constantFrom("a", "/", ".", ":", "%", " ", "1"), maxLength: 30 }).map((path) => `https://cdn.example/${path}`)
    )
    fc.assert(fc.property(fc.constantFrom("IMAGE" as const, "VIDEO" as const, "DOCUMENT" as const), mediaValue, (format, value) => {
      const template = Template.decode({ id: "1", name: "media", language: "cs", status: "APPROVED", category: "MARKETING", components: [{ type: "HEADER", format }] })
      if (Result.isFailure(template)) throw new Error(template.failure.message)
      const kind = format.toLowerCase()
      const resolved = Mapping.resolve(template.success, mappingOf(template.success, false), { c0: value })
      const trimmed = value.trim()
      const link = URL.canParse(trimmed) ? new URL(trimmed) : undefined
      const acceptable = trimmed !== "" && trimmed.length <= Template.LIMITS.mediaLink &&
        (/^\d+$/.test(trimmed) || (link?.protocol === "https:" && link.hostname !== "" && !/\s/.test(trimmed)))
      expect(Result.isSuccess(resolved)).toBe(acceptable)
      if (Result.isFailure(resolved)) {
        expect(resolved.failure.problems.every((problem) => problem.variable === `header.${kind}`)).toBe(true)
        return
      }
      const payload = Mapping.buildPayload(template.success, "420601123456", resolved.success)
      if (Result.isFailure(payload)) throw new Error(payload.failure.message)
      const components = payload.success.template.components
      expect(components).toHaveLength(1)
      const parameters = components[0]?.type === "header" ? components[0].parameters : []
      expect(parameters).toHaveLength(1)
      const parameter = parameters[0] as unknown as Record<string, Record<string, string>>
      expect(parameter["type"]).toBe(kind)
      const media = parameter[kind] ?? {}
      // Exactly one source: the id when the value is digits, else the link; a filename only on a document link.
      expect(Object.keys(media).filter((key) => key === "link" || key === "id")).toEqual([/^\d+$/.test(trimmed) ? "id" : "link"])
      expect(media["link"] ?? media["id"]).toBe(trimmed)
      if (media["filename"] !== undefined) {
        expect(kind).toBe("document")
        expect(media["filename"]).not.toMatch(/\//)
        expect(media["filename"].trim()).not.toBe("")
      }
    }), { numRuns: 500 })
  })
})
