/**
 * The SQLite file behind the example adapter: how it is opened (WAL, busy timeout, durable commits) and the tables
 * and indexes it holds, created on open. Dates are integer milliseconds since the epoch; records the core owns
 * (templates, filters, column maps, parameters, pause reasons, last errors) are JSON text, decoded on the way out.
 */
import { DatabaseSync } from "node:sqlite"

// Every table is STRICT: SQLite refuses a value of the wrong type instead of storing it as whatever it was given.
// `CREATE … IF NOT EXISTS` makes opening an existing file a no-op; a real adapter would number its migrations
// (`PRAGMA user_version`) the way the PostgreSQL adapter does.
const statements: ReadonlyArray<string> = [
  `CREATE TABLE IF NOT EXISTS accounts (
     name TEXT PRIMARY KEY,
     phone_number_id TEXT NOT NULL,
     waba_id TEXT NOT NULL,
     portfolio_id TEXT,
     token_env TEXT NOT NULL,
     graph_url TEXT NOT NULL,
     graph_version TEXT NOT NULL,
     display_phone_number TEXT,
     -- NULL means unlimited
     messaging_limit INTEGER,
     messaging_tier TEXT,
     quality_rating TEXT,
     throughput_mps REAL NOT NULL,
     max_mps REAL,
     -- NULL means Meta direct
     provider TEXT CHECK (provider IN ('meta', '360dialog')),
     throughput_level TEXT,
     name_status TEXT,
     status TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT`,

  `CREATE TABLE IF NOT EXISTS templates (
     waba_id TEXT NOT NULL,
     name TEXT NOT NULL,
     language TEXT NOT NULL,
     -- the template as Graph lists it (Template.decode reads it back)
     body TEXT NOT NULL,
     synced_at INTEGER NOT NULL,
     deleted_at INTEGER,
     PRIMARY KEY (waba_id, name, language)
   ) STRICT`,

  // AUTOINCREMENT: an id is never handed out twice, even after the newest row was deleted (the port's ids only grow).
  `CREATE TABLE IF NOT EXISTS directory_contacts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     phone TEXT NOT NULL UNIQUE,
     columns TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT`,

  `CREATE TABLE IF NOT EXISTS filters (
     name TEXT PRIMARY KEY,
     filter TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT`,

  `CREATE TABLE IF NOT EXISTS campaigns (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL,
     account_name TEXT NOT NULL,
     template_name TEXT NOT NULL,
     language TEXT NOT NULL,
     note TEXT,
     state TEXT NOT NULL CHECK (state IN ('draft', 'running', 'paused', 'finished', 'stopped')),
     pause_reason TEXT,
     created_at INTEGER NOT NULL,
     started_at INTEGER,
     paused_at INTEGER,
     ended_at INTEGER,
     scheduled_at INTEGER,
     max_mps REAL,
     next_send_at INTEGER,
     -- the send window in its canonical text (SendWindow.format); NULL: any time
     send_window TEXT
   ) STRICT`,

  // Claims look up the running campaigns of one account.
  `CREATE INDEX IF NOT EXISTS campaigns_account_state ON campaigns (account_name, state)`,

  `CREATE TABLE IF NOT EXISTS campaign_contacts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
     -- 'recipient:<wa_id>', or 'phone:<phone>' for a contact without a recipient: one row per identity
     identity TEXT NOT NULL,
     phone TEXT NOT NULL,
     -- empty for an invalid record
     recipient TEXT NOT NULL,
     parameters TEXT NOT NULL,
     directory_contact_id INTEGER,
     -- the recipient's own IANA zone; NULL: its number's country's
     time_zone TEXT,
     added_at INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('initial', 'in_progress', 'sent', 'delivered', 'read',
       'retry_scheduled', 'error', 'invalid_record', 'sending_failed', 'cancelled')),
     attempts INTEGER NOT NULL,
     throttled_attempts INTEGER NOT NULL,
     next_attempt_at INTEGER,
     lease_expires_at INTEGER,
     lease_owner TEXT,
     last_error TEXT,
     wamid TEXT,
     wa_id TEXT,
     -- when each state was entered: {"initial": 1764151200000, …}
     state_times TEXT NOT NULL,
     -- what the latest claim reserved in the 24 h window, so a send that never reached Meta can give it back
     reserved_quota_key TEXT,
     reserved_slot INTEGER,
     previous_sent_at INTEGER,
     -- the port's due time: the next attempt, or else when the contact was added
     due_at INTEGER GENERATED ALWAYS AS (coalesce(next_attempt_at, added_at)) VIRTUAL,
     UNIQUE (campaign_id, identity)
   ) STRICT`,

  // Claims read each campaign's waiting contacts in (due_at, id) order; only waiting contacts are indexed.
  `CREATE INDEX IF NOT EXISTS campaign_contacts_due
     ON campaign_contacts (campaign_id, due_at, id)
     WHERE state IN ('initial', 'retry_scheduled')`,

  // Status webhooks find their contact by wamid; a contact has none until Meta accepts its message.
  `CREATE INDEX IF NOT EXISTS campaign_contacts_wamid ON campaign_contacts (wamid) WHERE wamid IS NOT NULL`,

  // Counts per state and listing by state, both per campaign.
  `CREATE INDEX IF NOT EXISTS campaign_contacts_state ON campaign_contacts (campaign_id, state, id)`,

  // An opt-out settles the recipient's waiting contacts in every campaign.
  `CREATE INDEX IF NOT EXISTS campaign_contacts_waiting_recipient
     ON campaign_contacts (recipient)
     WHERE state IN ('initial', 'retry_scheduled')`,

  // The lease rescuer looks only at contacts being sent.
  `CREATE INDEX IF NOT EXISTS campaign_contacts_lease ON campaign_contacts (lease_expires_at) WHERE state = 'in_progress'`,

  // Deleting a directory contact unlinks the campaign contacts added from it.
  `CREATE INDEX IF NOT EXISTS campaign_contacts_directory
     ON campaign_contacts (directory_contact_id)
     WHERE directory_contact_id IS NOT NULL`,

  // The rolling-24 h window of a quota key: how many recipients were first sent to in each minute …
  `CREATE TABLE IF NOT EXISTS quota_buckets (
     key TEXT NOT NULL,
     minute INTEGER NOT NULL,
     count INTEGER NOT NULL,
     PRIMARY KEY (key, minute)
   ) STRICT, WITHOUT ROWID`,

  // … and each recipient's latest send, so a recipient already in the window costs nothing.
  `CREATE TABLE IF NOT EXISTS quota_ledger (
     key TEXT NOT NULL,
     recipient TEXT NOT NULL,
     last_sent_at INTEGER NOT NULL,
     PRIMARY KEY (key, recipient)
   ) STRICT, WITHOUT ROWID`,

  `CREATE TABLE IF NOT EXISTS pair_last_sent (
     phone_number_id TEXT NOT NULL,
     recipient TEXT NOT NULL,
     last_sent_at INTEGER NOT NULL,
     PRIMARY KEY (phone_number_id, recipient)
   ) STRICT, WITHOUT ROWID`,

  `CREATE TABLE IF NOT EXISTS throughput (
     phone_number_id TEXT PRIMARY KEY,
     next_free_at INTEGER NOT NULL,
     rate_factor REAL NOT NULL,
     decreased_at INTEGER
   ) STRICT`,

  `CREATE TABLE IF NOT EXISTS suppressions (
     recipient TEXT PRIMARY KEY,
     reason TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT`,

  `CREATE TABLE IF NOT EXISTS events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     -- the campaign id as the caller gave it (the log keeps what it was told)
     campaign_id TEXT,
     kind TEXT NOT NULL,
     message TEXT NOT NULL,
     data TEXT NOT NULL,
     at INTEGER NOT NULL
   ) STRICT`,

  `CREATE INDEX IF NOT EXISTS events_campaign ON events (campaign_id, id)`
]

/** How long a statement waits for another process's write lock before it fails with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000

/**
 * Open (or create) the database file and bring its tables up; `:memory:` gives a private, empty database. Throws
 * what SQLite throws (a path that cannot be opened, a file that is not a database): the caller maps it.
 */
export const open = (path: string): DatabaseSync => {
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true })
  try {
    // First, so that every later statement — the schema's included — waits for another process instead of failing.
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
    // WAL: readers never block the writer nor it them; one writer at a time, across processes.
    db.exec("PRAGMA journal_mode = WAL")
    // FULL: a committed claim survives a power cut too — losing one would let another daemon send the contact again.
    db.exec("PRAGMA synchronous = FULL")
    // IMMEDIATE: two processes opening a new file at once create the tables one after the other.
    db.exec("BEGIN IMMEDIATE")
    for (const statement of statements) db.exec(statement)
    db.exec("COMMIT")
    return db
  } catch (error) {
    db.close()
    throw error
  }
}
