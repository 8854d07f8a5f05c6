/**
 * The SQLite adapter at work: a small campaign sent end to end on a database file by the daemon's own dispatcher,
 * then the file opened again — as a restarted daemon would — to read where every contact ended.
 *
 * The directory is imported and filtered, one person is on the suppression list, and a transport standing in for
 * Meta (in process) accepts every message but one; status webhooks then report deliveries and a read. Everything
 * Megaphone keeps along the way goes through `SqliteStorage.layer(file)`.
 *
 * Run: npx node examples/custom-storage/main.ts
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Campaign, ContactState, ErrorClass, Filter, Mapping, Phone, Ports, Template } from "@megaphone/core"
import { Dispatcher } from "@megaphone/daemon"
import { Cause, Clock, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Result } from "effect"
import * as SqliteStorage from "./SqliteStorage.ts"

const WABA_ID = "102290129340398"
const PHONE_NUMBER_ID = "106540352242922"
const ACCESS_TOKEN = Redacted.make("not-needed-by-the-stand-in")

// The seed's order confirmation, as Graph lists it.
const orderDone = Result.getOrThrow(Template.decode({
  id: "1689556908129832",
  name: "order_done",
  language: "cs",
  status: "APPROVED",
  category: "UTILITY",
  components: [{
    type: "BODY",
    text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena.",
    example: { body_text: [["pane", "Nováku", "2024-0001"]] }
  }]
}))

// The directory as an import brings it: a phone and named columns.
const people: ReadonlyArray<{ readonly phone: string; readonly columns: Readonly<Record<string, string>> }> = [
  { phone: "+420 601 123 456", columns: { salutation: "pane", surname: "Novák", city: "Praha", order: "2024-0042" } },
  { phone: "602 234 567", columns: { salutation: "paní", surname: "Svobodová", city: "Praha", order: "2024-0043" } },
  { phone: "+420 603 345 678", columns: { salutation: "", surname: "Dvořák", city: "Praha", order: "2024-0044" } },
  { phone: "+420 604 456 789", columns: { salutation: "paní", surname: "Černá", city: "Praha", order: "2024-0045" } },
  { phone: "+420 605 567 890", columns: { salutation: "pane", surname: "Král", city: "Brno", order: "2024-0046" } },
  { phone: "+420 606 678 901", columns: { salutation: "paní", surname: "Malá", city: "Praha", order: "2024-0047" } }
]
const mapping: Mapping.DirectoryMapping = {
  phoneColumn: "phone",
  variables: { 1: { column: "salutation", default: "pane" }, 2: { column: "surname" }, 3: { column: "order" } }
}
// Černá replied STOP to an earlier message; Meta refuses Dvořák's number (131026: not on WhatsApp).
const OPTED_OUT = "420604456789"
const UNDELIVERABLE = "420603345678"

// Where the campaign must end: Brno is filtered out; of the five in Praha one is read, one delivered, one only sent.
const expected: Partial<Record<ContactState.ContactStateId, number>> = {
  read: 1, delivered: 1, sent: 1, sending_failed: 1, invalid_record: 1
}

/** A transport standing in for Meta, in process: every send accepted but one, with Meta's own error for it. */
const standIn = (accepted: Array<{ readonly wamid: string; readonly to: string }>): Ports.Transport.TransportShape => ({
  sendTemplate: (_sender, payload) => {
    if (payload.to === UNDELIVERABLE) {
      const error = ErrorClass.classifyGraphError({ httpStatus: 400, body: { error: { code: 131026, message: "Message undeliverable" } } })
      return Effect.fail(new Ports.Transport.TransportError({ operation: "send", error }))
    }
    const wamid = `wamid.EXAMPLE${String(accepted.length + 1).padStart(4, "0")}`
    accepted.push({ wamid, to: payload.to })
    return Effect.succeed({ wamid, waId: payload.to, messageStatus: "accepted" })
  },
  listTemplates: () => Effect.succeed([orderDone]),
  phoneNumberInfo: () =>
    Effect.succeed({
      displayPhoneNumber: "+420 800 123 456", verifiedName: "Obchod", qualityRating: "GREEN", messagingLimitTier: "TIER_250",
      throughputLevel: "STANDARD", nameStatus: "APPROVED", status: "CONNECTED"
    })
})

/** Import the directory, pick Praha with a saved filter, and send them the order confirmation. */
const sendCampaign = (accepted: Array<{ readonly wamid: string; readonly to: string }>) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const now = new Date(yield* Clock.currentTimeMillis)

    const account = yield* storage.saveAccount({
      name: "shop", phoneNumberId: PHONE_NUMBER_ID, wabaId: WABA_ID, portfolioId: null, tokenEnv: "MEGAPHONE_ACCESS_TOKEN",
      graphUrl: "http://stand-in", graphVersion: "v23.0", displayPhoneNumber: "+420 800 123 456", messagingLimit: 250,
      messagingTier: "TIER_250", qualityRating: "GREEN", throughputMps: 80, throughputLevel: "STANDARD", nameStatus: "APPROVED",
      status: "CONNECTED", createdAt: now, updatedAt: now
    })
    yield* storage.syncTemplates(WABA_ID, [orderDone], now)

    // The directory is keyed by the normalised number.
    const imported = yield* storage.importDirectory(people.map((p) => ({
      phone: Result.getOrThrow(Phone.normalize(p.phone)).e164,
      columns: p.columns
    })), "update", now)
    const praha = yield* storage.createFilter("praha", Result.getOrThrow(Filter.parse(`city = "Praha"`)), now)
    const chosen = yield* storage.listDirectory(praha.filter, { limit: 100 })
    yield* storage.suppress([{ recipient: OPTED_OUT, reason: "replied STOP" }], now)
    console.log(`Directory: ${imported.inserted} contacts imported, ${chosen.length} match the saved filter ${praha.name}: ${Filter.print(praha.filter)}`)

    const valid = Mapping.validate(orderDone, mapping, ["phone", ...(yield* storage.directoryColumns())])
    if (Result.isFailure(valid)) return yield* Effect.die(valid.failure.message)
    const contacts = chosen.map((contact): Ports.Storage.NewCampaignContact => {
      const parameters = Result.getOrThrow(Mapping.resolve(orderDone, valid.success, { phone: contact.phone, ...contact.columns }))
      return {
        phone: contact.phone,
        recipient: Result.getOrThrow(Phone.normalize(contact.phone)).waId,
        parameters: Mapping.toRecord(parameters),
        directoryContactId: contact.id
      }
    })
    const created = yield* storage.createCampaign(
      { name: "order confirmations", accountName: account.name, templateName: "order_done", language: "cs", note: null },
      now
    )
    const added = yield* storage.addCampaignContacts(created.id, contacts, now)
    const started = Campaign.start(created.lifecycle, yield* storage.campaignCounts(created.id), now)
    if (Result.isFailure(started)) return yield* Effect.die(started.failure.message)
    yield* storage.updateCampaignLifecycle(created.id, "draft", started.success)
    console.log(`Campaign "${created.name}" started with ${added.added} contacts (${added.suppressed} on the suppression list)`)

    // The daemon's dispatcher for the account, until a round reports the campaign finished. A send later than
    // `lateMs` after its slot is handed back unsent; a busy machine (a test run alongside) must not make that happen.
    const finished = yield* Deferred.make<void>()
    const options: Dispatcher.DispatchOptions = { owner: "custom-storage-example", idleMs: 100, lateMs: 1_000 }
    const dispatcher = yield* Effect.forkChild(Dispatcher.run(account, ACCESS_TOKEN, options, {
      stopping: finished,
      onRound: (report) => {
        if (report.claimed > 0) console.log(`Round: ${report.claimed} claimed, ${report.accepted} accepted`)
        if (report.finishedCampaigns.includes(created.id)) Deferred.doneUnsafe(finished, Effect.void)
      }
    }))
    const done = yield* Deferred.await(finished).pipe(Effect.timeoutOption(Duration.seconds(20)))
    if (Option.isNone(done)) return yield* Effect.die("the campaign did not finish within 20 s")
    yield* Fiber.join(dispatcher)

    // Meta's status webhooks, as the receiver hands them over: two deliveries and a read (out of order, too).
    const later = new Date(yield* Clock.currentTimeMillis)
    const report = (to: string, status: "delivered" | "read"): Ports.Storage.StatusReport => {
      const wamid = accepted.find((message) => message.to === to)?.wamid ?? "wamid.never-sent"
      return { wamid, event: { _tag: "StatusReported", status, at: later, wamid } }
    }
    const statuses = yield* storage.applyStatuses(
      [report("420601123456", "read"), report("420601123456", "delivered"), report("420602234567", "delivered")],
      later
    )
    console.log(`Webhooks: ${statuses.applied} applied, ${statuses.refused.length} refused, ${statuses.unmatched.length} unmatched`)
    return created.id
  })

/** Read the campaign back from the file, print where each contact ended, and check the counts. */
const reportCampaign = (campaignId: string) =>
  Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const campaign = Option.getOrThrow(yield* storage.getCampaign(campaignId))
    const contacts = yield* storage.listCampaignContacts(campaignId, undefined, { limit: 100 })
    console.log(`\n${"phone".padEnd(16)}${"state".padEnd(16)}wamid or last error`)
    for (const c of contacts) {
      console.log(`${c.phone.padEnd(16)}${c.progress.state.padEnd(16)}${c.progress.wamid ?? c.progress.lastError?.text ?? ""}`)
    }
    const counts = yield* storage.campaignCounts(campaignId)
    const nonZero = ContactState.states.filter((state) => counts[state] > 0)
    console.log(`\nCampaign: ${Campaign.describe(campaign.lifecycle)}; ${nonZero.map((state) => `${counts[state]} ${state}`).join(", ")}`)
    const wrong = ContactState.states.filter((state) => counts[state] !== (expected[state] ?? 0))
    if (wrong.length > 0) {
      return yield* Effect.fail(`unexpected counts: ${wrong.map((state) => `${counts[state]} ${state}, expected ${expected[state] ?? 0}`).join("; ")}`)
    }
  })

const directory = mkdtempSync(join(tmpdir(), "megaphone-custom-storage-"))
const file = join(directory, "megaphone.db")
console.log(`Database: ${file} (removed when the example ends)`)
const accepted: Array<{ readonly wamid: string; readonly to: string }> = []
const transport = Layer.succeed(Ports.Transport.Transport, standIn(accepted))

const exit = await Effect.runPromiseExit(Effect.gen(function*() {
  const campaignId = yield* sendCampaign(accepted).pipe(Effect.provide(Layer.merge(SqliteStorage.layer(file), transport)))
  // The first layer closed the database; a new one reads what is on disk, as a restarted daemon would.
  yield* reportCampaign(campaignId).pipe(Effect.provide(SqliteStorage.layer(file)))
}))
rmSync(directory, { recursive: true, force: true })
if (Exit.isFailure(exit)) {
  console.error(Cause.pretty(exit.cause))
  process.exitCode = 1
}
