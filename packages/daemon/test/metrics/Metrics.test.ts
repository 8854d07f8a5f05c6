// The Metrics service on the in-memory storage: what the daemon records, what a scrape reads from storage, and
// that the text is valid exposition format whatever happens (storage down, odd label values).
import { MemoryStorage } from "@megaphone/adapters"
import { Campaign, Ports } from "@megaphone/core"
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import * as Metrics from "../../src/metrics/Metrics.ts"
import { checkExposition, samples } from "./exposition.ts"

const HOUR = 60 * 60 * 1000

const account = (name: string, messagingLimit: number | "unlimited"): Ports.Storage.Account => ({
  name, phoneNumberId: `pn-${name}`, wabaId: "111", portfolioId: null, tokenEnv: "TOKEN", graphUrl: "http://127.0.0.1:1",
  graphVersion: "v23.0", displayPhoneNumber: null, messagingLimit, messagingTier: null, qualityRating: null, throughputMps: 80,
  throughputLevel: null, nameStatus: null, status: null, createdAt: new Date(0), updatedAt: new Date(0)
})

/** The value of the one sample named `name` whose labels include `labels`, or undefined. */
const valueOf = (text: string, name: string, labels: Record<string, string> = {}) =>
  samples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

describe("Metrics", () => {
  it("counts what the daemon records, per account, result and code; ignores empty and negative counts", async () => {
    const text = await run(Effect.gen(function*() {
      const m = yield* Metrics.make(yield* MemoryStorage.make)
      yield* m.recordSend("shop", "accepted")
      yield* m.recordSend("shop", "accepted", undefined, 4)
      yield* m.recordSend("shop", "failed", "131026", 2)
      yield* m.recordSend("shop", "failed", "131026", 0)
      yield* m.recordSend("shop", "failed", "131026", -3)
      yield* m.recordSend("other", "released")
      yield* m.recordRetryScheduled("shop", 2)
      yield* m.recordRetryScheduled("shop", 0)
      yield* m.recordWebhookStatuses(3, 2)
      yield* m.recordWebhookStatuses(1, [-5, Number.NaN])
      yield* m.recordRound("shop", { claimed: 5, reclaimed: 0 })
      yield* m.recordRound("shop", { claimed: 0, reclaimed: 2 })
      return yield* m.render
    }))
    expect(checkExposition(text)).toEqual([])
    expect(valueOf(text, "megaphone_sends_total", { account: "shop", result: "accepted", code: "" })).toBe(5)
    expect(valueOf(text, "megaphone_sends_total", { account: "shop", result: "failed", code: "131026" })).toBe(2)
    expect(valueOf(text, "megaphone_sends_total", { account: "other", result: "released" })).toBe(1)
    expect(valueOf(text, "megaphone_retries_scheduled_total", { account: "shop" })).toBe(2)
    expect(valueOf(text, "megaphone_webhook_statuses_total")).toBe(4)
    // 2 s, and the skewed −5 s as 0; NaN is no observation.
    expect(valueOf(text, "megaphone_webhook_lag_seconds_count")).toBe(2)
    expect(valueOf(text, "megaphone_webhook_lag_seconds_sum")).toBe(2)
    expect(valueOf(text, "megaphone_webhook_lag_seconds_bucket", { le: "0.1" })).toBe(1)
    expect(valueOf(text, "megaphone_dispatch_rounds_total", { account: "shop" })).toBe(2)
    expect(valueOf(text, "megaphone_contacts_claimed_total", { account: "shop" })).toBe(5)
    expect(valueOf(text, "megaphone_leases_reclaimed_total", { account: "shop" })).toBe(2)
  })

  it("shows the webhook series at zero before the first webhook, and keeps two services' counts apart", async () => {
    const [first, second] = await run(Effect.gen(function*() {
      const storage = yield* MemoryStorage.make
      const a = yield* Metrics.make(storage)
      const b = yield* Metrics.make(storage)
      yield* a.recordSend("shop", "accepted", undefined, 7)
      return [yield* a.render, yield* b.render] as const
    }))
    expect(valueOf(first, "megaphone_sends_total", { account: "shop" })).toBe(7)
    expect(valueOf(second, "megaphone_sends_total", { account: "shop" })).toBeUndefined()
    expect(valueOf(second, "megaphone_webhook_statuses_total")).toBe(0)
    expect(valueOf(second, "megaphone_webhook_lag_seconds_count")).toBe(0)
    expect(checkExposition(second)).toEqual([])
  })

  it("reads contacts by state, campaigns by state and quota from storage at each scrape", async () => {
    const text = await run(Effect.gen(function*() {
      const storage = yield* MemoryStorage.make
      const m = yield* Metrics.make(storage)
      const now = new Date()
      yield* storage.saveAccount(account("shop", 250))
      yield* storage.saveAccount(account("big", "unlimited"))
      const live = yield* storage.createCampaign({ name: "live", accountName: "shop", templateName: "t", language: "cs", note: null }, now)
      yield* storage.addCampaignContacts(live.id, [
        { phone: "+420601000001", recipient: "420601000001", parameters: {} },
        { phone: "+420601000002", recipient: "420601000002", parameters: {} },
        { phone: "x", recipient: null, parameters: {} }
      ], now)
      // One stopped an hour ago (still shown), one 25 hours ago (gone from the per-campaign series).
      for (const [name, endedAgo] of [["recent", HOUR], ["old", 25 * HOUR]] as const) {
        const c = yield* storage.createCampaign({ name, accountName: "shop", templateName: "t", language: "cs", note: null }, now)
        const stopped = Result.getOrThrow(Campaign.stop(c.lifecycle, new Date(now.getTime() - endedAgo)))
        yield* storage.updateCampaignLifecycle(c.id, "draft", stopped)
      }
      return yield* m.render
    }))
    expect(checkExposition(text)).toEqual([])
    expect(valueOf(text, "megaphone_campaign_contacts", { campaign: "1", state: "initial" })).toBe(2)
    expect(valueOf(text, "megaphone_campaign_contacts", { campaign: "1", state: "invalid_record" })).toBe(1)
    expect(valueOf(text, "megaphone_campaign_contacts", { campaign: "1", state: "delivered" })).toBe(0)
    expect(valueOf(text, "megaphone_campaign_contacts", { campaign: "2", state: "initial" })).toBe(0)
    expect(valueOf(text, "megaphone_campaign_contacts", { campaign: "3" })).toBeUndefined()
    expect(valueOf(text, "megaphone_campaigns", { state: "draft" })).toBe(1)
    expect(valueOf(text, "megaphone_campaigns", { state: "stopped" })).toBe(2)
    expect(valueOf(text, "megaphone_quota_used", { account: "shop", quota_key: "phone:pn-shop" })).toBe(0)
    expect(valueOf(text, "megaphone_quota_limit", { account: "shop" })).toBe(250)
    expect(valueOf(text, "megaphone_quota_limit", { account: "big" })).toBe(Number.POSITIVE_INFINITY)
    expect(text).toContain("megaphone_quota_limit{account=\"big\",quota_key=\"phone:pn-big\"} +Inf")
    expect(valueOf(text, "megaphone_storage_up")).toBe(1)
    expect(valueOf(text, "process_resident_memory_bytes")).toBeGreaterThan(0)
  })

  it("still answers when storage fails: counters kept, storage gauges left out, megaphone_storage_up 0", async () => {
    const text = await run(Effect.gen(function*() {
      const memory = yield* MemoryStorage.make
      yield* memory.saveAccount(account("shop", 250))
      const broken: Ports.Storage.StorageShape = {
        ...memory,
        quotaUsage: () => Effect.fail(new Ports.Storage.StorageError({ operation: "quotaUsage", message: "connection refused" }))
      }
      const m = yield* Metrics.make(broken)
      yield* m.recordSend("shop", "accepted")
      return yield* m.render
    }))
    expect(checkExposition(text)).toEqual([])
    expect(valueOf(text, "megaphone_storage_up")).toBe(0)
    expect(valueOf(text, "megaphone_sends_total", { account: "shop" })).toBe(1)
    // Read before the failure, but a half-read scrape would mislead: nothing from storage is shown.
    expect(valueOf(text, "megaphone_campaigns", { state: "draft" })).toBeUndefined()
  })
})

describe("the exposition checker", () => {
  it("accepts a valid text and names what a scraper would reject", () => {
    const valid = [
      "# HELP a_total Things.\\nMore.",
      "# TYPE a_total counter",
      "a_total{x=\"q\\\"uote\\\\ back\\nline\"} 1",
      "# TYPE h histogram",
      "h_bucket{le=\"1\"} 1",
      "h_bucket{le=\"+Inf\"} 2",
      "h_sum 3.5",
      "h_count 2",
      ""
    ].join("\n")
    expect(checkExposition(valid)).toEqual([])
    expect(samples(valid)[0]?.labels).toEqual({ x: "q\"uote\\ back\nline" })

    expect(checkExposition("a{x=\"un\"escaped\"} 1\n")).toEqual([expect.stringContaining("not a sample line")])
    expect(checkExposition("a 1")).toEqual(["the text does not end with a line break"])
    expect(checkExposition("a one\n")).toEqual([expect.stringContaining("not a sample line")])
    expect(checkExposition("a 1\nb 1\na 2\n")).toEqual([expect.stringContaining("family a appears again")])
    expect(checkExposition("a 1\n# TYPE a counter\n")).toEqual([expect.stringContaining("TYPE of a after its samples")])
    expect(checkExposition("# TYPE a counter\na -1\n")).toEqual([expect.stringContaining("negative")])
    expect(checkExposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"))
      .toEqual([expect.stringContaining("non-decreasing")])
    expect(checkExposition("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n")).toEqual([expect.stringContaining("+Inf")])
  })
})
