/**
 * The campaign on graphile-worker: one job per contact (task `send`), 400 concurrent jobs served from a local
 * queue of 1,000 locked jobs, completions batched; a failed send throws and graphile-worker retries it.
 *
 *   node bench/peers/graphile.ts seed CONTACTS NUMBERS   (then)   node bench/peers/graphile.ts work
 */
import { makeWorkerUtils, run } from "graphile-worker"
import { CONTACTS_TABLE, makeSender, peerEnv, type SendJob, untilTerminated } from "./common.ts"
import { seedContacts } from "./seed.ts"

const env = peerEnv()

if (process.argv[2] === "seed") {
  const utils = await makeWorkerUtils({ connectionString: env.databaseUrl })
  await utils.migrate()
  const { sender, ids } = await seedContacts(env, CONTACTS_TABLE, Number(process.argv[3]), Number(process.argv[4]))
  for (let i = 0; i < ids.length; i += 5_000) {
    await utils.addJobs(ids.slice(i, i + 5_000).map((contactId) => ({ identifier: "send", payload: { contactId } satisfies SendJob, maxAttempts: 20 })))
  }
  await sender.pool.end()
  await utils.release()
} else {
  const { pool, sendBatch } = makeSender(env)
  const runner = await run({
    preset: {
      worker: {
        connectionString: env.databaseUrl,
        concurrentJobs: 400,
        maxPoolSize: 12,
        pollInterval: 500,
        localQueue: { size: 1_000 },
        completeJobBatchDelay: 5,
        failJobBatchDelay: 5
      }
    },
    noHandleSignals: true,
    taskList: {
      send: async (payload) => {
        const { contactId } = payload as SendJob
        const sent = await sendBatch([contactId])
        if (sent.get(contactId) !== true) throw new Error(`contact ${contactId} not sent`)
      }
    }
  })
  untilTerminated(async () => {
    await runner.stop()
    await pool.end()
  })
}
