/**
 * Deleting directory contacts (`megaphone contacts delete`): the campaign contacts added from a deleted directory
 * contact stay, with their frozen parameters, and only lose the link (`directory_contact_id` becomes null). This
 * index lets the delete find them without reading every campaign contact.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** Indexes `campaign_contacts.directory_contact_id` (partial: contacts from a CSV have none). */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`create index campaign_contacts_directory_contact
    on campaign_contacts (directory_contact_id)
    where directory_contact_id is not null`)
})
