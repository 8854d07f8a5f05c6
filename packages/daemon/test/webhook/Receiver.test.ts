// The webhook receiver as Meta meets it: real HTTP on loopback, real storage (memory, and PostgreSQL once).
import { createServer, request as httpRequest } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { Campaign, Ports, Template, Webhook } from "@megaphone/core"
import { Deferred, Effect, Layer, Option, Redacted, Result } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { describe, expect, it } from "vitest"
import * as MemoryStorage from "../../../adapters/src/storage/memory/MemoryStorage.ts"
import * as PgStorage from "../../../adapters/src/storage/postgres/PgStorage.ts"
import { unlimitedAccount } from "../../../adapters/test/support/fixtures.ts"
import { pgLayer } from "../../../adapters/test/support/postgres.ts"
import * as Metrics from "../../src/metrics/Metrics.ts"
import * as Receiver from "../../src/webhook/Receiver.ts"
import * as Signature from "../../src/webhook/Signature.ts"

type Storage = Ports.Storage.StorageShape

const APP_SECRET = Redacted.make("test-app-secret-5f2a")
const VERIFY_TOKEN = Redacted.make("verify-token-77")
const WABA = "102290129340398"
const PHONE_ID = "106540352242922"
const DISPLAY = "15550783881"

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

const account = unlimitedAccount("main", {
  phoneNumberId: PHONE_ID,
  wabaId: WABA,
  displayPhoneNumber: "+1 555-078-3881",
  createdAt: new Date("2026-11-26T10:00:00Z"),
  updatedAt: new Date("2026-11-26T10:00:00Z")
})

interface Harness {
  readonly url: string
  readonly storage: Storage
  readonly receiver: Receiver.ReceiverShape
  readonly logs: Array<string>
  readonly templateCalls: Array<Receiver.TemplateStatusEvent>
  /** What /metrics would show now. */
  readonly metrics: Effect.Effect<string>
}

/** A receiver on a loopback port with its own storage, for the length of `body`. */
const withReceiver = <A>(
  body: (h: Harness) => Promise<A>,
  options: {
    readonly config?: Partial<Receiver.Config>
    readonly storage?: Layer.Layer<Ports.Storage.Storage, unknown>
    /** Use the receiver's default, `TemplateStatus.applyTemplateStatus`, instead of a recorder. */
    readonly realTemplateStatus?: boolean
  } = {}
): Promise<A> => {
  const logs: Array<string> = []
  const templateCalls: Array<Receiver.TemplateStatusEvent> = []
  const recorder: Receiver.ApplyTemplateStatus = (event) => Effect.sync(() => {
    templateCalls.push(event)
    return { paused: event.event === "PAUSED" ? ["1"] : [], resumed: [] }
  })
  const config: Receiver.Config = {
    appSecret: APP_SECRET,
    verifyToken: VERIFY_TOKEN,
    log: (line) => logs.push(line),
    ...(options.realTemplateStatus === true ? {} : { applyTemplateStatus: recorder }),
    ...options.config
  }
  const app = HttpRouter.serve(Receiver.routes, { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(Receiver.layer(config)),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(Metrics.layer),
    Layer.provideMerge(options.storage ?? MemoryStorage.layer)
  )
  const program = Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const address = server.address
    if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
    const h: Harness = {
      url: `http://127.0.0.1:${address.port}${Receiver.PATH}`,
      storage: yield* Ports.Storage.Storage,
      receiver: yield* Receiver.WebhookReceiver,
      logs,
      templateCalls,
      metrics: (yield* Metrics.Metrics).render
    }
    return yield* Effect.promise(() => body(h))
  })
  return Effect.runPromise(Effect.scoped(Effect.provide(program, app)) as Effect.Effect<A>)
}

interface Reply {
  readonly status: number
  readonly text: string
  readonly contentType: string | null
}

const post = async (h: Harness, body: string | Uint8Array, headers: Record<string, string | null> = {}): Promise<Reply> => {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body
  const all: Record<string, string | null> = {
    "content-type": "application/json",
    "x-hub-signature-256": Signature.sign(APP_SECRET, bytes),
    ...headers
  }
  const sent = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== null))
  const response = await fetch(h.url, { method: "POST", body: bytes, headers: sent })
  return { status: response.status, text: await response.text(), contentType: response.headers.get("content-type") }
}

const notification = (field: string, value: unknown) =>
  JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: WABA, changes: [{ field, value }] }] })

interface StatusSpec {
  readonly wamid: string
  readonly status: string
  readonly timestamp?: number
  readonly callback?: string
  readonly errors?: ReadonlyArray<unknown>
}

const statuses = (list: ReadonlyArray<StatusSpec>) =>
  notification("messages", {
    messaging_product: "whatsapp",
    metadata: { display_phone_number: DISPLAY, phone_number_id: PHONE_ID },
    statuses: list.map((s) => ({
      id: s.wamid,
      status: s.status,
      timestamp: String(s.timestamp ?? 1764151200),
      recipient_id: "420601000001",
      ...(s.callback === undefined ? {} : { biz_opaque_callback_data: s.callback }),
      ...(s.errors === undefined ? {} : { errors: s.errors }),
      pricing: { billable: true, pricing_model: "PMP", type: "regular", category: "marketing" }
    }))
  })

const inbound = (from: string, message: Record<string, unknown>) =>
  notification("messages", {
    messaging_product: "whatsapp",
    metadata: { display_phone_number: DISPLAY, phone_number_id: PHONE_ID },
    contacts: [{ profile: { name: "Anna" }, wa_id: from }],
    messages: [{ from, id: `wamid.IN${from}${String(message["type"])}`, timestamp: "1764151200", ...message }]
  })

interface Seeded {
  readonly campaignId: string
  readonly contacts: ReadonlyArray<{ readonly id: string; readonly wamid: string; readonly recipient: string }>
}

const wamidOf = (n: number) => `wamid.HBgLNDIwNjAxMDAwMDAwFQIAERgS${String(n).padStart(6, "0")}`

/** An account, a running campaign of `total` contacts, claimed, and the first `accepted` of them accepted with wamids. */
const seed = (storage: Storage, total: number, accepted = total) =>
  Effect.gen(function*() {
    const now = new Date()
    yield* storage.saveAccount(account)
    const created = yield* storage.createCampaign({ name: "jaro", accountName: account.name, templateName: "spring_sale", language: "cs", note: null }, now)
    const running = Result.getOrThrow(Campaign.start(created.lifecycle, { ...Campaign.emptyCounts, initial: total }, now))
    yield* storage.updateCampaignLifecycle(created.id, "draft", running)
    yield* storage.addCampaignContacts(created.id, Array.from({ length: total }, (_, i) => {
      const recipient = `420601${String(i + 1).padStart(6, "0")}`
      return { phone: `+${recipient}`, recipient, parameters: { "1": `Novák ${i}` } }
    }), now)
    const claimed = yield* storage.claim({ account, limit: total, leaseMs: 60_000, owner: "test", now })
    expect(claimed.claimed.length).toBe(total)
    const contacts = claimed.claimed
      .map((c) => c.contact)
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((c, i) => ({ id: c.id, wamid: wamidOf(i), recipient: c.recipient }))
    yield* storage.recordOutcomes(contacts.slice(0, accepted).map((c) => ({
      contactId: c.id,
      event: { _tag: "Accepted", wamid: c.wamid, waId: c.recipient }
    })), now)
    return { campaignId: created.id, contacts } satisfies Seeded
  })

const contact = (h: Harness, id: string) =>
  run(Effect.map(h.storage.getCampaignContact(id), Option.getOrThrow))

describe("webhook receiver: verification handshake", () => {
  it("the right token echoes the raw challenge as text/plain; a wrong or missing one is 403", () =>
    withReceiver(async (h) => {
      const ok = await fetch(`${h.url}?hub.mode=subscribe&hub.verify_token=verify-token-77&hub.challenge=1158201444`)
      expect(ok.status).toBe(200)
      expect(ok.headers.get("content-type")).toMatch(/^text\/plain/)
      expect(await ok.text()).toBe("1158201444")
      for (const query of ["hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "hub.mode=unsubscribe&hub.verify_token=verify-token-77&hub.challenge=1",
        "hub.mode=subscribe&hub.challenge=1", ""]) {
        const refused = await fetch(`${h.url}?${query}`)
        expect(refused.status, query).toBe(403)
        expect(await refused.text()).not.toContain("1158201444")
      }
      expect((await run(h.receiver.counters)).verificationsRefused).toBe(4)
      expect(h.logs.join("\n")).not.toContain("verify-token-77")
    }))
})

describe("webhook receiver: requests that can never succeed", () => {
  it("a forged signature and a missing one are 401 and counted; nothing is stored", () =>
    withReceiver(async (h) => {
      const seeded = await run(seed(h.storage, 1))
      const body = statuses([{ wamid: wamidOf(0), status: "delivered" }])
      const forged = await post(h, body, { "x-hub-signature-256": Signature.sign(Redacted.make("someone-else"), new TextEncoder().encode(body)) })
      expect(forged.status).toBe(401)
      expect((await post(h, body, { "x-hub-signature-256": null })).status).toBe(401)
      expect((await post(h, body, { "x-hub-signature-256": "sha256=zz" })).status).toBe(401)
      // Signed over different bytes (re-serialised JSON) is forged too.
      const reserialised = JSON.stringify(JSON.parse(body), null, 1)
      expect((await post(h, reserialised, { "x-hub-signature-256": Signature.sign(APP_SECRET, new TextEncoder().encode(body)) })).status).toBe(401)
      const counters = await run(h.receiver.counters)
      expect(counters.badSignature).toBe(4)
      expect(counters.received).toBe(4)
      // On /metrics too, by reason, for an alert on a wrong app secret or a probe.
      const text = await run(h.metrics)
      expect(text).toContain('megaphone_webhook_rejected_total{reason="bad_signature"} 4')
      expect(text).toContain('megaphone_webhook_rejected_total{reason="malformed"} 0')
      expect((await contact(h, seeded.contacts[0]?.id ?? "")).progress.state).toBe("sent")
      expect(h.logs.join("\n")).not.toContain("test-app-secret")
    }))

  it("truncated JSON is 400 with one log line, and the receiver keeps working", () =>
    withReceiver(async (h) => {
      const body = statuses([{ wamid: "wamid.X", status: "delivered" }])
      const truncated = await post(h, body.slice(0, body.length - 20))
      expect(truncated.status).toBe(400)
      expect(h.logs.length).toBe(1)
      expect(h.logs[0]).toMatch(/^webhook: malformed JSON/)
      expect((await post(h, JSON.stringify({ hello: "world" }))).status).toBe(400)
      expect((await post(h, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).status).toBe(400)
      expect((await run(h.receiver.counters)).malformed).toBe(3)
      expect((await post(h, body)).status).toBe(200)
    }))

  it("a wrong content type is 415", () =>
    withReceiver(async (h) => {
      const body = statuses([{ wamid: "wamid.X", status: "delivered" }])
      expect((await post(h, body, { "content-type": "text/plain" })).status).toBe(415)
      expect((await post(h, body, { "content-type": "application/x-www-form-urlencoded" })).status).toBe(415)
      expect((await post(h, body, { "content-type": "application/json; charset=utf-8" })).status).toBe(200)
      expect((await run(h.receiver.counters)).unsupportedMediaType).toBe(2)
    }))

  it("a 10 MB body is 413 before the sender has finished sending it", () =>
    withReceiver(async (h) => {
      // The response must arrive while most of the declared body is still unsent: proof it was not read.
      const declared = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(h.url, { method: "POST", headers: { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) } })
        req.on("response", (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
          req.destroy()
        })
        req.on("error", (error) => reject(error))
        req.write(Buffer.alloc(64 * 1024, 0x20))
      })
      expect(declared).toBe(413)
      // Without a Content-Length (chunked), reading stops at the limit: 413 while the stream is still open.
      const chunked = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(h.url, { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } })
        req.on("response", (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
          req.destroy()
        })
        req.on("error", (error) => reject(error))
        const chunk = Buffer.alloc(256 * 1024, 0x20)
        for (let i = 0; i < 14; i++) req.write(chunk)
      })
      expect(chunked).toBe(413)
      expect((await run(h.receiver.counters)).tooLarge).toBe(2)
    }))
})

describe("webhook receiver: a BSP's shared-secret header (360dialog)", () => {
  const SECRET = "bsp-shared-secret-91c"
  const sharedSecret = { config: { sharedSecret: { header: "X-Megaphone-Webhook-Secret", secret: Redacted.make(SECRET) } } }
  const asBsp = (storage: Storage) => storage.saveAccount({ ...account, provider: "360dialog" })

  it("a 360dialog account's delivery with the secret and no signature is applied; without the header or with a wrong one it is 401", () =>
    withReceiver(async (h) => {
      const seeded = await run(seed(h.storage, 1))
      await run(asBsp(h.storage))
      const body = statuses([{ wamid: wamidOf(0), status: "delivered" }])
      // No secret header and no signature: rejected, as 360dialog's forwarding is unsigned.
      expect((await post(h, body, { "x-hub-signature-256": null })).status).toBe(401)
      expect((await post(h, body, { "x-hub-signature-256": null, "x-megaphone-webhook-secret": "guess" })).status).toBe(401)
      expect((await contact(h, seeded.contacts[0]?.id ?? "")).progress.state).toBe("sent")
      const ok = await post(h, body, { "x-hub-signature-256": null, "X-Megaphone-Webhook-Secret": SECRET })
      expect(ok.status).toBe(200)
      expect((await contact(h, seeded.contacts[0]?.id ?? "")).progress.state).toBe("delivered")
      const counters = await run(h.receiver.counters)
      expect(counters.badSignature).toBe(2)
      expect(counters.badSharedSecret).toBe(1)
      expect(h.logs.join("\n")).not.toContain(SECRET)
    }, sharedSecret))

  it("a Meta-direct account's delivery needs Meta's signature: the right shared secret does not stand in for it", () =>
    withReceiver(async (h) => {
      const seeded = await run(seed(h.storage, 1))
      const body = statuses([{ wamid: wamidOf(0), status: "delivered" }])
      expect((await post(h, body, { "x-hub-signature-256": null, "X-Megaphone-Webhook-Secret": SECRET })).status).toBe(401)
      expect((await post(h, body, { "x-hub-signature-256": null })).status).toBe(401)
      expect((await contact(h, seeded.contacts[0]?.id ?? "")).progress.state).toBe("sent")
      expect(h.logs.join("\n")).toContain("has no 360dialog account")
      // Meta's signature still works as before, whatever the secret setting.
      expect((await post(h, body)).status).toBe(200)
      expect((await contact(h, seeded.contacts[0]?.id ?? "")).progress.state).toBe("delivered")
    }, sharedSecret))

  it("without a configured secret the header means nothing: only Meta's signature is accepted", () =>
    withReceiver(async (h) => {
      await run(seed(h.storage, 1))
      await run(asBsp(h.storage))
      const body = statuses([{ wamid: wamidOf(0), status: "delivered" }])
      expect((await post(h, body, { "x-hub-signature-256": null, "X-Megaphone-Webhook-Secret": SECRET })).status).toBe(401)
    }))
})

describe("webhook receiver: statuses", () => {
  it("Meta's documented status example moves the contact; the POST is answered only after storage", () =>
    withReceiver(async (h) => {
      const { contacts } = await run(seed(h.storage, 1))
      const c = contacts[0]
      if (c === undefined) throw new Error("no contact")
      const reply = await post(h, statuses([{ wamid: c.wamid, status: "delivered", timestamp: 1750857384 }]))
      expect(reply).toMatchObject({ status: 200 })
      // The reply came after the write: the state is already there.
      const row = await contact(h, c.id)
      expect(row.progress.state).toBe("delivered")
      expect(row.progress.stateTimes.delivered).toEqual(new Date(1750857384 * 1000))
      expect(await run(h.receiver.counters)).toMatchObject({ statusesReceived: 1, statusesApplied: 1, refused: 0, unmatched: 0 })
    }))

  it("answers 200 only once the batch is durable, and 503 when storage fails", async () => {
    const entered = Effect.runSync(Deferred.make<void>())
    const gate = Effect.runSync(Deferred.make<void>())
    let fail = false
    const gated = Layer.effect(Ports.Storage.Storage, Effect.map(MemoryStorage.make, (s): Storage => ({
      ...s,
      applyStatuses: (reports, now) =>
        fail
          ? Effect.fail(new Ports.Storage.StorageError({ operation: "applyStatuses", message: "connection lost" }))
          : Effect.andThen(Effect.andThen(Deferred.succeed(entered, undefined), Deferred.await(gate)), s.applyStatuses(reports, now))
    })))
    await withReceiver(async (h) => {
      const { contacts } = await run(seed(h.storage, 1))
      let settled = false
      const pending = post(h, statuses([{ wamid: contacts[0]?.wamid ?? "", status: "read" }])).then((r) => {
        settled = true
        return r
      })
      await run(Deferred.await(entered))
      expect(settled).toBe(false)
      await run(Deferred.succeed(gate, undefined))
      expect((await pending).status).toBe(200)
      fail = true
      const refused = await post(h, statuses([{ wamid: contacts[0]?.wamid ?? "", status: "read" }]))
      expect(refused.status).toBe(503)
      expect((await run(h.receiver.counters)).storageFailures).toBe(1)
      expect(h.logs.at(-1)).toMatch(/storage failed; answered 503 so Meta redelivers: applyStatuses: connection lost/)
    }, { storage: gated })
  })

  it("many concurrent POSTs are written in few batches", async () => {
    let calls = 0
    const counting = Layer.effect(Ports.Storage.Storage, Effect.map(MemoryStorage.make, (s): Storage => ({
      ...s,
      applyStatuses: (reports, now) => {
        calls++
        // A slow disk: while one batch is written, the next one fills up.
        return Effect.andThen(Effect.sleep(50), s.applyStatuses(reports, now))
      }
    })))
    await withReceiver(async (h) => {
      const { contacts } = await run(seed(h.storage, 50))
      const replies = await Promise.all(contacts.map((c) => post(h, statuses([{ wamid: c.wamid, status: "delivered" }]))))
      expect(replies.every((r) => r.status === 200)).toBe(true)
      expect(calls).toBeLessThanOrEqual(10)
      const counts = await run(h.storage.campaignCounts((await run(h.storage.listCampaigns()))[0]?.id ?? ""))
      expect(counts.delivered).toBe(50)
    }, { storage: counting, config: { writers: 1 } })
  })

  it("1,000 duplicated statuses for the same messages: correct state, no error", () =>
    withReceiver(async (h) => {
      const { campaignId, contacts } = await run(seed(h.storage, 10))
      const order = ["sent", "delivered", "read"] as const
      // 100 POSTs of 10 statuses each, every message's statuses repeated and shuffled across POSTs.
      const posts = Array.from({ length: 100 }, (_, p) =>
        statuses(Array.from({ length: 10 }, (_, i) => {
          const c = contacts[(p + i) % contacts.length]
          const status = order[(p * 7 + i) % 3] ?? "sent"
          return { wamid: c?.wamid ?? "", status, timestamp: 1764151200 + order.indexOf(status) }
        })))
      const replies = await Promise.all(posts.map((body) => post(h, body)))
      expect(replies.map((r) => r.status)).toEqual(posts.map(() => 200))
      const counts = await run(h.storage.campaignCounts(campaignId))
      expect(counts.read).toBe(10)
      const row = await contact(h, contacts[3]?.id ?? "")
      expect(row.progress.stateTimes.delivered).toEqual(new Date(1764151201 * 1000))
      const counters = await run(h.receiver.counters)
      expect(counters).toMatchObject({ statusesReceived: 1000, storageFailures: 0, refused: 0, unmatched: 0 })
    }))

  it("read before delivered stays read, and delivered still fills its time", () =>
    withReceiver(async (h) => {
      const { contacts } = await run(seed(h.storage, 1))
      const wamid = contacts[0]?.wamid ?? ""
      expect((await post(h, statuses([{ wamid, status: "read", timestamp: 1764151300 }]))).status).toBe(200)
      expect((await post(h, statuses([{ wamid, status: "delivered", timestamp: 1764151200 }]))).status).toBe(200)
      const row = await contact(h, contacts[0]?.id ?? "")
      expect(row.progress.state).toBe("read")
      expect(row.progress.stateTimes.read).toEqual(new Date(1764151300 * 1000))
      expect(row.progress.stateTimes.delivered).toEqual(new Date(1764151200 * 1000))
    }))

  it("a failed status with 131026 fails the contact with the classified error", () =>
    withReceiver(async (h) => {
      const { contacts } = await run(seed(h.storage, 1))
      const reply = await post(h, statuses([{ wamid: contacts[0]?.wamid ?? "", status: "failed", errors: [{
        code: 131026, title: "Message undeliverable", message: "Message undeliverable",
        error_data: { details: "Message Undeliverable." }, href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
      }] }]))
      expect(reply.status).toBe(200)
      const row = await contact(h, contacts[0]?.id ?? "")
      expect(row.progress.state).toBe("sending_failed")
      expect(row.progress.lastError).toMatchObject({ code: "131026", errorClass: "recipient" })
    }))

  it("an unknown wamid whose callback data names the contact still reaches it; others count as unmatched", () =>
    withReceiver(async (h) => {
      // The daemon crashed after Meta accepted the message and before the wamid was stored.
      const { contacts } = await run(seed(h.storage, 2, 1))
      const lost = contacts[1]
      if (lost === undefined) throw new Error("no contact")
      expect((await contact(h, lost.id)).progress.state).toBe("in_progress")
      const callback = Webhook.encodeCallbackData({ contactId: lost.id, attempt: 1 })
      const reply = await post(h, statuses([
        { wamid: "wamid.NEVER_STORED", status: "sent", callback },
        { wamid: "wamid.SOMEONE_ELSE", status: "delivered", callback: "campaign42:contact977" }
      ]))
      expect(reply.status).toBe(200)
      const row = await contact(h, lost.id)
      expect(row.progress.state).toBe("sent")
      expect(row.progress.wamid).toBe("wamid.NEVER_STORED")
      expect(await run(h.receiver.counters)).toMatchObject({ statusesApplied: 1, unmatched: 1 })
    }))
})

describe("webhook receiver: everything else", () => {
  it("an opt-out reply suppresses the sender; other replies do not", () =>
    withReceiver(async (h) => {
      expect((await post(h, inbound("420601000001", { type: "text", text: { body: "STOP" } }))).status).toBe(200)
      expect((await post(h, inbound("420601000002", { type: "button", button: { payload: "STOP_PROMO", text: "Stop promotions" },
        context: { from: DISPLAY, id: wamidOf(1) } }))).status).toBe(200)
      expect((await post(h, inbound("420601000003", { type: "text", text: { body: "Děkuji, prosím nepřestávejte" } }))).status).toBe(200)
      // Redelivered: nothing new.
      expect((await post(h, inbound("420601000001", { type: "text", text: { body: "STOP" } }))).status).toBe(200)
      const suppressed = await run(h.storage.listSuppressions())
      expect(suppressed.map((s) => [s.recipient, s.reason])).toEqual([["420601000001", "replied STOP"], ["420601000002", "replied STOP"]])
      const events = await run(h.storage.listEvents(undefined, { limit: 10 }))
      expect(events.map((e) => e.kind)).toEqual(["opt_out", "opt_out"])
      expect(events[1]?.data).toMatchObject({ recipient: "420601000002", replyTo: wamidOf(1) })
      expect((await run(h.receiver.counters)).optOuts).toBe(2)
    }))

  it("configured opt-out words replace the defaults", () =>
    withReceiver(async (h) => {
      await post(h, inbound("420601000001", { type: "text", text: { body: "Konec!" } }))
      await post(h, inbound("420601000002", { type: "text", text: { body: "stop" } }))
      expect((await run(h.storage.listSuppressions())).map((s) => s.recipient)).toEqual(["420601000001"])
    }, { config: { optOutWords: ["konec"] } }))

  it("a template PAUSED event goes to applyTemplateStatus and the event log", () =>
    withReceiver(async (h) => {
      const reply = await post(h, notification("message_template_status_update", {
        event: "PAUSED", message_template_id: 1689556908129832, message_template_name: "spring_sale",
        message_template_language: "cs", message_template_category: "MARKETING", reason: "NONE",
        other_info: { title: "FIRST_PAUSE", description: "Your message template has been paused for 3 hours." }
      }))
      expect(reply.status).toBe(200)
      expect(h.templateCalls).toEqual([{ wabaId: WABA, name: "spring_sale", language: "cs", event: "PAUSED", reason: "NONE",
        description: "Your message template has been paused for 3 hours." }])
      const [logged] = await run(h.storage.listEvents(undefined, { limit: 10 }))
      expect(logged).toMatchObject({ kind: "template_status", message: "Template spring_sale (cs) is PAUSED (FIRST_PAUSE)",
        data: { paused: ["1"], resumed: [] } })
    }))

  it("by default a PAUSED template pauses its running campaigns (TemplateStatus.applyTemplateStatus)", async () => {
    await withReceiver(async (h) => {
      const { campaignId } = await run(seed(h.storage, 1))
      const template = Result.getOrThrow(Template.decode({ id: "1689556908129832", name: "spring_sale", language: "cs", status: "APPROVED",
        category: "MARKETING", components: [{ type: "BODY", text: "Jarní výprodej, {{1}}!" }] }))
      await run(h.storage.syncTemplates(WABA, [template], new Date()))
      const reply = await post(h, notification("message_template_status_update", {
        event: "PAUSED", message_template_id: 1689556908129832, message_template_name: "spring_sale", message_template_language: "cs",
        reason: "NONE", other_info: { title: "FIRST_PAUSE", description: "Paused for 3 hours." }
      }))
      expect(reply.status).toBe(200)
      const campaign = Option.getOrThrow(await run(h.storage.getCampaign(campaignId)))
      expect(campaign.lifecycle.state).toBe("paused")
      const logged = (await run(h.storage.listEvents(undefined, { limit: 50 }))).find((e) => e.kind === "template_status")
      expect(logged?.data).toMatchObject({ paused: [campaignId] })
    }, { realTemplateStatus: true })
  })

  it("a failing applyTemplateStatus is 503, so Meta redelivers the event", () =>
    withReceiver(async (h) => {
      const reply = await post(h, notification("message_template_status_update", {
        event: "DISABLED", message_template_id: "1", message_template_name: "spring_sale", message_template_language: "cs", reason: null
      }))
      expect(reply.status).toBe(503)
    }, { config: { applyTemplateStatus: () => Effect.fail(new Ports.Storage.StorageError({ operation: "pause", message: "down" })) } }))

  it("phone quality and capability updates change the account's tier, limit, rating and throughput", () =>
    withReceiver(async (h) => {
      await run(h.storage.saveAccount({ ...account, messagingLimit: 250, messagingTier: "TIER_250", throughputMps: 80, throughputLevel: "STANDARD" }))
      await run(h.storage.saveAccount({ ...account, name: "other", phoneNumberId: "pn-other", displayPhoneNumber: "+420 601 999 999" }))
      const get = (name: string) => run(Effect.map(h.storage.getAccount(name), Option.getOrThrow))
      expect((await post(h, notification("phone_number_quality_update", {
        display_phone_number: DISPLAY, event: "UPGRADE", current_limit: "TIER_10K", old_limit: "TIER_2K"
      }))).status).toBe(200)
      expect(await get("main")).toMatchObject({ messagingTier: "TIER_10K", messagingLimit: 10_000 })
      expect((await get("other")).messagingTier).toBe("TIER_UNLIMITED")
      await post(h, notification("phone_number_quality_update", { display_phone_number: DISPLAY, event: "FLAGGED" }))
      expect((await get("main")).qualityRating).toBe("RED")
      await post(h, notification("phone_number_quality_update", { display_phone_number: DISPLAY, event: "THROUGHPUT_UPGRADE", current_limit: "TIER_UNLIMITED" }))
      expect(await get("main")).toMatchObject({ throughputMps: 1000, throughputLevel: "HIGH", messagingLimit: 10_000 })
      expect((await post(h, notification("business_capability_update", { max_daily_conversations_per_business: 2000 }))).status).toBe(200)
      expect(await get("main")).toMatchObject({ messagingTier: "2000", messagingLimit: 2000 })
      expect(await get("other")).toMatchObject({ messagingTier: "2000", messagingLimit: 2000 })
      await post(h, notification("business_capability_update", { max_daily_conversations_per_business: "TIER_UNLIMITED" }))
      expect((await get("main")).messagingLimit).toBe("unlimited")
      const kinds = (await run(h.storage.listEvents(undefined, { limit: 20 }))).map((e) => e.kind)
      expect(kinds).toEqual(["phone_quality", "phone_quality", "phone_quality", "messaging_limit", "messaging_limit"])
    }))

  it("an account restriction is logged as blocking sending", () =>
    withReceiver(async (h) => {
      await post(h, notification("account_update", { event: "ACCOUNT_RESTRICTION",
        restriction_info: [{ restriction_type: "RESTRICTED_BIZ_INITIATED_MESSAGING", expiration: 1752000000 }] }))
      const [logged] = await run(h.storage.listEvents(undefined, { limit: 10 }))
      expect(logged).toMatchObject({ kind: "account_update", data: { haltsSending: true } })
      expect(h.logs.some((l) => l.includes("business-initiated sending is blocked"))).toBe(true)
    }))

  it("an unknown field is 200 and ignored with one log line; the statuses next to it are applied", () =>
    withReceiver(async (h) => {
      const { contacts } = await run(seed(h.storage, 1))
      const body = JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: WABA, changes: [
        { field: "smb_app_state_sync", value: { state_sync: [{ type: "contact" }] } },
        JSON.parse(statuses([{ wamid: contacts[0]?.wamid ?? "", status: "delivered" }])).entry[0].changes[0]
      ] }] })
      expect((await post(h, body)).status).toBe(200)
      expect(h.logs).toEqual([`webhook: ignored smb_app_state_sync from WABA ${WABA}: field not handled`])
      expect((await run(h.receiver.counters)).ignored).toBe(1)
      expect((await contact(h, contacts[0]?.id ?? "")).progress.state).toBe("delivered")
    }))
})

describe("webhook receiver on PostgreSQL (embedded)", () => {
  it("applies statuses durably: delivered, failed, and the callback-data match", () => {
    const pg = PgStorage.layer.pipe(Layer.provideMerge(Layer.effectDiscard(PgStorage.migrate).pipe(Layer.provideMerge(pgLayer("embedded")))))
    return withReceiver(async (h) => {
      const { campaignId, contacts } = await run(seed(h.storage, 3, 2))
      const [a, b, c] = contacts
      if (a === undefined || b === undefined || c === undefined) throw new Error("no contacts")
      const reply = await post(h, statuses([
        { wamid: a.wamid, status: "read" },
        { wamid: a.wamid, status: "delivered" },
        { wamid: b.wamid, status: "failed", errors: [{ code: 131026, title: "Message undeliverable" }] },
        { wamid: "wamid.C", status: "sent", callback: Webhook.encodeCallbackData({ contactId: c.id, attempt: 1 }) }
      ]))
      expect(reply.status).toBe(200)
      expect((await contact(h, a.id)).progress.state).toBe("read")
      expect((await contact(h, b.id)).progress.lastError?.code).toBe("131026")
      expect((await contact(h, c.id)).progress.wamid).toBe("wamid.C")
      const counts = await run(h.storage.campaignCounts(campaignId))
      expect(counts).toMatchObject({ read: 1, sending_failed: 1, sent: 1 })
    }, { storage: pg })
  }, 60_000)
})
