import { Result } from "effect"
import { describe, expect, it } from "vitest"
import * as Mapping from "../src/Mapping.ts"
import * as Template from "../src/Template.ts"

const decoded = (input: unknown): Template.Template => {
  const result = Template.decode(input)
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}

const success = <A, E>(result: Result.Result<A, E>): A => {
  if (Result.isFailure(result)) throw new Error(`expected success, got ${String(result.failure)}`)
  return result.success
}

const failure = <A, E>(result: Result.Result<A, E>): E => {
  if (Result.isSuccess(result)) throw new Error(`expected failure, got ${JSON.stringify(result.success)}`)
  return result.failure
}

// The seed's story: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena."
const orderDone = decoded({
  id: "1001",
  name: "order_done",
  language: "cs",
  status: "APPROVED",
  category: "UTILITY",
  components: [{ type: "BODY", text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena." }]
})

const namedTemplate = decoded({
  id: "2001",
  name: "spring_sale",
  language: "cs",
  status: "APPROVED",
  category: "MARKETING",
  parameter_format: "NAMED",
  components: [
    { type: "HEADER", format: "IMAGE" },
    { type: "BODY", text: "Ahoj {{first_name}}, sleva {{discount}} platí do pátku." },
    { type: "FOOTER", text: "Odhlášení: napište STOP" }
  ]
})

const shipping = decoded({
  id: "3001",
  name: "order_shipped",
  language: "en",
  status: "APPROVED",
  category: "UTILITY",
  components: [
    { type: "HEADER", format: "TEXT", text: "Order {{1}}" },
    { type: "BODY", text: "Hi {{1}}, your parcel is on its way." },
    {
      type: "BUTTONS",
      buttons: [
        { type: "URL", text: "Track", url: "https://shop.example/track/{{1}}" },
        { type: "QUICK_REPLY", text: "Stop" },
        { type: "COPY_CODE", example: "THANKS10" }
      ]
    }
  ]
})

const csvHeader = ["phone", "salutation", "name", "order number"]

describe("the seed's order-confirmation story (positional CSV)", () => {
  it("turns a CSV row into the exact Cloud API body", () => {
    const mapping = success(Mapping.fromCsvHeader(orderDone, csvHeader))
    const row = Mapping.csvRow(csvHeader, ["+420 601 123 456", "pane", "Novák", "2024-0042"])
    const resolved = success(Mapping.resolve(orderDone, mapping, row))
    expect(success(Mapping.buildPayload(orderDone, "420601123456", resolved, { bizOpaqueCallbackData: "campaign42:contact977" }))).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "420601123456",
      type: "template",
      biz_opaque_callback_data: "campaign42:contact977",
      template: {
        name: "order_done",
        language: { code: "cs", policy: "deterministic" },
        components: [{
          type: "body",
          parameters: [{ type: "text", text: "pane" }, { type: "text", text: "Novák" }, { type: "text", text: "2024-0042" }]
        }]
      }
    })
    expect(Mapping.toRecord(resolved)).toEqual({ 1: "pane", 2: "Novák", 3: "2024-0042" })
  })

  it("fills an empty salutation with the default, and says it did", () => {
    const mapping = success(Mapping.fromCsvHeader(orderDone, csvHeader, { 1: "  pane/paní " }))
    const resolved = success(Mapping.resolve(orderDone, mapping, { phone: "601123456", salutation: "  ", name: "Nováková", "order number": "7" }))
    expect(resolved.values.map((value) => [value.value, value.source])).toEqual([["pane/paní", "default"], ["Nováková", "contact"], ["7", "contact"]])
  })

  it("refuses a CSV with a missing column before anything is added", () => {
    const error = failure(Mapping.fromCsvHeader(orderDone, ["phone", "salutation", "name"]))
    expect(error._tag).toBe("MappingError")
    expect(error.issues).toHaveLength(1)
    expect(error.issues[0]).toMatchObject({ code: "csv_missing_columns" })
    expect(error.issues[0]?.explanation).toContain("Missing: 3")
    expect(error.message).toContain("template-csv")
  })

  it("refuses a CSV with extra or duplicate columns, listing both", () => {
    const error = failure(Mapping.fromCsvHeader(orderDone, ["phone", "a", "a", "c", "note"]))
    expect(error.issues.map((issue) => issue.code)).toEqual(["csv_duplicate_column", "csv_extra_columns"])
    expect(error.issues[1]?.explanation).toContain(`Extra: "note"`)
  })

  it("refuses an empty header, naming every column it needs", () => {
    const error = failure(Mapping.fromCsvHeader(orderDone, []))
    expect(error.issues[0]?.explanation).toContain("Missing: phone, 1, 2, 3")
  })

  it("reports defaults for variables the template does not have, with the column problems", () => {
    const error = failure(Mapping.fromCsvHeader(orderDone, ["phone"], { 9: "x" }))
    expect(error.issues.map((issue) => issue.code)).toEqual(["csv_missing_columns", "unknown_variable"])
  })

  it("generates the blank CSV with a line of help per column", () => {
    const blank = Mapping.blankCsv(orderDone)
    expect(blank.header).toEqual(["phone", "1", "2", "3"])
    expect(blank.csv).toBe("phone,1,2,3\r\n")
    expect(blank.docs[0]).toContain("phone number with country code")
    expect(blank.docs[1]).toMatch(/^1: Body \{\{1\}\}; at most \d+ characters$/)
    expect(Mapping.blankCsv(namedTemplate).docs[1]).toBe(
      "header.image: Header image (https link or media id); an https link anyone can download, or the id of an image uploaded to Meta"
    )
  })
})

describe("directory mapping (SPEC §4 A)", () => {
  const columns = ["tel", "salutation", "surname", "order", "email"]

  it("maps columns and defaults onto variables", () => {
    const mapping = success(Mapping.validate(orderDone, {
      phoneColumn: "tel",
      variables: { 1: { column: "salutation", default: "pane" }, 2: { column: "surname" }, 3: { default: "bez čísla" } }
    }, columns))
    expect(mapping.phoneColumn).toBe("tel")
    expect(mapping.bindings.map((binding) => [binding.variable.key, binding.column, binding.default])).toEqual([
      ["1", "salutation", "pane"], ["2", "surname", undefined], ["3", undefined, "bez čísla"]
    ])
  })

  it("lists everything wrong in one error, each with its fix", () => {
    const error = failure(Mapping.validate(orderDone, {
      phoneColumn: "Phone",
      variables: { 1: { column: "Salutation " }, 2: { column: "", default: "  " }, 4: { column: "email" } }
    }, ["phone", "salutation", "name"]))
    expect(error.issues.map((issue) => [issue.code, issue.variable ?? issue.column])).toEqual([
      ["phone_column_missing", "Phone"],
      ["unknown_variable", "4"],
      ["unknown_column", "1"],
      ["variable_unmapped", "2"],
      ["variable_unmapped", "3"]
    ])
    expect(error.issues[0]?.fix).toBe(`Did you mean "phone"?`)
    expect(error.issues[1]?.fix).toContain("Its variables are: 1, 2, 3")
    expect(error.issues[2]?.fix).toBe(`Did you mean "salutation"?`)
    expect(error.issues[3]?.fix).toBe("Map it to a column (--var 2=COLUMN) or give a default (--default 2=VALUE).")
    expect(error.message.split("\n")).toHaveLength(6)
    expect(error.template).toBe("order_done (cs)")
  })

  it("reports an unchosen phone column and far-off column names", () => {
    const error = failure(Mapping.validate(orderDone, { phoneColumn: " ", variables: { 1: { column: "x" }, 2: { default: "a" }, 3: { default: "b" } } }, ["a"]))
    expect(error.issues.map((issue) => issue.code)).toEqual(["phone_column_missing", "unknown_column"])
    expect(error.issues[1]?.fix).toBe(`Use one of the columns: "a".`)
  })

  it("checks defaults against Meta's rules before anything is added", () => {
    const error = failure(Mapping.validate(orderDone, { phoneColumn: "tel", variables: { 1: { default: "a\nb" }, 2: { column: "surname" }, 3: { column: "order" } } }, columns))
    expect(error.issues).toMatchObject([{ code: "invalid_default", variable: "1" }])
  })

  it("refuses a template whose placeholders are broken", () => {
    const gap = decoded({ ...orderDone, components: [{ type: "BODY", text: "{{1}} {{3}}" }] })
    const error = failure(Mapping.validate(gap, { phoneColumn: "tel", variables: { 1: { default: "a" }, 3: { default: "b" } } }, columns))
    expect(error.issues.map((issue) => issue.code)).toEqual(["template_invalid"])
  })

  it("maps a template without variables to just the phone column", () => {
    const plain = decoded({ ...orderDone, components: [{ type: "BODY", text: "Hello." }] })
    const mapping = success(Mapping.validate(plain, { phoneColumn: "tel", variables: {} }, columns))
    const resolved = success(Mapping.resolve(plain, mapping, { tel: "601123456" }))
    const payload = success(Mapping.buildPayload(plain, "420601123456", resolved))
    expect(payload.template.components).toEqual([])
    expect(payload).not.toHaveProperty("biz_opaque_callback_data")
    expect(failure(Mapping.validate(plain, { phoneColumn: "tel", variables: { 1: { column: "tel" } } }, columns)).issues[0]?.fix).toContain("(none)")
  })
})

describe("Mapping.resolve", () => {
  const mapping = success(Mapping.fromCsvHeader(orderDone, csvHeader))
  const row = (salutation: string, name: string, order: string) => ({ phone: "601123456", salutation, name, "order number": order })

  it("never sends a blank: an empty value without default names the variable", () => {
    const error = failure(Mapping.resolve(orderDone, mapping, { phone: "601123456", salutation: "pane", name: " " }))
    expect(error.problems.map((problem) => [problem.variable, problem.rule])).toEqual([["2", "empty"], ["3", "empty"]])
    expect(error.problems[0]?.fix).toContain(`column "name"`)
    expect(error.message).toContain("2: Variable 2 (Body {{2}}) is empty")
  })

  it("lists every broken rule of a row with an excerpt of the value", () => {
    const error = failure(Mapping.resolve(orderDone, mapping, row("pane\nNovák", "a\tb", `x${" ".repeat(5)}y${"z".repeat(1000)}`)))
    expect(error.problems.map((problem) => [problem.variable, problem.rule])).toEqual([
      ["1", "line_break"], ["2", "tab"], ["3", "consecutive_spaces"], ["3", "too_long"]
    ])
    expect(error.problems[3]?.value).toHaveLength(41)
  })

  it("trims values and allows four spaces in a row", () => {
    const resolved = success(Mapping.resolve(orderDone, mapping, row(" pane ", "Novák    Jr.", "42\n")))
    expect(Mapping.toRecord(resolved)).toEqual({ 1: "pane", 2: "Novák    Jr.", 3: "42" })
  })

  it("checks the body length after hydration, when no single value is too long", () => {
    const long = "x".repeat(400)
    const error = failure(Mapping.resolve(orderDone, mapping, row(long, long, long)))
    expect(error.problems).toHaveLength(1)
    expect(error.problems[0]).toMatchObject({ variable: "1,2,3", rule: "too_long_after_hydration" })
    expect(error.problems[0]?.explanation).toContain("Meta allows 1024")
  })

  it("checks the header length after hydration, header text 60", () => {
    const headerOnly = decoded({ ...orderDone, components: [{ type: "HEADER", format: "TEXT", text: "{{1}} and {{1}}" }] })
    const headerMapping = success(Mapping.validate(headerOnly, { phoneColumn: "p", variables: { "header.1": { column: "h" } } }, ["p", "h"]))
    expect(success(Mapping.resolve(headerOnly, headerMapping, { h: "y".repeat(27) })).values).toHaveLength(1)
    expect(failure(Mapping.resolve(headerOnly, headerMapping, { h: "y".repeat(28) })).problems[0]?.rule).toBe("too_long_after_hydration")
  })
})

describe("named parameters", () => {
  const columns = ["phone", "first", "discount", "banner"]
  const mapping = success(Mapping.validate(namedTemplate, {
    phoneColumn: "phone",
    variables: { "header.image": { column: "banner", default: "https://cdn.example/spring.jpg" }, first_name: { column: "first" }, discount: { default: "20 %" } }
  }, columns))

  it("sends parameter_name and the media header by link", () => {
    const resolved = success(Mapping.resolve(namedTemplate, mapping, { phone: "+420601123456", first: "Anna" }))
    expect(success(Mapping.buildPayload(namedTemplate, "420601123456", resolved)).template.components).toEqual([
      { type: "header", parameters: [{ type: "image", image: { link: "https://cdn.example/spring.jpg" } }] },
      { type: "body", parameters: [{ type: "text", parameter_name: "first_name", text: "Anna" }, { type: "text", parameter_name: "discount", text: "20 %" }] }
    ])
  })

  it("refuses media links that are not https", () => {
    for (const banner of ["http://cdn.example/a.jpg", "cdn.example/a.jpg", "https://cdn.example/a b.jpg"]) {
      const error = failure(Mapping.resolve(namedTemplate, mapping, { first: "Anna", banner }))
      expect(error.problems.map((problem) => problem.rule)).toEqual(["not_https_link"])
    }
  })

  it("sends video and document headers by link", () => {
    for (const format of ["VIDEO", "DOCUMENT"] as const) {
      const template = decoded({ ...namedTemplate, components: [{ type: "HEADER", format }] })
      const key = `header.${format.toLowerCase()}`
      const media = success(Mapping.validate(template, { phoneColumn: "phone", variables: { [key]: { column: "banner" } } }, columns))
      const resolved = success(Mapping.resolve(template, media, { banner: "https://cdn.example/x" }))
      const kind = format === "VIDEO" ? "video" : "document"
      expect(success(Mapping.buildPayload(template, "1", resolved)).template.components).toEqual([
        { type: "header", parameters: [{ type: kind, [kind]: { link: "https://cdn.example/x" } }] }
      ])
    }
  })
})

describe("text header, URL button and copy code", () => {
  const header = ["phone", "order", "name", "tracking", "coupon"]
  const mapping = success(Mapping.fromCsvHeader(shipping, header))

  it("keys them header.1, button.0, button.2 in the blank CSV", () => {
    expect(Mapping.blankCsv(shipping).header).toEqual(["phone", "header.1", "1", "button.0", "button.2"])
    expect(Mapping.blankCsv(shipping).docs[4]).toContain(`e.g. "THANKS10"; at most 15 characters`)
  })

  it("builds header, body and button components with their indexes", () => {
    const resolved = success(Mapping.resolve(shipping, mapping, Mapping.csvRow(header, ["+44 7911 123456", "A-17", "Anna", "Z123/4", "THANKS10"])))
    expect(success(Mapping.buildPayload(shipping, "447911123456", resolved)).template).toEqual({
      name: "order_shipped",
      language: { code: "en", policy: "deterministic" },
      components: [
        { type: "header", parameters: [{ type: "text", text: "A-17" }] },
        { type: "body", parameters: [{ type: "text", text: "Anna" }] },
        { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: "Z123/4" }] },
        { type: "button", sub_type: "copy_code", index: "2", parameters: [{ type: "coupon_code", coupon_code: "THANKS10" }] }
      ]
    })
  })

  it("refuses a coupon over 15 characters and a URL suffix with spaces", () => {
    const error = failure(Mapping.resolve(shipping, mapping, { order: "A", name: "Anna", tracking: "Z 1", coupon: "THIS-IS-TOO-LONG" }))
    expect(error.problems.map((problem) => [problem.variable, problem.rule])).toEqual([["button.0", "whitespace_in_url"], ["button.2", "too_long"]])
  })
})

describe("Mapping.buildPayload errors", () => {
  const mapping = success(Mapping.fromCsvHeader(orderDone, csvHeader))
  const resolved = success(Mapping.resolve(orderDone, mapping, { salutation: "pane", name: "Novák", "order number": "1" }))

  it("refuses biz_opaque_callback_data over 512 characters", () => {
    expect(Result.isSuccess(Mapping.buildPayload(orderDone, "1", resolved, { bizOpaqueCallbackData: "x".repeat(512) }))).toBe(true)
    const error = failure(Mapping.buildPayload(orderDone, "1", resolved, { bizOpaqueCallbackData: "x".repeat(513) }))
    expect(error._tag).toBe("CallbackDataTooLong")
    expect(error.message).toContain("513")
  })

  it("refuses parameters resolved for another template", () => {
    const error = failure(Mapping.buildPayload(shipping, "1", resolved))
    expect(error._tag).toBe("ParametersForAnotherTemplate")
    expect(error.message).toContain("order_done (cs)")
  })
})

describe("Mapping.fromRecord", () => {
  it("rebuilds the stored values into the same payload resolve gave", () => {
    const mapping = success(Mapping.fromCsvHeader(orderDone, ["phone", "a", "b", "c"]))
    const resolved = success(Mapping.resolve(orderDone, mapping, { phone: "+420601000001", a: "pane", b: "Novák", c: "42" }))
    const rebuilt = success(Mapping.fromRecord(orderDone, Mapping.toRecord(resolved)))
    expect(rebuilt.values.map((value) => [value.variable.key, value.value])).toEqual([["1", "pane"], ["2", "Novák"], ["3", "42"]])
    expect(success(Mapping.buildPayload(orderDone, "420601000001", rebuilt))).toEqual(
      success(Mapping.buildPayload(orderDone, "420601000001", resolved))
    )
  })

  it("names every variable the stored values lack or that Meta would refuse", () => {
    const error = failure(Mapping.fromRecord(orderDone, { 1: "pane", 3: "a\nb" }))
    expect(error.problems.map((problem) => [problem.variable, problem.rule])).toEqual([["2", "empty"], ["3", "line_break"]])
  })
})

describe("media header templates (issue 11)", () => {
  const withHeader = (format: "IMAGE" | "VIDEO" | "DOCUMENT") =>
    decoded({
      id: "4001",
      name: `catalog_${format.toLowerCase()}`,
      language: "cs",
      status: "APPROVED",
      category: "MARKETING",
      components: [
        { type: "HEADER", format, example: { header_handle: ["4::aW1hZ2UvanBlZw==:ARa1ZDhw"] } },
        { type: "BODY", text: "Dobrý den, {{1}}, posíláme jarní katalog." }
      ]
    })
  const image = withHeader("IMAGE")
  const video = withHeader("VIDEO")
  const document = withHeader("DOCUMENT")
  const header = ["phone", "media", "name"]

  /** The header component of the payload for one CSV row of `template`. */
  const headerOf = (template: Template.Template, media: string, defaults: Readonly<Record<string, string>> = {}) => {
    const mapping = success(Mapping.fromCsvHeader(template, header, defaults))
    const resolved = success(Mapping.resolve(template, mapping, Mapping.csvRow(header, ["+420601123456", media, "Jano"])))
    return success(Mapping.buildPayload(template, "420601123456", resolved)).template.components[0]
  }

  it("is a variable of its own, before the body's, in the blank CSV; an upload handle is no example", () => {
    expect(Template.variables(image).map((variable) => [variable.key, variable.kind, variable.example])).toEqual([
      ["header.image", "image", undefined],
      ["1", "text", undefined]
    ])
    expect(Mapping.blankCsv(document).header).toEqual(["phone", "header.document", "1"])
    const sample = decoded({ ...image, components: [{ type: "HEADER", format: "IMAGE", example: { header_handle: ["https://scontent.whatsapp.net/a.jpg"] } }] })
    expect(Template.variables(sample)[0]?.example).toBe("https://scontent.whatsapp.net/a.jpg")
    expect(Template.headerKind(image)).toBe("image")
    expect(Template.headerKind(shipping)).toBe("text")
    expect(Template.headerKind(orderDone)).toBeUndefined()
  })

  it("sends Meta's documented shapes: a link or a media id per kind", () => {
    expect(headerOf(image, "https://cdn.example.com/jaro.jpg")).toEqual(
      { type: "header", parameters: [{ type: "image", image: { link: "https://cdn.example.com/jaro.jpg" } }] }
    )
    expect(headerOf(image, "1215647396592284")).toEqual({ type: "header", parameters: [{ type: "image", image: { id: "1215647396592284" } }] })
    expect(headerOf(video, "https://cdn.example.com/jaro.mp4?v=2")).toEqual(
      { type: "header", parameters: [{ type: "video", video: { link: "https://cdn.example.com/jaro.mp4?v=2" } }] }
    )
    expect(headerOf(video, "987654321")).toEqual({ type: "header", parameters: [{ type: "video", video: { id: "987654321" } }] })
  })

  it("names a document after its link's file, which the recipient sees; an id or a link without a file name has none", () => {
    expect(headerOf(document, "https://cdn.example.com/faktury/Faktura%202024-42.pdf")).toEqual({
      type: "header",
      parameters: [{ type: "document", document: { link: "https://cdn.example.com/faktury/Faktura%202024-42.pdf", filename: "Faktura 2024-42.pdf" } }]
    })
    expect(headerOf(document, "1215647396592284")).toEqual({ type: "header", parameters: [{ type: "document", document: { id: "1215647396592284" } }] })
    expect(headerOf(document, "https://cdn.example.com/invoice?id=42")).toEqual(
      { type: "header", parameters: [{ type: "document", document: { link: "https://cdn.example.com/invoice?id=42" } }] }
    )
    expect(Mapping.documentFilename("https://cdn.example.com/a/%E0%A4%A.pdf")).toBe("%E0%A4%A.pdf")
    expect(Mapping.documentFilename("https://cdn.example.com/a/x%2Fy.pdf")).toBe("x_y.pdf")
    expect(Mapping.documentFilename("https://cdn.example.com/.hidden")).toBeUndefined()
  })

  it("takes a fixed value per campaign as the default of an empty column", () => {
    expect(headerOf(image, "", { "header.image": "https://cdn.example.com/default.jpg" })).toEqual(
      { type: "header", parameters: [{ type: "image", image: { link: "https://cdn.example.com/default.jpg" } }] }
    )
    // A directory mapping: no column at all, the same link for every contact.
    const fixed = success(Mapping.validate(image, { phoneColumn: "phone", variables: { "header.image": { default: "https://cdn.example.com/a.jpg" }, 1: { column: "name" } } }, ["phone", "name"]))
    expect(success(Mapping.resolve(image, fixed, { phone: "+420601123456", name: "Jano" })).values[0]).toMatchObject({ value: "https://cdn.example.com/a.jpg", source: "default" })
  })

  it("refuses what is neither an https link nor a media id, naming the column, with how to fix it", () => {
    const mapping = success(Mapping.fromCsvHeader(image, header))
    const refused = (media: string) => failure(Mapping.resolve(image, mapping, Mapping.csvRow(header, ["+420601123456", media, "Jano"]))).problems
    for (const media of ["http://cdn.example.com/a.jpg", "ftp://cdn.example.com/a.jpg", "cdn.example.com/a.jpg", "https://cdn.example.com/a b.jpg", "12 34", "-5"]) {
      const problems = refused(media)
      expect(problems.map((problem) => [problem.variable, problem.rule])).toEqual([["header.image", "not_https_link"]])
      expect(problems[0]?.explanation).toContain(`(column "media")`)
      expect(problems[0]?.fix).toContain("https://")
    }
    expect(refused("http://cdn.example.com/a.jpg")[0]?.explanation).toBe(
      `"http://cdn.example.com/a.jpg" (column "media") is not an https link; media links are sent over https only.`
    )
    expect(refused("https://cdn.example.com/a b.jpg")[0]?.fix).toContain("%20")
    expect(refused("x".repeat(2100)).map((problem) => problem.rule)).toEqual(["not_https_link", "too_long"])
    // A bad default is one mapping error before any contact.
    const error = failure(Mapping.fromCsvHeader(image, header, { "header.image": "http://cdn.example.com/a.jpg" }))
    expect(error.issues.map((issue) => [issue.code, issue.variable])).toEqual([["invalid_default", "header.image"]])
    expect(error.message).toContain("The default of variable header.image: \"http://cdn.example.com/a.jpg\" is not an https link")
  })

  it("checks stored values again before sending", () => {
    expect(success(Mapping.fromRecord(image, { "header.image": "55", 1: "Jano" })).values[0]?.value).toBe("55")
    expect(failure(Mapping.fromRecord(image, { "header.image": "http://x.example/a.jpg", 1: "Jano" })).problems.map((problem) => problem.rule)).toEqual(["not_https_link"])
  })
})
