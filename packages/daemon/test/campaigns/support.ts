// A storage for the campaign operations' tests: the in-memory adapter (it passes the same conformance suite as
// PostgreSQL) seeded with account "shop", the seed's order_done and a few templates that cannot be used as is.
import { MemoryStorage } from "@megaphone/adapters"
import { type Ports, Template } from "@megaphone/core"
import { Effect, Result } from "effect"
import { account } from "../../../adapters/test/support/fixtures.ts"

export const T0 = new Date("2026-11-26T10:00:00.000Z")

const template = (fields: Record<string, unknown>): Template.Template =>
  Result.getOrThrow(Template.decode({ category: "UTILITY", status: "APPROVED", components: [], ...fields }))

/** The seed's order-confirmation template: three positional variables. */
export const orderDone = template({
  id: "1",
  name: "order_done",
  language: "cs",
  components: [{ type: "BODY", text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena." }]
})

/** A template with named parameters. */
export const promo = template({
  id: "6",
  name: "promo",
  language: "cs",
  parameter_format: "NAMED",
  components: [{
    type: "BODY",
    text: "Ahoj {{first_name}}, sleva {{discount}}.",
    example: { body_text_named_params: [{ param_name: "first_name", example: "Jana" }, { param_name: "discount", example: "20 %" }] }
  }]
})

/** A template with a header variable, a body variable and a URL button's suffix. */
export const shipping = template({
  id: "7",
  name: "shipping_update",
  language: "cs",
  components: [
    { type: "HEADER", format: "TEXT", text: "Zásilka {{1}}" },
    { type: "BODY", text: "Dobrý den, {{1}}, zásilka je na cestě." },
    { type: "BUTTONS", buttons: [{ type: "URL", text: "Sledovat", url: "https://shop.example/t/{{1}}" }] }
  ]
})

/**
 * Every template "shop" has: order_done (cs), welcome in two languages, spring_sale paused by Meta, plain (no
 * variables), promo (named parameters) and shipping_update (header, body and URL-button variables).
 */
export const templates: ReadonlyArray<Template.Template> = [
  orderDone,
  promo,
  shipping,
  template({ id: "2", name: "welcome", language: "cs", components: [{ type: "BODY", text: "Vítejte, {{1}}" }] }),
  template({ id: "3", name: "welcome", language: "en", components: [{ type: "BODY", text: "Welcome, {{1}}" }] }),
  template({ id: "4", name: "spring_sale", language: "cs", status: "PAUSED", components: [{ type: "BODY", text: "Sleva {{1}}" }] }),
  template({ id: "5", name: "plain", language: "cs", components: [{ type: "BODY", text: "Ahoj" }] })
]

/** A fresh in-memory storage with account "shop", its templates and three directory contacts. */
export const seeded: Effect.Effect<Ports.Storage.StorageShape, Ports.Storage.StorageError> = Effect.gen(function*() {
  const storage = yield* MemoryStorage.make
  const shop = yield* storage.saveAccount(account("shop"))
  yield* storage.syncTemplates(shop.wabaId, templates, T0)
  yield* storage.importDirectory([
    { phone: "+420601000001", columns: { city: "Praha", salutation: "pane", surname: "Novák", order: "1" } },
    { phone: "+420601000002", columns: { city: "Praha", salutation: "paní", surname: "Nová", order: "" } },
    { phone: "+420601000003", columns: { city: "Brno", salutation: "pane", surname: "Brněnský", order: "3" } }
  ], "update", T0)
  return storage
})

/** UTF-8 bytes of a CSV text. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
