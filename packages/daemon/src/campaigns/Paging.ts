/**
 * Reading a storage listing to its end a page at a time, so memory and transactions stay bounded for a directory
 * or campaign of any size.
 */
import type { Ports } from "@megaphone/core"
import { Effect } from "effect"

/** Rows per storage call when adding, listing or counting contacts. */
export const CHUNK = 1000

/**
 * Read every page of an id-ordered listing (`read` gets the page to fetch) and run `each` on each, in order, before
 * the next is read: an export writes a page out and forgets it. `each` runs at least once (on an empty page).
 */
export const forEachPageEffect = <A extends { readonly id: string }, E, R, E2, R2>(
  read: (page: Ports.Storage.Page) => Effect.Effect<ReadonlyArray<A>, E, R>,
  each: (rows: ReadonlyArray<A>) => Effect.Effect<void, E2, R2>,
  limit: number = CHUNK
): Effect.Effect<void, E | E2, R | R2> =>
  Effect.gen(function*() {
    let afterId: string | undefined
    for (;;) {
      const page = yield* read(afterId === undefined ? { limit } : { afterId, limit })
      yield* each(page)
      const last = page.at(-1)
      if (last === undefined || page.length < limit) return
      afterId = last.id
    }
  })

/** Read every page of an id-ordered listing (`read` gets the page to fetch) and hand each to `each`, in order. */
export const forEachPage = <A extends { readonly id: string }, E, R>(
  read: (page: Ports.Storage.Page) => Effect.Effect<ReadonlyArray<A>, E, R>,
  each: (rows: ReadonlyArray<A>) => void
): Effect.Effect<void, E, R> => forEachPageEffect(read, (rows) => Effect.sync(() => each(rows)))
