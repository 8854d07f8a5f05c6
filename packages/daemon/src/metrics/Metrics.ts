/**
 * What `/metrics` shows (Prometheus text exposition format 0.0.4), in two parts:
 *
 * - counters this process keeps, which the dispatcher and the webhook receiver feed through the {@link Metrics}
 *   service: sends by account, result and error code; retries scheduled; webhook statuses and their lag;
 * - gauges read from storage at scrape time: contacts by state per campaign, campaigns by state, each account's
 *   rolling-24 h quota use and limit — the same for every daemon sharing the database.
 *
 * Rendering is Effect's own Prometheus exporter (`effect/observability/PrometheusMetrics`) over a metric registry
 * that belongs to this service, so nothing else registered in the process leaks in, and two services (two tests)
 * never share counts. Labels carry names and codes only, never a token or a phone number.
 */
import { Campaign, ContactState, Ports } from "@megaphone/core"
import { Clock, Context, Effect, Layer, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"

/** How a claimed send ended: Meta accepted it, it failed (with Meta's error code), or it was handed back unsent. */
export type SendResult = "accepted" | "failed" | "released"

/** What one dispatch round did, for the round counters. */
export interface RoundCounts {
  readonly claimed: number
  /** Contacts whose expired lease was handed to the retry policy. */
  readonly reclaimed: number
}

/** Why the webhook receiver refused a delivery (the `reason` label of `megaphone_webhook_rejected_total`). */
export type WebhookRejection = (typeof webhookRejections)[number]

const webhookRejections = ["bad_signature", "bad_shared_secret", "malformed", "too_large", "unsupported_media_type"] as const

/** The in-process counters and the scrape-time rendering. */
export interface MetricsShape {
  /** Count `count` (default 1) sends of `account` that ended with `result`; `code` is Meta's error code for failures. */
  readonly recordSend: (account: string, result: SendResult, code?: string, count?: number) => Effect.Effect<void>
  /** Count `n` contacts of `account` whose next attempt was scheduled (a retry). */
  readonly recordRetryScheduled: (account: string, n: number) => Effect.Effect<void>
  /**
   * Count `n` status webhooks received, and observe each lag in seconds (now − the status's own timestamp) in
   * the lag histogram.
   */
  readonly recordWebhookStatuses: (n: number, lagSeconds?: number | ReadonlyArray<number>) => Effect.Effect<void>
  /** Count a webhook delivery the receiver refused, by why (a rising bad_signature rate: a wrong app secret, or a probe). */
  readonly recordWebhookRejected: (reason: WebhookRejection) => Effect.Effect<void>
  /** Count one dispatch round of `account` and what it claimed and reclaimed. */
  readonly recordRound: (account: string, round: RoundCounts) => Effect.Effect<void>
  /** The exposition text: the counters, then the gauges read from storage now. */
  readonly render: Effect.Effect<string>
}

/** The metrics service: provide {@link layer} once per daemon, outside the HTTP servers, so every part shares it. */
export class Metrics extends Context.Service<Metrics, MetricsShape>()("megaphone/Metrics") {}

// ---------------------------------------------------------------------------------------------------------
// The series

const sends = Metric.counter("megaphone_sends_total", {
  description: "Sends that ended, by account, result (accepted, failed, released) and Meta error code (empty unless failed).",
  incremental: true
})
const retries = Metric.counter("megaphone_retries_scheduled_total", {
  description: "Contacts given a next attempt by the retry policy, by account.",
  incremental: true
})
const webhookStatuses = Metric.counter("megaphone_webhook_statuses_total", {
  description: "Message status webhooks received (sent, delivered, read, failed).",
  incremental: true
})
/** Seconds from Meta's status timestamp to its arrival: 100 ms up to an hour. */
const LAG_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]
const webhookRejected = Metric.counter("megaphone_webhook_rejected_total", {
  description: "Webhook deliveries refused, by reason (bad_signature, bad_shared_secret, malformed, too_large, unsupported_media_type).",
  incremental: true
})
const webhookLag = Metric.histogram("megaphone_webhook_lag_seconds", {
  description: "Seconds between a status's own timestamp and its arrival at the webhook receiver.",
  boundaries: LAG_BUCKETS
})
const rounds = Metric.counter("megaphone_dispatch_rounds_total", {
  description: "Dispatch rounds run, by account.",
  incremental: true
})
const claimed = Metric.counter("megaphone_contacts_claimed_total", {
  description: "Contacts claimed for sending, by account.",
  incremental: true
})
const reclaimed = Metric.counter("megaphone_leases_reclaimed_total", {
  description: "Contacts whose lease expired (their daemon died mid-send) and went back to the retry policy, by account.",
  incremental: true
})

const campaignContacts = Metric.gauge("megaphone_campaign_contacts", {
  description: "Contacts of a campaign in each state (campaigns not ended, or ended within 24 h)."
})
const campaigns = Metric.gauge("megaphone_campaigns", { description: "Campaigns in each state." })
const quotaUsed = Metric.gauge("megaphone_quota_used", {
  description: "Unique recipients messaged in the rolling 24 h window of the account's quota key."
})
const quotaLimit = Metric.gauge("megaphone_quota_limit", {
  description: "The account's messaging limit: unique recipients per rolling 24 h (+Inf when unlimited)."
})
const storageUp = Metric.gauge("megaphone_storage_up", {
  description: "1 when the scrape could read the database, 0 when it could not (the gauges read from it are missing then)."
})
const rss = Metric.gauge("process_resident_memory_bytes", { description: "Resident memory of the daemon process, in bytes." })

/** Ended campaigns stay on the dashboards this long after they end, then their series go. */
const ENDED_VISIBLE_MS = 24 * 60 * 60 * 1000

// ---------------------------------------------------------------------------------------------------------
// The service

type Registry = Map<string, unknown>

/** Run a metric update against one registry. */
const inRegistry = (registry: Registry) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(effect, Metric.MetricRegistry, registry as typeof Metric.MetricRegistry.Service)

/** The gauges read from storage now, into a fresh registry (so gone campaigns and accounts drop out). */
const gauges = (storage: Ports.Storage.StorageShape) =>
  Effect.gen(function*() {
    const now = new Date(yield* Clock.currentTimeMillis)
    const all = yield* storage.listCampaigns()
    for (const state of Campaign.states) {
      yield* Metric.update(Metric.withAttributes(campaigns, { state }), all.filter((c) => c.lifecycle.state === state).length)
    }
    const visible = all.filter((c) => c.lifecycle.endedAt === null || now.getTime() - c.lifecycle.endedAt.getTime() < ENDED_VISIBLE_MS)
    for (const campaign of visible) {
      const counts = yield* storage.campaignCounts(campaign.id)
      for (const state of ContactState.states) {
        yield* Metric.update(Metric.withAttributes(campaignContacts, { campaign: campaign.id, state }), counts[state])
      }
    }
    for (const account of yield* storage.listAccounts()) {
      const usage = yield* storage.quotaUsage(account, now)
      const labels = { account: account.name, quota_key: usage.quotaKey }
      yield* Metric.update(Metric.withAttributes(quotaUsed, labels), usage.used)
      yield* Metric.update(Metric.withAttributes(quotaLimit, labels), usage.limit === "unlimited" ? Number.POSITIVE_INFINITY : usage.limit)
    }
  })

/** A metrics service reading its gauges from `storage`. */
export const make = (storage: Ports.Storage.StorageShape): Effect.Effect<MetricsShape> =>
  Effect.gen(function*() {
    const counters: Registry = new Map()
    const record = inRegistry(counters)
    const positive = (n: number) => Number.isFinite(n) && n > 0
    // The series without labels exist from the start, so `rate()` and alerts see a 0 before the first webhook.
    yield* record(Metric.update(webhookStatuses, 0))
    yield* record(Metric.value(webhookLag))
    for (const reason of webhookRejections) yield* record(Metric.update(Metric.withAttributes(webhookRejected, { reason }), 0))

    const render = Effect.gen(function*() {
      // Fresh registries per scrape: campaigns and accounts that are gone drop out, and a failed read adds nothing.
      const fromStorage: Registry = new Map()
      const read = yield* Effect.result(inRegistry(fromStorage)(gauges(storage)))
      const processRegistry: Registry = new Map()
      const inProcess = inRegistry(processRegistry)
      yield* inProcess(Metric.update(storageUp, read._tag === "Success" ? 1 : 0))
      yield* inProcess(Metric.update(rss, process.memoryUsage().rss))
      // Each part renders whole families and no family is in two parts, so the texts simply follow each other.
      const kept = yield* record(PrometheusMetrics.format())
      const scraped = read._tag === "Success" ? yield* inRegistry(fromStorage)(PrometheusMetrics.format()) : ""
      return kept + scraped + (yield* inProcess(PrometheusMetrics.format()))
    })

    return {
      recordSend: (account, result, code, count = 1) =>
        positive(count)
          ? record(Metric.update(Metric.withAttributes(sends, { account, result, code: code ?? "" }), count))
          : Effect.void,
      recordRetryScheduled: (account, n) => (positive(n) ? record(Metric.update(Metric.withAttributes(retries, { account }), n)) : Effect.void),
      recordWebhookStatuses: (n, lagSeconds) =>
        record(Effect.gen(function*() {
          if (positive(n)) yield* Metric.update(webhookStatuses, n)
          const lags = lagSeconds === undefined ? [] : typeof lagSeconds === "number" ? [lagSeconds] : lagSeconds
          // A status stamped after its arrival (clock skew) counts as no lag rather than a negative one.
          for (const lag of lags) if (Number.isFinite(lag)) yield* Metric.update(webhookLag, Math.max(0, lag))
        })),
      recordWebhookRejected: (reason) => record(Metric.update(Metric.withAttributes(webhookRejected, { reason }), 1)),
      recordRound: (account, round) =>
        record(Effect.gen(function*() {
          yield* Metric.update(Metric.withAttributes(rounds, { account }), 1)
          if (positive(round.claimed)) yield* Metric.update(Metric.withAttributes(claimed, { account }), round.claimed)
          if (positive(round.reclaimed)) yield* Metric.update(Metric.withAttributes(reclaimed, { account }), round.reclaimed)
        })),
      render
    }
  })

/** The metrics service on the daemon's storage. */
export const layer: Layer.Layer<Metrics, never, Ports.Storage.Storage> = Layer.effect(
  Metrics,
  Effect.flatMap(Ports.Storage.Storage, make)
)
