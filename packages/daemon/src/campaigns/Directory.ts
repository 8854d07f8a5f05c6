/**
 * The directory as campaigns, `megaphone contacts …`, `megaphone filters …` and the admin API select from it
 * (SPEC §1, §4 A): the columns a filter or mapping may read, the filter a request names — a saved one by name, or
 * an expression — checked against those columns, a contact named by id or phone, and saving and testing filters.
 * The refusals are data; each interface says them in its own terms.
 */
import { Filter, Phone, Ports } from "@megaphone/core"
import { Effect, Option, Result, Schema } from "effect"
import { FilterAmbiguous, FilterInvalid, FilterMissing, FilterNotFound, FilterUnknownColumns } from "./Errors.ts"

type Storage = Ports.Storage.StorageShape

/** The columns a filter or mapping may read: the directory's columns plus `phone` (see StorageShape.listDirectory). */
export const knownColumns = (storage: Storage): Effect.Effect<ReadonlyArray<string>, Ports.Storage.StorageError> =>
  Effect.map(storage.directoryColumns(), (columns) => [...new Set(["phone", ...columns])])

/** Parse filter text; a mistake says where (line, column) and how to fix it. */
export const parseFilter = (text: string): Result.Result<Filter.Filter, FilterInvalid> =>
  Result.mapError(Filter.parse(text), (problem) => new FilterInvalid({ problem }))

/** The filter, if every column it reads is one of `columns`; otherwise which are not (with suggestions). */
export const checkColumns = (filter: Filter.Filter, columns: ReadonlyArray<string>): Result.Result<Filter.Filter, FilterUnknownColumns> =>
  Result.mapError(Filter.checkColumns(filter, columns), (problem) => new FilterUnknownColumns({ problem }))

/** How a request names its filter: a saved filter's name, or an expression. */
export interface FilterChoice {
  readonly filter?: string | undefined
  readonly where?: string | undefined
}

/** The filter a request names; none when it names neither (everything), refused when it names both. */
export const chooseFilter = (
  storage: Storage,
  choice: FilterChoice
): Effect.Effect<Filter.Filter | undefined, FilterAmbiguous | FilterNotFound | FilterInvalid | Ports.Storage.StorageError> => {
  const { filter: name, where } = choice
  if (name !== undefined && where !== undefined) return Effect.fail(new FilterAmbiguous())
  if (name !== undefined) {
    return Effect.flatMap(storage.getFilter(name), (saved) =>
      Option.isSome(saved) ? Effect.succeed(saved.value.filter) : Effect.fail(new FilterNotFound({ name })))
  }
  if (where !== undefined) return Effect.fromResult(parseFilter(where))
  return Effect.succeed(undefined)
}

/** Like {@link chooseFilter}, but the request must name one. */
export const requireFilter = (
  storage: Storage,
  choice: FilterChoice
): Effect.Effect<Filter.Filter, FilterAmbiguous | FilterMissing | FilterNotFound | FilterInvalid | Ports.Storage.StorageError> =>
  Effect.flatMap(chooseFilter(storage, choice), (filter) => (filter === undefined ? Effect.fail(new FilterMissing()) : Effect.succeed(filter)))

/** Like {@link chooseFilter}, with the filter's columns checked against the directory's (a typo selects nothing, or all). */
export const chooseCheckedFilter = (
  storage: Storage,
  choice: FilterChoice
): Effect.Effect<
  Filter.Filter | undefined,
  FilterAmbiguous | FilterNotFound | FilterInvalid | FilterUnknownColumns | Ports.Storage.StorageError
> =>
  Effect.flatMap(chooseFilter(storage, choice), (filter) =>
    filter === undefined
      ? Effect.succeed(undefined)
      : Effect.flatMap(knownColumns(storage), (columns) => Effect.fromResult(checkColumns(filter, columns))))

/** Like {@link chooseCheckedFilter}, but the request must name one. */
export const requireCheckedFilter = (
  storage: Storage,
  choice: FilterChoice
): Effect.Effect<
  Filter.Filter,
  FilterAmbiguous | FilterMissing | FilterNotFound | FilterInvalid | FilterUnknownColumns | Ports.Storage.StorageError
> =>
  Effect.flatMap(chooseCheckedFilter(storage, choice), (filter) => (filter === undefined ? Effect.fail(new FilterMissing()) : Effect.succeed(filter)))

// ---------------------------------------------------------------------------------------------------------
// One contact, by id or phone

/** The text names neither an id (digits) nor a phone number. */
export class ContactKeyInvalid extends Schema.TaggedError<ContactKeyInvalid>()("ContactKeyInvalid", {
  key: Schema.String,
  /** Why it is not a phone number (`Phone.normalize`'s explanation). */
  explanation: Schema.String
}) {
  override get message(): string {
    return `"${this.key}" is neither a contact id (digits) nor a phone number: ${this.explanation}`
  }
}

/** No directory contact has this id or phone number. */
export class ContactNotFound extends Schema.TaggedError<ContactNotFound>()("ContactNotFound", {
  /** As given. */
  key: Schema.String,
  /** For an id that could be a phone number written without +: that phone number in E.164. */
  phone: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return /^\d+$/.test(this.key)
      ? `No directory contact with id ${this.key}.${this.phone === undefined ? "" : ` For a phone number, write it with +: ${this.phone}.`}`
      : `No directory contact with phone number ${this.key}.`
  }
}

/**
 * The contact a command-line argument or path names: digits are an id (ids are digits, phone numbers in the
 * directory start with +); anything else is a phone number as people write it, normalised to E.164 like imports.
 */
export const contactKey = (text: string): Result.Result<Ports.Storage.DirectoryKey, ContactKeyInvalid> => {
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return Result.succeed({ id: trimmed })
  return Result.mapBoth(Phone.normalize(trimmed), {
    onSuccess: (phone) => ({ phone: phone.e164 }),
    onFailure: (error) => new ContactKeyInvalid({ key: text, explanation: error.explanation })
  })
}

/** The contact not found under `key`, saying how to write a phone number when the key might have meant one. */
export const contactNotFound = (key: string): ContactNotFound => {
  const trimmed = key.trim()
  const asPhone = /^\d+$/.test(trimmed) ? Phone.normalize(`+${trimmed}`) : undefined
  return new ContactNotFound({
    key: trimmed,
    ...(asPhone !== undefined && Result.isSuccess(asPhone) ? { phone: asPhone.success.e164 } : {})
  })
}

/** The directory contact `text` names (see {@link contactKey}). */
export const findContact = (
  storage: Storage,
  text: string
): Effect.Effect<Ports.Storage.DirectoryContact, ContactKeyInvalid | ContactNotFound | Ports.Storage.StorageError> =>
  Effect.gen(function*() {
    const key = yield* Effect.fromResult(contactKey(text))
    const found = yield* storage.getDirectoryContact(key)
    if (Option.isNone(found)) return yield* contactNotFound(text)
    return found.value
  })

// ---------------------------------------------------------------------------------------------------------
// Saved filters

/** A filter needs a name that is not blank. */
export class FilterNameEmpty extends Schema.TaggedError<FilterNameEmpty>()("FilterNameEmpty", {}) {
  override get message(): string {
    return "The filter's name must not be empty."
  }
}

/** A filter of this name exists already. */
export class FilterNameTaken extends Schema.TaggedError<FilterNameTaken>()("FilterNameTaken", {
  name: Schema.String
}) {
  override get message(): string {
    return `A filter named "${this.name}" already exists.`
  }
}

/**
 * Save filter text under a name: the text must parse, and once the directory has contacts its columns must exist
 * (before the first import there is nothing to check against: a filter may be prepared in advance).
 */
export const saveFilter = (
  storage: Storage,
  name: string,
  where: string,
  now: Date
): Effect.Effect<
  Ports.Storage.SavedFilter,
  FilterNameEmpty | FilterNameTaken | FilterInvalid | FilterUnknownColumns | Ports.Storage.StorageError
> =>
  Effect.gen(function*() {
    const trimmed = name.trim()
    if (trimmed === "") return yield* new FilterNameEmpty()
    const filter = yield* Effect.fromResult(parseFilter(where))
    const empty = (yield* storage.listDirectory(undefined, { limit: 1 })).length === 0
    if (!empty) yield* Effect.fromResult(checkColumns(filter, yield* knownColumns(storage)))
    return yield* storage.createFilter(trimmed, filter, now).pipe(
      Effect.catchTag("Conflict", () => Effect.fail(new FilterNameTaken({ name: trimmed })))
    )
  })

/** What a filter matches now: how many directory contacts (one count), and the first `sample` of them. */
export const testFilter = (
  storage: Storage,
  filter: Filter.Filter,
  sample: number
): Effect.Effect<{ readonly matched: number; readonly sample: ReadonlyArray<Ports.Storage.DirectoryContact> }, Ports.Storage.StorageError> =>
  Effect.all({
    matched: storage.countDirectory(filter),
    sample: sample > 0 ? storage.listDirectory(filter, { limit: sample }) : Effect.succeed([])
  })
