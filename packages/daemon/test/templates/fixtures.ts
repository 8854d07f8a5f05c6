// Shared set-up of the template tests: accounts on two WABAs, the seed's order-confirmation template, and
// campaigns in every state that matters, all in a fresh in-memory storage.
import { Campaign, Ports, Template } from "@megaphone/core"
import { Effect, Option, Result } from "effect"

type Storage = Ports.Storage.StorageShape
type Account = Ports.Storage.Account

/** The instant every test starts at. */
export const T0 = new Date("2026-11-26T10:00:00.000Z")
/** `ms` after T0. */
export const at = (ms: number): Date => new Date(T0.getTime() + ms)

/** An account on a WABA with room to send. */
export const account = (name: string, wabaId: string): Account => ({
  name,
  phoneNumberId: `10${name.length}${wabaId.length}`,
  wabaId,
  portfolioId: null,
  tokenEnv: "MEGAPHONE_ACCESS_TOKEN",
  graphUrl: "http://127.0.0.1:8789",
  graphVersion: "v23.0",
  displayPhoneNumber: null,
  messagingLimit: 250,
  messagingTier: "TIER_250",
  qualityRating: "GREEN",
  throughputMps: 80,
  throughputLevel: "STANDARD",
  nameStatus: null,
  status: "CONNECTED",
  createdAt: T0,
  updatedAt: T0
})

/** The seed's template: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena." */
export const orderDone = (overrides: Record<string, unknown> = {}): Template.Template =>
  Result.getOrThrow(Template.decode({
    id: "1689556908129832",
    name: "order_done",
    language: "cs",
    status: "APPROVED",
    category: "UTILITY",
    components: [{ type: "BODY", text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena." }],
    ...overrides
  }))

/** A campaign on `accountName` with two contacts, started (running) unless `draft`. */
export const campaign = (
  storage: Storage,
  accountName: string,
  options: { readonly template?: string; readonly language?: string; readonly draft?: boolean } = {}
) =>
  Effect.gen(function*() {
    const created = yield* storage.createCampaign({
      name: `${accountName} ${options.template ?? "order_done"} ${options.language ?? "cs"}`,
      accountName,
      templateName: options.template ?? "order_done",
      language: options.language ?? "cs",
      note: null
    }, T0)
    yield* storage.addCampaignContacts(created.id, [
      { phone: "+420601000001", recipient: "420601000001", parameters: { "1": "pane", "2": "Nováku", "3": "1" } },
      { phone: "+420601000002", recipient: "420601000002", parameters: { "1": "paní", "2": "Nová", "3": "2" } }
    ], T0)
    if (options.draft === true) return created
    const counts = yield* storage.campaignCounts(created.id)
    return yield* storage.updateCampaignLifecycle(created.id, "draft", Result.getOrThrow(Campaign.start(created.lifecycle, counts, T0)))
  })

/** The campaign's lifecycle as stored now. */
export const lifecycleOf = (storage: Storage, id: string) =>
  Effect.map(storage.getCampaign(id), (c) => Option.getOrThrow(c).lifecycle)

/** The template's status as stored now. */
export const statusOf = (storage: Storage, wabaId: string, name: string, language: string) =>
  Effect.map(storage.listTemplates(wabaId), (templates) =>
    templates.find((t) => t.template.name === name && t.template.language === language)?.template.status)
