/**
 * `megaphone campaigns …` (SPEC §3, §4, §7; the seed's "+ Vytvořit kampaň"): create a campaign on an account's
 * synced template, hand out the blank CSV of its variables, add contacts from a CSV or from the directory, move
 * it through its lifecycle, and show it with its contacts — all directly on the database.
 *
 * Adding contacts checks the whole mapping first (one error listing every mismatch, nothing added); then each
 * row is judged alone, so one bad row is reported with its line and never costs the good ones.
 */
import { readFile, writeFile } from "node:fs/promises"
import { Campaign, ContactState, Filter, Mapping, Phone, Ports, Template } from "@megaphone/core"
import { Clock, Console, Effect, Option, Result } from "effect"
import { Argument, CliError, Command, Flag } from "effect/cli"
import { csvLine, decodeUtf8, detectDelimiter, parseCsv } from "../Csv.ts"
import { CommandFailed } from "../Failure.ts"
import { cell, json, printJson, table } from "../Output.ts"
import { findAccount, withStorage } from "../Session.ts"
import { databaseUrl } from "../Storage.ts"

type Storage = Ports.Storage.StorageShape
type CampaignRecord = Ports.Storage.CampaignRecord
type Counts = Campaign.ContactCounts

/** Rows per storage call when adding or listing contacts: bounded memory and transactions for any file size. */
const CHUNK = 1000

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

const campaignId = Argument.String("ID").pipe(Argument.withDescription("the campaign id (see `megaphone campaigns list`)"))

/** A usage mistake the flag parser cannot see (flags that exclude each other): help with the error, exit 2. */
const usage = (command: string, message: string) =>
  new CliError.ShowHelp({ commandPath: ["megaphone", "campaigns", command], errors: [new CliError.ValidationError({ message })] })

// ---------------------------------------------------------------------------------------------------------
// Shared look-ups

/** The campaign with this id, or a failure that says where the ids are. */
const findCampaign = (id: string) =>
  Effect.gen(function*() {
    const found = yield* (yield* Ports.Storage.Storage).getCampaign(id)
    if (Option.isSome(found)) return found.value
    return yield* new CommandFailed({ message: `No campaign with id "${id}". See the ids with \`megaphone campaigns list\`.` })
  })

/** The synced, not deleted translations of the account's WABA. */
const liveTemplates = (storage: Storage, account: Ports.Storage.Account) =>
  Effect.map(storage.listTemplates(account.wabaId), (all) => all.filter((t) => t.deletedAt === null).map((t) => t.template))

/** The campaign's template translation as synced now; gone from Meta is a failure that says what to do. */
const campaignTemplate = (campaign: CampaignRecord) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const account = yield* findAccount(campaign.accountName)
    const found = Template.findTranslation(yield* liveTemplates(storage, account), campaign.templateName, campaign.language)
    if (Result.isSuccess(found)) return found.success
    return yield* new CommandFailed({
      message: `Campaign ${campaign.id} uses template ${campaign.templateName} (${campaign.language}), which is not synced for account ` +
        `${account.name} (any more): ${found.failure.message} Run \`megaphone templates sync --account ${account.name}\`.`
    })
  })

// ---------------------------------------------------------------------------------------------------------
// JSON shapes

const pauseReasonJson = (reason: Campaign.PauseReason | null) =>
  reason === null
    ? null
    : reason._tag === "Operator"
    ? { by: "operator" }
    : { by: "system", kind: reason.kind, explanation: reason.explanation, code: reason.code ?? null }

/** A campaign as `campaigns show --json` spells it (SPEC §7), also each element of `campaigns list --json`. */
export const campaignJson = (c: CampaignRecord, counts: Counts) => ({
  id: c.id,
  name: c.name,
  state: c.lifecycle.state,
  account: c.accountName,
  template: c.templateName,
  language: c.language,
  note: c.note,
  pause_reason: pauseReasonJson(c.lifecycle.pauseReason),
  counts: Object.fromEntries(ContactState.states.map((s) => [s, counts[s]])) as Record<ContactState.ContactStateId, number>,
  total: Campaign.totalContacts(counts),
  created_at: c.lifecycle.createdAt,
  started_at: c.lifecycle.startedAt,
  paused_at: c.lifecycle.pausedAt,
  ended_at: c.lifecycle.endedAt
})

const quotaJson = (q: Ports.Storage.QuotaUsage) => ({
  quota_key: q.quotaKey,
  used: q.used,
  limit: q.limit,
  remaining: q.remaining,
  next_free_at: q.nextFreeAt ?? null
})

/** One campaign contact as `campaigns contacts --json` spells it. */
export const contactJson = (c: Ports.Storage.CampaignContact) => ({
  id: c.id,
  phone: c.phone,
  recipient: c.recipient === "" ? null : c.recipient,
  state: c.progress.state,
  attempts: c.progress.attempts,
  next_attempt_at: c.progress.nextAttemptAt,
  last_error: c.progress.lastError === null ? null : { code: c.progress.lastError.code, text: c.progress.lastError.text },
  wamid: c.progress.wamid,
  wa_id: c.progress.waId,
  parameters: c.parameters,
  state_times: Object.fromEntries(ContactState.states.flatMap((s) => {
    const at = c.progress.stateTimes[s]
    return at === undefined ? [] : [[s, at] as const]
  })),
  added_at: c.addedAt
})

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
      const name = input.name.trim()
      if (name === "") return yield* usage("create", "--name must not be empty.")
      const created = yield* Effect.gen(function*() {
        const storage = yield* Ports.Storage.Storage
        const account = yield* findAccount(input.account)
        const templates = yield* liveTemplates(storage, account)
        const named = templates.filter((t) => t.name === input.template)
        const languages = [...new Set(named.map((t) => t.language))].sort()
        let language: string
        if (Option.isSome(input.language)) language = input.language.value.trim()
        else if (languages.length === 1 && languages[0] !== undefined) language = languages[0]
        else if (languages.length === 0) language = ""
        else {
          return yield* new CommandFailed({
            message: `Template ${input.template} exists in ${languages.length} languages: ${languages.join(", ")}. Choose one with --language.`
          })
        }
        const found = Template.findTranslation(templates, input.template, language)
        if (Result.isFailure(found)) {
          return yield* new CommandFailed({
            message: found.failure._tag === "TemplateNotFound"
              ? `Account ${account.name} (WABA ${account.wabaId}) has no synced template named ${input.template}. ` +
                `See \`megaphone templates list --account ${account.name}\`, or run \`megaphone templates sync --account ${account.name}\`.`
              : found.failure.message
          })
        }
        const usable = Template.usability(found.success, language)
        if (!usable.usable) {
          return yield* new CommandFailed({
            message: `Template ${input.template} (${language}) cannot be sent: ${usable.problems.map((p) => p.en).join(" ")}`
          })
        }
        const campaign = yield* storage.createCampaign({
          name,
          accountName: account.name,
          templateName: found.success.name,
          language,
          note: Option.getOrNull(Option.map(input.note, (n) => n.trim()))
        }, yield* now)
        return { campaign, counts: yield* storage.campaignCounts(campaign.id) }
      }).pipe(withStorage(input.databaseUrl))
      if (input.json) return yield* printJson(campaignJson(created.campaign, created.counts))
      // Only the id on stdout, so `ID=$(megaphone campaigns create …)` works; the guidance goes to stderr.
      yield* Console.log(created.campaign.id)
      yield* Console.error(`Created campaign ${created.campaign.id} "${name}" (draft): ${created.campaign.templateName} ` +
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
      const { campaign, blank } = yield* Effect.gen(function*() {
        const campaign = yield* findCampaign(id)
        return { campaign, blank: Mapping.blankCsv(yield* campaignTemplate(campaign)) }
      }).pipe(withStorage(databaseUrl))
      if (Option.isSome(output)) {
        const path = output.value
        yield* Effect.tryPromise({
          try: () => writeFile(path, blank.csv, "utf8"),
          catch: (error) => new CommandFailed({ message: `Cannot write ${path}: ${String(error)}. Choose another -o path.` })
        })
      }
      if (asJson) {
        return yield* printJson({
          campaign: campaign.id,
          template: campaign.templateName,
          language: campaign.language,
          header: blank.header,
          columns: blank.docs,
          csv: blank.csv,
          file: Option.getOrNull(output)
        })
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

/** A row that was not added, and why. `line` for CSV rows, `phone` always. */
interface Rejected {
  readonly line: number | null
  readonly phone: string
  readonly reason: string
}

/** One candidate contact: added, or rejected with its reason. */
type Judged = { readonly _tag: "Add"; readonly contact: Ports.Storage.NewCampaignContact } | { readonly _tag: "Reject"; readonly reason: string }

/** Phone first (an unusable number is kept as an invalid record), then the values by Meta's rules. */
const judge = (
  template: Template.Template,
  mapping: Mapping.ValidMapping,
  row: Readonly<Record<string, string>>,
  directoryContactId: string | null
): Judged => {
  const phone = (row[mapping.phoneColumn] ?? "").trim()
  const resolved = Mapping.resolve(template, mapping, row)
  const normalized = Phone.normalize(phone)
  if (Result.isFailure(normalized)) {
    return {
      _tag: "Add",
      contact: {
        phone,
        recipient: null,
        parameters: Result.isSuccess(resolved) ? Mapping.toRecord(resolved.success) : {},
        directoryContactId,
        invalid: { code: "invalid_phone", text: normalized.failure.explanation }
      }
    }
  }
  if (Result.isFailure(resolved)) return { _tag: "Reject", reason: resolved.failure.message.replaceAll("\n", " ") }
  return {
    _tag: "Add",
    contact: { phone, recipient: normalized.success.waId, parameters: Mapping.toRecord(resolved.success), directoryContactId }
  }
}

/** Contacts from a positional CSV (SPEC §4 B); a header that does not fit the template fails before anything is added. */
const fromCsv = (path: string, template: Template.Template, defaults: Readonly<Record<string, string>>) =>
  Effect.gen(function*() {
    const bytes = yield* Effect.tryPromise({
      try: () => readFile(path),
      catch: (error) => new CommandFailed({ message: `Cannot read ${path}: ${String(error)}. Check the path given to --csv.` })
    })
    const text = decodeUtf8(bytes)
    if (Result.isFailure(text)) return yield* new CommandFailed({ message: `${path}: ${text.failure}` })
    const delimiter = detectDelimiter(text.success)
    const rows = parseCsv(text.success, delimiter)
    if (Result.isFailure(rows)) return yield* new CommandFailed({ message: `${path}: ${rows.failure}` })
    const [headerRow, ...data] = rows.success
    if (headerRow === undefined) {
      return yield* new CommandFailed({
        message: `${path} is empty. It needs a header row (${Mapping.blankCsv(template).header.join(",")}); ` +
          `\`megaphone campaigns template-csv ID\` writes one.`
      })
    }
    const header = headerRow.cells.map((h) => h.trim())
    const mapping = Mapping.fromCsvHeader(template, header, defaults)
    if (Result.isFailure(mapping)) return yield* new CommandFailed({ message: `${path}: ${mapping.failure.message}` })
    const contacts: Array<Ports.Storage.NewCampaignContact> = []
    const rejected: Array<Rejected> = []
    for (const row of data) {
      // A row of another shape is not guessed at: its cells would land in the wrong variables.
      if (row.cells.length !== header.length) {
        rejected.push({
          line: row.line,
          phone: (row.cells[0] ?? "").trim(),
          reason: `The row has ${row.cells.length} cell(s), the header ${header.length} (cells separated by ` +
            `${delimiter === "\t" ? "tab" : `"${delimiter}"`}, as in the header): use the header's delimiter in every row, ` +
            `and quote a cell that contains it.`
        })
        continue
      }
      const judged = judge(template, mapping.success, Mapping.csvRow(header, row.cells), null)
      if (judged._tag === "Add") contacts.push(judged.contact)
      else rejected.push({ line: row.line, phone: (row.cells[0] ?? "").trim(), reason: judged.reason })
    }
    return { contacts, rejected }
  })

/** Contacts of the directory through a filter (SPEC §4 A); the mapping is checked against the directory's columns first. */
const fromDirectory = (
  storage: Storage,
  template: Template.Template,
  source: { readonly filter: Option.Option<string>; readonly where: Option.Option<string> },
  phoneColumn: string,
  vars: Readonly<Record<string, string>>,
  defaults: Readonly<Record<string, string>>
) =>
  Effect.gen(function*() {
    // The filter and the mapping see the contact's columns plus `phone` (see StorageShape.listDirectory).
    const columns = [...new Set(["phone", ...(yield* storage.directoryColumns())])]
    let filter: Filter.Filter
    if (Option.isSome(source.filter)) {
      const saved = yield* storage.getFilter(source.filter.value)
      if (Option.isNone(saved)) {
        return yield* new CommandFailed({
          message: `No filter named "${source.filter.value}". See \`megaphone filters list\`, or use --where EXPR.`
        })
      }
      filter = saved.value.filter
    } else {
      const parsed = Filter.parse(Option.getOrElse(source.where, () => ""))
      if (Result.isFailure(parsed)) return yield* new CommandFailed({ message: `--where: ${parsed.failure.message}` })
      filter = parsed.success
    }
    const known = Filter.checkColumns(filter, columns)
    if (Result.isFailure(known)) return yield* new CommandFailed({ message: `The filter reads an ${known.failure.message}.` })
    const variables: Record<string, Mapping.VariableSource> = {}
    for (const [key, column] of Object.entries(vars)) variables[key] = { column }
    for (const [key, value] of Object.entries(defaults)) variables[key] = { ...variables[key], default: value }
    const mapping = Mapping.validate(template, { phoneColumn, variables }, columns)
    if (Result.isFailure(mapping)) return yield* new CommandFailed({ message: mapping.failure.message })
    const contacts: Array<Ports.Storage.NewCampaignContact> = []
    const rejected: Array<Rejected> = []
    let afterId: string | undefined
    for (;;) {
      const page = yield* storage.listDirectory(filter, afterId === undefined ? { limit: CHUNK } : { afterId, limit: CHUNK })
      for (const contact of page) {
        // A column named `phone` wins over the contact's number, as in the filter.
        const judged = judge(template, mapping.success, { phone: contact.phone, ...contact.columns }, contact.id)
        if (judged._tag === "Add") contacts.push(judged.contact)
        else rejected.push({ line: null, phone: contact.phone, reason: judged.reason })
      }
      const last = page.at(-1)
      if (last === undefined || page.length < CHUNK) break
      afterId = last.id
    }
    return { contacts, rejected }
  })

/** Store the lifecycle `decide` computes from the current campaign; a Conflict (someone was first) is decided again once. */
const changeLifecycle = (
  id: string,
  decide: (campaign: CampaignRecord, counts: Counts, at: Date) => Result.Result<Campaign.CampaignLifecycle, Campaign.CampaignOperationError>
) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    for (let attempt = 0; ; attempt++) {
      const campaign = yield* findCampaign(id)
      const counts = yield* storage.campaignCounts(id)
      const next = decide(campaign, counts, yield* now)
      if (Result.isFailure(next)) return yield* new CommandFailed({ message: next.failure.message })
      if (next.success === campaign.lifecycle) return { before: campaign, after: campaign }
      const stored = yield* Effect.result(storage.updateCampaignLifecycle(id, campaign.lifecycle.state, next.success))
      if (Result.isSuccess(stored)) return { before: campaign, after: stored.success }
      if (stored.failure._tag === "Conflict" && attempt === 0) continue
      return yield* new CommandFailed({
        message: stored.failure._tag === "Conflict"
          ? `Campaign ${id} changed while this command ran (${stored.failure.message}). See \`megaphone campaigns show ${id}\` and try again.`
          : stored.failure.message
      })
    }
  })

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
      const report = yield* Effect.gen(function*() {
        const storage = yield* Ports.Storage.Storage
        const campaign = yield* findCampaign(input.id)
        // Checked before reading anything: a stopped campaign takes no contacts, whatever the file holds.
        const allowed = Campaign.addContacts(campaign.lifecycle)
        if (Result.isFailure(allowed)) return yield* new CommandFailed({ message: allowed.failure.message })
        const template = yield* campaignTemplate(campaign)
        const { contacts, rejected } = Option.isSome(input.csv)
          ? yield* fromCsv(input.csv.value, template, defaults)
          : yield* fromDirectory(storage, template, input, Option.getOrElse(input.phoneColumn, () => ""), Option.getOrElse(input.vars, () => ({})), defaults)
        let added = 0
        let invalid = 0
        let suppressed = 0
        const already: Array<string> = []
        for (let start = 0; start < contacts.length; start += CHUNK) {
          const result = yield* storage.addCampaignContacts(campaign.id, contacts.slice(start, start + CHUNK), yield* now)
          added += result.added
          invalid += result.invalid
          suppressed += result.suppressed
          already.push(...result.alreadyInCampaign)
        }
        // A finished campaign reopens once it has new contacts to send (Campaign.addContacts).
        const state = added > 0
          ? (yield* changeLifecycle(campaign.id, (c) => Campaign.addContacts(c.lifecycle))).after.lifecycle.state
          : campaign.lifecycle.state
        return { campaign: campaign.id, state, added, invalid, suppressed, already_in_campaign: already, rejected }
      }).pipe(withStorage(input.databaseUrl))
      if (input.json) return yield* printJson(report)
      const sendable = report.added - report.invalid - report.suppressed
      yield* Console.log(`Added ${report.added} contact(s) to campaign ${report.campaign}: ${sendable} to send, ` +
        `${report.invalid} invalid record(s), ${report.suppressed} suppressed (opted out).`)
      if (report.already_in_campaign.length > 0) {
        yield* Console.log(`${report.already_in_campaign.length} already in the campaign (kept once): ${report.already_in_campaign.join(", ")}`)
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

const lifecycleCommand = (
  name: "start" | "pause" | "resume" | "stop",
  description: string,
  decide: (campaign: CampaignRecord, counts: Counts, at: Date) => Result.Result<Campaign.CampaignLifecycle, Campaign.CampaignOperationError>
) =>
  Command.make(name, { id: campaignId, databaseUrl, json }, ({ id, databaseUrl, json: asJson }) =>
    Effect.gen(function*() {
      const { campaign, counts, cancelled } = yield* Effect.gen(function*() {
        const storage = yield* Ports.Storage.Storage
        const { after } = yield* changeLifecycle(id, decide)
        // Stopped first, so no daemon claims more; then what was still waiting is cancelled.
        const at = yield* now
        const cancelled = name === "stop" ? yield* storage.cancelPending(id, at) : 0
        yield* storage.appendEvents([{
          campaignId: id,
          kind: `campaign_${name}`,
          message: `Campaign ${id} ${name === "stop" ? "stopped" : `${name}${name.endsWith("e") ? "d" : "ed"}`} by an operator (CLI).`,
          data: name === "stop" ? { cancelled } : {},
          at
        }])
        return { campaign: after, counts: yield* storage.campaignCounts(id), cancelled }
      }).pipe(withStorage(databaseUrl))
      if (asJson) return yield* printJson(name === "stop" ? { ...campaignJson(campaign, counts), cancelled } : campaignJson(campaign, counts))
      yield* Console.log(`Campaign ${campaign.id} "${campaign.name}": ${Campaign.describe(campaign.lifecycle)}` +
        `${name === "stop" ? `; ${cancelled} contact(s) not yet sent were cancelled` : ""}.`)
    })).pipe(Command.withDescription(description))

const start = lifecycleCommand("start", "Start sending a draft campaign.", (c, counts, at) => Campaign.start(c.lifecycle, counts, at))
const pause = lifecycleCommand("pause", "Pause a running campaign.", (c, _counts, at) => Campaign.pause(c.lifecycle, at))
const resume = lifecycleCommand("resume", "Resume a paused campaign.", (c, counts, at) => Campaign.resume(c.lifecycle, counts, at))
const stop = lifecycleCommand("stop", "End a campaign for good; its contacts not yet sent are cancelled.", (c, _counts, at) => Campaign.stop(c.lifecycle, at))

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
    const rows = yield* Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      const campaigns = yield* storage.listCampaigns()
      return yield* Effect.forEach(campaigns, (c) => Effect.map(storage.campaignCounts(c.id), (counts) => [c, counts] as const))
    }).pipe(withStorage(databaseUrl))
    if (asJson) return yield* printJson({ campaigns: rows.map(([c, counts]) => campaignJson(c, counts)) })
    if (rows.length === 0) {
      return yield* Console.log("No campaigns yet. Create one: megaphone campaigns create --name NAME --account ACCOUNT --template TEMPLATE")
    }
    yield* Console.log(table(
      ["ID", "NAME", "STATE", "ACCOUNT", "TEMPLATE", "LANGUAGE", "TOTAL", "WAITING", "SENT", "FAILED", "CANCELLED"],
      rows.map(([c, counts]) => [c.id, c.name, c.lifecycle.state, c.accountName, c.templateName, c.language, ...progressCells(counts)])
    ))
  })).pipe(Command.withDescription("List the campaigns with their progress (sent = sent, delivered or read)."))

const show = Command.make("show", { id: campaignId, databaseUrl, json }, ({ id, databaseUrl, json: asJson }) =>
  Effect.gen(function*() {
    const { campaign, counts, quota } = yield* Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      const campaign = yield* findCampaign(id)
      const counts = yield* storage.campaignCounts(id)
      // The account's rolling-24 h use is cheap and says when a waiting campaign can go on; a deleted account has none.
      const account = yield* storage.getAccount(campaign.accountName)
      const quota = Option.isSome(account) ? yield* storage.quotaUsage(account.value, yield* now) : undefined
      return { campaign, counts, quota }
    }).pipe(withStorage(databaseUrl))
    if (asJson) return yield* printJson({ ...campaignJson(campaign, counts), quota: quota === undefined ? null : quotaJson(quota) })
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
      const rows = yield* Effect.gen(function*() {
        const storage = yield* Ports.Storage.Storage
        yield* findCampaign(id)
        const all: Array<Ports.Storage.CampaignContact> = []
        let afterId: string | undefined
        for (;;) {
          const page = yield* storage.listCampaignContacts(id, Option.getOrUndefined(state), afterId === undefined ? { limit: CHUNK } : { afterId, limit: CHUNK })
          all.push(...page)
          const last = page.at(-1)
          if (last === undefined || page.length < CHUNK) break
          afterId = last.id
        }
        return all
      }).pipe(withStorage(databaseUrl))
      if (asJson) return yield* printJson({ campaign: id, contacts: rows.map(contactJson) })
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
