/**
 * The last guard before a send leaves: at most `limit` sends in any sliding window of `windowMs` (Meta counts a
 * number's messages/second that way). The storage hands out throughput slots, but a send can leave late — an
 * event loop busy decoding a claim, all send permits taken — and late sends bunch up with punctual ones; a
 * bunch above the limit costs a 130429 and slows the number down for a while. The pacer holds such a send
 * until the window has room instead.
 */
import { Clock, Duration, Effect } from "effect"

/** A sliding-window pacer for one phone number, in this process. */
export interface Pacer {
  /** Wait until a send fits the window, and count it. */
  readonly admit: Effect.Effect<void>
}

/**
 * A pacer allowing `limit` sends per `windowMs`. `marginMs` widens the window a little: the request's arrival at
 * Meta, not its departure, is what counts there.
 */
export const make = (limit: number, windowMs = 1_000, marginMs = 10): Pacer => {
  const size = Math.max(1, Math.floor(limit))
  // The departure times of the last `size` sends, as a ring: the oldest is where the next one goes.
  const ring = new Array<number>(size).fill(Number.NEGATIVE_INFINITY)
  let next = 0
  const admit: Effect.Effect<void> = Effect.gen(function*() {
    for (;;) {
      const now = yield* Clock.currentTimeMillis
      const free = (ring[next] ?? Number.NEGATIVE_INFINITY) + windowMs + marginMs
      if (free <= now) {
        ring[next] = now
        next = (next + 1) % size
        return
      }
      yield* Effect.sleep(Duration.millis(free - now))
    }
  })
  return { admit }
}
