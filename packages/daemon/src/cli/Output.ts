/**
 * How commands print (SPEC §7): with `--json` exactly one JSON document on stdout, otherwise aligned tables and
 * short lines for people. Progress goes to stderr in JSON mode, so the document stays parseable.
 */
import { Console, Effect } from "effect"
import { Flag } from "effect/cli"

/** `--json`: print exactly one JSON document on stdout. */
export const json = Flag.Boolean("json").pipe(Flag.withDescription("print one JSON document"), Flag.withDefault(false))

/** Print the command's one JSON document (dates as ISO strings). */
export const printJson = (document: unknown): Effect.Effect<void> => Console.log(JSON.stringify(document, null, 2))

/** A progress line: stdout for people, stderr when stdout carries the JSON document. */
export const progress = (asJson: boolean, line: string): Effect.Effect<void> => (asJson ? Console.error(line) : Console.log(line))

// Code points, not UTF-16 units: the Czech letters and ⚠ of template texts take one column each.
const width = (text: string): number => [...text].length

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = headers.map((header, i) => Math.max(width(header), ...rows.map((row) => width(row[i] ?? ""))))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - width(cell)))).join("  ").trimEnd()
  return [line(headers), ...rows.map(line)].join("\n")
}

/** A value for a table cell: `-` when unknown. */
export const cell = (value: string | number | null | undefined): string => (value === null || value === undefined || value === "" ? "-" : String(value))

/** `-o FILE`: where a command writes its file instead of stdout. */
export const outputFile = (what: string) =>
  Flag.String("output").pipe(Flag.withAlias("o"), Flag.withDescription(`write ${what} to this file instead of stdout`), Flag.optional)

/** `--excel`: a CSV as Czech Excel opens it (UTF-8 with a byte-order mark, `;` between cells). */
export const excelFlag = (note = "") =>
  Flag.Boolean("excel").pipe(Flag.withDescription(`CSV for Czech Excel: UTF-8 with BOM, \`;\` between cells${note}`), Flag.withDefault(false))
