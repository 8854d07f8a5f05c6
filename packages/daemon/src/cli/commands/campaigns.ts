/**
 * `megaphone campaigns …` (SPEC §3, §4, §7; the seed's "+ Vytvořit kampaň"): create a campaign on an account's
 * synced template, hand out the blank CSV of its variables, add contacts from a CSV or from the directory, move
 * it through its lifecycle, and show it with its contacts — directly on the database, or through a running
 * daemon's admin API (cli/Remote.ts).
 *
 * The operations themselves are campaigns/Operations.ts, which the admin API shares; this file reads the flags
 * and files, says the operations' refusals in CLI terms (the command that fixes them), and prints. Both routes
 * produce the JSON shapes of campaigns/Json.ts, and everything printed is made from those, so the output is
 * the same whichever route the data took.
 */
import { type FileHandle, open, readFile, writeFile } from "node:fs/promises"
import { Campaign, ContactState, Ports, Schedule, SendWindow, Template } from "@megaphone/core"
import { Clock, Console, Effect, Option, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { type CampaignError, CampaignNotFound, mapCampaignErrors } from "../../campaigns/Errors.ts"
import * as Json from "../../campaigns/Json.ts"
import * as Operations from "../../campaigns/Operations.ts"
import { forEachPageEffect } from "../../campaigns/Paging.ts"
import * as Rows from "../../campaigns/Rows.ts"
import * as Scheduler from "../../campaigns/Scheduler.ts"
import { type Delimiter, safeCsvLine, UTF8_BOM } from "../Csv.ts"
import { CommandFailed, usageError } from "../Failure.ts"
import { cell, excelFlag, json, outputFile, printJson, table } from "../Output.ts"
import { adminUrl, type Client, type Refusal, type Target, target, throughApi } from "../Remote.ts"
import { noAccount, withStorage } from "../Session.ts"
import { databaseUrl } from "../Storage.ts"

type Storage = Ports.Storage.StorageShape
type Counts = Campaign.ContactCounts

const campaignId = Argument.String("ID").pipe(Argument.withDescription("the campaign id (see `megaphone campaigns list`)"))

/** A usage mistake the flag parser cannot see (flags that exclude each other): help with the error, exit 2. */
const usage = (command: string, message: string) => usageError(["megaphone", "campaigns", command], message)

// ---------------------------------------------------------------------------------------------------------
// The operations' refusals in CLI terms

/** What went wrong and the command that fixes it; `file` names the CSV file for CSV refusals. */
const explain = (error: CampaignError, file: string): string => {
  switch (error._tag) {
    case "CampaignNotFound":
      return `${error.message} See the ids with \`megaphone campaigns list\`.`
    case "CampaignNameEmpty":
      return "--name must not be empty."
    case "AccountNotFound":
      return noAccount(error.name)
    case "LanguageAmbiguous":
      return `${error.message} Choose one with --language.`
    case "TemplateNotSynced":
      return `${error.message} See \`megaphone templates list --account ${error.account}\`, or run ` +
        `\`megaphone templates sync --account ${error.account}\`.`
    case "TranslationNotSynced":
      return error.lookup.message
    case "TemplateNotSendable":
    case "OperationRefused":
    case "FilterUnknownColumns":
    case "MappingMismatch":
      return error.message
    case "CampaignAccountGone":
      return noAccount(error.account)
    case "CampaignTemplateGone":
      return `Campaign ${error.campaign} uses template ${error.template} (${error.language}), which is not synced for account ` +
        `${error.account} (any more): ${error.lookup.message} Run \`megaphone templates sync --account ${error.account}\`.`
    case "CampaignChanged":
      return `Campaign ${error.campaign} changed while this command ran (${error.detail}). ` +
        `See \`megaphone campaigns show ${error.campaign}\` and try again.`
    case "CsvUnreadable":
    case "CsvHeaderMismatch":
      return `${file}: ${error.message}`
    case "CsvEmpty":
      return `${file} is empty. It needs a header row (${error.header.join(",")}); \`megaphone campaigns template-csv ID\` writes one.`
    case "FilterNotFound":
      return `${error.message} See \`megaphone filters list\`, or use --where EXPR.`
    case "FilterInvalid":
      return `--where: ${error.message}`
    case "FilterAmbiguous":
    case "FilterMissing":
      return "Give exactly one of --csv FILE, --filter NAME or --where EXPR."
    case "RetryStatesInvalid":
      return `--state: ${error.message}`
    case "RetryCodesUnknown":
      return `--code: ${error.message} See them with \`megaphone campaigns contacts ${error.campaign} --state error\` (or sending_failed).`
    case "CloneStatesInvalid":
      return `--state: ${error.message}`
    case "CloneTemplateMismatch":
      return `--contacts-from: ${error.message}`
  }
}

/**
 * Run a campaign operation on the storage the flags name; its refusals become `CommandFailed`s (exit 1) in CLI
 * terms. `file` is the CSV file the operation reads, if any.
 */
const onStorage = <A, E extends { readonly message: string }, R>(
  databaseUrl: Option.Option<string>,
  operation: (storage: Storage) => Effect.Effect<A, E, R>,
  file = "The CSV"
) =>
  Ports.Storage.Storage.use(operation).pipe(
    mapCampaignErrors((error) => new CommandFailed({ message: explain(error, file) })),
    withStorage(databaseUrl)
  )

/**
 * The admin API's refusals in CLI terms: the same refusal as {@link explain} says it, recognised by the API's
 * wording (campaigns' errors travel as `{ _tag, message }`), with the API's hints (an endpoint, a JSON field)
 * replaced by the command or flag that fixes it. A message not recognised stays as the API wrote it.
 */
const explainApi = (file: string) => (refusal: Refusal): string => {
  if (refusal._tag === "NotFound" && refusal.entity === "campaign") return explain(new CampaignNotFound({ id: refusal.key }), file)
  if (refusal._tag === "InvalidFilter") return refusal.message.replace(/^where: /, "--where: ")
  const m = refusal.message
  const rewrites: ReadonlyArray<readonly [RegExp, (...groups: Array<string>) => string]> = [
    [/^No account named "(.*)"\. See GET \/api\/accounts, or add it with `megaphone accounts add`\.$/s, (name) => noAccount(name)],
    [/^Campaign \S+ sends from account "(.*)", which no longer exists\. Add it again with .*$/s, (name) => noAccount(name)],
    [/^(Template \S+ has no \S+ translation)\. Available: (.*)\. Choose one of them with "language"\.$/s,
      (head, available) => `${head} (any more). Available: ${available}. Choose one of them with --language.`],
    [/^(.*) Choose one with "language"\.$/s, (head) => `${head} Choose one with --language.`],
    [/^(.*) See GET \/api\/templates\?account=(.*), or run (`megaphone templates sync --account .*`\.)$/s,
      (head, account, sync) => `${head} See \`megaphone templates list --account ${account}\`, or run ${sync}`],
    [/^The uploaded CSV is empty\. It needs a header row \((.*)\); GET \/api\/campaigns\/.*\/template-csv gives it\.$/s,
      (header) => `${file} is empty. It needs a header row (${header}); \`megaphone campaigns template-csv ID\` writes one.`],
    [/^The uploaded CSV: (.*)$/s, (problem) => `${file}: ${problem}`],
    [/^filter: no filter named "(.*)"\. See GET \/api\/filters, or give an expression in "where"\.$/s,
      (name) => `No filter named "${name}". See \`megaphone filters list\`, or use --where EXPR.`],
    [/^(.*) Fix the column names and try again\.$/s, (head) => head],
    [/^"states": (.*)$/s, (problem) => `--state: ${problem}`],
    [/^"contacts_from\.states": (.*)$/s, (problem) => `--state: ${problem}`],
    [/^"contacts_from\.campaign_id": (.*)$/s, (problem) => `--contacts-from: ${problem}`],
    [/^"codes": (No failed contact of campaign (\S+) .*)$/s, (problem, id) =>
      `--code: ${problem} See them with \`megaphone campaigns contacts ${id} --state error\` (or sending_failed).`],
    [/^Campaign (\S+) changed while this request ran \((.*)\)\. See GET \/api\/campaigns\/\S+ and try again\.$/s,
      (id, detail) => `Campaign ${id} changed while this command ran (${detail}). See \`megaphone campaigns show ${id}\` and try again.`]
  ]
  for (const [pattern, rewrite] of rewrites) {
    const match = pattern.exec(m)
    if (match !== null) return rewrite(...match.slice(1).map((g) => g ?? ""))
  }
  return m
}

/**
 * Run a command's read or operation on its target: `direct` on the database, `remote` through the admin API;
 * either way refusals are said in CLI terms. `file` is the CSV file the operation reads, if any.
 */
const onTarget = <A, E extends { readonly message: string }, R, E2, R2>(
  on: Target,
  direct: (storage: Storage) => Effect.Effect<A, E, R>,
  remote: (client: Client) => Effect.Effect<A, E2, R2>,
  file = "The CSV"
) =>
  on._tag === "Direct"
    ? onStorage(on.databaseUrl, direct, file)
    : throughApi(on, remote, explainApi(file))

const path = (command: string) => ["megaphone", "campaigns", command]

/** A campaign as the CLI prints it: the API's answer without the operations its state allows (those are in `show`'s text). */
const withoutOperations = <C extends { readonly allowed_operations: unknown }>(campaign: C): Omit<C, "allowed_operations"> => {
  const { allowed_operations: _operations, ...rest } = campaign
  return rest
}

// ---------------------------------------------------------------------------------------------------------
// campaigns create

const maxMpsFlag = Flag.String("max-mps").pipe(
  Flag.withDescription("the campaign's own messages/second cap below the number's, e.g. 5 or 0.5 (others on the number use the rest)"),
  Flag.optional
)

const create = Command.make(
  "create",
  {
    name: Flag.String("name").pipe(Flag.withDescription("the campaign's name")),
    account: Flag.String("account").pipe(Flag.withDescription("the account (phone number) to send from")),
    template: Flag.String("template").pipe(Flag.withDescription("the synced template to send")),
    language: Flag.String("language").pipe(Flag.withDescription("the template's language, when it has several"), Flag.optional),
    note: Flag.String("note").pipe(Flag.withDescription("a note for people"), Flag.optional),
    maxMps: maxMpsFlag,
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      // Checked before the database is opened: a blank name is a usage mistake.
      if (Result.isFailure(Operations.campaignName(input.name))) return yield* usage("create", "--name must not be empty.")
      const maxMps = Option.isNone(input.maxMps) ? undefined : Campaign.parseMaxMps(input.maxMps.value)
      if (maxMps !== undefined && Result.isFailure(maxMps)) return yield* usage("create", `--max-mps: ${maxMps.failure}`)
      const on = yield* target(path("create"), input)
      const request = {
        name: input.name,
        account: input.account,
        template: input.template,
        ...Option.match(input.language, { onNone: () => ({}), onSome: (language) => ({ language }) }),
        ...Option.match(input.note, { onNone: () => ({}), onSome: (note) => ({ note }) }),
        ...(maxMps === undefined ? {} : { max_mps: maxMps.success })
      }
      const created = yield* onTarget(
        on,
        (storage) =>
          Effect.map(Operations.create(storage, {
            ...request,
            language: Option.getOrUndefined(input.language),
            note: Option.getOrUndefined(input.note),
            maxMps: maxMps?.success
          }), ({ campaign, counts }) => Json.campaign(campaign, counts)),
        (client) => Effect.map(client.campaigns.create({ payload: request }), withoutOperations)
      )
      if (input.json) return yield* printJson(created)
      // Only the id on stdout, so `ID=$(megaphone campaigns create …)` works; the guidance goes to stderr.
      yield* Console.log(created.id)
      yield* Console.error(`Created campaign ${created.id} "${created.name}" (draft): ${created.template} ` +
        `(${created.language}) from ${created.account}.`)
      yield* Console.error(`Next: megaphone campaigns template-csv ${created.id} -o contacts.csv, then ` +
        `megaphone campaigns add-contacts ${created.id} --csv contacts.csv`)
    })
).pipe(Command.withDescription("Create a draft campaign sending a synced template from an account."))

// ---------------------------------------------------------------------------------------------------------
// campaigns template-csv

const templateCsv = Command.make(
  "template-csv",
  {
    id: campaignId,
    output: outputFile("the CSV"),
    excel: excelFlag(),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const { id, output, json: asJson } = input
      const blank = yield* onTarget(
        yield* target(path("template-csv"), input),
        (storage) => Effect.map(Operations.blankCsv(storage, id), ({ campaign, blank }) => Json.blankCsv(campaign, blank)),
        (client) => client.campaigns.templateCsv({ params: { id } })
      )
      const csv = input.excel ? UTF8_BOM + Rows.guideCsv(blank, ";") : blank.csv
      if (Option.isSome(output)) {
        const path = output.value
        yield* Effect.tryPromise({
          try: () => writeFile(path, csv, "utf8"),
          catch: (error) => new CommandFailed({ message: `Cannot write ${path}: ${String(error)}. Choose another -o path.` })
        })
      }
      if (asJson) return yield* printJson({ ...blank, csv, file: Option.getOrNull(output) })
      if (Option.isNone(output)) yield* Console.log(csv.trimEnd())
      else yield* Console.log(`Wrote the blank CSV of campaign ${blank.campaign} to ${output.value}.`)
      // The column docs go to stderr so stdout stays a CSV when redirected.
      yield* Console.error(`Columns (in this order; the names do not matter, the order does):`)
      for (const doc of blank.columns) yield* Console.error(`  ${doc}`)
      yield* Console.error(`Rows whose first cell starts with ${Rows.NOTE} are the guide (the template's text, an example) and are ` +
        `skipped; add one row per contact below them. A file without a header row works too.`)
    })
).pipe(Command.withDescription(
  "The blank CSV for the campaign's template: phone, then one column per variable, with the template's text and an example row."
))

// ---------------------------------------------------------------------------------------------------------
// campaigns add-contacts

/** The bytes of the CSV file `path`, or a failure naming the flag that gave it. */
const readCsvFile = (path: string) =>
  Effect.tryPromise({
    try: () => readFile(path),
    catch: (error) => new CommandFailed({ message: `Cannot read ${path}: ${String(error)}. Check the path given to --csv.` })
  })

/** The contacts of the CSV file `path` for the campaign's template (SPEC §4 B). */
const fromCsvFile = (
  path: string,
  defaults: Readonly<Record<string, string>>,
  campaign: Ports.Storage.CampaignRecord,
  template: Template.Template
) => readCsvFile(path).pipe(Effect.flatMap((bytes) => Effect.fromResult(Rows.fromCsv(campaign.id, template, bytes, defaults))))

type Report = typeof Json.AddContactsReport.Type

/** The one-line summary of adding contacts: added (to send, invalid, opted out), duplicates, rejected. */
const summary = (report: Report): string => {
  const sendable = report.added - report.invalid - report.suppressed
  return `Added ${report.added} contact(s) to campaign ${report.campaign}: ${sendable} to send, ${report.invalid} invalid record(s), ` +
    `${report.suppressed} suppressed (opted out); ${report.already_in_campaign.length} duplicate(s) skipped (already in the ` +
    `campaign), ${report.rejected.length} row(s) rejected.`
}

/** Up to 20 items and how many more: a list of 100,000 duplicates helps nobody on a terminal. */
const sample = (items: ReadonlyArray<string>): string =>
  items.length <= 20 ? items.join(", ") : `${items.slice(0, 20).join(", ")} and ${items.length - 20} more (see --json)`

const addContacts = Command.make(
  "add-contacts",
  {
    id: campaignId,
    csv: Flag.String("csv").pipe(Flag.withDescription("a CSV file: phone, then one column per variable (see template-csv)"), Flag.optional),
    filter: Flag.String("filter").pipe(Flag.withDescription("directory contacts matching this saved filter"), Flag.optional),
    where: Flag.String("where").pipe(Flag.withDescription("directory contacts matching this filter expression"), Flag.optional),
    phoneColumn: Flag.String("phone-column").pipe(Flag.withDescription("the directory column holding the phone number"), Flag.optional),
    vars: Flag.KeyValuePair("var").pipe(Flag.withDescription("VARIABLE=COLUMN: the directory column filling a variable"), Flag.optional),
    defaults: Flag.KeyValuePair("default").pipe(Flag.withDescription("VARIABLE=VALUE: used when the contact's value is empty"), Flag.optional),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const sources = [input.csv, input.filter, input.where].filter(Option.isSome).length
      if (sources !== 1) {
        return yield* usage("add-contacts", "Give exactly one of --csv FILE, --filter NAME or --where EXPR.")
      }
      if (Option.isSome(input.csv) && (Option.isSome(input.phoneColumn) || Option.isSome(input.vars))) {
        return yield* usage("add-contacts", "--phone-column and --var are for directory contacts; a CSV's column order decides the variables.")
      }
      if (Option.isNone(input.csv) && Option.isNone(input.phoneColumn)) {
        return yield* usage("add-contacts", "--phone-column COLUMN is required with --filter or --where.")
      }
      const defaults = Option.getOrElse(input.defaults, () => ({}))
      const directory = {
        filter: Option.getOrUndefined(input.filter),
        where: Option.getOrUndefined(input.where),
        phoneColumn: Option.getOrElse(input.phoneColumn, () => ""),
        vars: Option.getOrElse(input.vars, () => ({})),
        defaults
      }
      const report = yield* onTarget(
        yield* target(path("add-contacts"), input),
        (storage) => {
          // Called once the campaign is known to take contacts: a stopped campaign does not even read the file.
          const collect = (
            campaign: Ports.Storage.CampaignRecord,
            template: Template.Template
          ): Effect.Effect<Rows.Candidates | Rows.CandidateBatches, CommandFailed | CampaignError | Ports.Storage.StorageError> =>
            Option.isSome(input.csv)
              ? fromCsvFile(input.csv.value, defaults, campaign, template)
              : Rows.fromDirectory(storage, template, directory)
          return Effect.map(Operations.addContacts(storage, input.id, collect), Json.addContactsReport)
        },
        // Either request's errors end in `throughApi`'s mapping; `unknown` lets the two branches be one type.
        (client): Effect.Effect<typeof Json.AddContactsReport.Type, unknown> =>
          Option.isSome(input.csv)
            ? Effect.flatMap(readCsvFile(input.csv.value), (bytes) =>
              client.campaigns.addFromCsv({
                params: { id: input.id },
                query: { default: Object.entries(defaults).map(([variable, value]) => `${variable}=${value}`) },
                payload: bytes
              }))
            : client.campaigns.addFromDirectory({
              params: { id: input.id },
              payload: {
                ...(directory.filter === undefined ? {} : { filter: directory.filter }),
                ...(directory.where === undefined ? {} : { where: directory.where }),
                phone_column: directory.phoneColumn,
                vars: directory.vars,
                defaults
              }
            }),
        Option.getOrUndefined(input.csv)
      )
      if (input.json) return yield* printJson(report)
      yield* Console.log(summary(report))
      if (report.already_in_campaign.length > 0) yield* Console.log(`Already in the campaign (skipped): ${sample(report.already_in_campaign)}`)
      if (report.rejected.length > 0) {
        yield* Console.log(`${report.rejected.length} row(s) not added — fix them and add the file again (rows already added are skipped):`)
        for (const r of report.rejected) yield* Console.log(`  ${r.line === null ? r.phone : `line ${r.line} (${cell(r.phone)})`}: ${r.reason}`)
      }
      yield* Console.log(`Campaign ${report.campaign} is ${report.state}.`)
    })
).pipe(Command.withDescription("Add contacts from a CSV file, or from the directory through a filter, with defaults for empty values."))

// ---------------------------------------------------------------------------------------------------------
// campaigns start | pause | resume | stop

/** Said after a stop's count: a send already on its way cannot be called back (docs/state_machine.md). */
const STOP_IN_FLIGHT = " (one already on its way to Meta still ends as sent)"

const lifecycleCommand = (name: Operations.Operation, description: string) =>
  Command.make(name, { id: campaignId, databaseUrl, adminUrl, json }, (input) =>
    Effect.gen(function*() {
      const { id, json: asJson } = input
      const changed = yield* onTarget(
        yield* target(path(name), input),
        (storage) =>
          Effect.map(Operations.operate(storage, id, name, "CLI"), ({ campaign, counts, cancelled }) => ({
            ...Json.campaign(campaign, counts),
            cancelled
          })),
        (client) => Effect.map(client.campaigns[name]({ params: { id } }), withoutOperations)
      )
      const { cancelled, ...shown } = changed
      if (asJson) return yield* printJson(name === "stop" ? changed : shown)
      yield* Console.log(`Campaign ${shown.id} "${shown.name}": ${Campaign.describe(Json.lifecycle(shown))}` +
        `${name === "stop" ? `; ${cancelled} contact(s) not yet sent were cancelled${STOP_IN_FLIGHT}` : ""}.`)
    })).pipe(Command.withDescription(description))

const start = lifecycleCommand("start", "Start sending a draft campaign.")
const pause = lifecycleCommand("pause", "Pause a running campaign.")
const resume = lifecycleCommand("resume", "Resume a paused campaign.")
const stop = lifecycleCommand("stop", "End a campaign for good; its contacts not yet sent are cancelled.")

// ---------------------------------------------------------------------------------------------------------
// campaigns retry (issue 11, item 3)

/** A comma-separated, repeatable flag's values, one list. */
const commaList = (values: ReadonlyArray<string>): ReadonlyArray<string> =>
  values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "")

const retryCommand = Command.make(
  "retry",
  {
    id: campaignId,
    state: Flag.String("state").pipe(
      Flag.atLeast(0),
      Flag.withDescription("the failed states to put back to initial: error, sending_failed, or both (error,sending_failed)")
    ),
    code: Flag.String("code").pipe(
      Flag.atLeast(0),
      Flag.withDescription("only contacts whose last error has this code, e.g. 131026 (repeatable, or comma-separated)")
    ),
    yes: Flag.Boolean("yes").pipe(Flag.withDescription("really retry (without it, only says how many would be)"), Flag.withDefault(false)),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const { id } = input
      const request = { states: commaList(input.state), codes: commaList(input.code) }
      // Checked before the database is opened: a state that cannot be retried is a usage mistake.
      const selection = Operations.retrySelection(request)
      if (Result.isFailure(selection)) return yield* usage("retry", `--state: ${selection.failure.message}`)
      const on = yield* target(path("retry"), input)
      if (!input.yes) {
        // Like `contacts delete --where`: say what it would do, and do it only when asked again with --yes.
        const shown = yield* onTarget(
          on,
          (storage) => Effect.map(Operations.show(storage, id), ({ campaign, counts }) => Json.campaign(campaign, counts)),
          (client) => client.campaigns.show({ params: { id } })
        )
        const failed = selection.success.states.reduce((n, s) => n + shown.counts[s], 0)
        const codes = selection.success.codes.length === 0 ? "" : ` (those of them whose last error is ${selection.success.codes.join(", ")})`
        return yield* new CommandFailed({
          message: `Campaign ${id} has ${failed} contact(s) in ${selection.success.states.join(" or ")}${codes}; retrying puts them back ` +
            `to initial with a new attempt budget, and they are sent again. Run this again with --yes to do it.`
        })
      }
      const report = yield* onTarget(
        on,
        (storage) =>
          Effect.map(Operations.retry(storage, id, request, "CLI"), (r) => ({
            ...Json.campaign(r.campaign, r.counts),
            retried: r.retried,
            suppressed: r.suppressed,
            states: [...r.selection.states],
            codes: [...r.selection.codes]
          })),
        (client) => Effect.map(client.campaigns.retry({ params: { id }, payload: request }), withoutOperations)
      )
      if (input.json) return yield* printJson(report)
      yield* Console.log(`Put ${report.retried} contact(s) of campaign ${report.id} back to initial with a new attempt budget` +
        `${report.suppressed > 0 ? `; ${report.suppressed} left as they were (recipient on the suppression list)` : ""}. ` +
        `Campaign ${report.id} is ${report.state}.`)
    })
).pipe(Command.withDescription(
  "Put failed contacts (--state error,sending_failed, optionally --code CODE) back to initial with a new attempt budget (with --yes)."
))

// ---------------------------------------------------------------------------------------------------------
// campaigns clone (issue 11, item 5)

const cloneCommand = Command.make(
  "clone",
  {
    id: campaignId,
    name: Flag.String("name").pipe(Flag.withDescription("the new campaign's name")),
    contactsFrom: Flag.String("contacts-from").pipe(
      Flag.withDescription("also copy the contacts of this campaign (usually ID) that are in the --state states"),
      Flag.optional
    ),
    state: Flag.String("state").pipe(
      Flag.atLeast(0),
      Flag.withDescription(`with --contacts-from: the states of the contacts to copy, comma-separated (${ContactState.states.join(", ")})`)
    ),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const { id } = input
      // Checked before the database is opened: these are usage mistakes.
      if (Result.isFailure(Operations.campaignName(input.name))) return yield* usage("clone", "--name must not be empty.")
      const states = commaList(input.state)
      if (Option.isNone(input.contactsFrom) && states.length > 0) return yield* usage("clone", "--state needs --contacts-from ID.")
      if (Option.isSome(input.contactsFrom)) {
        const checked = Operations.cloneStates(states)
        if (Result.isFailure(checked)) return yield* usage("clone", `--state: ${checked.failure.message}`)
      }
      const contactsFrom = Option.getOrUndefined(Option.map(input.contactsFrom, (campaignId) => ({ campaignId, states })))
      const cloned = yield* onTarget(
        yield* target(path("clone"), input),
        (storage) =>
          Effect.map(Operations.clone(storage, id, { name: input.name, contactsFrom }, "CLI"), (r) => ({
            ...Json.campaign(r.campaign, r.counts),
            cloned_from: r.clonedFrom,
            contacts: r.contacts === undefined ? null : Json.clonedContacts(r.contacts)
          })),
        (client) =>
          Effect.map(client.campaigns.clone({
            params: { id },
            payload: {
              name: input.name,
              ...(contactsFrom === undefined ? {} : { contacts_from: { campaign_id: contactsFrom.campaignId, states } })
            }
          }), withoutOperations)
      )
      if (input.json) return yield* printJson(cloned)
      // Only the id on stdout, as `campaigns create`: `NEW=$(megaphone campaigns clone …)` works; the rest goes to stderr.
      yield* Console.log(cloned.id)
      yield* Console.error(`Created campaign ${cloned.id} "${cloned.name}" (draft) from campaign ${cloned.cloned_from}: ${cloned.template} ` +
        `(${cloned.language}) from ${cloned.account}.`)
      if (cloned.contacts !== null) {
        const copied = cloned.contacts
        yield* Console.error(`Copied the ${copied.states.join(", ")} contacts of campaign ${copied.from}: ${summary(copied.added)}` +
          `${copied.skipped_invalid > 0 ? ` ${copied.skipped_invalid} without a recipient (invalid phone) not copied.` : ""}`)
      }
      yield* Console.error(`Next: megaphone campaigns show ${cloned.id}, then megaphone campaigns start ${cloned.id}`)
    })
).pipe(Command.withDescription(
  "A follow-up draft with a campaign's account, template, language and note; --contacts-from ID --state S,… copies chosen contacts."
))

// ---------------------------------------------------------------------------------------------------------
// campaigns schedule | unschedule (issue 11, item 1; a running daemon's campaigns/Scheduler.ts starts them)

/** What a schedule change says: the state line (in the zone times are read in) and the exact instant. */
const scheduleLine = (shown: typeof Json.CampaignJson.Type, zone: string): string =>
  `Campaign ${shown.id} "${shown.name}": ${Campaign.describe(Json.lifecycle(shown), "en", zone)}` +
  (shown.scheduled_at === null
    ? " (no scheduled start: it waits for `megaphone campaigns start`)."
    : ` (${zone}; ${shown.scheduled_at.toISOString()}). A running daemon starts it then; ` +
      `\`megaphone campaigns unschedule ${shown.id}\` takes the schedule away.`)

const scheduleCommand = Command.make(
  "schedule",
  {
    id: campaignId,
    at: Flag.String("at").pipe(Flag.withDescription(
      "when it starts: ISO 8601 such as 2026-12-01T09:00+01:00, 2026-12-01T08:00Z or 2026-12-01T09:00[Europe/Prague]; " +
        `without an offset in ${Scheduler.TIME_ZONE_ENV} (default: this machine's zone)`
    )),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const { id } = input
      const zone = Scheduler.defaultTimeZone()
      const time = Schedule.parseTime(input.at, zone)
      if (Result.isFailure(time)) return yield* usage("schedule", `--at: ${time.failure.message}`)
      const shown = yield* onTarget(
        yield* target(path("schedule"), input),
        (storage) => Effect.map(Operations.schedule(storage, id, time.success.at, "CLI"), ({ campaign, counts }) => Json.campaign(campaign, counts)),
        (client) => Effect.map(client.campaigns.schedule({ params: { id }, payload: { at: time.success.at.toISOString() } }), withoutOperations)
      )
      if (input.json) return yield* printJson(shown)
      yield* Console.log(scheduleLine(shown, zone))
    })
).pipe(Command.withDescription("Schedule a draft campaign to start by itself at a time (a running daemon starts it)."))

const unscheduleCommand = Command.make("unschedule", { id: campaignId, databaseUrl, adminUrl, json }, (input) =>
  Effect.gen(function*() {
    const { id } = input
    const shown = yield* onTarget(
      yield* target(path("unschedule"), input),
      (storage) => Effect.map(Operations.unschedule(storage, id, "CLI"), ({ campaign, counts }) => Json.campaign(campaign, counts)),
      (client) => Effect.map(client.campaigns.unschedule({ params: { id } }), withoutOperations)
    )
    if (input.json) return yield* printJson(shown)
    yield* Console.log(scheduleLine(shown, Scheduler.defaultTimeZone()))
  })).pipe(Command.withDescription("Take a draft's scheduled start away: it waits for `campaigns start` again."))

// ---------------------------------------------------------------------------------------------------------
// campaigns rate (issue 11, item 6: a per-campaign cap below the number's rate)

/** What a rate change says. */
const rateLine = (shown: typeof Json.CampaignJson.Type): string =>
  shown.max_mps === null
    ? `Campaign ${shown.id} "${shown.name}" has no cap of its own: it sends at its number's rate, shared fairly with the ` +
      `number's other running campaigns.`
    : `Campaign ${shown.id} "${shown.name}" sends at most ${shown.max_mps} message(s) per second; the number's other ` +
      `campaigns use the rest of its rate. \`megaphone campaigns rate ${shown.id} --clear\` removes the cap.`

const rateCommand = Command.make(
  "rate",
  {
    id: campaignId,
    maxMps: maxMpsFlag,
    clear: Flag.Boolean("clear").pipe(Flag.withDescription("remove the cap: the campaign sends at its number's rate"), Flag.withDefault(false)),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const { id } = input
      if (Option.isSome(input.maxMps) === input.clear) return yield* usage("rate", "Give exactly one of --max-mps N or --clear.")
      const parsed = Option.isNone(input.maxMps) ? Result.succeed(null) : Campaign.parseMaxMps(input.maxMps.value)
      if (Result.isFailure(parsed)) return yield* usage("rate", `--max-mps: ${parsed.failure}`)
      const maxMps = parsed.success
      const shown = yield* onTarget(
        yield* target(path("rate"), input),
        (storage) => Effect.map(Operations.setRate(storage, id, maxMps, "CLI"), ({ campaign, counts }) => Json.campaign(campaign, counts)),
        (client) => Effect.map(client.campaigns.rate({ params: { id }, payload: { max_mps: maxMps } }), withoutOperations)
      )
      if (input.json) return yield* printJson(shown)
      yield* Console.log(rateLine(shown))
    })
).pipe(Command.withDescription("Cap a campaign's messages/second below its number's rate (--max-mps N), or remove the cap (--clear)."))

// ---------------------------------------------------------------------------------------------------------
// campaigns window (issue 11, item 2: quiet hours on each recipient's clock; the claim defers, ClaimDecision)

/** What a window change says. */
const windowLine = (shown: typeof Json.CampaignJson.Type): string =>
  shown.send_window === null
    ? `Campaign ${shown.id} "${shown.name}" has no send window: it sends at any hour.`
    : `Campaign ${shown.id} "${shown.name}" sends only ${shown.send_window} on each recipient's clock (the zone of the ` +
      `number's country — every zone of a country with several — or the contact's time_zone column). Contacts outside ` +
      `it wait, using no attempt: see \`megaphone campaigns contacts ${shown.id}\`. \`megaphone campaigns window ${shown.id} ` +
      `--clear\` removes it.`

const windowCommand = Command.make(
  "window",
  {
    id: campaignId,
    days: Flag.String("days").pipe(
      Flag.withDescription("the days it sends: Mon-Fri, Mon,Wed,Fri, Sat-Sun, daily, weekdays"),
      Flag.optional
    ),
    hours: Flag.String("hours").pipe(
      Flag.withDescription("the hours it sends on those days, recipient's clock: 09:00-20:00, or 09:00-12:00,13:00-18:00"),
      Flag.optional
    ),
    window: Flag.String("window").pipe(
      Flag.withDescription("several rules at once instead of --days/--hours: \"Mon-Fri 09:00-20:00; Sat 10:00-14:00\""),
      Flag.optional
    ),
    clear: Flag.Boolean("clear").pipe(Flag.withDescription("remove the window: it sends at any hour"), Flag.withDefault(false)),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const { id } = input
      const given = [Option.isSome(input.days) || Option.isSome(input.hours), Option.isSome(input.window), input.clear].filter((x) => x)
      if (given.length !== 1) return yield* usage("window", "Give --days D --hours H, or --window TEXT, or --clear.")
      if (Option.isSome(input.days) !== Option.isSome(input.hours)) {
        return yield* usage("window", "Give both --days and --hours, e.g. --days Mon-Fri --hours 09:00-20:00.")
      }
      const parsed = input.clear
        ? Result.succeed(null)
        : Option.isSome(input.window)
        ? SendWindow.parse(input.window.value)
        : SendWindow.fromDaysAndHours(Option.getOrElse(input.days, () => ""), Option.getOrElse(input.hours, () => ""))
      if (Result.isFailure(parsed)) return yield* usage("window", parsed.failure.message)
      const window = parsed.success
      const shown = yield* onTarget(
        yield* target(path("window"), input),
        (storage) => Effect.map(Operations.setSendWindow(storage, id, window, "CLI"), ({ campaign, counts }) => Json.campaign(campaign, counts)),
        (client) =>
          Effect.map(client.campaigns.window({ params: { id }, payload: { window: window === null ? null : SendWindow.format(window) } }), withoutOperations)
      )
      if (input.json) return yield* printJson(shown)
      yield* Console.log(windowLine(shown))
    })
).pipe(Command.withDescription(
  "Send only on some days and hours of each recipient's clock (--days Mon-Fri --hours 09:00-20:00), or at any hour (--clear)."
))

// ---------------------------------------------------------------------------------------------------------
// campaigns list | show

const progressCells = (counts: Counts): ReadonlyArray<string> => [
  String(Campaign.totalContacts(counts)),
  String(Campaign.pendingContacts(counts)),
  String(counts.sent + counts.delivered + counts.read),
  String(counts.error + counts.sending_failed + counts.invalid_record),
  String(counts.cancelled)
]

const list = Command.make("list", { databaseUrl, adminUrl, json }, (input) =>
  Effect.gen(function*() {
    const rows = yield* onTarget(
      yield* target(path("list"), input),
      (storage) => Effect.map(Operations.list(storage), (all) => all.map(({ campaign, counts }) => Json.campaign(campaign, counts))),
      (client) => Effect.map(client.campaigns.list(), ({ campaigns }) => campaigns.map(withoutOperations))
    )
    if (input.json) return yield* printJson({ campaigns: rows })
    if (rows.length === 0) {
      return yield* Console.log("No campaigns yet. Create one: megaphone campaigns create --name NAME --account ACCOUNT --template TEMPLATE")
    }
    yield* Console.log(table(
      ["ID", "NAME", "STATE", "ACCOUNT", "TEMPLATE", "LANGUAGE", "TOTAL", "WAITING", "SENT", "FAILED", "CANCELLED"],
      rows.map((c) => [c.id, c.name, c.scheduled_at === null ? c.state : `${c.state} (scheduled)`, c.account, c.template, c.language, ...progressCells(c.counts)])
    ))
  })).pipe(Command.withDescription("List the campaigns with their progress (sent = sent, delivered or read)."))

const show = Command.make("show", { id: campaignId, databaseUrl, adminUrl, json }, (input) =>
  Effect.gen(function*() {
    const { id } = input
    const shown = yield* onTarget(
      yield* target(path("show"), input),
      (storage) =>
        Effect.map(Operations.show(storage, id), ({ campaign, counts, quota }) => ({
          ...Json.campaign(campaign, counts),
          quota: quota === undefined ? null : Json.quota(quota)
        })),
      (client) => Effect.map(client.campaigns.show({ params: { id } }), withoutOperations)
    )
    if (input.json) return yield* printJson(shown)
    const { quota, ...c } = shown
    yield* Console.log(table(["FIELD", "VALUE"], [
      ["id", c.id],
      ["name", c.name],
      ["state", Campaign.describe(Json.lifecycle(c), "en", Scheduler.defaultTimeZone())],
      ...(c.scheduled_at === null ? [] : [["scheduled start", c.scheduled_at.toISOString()]]),
      ["account", c.account],
      ["template", `${c.template} (${c.language})`],
      ["rate cap", c.max_mps === null ? "- (the number's rate)" : `${c.max_mps} msg/s`],
      ["send window", c.send_window === null ? "- (any hour)" : `${c.send_window} (each recipient's clock)`],
      ["note", cell(c.note)],
      ["created", c.created_at.toISOString()],
      ["started", cell(c.started_at?.toISOString())],
      ["ended", cell(c.ended_at?.toISOString())],
      ["quota used (24 h)", quota === null ? "-" : `${quota.used} of ${quota.limit} (${quota.quota_key})`],
      ...ContactState.states.map((s) => [`${ContactState.labels[s].en} (${s})`, String(c.counts[s])]),
      ["total", String(c.total)]
    ]))
    yield* Console.log(`\nAllowed now: ${Campaign.allowedOperations[c.state].join(", ") || "nothing (the campaign has ended)"}.`)
  })).pipe(Command.withDescription("Show a campaign: state (and why it paused), contacts per state, the account's quota use."))

// ---------------------------------------------------------------------------------------------------------
// campaigns contacts

const iso = (d: Date | null | undefined): string => (d === null || d === undefined ? "" : d.toISOString())

type ContactJson = typeof Json.CampaignContact.Type
type StateId = ContactState.ContactStateId

/** Rows per request when paging through the admin API (its largest page). */
const API_PAGE = 1000

/**
 * Read a campaign's contacts (in `state`, if given) page by page — from the database, or from the admin API a
 * request per page — and run `each` on each page before the next is read, so memory stays the same for any
 * campaign size. `each` also gets the template's variable keys in order (none when the template is gone) and
 * runs at least once, on an empty page when there are no contacts.
 */
const eachContactPage = <E extends { readonly message: string }, R>(
  on: Target,
  id: string,
  state: StateId | undefined,
  each: (page: ReadonlyArray<ContactJson>, variables: ReadonlyArray<string> | undefined) => Effect.Effect<void, E, R>
) => {
  if (on._tag === "Direct") {
    return onStorage(on.databaseUrl, (storage) =>
      Effect.gen(function*() {
        const campaign = yield* Operations.findCampaign(storage, id)
        const variables = yield* Operations.campaignTemplate(storage, campaign).pipe(
          Effect.map((template): ReadonlyArray<string> | undefined => Template.variables(template).map((v) => v.key)),
          Effect.catchTags({ CampaignAccountGone: () => Effect.succeed(undefined), CampaignTemplateGone: () => Effect.succeed(undefined) })
        )
        const asJson = Json.campaignContactsAt(campaign.sendWindow, new Date(yield* Clock.currentTimeMillis))
        yield* forEachPageEffect(
          (page) => storage.listCampaignContacts(id, state, page),
          (rows) => each(rows.map(asJson), variables)
        )
      }))
  }
  const explain = explainApi("The CSV")
  return Effect.gen(function*() {
    // The template-csv answer names the variables; a template gone from Meta (409) leaves them to the contacts.
    const variables = yield* throughApi(on, (client) =>
      client.campaigns.templateCsv({ params: { id } }).pipe(
        Effect.map((blank): ReadonlyArray<string> | undefined => blank.header.slice(1)),
        Effect.catchTag("Conflict", () => Effect.succeed(undefined))
      ), explain)
    const read = (after: string | null) =>
      throughApi(on, (client) =>
        client.campaigns.contacts({
          params: { id },
          query: { limit: API_PAGE, ...(state === undefined ? {} : { state }), ...(after === null ? {} : { after_id: after }) }
        }), explain)
    let afterId: string | null = null
    do {
      const page: Effect.Success<ReturnType<typeof read>> = yield* read(afterId)
      yield* each(page.contacts, variables)
      afterId = page.next_after_id
    } while (afterId !== null)
  })
}

/** Where an export goes: stdout, or a file opened at the first write (a refused command leaves no file behind). */
interface Sink {
  readonly write: (text: string) => Effect.Effect<void, CommandFailed>
  readonly close: Effect.Effect<void, CommandFailed>
}

/** stdout, waiting for it to drain when the reader is slower than the export. */
const stdoutSink: Sink = {
  write: (text) =>
    Effect.callback<void>((resume) => {
      if (process.stdout.write(text)) resume(Effect.void)
      else process.stdout.once("drain", () => resume(Effect.void))
    }),
  close: Effect.void
}

/** The file `path` (`-o`), created or truncated at the first write. */
const fileSink = (path: string): Sink => {
  let handle: Promise<FileHandle> | undefined
  const failed = (error: unknown) => new CommandFailed({ message: `Cannot write ${path}: ${String(error)}. Choose another -o path.` })
  return {
    write: (text) =>
      Effect.tryPromise({
        try: async () => {
          handle ??= open(path, "w")
          await (await handle).write(text)
        },
        catch: failed
      }),
    close: Effect.tryPromise({
      try: async () => {
        if (handle !== undefined) await (await handle).close()
      },
      catch: failed
    })
  }
}

/** The variable keys of contacts whose template is gone: those their values carry, positional ones in order. */
const keysOf = (page: ReadonlyArray<ContactJson>): ReadonlyArray<string> => {
  const keys = [...new Set(page.flatMap((c) => Object.keys(c.parameters)))]
  const positional = keys.filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b))
  return [...positional, ...keys.filter((k) => !/^\d+$/.test(k))]
}

/** The CSV export's columns (SPEC §5): the contact, its values by variable, its state and progress, a time per state. */
const csvHeader = (variables: ReadonlyArray<string>): ReadonlyArray<string> => [
  "id", "phone", "recipient", ...variables.map((key) => `var.${key}`), "state", "state_label", "attempts", "next_attempt_at",
  "last_error_code", "last_error_text", "wamid", "wa_id", "added_at", ...ContactState.states.map((s) => `${s}_at`)
]

/** One contact as a CSV row under {@link csvHeader}. */
const csvRow = (c: ContactJson, variables: ReadonlyArray<string>, lang: "en" | "cs"): ReadonlyArray<string> => [
  c.id, c.phone, c.recipient ?? "", ...variables.map((key) => c.parameters[key] ?? ""), c.state, ContactState.labels[c.state][lang],
  String(c.attempts), iso(c.next_attempt_at), c.last_error?.code ?? "", c.last_error?.text ?? "", c.wamid ?? "", c.wa_id ?? "",
  iso(c.added_at), ...ContactState.states.map((s) => iso(c.state_times[s]))
]

const indent = (text: string, spaces: number): string => text.replaceAll(/^/gm, " ".repeat(spaces))

/** How a page of contacts is written out, and what closes the document. */
interface Export {
  readonly page: (rows: ReadonlyArray<ContactJson>, variables: ReadonlyArray<string> | undefined) => string
  readonly end: () => string
}

/**
 * CSV with spreadsheet-safe cells (a value starting with =, +, -, @ gets a leading `'`); for Excel a BOM and `;`.
 * The header is written with the first page: its variables are the template's, else those the contacts carry.
 */
const csvExport = (delimiter: Delimiter, bom: boolean, lang: "en" | "cs"): Export => {
  let columns: ReadonlyArray<string> | undefined
  return {
    page: (rows, variables) => {
      let text = ""
      if (columns === undefined) {
        columns = variables ?? keysOf(rows)
        text = (bom ? UTF8_BOM : "") + safeCsvLine(csvHeader(columns), delimiter)
      }
      for (const c of rows) text += safeCsvLine(csvRow(c, columns, lang), delimiter)
      return text
    },
    end: () => ""
  }
}

/** `{ campaign, contacts: [...] }` exactly as `printJson` would print it, a contact at a time. */
const jsonExport = (id: string): Export => {
  let opened = false
  let written = 0
  const opening = () => {
    if (opened) return ""
    opened = true
    return `{\n  "campaign": ${JSON.stringify(id)},\n  "contacts": [`
  }
  return {
    page: (rows) => {
      let text = opening()
      for (const c of rows) text += `${written++ === 0 ? "\n" : ",\n"}${indent(JSON.stringify(c, null, 2), 4)}`
      return text
    },
    end: () => `${opening()}${written === 0 ? "]" : "\n  ]"}\n}\n`
  }
}

const contacts = Command.make(
  "contacts",
  {
    id: campaignId,
    state: Flag.Literals("state", ContactState.states).pipe(Flag.withDescription("only contacts in this state"), Flag.optional),
    csv: Flag.Boolean("csv").pipe(
      Flag.withDescription("CSV of every field: phone, values per variable, state and its label, attempts, errors, wamid, times"),
      Flag.withDefault(false)
    ),
    excel: excelFlag(" (implies --csv)"),
    lang: Flag.Literals("lang", ["en", "cs"] as const).pipe(
      Flag.withDescription("the language of the CSV's state_label column (cs: the seed's names)"),
      Flag.withDefault("en" as const)
    ),
    output: outputFile("the contacts"),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const { id, json: asJson, output } = input
      const state = Option.getOrUndefined(input.state)
      const csv = input.csv || input.excel
      if (csv && asJson) return yield* usage("contacts", "Give --csv (or --excel) or --json, not both.")
      const on = yield* target(path("contacts"), input)
      if (csv || asJson) {
        // Page by page into the sink: a campaign of a million contacts exports in the memory of one page.
        const format = asJson ? jsonExport(id) : csvExport(input.excel ? ";" : ",", input.excel, input.lang)
        const sink = Option.isSome(output) ? fileSink(output.value) : stdoutSink
        let count = 0
        yield* eachContactPage(on, id, state, (page, variables) => {
          count += page.length
          return sink.write(format.page(page, variables))
        }).pipe(
          Effect.andThen(Effect.suspend(() => sink.write(format.end()))),
          Effect.ensuring(Effect.ignore(sink.close))
        )
        if (Option.isSome(output)) yield* Console.error(`Wrote ${count} contact(s) of campaign ${id} to ${output.value}.`)
        return
      }
      const rows: Array<ContactJson> = []
      yield* eachContactPage(on, id, state, (page) => Effect.sync(() => rows.push(...page)))
      // Contacts held back by the campaign's send window say why, and when they can go.
      const waiting = rows.filter((c) => c.waiting !== null && c.waiting !== undefined).length
      const text = rows.length === 0
        ? `No contacts${state === undefined ? "" : ` in state ${state}`} in campaign ${id}.`
        : table(
          ["PHONE", "RECIPIENT", "STATE", "SINCE", "ATTEMPTS", "NEXT ATTEMPT", "WAMID", "LAST ERROR", ...(waiting > 0 ? ["WAITING"] : [])],
          rows.map((c) => [
            c.phone, cell(c.recipient), c.state, cell(iso(c.state_times[c.state])), String(c.attempts),
            cell(iso(c.waiting?.next_possible_at ?? c.next_attempt_at)),
            cell(c.wamid), c.last_error === null ? "" : `${c.last_error.code}: ${c.last_error.text}`,
            ...(waiting > 0 ? [c.waiting === null || c.waiting === undefined ? "" : c.waiting.reason] : [])
          ])
        ) + `\n\n${rows.length} contact(s)${waiting > 0 ? `, ${waiting} waiting for the send window` : ""}.`
      if (Option.isNone(output)) return yield* Console.log(text)
      const sink = fileSink(output.value)
      yield* sink.write(`${text}\n`).pipe(Effect.andThen(sink.close))
    })
).pipe(Command.withDescription(
  "A campaign's contacts: state, attempts, next attempt, last error, wamid, times; --csv/--excel/--json stream every field."
))

/** `megaphone campaigns create | template-csv | add-contacts | start | pause | resume | stop | list | show | contacts` */
export const campaigns = Command.make("campaigns").pipe(
  Command.withDescription("Template-message campaigns: create, clone, add contacts, start, pause, resume, stop, list, show, export contacts."),
  Command.withSubcommands([create, templateCsv, addContacts, start, pause, resume, stop, list, show, contacts, retryCommand, cloneCommand, rateCommand, windowCommand, scheduleCommand, unscheduleCommand])
)
