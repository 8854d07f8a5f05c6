/**
 * A campaign's own messages/second ceiling (`megaphone campaigns rate ID --max-mps N`), below the number's: one
 * campaign trickles while another on the same number uses the rest. Its pace is a GCRA of its own, next to the
 * number's `throughput.next_free_at`, advanced by whichever daemon claims (claims of one account serialise on
 * its quota key, so one row per campaign is enough).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** Adds `campaigns.max_mps` (null: no cap) and `campaigns.next_send_at` (the capped campaign's next free slot). */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`alter table campaigns add column max_mps double precision check (max_mps > 0 and max_mps <= 1000)`)
  yield* sql.unsafe(`alter table campaigns add column next_send_at timestamptz`)
})
