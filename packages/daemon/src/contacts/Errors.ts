/**
 * Why an import cannot start or had to stop, with what a person needs to fix it: the file, the line, the column
 * (by number and header name) and the flag that helps. The `--map` mistakes are usage mistakes (exit 2); the
 * rest are failures (exit 1). Bad rows are not errors: they are rejected one by one (see Import).
 */
import { Schema } from "effect"
import { suggest } from "../config/Suggest.ts"

const Column = Schema.Struct({ number: Schema.Number, header: Schema.String })

/** `1 "Jméno", 2 "Telefon"` — the columns of a header as a person finds them. */
export const listColumns = (headers: ReadonlyArray<string>): string =>
  headers.map((h, i) => `#${i + 1} ${JSON.stringify(h)}`).join(", ")

const fold = (name: string): string => name.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase()

/** ` Did you mean "Příjmení"?` — the headers closest to a name, ignoring case and accents; nothing when none is close. */
const closest = (name: string, headers: ReadonlyArray<string>): string => {
  const named = headers.filter((h) => h !== "")
  const found = suggest(fold(name), named.map(fold)).flatMap((f) => named.filter((h) => fold(h) === f).slice(0, 1))
  return found.length === 0 ? "" : ` Did you mean ${found.map((h) => JSON.stringify(h)).join(" or ")}?`
}

/** A `--map` argument that is not `CSVCOL=column`. */
export class MapRuleInvalid extends Schema.TaggedError<MapRuleInvalid>()("MapRuleInvalid", {
  rule: Schema.String
}) {
  override get message(): string {
    return `--map ${JSON.stringify(this.rule)}: write CSVCOL=column (the CSV's header name or #N, then the directory column), ` +
      `CSVCOL=phone for the phone numbers, or CSVCOL= to skip the column.`
  }
}

/** A `--map` naming a CSV column the header does not have. */
export class MapColumnUnknown extends Schema.TaggedError<MapColumnUnknown>()("MapColumnUnknown", {
  source: Schema.String,
  headers: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const number = /^#\d+$/.test(this.source)
    const hint = number ? "" : closest(this.source, this.headers)
    return `--map ${this.source}: the CSV has no ${number ? `column ${this.source} (it has ${this.headers.length})` : `column named ${JSON.stringify(this.source)}`}.` +
      `${hint} Its columns: ${listColumns(this.headers)}.`
  }
}

/** A `--map` naming a header that several columns share. */
export class MapColumnAmbiguous extends Schema.TaggedError<MapColumnAmbiguous>()("MapColumnAmbiguous", {
  source: Schema.String,
  columns: Schema.Array(Schema.Number)
}) {
  override get message(): string {
    return `--map ${this.source}: the header names ${this.columns.length} columns so (${this.columns.map((c) => `#${c}`).join(", ")}); ` +
      `name one by its number, e.g. --map '#${this.columns[0]}=…'.`
  }
}

/** Two `--map`s for one CSV column, or two phone columns. */
export class MapRulesConflict extends Schema.TaggedError<MapRulesConflict>()("MapRulesConflict", {
  message: Schema.String
}) {}

/** The `--map` mistakes: usage errors. */
export type MapProblem = MapRuleInvalid | MapColumnUnknown | MapColumnAmbiguous | MapRulesConflict

/** A column without a name in the header, and no `--map` for it. */
export class HeaderNameMissing extends Schema.TaggedError<HeaderNameMissing>()("HeaderNameMissing", {
  file: Schema.String,
  line: Schema.Number,
  column: Schema.Number
}) {
  override get message(): string {
    return `${this.file}: column #${this.column} of the header (line ${this.line}) has no name. Name it in the file, ` +
      `or say what it holds with --map '#${this.column}=COLUMN', or skip it with --map '#${this.column}='. Nothing was imported.`
  }
}

/** Two CSV columns that would fill one directory column: a repeated header name, or names differing only in case or accents. */
export class ColumnsCollide extends Schema.TaggedError<ColumnsCollide>()("ColumnsCollide", {
  file: Schema.String,
  line: Schema.Number,
  target: Schema.String,
  columns: Schema.Array(Column)
}) {
  override get message(): string {
    const [first, second] = this.columns
    const cols = this.columns.map((c) => `#${c.number} ${JSON.stringify(c.header)}`).join(" and ")
    return `${this.file}: the header (line ${this.line}) has columns ${cols}, which would both fill the directory column ` +
      `${JSON.stringify(this.target)}. Rename one in the file, or map it elsewhere with --map '#${second?.number ?? first?.number}=OTHER NAME', ` +
      `or skip it with --map '#${second?.number ?? first?.number}='. Nothing was imported.`
  }
}

/** No column holds phone numbers (by its name or its values). */
export class PhoneColumnMissing extends Schema.TaggedError<PhoneColumnMissing>()("PhoneColumnMissing", {
  file: Schema.String,
  headers: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `${this.file}: no column holds the phone numbers — none is named like phone, telefon or mobil, and no column's values ` +
      `read as phone numbers. Say which one does with --map COLUMN=phone (columns: ${listColumns(this.headers)}). Nothing was imported.`
  }
}

/** The file cannot be opened or read. */
export class FileUnreadable extends Schema.TaggedError<FileUnreadable>()("FileUnreadable", {
  file: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot read ${this.file}: ${this.detail}. Check the path and that the file is readable.`
  }
}

/** The file has no header row (nothing but empty lines). */
export class FileEmpty extends Schema.TaggedError<FileEmpty>()("FileEmpty", {
  file: Schema.String
}) {
  override get message(): string {
    return `${this.file} is empty: it needs a header row naming the columns (e.g. Jméno;Příjmení;Telefon) and then one row per contact.`
  }
}

/** The rejects file cannot be written. */
export class RejectsUnwritable extends Schema.TaggedError<RejectsUnwritable>()("RejectsUnwritable", {
  path: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot write the rejected rows to ${this.path}: ${this.detail}. Choose another place with --rejects PATH.`
  }
}

/** The database failed in the middle: what was imported stays, and running the same file again is safe. */
export class ImportStopped extends Schema.TaggedError<ImportStopped>()("ImportStopped", {
  file: Schema.String,
  line: Schema.Number,
  imported: Schema.Number,
  detail: Schema.String
}) {
  override get message(): string {
    return `The import of ${this.file} stopped at line ${this.line}: the database failed (${this.detail}). ` +
      `${this.imported.toLocaleString("en")} contact(s) from the lines before it are in the directory. Fix the database and ` +
      `run the same command again: rows already imported are updated, not duplicated.`
  }
}
