/**
 * Filters as the admin API takes them, over the directory rules campaigns use (campaigns/Directory.ts): filter
 * text parsed with the core parser (a mistake answers 400 with its line, column and hint), saved filters by name,
 * columns checked against the directory's, and counting what a filter matches. Storage failures answer 503.
 */
import { type Filter, Ports } from "@megaphone/core"
import { Effect } from "effect"
import * as Directory from "../campaigns/Directory.ts"
import { forEachPage } from "../campaigns/Paging.ts"
import { invalidFilter, orApiError } from "./Campaigns.ts"
import { type BadRequest, type InvalidFilter, Unavailable } from "./Errors.ts"

/** A storage failure as the API's 503, with what failed and what to do. */
export const unavailable = (error: Ports.Storage.StorageError): Unavailable =>
  new Unavailable({
    message: `The database failed (${error.operation}: ${error.message}). Try again shortly; if it persists check ` +
      `/readyz and the daemon's log.`
  })

/** Turn the storage's StorageError into the API's 503; other errors pass unchanged. */
export const orUnavailable = <A, E, R>(
  effect: Effect.Effect<A, E | Ports.Storage.StorageError, R>
): Effect.Effect<A, Exclude<E, Ports.Storage.StorageError> | Unavailable, R> =>
  // Sound: only StorageError is caught; TypeScript cannot narrow the generic E by itself.
  Effect.mapError(effect, (error) => (error instanceof Ports.Storage.StorageError ? unavailable(error) : error)) as Effect.Effect<
    A,
    Exclude<E, Ports.Storage.StorageError> | Unavailable,
    R
  >

/** Parse filter text; a mistake is a 400 saying where and how to fix it. `field` names the input it came from. */
export const parseWhere = (text: string, field: string): Effect.Effect<Filter.Filter, InvalidFilter> =>
  Effect.mapError(Effect.fromResult(Directory.parseFilter(text)), (error) => invalidFilter(error, field))

/** The columns a filter or mapping may read: the directory's columns plus `phone`. */
export const knownColumns = Directory.knownColumns

/** The filter, if every column it reads exists in the directory; otherwise a 400 naming them (with suggestions). */
export const checkColumns = (filter: Filter.Filter, columns: ReadonlyArray<string>): Effect.Effect<Filter.Filter, BadRequest> =>
  orApiError(Effect.fromResult(Directory.checkColumns(filter, columns)))

/**
 * The filter of a request that may name a saved filter (`filter`) or give an expression (`where`); none without
 * either (everything), a 400 with both.
 */
export const fromRequest = (storage: Ports.Storage.StorageShape, input: Directory.FilterChoice) => orApiError(Directory.chooseFilter(storage, input))

/** How many directory contacts match `filter`, and the first `sample` of them. */
export const count = (storage: Ports.Storage.StorageShape, filter: Filter.Filter, sample: number) =>
  Effect.gen(function*() {
    let matched = 0
    const first: Array<Ports.Storage.DirectoryContact> = []
    yield* forEachPage((page) => storage.listDirectory(filter, page), (page) => {
      matched += page.length
      for (const contact of page) if (first.length < sample) first.push(contact)
    })
    return { matched, sample: first }
  })
