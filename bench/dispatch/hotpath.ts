/**
 * Where a daemon's CPU goes per message, part by part, in one process: the dispatcher's rounds (claim, sends at
 * their slots, outcomes) over the in-memory storage with a transport that answers at once; then the Cloud API
 * adapter alone against a trivial HTTP server in a worker thread (a fixed success body); then both together.
 * Nothing waits for a slot (the account's rate is far above what one process sends), so the figures are CPU
 * time per message of this process — the server's thread is not counted.
 *
 *   npx node bench/dispatch/hotpath.ts [--contacts 20000] [--rounds-of 500] [--only dispatcher|adapter|both] [--mps 100000]
 *   (--mps: the account's rate; a low one makes sends wait for their slots, to see what the waiting costs)
 */
import { createServer } from "node:http"
import { parseArgs } from "node:util"
import { isMainThread, parentPort, Worker } from "node:worker_threads"
import { CloudApiTransport, MemoryStorage } from "@megaphone/adapters"
import { Campaign, type Mapping, Ports, Template } from "@megaphone/core"
import { Effect, Layer, Redacted, Result, type Scope } from "effect"
import { dispatchOnce } from "../../packages/daemon/src/dispatch/Dispatcher.ts"
import { ORDER_DONE } from "../support/main.ts"

const ANSWER = JSON.stringify({ messaging_product: "whatsapp", contacts: [{ input: "420601000001", wa_id: "420601000001" }], messages: [{ id: "wamid.HBgMNDIwNjAxMDAwMDAxFQIAERgSQjE2" }] })

if (!isMainThread) {
  // The trivial Graph: every POST answered with the same accepted body.
  const server = createServer((request, response) => {
    request.resume()
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json" })
      response.end(ANSWER)
    })
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    parentPort?.postMessage(typeof address === "object" && address !== null ? address.port : 0)
  })
} else {
  const { values } = parseArgs({ options: { contacts: { type: "string" }, "rounds-of": { type: "string" }, only: { type: "string" }, mps: { type: "string" } } })
  const only = values.only
  const contacts = Number(values.contacts ?? 20_000)
  const roundSize = Number(values["rounds-of"] ?? 500)

  const worker = new Worker(new URL(import.meta.url))
  const port = await new Promise<number>((resolve) => worker.once("message", resolve))
  const graphUrl = `http://127.0.0.1:${port}`
  const template = Result.getOrThrow(Template.decode(ORDER_DONE))
  const now = () => new Date()
  const account: Ports.Storage.Account = {
    name: "hot", phoneNumberId: "106540352242922", wabaId: "102290129340398", portfolioId: null, tokenEnv: "HOT_TOKEN", graphUrl,
    graphVersion: "v23.0", displayPhoneNumber: "+420 601 000 001", messagingLimit: "unlimited", messagingTier: "TIER_UNLIMITED",
    qualityRating: "GREEN", throughputMps: Number(values.mps ?? 100_000), throughputLevel: "HIGH", nameStatus: null, status: "CONNECTED",
    createdAt: now(), updatedAt: now()
  }
  const instant: Ports.Transport.TransportShape = {
    sendTemplate: () => Effect.succeed({ wamid: `wamid.${Math.random().toString(36).slice(2)}`, waId: null, messageStatus: "accepted" }),
    listTemplates: () => Effect.succeed([]),
    phoneNumberInfo: () => Effect.die("not used")
  }

  const cpuMs = () => {
    const usage = process.cpuUsage()
    return (usage.user + usage.system) / 1_000
  }

  /** CPU ms per message of `contacts` messages dispatched in rounds of `roundSize` with `transport`. */
  const dispatchRun = (transport: Effect.Effect<Ports.Transport.TransportShape, never, Scope.Scope>) =>
    Effect.gen(function*() {
      const storage = yield* MemoryStorage.make
      yield* storage.saveAccount(account)
      yield* storage.syncTemplates(account.wabaId, [template], now())
      const created = yield* storage.createCampaign({ name: "hot", accountName: "hot", templateName: "order_done", language: "cs", note: null }, now())
      yield* storage.addCampaignContacts(created.id, Array.from({ length: contacts }, (_, i) => ({
        phone: `+420601${String(100_000 + i)}`, recipient: `420601${String(100_000 + i)}`, parameters: { 1: "pane", 2: `Novák ${i}`, 3: String(i) }
      })), now())
      const counts = yield* storage.campaignCounts(created.id)
      yield* storage.updateCampaignLifecycle(created.id, "draft", Result.getOrThrow(Campaign.start(created.lifecycle, counts, now())))
      const shape = yield* transport
      const layers = Layer.mergeAll(Layer.succeed(Ports.Storage.Storage, storage), Layer.succeed(Ports.Transport.Transport, shape))
      const before = cpuMs()
      const started = performance.now()
      let accepted = 0
      while (accepted < contacts) {
        const report = yield* dispatchOnce(account, Redacted.make("token"), { owner: "hot", claimLimit: roundSize, lateMs: 1_000, concurrency: 256 }).pipe(Effect.provide(layers))
        if (report.claimed === 0) break
        accepted += report.accepted
      }
      return { accepted, cpuMsPerMessage: (cpuMs() - before) / accepted, wallMs: performance.now() - started }
    }).pipe(Effect.scoped)

  /** CPU ms per send of the Cloud API adapter alone, 256 in flight. */
  const transportRun = Effect.gen(function*() {
    const shape = yield* CloudApiTransport.make()
    const sender: Ports.Transport.SenderCredentials = {
      phoneNumberId: account.phoneNumberId, wabaId: account.wabaId, graphUrl, graphVersion: "v23.0", accessToken: Redacted.make("token")
    }
    const payload: Mapping.TemplateMessagePayload = {
      messaging_product: "whatsapp", recipient_type: "individual", to: "420601000001", type: "template",
      template: { name: "order_done", language: { code: "cs", policy: "deterministic" }, components: [{ type: "body", parameters: [{ type: "text", text: "pane" }, { type: "text", text: "Novák" }, { type: "text", text: "1" }] }] }
    }
    // Warm the connections and the JIT first.
    yield* Effect.forEach(Array.from({ length: 2_000 }), () => shape.sendTemplate(sender, payload), { concurrency: 256 })
    const before = cpuMs()
    yield* Effect.forEach(Array.from({ length: contacts }), () => shape.sendTemplate(sender, payload), { concurrency: 256 })
    return (cpuMs() - before) / contacts
  }).pipe(Effect.scoped)

  const results = await Effect.runPromise(Effect.gen(function*() {
    yield* dispatchRun(Effect.succeed(instant)) // warm-up
    const skipped = { accepted: 0, cpuMsPerMessage: Number.NaN, wallMs: 1 }
    const dispatcher = only === undefined || only === "dispatcher" ? yield* dispatchRun(Effect.succeed(instant)) : skipped
    const adapter = only === undefined || only === "adapter" ? yield* transportRun : Number.NaN
    const both = only === undefined || only === "both" ? yield* dispatchRun(CloudApiTransport.make()) : skipped
    return { dispatcher, adapter, both }
  }))
  const f = (x: number) => x.toFixed(3)
  console.log(`contacts ${contacts}, rounds of ${roundSize}`)
  console.log(`dispatcher + memory storage, instant transport: ${f(results.dispatcher.cpuMsPerMessage)} ms CPU/message (${Math.round(results.dispatcher.accepted / results.dispatcher.wallMs * 1000)} msg/s)`)
  console.log(`Cloud API adapter alone (trivial server):       ${f(results.adapter)} ms CPU/message`)
  console.log(`dispatcher + memory storage + adapter:          ${f(results.both.cpuMsPerMessage)} ms CPU/message (${Math.round(results.both.accepted / results.both.wallMs * 1000)} msg/s)`)
  await worker.terminate()
}
