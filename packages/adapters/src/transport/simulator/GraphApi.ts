/**
 * The Graph API endpoints the simulator answers like Meta (whatsapp-cloud-api.md §1, §2, §4, §5): template
 * sends with Meta's validation and error codes, the templates list with cursor paging, and the phone-number
 * node. Pure request → reply over the {@link SimulatorState}; the HTTP server and delays live in Simulator.ts.
 */
import { Template } from "@megaphone/core"
import type { AccountState, SimulatorState, TemplateEntry } from "./State.ts"

/** A Graph request as the server read it. */
export interface GraphRequest {
  readonly method: string
  readonly pathname: string
  readonly query: URLSearchParams
  readonly authorization: string | undefined
  readonly body: string
}

/** What to answer: JSON with a status, or nothing at all (the `hang` fault). */
export type GraphReply =
  | { readonly kind: "json"; readonly status: number; readonly body: unknown }
  | { readonly kind: "hang" }

// HTTP status per code, from Meta's error table (§2).
const HTTP_STATUS: Readonly<Record<number, number>> = {
  0: 401, 190: 401, 2: 503, 3: 500, 4: 429, 10: 403, 100: 400, 2500: 400,
  130429: 429, 131048: 429, 131056: 429, 131000: 500, 132001: 404
}

const TRACE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

const traceId = (state: SimulatorState): string => {
  let id = ""
  for (let i = 0; i < 23; i++) id += TRACE_CHARS[Math.floor(state.draw() * TRACE_CHARS.length)] ?? "A"
  return id
}

/** A Graph error body with Meta's shape: `(#code) title`, `error_data.details`, a `fbtrace_id`. */
const graphError = (
  state: SimulatorState,
  code: number,
  title: string,
  details?: string,
  extra: { readonly type?: string; readonly error_subcode?: number; readonly bareMessage?: boolean } = {}
): GraphReply => {
  state.reject(code)
  return {
    kind: "json",
    status: HTTP_STATUS[code] ?? 400,
    body: {
      error: {
        message: extra.bareMessage === true ? title : `(#${code}) ${title}`,
        type: extra.type ?? "OAuthException",
        code,
        ...(extra.error_subcode === undefined ? {} : { error_subcode: extra.error_subcode }),
        ...(details === undefined ? {} : { error_data: { messaging_product: "whatsapp", details } }),
        fbtrace_id: traceId(state)
      }
    }
  }
}

const json = (body: unknown, status = 200): GraphReply => ({ kind: "json", status, body })

const noSuchObject = (state: SimulatorState, method: string, id: string): GraphReply =>
  graphError(state, 100,
    `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    `Unknown object id ${id}: no configured phone number or WhatsApp Business Account has this id.`,
    { type: "GraphMethodException", error_subcode: 33, bareMessage: true })

const ROUTE = /^\/(v(\d+)\.\d+)\/([^/]+)(?:\/([a-z_]+))?\/?$/

/** Answers one Graph request. */
export const handle = (state: SimulatorState, request: GraphRequest): GraphReply => {
  state.counters.requests++
  const route = ROUTE.exec(request.pathname)
  if (route === null) {
    return graphError(state, 2500, `Unknown path components: ${request.pathname}`, undefined, { bareMessage: true })
  }
  const [, version = "", major = "0", id = "", edge] = route
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.authorization ?? "")?.[1] ?? request.query.get("access_token") ?? undefined
  if (bearer !== state.config.accessToken) {
    return graphError(state, 190,
      bearer === undefined ? "An access token is required to request this resource." : "Invalid OAuth access token - Cannot parse access token",
      undefined, { bareMessage: true })
  }
  if (edge === "messages" && request.method === "POST") {
    const account = state.accounts.get(id)
    return account === undefined ? noSuchObject(state, "post", id) : send(state, account, Number(major), request.body)
  }
  if (request.method !== "GET") return noSuchObject(state, request.method, id)
  if (edge === "message_templates") {
    return state.wabas.has(id) ? listTemplates(state, version, id, request.query) : noSuchObject(state, "get", id)
  }
  if (edge === "phone_numbers") {
    return state.wabas.has(id) ? listNumbers(state, id, request.query) : noSuchObject(state, "get", id)
  }
  if (edge === undefined) {
    const account = state.accounts.get(id)
    return account === undefined ? noSuchObject(state, "get", id) : phoneNode(state, account, request.query)
  }
  return noSuchObject(state, request.method, id)
}

// ---------------------------------------------------------------------------------------------------------
// POST /{phone-number-id}/messages
// ---------------------------------------------------------------------------------------------------------

const TOP_LEVEL_KEYS = new Set([
  "messaging_product", "recipient_type", "to", "type", "template", "biz_opaque_callback_data", "context",
  // Other message types' objects: well-formed requests the simulator refuses with 131051, not 100.
  "text", "image", "video", "audio", "document", "sticker", "location", "contacts", "interactive", "reaction"
])

type Json = Readonly<Record<string, unknown>>

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value)

/** `POST /{phone-number-id}/messages` for one number: Meta's validation, limits and faults (also behind 360dialog). */
export const send = (state: SimulatorState, account: AccountState, major: number, raw: string): GraphReply => {
  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch {
    return graphError(state, 100, "Invalid parameter", "The request body is not valid JSON.")
  }
  if (!isObject(body)) return graphError(state, 100, "Invalid parameter", "The request body must be a JSON object.")
  if (body.messaging_product === undefined) {
    return graphError(state, 100, "The parameter messaging_product is required.", "The parameter messaging_product is required.")
  }
  if (body.messaging_product !== "whatsapp") {
    return graphError(state, 100, "Invalid parameter", `Param messaging_product must be "whatsapp".`)
  }
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL_KEYS.has(key)) return graphError(state, 100, "Invalid parameter", `Unexpected key "${key}" on param "message".`)
  }
  if (body.recipient_type !== undefined && body.recipient_type !== "individual") {
    return graphError(state, 100, "Invalid parameter", `Param recipient_type must be "individual".`)
  }
  if (body.to === undefined) return graphError(state, 100, "The parameter to is required.", "The parameter to is required.")
  if (typeof body.to !== "string" && typeof body.to !== "number") {
    return graphError(state, 131009, "Parameter value is not valid", "Param to must be a phone number string.")
  }
  const to = String(body.to)
  const digits = to.trim().replace(/^\+/, "")
  if (!/^\d+$/.test(digits) || digits.length < 7 || digits.length > 15) {
    return graphError(state, 131009, "Parameter value is not valid",
      `Param to (${JSON.stringify(to)}) is not a valid phone number: use the international number, 7 to 15 digits with an optional leading +.`)
  }
  if (body.type === undefined) return graphError(state, 131008, "Required parameter is missing", "The parameter type is required.")
  if (body.type !== "template") {
    return graphError(state, 131051, "Unsupported message type",
      `Message type ${JSON.stringify(body.type)} is not supported by the simulator: it sends template messages only.`)
  }
  const callbackData = body.biz_opaque_callback_data
  if (callbackData !== undefined && (typeof callbackData !== "string" || callbackData.length > 512)) {
    return graphError(state, 100, "Invalid parameter", "Param biz_opaque_callback_data must be a string of at most 512 characters.")
  }
  if (digits === account.digits) {
    return graphError(state, 131021, "Recipient cannot be sender", "Sender and recipient phone number is the same.")
  }
  if (state.faults.invalidNumbers.some((number) => number.replace(/^\+/, "") === digits)) {
    return graphError(state, 131009, "Parameter value is not valid", `Param to (${to}) is not a valid WhatsApp phone number.`)
  }

  const template = body.template
  if (!isObject(template)) {
    return graphError(state, 131008, "Required parameter is missing", "The parameter template is required for type template.")
  }
  if (typeof template.name !== "string" || template.name === "") {
    return graphError(state, 131008, "Required parameter is missing", "The parameter template.name is required.")
  }
  const language = template.language
  if (!isObject(language) || typeof language.code !== "string" || language.code === "") {
    return graphError(state, 131008, "Required parameter is missing", "The parameter template.language.code is required.")
  }
  if (language.policy !== undefined && language.policy !== "deterministic") {
    return graphError(state, 100, "Invalid parameter", `Param template.language.policy must be "deterministic".`)
  }
  const components = template.components ?? []
  if (!Array.isArray(components)) {
    return graphError(state, 100, "Invalid parameter", "Param template.components must be an array.")
  }
  const entry = state.findTemplate(account.account.wabaId, template.name, language.code)
  if (entry === undefined || !["APPROVED", "PAUSED", "DISABLED"].includes(entry.status)) {
    return graphError(state, 132001, "Template name does not exist in the translation",
      `template name (${template.name}) does not exist in ${language.code}`)
  }
  if (entry.status === "PAUSED") {
    return graphError(state, 132015, "Template is Paused",
      `Template ${template.name} is paused due to low quality so it cannot be sent in a template message.`)
  }
  if (entry.status === "DISABLED") {
    return graphError(state, 132016, "Template is Disabled",
      `Template ${template.name} has been paused too many times due to low quality and is now permanently disabled.`)
  }
  const problem = checkComponents(entry.template, components as ReadonlyArray<unknown>, major)
  if (problem !== undefined) return graphError(state, problem.code, problem.title, problem.details)

  // Faults come after validation: a rehearsal's bad payload must still fail as it would at Meta.
  const faults = state.faults
  if (faults.hang > 0 && state.draw() < faults.hang) return { kind: "hang" }
  if (faults.serverError > 0 && state.draw() < faults.serverError) {
    return graphError(state, 131000, "Something went wrong", "An unknown error occurred (injected by the simulator).")
  }
  if (faults.unavailable > 0 && state.draw() < faults.unavailable) {
    return graphError(state, 2, "Service temporarily unavailable", undefined, { bareMessage: false })
  }
  if (faults.rateLimit > 0 && state.draw() < faults.rateLimit) {
    return graphError(state, 130429, "Rate limit hit", "Cloud API message throughput has been reached (injected by the simulator).")
  }

  const now = state.now()
  const refusal = state.enforcement.admit(account.account.phoneNumberId, digits, account.limits, now)
  if (refusal?.limit === "throughput") {
    return graphError(state, 130429, "Rate limit hit",
      `Cloud API message throughput has been reached: at most ${refusal.mps} messages per second for this phone number.`)
  }
  if (refusal?.limit === "pair") {
    return graphError(state, 131056, "(Business Account, Consumer Account) pair rate limit hit",
      `Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time. Retry in ${Math.ceil(refusal.retryAfterMs / 1000)} s.`)
  }
  if (refusal?.limit === "messaging") {
    return graphError(state, 131048, "Spam rate limit hit",
      `Message failed to send because there are restrictions on how many messages can be sent from this phone number: the messaging limit of ${refusal.messagingLimit} unique recipients in 24 hours is reached. Recipients messaged in the last 24 hours can still be sent to.`)
  }
  return accept(state, account, entry, { to, waId: digits, components, callbackData, at: now })
}

const accept = (
  state: SimulatorState,
  account: AccountState,
  entry: TemplateEntry,
  message: { to: string; waId: string; components: ReadonlyArray<unknown>; callbackData: string | undefined; at: number }
): GraphReply => {
  const n = ++state.counters.wamid
  const suffix = Math.floor(state.draw() * 0xffffffff).toString(16).toUpperCase().padStart(8, "0")
  // The shape of a real wamid: base64 of a binary blob that embeds the recipient.
  const wamid = `wamid.${Buffer.from(`\u0018\f${message.waId}\u0015\u0002\u0000\u0011\u0018\u0012${n.toString(16).toUpperCase().padStart(10, "0")}${suffix}\u0000`, "latin1").toString("base64")}`
  const faults = state.faults
  const undeliverable = faults.undeliverableRecipients.some((r) => r.replace(/^\+/, "") === message.waId) ||
    (faults.undeliverable > 0 && state.draw() < faults.undeliverable)
  state.counters.accepted++
  state.acceptedPerRecipient.set(message.waId, (state.acceptedPerRecipient.get(message.waId) ?? 0) + 1)
  state.messages.push({
    wamid,
    phoneNumberId: account.account.phoneNumberId,
    to: message.to,
    waId: message.waId,
    template: { name: entry.template.name, language: entry.template.language },
    components: message.components,
    ...(message.callbackData === undefined ? {} : { callbackData: message.callbackData }),
    at: message.at,
    undeliverable
  })
  state.webhooks?.enqueueMessage({
    wamid,
    sender: { phoneNumberId: account.account.phoneNumberId, wabaId: account.account.wabaId, displayPhoneNumber: account.digits },
    recipientId: message.waId,
    callbackData: message.callbackData,
    category: entry.template.category.toLowerCase(),
    outcome: undeliverable ? "undeliverable" : "deliver"
  })
  if (faults.templateEvents.length > 0) state.fireTemplateEvents()
  return json({
    messaging_product: "whatsapp",
    contacts: [{ input: message.to, wa_id: message.waId }],
    messages: [{ id: wamid, message_status: "accepted" }]
  })
}

// ---------------------------------------------------------------------------------------------------------
// Template components against the template
// ---------------------------------------------------------------------------------------------------------

interface Problem {
  readonly code: number
  readonly title: string
  readonly details: string
}

const MISSING = "Required parameter is missing"
const INVALID = "Parameter value is not valid"
const MISMATCH = "Parameter format does not match format in the created template"
const COUNT = "Number of parameters does not match the expected number of params"
const TEXT_RULE = "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"

const countProblem = (where: string, given: number, expected: number): Problem => ({
  code: 132000,
  title: COUNT,
  details: `${where}: number of localizable_params (${given}) does not match the expected number of params (${expected})`
})

/** Text parameters: present, not empty, and without the characters Meta refuses (132018 from v23, 100 before). */
const textProblem = (where: string, parameter: Json, major: number): Problem | undefined => {
  const text = parameter.text
  if (typeof text !== "string" || text === "") return { code: 131008, title: MISSING, details: `${where}: the parameter text is required` }
  if (/[\n\t]/.test(text) || / {5,}/.test(text)) {
    return major >= 23
      ? { code: 132018, title: "There was an issue with the parameters in your template.", details: `${where}: ${TEXT_RULE}` }
      : { code: 100, title: "Invalid parameter", details: `${where}: ${TEXT_RULE}` }
  }
  return undefined
}

/** Body parameters may also be currency or date_time: their fallback_value is what is shown. */
const bodyValue = (where: string, parameter: Json, major: number): { value: string } | Problem => {
  if (parameter.type === "text") {
    const problem = textProblem(where, parameter, major)
    return problem ?? { value: String(parameter.text) }
  }
  if (parameter.type === "currency" || parameter.type === "date_time") {
    const inner = parameter[parameter.type]
    const fallback = isObject(inner) ? inner.fallback_value : undefined
    return typeof fallback === "string" && fallback !== ""
      ? { value: fallback }
      : { code: 131008, title: MISSING, details: `${where}: ${parameter.type}.fallback_value is required` }
  }
  return { code: 132012, title: MISMATCH, details: `${where}: Format mismatch, expected TEXT, received ${String(parameter.type ?? "UNKNOWN").toUpperCase()}` }
}

/** Values of a text header or the body, matched to the placeholders positionally or by parameter_name. */
const textValues = (
  where: "header" | "body",
  names: ReadonlyArray<string>,
  format: Template.Template["parameter_format"],
  parameters: ReadonlyArray<unknown>,
  major: number
): Map<string, string> | Problem => {
  if (parameters.length !== names.length) return countProblem(where, parameters.length, names.length)
  const values = new Map<string, string>()
  for (const [i, parameter] of parameters.entries()) {
    const at = `${where}.parameters[${i}]`
    if (!isObject(parameter)) return { code: 100, title: "Invalid parameter", details: `${at} must be an object` }
    const value = where === "body"
      ? bodyValue(at, parameter, major)
      : parameter.type === "text"
      ? textProblem(at, parameter, major) ?? { value: String(parameter.text) }
      : { code: 132012, title: MISMATCH, details: `header: Format mismatch, expected TEXT, received ${String(parameter.type ?? "UNKNOWN").toUpperCase()}` }
    if ("code" in value) return value
    if (format === "NAMED") {
      const name = parameter.parameter_name
      if (typeof name !== "string" || name === "") {
        return { code: 132000, title: COUNT, details: `${at}: parameter_name is required; the template expects named parameters (${names.join(", ")})` }
      }
      if (!names.includes(name) || values.has(name)) {
        return { code: 132000, title: COUNT, details: `${at}: parameter_name "${name}" does not match the template's parameters (${names.join(", ")})` }
      }
      values.set(name, value.value)
    } else {
      values.set(names[i] ?? String(i + 1), value.value)
    }
  }
  return values
}

const MEDIA = new Set(["IMAGE", "VIDEO", "DOCUMENT"])

/** The keys of a header's media object (Meta: at least one of link and id; a filename only for a document). */
const MEDIA_KEYS: Readonly<Record<string, ReadonlyArray<string>>> = {
  image: ["link", "id"],
  video: ["link", "id"],
  document: ["link", "id", "filename"]
}

/** A media header parameter as Meta checks it: the object of the header's kind, a link or an id, nothing else. */
const mediaProblem = (kind: string, parameter: Json): Problem | undefined => {
  const at = `header.parameters[0].${kind}`
  const media = parameter[kind]
  if (!isObject(media)) return { code: 131008, title: MISSING, details: `header: the parameter ${kind} is required for a ${kind.toUpperCase()} header` }
  const allowed = MEDIA_KEYS[kind] ?? []
  const unexpected = Object.keys(media).find((key) => !allowed.includes(key))
  if (unexpected !== undefined) {
    return { code: 100, title: "Invalid parameter", details: `Unexpected key "${unexpected}" on param "${at}"; it takes ${allowed.join(", ")}` }
  }
  const { filename, id, link } = media
  if (link === undefined && id === undefined) {
    return { code: 131008, title: MISSING, details: `${at}: a link (a public URL) or the id of uploaded media is required` }
  }
  if (id !== undefined && (typeof id !== "string" || !/^\d+$/.test(id))) {
    return { code: 131009, title: INVALID, details: `${at}.id must be the id of uploaded media (a string of digits)` }
  }
  if (link !== undefined && (typeof link !== "string" || !/^https?:\/\/\S+$/.test(link) || !URL.canParse(link))) {
    return { code: 131009, title: INVALID, details: `${at}.link must be a public http(s) URL without spaces` }
  }
  if (filename !== undefined && (typeof filename !== "string" || filename.trim() === "")) {
    return { code: 131009, title: INVALID, details: `${at}.filename must be a non-empty string` }
  }
  return undefined
}

const headerProblem = (header: Template.HeaderComponent | undefined, parameters: ReadonlyArray<unknown>, format: Template.Template["parameter_format"], major: number): Problem | undefined => {
  if (header !== undefined && MEDIA.has(header.format)) {
    const kind = header.format.toLowerCase()
    const parameter = parameters[0]
    if (parameters.length > 1) return countProblem("header", parameters.length, 1)
    if (!isObject(parameter) || parameter.type !== kind) {
      const received = isObject(parameter) ? String(parameter.type ?? "UNKNOWN").toUpperCase() : "UNKNOWN"
      return { code: 132012, title: MISMATCH, details: `header: Format mismatch, expected ${header.format}, received ${received}` }
    }
    return mediaProblem(kind, parameter)
  }
  const text = header?.format === "TEXT" ? header.text ?? "" : ""
  const values = textValues("header", Template.placeholders(text), format, parameters, major)
  if ("code" in values) return values
  const filled = Template.hydrate(text, (name) => values.get(name))
  return filled.length > Template.LIMITS.headerText
    ? { code: 132005, title: "Translated text too long", details: `header: the filled-in text has ${filled.length} characters; at most ${Template.LIMITS.headerText}` }
    : undefined
}

const SUB_TYPES: Readonly<Record<string, string>> = { url: "URL", quick_reply: "QUICK_REPLY", copy_code: "COPY_CODE", flow: "FLOW" }

const buttonProblem = (button: Template.Button | undefined, given: Json, index: number, major: number): Problem | undefined => {
  const subType = given.sub_type
  if (typeof subType !== "string") return { code: 131008, title: MISSING, details: `buttons: sub_type is required for the button at index ${index}` }
  if (button === undefined) return { code: 131009, title: INVALID, details: `buttons: the template has no button at index ${index}` }
  if (SUB_TYPES[subType] !== button.type) {
    return { code: 131009, title: INVALID, details: `buttons: the button at index ${index} is of type ${button.type}, not ${subType}` }
  }
  const parameters = Array.isArray(given.parameters) ? given.parameters as ReadonlyArray<unknown> : []
  const where = `button at index ${index}`
  if (button.type === "URL") {
    const expected = Template.placeholders(button.url ?? "").length > 0 ? 1 : 0
    if (parameters.length !== expected) return countProblem(where, parameters.length, expected)
    const parameter = parameters[0]
    if (parameter === undefined) return undefined
    if (!isObject(parameter) || parameter.type !== "text") {
      return { code: 132012, title: MISMATCH, details: `${where}: Format mismatch, expected TEXT, received ${isObject(parameter) ? String(parameter.type).toUpperCase() : "UNKNOWN"}` }
    }
    return textProblem(where, parameter, major)
  }
  if (button.type === "COPY_CODE") {
    if (parameters.length !== 1) return countProblem(where, parameters.length, 1)
    const parameter = parameters[0]
    const code = isObject(parameter) && parameter.type === "coupon_code" ? parameter.coupon_code : undefined
    if (typeof code !== "string" || code === "" || code.length > Template.LIMITS.couponCode) {
      return { code: 131009, title: INVALID, details: `${where}: coupon_code must be 1 to ${Template.LIMITS.couponCode} characters` }
    }
    return undefined
  }
  if (button.type === "QUICK_REPLY") {
    const bad = parameters.some((p) => !isObject(p) || p.type !== "payload" || typeof p.payload !== "string")
    return bad ? { code: 131009, title: INVALID, details: `${where}: quick_reply parameters are {"type":"payload","payload":"…"}` } : undefined
  }
  return undefined
}

/** Checks `template.components` of a send against the template, the way Meta does. */
export const checkComponents = (template: Template.Template, components: ReadonlyArray<unknown>, major: number): Problem | undefined => {
  const header = template.components.find((c): c is Template.HeaderComponent => c.type === "HEADER")
  const body = template.components.find((c): c is Template.BodyComponent => c.type === "BODY")
  const buttons = template.components.find((c): c is typeof Template.ButtonsComponent.Type => c.type === "BUTTONS")?.buttons ?? []
  const seen = new Set<string>()
  let headerParameters: ReadonlyArray<unknown> = []
  let bodyParameters: ReadonlyArray<unknown> = []
  const buttonComponents = new Map<number, Json>()
  for (const [k, component] of components.entries()) {
    if (!isObject(component) || typeof component.type !== "string") {
      return { code: 131008, title: MISSING, details: `components[${k}]: the parameter type is required` }
    }
    const type = component.type.toLowerCase()
    if (component.parameters !== undefined && !Array.isArray(component.parameters)) {
      return { code: 100, title: "Invalid parameter", details: `components[${k}].parameters must be an array` }
    }
    const parameters = (component.parameters ?? []) as ReadonlyArray<unknown>
    if (type === "header" || type === "body") {
      if (seen.has(type)) return { code: 100, title: "Invalid parameter", details: `components: more than one ${type} component` }
      seen.add(type)
      if (type === "header") headerParameters = parameters
      else bodyParameters = parameters
    } else if (type === "button") {
      const index = Number(component.index)
      if (component.index === undefined || !Number.isInteger(index) || index < 0) {
        return { code: 131008, title: MISSING, details: `components[${k}]: the button index is required (0-based position in the template's buttons)` }
      }
      if (buttonComponents.has(index)) return { code: 100, title: "Invalid parameter", details: `components: two components for the button at index ${index}` }
      buttonComponents.set(index, component)
    } else {
      return { code: 100, title: "Invalid parameter", details: `components[${k}].type must be header, body or button, got ${JSON.stringify(component.type)}` }
    }
  }
  const headerIssue = headerProblem(header, headerParameters, template.parameter_format, major)
  if (headerIssue !== undefined) return headerIssue
  const bodyText = body?.text ?? ""
  const bodyValues = textValues("body", Template.placeholders(bodyText), template.parameter_format, bodyParameters, major)
  if ("code" in bodyValues) return bodyValues
  const filled = Template.hydrate(bodyText, (name) => bodyValues.get(name))
  if (filled.length > Template.LIMITS.bodyText) {
    return { code: 132005, title: "Translated text too long", details: `body: the filled-in text has ${filled.length} characters; at most ${Template.LIMITS.bodyText}` }
  }
  for (const [index, component] of buttonComponents) {
    const problem = buttonProblem(buttons[index], component, index, major)
    if (problem !== undefined) return problem
  }
  for (const [index, button] of buttons.entries()) {
    const needs = button.type === "COPY_CODE" || (button.type === "URL" && Template.placeholders(button.url ?? "").length > 0)
    if (needs && !buttonComponents.has(index)) {
      const kind = button.type === "URL" ? "Url" : "CopyCode"
      return { code: 131008, title: MISSING, details: `buttons: Button at index ${index} of type ${kind} requires a parameter` }
    }
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------------------
// GET /{waba-id}/message_templates
// ---------------------------------------------------------------------------------------------------------

const TEMPLATE_FIELDS = new Set([
  "id", "name", "language", "status", "category", "parameter_format", "components", "quality_score", "rejected_reason",
  "previous_category", "correct_category", "sub_category", "message_send_ttl_seconds", "library_template_name",
  "cta_url_link_tracking_opted_out"
])
// What Graph returns when no `fields` are asked for.
const DEFAULT_TEMPLATE_FIELDS = ["name", "parameter_format", "components", "language", "status", "category", "id"]
const MAX_LIMIT = 1000

const cursorOf = (index: number): string => Buffer.from(`cursor:${index}`).toString("base64url")
const indexOf = (cursor: string): number | undefined => {
  const match = /^cursor:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString())
  return match === null ? undefined : Number(match[1])
}

const fieldsOf = (query: URLSearchParams, known: ReadonlySet<string>, defaults: ReadonlyArray<string>, node: string): ReadonlyArray<string> | string => {
  const asked = query.get("fields")
  if (asked === null || asked.trim() === "") return defaults
  const fields = asked.split(",").map((field) => field.trim().replace(/\{.*$/, "")).filter((field) => field !== "")
  const unknown = fields.find((field) => !known.has(field))
  return unknown === undefined ? [...new Set(["id", ...fields])] : `Tried accessing nonexisting field (${unknown}) on node type (${node})`
}

const pick = (object: Readonly<Record<string, unknown>>, fields: ReadonlyArray<string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const field of fields) if (object[field] !== undefined) out[field] = object[field]
  return out
}

const listTemplates = (state: SimulatorState, version: string, wabaId: string, query: URLSearchParams): GraphReply => {
  const fields = fieldsOf(query, TEMPLATE_FIELDS, DEFAULT_TEMPLATE_FIELDS, "WhatsAppBusinessHSM")
  if (typeof fields === "string") return graphError(state, 100, fields, undefined)
  const limitText = query.get("limit")
  const limit = limitText === null ? 25 : Number(limitText)
  if (!Number.isInteger(limit) || limit < 1) return graphError(state, 100, "Invalid parameter", `Param limit must be a positive integer, got ${JSON.stringify(limitText)}`)
  const afterText = query.get("after")
  const after = afterText === null ? -1 : indexOf(afterText)
  if (after === undefined) return graphError(state, 100, "Invalid parameter", `Param after is not a cursor this endpoint returned: ${JSON.stringify(afterText)}`)
  // The filters Graph documents for this edge; name and content match substrings.
  const name = query.get("name")
  const status = query.get("status")?.split(",")
  const category = query.get("category")?.split(",")
  const language = query.get("language")?.split(",")
  const all = (state.templates.get(wabaId) ?? []).filter((entry) =>
    (name === null || entry.template.name.includes(name)) &&
    (status === undefined || status.includes(entry.status)) &&
    (category === undefined || category.includes(entry.template.category)) &&
    (language === undefined || language.includes(entry.template.language)))
  const start = after + 1
  const page = all.slice(start, start + Math.min(limit, MAX_LIMIT))
  const data = page.map((entry) => pick({ ...entry.raw, status: entry.status }, fields))
  if (page.length === 0) return json({ data })
  const end = start + page.length - 1
  const paging: Record<string, unknown> = { cursors: { before: cursorOf(start), after: cursorOf(end) } }
  if (end + 1 < all.length) {
    const next = new URLSearchParams(query)
    next.set("limit", String(Math.min(limit, MAX_LIMIT)))
    next.set("after", cursorOf(end))
    paging.next = `${state.baseUrl}/${version}/${wabaId}/message_templates?${next.toString()}`
  }
  return json({ data, paging })
}

// ---------------------------------------------------------------------------------------------------------
// GET /{phone-number-id} and GET /{waba-id}/phone_numbers
// ---------------------------------------------------------------------------------------------------------

const TIER_NAMES: Readonly<Record<string, string>> = {
  "50": "TIER_50", "250": "TIER_250", "1000": "TIER_1K", "2000": "TIER_2K", "10000": "TIER_10K", "100000": "TIER_100K", "-1": "TIER_UNLIMITED"
}

const phoneObject = (state: AccountState): Record<string, unknown> => {
  const a = state.account
  const tier = TIER_NAMES[String(a.messagingLimitTier)] ?? String(a.messagingLimitTier).toUpperCase()
  const connected = a.status === "CONNECTED"
  return {
    id: a.phoneNumberId,
    display_phone_number: a.displayPhoneNumber,
    verified_name: a.verifiedName,
    quality_rating: a.qualityRating,
    messaging_limit_tier: tier,
    whatsapp_business_manager_messaging_limit: tier,
    throughput: { level: a.throughputLevel },
    name_status: a.nameStatus,
    status: a.status,
    code_verification_status: "VERIFIED",
    platform_type: "CLOUD_API",
    account_mode: "LIVE",
    is_official_business_account: false,
    health_status: {
      can_send_message: connected ? "AVAILABLE" : "BLOCKED",
      entities: [{ entity_type: "PHONE_NUMBER", id: a.phoneNumberId, can_send_message: connected ? "AVAILABLE" : "BLOCKED" }]
    }
  }
}

const PHONE_FIELDS = new Set(Object.keys(phoneObject({
  account: {
    phoneNumberId: "", wabaId: "", displayPhoneNumber: "", verifiedName: "", qualityRating: "", messagingLimitTier: "TIER_250",
    throughputLevel: "STANDARD", nameStatus: "", status: ""
  },
  digits: "",
  limits: undefined as never
})))
// What Graph returns when no `fields` are asked for.
const DEFAULT_PHONE_FIELDS = ["verified_name", "code_verification_status", "display_phone_number", "quality_rating", "platform_type", "throughput", "id"]

const phoneNode = (state: SimulatorState, account: AccountState, query: URLSearchParams): GraphReply => {
  const fields = fieldsOf(query, PHONE_FIELDS, DEFAULT_PHONE_FIELDS, "WhatsAppBusinessPhoneNumber")
  return typeof fields === "string" ? graphError(state, 100, fields, undefined) : json(pick(phoneObject(account), fields))
}

const listNumbers = (state: SimulatorState, wabaId: string, query: URLSearchParams): GraphReply => {
  const fields = fieldsOf(query, PHONE_FIELDS, DEFAULT_PHONE_FIELDS, "WhatsAppBusinessPhoneNumber")
  if (typeof fields === "string") return graphError(state, 100, fields, undefined)
  const data = [...state.accounts.values()].filter((a) => a.account.wabaId === wabaId).map((a) => pick(phoneObject(a), fields))
  return json({ data, paging: { cursors: { before: cursorOf(0), after: cursorOf(Math.max(0, data.length - 1)) } } })
}
