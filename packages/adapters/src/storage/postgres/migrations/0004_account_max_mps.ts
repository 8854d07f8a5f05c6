/**
 * The operator's cap on a number's messages per second (`megaphone accounts add … --max-mps N`): below what Meta
 * allows, for a number shared with other software, a coexistence number (20 msg/s) or a gentle start.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** Adds `accounts.max_mps` (null: Meta's rate). */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`alter table accounts add column max_mps double precision check (max_mps > 0 and max_mps <= 1000)`)
})
