/**
 * What both peers share — the way a team would write a campaign sender on a general PostgreSQL job queue, having
 * read Meta's documentation: a `contacts` table holding each contact's durable status, one job per contact, a
 * worker that sends the template message with `fetch` (undici's keep-alive pool underneath) through a token
 * bucket per phone number at the number's messages/second, and records the result on the contact's row.
 * Meta's 130429 (rate limit) and 5xx answers fail the job, and the queue retries it.
 */
import pg from "pg"

/** The worker's settings, from the environment the benchmark gives its child process. */
export interface PeerEnv {
  readonly databaseUrl: string
  readonly graphUrl: string
  readonly token: string
  /** Each business phone number's messages/second. */
  readonly mps: number
}

export const peerEnv = (): PeerEnv => {
  const need = (name: string): string => {
    const value = process.env[name]
    if (value === undefined || value === "") throw new Error(`${name} is not set`)
    return value
  }
  return { databaseUrl: need("PEER_DATABASE_URL"), graphUrl: need("PEER_GRAPH_URL"), token: need("PEER_TOKEN"), mps: Number(need("PEER_MPS")) }
}

/** One job: the contact to send to. */
export interface SendJob {
  readonly contactId: number
}

/** A contact row as the worker reads it. */
interface ContactRow {
  readonly id: string
  readonly phone_number_id: string
  readonly recipient: string
  readonly salutation: string
  readonly name: string
  readonly order_number: string
}

export const CONTACTS_TABLE = `
  create table if not exists contacts (
    id bigserial primary key,
    phone_number_id text not null,
    recipient text not null,
    salutation text not null,
    name text not null,
    order_number text not null,
    status text not null default 'pending',
    wamid text,
    attempts integer not null default 0,
    last_error text,
    updated_at timestamptz not null default now()
  )`

/** The seed's order confirmation, as the Cloud API takes it. */
const payload = (row: ContactRow) => ({
  messaging_product: "whatsapp",
  recipient_type: "individual",
  to: row.recipient,
  type: "template",
  template: {
    name: "order_done",
    language: { code: "cs" },
    components: [{ type: "body", parameters: [row.salutation, row.name, row.order_number].map((text) => ({ type: "text", text })) }]
  }
})

/** A token bucket per phone number: a send waits for its turn (the bucket holds one second of sends at most). */
const makeBuckets = (mps: number) => {
  const next = new Map<string, number>()
  return async (phoneNumberId: string): Promise<void> => {
    const now = performance.now()
    const at = Math.max(now, next.get(phoneNumberId) ?? now)
    next.set(phoneNumberId, at + 1000 / mps)
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now))
  }
}

/** The sender both peers call: read the contacts, send each through its number's bucket, store the outcomes. */
export const makeSender = (env: PeerEnv) => {
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: 8 })
  const turn = makeBuckets(env.mps)

  const sendOne = async (row: ContactRow): Promise<{ readonly wamid: string } | { readonly error: string }> => {
    await turn(row.phone_number_id)
    try {
      const response = await fetch(`${env.graphUrl}/v23.0/${row.phone_number_id}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${env.token}`, "content-type": "application/json" },
        body: JSON.stringify(payload(row))
      })
      const body = await response.json() as { messages?: ReadonlyArray<{ id: string }>; error?: { code?: number; message?: string } }
      const wamid = body.messages?.[0]?.id
      return response.ok && wamid !== undefined ? { wamid } : { error: `${response.status} ${body.error?.code ?? ""} ${body.error?.message ?? ""}` }
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) }
    }
  }

  /** Sends the contacts of a batch of jobs; returns, per contact id, whether Meta took the message. */
  const sendBatch = async (contactIds: ReadonlyArray<number>): Promise<ReadonlyMap<number, boolean>> => {
    const { rows } = await pool.query<ContactRow>("select id, phone_number_id, recipient, salutation, name, order_number from contacts where id = any($1::bigint[])", [contactIds])
    const results = await Promise.all(rows.map(async (row) => [Number(row.id), await sendOne(row)] as const))
    const sent = results.filter(([, r]) => "wamid" in r)
    const failed = results.filter(([, r]) => "error" in r)
    if (sent.length > 0) {
      await pool.query(
        `update contacts set status = 'sent', wamid = u.wamid, attempts = attempts + 1, updated_at = now()
         from unnest($1::bigint[], $2::text[]) as u(id, wamid) where contacts.id = u.id`,
        [sent.map(([id]) => id), sent.map(([, r]) => ("wamid" in r ? r.wamid : ""))]
      )
    }
    if (failed.length > 0) {
      await pool.query(
        `update contacts set attempts = attempts + 1, last_error = u.error, updated_at = now()
         from unnest($1::bigint[], $2::text[]) as u(id, error) where contacts.id = u.id`,
        [failed.map(([id]) => id), failed.map(([, r]) => ("error" in r ? r.error : ""))]
      )
    }
    return new Map(results.map(([id, r]) => [id, "wamid" in r]))
  }

  return { pool, sendBatch }
}

/** Keeps the process up until SIGTERM, then runs `stop`. */
export const untilTerminated = (stop: () => Promise<void>): void => {
  const onSignal = () => {
    void stop().finally(() => process.exit(0))
  }
  process.once("SIGTERM", onSignal)
  process.once("SIGINT", onSignal)
}
