/**
 * Reading a storage listing to its end a page at a time, so memory and transactions stay bounded for a directory
 * or campaign of any size.
 */
import type { Ports } from "@megaphone/core"
import { Effect } from "effect"

/** Rows per storage call when adding, listing or counting contacts. */
export const CHUNK = 1000

/** Read every page of an id-ordered listing (`read` gets the page to fetch) and hand each to `each`, in order. */
export const forEachPage = <A extends { readonly id: string }, E, R>(
  read: (page: Ports.Storage.Page) => Effect.Effect<ReadonlyArray<A>, E, R>,
  each: (rows: ReadonlyArray<A>) => void
): Effect.Effect<void, E, R> =>
  Effect.gen(function*() {
    let afterId: string | undefined
    for (;;) {
      const page = yield* read(afterId === undefined ? { limit: CHUNK } : { afterId, limit: CHUNK })
      each(page)
      const last = page.at(-1)
      if (last === undefined || page.length < CHUNK) return
      afterId = last.id
    }
  })
