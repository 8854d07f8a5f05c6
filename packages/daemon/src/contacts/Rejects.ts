/**
 * The rejects file: every row an import could not take — its line, the reason, then its cells as they were — in
 * UTF-8 with a BOM (so Excel opens it with the accents right) and the input's delimiter (so the Excel that made
 * the input splits it into columns). Fix the rows in it and import it again with `--map line= --map reason=`.
 *
 * Cells are written as they came, not neutralised against formulas like the exports: they are the person's own
 * data going back to them, and a `'` before `+420…` would make the fixed rows fail as phone numbers.
 */
import { open, rm } from "node:fs/promises"
import type { FileHandle } from "node:fs/promises"
import { Effect } from "effect"
import { csvLine, UTF8_BOM } from "../campaigns/Csv.ts"
import type { Delimiter } from "./CsvReader.ts"
import { RejectsUnwritable } from "./Errors.ts"

/** A rejected row, as the summary shows it. */
export interface Rejected {
  readonly line: number
  readonly reason: string
}

/** Where rejected rows go while an import runs. */
export interface RejectsFile {
  readonly path: string
  /** Queue one rejected row (written at the next {@link RejectsFile.flush}). */
  readonly add: (line: number, reason: string, cells: ReadonlyArray<string>) => void
  /** Write the queued rows. */
  readonly flush: Effect.Effect<void, RejectsUnwritable>
  /** How many rows were rejected. */
  readonly count: () => number
}

/** The default rejects file of an input: `<FILE>.rejects.csv` next to it. */
export const defaultRejectsPath = (file: string): string => `${file.replace(/\.(csv|txt|tsv)$/i, "")}.rejects.csv`

const unwritable = (path: string, error: unknown) =>
  new RejectsUnwritable({ path, detail: error instanceof Error ? error.message.replace(/^[A-Z]+: /, "") : String(error) })

/**
 * A rejects file at `path` for rows of `header`. A file left there by an earlier run is removed now, so what is
 * there afterwards is this run's; the file itself is created with the first rejected row (closed with the scope).
 */
export const rejectsFile = (path: string, delimiter: Delimiter, header: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    yield* Effect.tryPromise({ try: () => rm(path, { force: true }), catch: (error) => unwritable(path, error) })
    let handle: FileHandle | undefined
    yield* Effect.addFinalizer(() => Effect.promise(async () => handle?.close()))
    let queued = ""
    let count = 0
    const file: RejectsFile = {
      path,
      add: (line, reason, cells) => {
        count++
        queued += csvLine([String(line), reason, ...cells], delimiter)
      },
      flush: Effect.suspend(() => {
        if (queued === "") return Effect.void
        const text = queued
        queued = ""
        return Effect.tryPromise({
          try: async () => {
            if (handle === undefined) {
              handle = await open(path, "w")
              await handle.writeFile(UTF8_BOM + csvLine(["line", "reason", ...header], delimiter), "utf8")
            }
            await handle.writeFile(text, "utf8")
          },
          catch: (error) => unwritable(path, error)
        })
      }),
      count: () => count
    }
    return file
  })
