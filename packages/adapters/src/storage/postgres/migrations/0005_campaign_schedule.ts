/**
 * A scheduled start (`megaphone campaigns schedule ID --at TIME`): the time a draft starts by itself. The
 * scheduler of every daemon looks for drafts whose time has come, so they get a partial index of their own.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** Adds `campaigns.scheduled_at` (null: no schedule) and an index over the scheduled drafts. */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`alter table campaigns add column scheduled_at timestamptz`)
  yield* sql.unsafe(`create index campaigns_scheduled on campaigns (scheduled_at) where scheduled_at is not null`)
})
