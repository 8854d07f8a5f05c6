/**
 * `megaphone daemon` (SPEC §7): what ops run under systemd. It opens (and migrates) the database, serves Meta's
 * webhooks and the health endpoints, keeps one dispatch loop per account whose access token is in the
 * environment, logs one JSON object per line on stderr, and on SIGINT/SIGTERM stops claiming, lets the rounds
 * in flight finish, closes its servers and the database, and exits 0.
 *
 * In-flight claims at shutdown: a round that is running when the signal arrives is allowed to finish (its sends
 * and their outcomes are recorded) for up to {@link SHUTDOWN_DEADLINE}; after that the loops are interrupted. A
 * contact whose send was cut off stays `in_progress` with its lease; once the lease expires, the next daemon's
 * reclaimer hands it to the retry policy, which resends it only after the grace for a late `sent` webhook
 * (RetryPolicy: `expiredLease`), so nothing is lost and a duplicate is only possible within that documented window.
 */
import { createServer } from "node:http"
import { randomBytes } from "node:crypto"
import { NodeHttpServer } from "@effect/platform-node"
import { CloudApiTransport, Database, EmbeddedPostgres } from "@megaphone/adapters"
import { Ports } from "@megaphone/core"
import { Deferred, Duration, Effect, Fiber, Layer, Logger, Option, Redacted, Schedule, Scope } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { SqlClient } from "effect/sql"
import * as Dispatcher from "../../dispatch/Dispatcher.ts"
import * as Receiver from "../../webhook/Receiver.ts"
import { CommandFailed } from "../Failure.ts"
import { accessToken, toFailure } from "../Session.ts"
import { databaseUrl, describeDatabase, resolveDatabase } from "../Storage.ts"

/** How often the account list is read again, so new accounts (or newly set tokens) start dispatching. */
const SCAN_EVERY = Duration.seconds(5)
/** How often the progress line is written. */
const PROGRESS_EVERY = Duration.seconds(5)
/** How long rounds in flight may take to finish after SIGINT/SIGTERM before they are interrupted. */
export const SHUTDOWN_DEADLINE = Duration.seconds(20)
/** `/readyz` answers 503 when the database takes longer than this to answer `select 1`. */
const READY_TIMEOUT = Duration.seconds(2)

interface Address {
  readonly host: string
  readonly port: number
}

const parseListen = (flag: string, listen: string): Effect.Effect<Address, CommandFailed> => {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen.trim())
  const port = Number(match?.[2])
  if (match === null || match[1] === undefined || port > 65_535) {
    return Effect.fail(new CommandFailed({ message: `--${flag} ${listen} is not HOST:PORT. Write e.g. --${flag} 127.0.0.1:8787.` }))
  }
  return Effect.succeed({ host: match[1].replace(/^\[|\]$/g, ""), port })
}

/** A required secret from the environment, or a failure naming the variable (never its value). */
const secretFromEnv = (name: string, purpose: string): Effect.Effect<Redacted.Redacted<string>, CommandFailed> => {
  const value = process.env[name]
  if (value !== undefined && value.trim() !== "") return Effect.succeed(Redacted.make(value.trim()))
  return Effect.fail(new CommandFailed({ message: `${name} is not set. Set it to ${purpose} and start the daemon again.` }))
}

/**
 * One JSON object per line on stderr: time, level, message and the log annotations as fields. Only what the code
 * annotates is written, and no code annotates a secret (tokens stay in `Redacted`).
 */
const jsonLogger = Logger.withConsoleError(Logger.map(Logger.formatStructured, (entry) =>
  JSON.stringify({
    time: entry.timestamp,
    level: entry.level.toLowerCase(),
    message: entry.message,
    ...entry.annotations,
    ...(entry.cause === undefined ? {} : { cause: entry.cause })
  })))

/** Counts of the rounds since the last progress line, across accounts. */
interface Tally {
  rounds: number
  reclaimed: number
  claimed: number
  accepted: number
  failed: number
  released: number
  refused: number
}

const emptyTally = (): Tally => ({ rounds: 0, reclaimed: 0, claimed: 0, accepted: 0, failed: 0, released: 0, refused: 0 })

/**
 * One account's dispatch loop: round after round (Dispatcher.dispatchOnce, waiting as `Dispatcher.run` does when
 * nothing was due), until `stopping` is done. It is `run` unrolled so that a shutdown stops claiming between
 * rounds instead of cutting a round off, and so the progress line can count what the rounds did.
 */
const dispatchLoop = (
  account: Ports.Storage.Account,
  token: Redacted.Redacted<string>,
  options: Dispatcher.DispatchOptions,
  stopping: Deferred.Deferred<void>,
  onRound: (report: Dispatcher.RoundReport) => void
) =>
  Effect.gen(function*() {
    const idleMs = options.idleMs ?? Dispatcher.defaults.idleMs
    // Waiting is cut short by the shutdown; a round itself is not.
    const pause = (ms: number) => Effect.raceFirst(Effect.sleep(Duration.millis(ms)), Deferred.await(stopping))
    while (!(yield* Deferred.isDone(stopping))) {
      const report = yield* Dispatcher.dispatchOnce(account, token, options).pipe(
        Effect.map(Option.some),
        Effect.catchTag("StorageError", (error) =>
          Effect.logError("dispatch round failed; retrying").pipe(
            Effect.annotateLogs({ account: account.name, operation: error.operation, error: error.message }),
            Effect.andThen(pause(idleMs)),
            Effect.as(Option.none<Dispatcher.RoundReport>())
          ))
      )
      if (Option.isNone(report)) continue
      const r = report.value
      onRound(r)
      for (const id of r.pausedCampaigns) yield* Effect.logWarning("campaign paused").pipe(Effect.annotateLogs({ account: account.name, campaign: id }))
      for (const id of r.finishedCampaigns) yield* Effect.logInfo("campaign finished").pipe(Effect.annotateLogs({ account: account.name, campaign: id }))
      if (r.claimed > 0) continue
      const at = r.nextCapacity?.at
      const wait = at === undefined ? idleMs : Math.min(idleMs, Math.max(0, at.getTime() - Date.now()))
      if (wait > 0) yield* pause(wait)
    }
  })

/** `/healthz` (the process answers) and `/readyz` (the database answers `select 1`). */
const adminRoutes = HttpRouter.use((router) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const text = (status: number, body: string) => HttpServerResponse.text(body, { status })
    yield* router.add("GET", "/healthz", Effect.succeed(text(200, "ok")))
    yield* router.add(
      "GET",
      "/readyz",
      sql`select 1`.pipe(
        Effect.timeout(READY_TIMEOUT),
        Effect.as(text(200, "ready")),
        Effect.catch(() => Effect.succeed(text(503, "database unavailable")))
      )
    )
  })
)

const serverLayer = (address: Address) => NodeHttpServer.layer(createServer, { host: address.host, port: address.port })

/**
 * NodeRuntime.runMain interrupts the main fiber on SIGINT/SIGTERM and then exits 130. The daemon answers these
 * signals itself (graceful stop, exit 0, as systemd expects), so it takes them over: runMain's listeners are
 * removed and {@link EmbeddedPostgres.awaitShutdownSignal} (installed first, so no signal falls in a gap) completes
 * `signalled`.
 */
const takeOverSignals = (signalled: Deferred.Deferred<NodeJS.Signals>) =>
  Effect.gen(function*() {
    const theirs = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") }
    yield* Effect.forkScoped(EmbeddedPostgres.awaitShutdownSignal.pipe(Effect.flatMap((signal) => Deferred.succeed(signalled, signal))))
    // Let the forked fiber install its listeners before the old ones go.
    yield* Effect.yieldNow
    for (const [signal, listeners] of Object.entries(theirs)) {
      for (const listener of listeners) process.off(signal, listener as (...args: Array<unknown>) => void)
    }
  })

/** `megaphone daemon [--database-url URL] [--webhook-listen HOST:PORT] [--admin-listen HOST:PORT]` */
export const daemon = Command.make(
  "daemon",
  {
    databaseUrl,
    config: Flag.String("config").pipe(Flag.withDescription("configuration file (not yet supported)"), Flag.optional),
    webhookListen: Flag.String("webhook-listen").pipe(
      Flag.withDescription("HOST:PORT for Meta's webhooks (POST/GET /webhooks/whatsapp)"),
      Flag.withDefault("0.0.0.0:8788")
    ),
    adminListen: Flag.String("admin-listen").pipe(Flag.withDescription("HOST:PORT for /healthz and /readyz"), Flag.withDefault("127.0.0.1:8787"))
  },
  ({ databaseUrl, config, webhookListen, adminListen }) =>
    Effect.gen(function*() {
      if (Option.isSome(config)) {
        return yield* new CommandFailed({
          message: "--config is not yet supported by this version. Give the settings as flags and the secrets as " +
            "environment variables (MEGAPHONE_APP_SECRET, MEGAPHONE_VERIFY_TOKEN, MEGAPHONE_DATABASE_URL)."
        })
      }
      const webhookAddress = yield* parseListen("webhook-listen", webhookListen)
      const adminAddress = yield* parseListen("admin-listen", adminListen)
      const appSecret = yield* secretFromEnv("MEGAPHONE_APP_SECRET", "the app secret of your Meta app (App settings → Basic), which signs every webhook,")
      const verifyToken = Option.match(Option.fromNullishOr(process.env["MEGAPHONE_VERIFY_TOKEN"]?.trim() || undefined), {
        onSome: (token) => Redacted.make(token),
        // Without a token no verification handshake may succeed: an unguessable one refuses them all.
        onNone: () => Redacted.make(randomBytes(32).toString("hex"))
      })
      const database = yield* resolveDatabase(databaseUrl)

      const signalled = yield* Deferred.make<NodeJS.Signals>()
      yield* takeOverSignals(signalled)

      const webhookServer = HttpRouter.serve(Receiver.routes, { disableListenLog: true, disableLogger: true }).pipe(
        Layer.provide(Receiver.layer({ appSecret, verifyToken })),
        Layer.provide(serverLayer(webhookAddress))
      )
      const adminServer = HttpRouter.serve(adminRoutes, { disableListenLog: true, disableLogger: true }).pipe(
        Layer.provide(serverLayer(adminAddress))
      )
      const services = Layer.mergeAll(webhookServer, adminServer).pipe(
        Layer.provideMerge(Database.layer(database, { maxConnections: 10 })),
        Layer.provideMerge(CloudApiTransport.layer())
      )

      const body = Effect.gen(function*() {
        const storage = yield* Ports.Storage.Storage
        const scope = yield* Scope.Scope
        if (process.env["MEGAPHONE_VERIFY_TOKEN"] === undefined) {
          yield* Effect.logWarning("MEGAPHONE_VERIFY_TOKEN is not set: Meta's webhook verification handshake will be refused")
        }
        yield* Effect.logInfo("daemon started").pipe(Effect.annotateLogs({
          database: describeDatabase(database),
          webhook: `http://${webhookListen}${Receiver.PATH}`,
          admin: `http://${adminListen}`,
          pid: process.pid
        }))

        const owner = `daemon-${process.pid}-${randomBytes(4).toString("hex")}`
        const stopping = yield* Deferred.make<void>()
        const loops = new Map<string, Fiber.Fiber<void>>()
        const warned = new Set<string>()
        let tally = emptyTally()
        // Reads `tally` at call time, so the progress line's reset is seen by every loop.
        const count = (r: Dispatcher.RoundReport) => {
          tally.rounds++
          tally.reclaimed += r.reclaimed
          tally.claimed += r.claimed
          tally.accepted += r.accepted
          tally.failed += Object.values(r.failed).reduce((a, b) => a + b, 0)
          tally.released += r.released
          tally.refused += r.refused
        }

        const scan = Effect.gen(function*() {
          const accounts = yield* storage.listAccounts()
          for (const account of accounts) {
            if (loops.has(account.name) || (yield* Deferred.isDone(stopping))) continue
            const token = yield* Effect.result(accessToken(account))
            if (token._tag === "Failure") {
              // Once per account: the scan repeats every few seconds and the log would fill with the same line.
              if (!warned.has(account.name)) {
                warned.add(account.name)
                yield* Effect.logWarning(`account skipped: its token variable ${account.tokenEnv} is not set`).pipe(
                  Effect.annotateLogs({ account: account.name })
                )
              }
              continue
            }
            warned.delete(account.name)
            const fiber = yield* Effect.forkIn(
              dispatchLoop(account, token.success, { owner }, stopping, count).pipe(
                Effect.annotateLogs({ account: account.name })
              ),
              scope
            )
            loops.set(account.name, fiber)
            yield* Effect.logInfo("dispatching").pipe(Effect.annotateLogs({ account: account.name }))
          }
        }).pipe(Effect.catchTag("StorageError", (error) =>
          Effect.logError("cannot list accounts; trying again").pipe(Effect.annotateLogs({ operation: error.operation, error: error.message }))))

        const progress = Effect.suspend(() => {
          const last = tally
          tally = emptyTally()
          return Effect.logInfo("progress").pipe(Effect.annotateLogs({ accounts_dispatching: loops.size, ...last }))
        })

        const scanner = yield* Effect.forkIn(Effect.repeat(scan, Schedule.spaced(SCAN_EVERY)), scope)
        const reporter = yield* Effect.forkIn(Effect.repeat(progress, Schedule.spaced(PROGRESS_EVERY)).pipe(Effect.delay(PROGRESS_EVERY)), scope)

        const signal = yield* Deferred.await(signalled)
        yield* Effect.logInfo("shutting down: no new claims; waiting for the rounds in flight").pipe(Effect.annotateLogs({ signal }))
        yield* Fiber.interrupt(scanner)
        yield* Deferred.succeed(stopping, undefined)
        const finished = yield* Fiber.awaitAll([...loops.values()]).pipe(Effect.timeoutOption(SHUTDOWN_DEADLINE))
        if (Option.isNone(finished)) {
          yield* Effect.logWarning("rounds still in flight after the deadline were interrupted; their leases expire and the contacts are retried")
          yield* Fiber.interruptAll(loops.values())
        }
        yield* Fiber.interrupt(reporter)
        yield* progress
        yield* Effect.logInfo("stopped")
      })

      yield* body.pipe(Effect.provide(services), Effect.mapError(toFailure))
    }).pipe(Effect.scoped, Effect.provide(Logger.layer([jsonLogger])))
).pipe(Command.withDescription("Run the dispatcher, the webhook receiver and the health endpoints until SIGINT/SIGTERM."))
