/**
 * `megaphone campaigns …` (SPEC §3, §4, §7; the seed's "+ Vytvořit kampaň"): create a campaign on an account's
 * synced template, hand out the blank CSV of its variables, add contacts from a CSV or from the directory, move
 * it through its lifecycle, and show it with its contacts — all directly on the database.
 *
 * The operations themselves are campaigns/Operations.ts, which the admin API shares; this file reads the flags
 * and files, says the operations' refusals in CLI terms (the command that fixes them), and prints.
 */
import { readFile, writeFile } from "node:fs/promises"
import { Campaign, ContactState, Ports, type Template } from "@megaphone/core"
import { Console, Effect, Option, Result } from "effect"
import { Argument, CliError, Command, Flag } from "effect/cli"
import { type CampaignError, mapCampaignErrors } from "../../campaigns/Errors.ts"
import * as Json from "../../campaigns/Json.ts"
import * as Operations from "../../campaigns/Operations.ts"
import { forEachPage } from "../../campaigns/Paging.ts"
import * as Rows from "../../campaigns/Rows.ts"
import { csvLine } from "../Csv.ts"
import { CommandFailed } from "../Failure.ts"
import { cell, json, printJson, table } from "../Output.ts"
import { withStorage } from "../Session.ts"
import { databaseUrl } from "../Storage.ts"

type Storage = Ports.Storage.StorageShape
type Counts = Campaign.ContactCounts

const campaignId = Argument.String("ID").pipe(Argument.withDescription("the campaign id (see `megaphone campaigns list`)"))

/** A usage mistake the flag parser cannot see (flags that exclude each other): help with the error, exit 2. */
const usage = (command: string, message: string) =>
  new CliError.ShowHelp({ commandPath: ["megaphone", "campaigns", command], errors: [new CliError.ValidationError({ message })] })

// ---------------------------------------------------------------------------------------------------------
// The operations' refusals in CLI terms

/** A missing account, in the words of `findAccount` (cli/Session.ts) that the other commands use. */
const noAccount = (name: string) =>
  `No account named "${name}". See \`megaphone accounts list\`, or add it with ` +
  `\`megaphone accounts add ${name} --phone-number-id ID --waba-id ID\`.`

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

// ---------------------------------------------------------------------------------------------------------
// campaigns create

const create = Command.make(
  "create",
  {
    name: Flag.String("name").pipe(Flag.withDescription("the campaign's name")),
    account: Flag.String("account").pipe(Flag.withDescription("the account (phone number) to send from")),
    template: Flag.String("template").pipe(Flag.withDescription("the synced template to send")),
    language: Flag.String("language").pipe(Flag.withDescription("the template's language, when it has several"), Flag.optional),
    note: Flag.String("note").pipe(Flag.withDescription("a note for people"), Flag.optional),
    databaseUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      // Checked before the database is opened: a blank name is a usage mistake.
      if (Result.isFailure(Operations.campaignName(input.name))) return yield* usage("create", "--name must not be empty.")
      const created = yield* onStorage(input.databaseUrl, (storage) =>
        Operations.create(storage, {
          name: input.name,
          account: input.account,
          template: input.template,
          language: Option.getOrUndefined(input.language),
          note: Option.getOrUndefined(input.note)
        }))
      if (input.json) return yield* printJson(Json.campaign(created.campaign, created.counts))
      // Only the id on stdout, so `ID=$(megaphone campaigns create …)` works; the guidance goes to stderr.
      yield* Console.log(created.campaign.id)
      yield* Console.error(`Created campaign ${created.campaign.id} "${created.campaign.name}" (draft): ${created.campaign.templateName} ` +
        `(${created.campaign.language}) from ${created.campaign.accountName}.`)
      yield* Console.error(`Next: megaphone campaigns template-csv ${created.campaign.id} -o contacts.csv, then ` +
        `megaphone campaigns add-contacts ${created.campaign.id} --csv contacts.csv`)
    })
).pipe(Command.withDescription("Create a draft campaign sending a synced template from an account."))

// ---------------------------------------------------------------------------------------------------------
// campaigns template-csv

const templateCsv = Command.make(
  "template-csv",
  {
    id: campaignId,
    output: Flag.String("output").pipe(Flag.withAlias("o"), Flag.withDescription("write the CSV to this file"), Flag.optional),
    databaseUrl,
    json
  },
  ({ id, output, databaseUrl, json: asJson }) =>
    Effect.gen(function*() {
      const { campaign, blank } = yield* onStorage(databaseUrl, (storage) => Operations.blankCsv(storage, id))
      if (Option.isSome(output)) {
        const path = output.value
        yield* Effect.tryPromise({
          try: () => writeFile(path, blank.csv, "utf8"),
          catch: (error) => new CommandFailed({ message: `Cannot write ${path}: ${String(error)}. Choose another -o path.` })
        })
      }
      if (asJson) {
        return yield* printJson({ ...Json.blankCsv(campaign, blank), file: Option.getOrNull(output) })
      }
      if (Option.isNone(output)) yield* Console.log(blank.csv.trimEnd())
      else yield* Console.log(`Wrote the blank CSV of campaign ${campaign.id} to ${output.value}.`)
      // The column docs go to stderr so stdout stays a CSV when redirected.
      yield* Console.error(`Columns (in this order; the names do not matter, the order does):`)
      for (const doc of blank.docs) yield* Console.error(`  ${doc}`)
    })
).pipe(Command.withDescription("The blank CSV for the campaign's template: phone, then one column per variable (docs on stderr)."))

// ---------------------------------------------------------------------------------------------------------
// campaigns add-contacts

/** The contacts of the CSV file `path` for the campaign's template (SPEC §4 B). */
const fromCsvFile = (
  path: string,
  defaults: Readonly<Record<string, string>>,
  campaign: Ports.Storage.CampaignRecord,
  template: Template.Template
) =>
  Effect.tryPromise({
    try: () => readFile(path),
    catch: (error) => new CommandFailed({ message: `Cannot read ${path}: ${String(error)}. Check the path given to --csv.` })
  }).pipe(Effect.flatMap((bytes) => Effect.fromResult(Rows.fromCsv(campaign.id, template, bytes, defaults))))

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
      const report = yield* onStorage(input.databaseUrl, (storage) => {
        // Called once the campaign is known to take contacts: a stopped campaign does not even read the file.
        const collect = (
          campaign: Ports.Storage.CampaignRecord,
          template: Template.Template
        ): Effect.Effect<Rows.Candidates, CommandFailed | CampaignError | Ports.Storage.StorageError> =>
          Option.isSome(input.csv)
            ? fromCsvFile(input.csv.value, defaults, campaign, template)
            : Rows.fromDirectory(storage, template, {
              filter: Option.getOrUndefined(input.filter),
              where: Option.getOrUndefined(input.where),
              phoneColumn: Option.getOrElse(input.phoneColumn, () => ""),
              vars: Option.getOrElse(input.vars, () => ({})),
              defaults
            })
        return Operations.addContacts(storage, input.id, collect)
      }, Option.getOrUndefined(input.csv))
      if (input.json) return yield* printJson(Json.addContactsReport(report))
      const sendable = report.added - report.invalid - report.suppressed
      yield* Console.log(`Added ${report.added} contact(s) to campaign ${report.campaign}: ${sendable} to send, ` +
        `${report.invalid} invalid record(s), ${report.suppressed} suppressed (opted out).`)
      if (report.alreadyInCampaign.length > 0) {
        yield* Console.log(`${report.alreadyInCampaign.length} already in the campaign (kept once): ${report.alreadyInCampaign.join(", ")}`)
      }
      if (report.rejected.length > 0) {
        yield* Console.log(`${report.rejected.length} row(s) not added — fix them and add the file again (rows already added are skipped):`)
        for (const r of report.rejected) yield* Console.log(`  ${r.line === null ? r.phone : `line ${r.line} (${cell(r.phone)})`}: ${r.reason}`)
      }
      yield* Console.log(`Campaign ${report.campaign} is ${report.state}.`)
    })
).pipe(Command.withDescription("Add contacts from a CSV file, or from the directory through a filter, with defaults for empty values."))

// ---------------------------------------------------------------------------------------------------------
// campaigns start | pause | resume | stop

const lifecycleCommand = (name: Operations.Operation, description: string) =>
  Command.make(name, { id: campaignId, databaseUrl, json }, ({ id, databaseUrl, json: asJson }) =>
    Effect.gen(function*() {
      const { campaign, counts, cancelled } = yield* onStorage(databaseUrl, (storage) => Operations.operate(storage, id, name, "CLI"))
      const shown = Json.campaign(campaign, counts)
      if (asJson) return yield* printJson(name === "stop" ? { ...shown, cancelled } : shown)
      yield* Console.log(`Campaign ${campaign.id} "${campaign.name}": ${Campaign.describe(campaign.lifecycle)}` +
        `${name === "stop" ? `; ${cancelled} contact(s) not yet sent were cancelled` : ""}.`)
    })).pipe(Command.withDescription(description))

const start = lifecycleCommand("start", "Start sending a draft campaign.")
const pause = lifecycleCommand("pause", "Pause a running campaign.")
const resume = lifecycleCommand("resume", "Resume a paused campaign.")
const stop = lifecycleCommand("stop", "End a campaign for good; its contacts not yet sent are cancelled.")

// ---------------------------------------------------------------------------------------------------------
// campaigns list | show

const progressCells = (counts: Counts): ReadonlyArray<string> => [
  String(Campaign.totalContacts(counts)),
  String(Campaign.pendingContacts(counts)),
  String(counts.sent + counts.delivered + counts.read),
  String(counts.error + counts.sending_failed + counts.invalid_record),
  String(counts.cancelled)
]

const list = Command.make("list", { databaseUrl, json }, ({ databaseUrl, json: asJson }) =>
  Effect.gen(function*() {
    const rows = yield* onStorage(databaseUrl, Operations.list)
    if (asJson) return yield* printJson({ campaigns: rows.map(({ campaign, counts }) => Json.campaign(campaign, counts)) })
    if (rows.length === 0) {
      return yield* Console.log("No campaigns yet. Create one: megaphone campaigns create --name NAME --account ACCOUNT --template TEMPLATE")
    }
    yield* Console.log(table(
      ["ID", "NAME", "STATE", "ACCOUNT", "TEMPLATE", "LANGUAGE", "TOTAL", "WAITING", "SENT", "FAILED", "CANCELLED"],
      rows.map(({ campaign: c, counts }) => [c.id, c.name, c.lifecycle.state, c.accountName, c.templateName, c.language, ...progressCells(counts)])
    ))
  })).pipe(Command.withDescription("List the campaigns with their progress (sent = sent, delivered or read)."))

const show = Command.make("show", { id: campaignId, databaseUrl, json }, ({ id, databaseUrl, json: asJson }) =>
  Effect.gen(function*() {
    const { campaign, counts, quota } = yield* onStorage(databaseUrl, (storage) => Operations.show(storage, id))
    if (asJson) return yield* printJson({ ...Json.campaign(campaign, counts), quota: quota === undefined ? null : Json.quota(quota) })
    const c = campaign
    yield* Console.log(table(["FIELD", "VALUE"], [
      ["id", c.id],
      ["name", c.name],
      ["state", Campaign.describe(c.lifecycle)],
      ["account", c.accountName],
      ["template", `${c.templateName} (${c.language})`],
      ["note", cell(c.note)],
      ["created", c.lifecycle.createdAt.toISOString()],
      ["started", cell(c.lifecycle.startedAt?.toISOString())],
      ["ended", cell(c.lifecycle.endedAt?.toISOString())],
      ["quota used (24 h)", quota === undefined ? "-" : `${quota.used} of ${quota.limit} (${quota.quotaKey})`],
      ...ContactState.states.map((s) => [`${ContactState.labels[s].en} (${s})`, String(counts[s])]),
      ["total", String(Campaign.totalContacts(counts))]
    ]))
    yield* Console.log(`\nAllowed now: ${Campaign.allowedOperations[c.lifecycle.state].join(", ") || "nothing (the campaign has ended)"}.`)
  })).pipe(Command.withDescription("Show a campaign: state (and why it paused), contacts per state, the account's quota use."))

// ---------------------------------------------------------------------------------------------------------
// campaigns contacts

const iso = (d: Date | null | undefined): string => (d === null || d === undefined ? "" : d.toISOString())

const contacts = Command.make(
  "contacts",
  {
    id: campaignId,
    state: Flag.Literals("state", ContactState.states).pipe(Flag.withDescription("only contacts in this state"), Flag.optional),
    csv: Flag.Boolean("csv").pipe(Flag.withDescription("print CSV"), Flag.withDefault(false)),
    databaseUrl,
    json
  },
  ({ id, state, csv, databaseUrl, json: asJson }) =>
    Effect.gen(function*() {
      if (csv && asJson) return yield* usage("contacts", "Give --csv or --json, not both.")
      const rows = yield* onStorage(databaseUrl, (storage) =>
        Effect.gen(function*() {
          yield* Operations.findCampaign(storage, id)
          const all: Array<Ports.Storage.CampaignContact> = []
          yield* forEachPage((page) => storage.listCampaignContacts(id, Option.getOrUndefined(state), page), (page) => {
            all.push(...page)
          })
          return all
        }))
      if (asJson) return yield* printJson({ campaign: id, contacts: rows.map(Json.campaignContact) })
      if (csv) {
        const header = ["id", "phone", "recipient", "state", "attempts", "next_attempt_at", "last_error_code", "last_error_text", "wamid",
          ...ContactState.states.map((s) => `${s}_at`)]
        let text = csvLine(header)
        for (const c of rows) {
          const p = c.progress
          text += csvLine([c.id, c.phone, c.recipient, p.state, String(p.attempts), iso(p.nextAttemptAt), p.lastError?.code ?? "",
            p.lastError?.text ?? "", p.wamid ?? "", ...ContactState.states.map((s) => iso(p.stateTimes[s]))])
        }
        return yield* Effect.sync(() => process.stdout.write(text))
      }
      if (rows.length === 0) return yield* Console.log(`No contacts${Option.isSome(state) ? ` in state ${state.value}` : ""} in campaign ${id}.`)
      yield* Console.log(table(
        ["PHONE", "RECIPIENT", "STATE", "SINCE", "ATTEMPTS", "NEXT ATTEMPT", "WAMID", "LAST ERROR"],
        rows.map((c) => {
          const p = c.progress
          return [c.phone, cell(c.recipient), p.state, cell(iso(p.stateTimes[p.state])), String(p.attempts), cell(iso(p.nextAttemptAt)),
            cell(p.wamid), p.lastError === null ? "" : `${p.lastError.code}: ${p.lastError.text}`]
        })
      ))
      yield* Console.log(`\n${rows.length} contact(s).`)
    })
).pipe(Command.withDescription("List a campaign's contacts: state, attempts, next attempt, last error, wamid, timestamps."))

/** `megaphone campaigns create | template-csv | add-contacts | start | pause | resume | stop | list | show | contacts` */
export const campaigns = Command.make("campaigns").pipe(
  Command.withDescription("Template-message campaigns: create, add contacts, start, pause, resume, stop, watch."),
  Command.withSubcommands([create, templateCsv, addContacts, start, pause, resume, stop, list, show, contacts])
)
