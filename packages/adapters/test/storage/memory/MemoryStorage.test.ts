// The in-memory adapter's tricky parts: quota reservations across claims, release, lease reclaim, webhook
// matching, isolation of stored state, and claims racing on many fibers. The shared rules are in conformance.ts.
import { assert, describe, it } from "@effect/vitest"
import { Campaign, ContactState, Ports, RetryPolicy } from "@megaphone/core"
import { Effect, Option, Result } from "effect"
import * as MemoryStorage from "../../../src/storage/memory/MemoryStorage.ts"
import { account as suiteAccount } from "../conformance.ts"

type Storage = Ports.Storage.StorageShape
type Account = Ports.Storage.Account

const T0 = Date.UTC(2026, 10, 26, 10, 0, 0)
const SECOND = 1000
const at = (ms: number): Date => new Date(T0 + ms)

/** The suite's account fixture, named "shop". */
const account = (overrides: Partial<Account> = {}): Account => suiteAccount("shop", { createdAt: at(0), updatedAt: at(0), ...overrides })

const recipient = (n: number): string => `420601${String(n).padStart(6, "0")}`
const contact = (n: number): Ports.Storage.NewCampaignContact => ({
  phone: `+${recipient(n)}`,
  recipient: recipient(n),
  parameters: { "1": `Novák ${n}`, "2": `2024-${n}` }
})

/** A fresh store with one running campaign (on `acc`) holding contacts 1…n. */
const setUp = (acc: Account, n: number) =>
  Effect.gen(function*() {
    const storage = yield* MemoryStorage.make
    yield* storage.saveAccount(acc)
    const campaign = yield* running(storage, acc, "order confirmations")
    yield* storage.addCampaignContacts(campaign.id, Array.from({ length: n }, (_, i) => contact(i + 1)), at(0))
    return { storage, campaign }
  })

const running = (storage: Storage, acc: Account, name: string) =>
  Effect.gen(function*() {
    const draft = yield* storage.createCampaign(
      { name, accountName: acc.name, templateName: "order_done", language: "cs", note: null },
      at(0)
    )
    const started = Result.getOrThrow(Campaign.start(draft.lifecycle, { ...Campaign.emptyCounts, initial: 1 }, at(0)))
    return yield* storage.updateCampaignLifecycle(draft.id, "draft", started)
  })

const claim = (storage: Storage, acc: Account, nowMs: number, limit = 10, owner = "daemon-1") =>
  storage.claim({ account: acc, limit, leaseMs: 60 * SECOND, owner, now: at(nowMs) })

const recipientsOf = (result: Ports.Storage.ClaimResult) => result.claimed.map((c) => c.contact.recipient)

const progressOf = (storage: Storage, id: string) =>
  Effect.map(storage.getCampaignContact(id), (c) => Option.getOrThrow(c).progress)

const recipientError = { errorClass: "recipient", scope: "contact", code: "131026", text: "Message undeliverable" } as const

describe("MemoryStorage claims", () => {
  it.effect("a messaging limit of 2 holds across claims and is reported by quotaUsage", () =>
    Effect.gen(function*() {
      const acc = account({ messagingLimit: 2 })
      const { storage } = yield* setUp(acc, 5)
      const first = yield* claim(storage, acc, SECOND, 1)
      const second = yield* claim(storage, acc, 2 * SECOND, 10)
      assert.deepStrictEqual([...recipientsOf(first), ...recipientsOf(second)], [recipient(1), recipient(2)])
      assert.strictEqual(second.nextCapacity?.reason, "messaging_limit")
      const third = yield* claim(storage, acc, 60 * SECOND, 10)
      assert.deepStrictEqual(third.claimed, [])
      const usage = yield* storage.quotaUsage(acc, at(60 * SECOND))
      assert.deepStrictEqual([usage.used, usage.remaining], [2, 0])
      // Sends are recorded at their slots, so the first place frees 24 h after the first slot's minute ends.
      assert.isTrue(usage.nextFreeAt !== undefined && usage.nextFreeAt.getTime() > at(24 * 3600 * SECOND).getTime())
    }))

  it.effect("the pair limit holds the same recipient in a second campaign for 6 s, and the resend is free", () =>
    Effect.gen(function*() {
      const acc = account({ messagingLimit: 1 })
      const { storage } = yield* setUp(acc, 1)
      const other = yield* running(storage, acc, "reminders")
      yield* storage.addCampaignContacts(other.id, [contact(1)], at(0))
      const first = yield* claim(storage, acc, SECOND)
      assert.strictEqual(first.claimed.length, 1)
      const held = yield* claim(storage, acc, 4 * SECOND)
      assert.deepStrictEqual(held.claimed, [])
      assert.deepStrictEqual(held.nextCapacity, { reason: "pair_limit", at: at(7 * SECOND) })
      const later = yield* claim(storage, acc, 7 * SECOND)
      assert.deepStrictEqual(later.claimed.map((c) => c.contact.campaignId), [other.id])
      // The same recipient inside the window does not use a second place of the limit of 1.
      assert.strictEqual((yield* storage.quotaUsage(acc, at(8 * SECOND))).used, 1)
    }))

  it.effect("throughput slots continue across claims: the number's row is shared, not reset per claim", () =>
    Effect.gen(function*() {
      const acc = account({ throughputMps: 5 })
      const { storage } = yield* setUp(acc, 20)
      const first = yield* storage.claim({ account: acc, limit: 3, leaseMs: 60 * SECOND, owner: "d1", now: at(SECOND), horizonMs: 10 * SECOND })
      const second = yield* storage.claim({ account: acc, limit: 3, leaseMs: 60 * SECOND, owner: "d2", now: at(SECOND), horizonMs: 10 * SECOND })
      const offsets = [...first.claimed, ...second.claimed].map((c) => c.slot.getTime() - T0 - SECOND)
      assert.deepStrictEqual(offsets, [0, 200, 400, 600, 800, 1000])
      const full = yield* claim(storage, acc, SECOND)
      assert.deepStrictEqual(full.claimed, [])
      assert.deepStrictEqual(full.nextCapacity, { reason: "throughput", at: at(SECOND + 1200) })
    }))

  it.effect("a released reservation lets another new recipient in; an outcome without releaseQuota does not", () =>
    Effect.gen(function*() {
      const acc = account({ messagingLimit: 1 })
      const { storage } = yield* setUp(acc, 3)
      const [one] = (yield* claim(storage, acc, SECOND)).claimed
      assert.strictEqual(one?.contact.recipient, recipient(1))
      assert.deepStrictEqual((yield* claim(storage, acc, 2 * SECOND)).claimed, [])
      const failed = yield* storage.recordOutcomes([{
        contactId: one!.contact.id,
        event: { _tag: "AttemptFailed", error: recipientError, decision: { _tag: "GiveUp", reason: "final_for_contact" } },
        releaseQuota: true
      }], at(3 * SECOND))
      assert.deepStrictEqual(failed, { applied: 1, refused: [], unmatched: [] })
      assert.strictEqual((yield* storage.quotaUsage(acc, at(3 * SECOND))).used, 0)
      const [two] = (yield* claim(storage, acc, 4 * SECOND)).claimed
      assert.strictEqual(two?.contact.recipient, recipient(2))
      // Failed again, but the outcome may have reached Meta: the place stays taken.
      yield* storage.recordOutcomes([{
        contactId: two!.contact.id,
        event: { _tag: "AttemptFailed", error: recipientError, decision: { _tag: "GiveUp", reason: "final_for_contact" } }
      }], at(5 * SECOND))
      assert.deepStrictEqual((yield* claim(storage, acc, 6 * SECOND)).claimed, [])
      assert.strictEqual((yield* storage.quotaUsage(acc, at(6 * SECOND))).used, 1)
    }))

  it.effect("a release does not give back a place that a later send to the same recipient owns", () =>
    Effect.gen(function*() {
      const acc = account({ messagingLimit: 1 })
      const { storage } = yield* setUp(acc, 1)
      const other = yield* running(storage, acc, "reminders")
      yield* storage.addCampaignContacts(other.id, [contact(1)], at(0))
      const [first] = (yield* claim(storage, acc, SECOND)).claimed
      const [second] = (yield* claim(storage, acc, 8 * SECOND)).claimed
      assert.isDefined(second)
      yield* storage.recordOutcomes([{ contactId: first!.contact.id, event: { _tag: "Released" }, releaseQuota: true }], at(9 * SECOND))
      assert.strictEqual((yield* storage.quotaUsage(acc, at(9 * SECOND))).used, 1)
      yield* storage.recordOutcomes([{ contactId: second!.contact.id, event: { _tag: "Released" }, releaseQuota: true }], at(10 * SECOND))
      // The second claim recorded the first's slot as the previous send: restored, so still counted.
      assert.strictEqual((yield* storage.quotaUsage(acc, at(10 * SECOND))).used, 1)
    }))

  it.effect("an expired lease is reclaimed after its expiry only, keeps its reservation, and is resent after the grace", () =>
    Effect.gen(function*() {
      const acc = account({ messagingLimit: 1 })
      const { storage } = yield* setUp(acc, 2)
      const [one] = (yield* claim(storage, acc, SECOND)).claimed
      const lease = one!.contact.progress.leaseExpiresAt!
      assert.strictEqual(yield* storage.reclaimExpiredLeases(new Date(lease.getTime() - 1), RetryPolicy.defaultPolicy), 0)
      assert.strictEqual(yield* storage.reclaimExpiredLeases(lease, RetryPolicy.defaultPolicy), 1)
      const reclaimed = Option.getOrThrow(yield* storage.getCampaignContact(one!.contact.id))
      assert.strictEqual(reclaimed.progress.state, "retry_scheduled")
      assert.strictEqual(reclaimed.progress.lastError?.code, "outcome_unknown")
      assert.strictEqual(reclaimed.leaseOwner, null)
      assert.strictEqual((yield* storage.quotaUsage(acc, lease)).used, 1)
      const graceOver = lease.getTime() - T0 + RetryPolicy.defaultPolicy.unknownOutcomeGraceMs
      const resend = yield* claim(storage, acc, graceOver)
      // Contact 2 is a new recipient and the limit of 1 is used; the resend of contact 1 costs nothing.
      assert.deepStrictEqual(resend.claimed.map((c) => [c.contact.id, c.contact.progress.attempts]), [[one!.contact.id, 2]])
      assert.strictEqual(yield* storage.reclaimExpiredLeases(lease, RetryPolicy.defaultPolicy), 0)
    }))

  it.effect("four fibers claiming from 1,000 due contacts take distinct contacts, never more than the limit", () =>
    Effect.gen(function*() {
      const acc = account({ messagingLimit: 300 })
      const { storage, campaign } = yield* setUp(acc, 1000)
      const claimer = (owner: string) =>
        Effect.gen(function*() {
          const mine: Array<Ports.Storage.ClaimedContact> = []
          for (let round = 0; round < 40; round++) {
            yield* Effect.yieldNow
            const { claimed } = yield* claim(storage, acc, round * SECOND, 25, owner)
            mine.push(...claimed)
          }
          return mine
        })
      const results = yield* Effect.all(["d1", "d2", "d3", "d4"].map(claimer), { concurrency: "unbounded" })
      const ids = results.flat().map((c) => c.contact.id)
      assert.strictEqual(new Set(ids).size, ids.length)
      assert.strictEqual(ids.length, 300)
      // Every fiber got a share: the claims really interleaved.
      assert.isTrue(results.every((r) => r.length > 0))
      for (const [i, owner] of ["d1", "d2", "d3", "d4"].entries()) {
        for (const c of results[i] ?? []) {
          const stored = Option.getOrThrow(yield* storage.getCampaignContact(c.contact.id))
          assert.strictEqual(stored.leaseOwner, owner)
        }
      }
      assert.deepStrictEqual(yield* storage.campaignCounts(campaign.id), { ...Campaign.emptyCounts, initial: 700, in_progress: 300 })
      assert.strictEqual((yield* storage.quotaUsage(acc, at(60 * SECOND))).used, 300)
    }))
})

describe("MemoryStorage outcomes and webhooks", () => {
  it.effect("statuses match by wamid, else by the contact id from biz_opaque_callback_data", () =>
    Effect.gen(function*() {
      const acc = account()
      const { storage } = yield* setUp(acc, 2)
      const [one, two] = (yield* claim(storage, acc, SECOND)).claimed
      yield* storage.recordOutcomes([{ contactId: one!.contact.id, event: { _tag: "Accepted", wamid: "wamid.A", waId: null } }], at(2 * SECOND))
      const delivered = { _tag: "StatusReported", status: "delivered", at: at(5 * SECOND), wamid: "wamid.A" } as const
      const sentB = { _tag: "StatusReported", status: "sent", at: at(4 * SECOND), wamid: "wamid.B" } as const
      const result = yield* storage.applyStatuses([
        { wamid: "wamid.A", event: delivered },
        // The wamid of B was never stored (crash before the answer was recorded): matched by the contact id.
        { wamid: "wamid.B", contactId: two!.contact.id, event: sentB },
        { wamid: "wamid.C", event: { ...sentB, wamid: "wamid.C" } },
        { wamid: "wamid.D", contactId: "999999", event: { ...sentB, wamid: "wamid.D" } }
      ], at(6 * SECOND))
      assert.strictEqual(result.applied, 2)
      assert.deepStrictEqual(result.unmatched.map((r) => r.wamid), ["wamid.C", "wamid.D"])
      assert.strictEqual((yield* progressOf(storage, one!.contact.id)).state, "delivered")
      assert.deepStrictEqual(
        yield* Effect.map(progressOf(storage, two!.contact.id), (p) => [p.state, p.wamid]),
        ["sent", "wamid.B"]
      )
      // B is now known by its wamid; a failure after delivery is refused with the state machine's reason.
      const later = yield* storage.applyStatuses([
        { wamid: "wamid.B", event: { ...sentB, status: "read", at: at(9 * SECOND) } },
        { wamid: "wamid.A", event: { _tag: "FailureReported", error: recipientError, at: at(9 * SECOND), wamid: "wamid.A" } }
      ], at(10 * SECOND))
      assert.strictEqual(later.applied, 1)
      assert.deepStrictEqual(later.refused.map((r) => r.contactId), [one!.contact.id])
      assert.include(later.refused[0]?.reason ?? "", "cannot be real")
      assert.strictEqual((yield* progressOf(storage, two!.contact.id)).state, "read")
    }))

  it.effect("outcomes for unknown contacts are refused; a settled contact loses its lease owner", () =>
    Effect.gen(function*() {
      const acc = account()
      const { storage } = yield* setUp(acc, 1)
      const [one] = (yield* claim(storage, acc, SECOND)).claimed
      const result = yield* storage.recordOutcomes([
        { contactId: "424242", event: { _tag: "Released" } },
        { contactId: one!.contact.id, event: { _tag: "Accepted", wamid: "wamid.A", waId: recipient(1) } }
      ], at(2 * SECOND))
      assert.deepStrictEqual(result, { applied: 1, refused: [{ contactId: "424242", reason: "no such contact" }], unmatched: [] })
      const stored = Option.getOrThrow(yield* storage.getCampaignContact(one!.contact.id))
      assert.deepStrictEqual([stored.progress.state, stored.leaseOwner], ["sent", null])
    }))
})

describe("MemoryStorage isolation", () => {
  it.effect("callers cannot change stored state through what they passed or got back", () =>
    Effect.gen(function*() {
      const acc = account()
      const { storage, campaign } = yield* setUp(acc, 1)
      const [one] = (yield* claim(storage, acc, SECOND)).claimed
      one!.contact.progress.leaseExpiresAt!.setTime(0)
      ;(one!.contact.parameters as Record<string, string>)["1"] = "changed"
      const stored = Option.getOrThrow(yield* storage.getCampaignContact(one!.contact.id))
      assert.strictEqual(stored.progress.leaseExpiresAt?.getTime(), one!.slot.getTime() + 60 * SECOND)
      assert.strictEqual(stored.parameters["1"], "Novák 1")
      const columns: Record<string, string> = { name: "Anna" }
      yield* storage.importDirectory([{ phone: "+420601000001", columns }], "update", at(0))
      columns["name"] = "Eva"
      assert.deepStrictEqual((yield* storage.listDirectory(undefined, { limit: 1 }))[0]?.columns, { name: "Anna" })
      const counts = yield* storage.campaignCounts(campaign.id)
      assert.deepStrictEqual(counts, { ...Campaign.emptyCounts, in_progress: 1 })
      assert.deepStrictEqual(Campaign.emptyCounts, Object.fromEntries(ContactState.states.map((s) => [s, 0])))
    }))

  it.effect("each make is an independent, empty store", () =>
    Effect.gen(function*() {
      const { storage } = yield* setUp(account(), 3)
      const fresh = yield* MemoryStorage.make
      assert.deepStrictEqual(yield* fresh.listCampaigns(), [])
      assert.strictEqual((yield* storage.listCampaigns()).length, 1)
    }))
})
