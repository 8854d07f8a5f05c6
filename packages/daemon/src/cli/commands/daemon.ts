/**
 * `megaphone daemon` (SPEC §7): what ops run under systemd. It loads its configuration (defaults < `--config`
 * file < environment < flags; see docs/operations.md), opens (and migrates) the database, serves Meta's webhooks
 * and the admin endpoints, keeps one dispatch loop per account whose access token it can read, logs one JSON
 * object per line on stderr, and on SIGINT/SIGTERM stops claiming, lets the rounds in flight finish, closes its
 * servers and the database, and exits 0.
 *
 * In-flight claims at shutdown: rounds running when the signal arrives may finish (their sends and outcomes are
 * recorded) for up to `shutdown.deadlineMs`; after that the loops are interrupted. A contact whose send was cut
 * off stays `in_progress` with its lease; once the lease expires, a daemon's reclaimer hands it to the retry
 * policy (`RetryPolicy.decideUnknownOutcome`), which resends it only after the grace for a late `sent` webhook,
 * so nothing is lost and a duplicate is only possible within the window docs/architecture.md describes.
 */
import { createServer, type Server } from "node:http"
import { randomBytes } from "node:crypto"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { NodeHttpServer } from "@effect/platform-node"
import { Database, EmbeddedPostgres, ProviderTransport } from "@megaphone/adapters"
import { Ports } from "@megaphone/core"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Layer, Logger, Option, Redacted, References, Schedule, Scope } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpRouter } from "effect/http"
import * as AdminApi from "../../admin-api/AdminApi.ts"
import * as Scheduler from "../../campaigns/Scheduler.ts"
import * as DaemonConfig from "../../config/DaemonConfig.ts"
import * as Secrets from "../../config/Secrets.ts"
import * as Dispatcher from "../../dispatch/Dispatcher.ts"
import * as Metrics from "../../metrics/Metrics.ts"
import * as Receiver from "../../webhook/Receiver.ts"
import { CommandFailed } from "../Failure.ts"
import { toFailure } from "../Session.ts"
import { directOnly } from "../Remote.ts"
import { databaseUrl, describeDatabase } from "../Storage.ts"

/** How often the account list is read again, so new accounts (or newly set tokens) start dispatching. */
const SCAN_EVERY = Duration.seconds(5)
/** How often the progress line is written. */
const PROGRESS_EVERY = Duration.seconds(5)

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
  late: number
  refused: number
}

const emptyTally = (): Tally => ({ rounds: 0, reclaimed: 0, claimed: 0, accepted: 0, failed: 0, released: 0, late: 0, refused: 0 })

/**
 * A server on `address`; failing to listen (the port taken, an address not on this machine) is a message that
 * names the setting and what to do, not the bare socket error.
 */
/** The daemon's HTTP servers, so a shutdown can close their keep-alive connections (see {@link closeConnections}). */
const servers = new Set<Server>()

/**
 * Closing a server waits for its connections to end, and Meta (or the simulator) keeps a busy keep-alive
 * connection posting statuses: idle connections are closed at once, the rest after a second's grace. A status
 * cut off unacknowledged is posted again by Meta.
 */
const closeConnections = Effect.sync(() => {
  for (const server of servers) {
    server.closeIdleConnections()
    setTimeout(() => server.closeAllConnections(), 1_000).unref()
  }
})

const serverLayer = (address: DaemonConfig.ListenAddress, setting: "webhook.listen" | "admin.listen", flag: string) =>
  NodeHttpServer.layer(() => {
    const server = createServer()
    servers.add(server)
    return server
  }, { host: address.host, port: address.port }).pipe(
    Layer.catchTag("ServeError", (error) => {
      const cause = error.cause as { readonly code?: string; readonly message?: string } | undefined
      const where = DaemonConfig.formatListen(address)
      const why = cause?.code === "EADDRINUSE"
        ? `${where} is already in use (another Megaphone daemon, or another program)`
        : cause?.code === "EADDRNOTAVAIL"
        ? `${address.host} is not an address of this machine`
        : cause?.code === "EACCES"
        ? `listening on port ${address.port} needs privileges this user does not have`
        : `${cause?.message ?? String(error.cause)}`
      return Layer.effectDiscard(Effect.fail(new CommandFailed({
        message: `Cannot listen on ${where} (${setting}): ${why}. Choose another address with ${flag} ` +
          `(or ${setting} in the configuration file), or stop what uses it.`
      })))
    })
  )

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

/** One account's dispatch loop, and the account settings it runs with. */
interface Loop {
  readonly fiber: Fiber.Fiber<void>
  readonly stopping: Deferred.Deferred<void>
  readonly updatedAt: number
}

/** `megaphone daemon [--config FILE] [--database-url URL] [--webhook-listen HOST:PORT] [--admin-listen HOST:PORT]` */
export const daemon = Command.make(
  "daemon",
  {
    databaseUrl,
    config: Flag.String("config").pipe(Flag.withDescription("JSON configuration file (docs/operations.md lists every key)"), Flag.optional),
    webhookListen: Flag.String("webhook-listen").pipe(
      Flag.withDescription("HOST:PORT for Meta's webhooks, POST/GET /webhooks/whatsapp (default 0.0.0.0:8788)"),
      Flag.optional
    ),
    adminListen: Flag.String("admin-listen").pipe(
      Flag.withDescription("HOST:PORT for the admin API, /healthz, /readyz and /metrics (default 127.0.0.1:8787)"),
      Flag.optional
    )
  },
  ({ databaseUrl, config: configFile, webhookListen, adminListen }) =>
    Effect.gen(function*() {
      yield* directOnly("daemon", databaseUrl)
      const config = yield* DaemonConfig.load({
        file: Option.getOrUndefined(configFile),
        flags: {
          databaseUrl: Option.getOrUndefined(databaseUrl),
          webhookListen: Option.getOrUndefined(webhookListen),
          adminListen: Option.getOrUndefined(adminListen)
        },
        env: process.env
      }).pipe(Effect.mapError((error) => new CommandFailed({ message: error.message })))
      const database = DaemonConfig.database(config)
      const verifyToken = Option.getOrElse(config.secrets.verifyToken, () =>
        // Without a token no verification handshake may succeed: an unguessable one refuses them all.
        Redacted.make(randomBytes(32).toString("hex")))

      const signalled = yield* Deferred.make<NodeJS.Signals>()
      yield* takeOverSignals(signalled)

      const webhookServer = HttpRouter.serve(Receiver.routes, { disableListenLog: true, disableLogger: true }).pipe(
        Layer.provide(Receiver.layer({
          appSecret: config.secrets.appSecret,
          verifyToken,
          // 360dialog forwards without Meta's signature: it sends this secret in this header instead.
          ...Option.match(config.secrets.webhookSecret, {
            onNone: () => ({}),
            onSome: (secret) => ({ sharedSecret: { header: config.webhook.secretHeader, secret } })
          })
        })),
        Layer.provide(serverLayer(config.webhook.listen, "webhook.listen", "--webhook-listen"))
      )
      const adminServer = HttpRouter.serve(AdminApi.layer({ token: config.secrets.adminToken }), { disableListenLog: true, disableLogger: true }).pipe(
        Layer.provide(serverLayer(config.admin.listen, "admin.listen", "--admin-listen"))
      )
      const services = Layer.mergeAll(webhookServer, adminServer).pipe(
        // Provided once, outside the servers: the dispatch loops, the receiver and /metrics share the counters.
        Layer.provideMerge(Metrics.layer),
        Layer.provideMerge(Database.layer(database, { maxConnections: config.database.maxConnections })),
        Layer.provideMerge(ProviderTransport.layer())
      )

      const body = Effect.gen(function*() {
        const storage = yield* Ports.Storage.Storage
        const scope = yield* Scope.Scope
        const metrics = yield* Metrics.Metrics
        if (Option.isNone(config.secrets.adminToken)) {
          yield* Effect.logWarning(`${AdminApi.TOKEN_ENV} is not set: the admin API answers 503 except /healthz and /readyz`)
        }
        if (Option.isNone(config.secrets.verifyToken)) {
          yield* Effect.logWarning("MEGAPHONE_VERIFY_TOKEN is not set: Meta's webhook verification handshake will be refused")
        }
        yield* Effect.logInfo("daemon started").pipe(Effect.annotateLogs({
          database: describeDatabase(database),
          webhook: `http://${DaemonConfig.formatListen(config.webhook.listen)}${Receiver.PATH}`,
          admin: `http://${DaemonConfig.formatListen(config.admin.listen)}`,
          pid: process.pid,
          config: DaemonConfig.summary(config)
        }))

        const owner = config.daemonId ?? `daemon-${process.pid}-${randomBytes(4).toString("hex")}`
        const options = DaemonConfig.dispatchOptions(config, owner)
        const stopping = yield* Deferred.make<void>()
        const loops = new Map<string, Loop>()
        const warned = new Set<string>()
        let tally = emptyTally()
        // Reads `tally` at call time, so the progress line's reset is seen by every loop.
        const count = (account: string) => (r: Dispatcher.RoundReport) => {
          Effect.runSync(Effect.all([
            metrics.recordRound(account, { claimed: r.claimed, reclaimed: r.reclaimed }),
            metrics.recordSend(account, "accepted", undefined, r.accepted),
            metrics.recordSend(account, "released", undefined, r.released),
            metrics.recordRetryScheduled(account, r.retriesScheduled),
            ...Object.entries(r.failedCodes).map(([code, n]) => metrics.recordSend(account, "failed", code, n))
          ], { discard: true }))
          tally.rounds++
          tally.reclaimed += r.reclaimed
          tally.claimed += r.claimed
          tally.accepted += r.accepted
          tally.failed += Object.values(r.failed).reduce((a, b) => a + b, 0)
          tally.released += r.released
          tally.late += r.late
          tally.refused += r.refused
        }

        const startLoop = (account: Ports.Storage.Account, token: Redacted.Redacted<string>) =>
          Effect.gen(function*() {
            const own = yield* Deferred.make<void>()
            // A loop stops on the daemon's shutdown or when its account's settings changed (then it restarts).
            yield* Effect.forkIn(Effect.raceFirst(Deferred.await(stopping), Deferred.await(own)).pipe(
              Effect.andThen(Deferred.succeed(own, undefined))
            ), scope)
            const fiber = yield* Effect.forkIn(
              Dispatcher.run(account, token, options, { stopping: own, onRound: count(account.name) }).pipe(
                Effect.annotateLogs({ account: account.name })
              ),
              scope
            )
            loops.set(account.name, { fiber, stopping: own, updatedAt: account.updatedAt.getTime() })
            yield* Effect.logInfo("dispatching").pipe(Effect.annotateLogs({
              account: account.name,
              throughput_mps: Ports.Storage.sendRate(account),
              messaging_limit: String(account.messagingLimit)
            }))
          })

        const scan = Effect.gen(function*() {
          if (yield* Deferred.isDone(stopping)) return
          const accounts = yield* storage.listAccounts()
          for (const account of accounts) {
            const running = loops.get(account.name)
            if (running !== undefined) {
              const ended = running.fiber.pollUnsafe()
              if (ended !== undefined) {
                loops.delete(account.name)
                // `run` never fails and returns only when stopped: anything else is a defect its rounds died with.
                if (Exit.isFailure(ended)) {
                  yield* Effect.logError("dispatch loop ended unexpectedly; restarting it").pipe(
                    Effect.annotateLogs({ account: account.name, cause: Cause.pretty(ended.cause) })
                  )
                }
              } else {
                // Changed settings (a refresh found a new throughput or tier, a new Graph URL): restart the loop.
                if (account.updatedAt.getTime() !== running.updatedAt) {
                  yield* Effect.logInfo("account settings changed; restarting its dispatch").pipe(Effect.annotateLogs({ account: account.name }))
                  yield* Deferred.succeed(running.stopping, undefined)
                }
                continue
              }
            }
            const token = yield* Effect.result(Secrets.read(account.tokenEnv, process.env))
            const value = token._tag === "Success" ? Option.getOrUndefined(token.success) : undefined
            if (value === undefined) {
              // Once per account: the scan repeats every few seconds and the log would fill with the same line.
              if (!warned.has(account.name)) {
                warned.add(account.name)
                const why = token._tag === "Failure" ? token.failure.message : `its token variable ${account.tokenEnv} is not set`
                yield* Effect.logWarning(`account skipped: ${why}`).pipe(Effect.annotateLogs({ account: account.name }))
              }
              continue
            }
            warned.delete(account.name)
            yield* startLoop(account, value)
          }
        }).pipe(Effect.catchTag("StorageError", (error) =>
          Effect.logError("cannot list accounts; trying again").pipe(Effect.annotateLogs({ operation: error.operation, error: error.message }))))

        // How long timers fire late: a starved event loop (CPU shared with the database, long GC pauses) is why
        // sends miss their slots, and the progress line says so.
        const loopDelay = monitorEventLoopDelay({ resolution: 10 })
        loopDelay.enable()
        yield* Effect.addFinalizer(() => Effect.sync(() => loopDelay.disable()))
        const progress = Effect.suspend(() => {
          const last = tally
          tally = emptyTally()
          const memory = process.memoryUsage()
          const delay = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 }
          loopDelay.reset()
          return Effect.logInfo("progress").pipe(Effect.annotateLogs({
            accounts_dispatching: loops.size,
            ...last,
            rss_mb: Math.round(memory.rss / 2 ** 20),
            heap_used_mb: Math.round(memory.heapUsed / 2 ** 20),
            event_loop_delay_p99_ms: Math.round(delay.p99),
            event_loop_delay_max_ms: Math.round(delay.max)
          }))
        })

        const scanner = yield* Effect.forkIn(Effect.repeat(scan, Schedule.spaced(SCAN_EVERY)), scope)
        const scheduler = yield* Effect.forkIn(Scheduler.run(storage), scope) // scheduled starts (campaigns/Scheduler.ts)
        const reporter = yield* Effect.forkIn(Effect.repeat(progress, Schedule.spaced(PROGRESS_EVERY)).pipe(Effect.delay(PROGRESS_EVERY)), scope)

        const signal = yield* Deferred.await(signalled)
        yield* Effect.logInfo("shutting down: no new claims; waiting for the rounds in flight").pipe(Effect.annotateLogs({ signal }))
        yield* Fiber.interrupt(scanner)
        yield* Fiber.interrupt(scheduler)
        yield* Deferred.succeed(stopping, undefined)
        const fibers = [...loops.values()].map((l) => l.fiber)
        // A second signal (an impatient operator, systemd's stop timeout) cuts the wait short, not the clean-up.
        const waited = yield* Fiber.awaitAll(fibers).pipe(
          Effect.as("finished" as const),
          Effect.timeoutOption(Duration.millis(config.shutdown.deadlineMs)),
          Effect.map(Option.getOrElse(() => "deadline" as const)),
          Effect.raceFirst(Effect.as(EmbeddedPostgres.awaitShutdownSignal, "second signal" as const))
        )
        if (waited !== "finished") {
          yield* Effect.logWarning(`rounds still in flight were interrupted (${waited}); their leases expire and the contacts are retried`)
          yield* Fiber.interruptAll(fibers)
        }
        yield* Fiber.interrupt(reporter)
        yield* progress
        yield* Effect.logInfo("stopped")
        yield* closeConnections
      })

      yield* body.pipe(
        Effect.provide(services),
        Effect.provideService(References.MinimumLogLevel, DaemonConfig.minimumLogLevel(config)),
        Effect.mapError(toFailure)
      )
    }).pipe(
      Effect.scoped,
      Effect.provide(Logger.layer([jsonLogger]))
    )
).pipe(Command.withDescription("Run the dispatcher, the webhook receiver and the admin endpoints until SIGINT/SIGTERM."))
