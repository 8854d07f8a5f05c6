/**
 * `megaphone contacts …` (SPEC §1, §7; the seed's "Adresář kontaktů"): list, show, delete and export the contact
 * directory, all or through a filter or a search — directly on the database, or through a running daemon's admin
 * API (cli/Remote.ts). Both routes go through one {@link DirectorySource}, so every command's steps are written
 * once and print from the same JSON (admin-api/Json.ts) whichever route the data took.
 */
import { once } from "node:events"
import { createWriteStream } from "node:fs"
import type { Writable } from "node:stream"
import { type Filter, Ports } from "@megaphone/core"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Json from "../../admin-api/Json.ts"
import * as Directory from "../../campaigns/Directory.ts"
import { CHUNK } from "../../campaigns/Paging.ts"
import { safeCsvLine, UTF8_BOM } from "../Csv.ts"
import { CommandFailed } from "../Failure.ts"
import { cell, excelFlag, json, outputFile, printJson, table } from "../Output.ts"
import { adminUrl, type Client, type Target, target } from "../Remote.ts"
import { databaseUrl } from "../Storage.ts"
import { importCommand } from "./contactsImport.ts"
import { type ContactJson, contactTable, explain, onDirectory, usage } from "./filters.ts"

type Storage = Ports.Storage.StorageShape

/** Which contacts a command reads: a saved filter or an expression (at most one), and a search text. */
interface Selection {
  readonly filter?: string
  readonly where?: string
  readonly search?: string
}

/**
 * The directory as a command reads and changes it, the same on both routes. Errors stay as the route raised them;
 * {@link onDirectory} says them in CLI terms.
 */
interface DirectorySource {
  /** The contacts of the selection in id order, at most `limit` (all without one), handed to `each` a page at a time. */
  readonly pages: (
    selection: Selection,
    limit: number | undefined,
    each: (page: ReadonlyArray<ContactJson>) => Effect.Effect<void, CommandFailed>
  ) => Effect.Effect<void, unknown>
  /** How many contacts the selection has. */
  readonly count: (selection: Selection) => Effect.Effect<number, unknown>
  /** The contact `key` (an id or a phone number, as given) names. */
  readonly contact: (key: string) => Effect.Effect<ContactJson, unknown>
  /** The directory's column names. */
  readonly columns: Effect.Effect<ReadonlyArray<string>, unknown>
  /** Delete these contacts (by id); how many were deleted. */
  readonly deleteContacts: (ids: ReadonlyArray<string>) => Effect.Effect<number, unknown>
  /** Delete every contact the selection's filter matches; how many were deleted. */
  readonly deleteMatching: (selection: Selection) => Effect.Effect<number, unknown>
}

/** A search text worth sending: none when blank (a blank text matches every contact anyway). */
const searchOf = (selection: Selection): string | undefined =>
  selection.search === undefined || selection.search.trim() === "" ? undefined : selection.search

/** The directory on the database. The filter is chosen and its columns checked once per command, not per page. */
const direct = (storage: Storage): DirectorySource => ({
  pages: (selection, limit, each) =>
    Effect.gen(function*() {
      const filter: Filter.Filter | undefined = yield* Directory.chooseCheckedFilter(storage, selection)
      let afterId: string | undefined
      let left = limit ?? Infinity
      while (left > 0) {
        const size = Math.min(CHUNK, left)
        const page = yield* storage.listDirectory(filter, afterId === undefined ? { limit: size } : { afterId, limit: size }, searchOf(selection))
        yield* each(page.map(Json.directoryContact))
        left -= page.length
        const last = page.at(-1)
        if (last === undefined || page.length < size) return
        afterId = last.id
      }
    }),
  count: (selection) =>
    Effect.flatMap(Directory.chooseCheckedFilter(storage, selection), (filter) => storage.countDirectory(filter, searchOf(selection))),
  contact: (key) => Effect.map(Directory.findContact(storage, key), Json.directoryContact),
  columns: storage.directoryColumns(),
  deleteContacts: (ids) => storage.deleteDirectoryContacts(ids.map((id) => ({ id }))),
  deleteMatching: (selection) =>
    Effect.flatMap(Directory.requireCheckedFilter(storage, selection), (filter) => storage.deleteDirectoryMatching(filter))
})

/** Rows per request through the admin API (its largest page). */
const API_PAGE = 1000

/** The selection as the admin API's query parameters. */
const query = (selection: Selection) => ({
  ...(selection.filter === undefined ? {} : { filter: selection.filter }),
  ...(selection.where === undefined ? {} : { where: selection.where }),
  ...(searchOf(selection) === undefined ? {} : { search: selection.search })
})

/** The directory through the admin API. */
const remote = (client: Client): DirectorySource => ({
  pages: (selection, limit, each) =>
    Effect.gen(function*() {
      let afterId: string | null | undefined
      let left = limit ?? Infinity
      while (left > 0) {
        const size = Math.min(API_PAGE, left)
        const page = yield* client.directory.list({
          query: { ...query(selection), limit: size, ...(afterId == null ? {} : { after_id: afterId }) }
        })
        yield* each(page.contacts)
        left -= page.contacts.length
        afterId = page.next_after_id
        if (afterId === null) return
      }
    }),
  count: (selection) => Effect.map(client.directory.count({ query: query(selection) }), (answer) => answer.matched),
  // The key is checked here as on the database, so a key that is neither an id nor a phone number reads the same.
  contact: (key) =>
    Effect.flatMap(
      Effect.mapError(Effect.fromResult(Directory.contactKey(key)), (error) => new CommandFailed({ message: explain(error) })),
      (parsed) => client.directory.show({ params: { id: "id" in parsed ? parsed.id : parsed.phone } })
    ),
  columns: Effect.map(client.directory.columns(), (answer) => answer.columns),
  deleteContacts: (ids) =>
    ids.length === 0 ? Effect.succeed(0) : Effect.map(client.directory.deleteMany({ payload: { contacts: [...ids] } }), (a) => a.deleted),
  deleteMatching: (selection) =>
    Effect.map(client.directory.deleteMany({
      payload: {
        ...(selection.filter === undefined ? {} : { filter: selection.filter }),
        ...(selection.where === undefined ? {} : { where: selection.where })
      }
    }), (answer) => answer.deleted)
})

/** Run `body` with the directory of the command's target; `contact` is the argument naming a contact, if any. */
const withDirectory = <A>(on: Target, body: (source: DirectorySource) => Effect.Effect<A, unknown>, contact?: string) =>
  onDirectory(on, (storage) => body(direct(storage)), (client) => body(remote(client)), contact)

const path = (command: string) => ["megaphone", "contacts", command]

const filterFlag = Flag.String("filter").pipe(Flag.withDescription("only contacts matching this saved filter"), Flag.optional)
const whereFlag = Flag.String("where").pipe(Flag.withDescription("only contacts matching this filter expression (docs/filters.md)"), Flag.optional)
const searchFlag = Flag.String("search").pipe(
  Flag.withDescription("only contacts whose phone number or any column value contains TEXT (case-insensitive)"),
  Flag.optional
)

/** The selection the flags make; both --filter and --where is a usage mistake of `command`. */
const selectionOf = (
  command: string,
  flags: { readonly filter: Option.Option<string>; readonly where: Option.Option<string>; readonly search?: Option.Option<string> }
) =>
  Option.isSome(flags.filter) && Option.isSome(flags.where)
    ? Effect.fail(usage("contacts", command, "Give --filter NAME or --where EXPR, not both."))
    : Effect.succeed<Selection>({
      ...Option.match(flags.filter, { onNone: () => ({}), onSome: (filter) => ({ filter }) }),
      ...Option.match(flags.where, { onNone: () => ({}), onSome: (where) => ({ where }) }),
      ...Option.match(flags.search ?? Option.none(), { onNone: () => ({}), onSome: (search) => ({ search }) })
    })

/** How the selection reads in a sentence: `--filter praha`, `--where 'city = "Praha"'`. */
const describeSelection = (selection: Selection): string =>
  selection.filter !== undefined ? `--filter ${selection.filter}` : `--where '${selection.where ?? ""}'`

// ---------------------------------------------------------------------------------------------------------
// contacts list

/** Contacts `list` shows unless --limit says otherwise. */
const LIST_LIMIT = 100

const list = Command.make(
  "list",
  {
    filter: filterFlag,
    where: whereFlag,
    search: searchFlag,
    limit: Flag.Int("limit").pipe(Flag.withDescription(`show at most N contacts (default ${LIST_LIMIT})`), Flag.withDefault(LIST_LIMIT)),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const selection = yield* selectionOf("list", input)
      if (input.limit < 1) return yield* usage("contacts", "list", "--limit must be at least 1.")
      const { matched, contacts } = yield* withDirectory(yield* target(path("list"), input), (source) =>
        Effect.gen(function*() {
          const matched = yield* source.count(selection)
          const contacts: Array<ContactJson> = []
          yield* source.pages(selection, input.limit, (page) => Effect.sync(() => contacts.push(...page)))
          return { matched, contacts }
        }))
      if (input.json) return yield* printJson({ matched, contacts })
      if (contacts.length === 0) {
        const filtered = selection.filter !== undefined || selection.where !== undefined || searchOf(selection) !== undefined
        return yield* Console.log(filtered ? "No contacts match." : "The directory is empty. Import contacts: megaphone contacts import FILE")
      }
      yield* Console.log(contactTable(contacts))
      yield* Console.log(`\n${contacts.length} of ${matched} contact(s).${contacts.length < matched
        ? " --limit N shows more; `megaphone contacts export` writes them all to a CSV file." : ""}`)
    })
).pipe(Command.withDescription("List directory contacts, all or matching a filter or a search (100 unless --limit says otherwise)."))

// ---------------------------------------------------------------------------------------------------------
// contacts show

const contactArgument = Argument.String("CONTACT").pipe(
  Argument.withDescription("the contact's id, or its phone number (e.g. +420601123456)")
)

const show = Command.make("show", { contact: contactArgument, databaseUrl, adminUrl, json }, (input) =>
  Effect.gen(function*() {
    const contact = yield* withDirectory(yield* target(path("show"), input), (source) => source.contact(input.contact), input.contact)
    if (input.json) return yield* printJson(contact)
    yield* Console.log(table(["FIELD", "VALUE"], [
      ["id", contact.id],
      ["phone", contact.phone],
      ...Object.keys(contact.columns).sort().map((column) => [column, cell(contact.columns[column])]),
      ["created", contact.created_at.toISOString()],
      ["updated", contact.updated_at.toISOString()]
    ]))
  })).pipe(Command.withDescription("Show one directory contact, by id or phone number: its phone and every column."))

// ---------------------------------------------------------------------------------------------------------
// contacts delete

const remove = Command.make(
  "delete",
  {
    contacts: Argument.String("CONTACT").pipe(
      Argument.withDescription("ids or phone numbers of the contacts to delete"),
      Argument.variadic()
    ),
    filter: Flag.String("filter").pipe(Flag.withDescription("delete every contact matching this saved filter"), Flag.optional),
    where: Flag.String("where").pipe(Flag.withDescription("delete every contact matching this filter expression"), Flag.optional),
    yes: Flag.Boolean("yes").pipe(Flag.withDescription("really delete what --filter or --where matches"), Flag.withDefault(false)),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const byKey = input.contacts.length > 0
      if ([byKey, Option.isSome(input.filter), Option.isSome(input.where)].filter(Boolean).length !== 1) {
        return yield* usage("contacts", "delete", "Give the contacts to delete (ids or phone numbers), or --filter NAME, or --where EXPR.")
      }
      const selection = yield* selectionOf("delete", input)
      const on = yield* target(path("delete"), input)
      const outcome = yield* withDirectory(on, (source) =>
        Effect.gen(function*() {
          if (byKey) {
            // Every contact is found first: a mistyped one deletes nothing.
            const ids = new Set<string>()
            for (const key of input.contacts) {
              ids.add((yield* source.contact(key).pipe(Effect.mapError((error) => keyFailure(key, error)))).id)
            }
            return { deleted: yield* source.deleteContacts([...ids]), matched: ids.size }
          }
          const matched = yield* source.count(selection)
          if (matched === 0) return { deleted: 0, matched }
          if (!input.yes) {
            return yield* new CommandFailed({
              message: `${describeSelection(selection)} matches ${matched} contact(s); deleting them cannot be undone. ` +
                `See them with \`megaphone contacts list ${describeSelection(selection)}\`, then run this again with --yes.`
            })
          }
          return { deleted: yield* source.deleteMatching(selection), matched }
        }))
      if (input.json) return yield* printJson({ deleted: outcome.deleted })
      if (outcome.matched === 0) return yield* Console.log("No contacts match; nothing was deleted.")
      yield* Console.log(`Deleted ${outcome.deleted} contact(s) from the directory. Campaigns keep the contacts added from them, ` +
        `with their parameters.`)
    })
).pipe(Command.withDescription("Delete directory contacts by id or phone number, or all that --filter / --where match (with --yes)."))

/** A key that names no contact, said as on the direct route whichever route found it missing. */
const keyFailure = (key: string, error: unknown): unknown =>
  error instanceof Directory.ContactKeyInvalid || error instanceof Directory.ContactNotFound
    ? new CommandFailed({ message: `${explain(error)} Nothing was deleted.` })
    : typeof error === "object" && error !== null && "_tag" in error && error._tag === "NotFound"
    ? new CommandFailed({ message: `${explain(Directory.contactNotFound(key))} Nothing was deleted.` })
    : error

// ---------------------------------------------------------------------------------------------------------
// contacts columns

const columns = Command.make("columns", { databaseUrl, adminUrl, json }, (input) =>
  Effect.gen(function*() {
    const names = yield* withDirectory(yield* target(path("columns"), input), (source) => source.columns)
    if (input.json) return yield* printJson({ columns: names })
    if (names.length === 0) return yield* Console.log("The directory has no columns yet. Import contacts: megaphone contacts import FILE")
    for (const name of names) yield* Console.log(name)
  })).pipe(Command.withDescription("The directory's column names (filters and campaign mappings may use these and `phone`)."))

// ---------------------------------------------------------------------------------------------------------
// contacts export

/** Write `text` to `out`, waiting while its buffer is full: memory stays bounded however many pages follow. */
const write = (out: Writable, text: string) =>
  Effect.promise(async () => {
    if (!out.write(text)) await once(out, "drain")
  })

const exportCommand = Command.make(
  "export",
  {
    filter: filterFlag,
    where: whereFlag,
    search: searchFlag,
    output: outputFile("the CSV"),
    excel: excelFlag(),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      const selection = yield* selectionOf("export", input)
      if (input.json && Option.isNone(input.output)) {
        return yield* usage("contacts", "export", "--json prints a summary and needs -o FILE: without it stdout is the CSV.")
      }
      const delimiter = input.excel ? ";" : ","
      const file = Option.getOrUndefined(input.output)
      const out: Writable = file === undefined ? process.stdout : createWriteStream(file)
      const opened = file === undefined
        ? Effect.void
        : Effect.tryPromise({
          try: () => once(out, "open"),
          catch: (error) => new CommandFailed({ message: `Cannot write ${file}: ${String(error)}. Choose another -o path.` })
        })
      yield* opened
      const summary = yield* withDirectory(yield* target(path("export"), input), (source) =>
        Effect.gen(function*() {
          const names = yield* source.columns
          // The header goes out with the first page: a refused filter (known only then) leaves stdout empty.
          let header = (input.excel ? UTF8_BOM : "") + safeCsvLine(["phone", ...names], delimiter)
          let exported = 0
          yield* source.pages(selection, undefined, (page) => {
            exported += page.length
            const rows = page.map((c) => safeCsvLine([c.phone, ...names.map((n) => c.columns[n] ?? "")], delimiter)).join("")
            const text = header + rows
            header = ""
            return write(out, text)
          })
          if (header !== "") yield* write(out, header)
          return { exported, columns: names }
        })).pipe(Effect.ensuring(file === undefined ? Effect.void : Effect.promise(() => new Promise<void>((done) => out.end(done)))))
      if (input.json) return yield* printJson({ file: file ?? null, exported: summary.exported, columns: summary.columns })
      const line = `Exported ${summary.exported} contact(s) with ${summary.columns.length} column(s)${file === undefined ? "" : ` to ${file}`}.`
      // Without -o stdout is the CSV, so the summary goes to stderr.
      yield* file === undefined ? Console.error(line) : Console.log(line)
    })
).pipe(Command.withDescription("Export directory contacts as CSV: phone, then every column (spreadsheet-safe cells; --excel for Excel)."))

// ---------------------------------------------------------------------------------------------------------

/** `megaphone contacts list | show | delete | columns | export` (and `import`, contactsImport.ts). */
export const contacts = Command.make("contacts").pipe(
  Command.withDescription("The contact directory: import, list, show, delete, columns, export."),
  Command.withSubcommands([
    importCommand,
    list,
    show,
    remove,
    columns,
    exportCommand
  ])
)
