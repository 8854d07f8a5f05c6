/**
 * The schema of Megaphone's PostgreSQL storage. Names and keys people sort by use `COLLATE "C"` so PostgreSQL
 * orders them by code unit exactly as the in-memory adapter does.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

// One statement per string: the extended query protocol runs a single statement at a time.
const statements: ReadonlyArray<string> = [
  `create table accounts (
     name text collate "C" primary key,
     phone_number_id text not null,
     waba_id text not null,
     portfolio_id text,
     token_env text not null,
     graph_url text not null,
     graph_version text not null,
     display_phone_number text,
     -- null means unlimited
     messaging_limit bigint,
     messaging_tier text,
     quality_rating text,
     throughput_mps double precision not null,
     throughput_level text,
     name_status text,
     status text,
     created_at timestamptz not null,
     updated_at timestamptz not null
   )`,

  `create table templates (
     waba_id text collate "C" not null,
     name text collate "C" not null,
     language text collate "C" not null,
     body jsonb not null,
     synced_at timestamptz not null,
     deleted_at timestamptz,
     primary key (waba_id, name, language)
   )`,

  `create table directory_contacts (
     id bigint generated always as identity primary key,
     phone text not null unique,
     columns jsonb not null default '{}'::jsonb,
     created_at timestamptz not null default now(),
     updated_at timestamptz not null default now()
   )`,

  `create table filters (
     name text collate "C" primary key,
     filter jsonb not null,
     created_at timestamptz not null
   )`,

  `create table campaigns (
     id bigint generated always as identity primary key,
     name text not null,
     account_name text not null,
     template_name text not null,
     language text not null,
     note text,
     state text not null check (state in ('draft', 'running', 'paused', 'finished', 'stopped')),
     pause_reason jsonb,
     created_at timestamptz not null,
     started_at timestamptz,
     paused_at timestamptz,
     ended_at timestamptz
   )`,

  // Claims look up the running campaigns of one account.
  `create index campaigns_account_state on campaigns (account_name, state)`,

  `create table campaign_contacts (
     id bigint generated always as identity primary key,
     campaign_id bigint not null references campaigns (id) on delete cascade,
     phone text not null,
     -- empty for an invalid record
     recipient text not null default '',
     parameters jsonb not null default '{}'::jsonb,
     directory_contact_id bigint,
     added_at timestamptz not null,
     state text not null check (state in ('initial', 'in_progress', 'sent', 'delivered', 'read',
       'retry_scheduled', 'error', 'invalid_record', 'sending_failed', 'cancelled')),
     attempts integer not null default 0,
     throttled_attempts integer not null default 0,
     next_attempt_at timestamptz,
     lease_expires_at timestamptz,
     lease_owner text,
     last_error_code text,
     last_error_text text,
     last_error_class text,
     wamid text,
     wa_id text,
     initial_at timestamptz,
     in_progress_at timestamptz,
     sent_at timestamptz,
     delivered_at timestamptz,
     read_at timestamptz,
     retry_scheduled_at timestamptz,
     error_at timestamptz,
     invalid_record_at timestamptz,
     sending_failed_at timestamptz,
     cancelled_at timestamptz,
     -- what the latest claim reserved in the 24 h window, so a send that never reached Meta can give it back
     reserved_quota_key text,
     reserved_slot timestamptz,
     previous_sent_at timestamptz,
     due_at timestamptz generated always as (coalesce(next_attempt_at, added_at)) stored
   )`,

  // One row per recipient in a campaign; contacts without a recipient are unique by phone instead.
  `create unique index campaign_contacts_identity
     on campaign_contacts (campaign_id, (coalesce(nullif(recipient, ''), 'phone:' || phone)))`,

  // Claims read due contacts in (due_at, id) order; the index holds only the contacts still waiting.
  `create index campaign_contacts_due
     on campaign_contacts (campaign_id, due_at, id)
     where state in ('initial', 'retry_scheduled')`,

  // Webhooks find their contact by wamid. Partial: a contact has none until Meta accepts its message, and a
  // million NULLs would cost every bulk insert an index entry for nothing.
  `create unique index campaign_contacts_wamid on campaign_contacts (wamid) where wamid is not null`,

  // Counts per state and listing by state, both per campaign.
  `create index campaign_contacts_state on campaign_contacts (campaign_id, state, id)`,

  // An opt-out settles the recipient's waiting contacts in every campaign.
  `create index campaign_contacts_waiting_recipient
     on campaign_contacts (recipient)
     where state in ('initial', 'retry_scheduled')`,

  // The lease rescuer looks only at contacts being sent.
  `create index campaign_contacts_lease on campaign_contacts (lease_expires_at) where state = 'in_progress'`,

  // Mirrors ContactState.rank: a row's progress never moves to a lower rank.
  `create function contact_state_rank(state text) returns integer
     language sql immutable parallel safe
     return case state
       when 'sent' then 1
       when 'delivered' then 2
       when 'read' then 3
       when 'sending_failed' then 4
       else 0
     end`,

  // One row per quota key: claims lock it, so the rolling-24 h window is decided by one daemon at a time.
  `create table quota_keys (
     key text primary key
   )`,

  `create table quota_buckets (
     key text not null,
     minute bigint not null,
     count integer not null,
     primary key (key, minute)
   )`,

  `create table quota_ledger (
     key text not null,
     recipient text not null,
     last_sent_at timestamptz not null,
     primary key (key, recipient)
   )`,

  `create table pair_last_sent (
     phone_number_id text not null,
     recipient text not null,
     last_sent_at timestamptz not null,
     primary key (phone_number_id, recipient)
   )`,

  `create table throughput (
     phone_number_id text primary key,
     next_free_at timestamptz not null default 'epoch',
     rate_factor double precision not null default 1,
     decreased_at timestamptz
   )`,

  `create table suppressions (
     recipient text collate "C" primary key,
     reason text not null,
     created_at timestamptz not null
   )`,

  `create table events (
     id bigint generated always as identity primary key,
     campaign_id bigint,
     kind text not null,
     message text not null,
     data jsonb not null default '{}'::jsonb,
     at timestamptz not null
   )`,

  `create index events_campaign on events (campaign_id, id)`
]

/** Creates every table, index and helper function of the first schema version. */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  for (const statement of statements) yield* sql.unsafe(statement)
})
