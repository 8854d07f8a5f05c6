/**
 * Who carries an account's requests (`megaphone accounts add … --provider meta|360dialog`): Meta's Cloud API
 * directly or 360dialog (docs/providers.md). Null keeps older rows as they were: Meta direct.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** Adds `accounts.provider` (null: Meta direct). */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`alter table accounts add column provider text check (provider in ('meta', '360dialog'))`)
})
