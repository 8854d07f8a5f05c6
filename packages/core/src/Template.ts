/**
 * The synced template model (Graph `GET /{WABA_ID}/message_templates`, whatsapp-cloud-api.md §4),
 * the variables a campaign must fill, and why a template cannot be used right now.
 *
 * The decoded {@link Template} keeps Meta's field names so it encodes back to the same JSON for storage.
 */
import { Effect, Result, Schema } from "effect"

// ---------------------------------------------------------------------------------------------
// Schema of one element of `data[]`

/** Template statuses Meta documents; others may appear and are kept as plain strings. */
export const KNOWN_STATUSES = [
  "APPROVED", "IN_APPEAL", "PENDING", "REJECTED", "PENDING_DELETION", "DELETED",
  "DISABLED", "PAUSED", "LIMIT_EXCEEDED", "ARCHIVED", "LOCKED"
] as const

/** A documented template status. */
export type KnownStatus = typeof KNOWN_STATUSES[number]

/** Template categories Meta documents; others are kept as plain strings. */
export const KNOWN_CATEGORIES = ["MARKETING", "UTILITY", "AUTHENTICATION"] as const

/** The component types this module understands; any other type is kept as `{ type }` and reported as unsupported. */
export const KNOWN_COMPONENT_TYPES = ["HEADER", "BODY", "FOOTER", "BUTTONS"] as const

const NamedParamExample = Schema.Struct({ param_name: Schema.String, example: Schema.String })

/** HEADER component: TEXT (optionally with one variable) or media (IMAGE, VIDEO, DOCUMENT, LOCATION). */
export const HeaderComponent = Schema.Struct({
  type: Schema.Literal("HEADER"),
  format: Schema.String.pipe(Schema.withDecodingDefault(Effect.succeed("TEXT"))),
  text: Schema.optionalKey(Schema.String),
  example: Schema.optionalKey(Schema.Struct({
    header_text: Schema.optionalKey(Schema.Array(Schema.String)),
    header_text_named_params: Schema.optionalKey(Schema.Array(NamedParamExample)),
    header_handle: Schema.optionalKey(Schema.Array(Schema.String))
  }))
})

/** BODY component: the message text with `{{1}}` or `{{name}}` placeholders. */
export const BodyComponent = Schema.Struct({
  type: Schema.Literal("BODY"),
  text: Schema.String.pipe(Schema.withDecodingDefault(Effect.succeed(""))),
  example: Schema.optionalKey(Schema.Struct({
    body_text: Schema.optionalKey(Schema.Array(Schema.Array(Schema.String))),
    body_text_named_params: Schema.optionalKey(Schema.Array(NamedParamExample))
  }))
})

/** FOOTER component: fixed text, never a variable. */
export const FooterComponent = Schema.Struct({
  type: Schema.Literal("FOOTER"),
  text: Schema.optionalKey(Schema.String)
})

/** One button; `type` stays a string (URL, QUICK_REPLY, COPY_CODE, PHONE_NUMBER, OTP, FLOW, … and whatever Meta adds). */
export const Button = Schema.Struct({
  type: Schema.String,
  text: Schema.optionalKey(Schema.String),
  url: Schema.optionalKey(Schema.String),
  phone_number: Schema.optionalKey(Schema.String),
  // URL buttons carry an array of example URLs, COPY_CODE a single example code.
  example: Schema.optionalKey(Schema.Union([Schema.String, Schema.Array(Schema.String)]))
})

/** BUTTONS component. */
export const ButtonsComponent = Schema.Struct({
  type: Schema.Literal("BUTTONS"),
  buttons: Schema.Array(Button)
})

/** A component type Meta added after this code was written (CAROUSEL, LIMITED_TIME_OFFER, …): kept, not understood. */
export const OtherComponent = Schema.Struct({
  type: Schema.String.check(Schema.makeFilter((type: string) =>
    !(KNOWN_COMPONENT_TYPES as ReadonlyArray<string>).includes(type) || `a malformed ${type} component`))
})

/** Any template component. */
export const Component = Schema.Union([HeaderComponent, BodyComponent, FooterComponent, ButtonsComponent, OtherComponent])

/** One synced template translation (name + language is Meta's key). */
export const Template = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  language: Schema.String,
  status: Schema.String,
  category: Schema.String,
  parameter_format: Schema.Literals(["POSITIONAL", "NAMED"]).pipe(Schema.withDecodingDefault(Effect.succeed("POSITIONAL" as const))),
  components: Schema.Array(Component).pipe(Schema.withDecodingDefault(Effect.succeed([]))),
  quality_score: Schema.optionalKey(Schema.Struct({ score: Schema.String, date: Schema.optionalKey(Schema.Number) })),
  rejected_reason: Schema.optionalKey(Schema.String)
})

/** One synced template translation, decoded. */
export type Template = typeof Template.Type
/** The HEADER component of a decoded template. */
export type HeaderComponent = typeof HeaderComponent.Type
/** The BODY component of a decoded template. */
export type BodyComponent = typeof BodyComponent.Type
/** One button of a decoded template. */
export type Button = typeof Button.Type
/** Any component of a decoded template. */
export type Component = typeof Component.Type

/** Graph JSON that is not a template, with the decoder's account of why. */
export class TemplateDecodeError extends Schema.TaggedError<TemplateDecodeError>()("TemplateDecodeError", {
  explanation: Schema.String
}) {
  override get message(): string {
    return this.explanation
  }
}

const decodeTemplate = Schema.decodeUnknownResult(Template)

/** Decodes one element of the templates API `data[]`. */
export const decode = (input: unknown): Result.Result<Template, TemplateDecodeError> =>
  Result.mapError(decodeTemplate(input), (error) => new TemplateDecodeError({ explanation: `Not a template: ${error.message}` }))

const Page = Schema.Struct({
  data: Schema.Array(Schema.Unknown),
  paging: Schema.optionalKey(Schema.Struct({
    cursors: Schema.optionalKey(Schema.Struct({ after: Schema.optionalKey(Schema.String) })),
    next: Schema.optionalKey(Schema.String)
  }))
})

/** One decoded page of the templates API: malformed elements are set aside, never sinking the rest. */
export interface TemplatePage {
  readonly templates: ReadonlyArray<Template>
  readonly malformed: ReadonlyArray<{ readonly index: number; readonly explanation: string }>
  /** The cursor for the next page, when Graph says there is one. */
  readonly after?: string
}

/** Decodes a whole `GET /{WABA_ID}/message_templates` response page. */
export const decodePage = (input: unknown): Result.Result<TemplatePage, TemplateDecodeError> => {
  const page = Schema.decodeUnknownResult(Page)(input)
  if (Result.isFailure(page)) {
    return Result.fail(new TemplateDecodeError({ explanation: `Not a templates page: ${page.failure.message}` }))
  }
  const templates: Array<Template> = []
  const malformed: Array<{ index: number; explanation: string }> = []
  page.success.data.forEach((element, index) => {
    const decoded = decode(element)
    if (Result.isSuccess(decoded)) templates.push(decoded.success)
    else malformed.push({ index, explanation: decoded.failure.explanation })
  })
  const after = page.success.paging?.next === undefined ? undefined : page.success.paging.cursors?.after
  return Result.succeed(after === undefined ? { templates, malformed } : { templates, malformed, after })
}

// ---------------------------------------------------------------------------------------------
// Variables

/** Limits from Meta's template rules (whatsapp-cloud-api.md §1). */
export const LIMITS = {
  /** Header text after the variable is filled in. */
  headerText: 60,
  /** Body text after all variables are filled in. */
  bodyText: 1024,
  /** COPY_CODE coupon. */
  couponCode: 15,
  /** A URL button's full URL (prefix + suffix). */
  buttonUrl: 2000,
  /** A media header link: a generous cap so a pasted document never reaches Meta. */
  mediaLink: 2048
} as const

/** What a variable is filled with. */
export type VariableKind = "text" | "image" | "video" | "document" | "url_suffix" | "coupon_code"

/** One value a campaign must supply for each contact. */
export interface TemplateVariable {
  /** `1`, `first_name`, `header.1`, `header.name`, `header.image`, `button.0` — the key of SPEC §7. */
  readonly key: string
  readonly component: "header" | "body" | "button"
  readonly kind: VariableKind
  /** Named templates: the `parameter_name` Meta expects. */
  readonly parameterName?: string
  /** Buttons: the 0-based position in the BUTTONS component, sent as `index`. */
  readonly buttonIndex?: number
  /** Text for people: which part of the template this fills. */
  readonly label: string
  /** The example value submitted with the template, when Meta returns one. */
  readonly example?: string
  /** The longest value that can fit (for text: the component's limit minus its fixed text). */
  readonly maxLength: number
}

/** A human text in the dashboard's two languages. */
export interface Explanation {
  readonly en: string
  readonly cs: string
}

/** Why a template cannot be used to send. */
export type TemplateProblemCode =
  | "status"
  | "language_mismatch"
  | "placeholder_gap"
  | "placeholder_mixed"
  | "url_placeholder"
  | "unsupported_header"
  | "unsupported_button"
  | "unsupported_component"

/** One reason a template cannot be used, explained in English and Czech. */
export interface TemplateProblem extends Explanation {
  readonly code: TemplateProblemCode
}

/** The variables of a template and the structural problems found while deriving them. */
export interface TemplateAnalysis {
  readonly variables: ReadonlyArray<TemplateVariable>
  readonly problems: ReadonlyArray<TemplateProblem>
}

const PLACEHOLDER = /\{\{\s*([a-z0-9_]+|\d+)\s*\}\}/g
const POSITIONAL = /^\d+$/

/** The distinct placeholder names of a text (`["1", "2"]`, `["first_name"]`), in order of first appearance. */
export const placeholders = (text: string): ReadonlyArray<string> => {
  const seen: Array<string> = []
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? ""
    if (!seen.includes(name)) seen.push(name)
  }
  return seen
}

/** The text without its placeholders: what is left counts against the component's length limit. */
const fixedLength = (text: string): number => text.replace(PLACEHOLDER, "").length

const problem = (code: TemplateProblemCode, en: string, cs: string): TemplateProblem => ({ code, en, cs })

/** Checks the placeholders of one text against the template's parameter format. */
const placeholderProblems = (
  where: { en: string; cs: string },
  names: ReadonlyArray<string>,
  format: Template["parameter_format"]
): Array<TemplateProblem> => {
  const positional = names.filter((name) => POSITIONAL.test(name))
  const named = names.filter((name) => !POSITIONAL.test(name))
  if (format === "NAMED" && positional.length > 0) {
    return [problem("placeholder_mixed",
      `The ${where.en} uses numbered placeholders (${positional.map((n) => `{{${n}}}`).join(", ")}) in a NAMED template; Meta cannot fill them. Recreate the template with named placeholders only.`,
      `${where.cs} používá číslované proměnné (${positional.map((n) => `{{${n}}}`).join(", ")}) v šabloně s pojmenovanými proměnnými; Meta je nevyplní. Vytvořte šablonu znovu jen s pojmenovanými proměnnými.`)]
  }
  if (format === "POSITIONAL" && named.length > 0) {
    return [problem("placeholder_mixed",
      `The ${where.en} uses named placeholders (${named.map((n) => `{{${n}}}`).join(", ")}) but the template's parameter_format is POSITIONAL. Recreate it with parameter_format NAMED or with {{1}}, {{2}}, ….`,
      `${where.cs} používá pojmenované proměnné (${named.map((n) => `{{${n}}}`).join(", ")}), ale šablona má parameter_format POSITIONAL. Vytvořte ji znovu s NAMED nebo s {{1}}, {{2}}, ….`)]
  }
  const numbers = positional.map(Number).sort((a, b) => a - b)
  const gap = numbers.findIndex((n, i) => n !== i + 1)
  if (gap !== -1) {
    const expected = numbers.map((_, i) => `{{${i + 1}}}`).join(", ")
    return [problem("placeholder_gap",
      `The ${where.en} has placeholders ${numbers.map((n) => `{{${n}}}`).join(", ")}; they must be numbered ${expected} without gaps. Fix the template in WhatsApp Manager.`,
      `${where.cs} má proměnné ${numbers.map((n) => `{{${n}}}`).join(", ")}; musí být číslované ${expected} bez mezer. Opravte šablonu ve WhatsApp Manageru.`)]
  }
  return []
}

const exampleOfNamed = (params: ReadonlyArray<{ param_name: string; example: string }> | undefined, name: string) =>
  params?.find((param) => param.param_name === name)?.example

/** Adds `example` only when there is one (exactOptionalPropertyTypes: no `example: undefined`). */
const withExample = (variable: TemplateVariable, example: string | undefined): TemplateVariable =>
  example === undefined ? variable : { ...variable, example }

const isHeader = Schema.is(HeaderComponent)
const isBody = Schema.is(BodyComponent)
const isButtons = Schema.is(ButtonsComponent)

const MEDIA_FORMATS: Record<string, VariableKind> = { IMAGE: "image", VIDEO: "video", DOCUMENT: "document" }

// Button types that need parameters this module cannot supply: sending them would fail at Meta.
const UNSUPPORTED_BUTTONS = ["OTP", "CATALOG", "MPM"]

const analyzeHeader = (header: HeaderComponent, format: Template["parameter_format"]): TemplateAnalysis => {
  const media = MEDIA_FORMATS[header.format]
  if (media !== undefined) {
    // Graph returns the sample as a link when listing; an upload handle (`4::aW…`) is no value to send.
    const sample = header.example?.header_handle?.[0]
    return {
      variables: [withExample({
        key: `header.${media}`,
        component: "header",
        kind: media,
        label: `Header ${media} (https link or media id)`,
        maxLength: LIMITS.mediaLink
      }, sample?.startsWith("https://") === true ? sample : undefined)],
      problems: []
    }
  }
  if (header.format !== "TEXT") {
    return {
      variables: [],
      problems: [problem("unsupported_header",
        `The header is a ${header.format} header, which Megaphone cannot fill. Use a template with a text or media header.`,
        `Záhlaví je typu ${header.format}, které Megaphone neumí vyplnit. Použijte šablonu s textovým nebo mediálním záhlavím.`)]
    }
  }
  const text = header.text ?? ""
  const names = placeholders(text)
  const problems = placeholderProblems({ en: "header", cs: "Záhlaví" }, names, format)
  const maxLength = Math.max(1, LIMITS.headerText - fixedLength(text))
  const variables = names.map((name): TemplateVariable => {
    const positional = POSITIONAL.test(name)
    const base: TemplateVariable = {
      key: `header.${name}`,
      component: "header",
      kind: "text",
      label: `Header {{${name}}} in "${text}"`,
      maxLength
    }
    const example = positional ? header.example?.header_text?.[Number(name) - 1] : exampleOfNamed(header.example?.header_text_named_params, name)
    return withExample(positional ? base : { ...base, parameterName: name }, example)
  })
  return { variables, problems }
}

const analyzeBody = (body: BodyComponent, format: Template["parameter_format"]): TemplateAnalysis => {
  const names = placeholders(body.text)
  const problems = placeholderProblems({ en: "body", cs: "Tělo zprávy" }, names, format)
  const maxLength = Math.max(1, LIMITS.bodyText - fixedLength(body.text))
  const ordered = names.every((name) => POSITIONAL.test(name)) ? [...names].sort((a, b) => Number(a) - Number(b)) : names
  const variables = ordered.map((name): TemplateVariable => {
    const positional = POSITIONAL.test(name)
    const base: TemplateVariable = { key: name, component: "body", kind: "text", label: `Body {{${name}}}`, maxLength }
    const example = positional ? body.example?.body_text?.[0]?.[Number(name) - 1] : exampleOfNamed(body.example?.body_text_named_params, name)
    return withExample(positional ? base : { ...base, parameterName: name }, example)
  })
  return { variables, problems }
}

const analyzeButton = (button: Button, index: number): TemplateAnalysis => {
  const caption = button.text === undefined ? `Button ${index}` : `Button ${index} "${button.text}"`
  if (button.type === "COPY_CODE") {
    const example = typeof button.example === "string" ? button.example : button.example?.[0]
    return {
      variables: [withExample({
        key: `button.${index}`,
        component: "button",
        kind: "coupon_code",
        buttonIndex: index,
        label: `${caption} coupon code (max ${LIMITS.couponCode} characters)`,
        maxLength: LIMITS.couponCode
      }, example)],
      problems: []
    }
  }
  if (button.type === "URL" && button.url !== undefined && placeholders(button.url).length > 0) {
    const prefix = button.url.replace(/\{\{\s*1\s*\}\}$/, "")
    if (placeholders(prefix).length > 0) {
      return {
        variables: [],
        problems: [problem("url_placeholder",
          `${caption} has a URL (${button.url}) whose only allowed variable is one {{1}} at its very end. Fix the button in WhatsApp Manager.`,
          `Tlačítko ${index} má URL (${button.url}); jediná povolená proměnná je jedno {{1}} na samém konci. Opravte tlačítko ve WhatsApp Manageru.`)]
      }
    }
    const exampleUrl = typeof button.example === "string" ? button.example : button.example?.[0]
    const example = exampleUrl?.startsWith(prefix) === true ? exampleUrl.slice(prefix.length) : undefined
    return {
      variables: [withExample({
        key: `button.${index}`,
        component: "button",
        kind: "url_suffix",
        buttonIndex: index,
        label: `${caption} URL suffix after ${prefix}`,
        maxLength: Math.max(1, LIMITS.buttonUrl - prefix.length)
      }, example)],
      problems: []
    }
  }
  if (UNSUPPORTED_BUTTONS.includes(button.type)) {
    return {
      variables: [],
      problems: [problem("unsupported_button",
        `${caption} is a ${button.type} button, which Megaphone cannot fill. Use a template without it.`,
        `Tlačítko ${index} je typu ${button.type}, které Megaphone neumí vyplnit. Použijte šablonu bez něj.`)]
    }
  }
  return { variables: [], problems: [] }
}

// Templates are immutable once decoded, and a campaign sends one template thousands of times a second: each is
// analysed once.
const analyses = new WeakMap<Template, TemplateAnalysis>()

/** Derives a template's variables (header, then body, then buttons) and its structural problems. */
export const analyze = (template: Template): TemplateAnalysis => {
  const known = analyses.get(template)
  if (known !== undefined) return known
  const analysis = analyzeFresh(template)
  analyses.set(template, analysis)
  return analysis
}

const analyzeFresh = (template: Template): TemplateAnalysis => {
  const parts: Array<TemplateAnalysis> = [
    ...template.components.filter(isHeader).map((header) => analyzeHeader(header, template.parameter_format)),
    ...template.components.filter(isBody).map((body) => analyzeBody(body, template.parameter_format)),
    ...template.components.filter(isButtons).flatMap((buttons) => buttons.buttons.map(analyzeButton))
  ]
  for (const component of template.components) {
    if (!(KNOWN_COMPONENT_TYPES as ReadonlyArray<string>).includes(component.type)) {
      parts.push({
        variables: [],
        problems: [problem("unsupported_component",
          `The template has a ${component.type} component, which Megaphone does not support yet. Use a template without it.`,
          `Šablona obsahuje část ${component.type}, kterou Megaphone zatím nepodporuje. Použijte šablonu bez ní.`)]
      })
    }
  }
  return { variables: parts.flatMap((part) => part.variables), problems: parts.flatMap((part) => part.problems) }
}

/** What the template's header is: `text`, `image`, `video`, `document`, another format in lower case, or none. */
export const headerKind = (template: Template): string | undefined =>
  template.components.find(isHeader)?.format.toLowerCase()

/** The text of the text header and of the body, as Meta will render them before hydration. */
export const texts = (template: Template): { readonly header?: string; readonly body?: string } => {
  const header = template.components.filter(isHeader).find((component) => component.format === "TEXT")?.text
  const body = template.components.find(isBody)?.text
  return { ...(header === undefined ? {} : { header }), ...(body === undefined ? {} : { body }) }
}

/** The text Meta will deliver: placeholders replaced by their values (a placeholder without a value stays). */
export const hydrate = (text: string, valueOf: (name: string) => string | undefined): string =>
  text.replace(PLACEHOLDER, (placeholder, name: string) => valueOf(name) ?? placeholder)

/** The variables a campaign must fill for each contact, in the order of SPEC §4 B: header, body, buttons. */
export const variables = (template: Template): ReadonlyArray<TemplateVariable> => analyze(template).variables

// ---------------------------------------------------------------------------------------------
// Status and usability

const REJECTED_REASONS: Record<string, Explanation> = {
  ABUSIVE_CONTENT: {
    en: "Meta found content that breaks its policies (abusive, threatening or otherwise prohibited).",
    cs: "Meta v ní našla obsah porušující její pravidla (urážlivý, výhružný či jinak zakázaný)."
  },
  INVALID_FORMAT: {
    en: "its format is invalid — typically a variable at the very start or end of the body, badly numbered placeholders or missing examples.",
    cs: "má neplatný formát — typicky proměnnou na samém začátku nebo konci textu, špatně číslované proměnné nebo chybějící příklady."
  },
  PROMOTIONAL: {
    en: "it is promotional but was submitted as UTILITY or AUTHENTICATION; resubmit it in the MARKETING category.",
    cs: "je propagační, ale byla podána jako UTILITY nebo AUTHENTICATION; podejte ji znovu v kategorii MARKETING."
  },
  TAG_CONTENT_MISMATCH: {
    en: "its content does not match its category; resubmit it in the right category.",
    cs: "její obsah neodpovídá kategorii; podejte ji znovu ve správné kategorii."
  },
  INCORRECT_CATEGORY: {
    en: "it was submitted in the wrong category; resubmit it in the right one.",
    cs: "byla podána ve špatné kategorii; podejte ji znovu ve správné."
  },
  CATEGORY_NOT_AVAILABLE: {
    en: "its category is not available to this business account.",
    cs: "její kategorie není pro tento firemní účet dostupná."
  },
  SCAM: {
    en: "Meta considers it deceptive or a scam.",
    cs: "Meta ji považuje za klamavou nebo podvodnou."
  }
}

/** Explains Meta's `rejected_reason` code; NONE and unknown codes get a pointer to WhatsApp Manager. */
export const explainRejectedReason = (reason: string | undefined): Explanation =>
  REJECTED_REASONS[reason ?? "NONE"] ?? {
    en: reason === undefined || reason === "NONE"
      ? "Meta gave no reason; see the template in WhatsApp Manager."
      : `Meta's reason is ${reason}; see the template in WhatsApp Manager.`,
    cs: reason === undefined || reason === "NONE"
      ? "Meta neuvedla důvod; podívejte se na šablonu ve WhatsApp Manageru."
      : `Důvod od Mety: ${reason}; podívejte se na šablonu ve WhatsApp Manageru.`
  }

/** Explains a template's status to the person who must act on it (the seed's warning-triangle tooltip). */
export const explainStatus = (template: Template): Explanation => {
  const name = template.name
  switch (template.status) {
    case "APPROVED":
      return { en: `Template ${name} is approved and can be sent.`, cs: `Šablona ${name} je schválená a lze ji odesílat.` }
    case "PAUSED": {
      const quality = template.quality_score?.score
      return {
        en: `Template ${name} is paused by Meta for low quality${quality === undefined ? "" : ` (quality ${quality})`}: customers blocked or reported it. It resumes by itself after 3 h (first pause) or 6 h (second); a third pause disables it. Campaigns using it wait; consider improving the text.`,
        cs: `Šablonu ${name} pozastavila Meta kvůli nízké kvalitě${quality === undefined ? "" : ` (kvalita ${quality})`}: zákazníci ji blokovali nebo nahlásili. Sama se obnoví po 3 h (první pozastavení) nebo 6 h (druhé); třetí ji zakáže. Kampaně s ní čekají; zvažte úpravu textu.`
      }
    }
    case "DISABLED":
      return {
        en: `Template ${name} is disabled by Meta after repeated low quality. It cannot be sent again; create a new, improved template (or appeal in WhatsApp Manager).`,
        cs: `Šablonu ${name} Meta zakázala po opakované nízké kvalitě. Už ji nelze odeslat; vytvořte novou, vylepšenou šablonu (nebo se odvolejte ve WhatsApp Manageru).`
      }
    case "REJECTED": {
      const reason = explainRejectedReason(template.rejected_reason)
      return {
        en: `Template ${name} was rejected by Meta: ${reason.en} Edit and resubmit it, or appeal in WhatsApp Manager.`,
        cs: `Šablonu ${name} Meta zamítla: ${reason.cs} Upravte ji a podejte znovu, nebo se odvolejte ve WhatsApp Manageru.`
      }
    }
    case "PENDING":
      return {
        en: `Template ${name} is waiting for Meta's review (usually minutes, at most 24 h). Sync again later.`,
        cs: `Šablona ${name} čeká na schválení Metou (obvykle minuty, nejvýše 24 h). Synchronizujte později znovu.`
      }
    case "IN_APPEAL":
      return {
        en: `Template ${name} was rejected and the appeal is being reviewed by Meta. Sync again later.`,
        cs: `Šablona ${name} byla zamítnuta a Meta posuzuje odvolání. Synchronizujte později znovu.`
      }
    case "PENDING_DELETION":
      return {
        en: `Template ${name} is being deleted; it cannot be sent. Choose another template.`,
        cs: `Šablona ${name} se maže; nelze ji odeslat. Vyberte jinou šablonu.`
      }
    case "DELETED":
      return {
        en: `Template ${name} was deleted. Choose another template (the name can be reused after 30 days).`,
        cs: `Šablona ${name} byla smazána. Vyberte jinou šablonu (název lze znovu použít po 30 dnech).`
      }
    case "LIMIT_EXCEEDED":
      return {
        en: `Template ${name} is over the business account's template limit and cannot be sent. Delete unused templates or verify the business.`,
        cs: `Šablona ${name} překračuje limit šablon firemního účtu a nelze ji odeslat. Smažte nepoužívané šablony nebo ověřte firmu.`
      }
    case "ARCHIVED":
      return {
        en: `Template ${name} is archived. Unarchive it in WhatsApp Manager to send it.`,
        cs: `Šablona ${name} je archivovaná. Pro odesílání ji ve WhatsApp Manageru obnovte z archivu.`
      }
    case "LOCKED":
      return {
        en: `Template ${name} is locked by Meta and cannot be edited or sent. See WhatsApp Manager.`,
        cs: `Šablonu ${name} Meta uzamkla; nelze ji upravit ani odeslat. Podívejte se do WhatsApp Manageru.`
      }
    default:
      return {
        en: `Template ${name} has status ${template.status}, unknown to Megaphone; only APPROVED templates are sent. See WhatsApp Manager.`,
        cs: `Šablona ${name} má stav ${template.status}, který Megaphone nezná; odesílají se jen schválené šablony. Podívejte se do WhatsApp Manageru.`
      }
  }
}

/** Whether a template can be sent now, and every reason why not. */
export type Usability =
  | { readonly usable: true }
  | { readonly usable: false; readonly problems: ReadonlyArray<TemplateProblem> }

/** Decides whether a template (in the given language, when one is asked for) can be sent; only APPROVED can. */
export const usability = (template: Template, language?: string): Usability => {
  const problems: Array<TemplateProblem> = []
  if (template.status !== "APPROVED") problems.push({ code: "status", ...explainStatus(template) })
  if (language !== undefined && language !== template.language) {
    problems.push(problem("language_mismatch",
      `Template ${template.name} is in ${template.language}, not ${language}.`,
      `Šablona ${template.name} je v jazyce ${template.language}, ne ${language}.`))
  }
  problems.push(...analyze(template).problems)
  return problems.length === 0 ? { usable: true } : { usable: false, problems }
}

/** No synced template has this name. */
export class TemplateNotFound extends Schema.TaggedError<TemplateNotFound>()("TemplateNotFound", {
  name: Schema.String
}) {
  override get message(): string {
    return `No template named ${this.name} is synced for this account. Check the name, or run \`megaphone templates sync\`.`
  }
}

/** The template exists, but not (or no longer) in the wanted language. */
export class TranslationNotFound extends Schema.TaggedError<TranslationNotFound>()("TranslationNotFound", {
  name: Schema.String,
  language: Schema.String,
  available: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `Template ${this.name} has no ${this.language} translation (any more). Available: ${this.available.join(", ")}. Choose one of them with --language.`
  }
}

/** Finds one translation of a template by name and language (Meta's key), saying what exists when it is gone. */
export const findTranslation = (
  templates: ReadonlyArray<Template>,
  name: string,
  language: string
): Result.Result<Template, TemplateNotFound | TranslationNotFound> => {
  const named = templates.filter((template) => template.name === name)
  if (named.length === 0) return Result.fail(new TemplateNotFound({ name }))
  const found = named.find((template) => template.language === language)
  if (found !== undefined) return Result.succeed(found)
  return Result.fail(new TranslationNotFound({ name, language, available: [...new Set(named.map((template) => template.language))].sort() }))
}

/** Picks the text of an explanation in the dashboard's language. */
export const inLanguage = (explanation: Explanation, lang: "en" | "cs"): string => explanation[lang]
