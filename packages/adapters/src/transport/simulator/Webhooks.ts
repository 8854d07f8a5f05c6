/**
 * The simulated Meta's webhook sender (whatsapp-cloud-api.md §3): status webhooks for accepted messages and
 * template status webhooks, signed with the app secret, posted with Meta's at-least-once habits — duplicates,
 * reordering, batching and redelivery with backoff, all bounded in attempts and time.
 *
 * Every random choice of a message is drawn when the message is accepted (in request order), so a seeded run
 * makes the same choices whatever the timing of the receiver. Due times are on the simulator's clock.
 */
import { createHmac } from "node:crypto"
import { Agent, request } from "undici"
import type { Webhook } from "./Config.ts"

/** A uniform draw in [0, 1): the simulator's seeded generator. */
export type Draw = () => number

/** A status Meta reports for an outbound message. */
export type MessageStatus = "sent" | "delivered" | "read" | "failed"

/** What the sender needs to know about the sending number. */
export interface Sender {
  readonly phoneNumberId: string
  readonly wabaId: string
  /** Digits of the business number: Meta's `metadata.display_phone_number`. */
  readonly displayPhoneNumber: string
}

/** An accepted message whose statuses are to be reported. */
export interface MessageForWebhooks {
  readonly wamid: string
  readonly sender: Sender
  readonly recipientId: string
  readonly callbackData: string | undefined
  /** Template category, lower case (`marketing`, `utility`, …) for `pricing.category`. */
  readonly category: string
  /** `deliver`: sent → delivered → read as the probabilities say; `undeliverable`: one failed (131026). */
  readonly outcome: "deliver" | "undeliverable"
}

/** Counters of the webhook sender. */
export interface WebhookStats {
  /** POSTs answered with 2xx. */
  readonly posted: number
  /** Statuses inside those POSTs (duplicates included). */
  readonly statusesPosted: number
  /** Attempts that got a non-2xx answer, a connection error or no answer in time. */
  readonly failed: number
  /** Attempts scheduled again after a failure. */
  readonly retried: number
  /** POSTs given up after maxAttempts. */
  readonly dropped: number
  /** Statuses and events not yet posted successfully (queued or in flight). */
  readonly pending: number
}

interface StatusItem {
  readonly kind: "status"
  readonly message: MessageForWebhooks
  readonly status: MessageStatus
  /** Reorder off: the statuses that follow, each scheduled only once this one is acknowledged (or dropped). */
  readonly next: ReadonlyArray<{ readonly status: MessageStatus; readonly delayMs: number; readonly duplicate: boolean }>
  readonly duplicate: boolean
}

interface TemplateItem {
  readonly kind: "template"
  readonly wabaId: string
  readonly value: Readonly<Record<string, unknown>>
}

type Item = StatusItem | TemplateItem

interface Post {
  readonly items: ReadonlyArray<Item>
  readonly body: string
  readonly attempt: number
}

interface Entry {
  readonly dueAt: number
  readonly seq: number
  /** Set for a fresh item; a POST to retry otherwise. */
  readonly item?: Item
  readonly retry?: Post
  /** When the status happened (its webhook `timestamp`). */
  readonly at: number
}

/** A binary min-heap of entries by due time, then by arrival. */
class Heap {
  private readonly items: Array<Entry> = []
  get size(): number {
    return this.items.length
  }
  private less(a: Entry, b: Entry): boolean {
    return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq)
  }
  push(entry: Entry): void {
    const items = this.items
    items.push(entry)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent] as Entry
      if (!this.less(entry, p)) break
      items[i] = p
      i = parent
    }
    items[i] = entry
  }
  peek(): Entry | undefined {
    return this.items[0]
  }
  pop(): Entry | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let smallest = last
      let at = i
      const li = items[l]
      const ri = items[r]
      if (li !== undefined && this.less(li, smallest)) {
        smallest = li
        at = l
      }
      if (ri !== undefined && this.less(ri, smallest)) {
        smallest = ri
        at = r
      }
      if (at === i) break
      items[i] = smallest
      i = at
    }
    items[i] = last
    return top
  }
  clear(): void {
    this.items.length = 0
  }
}

// Meta escapes non-ASCII characters in its payloads: a receiver that re-serialises the JSON breaks the HMAC.
const metaJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** `X-Hub-Signature-256` of a raw body. */
export const signature = (appSecret: string, body: string): string =>
  `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`

const ERROR_131026 = {
  code: 131026,
  title: "Message undeliverable",
  message: "Message undeliverable",
  error_data: { details: "Message Undeliverable." },
  href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
}

/** Posts the simulated Meta's webhooks to one URL. */
export class WebhookSender {
  private readonly heap = new Heap()
  private seq = 0
  private inFlight = 0
  private inFlightItems = 0
  private closed = false
  private readonly agent: Agent
  private counters = { posted: 0, statusesPosted: 0, failed: 0, retried: 0, dropped: 0 }

  private readonly config: Webhook
  private readonly now: () => number
  private readonly draw: Draw

  /** Where POSTs go and the extra headers they carry: the configured ones until 360dialog's API replaces them. */
  private target: { readonly url: string; readonly headers: Readonly<Record<string, string>> } | undefined

  /** `unregistered`: nothing is posted until `setTarget` (360dialog mode without a configured URL). */
  constructor(config: Webhook, now: () => number, draw: Draw, unregistered = false) {
    this.config = config
    this.target = unregistered ? undefined : { url: config.url, headers: config.headers }
    this.now = now
    this.draw = draw
    this.agent = new Agent({ connections: config.concurrency, connectTimeout: config.timeoutMs })
  }

  /** Changes where POSTs go (360dialog's `POST /v1/configs/webhook`); POSTs in flight still finish. */
  setTarget(url: string, headers: Readonly<Record<string, string>>): void {
    this.target = { url, headers }
  }

  /** Current counters. */
  stats(): WebhookStats {
    return { ...this.counters, pending: this.heap.size + this.inFlightItems }
  }

  /** Forgets queued webhooks and counters (POSTs in flight still finish). */
  reset(): void {
    this.heap.clear()
    this.counters = { posted: 0, statusesPosted: 0, failed: 0, retried: 0, dropped: 0 }
  }

  private jitter(): number {
    return this.config.delays.jitterMs === 0 ? 0 : this.draw() * this.config.delays.jitterMs
  }

  private push(dueAt: number, item: Item): void {
    this.heap.push({ dueAt, seq: this.seq++, item, at: dueAt })
  }

  /** Schedules the statuses of an accepted message, drawing its fate now. */
  enqueueMessage(message: MessageForWebhooks): void {
    const { delays, probabilities, duplicates, reorder } = this.config
    const dup = () => duplicates > 0 && this.draw() < duplicates
    const plan: Array<{ status: MessageStatus; delayMs: number; duplicate: boolean }> = []
    if (message.outcome === "undeliverable") {
      plan.push({ status: "failed", delayMs: delays.sentMs + this.jitter(), duplicate: dup() })
    } else {
      plan.push({ status: "sent", delayMs: delays.sentMs + this.jitter(), duplicate: dup() })
      if (this.draw() < probabilities.delivered) {
        plan.push({ status: "delivered", delayMs: delays.deliveredMs + this.jitter(), duplicate: dup() })
        if (this.draw() < probabilities.read) plan.push({ status: "read", delayMs: delays.readMs + this.jitter(), duplicate: dup() })
      }
    }
    const now = this.now()
    if (reorder.windowMs > 0) {
      // Each status is shifted by up to the window on its own, so later statuses may overtake earlier ones.
      let at = now
      for (const step of plan) {
        at += step.delayMs
        this.push(at + this.draw() * reorder.windowMs, { kind: "status", message, status: step.status, next: [], duplicate: step.duplicate })
      }
      return
    }
    const [first, ...rest] = plan
    if (first !== undefined) this.push(now + first.delayMs, { kind: "status", message, status: first.status, next: rest, duplicate: first.duplicate })
  }

  /** Schedules a `message_template_status_update` for a WABA. */
  enqueueTemplateStatus(wabaId: string, value: Readonly<Record<string, unknown>>): void {
    this.push(this.now(), { kind: "template", wabaId, value })
  }

  /** Posts everything due, as far as the concurrency allows; called on every tick and after every answer. */
  drain(): void {
    if (this.closed || this.target === undefined) return
    const now = this.now()
    const due: Array<Entry> = []
    const room = (this.config.concurrency - this.inFlight) * this.config.batchSize
    while (due.length < room) {
      const top = this.heap.peek()
      if (top === undefined || top.dueAt > now) break
      due.push(this.heap.pop() as Entry)
    }
    if (due.length === 0) return
    if (this.config.reorder.windowMs > 0) shuffle(due, this.draw)
    const fresh = new Map<string, Array<{ item: StatusItem; at: number }>>()
    for (const entry of due) {
      if (entry.retry !== undefined) {
        this.send(entry.retry)
      } else if (entry.item?.kind === "template") {
        this.send(this.postOf([entry.item], [entry.at]))
      } else if (entry.item !== undefined) {
        const key = entry.item.message.sender.phoneNumberId
        const group = fresh.get(key) ?? []
        group.push({ item: entry.item, at: entry.at })
        fresh.set(key, group)
      }
    }
    for (const group of fresh.values()) {
      for (let i = 0; i < group.length; i += this.config.batchSize) {
        const batch = group.slice(i, i + this.config.batchSize)
        this.send(this.postOf(batch.map((b) => b.item), batch.map((b) => b.at)))
      }
    }
  }

  private postOf(items: ReadonlyArray<Item>, ats: ReadonlyArray<number>): Post {
    const first = items[0]
    if (first === undefined || first.kind === "template") {
      const template = first as TemplateItem
      return {
        items,
        attempt: 1,
        body: metaJson({
          entry: [{
            id: template.wabaId,
            time: Math.floor((ats[0] ?? this.now()) / 1000),
            changes: [{ field: "message_template_status_update", value: template.value }]
          }],
          object: "whatsapp_business_account"
        })
      }
    }
    const sender = first.message.sender
    const statuses = items.map((item, i) => statusObject(item as StatusItem, ats[i] ?? this.now()))
    return {
      items,
      attempt: 1,
      body: metaJson({
        object: "whatsapp_business_account",
        entry: [{
          id: sender.wabaId,
          changes: [{
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: sender.displayPhoneNumber, phone_number_id: sender.phoneNumberId },
              statuses
            },
            field: "messages"
          }]
        }]
      })
    }
  }

  private send(post: Post): void {
    this.inFlight++
    this.inFlightItems += post.items.length
    const done = (ok: boolean) => {
      this.inFlight--
      this.inFlightItems -= post.items.length
      if (this.closed) return
      if (ok) {
        this.counters.posted++
        this.counters.statusesPosted += post.items.filter((item) => item.kind === "status").length
        this.acknowledged(post.items)
      } else {
        this.counters.failed++
        if (post.attempt < this.config.maxAttempts) {
          this.counters.retried++
          const backoff = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** (post.attempt - 1))
          const dueAt = this.now() + backoff
          this.heap.push({ dueAt, seq: this.seq++, retry: { ...post, attempt: post.attempt + 1 }, at: dueAt })
        } else {
          this.counters.dropped++
          // Meta gives up on this delivery, but the message's later statuses still happen.
          this.acknowledged(post.items)
        }
      }
      this.drain()
    }
    const appSecret = this.config.appSecret
    const target = this.target ?? { url: this.config.url, headers: {} }
    request(target.url, {
      method: "POST",
      dispatcher: this.agent,
      headers: {
        ...target.headers,
        "content-type": "application/json",
        "user-agent": "facebookexternalua",
        // 360dialog forwards without Meta's signature; its mode has no app secret.
        ...(appSecret === undefined ? {} : { "x-hub-signature-256": signature(appSecret, post.body) })
      },
      body: post.body,
      headersTimeout: this.config.timeoutMs,
      bodyTimeout: this.config.timeoutMs
    }).then(
      async (response) => {
        await response.body.dump().catch(() => undefined)
        done(response.statusCode >= 200 && response.statusCode < 300)
      },
      () => done(false)
    )
  }

  /** A status got through (or was given up): its duplicate and its successor are scheduled now. */
  private acknowledged(items: ReadonlyArray<Item>): void {
    const now = this.now()
    for (const item of items) {
      if (item.kind !== "status") continue
      if (item.duplicate) this.push(now, { ...item, next: [], duplicate: false })
      const [next, ...rest] = item.next
      if (next !== undefined) {
        this.push(now + next.delayMs, { kind: "status", message: item.message, status: next.status, next: rest, duplicate: next.duplicate })
      }
    }
  }

  /** Stops posting and closes the connections. */
  async close(): Promise<void> {
    this.closed = true
    this.heap.clear()
    await this.agent.destroy().catch(() => undefined)
  }
}

const shuffle = <A>(items: Array<A>, draw: Draw): void => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(draw() * (i + 1))
    const a = items[i] as A
    items[i] = items[j] as A
    items[j] = a
  }
}

/** One element of `value.statuses[]`, shaped like Meta's. */
const statusObject = (item: StatusItem, at: number): Record<string, unknown> => {
  const { message, status } = item
  return {
    id: message.wamid,
    status,
    timestamp: String(Math.floor(at / 1000)),
    recipient_id: message.recipientId,
    ...(message.callbackData === undefined ? {} : { biz_opaque_callback_data: message.callbackData }),
    ...(status === "sent" || status === "delivered"
      ? { pricing: { billable: true, pricing_model: "PMP", type: "regular", category: message.category } }
      : {}),
    ...(status === "failed" ? { errors: [ERROR_131026] } : {})
  }
}
