/**
 * Filters as the admin API takes them, over the directory rules campaigns use (campaigns/Directory.ts): filter
 * text parsed with the core parser (a mistake answers 400 with its line, column and hint), saved filters by name,
 * columns checked against the directory's, counting what a filter matches, a contact by id or phone, and saving a
 * filter. Storage failures answer 503.
 */
import { type Filter, Ports } from "@megaphone/core"
import { Effect } from "effect"
import * as Directory from "../campaigns/Directory.ts"
import { invalidFilter, orApiError } from "./Campaigns.ts"
import { BadRequest, Conflict, type InvalidFilter, NotFound, Unavailable } from "./Errors.ts"

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

/** How many directory contacts match `filter` (one count), and the first `sample` of them. */
export const count = Directory.testFilter

/** The contact the path's `:id` names (an id, or a phone number); otherwise a 404 saying how to find it. */
export const findContact = (storage: Ports.Storage.StorageShape, key: string): Effect.Effect<
  Ports.Storage.DirectoryContact,
  NotFound | Ports.Storage.StorageError
> =>
  Directory.findContact(storage, key).pipe(
    Effect.catchTags({
      ContactKeyInvalid: (error) =>
        Effect.fail(new NotFound({ entity: "contact", key, message: `No directory contact: ${error.message}` })),
      ContactNotFound: (error) =>
        Effect.fail(new NotFound({
          entity: "contact",
          key,
          message: `${error.message} See GET /api/directory/contacts?search=… to find it.`
        }))
    })
  )

/** Saving a filter's refusals in API terms: 400 for the text or its columns, 409 for a taken name. */
export const saveFilter = (storage: Ports.Storage.StorageShape, name: string, where: string, now: Date) =>
  orApiError(Directory.saveFilter(storage, name, where, now)).pipe(
    Effect.catchTags({
      FilterNameEmpty: () => Effect.fail(new BadRequest({ message: "\"name\" must not be empty: give the filter a name to refer to it by." })),
      FilterNameTaken: ({ name: taken }) =>
        Effect.fail(new Conflict({
          message: `A filter named "${taken}" already exists. Choose another name, or delete it first ` +
            `(DELETE /api/filters/${encodeURIComponent(taken)}).`
        }))
    })
  )
