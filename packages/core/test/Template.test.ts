import { Result } from "effect"
import { describe, expect, it } from "vitest"
import * as Template from "../src/Template.ts"

const decoded = (input: unknown): Template.Template => {
  const result = Template.decode(input)
  if (Result.isFailure(result)) throw new Error(result.failure.message)
  return result.success
}

// The seed's order-confirmation template, as Graph returns it.
const orderDoneJson = {
  id: "1001",
  name: "order_done",
  language: "cs",
  status: "APPROVED",
  category: "UTILITY",
  components: [{
    type: "BODY",
    text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena.",
    example: { body_text: [["pane", "Nováku", "2024-0001"]] }
  }]
}

const springSaleJson = {
  id: "1689556908129832",
  name: "spring_sale",
  language: "cs",
  status: "APPROVED",
  category: "MARKETING",
  parameter_format: "NAMED",
  quality_score: { score: "GREEN", date: 1739321024 },
  rejected_reason: "NONE",
  previous_category: "UTILITY",
  components: [
    { type: "HEADER", format: "IMAGE", example: { header_handle: ["https://scontent.example/a.jpg"] } },
    {
      type: "BODY",
      text: "Ahoj {{first_name}}, sleva {{ discount }} platí do {{date}}. Ještě jednou, {{first_name}}!",
      example: { body_text_named_params: [{ param_name: "first_name", example: "Anna" }, { param_name: "discount", example: "20 %" }] }
    },
    { type: "FOOTER", text: "Odhlášení: napište STOP" },
    {
      type: "BUTTONS",
      buttons: [
        { type: "URL", text: "Nakoupit", url: "https://shop.example/p/{{1}}", example: ["https://shop.example/p/abc"] },
        { type: "QUICK_REPLY", text: "Nemám zájem" },
        { type: "COPY_CODE", example: "SPRING25" },
        { type: "PHONE_NUMBER", text: "Zavolat", phone_number: "+420601123456" },
        { type: "URL", text: "Web", url: "https://shop.example/" }
      ]
    }
  ]
}

const withTextHeader = (header: string, format: "POSITIONAL" | "NAMED" = "POSITIONAL") => decoded({
  ...orderDoneJson,
  parameter_format: format,
  components: [
    { type: "HEADER", format: "TEXT", text: header, example: { header_text: ["Anna"], header_text_named_params: [{ param_name: "name", example: "Eva" }] } },
    ...(format === "NAMED" ? [{ type: "BODY", text: "Hi {{name}}" }] : orderDoneJson.components)
  ]
})

describe("Template.decode", () => {
  it("decodes Meta's fields and defaults parameter_format to POSITIONAL", () => {
    const template = decoded(orderDoneJson)
    expect(template).toMatchObject({ id: "1001", name: "order_done", language: "cs", status: "APPROVED", category: "UTILITY", parameter_format: "POSITIONAL" })
    expect(decoded(springSaleJson)).toMatchObject({ parameter_format: "NAMED", quality_score: { score: "GREEN" }, rejected_reason: "NONE" })
  })

  it("keeps statuses, categories, component and button types Meta adds later", () => {
    const template = decoded({
      ...orderDoneJson,
      status: "SOMETHING_NEW",
      category: "SERVICE",
      components: [...orderDoneJson.components, { type: "CAROUSEL", cards: [] }, { type: "BUTTONS", buttons: [{ type: "VOICE_CALL", text: "Call" }] }]
    })
    expect(template.status).toBe("SOMETHING_NEW")
    expect(template.category).toBe("SERVICE")
    expect(template.components.map((component) => component.type)).toEqual(["BODY", "CAROUSEL", "BUTTONS"])
    expect(Template.variables(template).map((variable) => variable.key)).toEqual(["1", "2", "3"])
  })

  it("refuses a known component that is malformed, rather than passing it off as unknown", () => {
    const result = Template.decode({ ...orderDoneJson, components: [{ type: "BUTTONS" }] })
    expect(Result.isFailure(result)).toBe(true)
    if (Result.isFailure(result)) expect(result.failure._tag).toBe("TemplateDecodeError")
  })

  it("refuses a template without a name", () => {
    const { name: _name, ...nameless } = orderDoneJson
    const result = Template.decode(nameless)
    expect(Result.isFailure(result) && result.failure.message).toMatch(/name/)
  })
})

describe("Template.decodePage", () => {
  it("sets malformed elements aside and keeps the paging cursor", () => {
    const result = Template.decodePage({
      data: [orderDoneJson, { id: 5 }, springSaleJson],
      paging: { cursors: { before: "MAZDZD", after: "MjQZD" }, next: "https://graph.facebook.com/v23.0/1/message_templates?after=MjQZD" }
    })
    if (Result.isFailure(result)) throw new Error(result.failure.message)
    expect(result.success.templates.map((template) => template.name)).toEqual(["order_done", "spring_sale"])
    expect(result.success.malformed).toHaveLength(1)
    expect(result.success.malformed[0]?.index).toBe(1)
    expect(result.success.after).toBe("MjQZD")
  })

  it("has no cursor on the last page, and refuses what is not a page", () => {
    const last = Template.decodePage({ data: [], paging: { cursors: { after: "X" } } })
    expect(Result.isSuccess(last) && last.success).toEqual({ templates: [], malformed: [] })
    const bad = Template.decodePage({ error: { message: "nope" } })
    expect(Result.isFailure(bad) && bad.failure.message).toMatch(/Not a templates page/)
  })
})

describe("Template.variables", () => {
  it("derives the seed's three body variables with examples and the room left in the body", () => {
    const template = decoded(orderDoneJson)
    const fixed = "Dobrý den,  , vaše objednávka č.  byla vyřízena.".length
    expect(Template.variables(template)).toEqual([
      { key: "1", component: "body", kind: "text", label: "Body {{1}}", example: "pane", maxLength: 1024 - fixed },
      { key: "2", component: "body", kind: "text", label: "Body {{2}}", example: "Nováku", maxLength: 1024 - fixed },
      { key: "3", component: "body", kind: "text", label: "Body {{3}}", example: "2024-0001", maxLength: 1024 - fixed }
    ])
  })

  it("orders header, body, buttons and keys them as SPEC §7 says", () => {
    const all = Template.variables(decoded(springSaleJson))
    expect(all.map((variable) => variable.key)).toEqual(["header.image", "first_name", "discount", "date", "button.0", "button.2"])
    expect(all[0]).toMatchObject({ kind: "image", example: "https://scontent.example/a.jpg" })
    expect(all[1]).toMatchObject({ parameterName: "first_name", example: "Anna" })
    expect(all[3]?.example).toBeUndefined()
    expect(all[4]).toMatchObject({ kind: "url_suffix", buttonIndex: 0, example: "abc", maxLength: 2000 - "https://shop.example/p/".length })
    expect(all[4]?.label).toContain("Nakoupit")
    expect(all[5]).toMatchObject({ kind: "coupon_code", buttonIndex: 2, example: "SPRING25", maxLength: 15 })
  })

  it("keys text headers header.1 or header.<name>", () => {
    expect(Template.variables(withTextHeader("Objednávka {{1}}"))[0]).toMatchObject({ key: "header.1", example: "Anna", maxLength: 60 - "Objednávka ".length })
    expect(Template.variables(withTextHeader("Pro {{name}}", "NAMED"))[0]).toMatchObject({ key: "header.name", parameterName: "name", example: "Eva" })
    expect(Template.variables(withTextHeader("Fixed header"))[0]?.key).toBe("1")
  })

  it("orders positional body variables by number, whatever order the text uses", () => {
    const template = decoded({ ...orderDoneJson, components: [{ type: "BODY", text: "{{2}} then {{1}}" }] })
    expect(Template.variables(template).map((variable) => variable.key)).toEqual(["1", "2"])
  })

  it("keys video and document headers", () => {
    const video = decoded({ ...orderDoneJson, components: [{ type: "HEADER", format: "VIDEO" }] })
    const document = decoded({ ...orderDoneJson, components: [{ type: "HEADER", format: "DOCUMENT" }] })
    expect(Template.variables(video)).toMatchObject([{ key: "header.video", kind: "video" }])
    expect(Template.variables(document)).toMatchObject([{ key: "header.document", kind: "document" }])
  })

  it("reads a COPY_CODE example given as an array and a URL example that does not match", () => {
    const template = decoded({
      ...orderDoneJson,
      components: [{ type: "BUTTONS", buttons: [{ type: "URL", url: "https://a.example/{{1}}", example: ["https://b.example/x"] }, { type: "COPY_CODE", example: ["C1"] }] }]
    })
    const [url, coupon] = Template.variables(template)
    expect(url?.example).toBeUndefined()
    expect(url?.label).toBe("Button 0 URL suffix after https://a.example/")
    expect(coupon?.example).toBe("C1")
  })

  it("lists the distinct placeholders of a text", () => {
    expect(Template.placeholders("{{1}} {{ 2 }} {{1}} {{first_name}} {{Bad}} {{}}")).toEqual(["1", "2", "first_name"])
  })
})

describe("Template structural problems", () => {
  const problemCodes = (template: Template.Template) => Template.analyze(template).problems.map((problem) => problem.code)

  it("reports positional placeholders with gaps", () => {
    const template = decoded({ ...orderDoneJson, components: [{ type: "BODY", text: "{{1}} and {{3}}" }] })
    const [problem] = Template.analyze(template).problems
    expect(problem?.code).toBe("placeholder_gap")
    expect(problem?.en).toContain("{{1}}, {{2}}")
    expect(problem?.cs).toContain("bez mezer")
    expect(Template.usability(template).usable).toBe(false)
  })

  it("reports a header gap too", () => {
    expect(problemCodes(withTextHeader("Hi {{2}}"))).toEqual(["placeholder_gap"])
  })

  it("reports named placeholders in a positional template and the reverse", () => {
    expect(problemCodes(decoded({ ...orderDoneJson, components: [{ type: "BODY", text: "Hi {{name}}" }] }))).toEqual(["placeholder_mixed"])
    expect(problemCodes(decoded({ ...springSaleJson, components: [{ type: "BODY", text: "Hi {{1}}" }] }))).toEqual(["placeholder_mixed"])
  })

  it("reports a URL placeholder that is not one {{1}} at the end", () => {
    const template = decoded({ ...orderDoneJson, components: [{ type: "BUTTONS", buttons: [{ type: "URL", text: "Go", url: "https://x.example/{{1}}/a" }] }] })
    expect(problemCodes(template)).toEqual(["url_placeholder"])
    expect(Template.variables(template)).toEqual([])
  })

  it("reports headers, buttons and components Megaphone cannot fill", () => {
    const template = decoded({
      ...orderDoneJson,
      components: [
        { type: "HEADER", format: "LOCATION" },
        { type: "BUTTONS", buttons: [{ type: "OTP", otp_type: "COPY_CODE", text: "Copy" }] },
        { type: "LIMITED_TIME_OFFER" }
      ]
    })
    expect(problemCodes(template)).toEqual(["unsupported_header", "unsupported_button", "unsupported_component"])
  })
})

describe("Template.usability and explainStatus", () => {
  it("only APPROVED is usable", () => {
    expect(Template.usability(decoded(orderDoneJson))).toEqual({ usable: true })
    expect(Template.usability(decoded(orderDoneJson), "cs")).toEqual({ usable: true })
  })

  it("reports a wrong language", () => {
    const result = Template.usability(decoded(orderDoneJson), "en")
    expect(result.usable === false && result.problems.map((problem) => problem.code)).toEqual(["language_mismatch"])
  })

  const statuses = ["PAUSED", "DISABLED", "REJECTED", "PENDING", "IN_APPEAL", "PENDING_DELETION", "DELETED", "LIMIT_EXCEEDED", "ARCHIVED", "LOCKED", "BRAND_NEW"]
  it.each(statuses)("explains %s in English and Czech, and refuses it", (status) => {
    const template = decoded({ ...orderDoneJson, status })
    const explanation = Template.explainStatus(template)
    expect(explanation.en).toContain("order_done")
    expect(explanation.cs).toContain("order_done")
    expect(explanation.en).not.toBe(explanation.cs)
    const result = Template.usability(template)
    expect(result.usable).toBe(false)
    if (!result.usable) expect(result.problems[0]).toEqual({ code: "status", ...explanation })
  })

  it("says when a paused template comes back", () => {
    const explanation = Template.explainStatus(decoded({ ...orderDoneJson, status: "PAUSED", quality_score: { score: "RED" } }))
    expect(explanation.en).toContain("paused by Meta for low quality (quality RED)")
    expect(explanation.en).toContain("3 h (first pause) or 6 h (second)")
    expect(Template.inLanguage(explanation, "cs")).toContain("po 3 h")
    expect(Template.explainStatus(decoded({ ...orderDoneJson, status: "PAUSED" })).en).not.toContain("quality RED")
  })

  it("explains why a template was rejected", () => {
    const rejected = (reason?: string) =>
      Template.explainStatus(decoded(reason === undefined ? { ...orderDoneJson, status: "REJECTED" } : { ...orderDoneJson, status: "REJECTED", rejected_reason: reason }))
    expect(rejected("PROMOTIONAL").en).toContain("MARKETING category")
    expect(rejected("INVALID_FORMAT").cs).toContain("neplatný formát")
    for (const reason of ["ABUSIVE_CONTENT", "TAG_CONTENT_MISMATCH", "INCORRECT_CATEGORY", "CATEGORY_NOT_AVAILABLE", "SCAM"]) {
      expect(rejected(reason).en).toBe(`Template order_done was rejected by Meta: ${Template.explainRejectedReason(reason).en} Edit and resubmit it, or appeal in WhatsApp Manager.`)
    }
    expect(rejected("NONE").en).toContain("Meta gave no reason")
    expect(rejected().cs).toContain("Meta neuvedla důvod")
    expect(rejected("NEW_REASON").en).toContain("NEW_REASON")
    expect(rejected("NEW_REASON").cs).toContain("NEW_REASON")
  })

  it("explains APPROVED too", () => {
    expect(Template.explainStatus(decoded(orderDoneJson)).en).toContain("approved")
  })
})

describe("Template.findTranslation", () => {
  const templates = [decoded(orderDoneJson), decoded({ ...orderDoneJson, id: "1002", language: "en" }), decoded({ ...orderDoneJson, id: "1003", language: "de" })]

  it("finds a template by name and language", () => {
    const result = Template.findTranslation(templates, "order_done", "en")
    expect(Result.isSuccess(result) && result.success.id).toBe("1002")
  })

  it("says which languages exist when the language is gone", () => {
    const result = Template.findTranslation(templates, "order_done", "sk")
    if (Result.isSuccess(result)) throw new Error("expected a failure")
    expect(result.failure).toMatchObject({ _tag: "TranslationNotFound", language: "sk", available: ["cs", "de", "en"] })
    expect(result.failure.message).toContain("Available: cs, de, en")
  })

  it("says when no template has the name", () => {
    const result = Template.findTranslation(templates, "nope", "cs")
    if (Result.isSuccess(result)) throw new Error("expected a failure")
    expect(result.failure._tag).toBe("TemplateNotFound")
    expect(result.failure.message).toContain("megaphone templates sync")
  })
})

describe("Template.texts and hydrate", () => {
  it("renders the text Meta will deliver", () => {
    const template = withTextHeader("Objednávka {{1}}")
    const { header, body } = Template.texts(template)
    expect(header).toBe("Objednávka {{1}}")
    expect(Template.hydrate(body ?? "", (name) => ({ 1: "pane", 2: "Nováku" })[name])).toBe("Dobrý den, pane Nováku, vaše objednávka č. {{3}} byla vyřízena.")
    expect(Template.texts(decoded(springSaleJson)).header).toBeUndefined()
  })
})
