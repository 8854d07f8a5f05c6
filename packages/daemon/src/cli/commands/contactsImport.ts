/**
 * `megaphone contacts import FILE` (SPEC §1, §7; the seed's "Nahrát CSV"): a CSV from Excel into the directory —
 * encoding and delimiter detected, columns mapped onto directory columns (existing or new), phones normalised
 * to E.164, contacts upserted by phone, every bad row rejected with its line and reason into a rejects file.
 * `--dry-run` shows what would happen without writing. The work is contacts/Import.ts; this file reads the
 * flags, says the refusals in CLI terms, draws the progress bar and prints.
 *
 * Directly on the database only: the admin API takes no file uploads for the directory (yet).
 */
import { access, constants } from "node:fs/promises"
import { resolve } from "node:path"
import { Phone, Ports } from "@megaphone/core"
import { Clock, Console, Effect, Option, Result } from "effect"
import { Argument, CliError, Command, Flag } from "effect/cli"
import { describeDelimiter } from "../../contacts/CsvReader.ts"
import { describeEncoding, ENCODING_CHOICES } from "../../contacts/Encoding.ts"
import { FileUnreadable, type MapProblem } from "../../contacts/Errors.ts"
import { importFile, type ImportSettings, type ImportSummary, type Layout, preview, type Preview, type Progress } from "../../contacts/Import.ts"
import { type MapRule, parseRule, type Target } from "../../contacts/Mapping.ts"
import { defaultRejectsPath } from "../../contacts/Rejects.ts"
import type { DelimiterChoice } from "../../contacts/Source.ts"
import { CommandFailed, usageError } from "../Failure.ts"
import { json, printJson, table } from "../Output.ts"
import { ADMIN_URL_ENV, adminUrl } from "../Remote.ts"
import { withStorage } from "../Session.ts"
import { databaseUrl } from "../Storage.ts"

/** The environment variable with the default country of numbers written without a country code. */
export const COUNTRY_ENV = "MEGAPHONE_DEFAULT_COUNTRY"

const PATH = ["megaphone", "contacts", "import"]

/** Why a file cannot be read, in words. */
const accessProblem = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code
  return code === "ENOENT" ? "there is no such file" : code === "EACCES" ? "permission denied" : code ?? String(error)
}

/** A usage mistake: help with the error, exit 2. */
const usage = (message: string) => usageError(PATH, message)

const DELIMITER_NAMES: Readonly<Record<string, DelimiterChoice>> = {
  auto: "auto", ";": ";", semicolon: ";", ",": ",", comma: ",", tab: "\t", "\t": "\t", "\\t": "\t"
}

/** `--delimiter` as a delimiter, or the usage mistake. */
const parseDelimiter = (text: string): Result.Result<DelimiterChoice, string> => {
  const found = DELIMITER_NAMES[text.trim().toLowerCase()] ?? DELIMITER_NAMES[text]
  return found === undefined
    ? Result.fail(`--delimiter ${JSON.stringify(text)}: use auto, ';', ',' or tab.`)
    : Result.succeed(found)
}

/** The default country: `--country`, else MEGAPHONE_DEFAULT_COUNTRY, else CZ; an unknown code says where it came from. */
const chooseCountry = (flag: Option.Option<string>, env: Readonly<Record<string, string | undefined>> = process.env) => {
  if (Option.isSome(flag)) {
    return Effect.mapError(Effect.fromResult(Phone.parseCountry(flag.value)), (error) => usage(`--country: ${error.message}`))
  }
  const fromEnv = env[COUNTRY_ENV]?.trim()
  if (fromEnv === undefined || fromEnv === "") return Effect.succeed(Phone.DEFAULT_COUNTRY)
  return Effect.mapError(Effect.fromResult(Phone.parseCountry(fromEnv)), (error) =>
    new CommandFailed({ message: `${COUNTRY_ENV}: ${error.message} Or unset it (default ${Phone.DEFAULT_COUNTRY}), or give --country.` }))
}

const isMapProblem = (error: { readonly _tag: string }): error is MapProblem =>
  ["MapRuleInvalid", "MapColumnUnknown", "MapColumnAmbiguous", "MapRulesConflict"].includes(error._tag)

/**
 * Run an import step on the database. Its own errors travel through `withStorage` as values, so a `--map` mistake
 * stays a usage error (exit 2); every other refusal is a failure in its own words (exit 1).
 */
const onDatabase = <A, E extends { readonly _tag: string; readonly message: string }>(
  url: Option.Option<string>,
  effect: Effect.Effect<A, E, Ports.Storage.Storage>
): Effect.Effect<A, CommandFailed | CliError.ShowHelp> =>
  Effect.result(effect).pipe(
    withStorage(url),
    Effect.flatMap((result) =>
      Result.isSuccess(result)
        ? Effect.succeed(result.success)
        : Effect.fail(isMapProblem(result.failure) ? usage(result.failure.message) : new CommandFailed({ message: result.failure.message })))
  )

// ---------------------------------------------------------------------------------------------------------
// Output

const targetJson = (target: Target) =>
  target._tag === "Phone"
    ? { target: "phone", existing: null }
    : target._tag === "Skip"
    ? { target: null, existing: null }
    : { target: target.name, existing: target.existing }

const layoutJson = (layout: Layout) => ({
  file: layout.file,
  encoding: layout.encoding.encoding,
  encoding_reason: layout.encoding.reason,
  delimiter: describeDelimiter(layout.delimiter),
  delimiter_reason: layout.delimiterReason,
  header_line: layout.headerLine,
  columns: layout.mapping.columns.map((c) => ({ number: c.index + 1, header: c.header, ...targetJson(c.target), how: c.how }))
})

/** The `--json` document of an import. */
export const summaryJson = (s: ImportSummary) => ({
  dry_run: false,
  ...layoutJson(s),
  rows: s.rows,
  inserted: s.inserted,
  updated: s.updated,
  skipped: s.skipped,
  rejected: s.rejected,
  blank: s.blank,
  rejects_file: s.rejectsFile,
  rejects: s.firstRejects
})

/** The `--json` document of a dry run. */
export const previewJson = (p: Preview) => ({
  dry_run: true,
  ...layoutJson(p),
  rows: p.rows.map((r) => ({ line: r.line, phone: r.contact.phone, columns: r.contact.columns })),
  checked: p.checked,
  whole_file: p.wholeFile,
  rejected: p.rejected,
  problems: p.problems
})

const n = (value: number) => value.toLocaleString("en")

const describeLayout = (l: Layout): string => {
  const phone = l.mapping.columns.find((c) => c.target._tag === "Phone")
  return `Read as ${describeEncoding(l.encoding.encoding)} (${l.encoding.reason}), delimiter ${describeDelimiter(l.delimiter)} ` +
    `(${l.delimiterReason}), header on line ${l.headerLine}; phone numbers from column #${(phone?.index ?? 0) + 1} ` +
    `${JSON.stringify(phone?.header ?? "")} (${phone?.how ?? ""}).`
}

const mappingTable = (l: Layout): string =>
  table(["#", "CSV COLUMN", "DIRECTORY COLUMN", "HOW"], l.mapping.columns.map((c) => [
    String(c.index + 1),
    c.header === "" ? "(no name)" : c.header,
    c.target._tag === "Phone" ? "phone (E.164, the key)" : c.target._tag === "Skip" ? "(skipped)" : `${c.target.name}${c.target.existing ? "" : " (new)"}`,
    c.how
  ]))

const printSummary = (s: ImportSummary) =>
  Effect.gen(function*() {
    yield* Console.log(`Imported ${s.file}: ${n(s.rows)} row(s) — ${n(s.inserted)} new, ${n(s.updated)} updated, ` +
      `${n(s.skipped)} skipped (phone already in the directory), ${n(s.rejected)} rejected; ${n(s.blank)} empty row(s) skipped.`)
    yield* Console.log(describeLayout(s))
    if (s.rejected === 0) return
    yield* Console.log(`\n${n(s.rejected)} rejected row(s) are in ${s.rejectsFile} (line, reason, then the row as it was); fix them ` +
      `there and import that file with --map line= --map reason=.${s.rejected > s.firstRejects.length ? " The first:" : ""}`)
    for (const r of s.firstRejects) yield* Console.log(`  line ${r.line}: ${r.reason}`)
  })

const printPreview = (p: Preview) =>
  Effect.gen(function*() {
    yield* Console.log(`${p.file} — dry run, nothing is written.`)
    yield* Console.log(describeLayout(p))
    yield* Console.log(`\n${mappingTable(p)}`)
    if (p.rows.length > 0) {
      const names = p.mapping.columns.flatMap((c) => (c.target._tag === "Column" ? [c.target.name] : []))
      yield* Console.log(`\nThe first ${p.rows.length} row(s) as the directory would get them:`)
      yield* Console.log(table(["LINE", "phone", ...names], p.rows.map((r) => [
        String(r.line), r.contact.phone, ...names.map((name) => (r.contact.columns[name] ?? "").replace(/\n/g, "⏎"))
      ])))
    }
    const scope = p.wholeFile ? `all ${n(p.checked)} row(s) of the file` : `the first ${n(p.checked)} row(s)`
    if (p.rejected === 0) yield* Console.log(`\nNo problems in ${scope}.`)
    else {
      yield* Console.log(`\n${n(p.rejected)} of ${scope} would be rejected${p.rejected > p.problems.length ? "; the first" : ""}:`)
      for (const r of p.problems) yield* Console.log(`  line ${r.line}: ${r.reason}`)
    }
    yield* Console.log(`\nRun the same command without --dry-run to import; change the mapping with --map CSVCOL=column.`)
  })

// ---------------------------------------------------------------------------------------------------------
// Progress bar (stderr, only on a terminal and without --json)

const BAR = 24
const TICK_MS = 200

const progressBar = (enabled: boolean) => {
  let started: number | undefined
  let last = 0
  const draw = (p: Progress, now: number) => {
    const share = p.size === 0 ? 1 : Math.min(1, p.bytesRead / p.size)
    const filled = Math.round(share * BAR)
    const seconds = Math.max(0.001, (now - (started ?? now)) / 1000)
    process.stderr.write(`\r[${"#".repeat(filled)}${"-".repeat(BAR - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ` +
      `${(p.bytesRead / 1e6).toFixed(1)}/${(p.size / 1e6).toFixed(1)} MB  ${n(p.rows)} rows  ${n(Math.round(p.rows / seconds))} rows/s\u001b[K`)
  }
  return {
    tick: (p: Progress): Effect.Effect<void> =>
      enabled
        ? Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.sync(() => {
            started ??= now
            if (now - last < TICK_MS) return
            last = now
            draw(p, now)
          }))
        : Effect.void,
    clear: Effect.sync(() => {
      if (enabled && started !== undefined) process.stderr.write("\r\u001b[K")
    })
  }
}

// ---------------------------------------------------------------------------------------------------------
// The command

/** `megaphone contacts import FILE …` */
export const importCommand = Command.make(
  "import",
  {
    file: Argument.String("FILE").pipe(Argument.withDescription("the CSV file (as Excel saves it: CSV, CSV UTF-8 or Unicode text)")),
    map: Flag.String("map").pipe(
      Flag.atLeast(0),
      Flag.withDescription("CSVCOL=column: put a CSV column (header name or #N) into this directory column; CSVCOL=phone picks " +
        "the phone column, CSVCOL= skips it (repeatable)")
    ),
    encoding: Flag.Literals("encoding", ENCODING_CHOICES).pipe(
      Flag.withDescription("the file's encoding (default auto: BOM, UTF-16, else UTF-8 or Windows-1250 by its bytes)"),
      Flag.withDefault("auto" as const)
    ),
    delimiter: Flag.String("delimiter").pipe(
      Flag.withDescription("auto, ';', ',' or tab (default auto: sniffed from the header)"),
      Flag.withDefault("auto")
    ),
    onDuplicate: Flag.Literals("on-duplicate", ["update", "skip"] as const).pipe(
      Flag.withDescription("a phone already in the directory: update its columns (non-empty values win) or skip the row"),
      Flag.withDefault("update" as const)
    ),
    country: Flag.String("country").pipe(
      Flag.withDescription(`the country of numbers without +/00 (default ${COUNTRY_ENV}, else ${Phone.DEFAULT_COUNTRY})`),
      Flag.optional
    ),
    rejects: Flag.String("rejects").pipe(
      Flag.withDescription("where to write the rejected rows (default FILE.rejects.csv, next to the file)"),
      Flag.optional
    ),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("show the encoding, delimiter, mapping, first rows and problems; write nothing"),
      Flag.withDefault(false)
    ),
    databaseUrl,
    adminUrl: adminUrl.pipe(Flag.withDescription("not for import: it works only directly on the database (--database-url)")),
    json
  },
  (input) =>
    Effect.gen(function*() {
      const adminGiven = Option.isSome(input.adminUrl)
        ? "--admin-url"
        : Option.isNone(input.databaseUrl) && (process.env[ADMIN_URL_ENV]?.trim() ?? "") !== ""
        ? ADMIN_URL_ENV
        : undefined
      if (adminGiven !== undefined) {
        return yield* usage(`\`megaphone contacts import\` works only directly on the database, and ${adminGiven} names the admin API. ` +
          `Give --database-url URL (or set MEGAPHONE_DATABASE_URL${adminGiven === ADMIN_URL_ENV ? ` and unset ${ADMIN_URL_ENV}` : ""}) ` +
          `and run it where the database is reachable.`)
      }
      const rules: Array<MapRule> = []
      for (const text of input.map) {
        const rule = parseRule(text)
        if (Result.isFailure(rule)) return yield* usage(rule.failure.message)
        rules.push(rule.success)
      }
      const delimiter = parseDelimiter(input.delimiter)
      if (Result.isFailure(delimiter)) return yield* usage(delimiter.failure)
      const country = yield* chooseCountry(input.country)
      const rejectsPath = Option.getOrElse(input.rejects, () => defaultRejectsPath(input.file))
      if (resolve(rejectsPath) === resolve(input.file)) {
        return yield* usage(`--rejects ${rejectsPath} is the file being imported; choose another path.`)
      }
      // The file first: a wrong path is the likelier mistake, and it needs no database to be told.
      yield* Effect.tryPromise({
        try: () => access(input.file, constants.R_OK),
        catch: (error) => new CommandFailed({ message: new FileUnreadable({ file: input.file, detail: accessProblem(error) }).message })
      })
      const settings: ImportSettings = {
        file: input.file,
        encoding: input.encoding,
        delimiter: delimiter.success,
        rules,
        country,
        onDuplicate: input.onDuplicate,
        rejectsPath
      }

      if (input.dryRun) {
        const shown = yield* onDatabase(input.databaseUrl, preview(settings))
        return yield* (input.json ? printJson(previewJson(shown)) : printPreview(shown))
      }

      const bar = progressBar(!input.json && process.stderr.isTTY === true)
      const summary = yield* onDatabase(input.databaseUrl, importFile(settings, bar.tick)).pipe(Effect.ensuring(bar.clear))
      yield* (input.json ? printJson(summaryJson(summary)) : printSummary(summary))
      if (summary.rows > 0 && summary.rejected === summary.rows) {
        return yield* new CommandFailed({
          message: `Every row of ${summary.file} was rejected (${n(summary.rows)}; see ${summary.rejectsFile}): check the mapping and ` +
            `the encoding with --dry-run.`
        })
      }
    })
).pipe(Command.withDescription(
  "Import a CSV file (from Excel: Windows-1250, UTF-8 or UTF-16; ';', ',' or tab) into the contact directory, upserting by phone. " +
    "Works only directly on the database (--database-url), not through --admin-url."
))
