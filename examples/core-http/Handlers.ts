/**
 * The two endpoints of the core-http example as plain functions: a decoded-at-the-boundary request in, an HTTP
 * status and a JSON answer out. Only `@megaphone/core` and `effect`'s Result and Schema: no server, no Effect
 * runtime — the core's functions are pure, so any framework (or none) can call them.
 */
import { Mapping, Phone, Template } from "@megaphone/core"
import { Result, Schema } from "effect"

/** What an endpoint answers: the HTTP status and the JSON body. */
export interface Answer {
  readonly status: number
  readonly body: unknown
}

/** Where in the request a problem is: the request itself, the template, the mapping, the phone, the row's values. */
export type Stage = "request" | "template" | "mapping" | "phone" | "row" | "payload"

// ---------------------------------------------------------------------------------------------------------
// Requests, decoded with Schema where they cross the boundary
// ---------------------------------------------------------------------------------------------------------

const Strings = Schema.Record(Schema.String, Schema.String)

/** `POST /preview`: a template as Graph lists it, one contact (a positional CSV row or a record + mapping), defaults. */
export const PreviewRequest = Schema.Struct({
  /** One element of Graph's `GET /{WABA_ID}/message_templates` `data[]`, decoded by `Template.decode`. */
  template: Schema.Unknown,
  /** The language the campaign sends in; checked against the template's. */
  language: Schema.optionalKey(Schema.String),
  /** The country of numbers written without a country code (default CZ). */
  defaultCountry: Schema.optionalKey(Schema.String),
  /** A positional CSV (SPEC §4 B): the header and one row's cells, phone first, then one column per variable. */
  csv: Schema.optionalKey(Schema.Struct({ header: Schema.Array(Schema.String), row: Schema.Array(Schema.String) })),
  /** A directory contact's columns (SPEC §4 A), read through `mapping`. */
  record: Schema.optionalKey(Strings),
  /** With `record`: the phone column and, per variable key, its column and/or default. */
  mapping: Schema.optionalKey(Schema.Struct({
    phoneColumn: Schema.String,
    variables: Schema.optionalKey(Schema.Record(Schema.String, Schema.Struct({
      column: Schema.optionalKey(Schema.String),
      default: Schema.optionalKey(Schema.String)
    })))
  })),
  /** Per variable key, the value used when the contact's is empty. */
  defaults: Schema.optionalKey(Strings),
  /** Echoed by Meta in status webhooks (`biz_opaque_callback_data`). */
  callbackData: Schema.optionalKey(Schema.String)
})

/** `POST /phone`: a number as people write it. */
export const PhoneRequest = Schema.Struct({
  phone: Schema.String,
  defaultCountry: Schema.optionalKey(Schema.String),
  requireMobile: Schema.optionalKey(Schema.Boolean)
})

// ---------------------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------------------

/** A 400 answer: the core error's tag, where it happened, its message, and its own fields (what, where, how to fix). */
const badRequest = (stage: Stage, tag: string, message: string, fields: Readonly<Record<string, unknown>> = {}): Answer => ({
  status: 400,
  body: { _tag: tag, stage, message, ...fields }
})

/** A 400 for a core error: every one of them is a tagged error whose message says what to fix. */
const coreError = (stage: Stage, error: Mapping.MappingError | Mapping.ParameterError | Phone.InvalidPhoneNumber |
  Phone.UnsupportedCountry | Template.TemplateDecodeError | Mapping.CallbackDataTooLong | Mapping.ParametersForAnotherTemplate): Answer => {
  switch (error._tag) {
    case "MappingError":
      return badRequest(stage, error._tag, error.message, { template: error.template, issues: error.issues })
    case "ParameterError":
      return badRequest(stage, error._tag, error.message, { problems: error.problems })
    case "InvalidPhoneNumber":
      return badRequest(stage, error._tag, error.message, { input: error.input, reason: error.reason })
    case "UnsupportedCountry":
      return badRequest(stage, error._tag, error.message, { country: error.country })
    default:
      return badRequest(stage, error._tag, error.message)
  }
}

/** Decodes a JSON body against a request schema, or answers 400 naming the field that is wrong. */
const decodeRequest = <A>(schema: Schema.Decoder<A>, body: unknown): Result.Result<A, Answer> =>
  Result.mapError(
    Schema.decodeUnknownResult(schema)(body, { errors: "all", onExcessProperty: "error" }),
    (error) => badRequest("request", "BadRequest", `The request body does not fit: ${error.message}`)
  )

/** The country for numbers without a country code, checked by the core (`cz` is fine, `XX` is not). */
const country = (code: string | undefined): Result.Result<string, Answer> =>
  code === undefined ? Result.succeed(Phone.DEFAULT_COUNTRY) : Result.mapError(Phone.parseCountry(code), (e) => coreError("request", e))

// ---------------------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------------------

/**
 * `POST /preview`: the exact Cloud API request body (`POST /{PHONE_NUMBER_ID}/messages`) this contact would be
 * sent, or a 400 with the core's explanation of what is wrong and how to fix it.
 */
export const preview = (body: unknown): Answer => {
  const request = decodeRequest(PreviewRequest, body)
  if (Result.isFailure(request)) return request.failure
  const { csv, record, mapping, defaults = {} } = request.success
  const defaultCountry = country(request.success.defaultCountry)
  if (Result.isFailure(defaultCountry)) return defaultCountry.failure

  const decoded = Template.decode(request.success.template)
  if (Result.isFailure(decoded)) return coreError("template", decoded.failure)
  const template = decoded.success
  // Only APPROVED templates in the campaign's language, with sound placeholders, can be sent.
  const usability = Template.usability(template, request.success.language)
  if (!usability.usable) {
    return badRequest("template", "TemplateUnusable", usability.problems.map((p) => p.en).join(" "), {
      template: `${template.name} (${template.language})`,
      problems: usability.problems.map(({ code, en }) => ({ code, explanation: en }))
    })
  }

  // One contact: a positional CSV row, or a record read through a directory mapping.
  let validMapping: Result.Result<Mapping.ValidMapping, Mapping.MappingError>
  let row: Readonly<Record<string, string>>
  if (csv !== undefined && record === undefined && mapping === undefined) {
    validMapping = Mapping.fromCsvHeader(template, csv.header, defaults)
    row = Mapping.csvRow(csv.header, csv.row)
  } else if (record !== undefined && mapping !== undefined && csv === undefined) {
    const variables: Record<string, Mapping.VariableSource> = { ...mapping.variables }
    for (const [key, value] of Object.entries(defaults)) variables[key] = { ...variables[key], default: value }
    validMapping = Mapping.validate(template, { phoneColumn: mapping.phoneColumn, variables }, Object.keys(record))
    row = record
  } else {
    return badRequest("request", "BadRequest",
      "Give one contact: either `csv` ({ header, row }) or `record` together with `mapping` ({ phoneColumn, variables }).")
  }
  if (Result.isFailure(validMapping)) return coreError("mapping", validMapping.failure)

  const phone = Phone.normalize(row[validMapping.success.phoneColumn] ?? "", { defaultCountry: defaultCountry.success })
  if (Result.isFailure(phone)) return coreError("phone", phone.failure)
  const parameters = Mapping.resolve(template, validMapping.success, row)
  if (Result.isFailure(parameters)) return coreError("row", parameters.failure)

  const callbackData = request.success.callbackData
  const payload = Mapping.buildPayload(template, phone.success.waId, parameters.success,
    callbackData === undefined ? {} : { bizOpaqueCallbackData: callbackData })
  if (Result.isFailure(payload)) return coreError("payload", payload.failure)
  return { status: 200, body: payload.success }
}

/** `POST /phone`: the number in E.164 and as the wa_id the Cloud API takes, or why it cannot be sent to. */
export const phone = (body: unknown): Answer => {
  const request = decodeRequest(PhoneRequest, body)
  if (Result.isFailure(request)) return request.failure
  const defaultCountry = country(request.success.defaultCountry)
  if (Result.isFailure(defaultCountry)) return defaultCountry.failure
  const normalized = Phone.normalize(request.success.phone, {
    defaultCountry: defaultCountry.success,
    ...(request.success.requireMobile === undefined ? {} : { requireMobile: request.success.requireMobile })
  })
  if (Result.isFailure(normalized)) return coreError("phone", normalized.failure)
  const { e164, waId, country: numberCountry, type } = normalized.success
  return { status: 200, body: { input: request.success.phone, e164, waId, country: numberCountry, type } }
}
