/**
 * Why a campaign operation did not happen, as data: what was refused, which campaign, account, template, CSV or
 * filter it concerns, and the core's own error where it has one (a filter's line and column, a mapping's issues).
 *
 * Each `message` is the domain sentence on its own. The CLI and the admin API add how to fix it in their own
 * terms (a command to run, an endpoint to call), so the same refusal reads right in both.
 */
import { Campaign, Filter, Mapping, Template } from "@megaphone/core"
import { Effect, Schema } from "effect"

// ---------------------------------------------------------------------------------------------------------
// Campaigns, accounts, templates

/** No campaign has this id. */
export class CampaignNotFound extends Schema.TaggedError<CampaignNotFound>()("CampaignNotFound", {
  id: Schema.String
}) {
  override get message(): string {
    return `No campaign with id "${this.id}".`
  }
}

/** A campaign needs a name that is not blank. */
export class CampaignNameEmpty extends Schema.TaggedError<CampaignNameEmpty>()("CampaignNameEmpty", {}) {
  override get message(): string {
    return "The campaign's name must not be empty."
  }
}

/** No account has this name (creating a campaign). */
export class AccountNotFound extends Schema.TaggedError<AccountNotFound>()("AccountNotFound", {
  name: Schema.String
}) {
  override get message(): string {
    return `No account named "${this.name}".`
  }
}

/** The template exists in several languages and none was chosen. */
export class LanguageAmbiguous extends Schema.TaggedError<LanguageAmbiguous>()("LanguageAmbiguous", {
  template: Schema.String,
  languages: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `Template ${this.template} exists in ${this.languages.length} languages: ${this.languages.join(", ")}.`
  }
}

/** The account's WABA has no synced template of this name. */
export class TemplateNotSynced extends Schema.TaggedError<TemplateNotSynced>()("TemplateNotSynced", {
  account: Schema.String,
  wabaId: Schema.String,
  template: Schema.String
}) {
  override get message(): string {
    return `Account ${this.account} (WABA ${this.wabaId}) has no synced template named ${this.template}.`
  }
}

/** The template is synced, but not in the chosen language; `lookup` says which languages it has. */
export class TranslationNotSynced extends Schema.TaggedError<TranslationNotSynced>()("TranslationNotSynced", {
  lookup: Template.TranslationNotFound
}) {
  override get message(): string {
    return `Template ${this.lookup.name} has no ${this.lookup.language} translation. Available: ${this.lookup.available.join(", ")}.`
  }
}

/** One reason a template cannot be sent, in English and Czech (`Template.TemplateProblem`). */
const TemplateProblem = Schema.Struct({ code: Schema.String, en: Schema.String, cs: Schema.String })

/** The template cannot be sent now (not approved, or a shape Megaphone cannot fill), with every reason. */
export class TemplateNotSendable extends Schema.TaggedError<TemplateNotSendable>()("TemplateNotSendable", {
  template: Schema.String,
  language: Schema.String,
  problems: Schema.Array(TemplateProblem)
}) {
  override get message(): string {
    return `Template ${this.template} (${this.language}) cannot be sent: ${this.problems.map((p) => p.en).join(" ")}`
  }
}

/** The account an existing campaign sends from was removed. */
export class CampaignAccountGone extends Schema.TaggedError<CampaignAccountGone>()("CampaignAccountGone", {
  campaign: Schema.String,
  account: Schema.String
}) {
  override get message(): string {
    return `Campaign ${this.campaign} sends from account "${this.account}", which no longer exists.`
  }
}

/** An existing campaign's template translation is no longer synced (Meta deleted it, or it was never synced here). */
export class CampaignTemplateGone extends Schema.TaggedError<CampaignTemplateGone>()("CampaignTemplateGone", {
  campaign: Schema.String,
  account: Schema.String,
  template: Schema.String,
  language: Schema.String,
  /** What the synced templates say: no template of that name, or which languages it still has. */
  lookup: Schema.Union([Template.TemplateNotFound, Template.TranslationNotFound])
}) {
  override get message(): string {
    return `Campaign ${this.campaign} uses template ${this.template} (${this.language}), which is not synced for account ` +
      `${this.account} (any more).`
  }
}

/** The campaign's state does not allow the operation (the core's `Campaign` refused it, saying what would work). */
export class OperationRefused extends Schema.TaggedError<OperationRefused>()("OperationRefused", {
  campaign: Schema.String,
  refusal: Campaign.CampaignOperationError
}) {
  override get message(): string {
    return this.refusal.message
  }
}

/** Someone else changed the campaign's state twice while the operation was deciding: re-read and decide again. */
export class CampaignChanged extends Schema.TaggedError<CampaignChanged>()("CampaignChanged", {
  campaign: Schema.String,
  /** The storage's account of the conflict. */
  detail: Schema.String
}) {
  override get message(): string {
    return `Campaign ${this.campaign} changed meanwhile (${this.detail}).`
  }
}

// ---------------------------------------------------------------------------------------------------------
// CSV files

/** The CSV is not CSV (the problem names the line where it is). */
export class CsvUnreadable extends Schema.TaggedError<CsvUnreadable>()("CsvUnreadable", {
  problem: Schema.String
}) {
  override get message(): string {
    return this.problem
  }
}

/** The CSV has no rows at all, not even the header the campaign's template needs. */
export class CsvEmpty extends Schema.TaggedError<CsvEmpty>()("CsvEmpty", {
  campaign: Schema.String,
  /** The header to write: `phone`, then the template's variables. */
  header: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `The CSV is empty. It needs a header row (${this.header.join(",")}).`
  }
}

/** The CSV's columns do not fit the template (every issue at once, each with its column and fix). */
export class CsvHeaderMismatch extends Schema.TaggedError<CsvHeaderMismatch>()("CsvHeaderMismatch", {
  mapping: Mapping.MappingError
}) {
  override get message(): string {
    return this.mapping.message
  }
}

// ---------------------------------------------------------------------------------------------------------
// The directory and its filters

/** No saved filter has this name. */
export class FilterNotFound extends Schema.TaggedError<FilterNotFound>()("FilterNotFound", {
  name: Schema.String
}) {
  override get message(): string {
    return `No filter named "${this.name}".`
  }
}

/** Filter text that does not parse; `problem` has the line, column, what was expected and a hint. */
export class FilterInvalid extends Schema.TaggedError<FilterInvalid>()("FilterInvalid", {
  problem: Filter.FilterParseError
}) {
  override get message(): string {
    return this.problem.message
  }
}

/** The filter reads columns the directory does not have; `problem` names them, with suggestions. */
export class FilterUnknownColumns extends Schema.TaggedError<FilterUnknownColumns>()("FilterUnknownColumns", {
  problem: Filter.UnknownColumnsError
}) {
  override get message(): string {
    return `The filter reads an ${this.problem.message}.`
  }
}

/** Both a saved filter and a filter expression were given. */
export class FilterAmbiguous extends Schema.TaggedError<FilterAmbiguous>()("FilterAmbiguous", {}) {
  override get message(): string {
    return "Give either a saved filter or a filter expression, not both."
  }
}

/** Neither a saved filter nor a filter expression was given where one is needed. */
export class FilterMissing extends Schema.TaggedError<FilterMissing>()("FilterMissing", {}) {
  override get message(): string {
    return "Give a saved filter or a filter expression."
  }
}

/** The directory mapping (phone column, variable columns, defaults) does not fit the template. */
export class MappingMismatch extends Schema.TaggedError<MappingMismatch>()("MappingMismatch", {
  mapping: Mapping.MappingError
}) {
  override get message(): string {
    return this.mapping.message
  }
}

// ---------------------------------------------------------------------------------------------------------
// Retry failed contacts (issue 11, item 3)

/** The states to retry name something other than `error` / `sending_failed`, or none at all. */
export class RetryStatesInvalid extends Schema.TaggedError<RetryStatesInvalid>()("RetryStatesInvalid", {
  given: Schema.Array(Schema.String),
  allowed: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const wrong = this.given.filter((s) => !this.allowed.includes(s))
    return this.given.length === 0 || wrong.length === 0
      ? `Name the states to retry: ${this.allowed.join(", ")} (or both).`
      : `Cannot retry contacts in ${wrong.join(", ")}: only ${this.allowed.join(" and ")} contacts can be retried.`
  }
}

/** A code to retry is not the last error of any failed contact of the campaign; `present` are the codes that are. */
export class RetryCodesUnknown extends Schema.TaggedError<RetryCodesUnknown>()("RetryCodesUnknown", {
  campaign: Schema.String,
  unknown: Schema.Array(Schema.String),
  present: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `No failed contact of campaign ${this.campaign} has the last error code ${this.unknown.join(", ")}; ` +
      (this.present.length === 0 ? "it has no failed contacts with an error code." : `the codes present are: ${this.present.join(", ")}.`)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Clone a campaign (issue 11, item 5)

/** The states to copy contacts from name something other than the ten contact states, or none at all. */
export class CloneStatesInvalid extends Schema.TaggedError<CloneStatesInvalid>()("CloneStatesInvalid", {
  given: Schema.Array(Schema.String),
  allowed: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const wrong = this.given.filter((s) => !this.allowed.includes(s))
    return this.given.length === 0 || wrong.length === 0
      ? `Name the states of the contacts to copy, comma-separated, from: ${this.allowed.join(", ")}.`
      : `${wrong.join(", ")} ${wrong.length === 1 ? "is not a contact state" : "are not contact states"}; the states are: ` +
        `${this.allowed.join(", ")}.`
  }
}

/** The campaign to copy contacts from sends another template (or language): its contacts' values would not fit. */
export class CloneTemplateMismatch extends Schema.TaggedError<CloneTemplateMismatch>()("CloneTemplateMismatch", {
  campaign: Schema.String,
  template: Schema.String,
  language: Schema.String,
  from: Schema.String,
  fromTemplate: Schema.String,
  fromLanguage: Schema.String
}) {
  override get message(): string {
    return `Campaign ${this.from} sends ${this.fromTemplate} (${this.fromLanguage}), not ${this.template} (${this.language}) as campaign ` +
      `${this.campaign} does: its contacts' values are for another template. Copy contacts from a campaign on the same template.`
  }
}

// ---------------------------------------------------------------------------------------------------------

const all = [
  CampaignNotFound,
  CampaignNameEmpty,
  AccountNotFound,
  LanguageAmbiguous,
  TemplateNotSynced,
  TranslationNotSynced,
  TemplateNotSendable,
  CampaignAccountGone,
  CampaignTemplateGone,
  OperationRefused,
  CampaignChanged,
  CsvUnreadable,
  CsvEmpty,
  CsvHeaderMismatch,
  FilterNotFound,
  FilterInvalid,
  FilterUnknownColumns,
  FilterAmbiguous,
  FilterMissing,
  MappingMismatch,
  RetryStatesInvalid,
  RetryCodesUnknown,
  CloneStatesInvalid,
  CloneTemplateMismatch
] as const

/** Any refusal of the campaign operations. */
export type CampaignError = InstanceType<(typeof all)[number]>

/** Whether `u` is one of the campaign operations' refusals. */
export const isCampaignError = (u: unknown): u is CampaignError => all.some((error) => u instanceof error)

/**
 * Turn the campaign operations' refusals into an interface's own errors with `f`; every other error (the
 * storage's, the interface's) passes unchanged.
 */
export const mapCampaignErrors = <B>(f: (error: CampaignError) => B) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, CampaignError> | B, R> =>
  // The cast is sound: what isCampaignError rejects is not a CampaignError.
  Effect.mapError(effect, (error) => (isCampaignError(error) ? f(error) : error as Exclude<E, CampaignError>))
