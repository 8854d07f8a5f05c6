// Issue 5's acceptance, end to end over real HTTP: a template paused through the simulator's control endpoint
// reaches the receiver as Meta's signed webhook and pauses the running campaign with a reason a person
// understands; reinstating the template resumes it.
import { readFile } from "node:fs/promises"
import { createServer } from "node:http"
import { join } from "node:path"
import { NodeHttpServer } from "@effect/platform-node"
import { Campaign, Ports } from "@megaphone/core"
import { Effect, Layer, Option, Redacted, Result } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { expect, it } from "vitest"
import * as MemoryStorage from "../../../adapters/src/storage/memory/MemoryStorage.ts"
import * as CloudApiTransport from "../../../adapters/src/transport/cloud-api/CloudApiTransport.ts"
import type { SimulatorConfigInput } from "../../../adapters/src/transport/simulator/Config.ts"
import * as Simulator from "../../../adapters/src/transport/simulator/Simulator.ts"
import * as TemplateSync from "../../src/templates/TemplateSync.ts"
import * as Receiver from "../../src/webhook/Receiver.ts"

const APP_SECRET = "e2e-app-secret"
const examplePath = join(import.meta.dirname, "..", "..", "..", "..", "examples", "simulator", "simulator.json")

/** Poll storage until `done` holds (the webhook arrives asynchronously), for at most 10 s. */
const eventually = <A>(read: Effect.Effect<A, unknown>, done: (a: A) => boolean): Effect.Effect<A, unknown> =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      const value = yield* read
      if (done(value)) return value
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.fail(new Error("condition not reached within 10 s"))
  })

it("a template paused through the simulator pauses the running campaign with the reason, and reinstating resumes it", async () => {
  const example = JSON.parse(await readFile(examplePath, "utf8")) as { webhook: Record<string, unknown> }
  const receiverApp = HttpRouter.serve(Receiver.routes, { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(Receiver.layer({
      appSecret: Redacted.make(APP_SECRET),
      verifyToken: Redacted.make("verify"),
      log: () => undefined
    })),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(MemoryStorage.layer),
    Layer.provideMerge(CloudApiTransport.layer({}))
  )
  const program = Effect.gen(function*() {
    const address = (yield* HttpServer.HttpServer).address
    if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
    const simulator = yield* Simulator.start({
      ...example,
      webhook: { ...example.webhook, url: `http://127.0.0.1:${address.port}${Receiver.PATH}`, appSecret: APP_SECRET }
    } as SimulatorConfigInput)
    const storage = yield* Ports.Storage.Storage
    const now = new Date()
    const account = yield* storage.saveAccount({
      name: "shop", phoneNumberId: "106540352242922", wabaId: "102290129340398", portfolioId: null,
      tokenEnv: "MEGAPHONE_ACCESS_TOKEN", graphUrl: simulator.url, graphVersion: "v23.0", displayPhoneNumber: null,
      messagingLimit: 2000, messagingTier: "TIER_2K", qualityRating: "GREEN", throughputMps: 80,
      throughputLevel: "STANDARD", nameStatus: "APPROVED", status: "CONNECTED", createdAt: now, updatedAt: now
    })
    yield* TemplateSync.syncTemplates(account, Redacted.make("simulator-token"))
    const draft = yield* storage.createCampaign({ name: "Objednávky", accountName: "shop", templateName: "order_done", language: "cs", note: null }, now)
    yield* storage.addCampaignContacts(draft.id, [{ phone: "+420601123456", recipient: "420601123456", parameters: { "1": "pane", "2": "Novák", "3": "2024-0042" } }], now)
    const counts = yield* storage.campaignCounts(draft.id)
    yield* storage.updateCampaignLifecycle(draft.id, "draft", Result.getOrThrow(Campaign.start(draft.lifecycle, counts, now)))

    const control = (event: string) =>
      Effect.promise(() => fetch(`${simulator.url}/_simulator/template-status`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "order_done", language: "cs", event })
      })).pipe(Effect.map((response) => response.status))

    expect(yield* control("PAUSED")).toBe(200)
    const paused = yield* eventually(
      Effect.map(storage.getCampaign(draft.id), Option.getOrThrow),
      (c) => c.lifecycle.state === "paused"
    )
    expect(paused.lifecycle.pauseReason).toMatchObject({ _tag: "System", kind: "template_unusable" })
    expect(Campaign.describe(paused.lifecycle)).toMatch(/^Paused: Template order_done is paused by Meta for low quality/)
    const stored = (yield* storage.listTemplates("102290129340398")).find((t) => t.template.name === "order_done")
    expect(stored?.template.status).toBe("PAUSED")

    expect(yield* control("REINSTATED")).toBe(200)
    const resumed = yield* eventually(
      Effect.map(storage.getCampaign(draft.id), Option.getOrThrow),
      (c) => c.lifecycle.state === "running"
    )
    expect(resumed.lifecycle.pauseReason).toBeNull()
  })
  await Effect.runPromise(Effect.scoped(Effect.provide(program, receiverApp)) as Effect.Effect<void>)
}, 30_000)
