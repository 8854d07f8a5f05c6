/**
 * A custom transport behind Megaphone's Transport port: RelayTransport.ts talks to "Relay", a hypothetical
 * business solution provider with its own URL shape, headers and answers (a stand-in of it runs on loopback,
 * FakeRelay.ts). Wired with the in-memory storage and the daemon's own dispatcher, one process sends a small
 * campaign end to end — the account read and the templates synced through the transport, one contact accepted
 * after Relay was busy, one refused by Meta, one with an invalid number — and prints each contact's final state.
 *
 * Run: npx node examples/custom-transport/main.ts
 */
import { MemoryStorage } from "@megaphone/adapters"
import { Campaign, type ContactState, Mapping, Phone, Ports, Quota, type RetryPolicy } from "@megaphone/core"
import { Dispatcher, TemplateSync } from "@megaphone/daemon"
import { Cause, Clock, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Result } from "effect"
import { startRelay } from "./FakeRelay.ts"
import * as RelayTransport from "./RelayTransport.ts"

const PHONE_NUMBER_ID = "106540352242922"
const WABA_ID = "102290129340398"
// In the daemon an account names the environment variable holding its token (tokenEnv); here we hold it.
const RELAY_KEY = Redacted.make("relay-example-key")

// The seed's order confirmation, as Relay lists it (Graph's template JSON), with two more templates so the
// transport has to follow Relay's page cursor.
const graphTemplate = (id: string, name: string, text: string, example: ReadonlyArray<string>) => ({
  id, name, language: "cs", status: "APPROVED", category: "UTILITY",
  components: [{ type: "BODY", text, example: { body_text: [example] } }]
})
const templates = [
  graphTemplate("1001", "order_done", "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena.", ["pane", "Nováku", "2024-0001"]),
  graphTemplate("1002", "order_shipped", "Objednávka č. {{1}} je na cestě.", ["2024-0001"]),
  graphTemplate("1003", "pickup_ready", "Objednávka č. {{1}} čeká na vyzvednutí.", ["2024-0001"])
]

// The campaign's contacts as an import would bring them: a phone column and named columns.
const records: ReadonlyArray<Readonly<Record<string, string>>> = [
  { phone: "+420 601 123 456", salutation: "pane", surname: "Novák", order: "2024-0042" },
  { phone: "602 234 567", salutation: "paní", surname: "Svobodová", order: "2024-0043" },
  { phone: "+420 603 345 678", salutation: "", surname: "Dvořák", order: "2024-0044" },
  { phone: "+420 123 456 789", salutation: "pane", surname: "Černý", order: "2024-0045" },
  { phone: "00420 604 456 789", salutation: "paní", surname: "Černá", order: "2024-0046" }
]
const mapping: Mapping.DirectoryMapping = {
  phoneColumn: "phone",
  variables: { 1: { column: "salutation", default: "pane" }, 2: { column: "surname" }, 3: { column: "order" } }
}

// What Relay answers to the first sends of two recipients (by wa_id); every other send is accepted.
const script = {
  // Relay is busy once: a transient failure, so the contact is retried.
  "420602234567": [{ kind: "busy" as const }],
  // Meta refuses the recipient and Relay passes Meta's code on: final for this contact.
  "420603345678": [{
    kind: "meta" as const, status: 400, metaCode: 131026, title: "Message undeliverable",
    details: "The recipient phone number is not a WhatsApp phone number."
  }]
}

// The production rules with short waits, so the busy contact's retry comes within a second.
const policy: RetryPolicy.RetryPolicy = {
  maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 1_000, rateLimitedBaseDelayMs: 200, unknownOutcomeGraceMs: 2_000, onUnknownOutcome: "retry"
}

const pad = (text: string, width: number): string => text.padEnd(width)

/** The line printed for one contact's final state. */
const describeContact = (contact: Ports.Storage.CampaignContact): string => {
  const progress: ContactState.ContactProgress = contact.progress
  const detail = progress.wamid ?? progress.lastError?.text ?? ""
  return `${pad(contact.phone, 20)}${pad(progress.state, 16)}${pad(String(progress.attempts), 10)}${detail}`
}

/** The line printed for a dispatch round that sent something. */
const describeRound = (report: Dispatcher.RoundReport): string => {
  const failed = Object.entries(report.failed).filter(([, n]) => n > 0).map(([errorClass, n]) => `${n} ${errorClass}`)
  return `Round: ${report.claimed} claimed, ${report.accepted} accepted` +
    (failed.length === 0 ? "" : `, failed: ${failed.join(", ")}`) +
    (report.retriesScheduled === 0 ? "" : `, ${report.retriesScheduled} retry scheduled (after the pair limit: one message per recipient per ${Quota.PAIR_SPACING_MS / 1_000} s)`)
}

const program = Effect.gen(function*() {
  const relay = yield* Effect.acquireRelease(
    Effect.promise(() => startRelay({ key: Redacted.value(RELAY_KEY), phoneNumberId: PHONE_NUMBER_ID, wabaId: WABA_ID, templates, script })),
    (running) => Effect.promise(() => running.close())
  )
  const storage = yield* Ports.Storage.Storage
  const transport = yield* Ports.Transport.Transport
  const now = new Date(yield* Clock.currentTimeMillis)

  // 1. The account, as Relay reports the number (the same call `megaphone accounts add` makes).
  const sender: Ports.Transport.SenderCredentials = {
    phoneNumberId: PHONE_NUMBER_ID, wabaId: WABA_ID, accessToken: RELAY_KEY, graphUrl: relay.url, graphVersion: "v1"
  }
  const info = yield* transport.phoneNumberInfo(sender)
  const account = yield* storage.saveAccount({
    name: "shop",
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: WABA_ID,
    portfolioId: null,
    tokenEnv: "RELAY_KEY",
    graphUrl: relay.url,
    graphVersion: "v1",
    displayPhoneNumber: info.displayPhoneNumber,
    messagingLimit: Result.getOrElse(Quota.parseMessagingTier(info.messagingLimitTier ?? "TIER_250"), () => 250),
    messagingTier: info.messagingLimitTier,
    qualityRating: info.qualityRating,
    throughputMps: Quota.throughputFor({ level: info.throughputLevel ?? undefined }),
    throughputLevel: info.throughputLevel,
    nameStatus: info.nameStatus,
    status: info.status,
    createdAt: now,
    updatedAt: now
  })
  console.log(`Account ${account.name}: ${info.displayPhoneNumber} (${info.verifiedName ?? "unnamed"}), ${info.messagingLimitTier ?? "no tier"}, ` +
    `${account.throughputMps} msg/s, through Relay at ${relay.url}`)

  // 2. Templates, through the transport (all of Relay's pages) into the storage: the daemon's own sync.
  const synced = yield* TemplateSync.syncTemplates(account, RELAY_KEY)
  console.log(`Templates synced: ${synced.added} added, ${synced.problems.length} with problems`)
  const orderDone = (yield* storage.listTemplates(WABA_ID)).find((t) => t.template.name === "order_done")?.template
  if (orderDone === undefined) return yield* Effect.die("order_done was not synced")

  // 3. A campaign with the contacts: the mapping checked once, then each contact's phone and values.
  const valid = Mapping.validate(orderDone, mapping, Object.keys(records[0] ?? {}))
  if (Result.isFailure(valid)) return yield* Effect.die(valid.failure.message)
  const contacts = records.map((row): Ports.Storage.NewCampaignContact => {
    const phone = row[mapping.phoneColumn] ?? ""
    const normalized = Phone.normalize(phone)
    // A number nobody can receive is kept as invalid_record, with the reason, and never sent.
    if (Result.isFailure(normalized)) {
      return { phone, recipient: null, parameters: {}, invalid: { code: "invalid_phone", text: normalized.failure.message } }
    }
    const parameters = Mapping.resolve(orderDone, valid.success, row)
    if (Result.isFailure(parameters)) {
      return { phone, recipient: null, parameters: {}, invalid: { code: "invalid_values", text: parameters.failure.message } }
    }
    return { phone, recipient: normalized.success.waId, parameters: Mapping.toRecord(parameters.success) }
  })
  const created = yield* storage.createCampaign({ name: "order confirmations", accountName: account.name, templateName: "order_done", language: "cs", note: null }, now)
  const added = yield* storage.addCampaignContacts(created.id, contacts, now)
  const started = Campaign.start(created.lifecycle, yield* storage.campaignCounts(created.id), now)
  if (Result.isFailure(started)) return yield* Effect.die(started.failure.message)
  yield* storage.updateCampaignLifecycle(created.id, "draft", started.success)
  console.log(`Campaign "${created.name}" started with ${added.added} contacts (${added.invalid} invalid)`)

  // 4. The daemon's dispatcher for the account, until a round reports the campaign finished.
  const finished = yield* Deferred.make<void>()
  const dispatcher = yield* Effect.forkChild(Dispatcher.run(account, RELAY_KEY, { owner: "custom-transport-example", policy, idleMs: 100 }, {
    stopping: finished,
    onRound: (report) => {
      if (report.claimed > 0) console.log(describeRound(report))
      if (report.finishedCampaigns.includes(created.id)) Deferred.doneUnsafe(finished, Effect.void)
    }
  }))
  const done = yield* Deferred.await(finished).pipe(Effect.timeoutOption(Duration.seconds(30)))
  if (Option.isNone(done)) return yield* Effect.die("the campaign did not finish within 30 s")
  yield* Fiber.join(dispatcher)

  // 5. Where every contact ended, and what Relay saw.
  const campaign = yield* storage.getCampaign(created.id)
  const settled = yield* storage.listCampaignContacts(created.id, undefined, { limit: 100 })
  console.log(`\n${pad("phone", 20)}${pad("state", 16)}${pad("attempts", 10)}wamid or last error`)
  for (const contact of settled) console.log(describeContact(contact))
  console.log(`\nCampaign: ${Option.match(campaign, { onNone: () => "gone", onSome: (c) => Campaign.describe(c.lifecycle) })}`)
  console.log(`Relay received ${relay.received.length} sends: ${relay.received.map((r) => `${r.to} → ${r.status}`).join(", ")}`)
})

const exit = await Effect.runPromiseExit(program.pipe(
  Effect.scoped,
  Effect.provide(Layer.mergeAll(MemoryStorage.layer, RelayTransport.layer({ timeoutMs: 5_000 })))
))
if (Exit.isFailure(exit)) {
  console.error(Cause.pretty(exit.cause))
  process.exitCode = 1
}
