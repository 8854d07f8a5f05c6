// Fuzzing the webhook receiver over real HTTP on loopback (memory storage): random JSON, Meta's payloads with parts
// removed, retyped, multiplied or replaced, wrong signatures and content types, bodies cut short. Every answer is
// the documented one — 200, 400, 401, 413 or 415, never a 5xx — the receiver keeps working, and the readable
// statuses of a body are applied whatever junk sits next to them. FUZZ_SEED=<n> explores other inputs.
import { createServer } from "node:http"
import { connect } from "node:net"
import { NodeHttpServer } from "@effect/platform-node"
import { Campaign, Ports, Webhook } from "@megaphone/core"
import { Effect, Layer, Option, Redacted, Result } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as MemoryStorage from "../../../adapters/src/storage/memory/MemoryStorage.ts"
import { unlimitedAccount } from "../../../adapters/test/support/fixtures.ts"
import * as Receiver from "../../src/webhook/Receiver.ts"
import * as Signature from "../../src/webhook/Signature.ts"

const seed = Number(process.env["FUZZ_SEED"] ?? 20_260_512)

const APP_SECRET = Redacted.make("fuzz-app-secret-9c1d")
const VERIFY_TOKEN = Redacted.make("fuzz-verify-token")
const WABA = "102290129340398"
const PHONE_ID = "106540352242922"
const DISPLAY = "15550783881"
// Small, so that multiplied arrays reach it often; Meta's own maximum is 3 MB.
const MAX_BODY = 256 * 1024

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

interface Harness {
  readonly url: string
  readonly port: number
  readonly storage: Ports.Storage.StorageShape
  readonly receiver: Receiver.ReceiverShape
  /** Wamids of accepted messages no test has reported on yet: each can take one `delivered`. */
  readonly fresh: () => { readonly id: string; readonly wamid: string }
}

const wamidOf = (n: number) => `wamid.HBgLNDIwNjAxMDAwMDAwFQIAERgS${String(n).padStart(6, "0")}`

/** One receiver (with the real template-status handling) on a loopback port for the length of `body`. */
const withReceiver = <A>(contacts: number, body: (h: Harness) => Promise<A>): Promise<A> => {
  const config: Receiver.Config = { appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN, maxBodyBytes: MAX_BODY, flushEveryMs: 1, log: () => {} }
  const app = HttpRouter.serve(Receiver.routes, { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(Receiver.layer(config)),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(MemoryStorage.layer)
  )
  return Effect.runPromise(Effect.scoped(Effect.provide(Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    if (server.address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
    const storage = yield* Ports.Storage.Storage
    const seeded = yield* seed_(storage, contacts)
    let next = 0
    const h: Harness = {
      url: `http://127.0.0.1:${server.address.port}${Receiver.PATH}`,
      port: server.address.port,
      storage,
      receiver: yield* Receiver.WebhookReceiver,
      fresh: () => {
        const contact = seeded[next++]
        if (contact === undefined) throw new Error("seed more contacts")
        return contact
      }
    }
    return yield* Effect.promise(() => body(h))
  }), app)) as Effect.Effect<A>)
}

/** An account in WABA, a running campaign of `total` contacts, all sent with known wamids. */
const seed_ = (storage: Ports.Storage.StorageShape, total: number) =>
  Effect.gen(function*() {
    const now = new Date()
    const account = unlimitedAccount("main", { phoneNumberId: PHONE_ID, wabaId: WABA, displayPhoneNumber: "+1 555-078-3881", createdAt: now, updatedAt: now })
    yield* storage.saveAccount(account)
    const created = yield* storage.createCampaign({ name: "jaro", accountName: account.name, templateName: "spring_sale", language: "cs", note: null }, now)
    const running = Result.getOrThrow(Campaign.start(created.lifecycle, { ...Campaign.emptyCounts, initial: total }, now))
    yield* storage.updateCampaignLifecycle(created.id, "draft", running)
    yield* storage.addCampaignContacts(created.id, Array.from({ length: total }, (_, i) => {
      const recipient = `420601${String(i + 1).padStart(6, "0")}`
      return { phone: `+${recipient}`, recipient, parameters: { "1": `Novák ${i}` } }
    }), now)
    const claimed = yield* storage.claim({ account, limit: total, leaseMs: 600_000, owner: "fuzz", now })
    const contacts = claimed.claimed.map((c) => c.contact).sort((a, b) => Number(a.id) - Number(b.id)).map((c, i) => ({ id: c.id, wamid: wamidOf(i), recipient: c.recipient }))
    yield* storage.recordOutcomes(contacts.map((c) => ({ contactId: c.id, event: { _tag: "Accepted", wamid: c.wamid, waId: c.recipient } })), now)
    return contacts
  })

interface Reply {
  readonly status: number
  readonly text: string
}

const post = async (h: Harness, body: Uint8Array, headers: Record<string, string>): Promise<Reply> => {
  const response = await fetch(h.url, { method: "POST", body, headers })
  return { status: response.status, text: await response.text() }
}

const signed = (bytes: Uint8Array) => ({ "content-type": "application/json", "x-hub-signature-256": Signature.sign(APP_SECRET, bytes) })

const utf8 = (text: string) => new TextEncoder().encode(text)

// ---------------------------------------------------------------------------------------------------------
// Meta's payloads (whatsapp-cloud-api.md §3), and ways to damage them

type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

const envelope = (field: string, value: Json): Json => ({ object: "whatsapp_business_account", entry: [{ id: WABA, changes: [{ field, value }] }] })
const metadata = { display_phone_number: DISPLAY, phone_number_id: PHONE_ID }

const status = (wamid: string, s: string, extra: Record<string, Json> = {}): Json => ({
  id: wamid, status: s, timestamp: "1764151200", recipient_id: "420601000001",
  conversation: { id: "c1", origin: { type: "marketing" } },
  pricing: { billable: true, pricing_model: "PMP", type: "regular", category: "marketing" }, ...extra
})

const payloads: ReadonlyArray<Json> = [
  envelope("messages", { messaging_product: "whatsapp", metadata, statuses: [status(wamidOf(999_990), "delivered"), status(wamidOf(999_991), "read")] }),
  envelope("messages", { messaging_product: "whatsapp", metadata, statuses: [status(wamidOf(999_992), "failed", {
    errors: [{ code: 131026, title: "Message undeliverable", message: "Message undeliverable", error_data: { details: "Message Undeliverable." } }]
  })] }),
  envelope("messages", { messaging_product: "whatsapp", metadata, contacts: [{ profile: { name: "Anna" }, wa_id: "420601999001" }],
    messages: [{ from: "420601999001", id: "wamid.IN1", timestamp: "1764151200", type: "text", text: { body: "STOP" } }] }),
  envelope("messages", { messaging_product: "whatsapp", metadata,
    messages: [{ from: "420601999002", id: "wamid.IN2", timestamp: "1764151200", type: "button", button: { payload: "STOP_PROMO", text: "Stop" },
      context: { from: DISPLAY, id: wamidOf(999_993) } }] }),
  envelope("messages", { messaging_product: "whatsapp", metadata, errors: [{ code: 130429, title: "Rate limit hit", message: "Rate limit hit" }] }),
  envelope("message_template_status_update", { event: "PAUSED", message_template_id: 1689556908129832, message_template_name: "spring_sale",
    message_template_language: "cs", reason: "NONE", other_info: { title: "FIRST_PAUSE", description: "Paused for low quality" } }),
  envelope("message_template_status_update", { event: "APPROVED", message_template_id: "1", message_template_name: "spring_sale",
    message_template_language: "cs", reason: null }),
  envelope("message_template_quality_update", { previous_quality_score: "GREEN", new_quality_score: "YELLOW", message_template_id: 1,
    message_template_name: "spring_sale", message_template_language: "cs" }),
  envelope("phone_number_quality_update", { display_phone_number: DISPLAY, event: "UPGRADE", current_limit: "TIER_10K", old_limit: "TIER_2K" }),
  envelope("phone_number_quality_update", { display_phone_number: DISPLAY, event: "THROUGHPUT_UPGRADE", current_limit: "TIER_UNLIMITED" }),
  envelope("business_capability_update", { max_daily_conversations_per_business: 2000, max_phone_numbers_per_business: 2 }),
  envelope("account_update", { event: "ACCOUNT_RESTRICTION", restriction_info: [{ restriction_type: "RESTRICTED_BUSINESS_INITIATED_MESSAGING",
    expiration: 1764151200 }] }),
  envelope("smb_app_state_sync", { state_sync: [{ type: "contact" }] })
]

type Path = ReadonlyArray<string | number>

const pathsOf = (value: Json, at: Path = []): Array<Path> => [
  at,
  ...(Array.isArray(value)
    ? value.flatMap((child, i) => pathsOf(child, [...at, i]))
    : value !== null && typeof value === "object"
    ? Object.entries(value).flatMap(([key, child]) => pathsOf(child, [...at, key]))
    : [])
]

type Op = "remove" | "replace" | "retype" | "multiply" | "unknownStatus" | "longString"

interface Mutation {
  readonly pick: number
  readonly op: Op
  readonly junk: Json
  readonly times: number
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom<Op>("remove", "replace", "retype", "multiply", "unknownStatus", "longString"),
  junk: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  times: fc.integer({ min: 2, max: 5_000 })
})

const retype = (value: Json): Json =>
  typeof value === "string"
    ? (Number.isFinite(Number(value)) ? Number(value) : [value])
    : typeof value === "number"
    ? String(value)
    : Array.isArray(value)
    ? { length: value.length }
    : value === null
    ? ""
    : typeof value === "object"
    ? [value]
    : String(value)

/** The value with one change at the path `pick` selects (among all of its paths). */
const mutate = (root: Json, m: Mutation): Json => {
  const paths = pathsOf(root)
  const path = paths[m.pick % paths.length]!
  const change = (value: Json): Json | undefined => {
    switch (m.op) {
      case "remove": return undefined
      case "replace": return m.junk
      case "retype": return retype(value)
      // Up to about 1 MB of copies: past the receiver's limit sometimes, never past the test's memory.
      case "multiply": return Array.from({ length: Math.min(m.times, Math.ceil(1_000_000 / (JSON.stringify(value) ?? "").length)) }, () => value)
      case "unknownStatus":
        return value !== null && typeof value === "object" && !Array.isArray(value) && "status" in value
          ? { ...value, status: typeof m.junk === "string" ? m.junk : "deleted" }
          : value
      case "longString": return "ř".repeat(m.times * 10)
    }
  }
  if (path.length === 0) return change(root) ?? null
  // Through JSON, not structuredClone: multiplied copies must stop sharing one object before one of them changes.
  const copy = JSON.parse(JSON.stringify(root)) as Json
  let parent = copy as Record<string | number, Json>
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>
  const last = path[path.length - 1]!
  const changed = change(parent[last]!)
  if (changed !== undefined) parent[last] = changed
  else if (Array.isArray(parent)) parent.splice(last as number, 1)
  else delete parent[last]
  return copy
}

const mutatedPayload = fc.tuple(fc.constantFrom(...payloads), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
  .map(([payload, mutations]) => mutations.reduce(mutate, payload))

/** What the receiver must answer a signed JSON body: 413 over the limit, 400 unless it decodes as a notification. */
const expectedFor = (bytes: Uint8Array): number => {
  if (bytes.byteLength > MAX_BODY) return 413
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes))
  } catch {
    return 400
  }
  return Result.isSuccess(Webhook.decode(json)) ? 200 : 400
}

const expectHealthy = async (h: Harness) => {
  const counters = await run(h.receiver.counters)
  // Storage never failed (it is memory); a defect in handling would have shown up here as a 503.
  expect(counters.storageFailures).toBe(0)
}

describe("webhook receiver (fuzz)", () => {
  it("random JSON and mutated Meta payloads, signed: 200 when it is a notification, else 400 or 413; never a 5xx", () =>
    withReceiver(1, async (h) => {
      const body = fc.oneof(
        { weight: 3, arbitrary: mutatedPayload.map((json) => utf8(JSON.stringify(json))) },
        { weight: 1, arbitrary: fc.jsonValue().map((json) => utf8(JSON.stringify(json))) },
        // Bodies cut short, and bytes that are not JSON or not UTF-8.
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...payloads), fc.nat()).map(([p, cut]) => {
          const bytes = utf8(JSON.stringify(p))
          return bytes.subarray(0, cut % bytes.length)
        }) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) }
      )
      const seen = new Set<number>()
      await fc.assert(fc.asyncProperty(body, async (bytes) => {
        const reply = await post(h, bytes, signed(bytes))
        expect(reply.status).toBe(expectedFor(bytes))
        seen.add(reply.status)
      }), { seed, numRuns: 150 })
      // The inputs reach every answer, or the property proves less than it says.
      expect([...seen].sort()).toEqual([200, 400, 413])
      await expectHealthy(h)
      expect((await post(h, utf8(JSON.stringify(payloads[0])), signed(utf8(JSON.stringify(payloads[0]))))).status).toBe(200)
    }))

  it("the readable statuses of a body are applied whatever junk, unknown statuses and unreadable changes sit next to them", () =>
    withReceiver(1_000, async (h) => {
      const junkStatus = fc.oneof(
        fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
        mutationArb.map((m) => mutate(status(wamidOf(999_999), "delivered"), m)),
        fc.string().map((s) => status(wamidOf(999_998), s === "" ? "deleted" : s))
      )
      const plan = fc.record({
        good: fc.integer({ min: 1, max: 3 }),
        junk: fc.array(junkStatus, { maxLength: 6 }),
        otherChanges: fc.array(mutatedPayload, { maxLength: 2 }),
        order: fc.array(fc.nat(), { maxLength: 9 })
      })
      await fc.assert(fc.asyncProperty(plan, async (p) => {
        const good = Array.from({ length: p.good }, () => h.fresh())
        const items: Array<Json> = [...good.map((c) => status(c.wamid, "delivered")), ...p.junk]
        // Shuffle by the generated order, so the good ones land anywhere among the junk.
        p.order.forEach((k, i) => {
          const a = i % items.length
          const b = k % items.length
          ;[items[a], items[b]] = [items[b]!, items[a]!]
        })
        const otherChanges = p.otherChanges.flatMap((other) => {
          const entry = (other as { entry?: Array<{ changes?: Array<Json> }> } | null)?.entry
          return Array.isArray(entry) && Array.isArray(entry[0]?.changes) ? entry[0].changes : [other]
        })
        const body = utf8(JSON.stringify({ object: "whatsapp_business_account", entry: [
          { id: WABA, changes: [...otherChanges, { field: "messages", value: { messaging_product: "whatsapp", metadata, statuses: items } }] },
          "not an entry"
        ] }))
        const reply = await post(h, body, signed(body))
        expect(reply.status).toBe(body.byteLength > MAX_BODY ? 413 : 200)
        if (reply.status !== 200) return
        for (const c of good) {
          const contact = await run(Effect.map(h.storage.getCampaignContact(c.id), Option.getOrThrow))
          expect(contact.progress.state).toBe("delivered")
        }
      }), { seed, numRuns: 100 })
      await expectHealthy(h)
    }))

  it("wrong signatures are 401, wrong content types 415; a header that still signs the body exactly is accepted", () =>
    withReceiver(1, async (h) => {
      const body = utf8(JSON.stringify(payloads[0]))
      const good = Signature.sign(APP_SECRET, body)
      const signature = fc.oneof(
        fc.constant(good),
        fc.constant(Signature.sign(Redacted.make("someone-else"), body)),
        fc.tuple(fc.nat(), fc.constantFrom(..."0123456789abcdefABCDEF=x ")).map(([i, c]) => {
          const at = i % good.length
          return good.slice(0, at) + c + good.slice(at + 1)
        }),
        fc.constantFrom(good.toUpperCase(), `  ${good}  `, good.replace("sha256=", "sha1="), good.slice(7), `${good}, ${good}`, "", "sha256="),
        fc.string()
      )
      const contentType = fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.meta+json",
        "text/plain", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "json", "application/jsonx", ";")
      await fc.assert(fc.asyncProperty(signature, contentType, async (sig, type) => {
        const headers: Record<string, string> = { "x-hub-signature-256": sig }
        if (type !== "") headers["content-type"] = type
        const reply = await post(h, body, headers)
        const media = type.split(";")[0]!.trim().toLowerCase()
        const json = media === "application/json" || (media.startsWith("application/") && media.endsWith("+json"))
        // The header names the same bytes when, trimmed, it is sha256= and the same 64 hex digits in any case.
        const same = /^sha256=[0-9a-fA-F]{64}$/.test(sig.trim()) && sig.trim().toLowerCase() === good
        expect(reply.status).toBe(!json ? 415 : same ? 200 : 401)
      }), { seed, numRuns: 100 })
      await expectHealthy(h)
    }))

  it("requests cut off mid-body, or lying about their length, do not take the receiver down", () =>
    withReceiver(1, async (h) => {
      const raw = (request: string | Uint8Array) =>
        new Promise<string>((resolve) => {
          const socket = connect(h.port, "127.0.0.1")
          let answer = ""
          socket.on("data", (chunk) => (answer += chunk.toString("latin1")))
          socket.on("close", () => resolve(answer))
          socket.on("error", () => resolve(answer))
          socket.setTimeout(2_000, () => socket.destroy())
          socket.end(request)
        })
      const body = JSON.stringify(payloads[0])
      const cut = fc.record({ sent: fc.nat({ max: body.length }), declared: fc.oneof(fc.nat({ max: body.length * 2 }), fc.constantFrom(-1, 1e20)), chunked: fc.boolean() })
      await fc.assert(fc.asyncProperty(cut, async ({ sent, declared, chunked }) => {
        const head = `POST ${Receiver.PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ${Signature.sign(APP_SECRET, utf8(body))}\r\n` +
          (chunked ? "Transfer-Encoding: chunked\r\n\r\n" + `${sent.toString(16)}\r\n${body.slice(0, sent)}` : `Content-Length: ${declared}\r\n\r\n${body.slice(0, sent)}`)
        const answer = await raw(head)
        const code = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)
        // No answer at all is fine for a request that never ended; an answer is never a 5xx.
        expect(code === 0 || (code >= 200 && code < 500)).toBe(true)
      }), { seed, numRuns: 30 })
      const bytes = utf8(body)
      expect((await post(h, bytes, signed(bytes))).status).toBe(200)
      await expectHealthy(h)
    }))

  it("deeply nested JSON in every place a payload has a value is 200 or 400, never a stack overflow", () =>
    withReceiver(1, async (h) => {
      const deep = `${"[".repeat(50_000)}${"]".repeat(50_000)}`
      const template = JSON.stringify(payloads[1])
      // Each value of a real payload in turn replaced by the deep array (written by hand: JSON.stringify would recurse).
      const values = [...template.matchAll(/:("[^"]*"|\d+|true|false|null)/g)]
      for (const match of values.slice(0, 12)) {
        const bytes = utf8(template.slice(0, match.index + 1) + deep + template.slice(match.index + match[0].length))
        const reply = await post(h, bytes, signed(bytes))
        expect(reply.status, match[1]).toBe(expectedFor(bytes))
      }
      const whole = utf8(deep)
      expect((await post(h, whole, signed(whole))).status).toBe(400)
      await expectHealthy(h)
    }))

  it("the verification handshake answers only the right token: random queries are 403, never an error", () =>
    withReceiver(1, async (h) => {
      const param = fc.oneof(fc.string(), fc.constantFrom("subscribe", "fuzz-verify-token", "1158201444", "%", "%ZZ", "&", "="))
      const query = fc.array(fc.tuple(fc.constantFrom("hub.mode", "hub.verify_token", "hub.challenge", "hub.mode[]", "x"), param), { maxLength: 5 })
      await fc.assert(fc.asyncProperty(query, async (pairs) => {
        const text = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")
        const response = await fetch(`${h.url}?${text}`)
        const params = new URLSearchParams(text)
        const ok = params.get("hub.mode") === "subscribe" && params.get("hub.verify_token") === "fuzz-verify-token" && params.get("hub.challenge") !== null
        expect(response.status).toBe(ok ? 200 : 403)
        if (ok) expect(await response.text()).toBe(params.get("hub.challenge"))
        else await response.text()
      }), { seed, numRuns: 100 })
    }))
})
