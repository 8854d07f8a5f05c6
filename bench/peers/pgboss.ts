/**
 * The campaign on pg-boss: one job per contact in the queue `send`, a worker that fetches batches and settles
 * each job by its own result (`perJobResults`), retrying a failed send after a second.
 *
 *   node bench/peers/pgboss.ts seed CONTACTS NUMBERS   (then)   node bench/peers/pgboss.ts work
 */
import { PgBoss } from "pg-boss"
import { CONTACTS_TABLE, makeSender, peerEnv, type SendJob, untilTerminated } from "./common.ts"
import { seedContacts } from "./seed.ts"

const QUEUE = "send"
const env = peerEnv()
const boss = new PgBoss({ connectionString: env.databaseUrl, max: 8 })
boss.on("error", (error) => console.error(`pg-boss: ${error.message}`))
await boss.start()

if (process.argv[2] === "seed") {
  await boss.createQueue(QUEUE, { retryLimit: 20, retryDelay: 1, retryBackoff: false })
  const { sender, ids } = await seedContacts(env, CONTACTS_TABLE, Number(process.argv[3]), Number(process.argv[4]))
  for (let i = 0; i < ids.length; i += 5_000) {
    await boss.insert(QUEUE, ids.slice(i, i + 5_000).map((contactId) => ({ data: { contactId } satisfies SendJob })))
  }
  await sender.pool.end()
  await boss.stop({ graceful: false })
} else {
  const { pool, sendBatch } = makeSender(env)
  // 8 fetch loops of up to 100 jobs: up to 800 sends in flight, more than 4 numbers × 1,000 msg/s × 100 ms needs.
  await boss.work<SendJob>(QUEUE, { batchSize: 100, localConcurrency: 8, pollingIntervalSeconds: 0.5, perJobResults: true }, async (jobs) => {
    const sent = await sendBatch(jobs.map((job) => job.data.contactId))
    return jobs.map((job) => ({ id: job.id, status: sent.get(job.data.contactId) === true ? "completed" as const : "failed" as const }))
  })
  untilTerminated(async () => {
    await boss.stop({ graceful: true, timeout: 5_000 })
    await pool.end()
  })
}
