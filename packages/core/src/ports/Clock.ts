/**
 * The clock port is Effect's own `Clock` service: adapters and the daemon read time through it, tests swap in
 * `TestClock`, and the pure core takes the resulting `Date` as an argument.
 */
import { Clock, Effect } from "effect"

/** The current time as a `Date`, from Effect's `Clock` (so `TestClock` controls it in tests). */
export const now: Effect.Effect<Date> = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))
