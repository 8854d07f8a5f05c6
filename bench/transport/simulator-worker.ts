/**
 * Runs the simulator in a worker thread for the transport benchmark, so Meta's side has its own event loop
 * (and core) the way the real Graph API is another machine. Protocol over the parent port:
 *   in:  workerData = the simulator configuration; later the message "stats" (answers with stats) or "stop"
 *   out: { url } once listening, { stats } on request, { error } if it could not start
 */
import { parentPort, workerData } from "node:worker_threads"
import { Deferred, Effect } from "effect"
import type { SimulatorConfigInput } from "../../packages/adapters/src/transport/simulator/Config.ts"
import * as Simulator from "../../packages/adapters/src/transport/simulator/Simulator.ts"

const port = parentPort
if (port === null) throw new Error("simulator-worker.ts runs as a worker thread of bench/transport/main.ts")

const program = Effect.gen(function*() {
  const simulator = yield* Simulator.start(workerData as SimulatorConfigInput)
  const stop = yield* Deferred.make<void>()
  port.on("message", (message: unknown) => {
    if (message === "stop") Deferred.doneUnsafe(stop, Effect.void)
    // Without the messages list: a 10 s run accepts a few hundred thousand, and the benchmark needs the counts.
    else if (message === "stats") port.postMessage({ stats: { ...Effect.runSync(simulator.stats), messages: [], acceptedPerRecipient: {} } })
  })
  port.postMessage({ url: simulator.url })
  yield* Deferred.await(stop)
}).pipe(Effect.scoped)

Effect.runPromise(program).then(
  () => port.close(),
  (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) })
)
