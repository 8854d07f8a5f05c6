/**
 * One Transport for accounts of every provider: each call goes to the adapter of `sender.provider` — Meta's
 * Cloud API directly (absent or `meta`) or 360dialog. What the daemon provides, so an account's provider is the
 * only thing that decides how its requests travel (docs/providers.md).
 */
import { Ports } from "@megaphone/core"
import { Effect, Layer, type Scope } from "effect"
import * as Dialog360Transport from "./360dialog/Dialog360Transport.ts"
import * as CloudApiTransport from "./cloud-api/CloudApiTransport.ts"

/** How both adapters use the network. */
export type Options = CloudApiTransport.Options

/** A transport that picks the adapter per call from the sender's provider. */
export const make = (options: Options = {}): Effect.Effect<Ports.Transport.TransportShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const meta = yield* CloudApiTransport.make(options)
    const dialog360 = yield* Dialog360Transport.make(options)
    const of = (sender: Ports.Transport.SenderCredentials): Ports.Transport.TransportShape =>
      sender.provider === "360dialog" ? dialog360 : meta
    return {
      sendTemplate: (sender, payload) => of(sender).sendTemplate(sender, payload),
      listTemplates: (sender) => of(sender).listTemplates(sender),
      phoneNumberInfo: (sender) => of(sender).phoneNumberInfo(sender),
      registerWebhook: (sender, registration) => {
        const register = of(sender).registerWebhook
        return register === undefined
          ? Effect.fail(new Ports.Transport.TransportError({
            operation: "register_webhook",
            error: {
              errorClass: "auth",
              scope: "waba",
              code: "not_supported",
              text: "Meta direct has no webhook registration API: set the callback URL in the App Dashboard → WhatsApp → Configuration"
            }
          }))
          : register(sender, registration)
      }
    } satisfies Ports.Transport.TransportShape
  })

/** The provider-routing transport as the Transport service. */
export const layer = (options: Options = {}): Layer.Layer<Ports.Transport.Transport> =>
  Layer.effect(Ports.Transport.Transport, make(options))
