import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { TestClock } from "effect/testing"
import * as Clock from "../../src/ports/Clock.ts"
import * as Transport from "../../src/ports/Transport.ts"

describe("Clock port", () => {
  it.effect("reads time from Effect's Clock, so TestClock controls it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 10, 26, 10, 0, 0))
      assert.deepStrictEqual(yield* Clock.now, new Date("2026-11-26T10:00:00Z"))
      yield* TestClock.adjust("25 hours")
      assert.deepStrictEqual(yield* Clock.now, new Date("2026-11-27T11:00:00Z"))
    }))
})

describe("Transport port", () => {
  it.effect("a layer provides the service; errors carry the classified failure and never the token", () =>
    Effect.gen(function*() {
      const sender: Transport.SenderCredentials = {
        phoneNumberId: "106540352242922",
        wabaId: "102290129340398",
        accessToken: Redacted.make("EAAG-secret-token"),
        graphUrl: "http://127.0.0.1:8789",
        graphVersion: "v23.0"
      }
      const failing = Transport.Transport.of({
        sendTemplate: () => Effect.fail(new Transport.TransportError({
          operation: "send",
          error: { errorClass: "auth", scope: "waba", code: "190", text: "(#190) Access token expired" }
        })),
        listTemplates: () => Effect.succeed([]),
        phoneNumberInfo: () => Effect.die("not used")
      })
      const send = Effect.gen(function*() {
        const transport = yield* Transport.Transport
        return yield* transport.sendTemplate(sender, {
          messaging_product: "whatsapp",
          recipient_type: "individual",
          to: "420601123456",
          type: "template",
          template: { name: "order_done", language: { code: "cs", policy: "deterministic" }, components: [] }
        })
      })
      const error = yield* Effect.flip(send.pipe(Effect.provideService(Transport.Transport, failing)))
      assert.strictEqual(error.message, "send failed: (#190) Access token expired")
      assert.strictEqual(error.error.errorClass, "auth")
      assert.notInclude(JSON.stringify(sender), "EAAG-secret-token")
      assert.notInclude(String(sender.accessToken), "EAAG-secret-token")
    }))
})
