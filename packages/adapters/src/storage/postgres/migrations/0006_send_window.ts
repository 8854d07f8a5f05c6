/**
 * Send windows (`megaphone campaigns window ID --days Mon-Fri --hours 09:00-20:00`): the hours a campaign may
 * message a recipient on the recipient's clock, and each contact's own time zone, frozen when it was added. A
 * contact waiting for its window keeps its state and gets a next attempt time, so the claim's index needs nothing new.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/**
 * Adds `campaigns.send_window` (the window in its canonical text, `SendWindow.format`; null: any time) and
 * `campaign_contacts.time_zone` (an IANA zone; null: the zones of the number's country).
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`alter table campaigns add column send_window text`)
  yield* sql.unsafe(`alter table campaign_contacts add column time_zone text`)
})
