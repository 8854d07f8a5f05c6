/**
 * The campaign operations (campaigns/Operations.ts, shared with `megaphone campaigns …`) as the admin API answers
 * them: each refusal becomes the HTTP error that fits it, with the message saying what to change in API terms
 * (which field, which endpoint). Also the CSV upload's `default` query parameters.
 */
import { Effect } from "effect"
import type {
  CampaignAccountGone,
  CampaignChanged,
  CampaignError,
  CampaignNotFound,
  CampaignTemplateGone,
  FilterInvalid,
  OperationRefused
} from "../campaigns/Errors.ts"
import { mapCampaignErrors } from "../campaigns/Errors.ts"
import { BadRequest, Conflict, InvalidFilter, NotFound } from "./Errors.ts"

/** The filter text's mistake as a 400 with where it is and how to fix it; `field` names the input it came from. */
export const invalidFilter = (error: FilterInvalid, field: string): InvalidFilter => {
  const e = error.problem
  return new InvalidFilter({
    message: `${field}: ${e.message}`,
    line: e.line,
    column: e.column,
    offset: e.offset,
    expected: e.expected,
    found: e.found,
    hint: e.hint
  })
}

/** A refusal of the campaign operations as the API's error: 404 for the campaign in the path, 409 for its state, else 400. */
export const apiError = (error: CampaignError): BadRequest | Conflict | NotFound | InvalidFilter => {
  switch (error._tag) {
    case "CampaignNotFound":
      return new NotFound({ entity: "campaign", key: error.id, message: `${error.message} See the ids with GET /api/campaigns.` })
    case "CampaignNameEmpty":
      return new BadRequest({ message: "\"name\" must not be empty: give the campaign a name." })
    case "AccountNotFound":
      return new BadRequest({ message: `${error.message} See GET /api/accounts, or add it with \`megaphone accounts add\`.` })
    case "LanguageAmbiguous":
      return new BadRequest({ message: `${error.message} Choose one with "language".` })
    case "TemplateNotSynced":
      return new BadRequest({
        message: `${error.message} See GET /api/templates?account=${error.account}, or run \`megaphone templates sync --account ${error.account}\`.`
      })
    case "TranslationNotSynced":
      return new BadRequest({ message: `${error.message} Choose one of them with "language".` })
    case "TemplateNotSendable":
      return new BadRequest({ message: error.message })
    case "CampaignAccountGone":
      return new Conflict({ message: `${error.message} Add it again with \`megaphone accounts add ${error.account} …\`.` })
    case "CampaignTemplateGone":
      return new Conflict({ message: `${error.message} Run \`megaphone templates sync --account ${error.account}\`.` })
    case "OperationRefused":
      return new Conflict({ message: error.message })
    case "CampaignChanged":
      return new Conflict({
        message: `Campaign ${error.campaign} changed while this request ran (${error.detail}). See GET /api/campaigns/${error.campaign} and try again.`
      })
    case "CsvUnreadable":
    case "CsvHeaderMismatch":
      return new BadRequest({ message: `The uploaded CSV: ${error.message}` })
    case "CsvEmpty":
      return new BadRequest({
        message: `The uploaded CSV is empty. It needs a header row (${error.header.join(",")}); ` +
          `GET /api/campaigns/${error.campaign}/template-csv gives it.`
      })
    case "FilterNotFound":
      return new BadRequest({ message: `filter: no filter named "${error.name}". See GET /api/filters, or give an expression in "where".` })
    case "FilterInvalid":
      return invalidFilter(error, "where")
    case "FilterUnknownColumns":
      return new BadRequest({ message: `${error.message} Fix the column names and try again.` })
    case "FilterAmbiguous":
      return new BadRequest({ message: "Give either \"filter\" (a saved filter's name) or \"where\" (an expression), not both." })
    case "FilterMissing":
      return new BadRequest({ message: "Give \"filter\" (a saved filter's name) or \"where\" (an expression such as city = \"Praha\")." })
    case "MappingMismatch":
      return new BadRequest({ message: error.message })
    case "RetryStatesInvalid":
      return new BadRequest({ message: `"states": ${error.message}` })
    case "RetryCodesUnknown":
      return new BadRequest({ message: `"codes": ${error.message}` })
    case "CloneStatesInvalid":
      return new BadRequest({ message: `"contacts_from.states": ${error.message}` })
    case "CloneTemplateMismatch":
      return new BadRequest({ message: `"contacts_from.campaign_id": ${error.message}` })
  }
}

/** The API error {@link apiError} turns each refusal into. */
export type ApiError<E> = E extends CampaignNotFound ? NotFound
  : E extends OperationRefused | CampaignAccountGone | CampaignTemplateGone | CampaignChanged ? Conflict
  : E extends FilterInvalid ? InvalidFilter
  : BadRequest

/** Answer the campaign operations' refusals with {@link apiError}; other errors (the storage's) pass unchanged. */
export const orApiError = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, CampaignError> | ApiError<Extract<E, CampaignError>>, R> =>
  // Sound as long as ApiError says what apiError does; TypeScript cannot follow a switch into a conditional type.
  mapCampaignErrors(apiError)(effect) as Effect.Effect<A, Exclude<E, CampaignError> | ApiError<Extract<E, CampaignError>>, R>

/** `VARIABLE=VALUE` pairs (the CSV upload's repeated `default` query parameter) as a record; a pair without `=` is a 400. */
export const parseDefaults = (pairs: ReadonlyArray<string>): Effect.Effect<Readonly<Record<string, string>>, BadRequest> => {
  const defaults: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf("=")
    if (at <= 0) {
      return Effect.fail(new BadRequest({
        message: `default=${pair} is not VARIABLE=VALUE. Write e.g. ?default=1=customer to fill variable 1 when a row leaves it empty.`
      }))
    }
    defaults[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return Effect.succeed(defaults)
}
