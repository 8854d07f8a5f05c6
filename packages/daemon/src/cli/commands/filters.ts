/**
 * `megaphone filters create | list | show | delete | test` (SPEC §1, §7): saved, named conditions over the
 * directory's columns — directly on the database, or through a running daemon's admin API (cli/Remote.ts).
 *
 * Also what `megaphone contacts …` shares with these commands: the directory's refusals in CLI terms on either
 * route ({@link onDirectory}), and the table a list of directory contacts prints as. The filter rules themselves
 * are campaigns/Directory.ts, which the admin API uses too; both routes print from the admin API's JSON shapes
 * (admin-api/Json.ts), so the output is the same whichever route the data took.
 */
import { Filter, Ports } from "@megaphone/core"
import { Clock, Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Json from "../../admin-api/Json.ts"
import * as Directory from "../../campaigns/Directory.ts"
import { FilterInvalid, FilterNotFound, FilterUnknownColumns } from "../../campaigns/Errors.ts"
import { CommandFailed, usageError } from "../Failure.ts"
import { cell, json, printJson, table } from "../Output.ts"
import { adminUrl, type Client, type Refusal, type Target, target, throughApi } from "../Remote.ts"
import { toFailure, withStorage } from "../Session.ts"
import { databaseUrl } from "../Storage.ts"

type Storage = Ports.Storage.StorageShape
/** A directory contact as both routes give it (admin-api/Json.ts). */
export type ContactJson = typeof Json.DirectoryContact.Type

/** A usage mistake the flag parser cannot see: help for `megaphone GROUP COMMAND` with the error, exit 2. */
export const usage = (group: string, command: string, message: string) => usageError(["megaphone", group, command], message)

// ---------------------------------------------------------------------------------------------------------
// The directory's refusals in CLI terms, on either route

/** The refusals of the directory rules (campaigns/Directory.ts) that a directory command can meet. */
type DirectoryRefusal =
  | FilterNotFound
  | FilterInvalid
  | FilterUnknownColumns
  | Directory.ContactKeyInvalid
  | Directory.ContactNotFound
  | Directory.FilterNameTaken

const refusals = [FilterNotFound, FilterInvalid, FilterUnknownColumns, Directory.ContactKeyInvalid, Directory.ContactNotFound,
  Directory.FilterNameTaken] as const

const isRefusal = (u: unknown): u is DirectoryRefusal => refusals.some((error) => u instanceof error)

/** What went wrong and the command that fixes it. */
export const explain = (error: DirectoryRefusal): string => {
  switch (error._tag) {
    case "FilterNotFound":
      return `${error.message} See \`megaphone filters list\`, or use --where EXPR.`
    case "FilterInvalid":
      return `--where: ${error.message}`
    case "FilterUnknownColumns":
      return `${error.message} See the columns with \`megaphone contacts columns\`.`
    case "ContactKeyInvalid":
      return error.message
    case "ContactNotFound":
      return `${error.message} Find the contact with \`megaphone contacts list --search TEXT\`.`
    case "FilterNameTaken":
      return `${error.message} Choose another name, or delete it first with \`megaphone filters delete ${error.name}\`.`
  }
}

/**
 * The admin API's refusals as {@link explain} says them: recognised by tag and entity, or by the API's wording
 * (its errors travel as `{ _tag, message }`). `contact` is the argument naming the contact the request was about.
 */
const explainApi = (contact: string | undefined) => (refusal: Refusal): string => {
  if (refusal._tag === "NotFound" && refusal.entity === "filter") return explain(new FilterNotFound({ name: refusal.key }))
  if (refusal._tag === "NotFound" && refusal.entity === "contact") return explain(Directory.contactNotFound(contact ?? refusal.key))
  if (refusal._tag === "InvalidFilter") return refusal.message.replace(/^where: /, "--where: ")
  const m = refusal.message
  const rewrites: ReadonlyArray<readonly [RegExp, (...groups: Array<string>) => string]> = [
    [/^filter: no filter named "(.*)"\. See GET \/api\/filters, or give an expression in "where"\.$/s,
      (name) => explain(new FilterNotFound({ name }))],
    [/^(.*) Fix the column names and try again\.$/s, (head) => `${head} See the columns with \`megaphone contacts columns\`.`],
    [/^A filter named "(.*)" already exists\. Choose another name, or delete it first \(DELETE .*\)\.$/s,
      (name) => explain(new Directory.FilterNameTaken({ name }))]
  ]
  for (const [pattern, rewrite] of rewrites) {
    const match = pattern.exec(m)
    if (match !== null) return rewrite(...match.slice(1).map((g) => g ?? ""))
  }
  return m
}

/** Any failure of the direct route as a `CommandFailed`: the directory's refusals through {@link explain}. */
const directFailure = (error: unknown): CommandFailed =>
  error instanceof CommandFailed ? error
    : isRefusal(error) ? new CommandFailed({ message: explain(error) })
    : typeof error === "object" && error !== null && "message" in error ? toFailure({ message: String(error.message) })
    : new CommandFailed({ message: String(error) })

/**
 * Run a command on its target: `direct` on the database, `remote` through the admin API; either way refusals are
 * said in CLI terms. `contact` is the argument naming the contact the command is about, if any.
 */
export const onDirectory = <A, E, R, E2, R2>(
  on: Target,
  direct: (storage: Storage) => Effect.Effect<A, E, R>,
  remote: (client: Client) => Effect.Effect<A, E2, R2>,
  contact?: string
) =>
  on._tag === "Direct"
    ? Ports.Storage.Storage.use(direct).pipe(Effect.mapError(directFailure), withStorage(on.databaseUrl))
    : throughApi(on, remote, explainApi(contact))

// ---------------------------------------------------------------------------------------------------------
// Printing directory contacts

/** Directory contacts as a table: id, phone, then every column any of them has (sorted), `-` where one has none. */
export const contactTable = (contacts: ReadonlyArray<ContactJson>): string => {
  const columns = [...new Set(contacts.flatMap((c) => Object.keys(c.columns)))].sort()
  return table(
    ["ID", "PHONE", ...columns.map((c) => c.toUpperCase())],
    contacts.map((c) => [c.id, c.phone, ...columns.map((column) => cell(c.columns[column]))])
  )
}

// ---------------------------------------------------------------------------------------------------------
// The commands

const path = (command: string) => ["megaphone", "filters", command]
const filterName = Argument.String("NAME").pipe(Argument.withDescription("the filter's name (see `megaphone filters list`)"))

/** The saved filter `name`, or the refusal naming it. */
const findFilter = (storage: Storage, name: string) =>
  Effect.flatMap(storage.getFilter(name), (found) =>
    Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new FilterNotFound({ name })))

const create = Command.make(
  "create",
  {
    name: filterName,
    where: Flag.String("where").pipe(Flag.withDescription("the filter expression, e.g. 'city = \"Praha\" and orders >= 3' (docs/filters.md)")),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      if (input.name.trim() === "") return yield* usage("filters", "create", "NAME must not be empty.")
      const saved = yield* onDirectory(
        yield* target(path("create"), input),
        (storage) =>
          Effect.gen(function*() {
            const now = new Date(yield* Clock.currentTimeMillis)
            return Json.savedFilter(yield* Directory.saveFilter(storage, input.name, input.where, now))
          }),
        (client) => client.filters.create({ payload: { name: input.name, where: input.where } })
      )
      if (input.json) return yield* printJson(saved)
      yield* Console.log(`Saved filter "${saved.name}": ${saved.where}`)
      yield* Console.error(`See what it selects: megaphone filters test ${saved.name}`)
    })
).pipe(Command.withDescription("Save a filter over the directory's columns under a name (its text and columns are checked)."))

const list = Command.make("list", { databaseUrl, adminUrl, json }, (input) =>
  Effect.gen(function*() {
    const filters = yield* onDirectory(
      yield* target(path("list"), input),
      (storage) => Effect.map(storage.listFilters(), (all) => all.map(Json.savedFilter)),
      (client) => Effect.map(client.filters.list(), (answer) => answer.filters)
    )
    if (input.json) return yield* printJson({ filters })
    if (filters.length === 0) return yield* Console.log("No filters yet. Create one: megaphone filters create NAME --where EXPR")
    yield* Console.log(table(["NAME", "WHERE", "CREATED"], filters.map((f) => [f.name, f.where, f.created_at.toISOString()])))
  })).pipe(Command.withDescription("List the saved filters."))

const show = Command.make("show", { name: filterName, databaseUrl, adminUrl, json }, (input) =>
  Effect.gen(function*() {
    const saved = yield* onDirectory(
      yield* target(path("show"), input),
      (storage) => Effect.map(findFilter(storage, input.name), Json.savedFilter),
      (client) => client.filters.show({ params: { name: input.name } })
    )
    if (input.json) return yield* printJson(saved)
    yield* Console.log(table(["FIELD", "VALUE"], [["name", saved.name], ["where", saved.where], ["created", saved.created_at.toISOString()]]))
  })).pipe(Command.withDescription("Show a saved filter: its text (canonical form) and when it was created."))

const remove = Command.make("delete", { name: filterName, databaseUrl, adminUrl, json }, (input) =>
  Effect.gen(function*() {
    yield* onDirectory(
      yield* target(path("delete"), input),
      (storage) =>
        storage.deleteFilter(input.name).pipe(Effect.catchTag("NotFound", () => Effect.fail(new FilterNotFound({ name: input.name })))),
      (client) => client.filters.delete({ params: { name: input.name } })
    )
    if (input.json) return yield* printJson({ deleted: input.name })
    yield* Console.log(`Deleted filter "${input.name}". Campaigns that added contacts through it keep them.`)
  })).pipe(Command.withDescription("Delete a saved filter (the contacts it selected stay in the directory and in campaigns)."))

/** How many contacts `test` shows by default. */
const SAMPLE = 10

const test = Command.make(
  "test",
  {
    name: filterName.pipe(Argument.optional),
    where: Flag.String("where").pipe(Flag.withDescription("test this expression instead of a saved filter"), Flag.optional),
    sample: Flag.Int("sample").pipe(Flag.withDescription(`how many matching contacts to show (0–100, default ${SAMPLE})`), Flag.withDefault(SAMPLE)),
    databaseUrl,
    adminUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      if (Option.isSome(input.name) === Option.isSome(input.where)) {
        return yield* usage("filters", "test", "Give a saved filter's NAME or --where EXPR (one of them).")
      }
      if (input.sample < 0 || input.sample > 100) return yield* usage("filters", "test", "--sample must be between 0 and 100.")
      const { sample } = input
      const tested = yield* onDirectory(
        yield* target(path("test"), input),
        (storage) =>
          Effect.gen(function*() {
            const [where, filter] = Option.isSome(input.name)
              ? yield* Effect.map(findFilter(storage, input.name.value), (saved) => [Filter.print(saved.filter), saved.filter] as const)
              : [Option.getOrElse(input.where, () => ""), yield* Effect.fromResult(Directory.parseFilter(Option.getOrElse(input.where, () => "")))] as const
            const checked = yield* Effect.fromResult(Directory.checkColumns(filter, yield* Directory.knownColumns(storage)))
            const found = yield* Directory.testFilter(storage, checked, sample)
            return { where, matched: found.matched, sample: found.sample.map(Json.directoryContact) }
          }),
        // Either request's errors end in `throughApi`'s mapping; `unknown` lets the two branches be one type.
        (client): Effect.Effect<typeof Json.FilterTest.Type, unknown> =>
          Option.isSome(input.name)
            ? client.filters.test({ params: { name: input.name.value }, query: { sample } })
            : client.filters.probe({ payload: { where: Option.getOrElse(input.where, () => ""), sample } })
      )
      if (input.json) return yield* printJson(tested)
      const subject = Option.isSome(input.name) ? `Filter "${input.name.value}" (${tested.where})` : tested.where
      yield* Console.log(`${subject} matches ${tested.matched} contact(s).`)
      if (tested.sample.length > 0) {
        yield* Console.log(`\n${contactTable(tested.sample)}`)
        if (tested.matched > tested.sample.length) yield* Console.log(`\n(the first ${tested.sample.length} of ${tested.matched})`)
      }
    })
).pipe(Command.withDescription("How many directory contacts a saved filter (or --where EXPR) matches now, and the first 10."))

/** `megaphone filters create | list | show | delete | test` */
export const filters = Command.make("filters").pipe(
  Command.withDescription("Saved filters over the contact directory: create, list, show, delete, test."),
  Command.withSubcommands([create, list, show, remove, test])
)
