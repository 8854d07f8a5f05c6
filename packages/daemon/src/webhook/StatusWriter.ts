/**
 * The batching writer behind the webhook receiver (DESIGN-NOTES §4: parse, verify, append to a batch, flush,
 * then acknowledge). Each POST hands in its status reports and waits; the writer applies the reports of many
 * POSTs in one `storage.applyStatuses` call — after `flushEveryMs` from the oldest waiting POST, or at once
 * when `flushAt` reports wait — and completes every POST only once its reports are durable, so a POST that
 * gets no 200 is one Meta redelivers.
 *
 * Several flushes may run at once (`writers`): statuses are forward-only in SQL, so concurrent batches cannot
 * regress a contact, and while every writer is busy the next batch just grows (group commit).
 */
import { Ports } from "@megaphone/core"
import { Clock, Deferred, Effect, Exit, Semaphore, type Scope } from "effect"

type StatusReport = Ports.Storage.StatusReport
type StorageError = Ports.Storage.StorageError

/** How the writer batches. */
export interface StatusWriterOptions {
  /** Longest a report waits for company before its batch is written. */
  readonly flushEveryMs: number
  /** Write at once when this many reports wait. */
  readonly flushAt: number
  /** Batches written at the same time (each holds one database connection). */
  readonly writers: number
  /** Refuse new reports (the POST gets 503, Meta retries) while this many wait: the database is not keeping up. */
  readonly maxQueued: number
  /** Called after each successful batch, for counters and logs. */
  readonly onApplied: (result: Ports.Storage.ApplyResult) => Effect.Effect<void>
}

/** Hands reports to the batch; succeeds once they are stored, fails when their batch could not be stored. */
export interface StatusWriter {
  readonly write: (reports: ReadonlyArray<StatusReport>) => Effect.Effect<void, StorageError>
  /** Reports waiting for a batch right now. */
  readonly queued: () => number
}

interface Job {
  readonly reports: ReadonlyArray<StatusReport>
  readonly enqueuedAt: number
  readonly done: Deferred.Deferred<void, StorageError>
}

const shuttingDown = () =>
  new Ports.Storage.StorageError({ operation: "applyStatuses", message: "the webhook receiver is shutting down" })

/** Starts the writer for the lifetime of the scope; waiting POSTs fail (→ 503) when it closes. */
export const make = (
  options: StatusWriterOptions
): Effect.Effect<StatusWriter, never, Ports.Storage.Storage | Scope.Scope> =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const scope = yield* Effect.scope
    const writers = yield* Semaphore.make(Math.max(1, options.writers))
    const jobs: Array<Job> = []
    const inFlight = new Set<Job>()
    let queued = 0
    let wake = yield* Deferred.make<void>()

    const takeBatch = (): Array<Job> => {
      const batch: Array<Job> = []
      let size = 0
      // Whole POSTs only: one POST's reports succeed or fail together.
      while (jobs.length > 0 && (batch.length === 0 || size + (jobs[0]?.reports.length ?? 0) <= options.flushAt)) {
        const job = jobs.shift()
        if (job === undefined) break
        batch.push(job)
        size += job.reports.length
      }
      queued -= size
      return batch
    }

    const apply = (batch: ReadonlyArray<Job>): Effect.Effect<void> =>
      Effect.gen(function*() {
        const now = yield* Ports.Clock.now
        const exit = yield* Effect.exit(storage.applyStatuses(batch.flatMap((job) => job.reports), now))
        if (Exit.isSuccess(exit)) {
          yield* options.onApplied(exit.value)
          for (const job of batch) yield* Deferred.succeed(job.done, undefined)
        } else if (batch.length > 1) {
          // One POST the database rejects must not fail its neighbours forever (Meta would resend them together).
          for (const job of batch) yield* apply([job])
        } else {
          for (const job of batch) yield* Deferred.done(job.done, Exit.asVoid(exit))
        }
      })

    const flush = (batch: ReadonlyArray<Job>) =>
      Effect.gen(function*() {
        for (const job of batch) inFlight.add(job)
        yield* apply(batch)
      }).pipe(Effect.ensuring(Effect.andThen(Effect.sync(() => batch.forEach((job) => inFlight.delete(job))), writers.release(1))))

    const dispatch = Effect.gen(function*() {
      for (;;) {
        wake = yield* Deferred.make<void>()
        const oldest = jobs[0]
        if (oldest === undefined) {
          yield* Deferred.await(wake)
          continue
        }
        const wait = oldest.enqueuedAt + options.flushEveryMs - (yield* Clock.currentTimeMillis)
        if (queued < options.flushAt && wait > 0) {
          yield* Effect.timeoutOption(Deferred.await(wake), wait)
          continue
        }
        // While every writer is busy, more reports join the batch.
        yield* writers.take(1)
        yield* Effect.forkIn(flush(takeBatch()), scope)
      }
    })
    yield* Effect.forkScoped(dispatch)

    yield* Effect.addFinalizer(() =>
      Effect.forEach([...jobs, ...inFlight], (job) => Deferred.fail(job.done, shuttingDown()), { discard: true })
    )

    const write = (reports: ReadonlyArray<StatusReport>): Effect.Effect<void, StorageError> =>
      reports.length === 0
        ? Effect.void
        : Effect.gen(function*() {
          if (queued + reports.length > options.maxQueued && queued > 0) {
            return yield* Effect.fail(new Ports.Storage.StorageError({
              operation: "applyStatuses",
              message: `${queued} status reports are waiting for the database; refusing more until it catches up`
            }))
          }
          const job: Job = { reports, enqueuedAt: yield* Clock.currentTimeMillis, done: yield* Deferred.make<void, StorageError>() }
          jobs.push(job)
          queued += reports.length
          // Wake the dispatcher for a first POST (it starts the linger) or a full batch; others just wait.
          if (jobs.length === 1 || queued >= options.flushAt) yield* Deferred.succeed(wake, undefined)
          return yield* Deferred.await(job.done)
        })

    return { write, queued: () => queued }
  })

