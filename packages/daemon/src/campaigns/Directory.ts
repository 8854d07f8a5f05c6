/**
 * The directory as campaigns select from it (SPEC §4 A): the columns a filter or mapping may read, and the filter
 * a request names — a saved one by name, or an expression — checked against those columns.
 */
import { Filter, Ports } from "@megaphone/core"
import { Effect, Option, Result } from "effect"
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
