/**
 * The simulator's mutable state: accounts with their limits, templates with their live status, the faults in
 * force, the seeded generator and the statistics. Requests are handled synchronously against it (Node runs
 * one request handler at a time), which keeps a send's check-and-record atomic without locks.
 */
import { Quota, Template } from "@megaphone/core"
import { Result } from "effect"
import type { Account, Faults, SimulatorConfig } from "./Config.ts"
import { Enforcement, MessagingWindow, ThroughputWindow } from "./Enforcement.ts"
import type { NumberLimits } from "./Enforcement.ts"
import type { WebhookSender, WebhookStats } from "./Webhooks.ts"

/** sfc32: small, fast and good enough for reproducible fault injection. */
export const prng = (seed: number): (() => number) => {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    let t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    t = (t + d) | 0
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 16; i++) next()
  return next
}

/** A message the simulator accepted (the list tests and the demo inspect). */
export interface AcceptedMessage {
  readonly wamid: string
  readonly phoneNumberId: string
  /** What the client sent as `to`. */
  readonly to: string
  readonly waId: string
  readonly template: { readonly name: string; readonly language: string }
  /** `template.components` as sent. */
  readonly components: ReadonlyArray<unknown>
  readonly callbackData?: string
  /** Simulator clock, ms since the epoch. */
  readonly at: number
  /** Whether a `failed` (131026) webhook follows instead of sent/delivered/read. */
  readonly undeliverable: boolean
}

/** Statistics of a run, as `GET /_simulator/stats` returns them. */
export interface Stats {
  readonly requests: number
  readonly accepted: number
  /** Accepted messages per recipient wa_id: a count above 1 is a duplicate send (or a deliberate re-send). */
  readonly acceptedPerRecipient: Readonly<Record<string, number>>
  /** The most accepted messages seen in any sliding 1-second window, per phone-number id. */
  readonly maxMpsPerNumber: Readonly<Record<string, number>>
  /** Refused sends per Meta error code. */
  readonly rejectionsByCode: Readonly<Record<string, number>>
  readonly webhooks: WebhookStats
  readonly messages: ReadonlyArray<AcceptedMessage>
}

/** One configured number with its limits. */
export interface AccountState {
  readonly account: Account
  /** Digits of the business number. */
  readonly digits: string
  readonly limits: NumberLimits
}

/** One template translation with its live status. */
export interface TemplateEntry {
  readonly wabaId: string
  readonly template: Template.Template
  /** The object as configured, served by the templates API with `status` replaced by the live one. */
  readonly raw: Readonly<Record<string, unknown>>
  status: string
  /** Pauses so far: the first is FIRST_PAUSE (3 h at Meta), the next SECOND_PAUSE (6 h). */
  pauses: number
}

// The template status each event of `message_template_status_update` leaves behind (FLAGGED changes nothing).
const STATUS_AFTER_EVENT: Readonly<Record<string, string | null>> = {
  APPROVED: "APPROVED", REINSTATED: "APPROVED", UNARCHIVED: "APPROVED", PAUSED: "PAUSED", DISABLED: "DISABLED",
  REJECTED: "REJECTED", PENDING: "PENDING", PENDING_DELETION: "PENDING_DELETION", DELETED: "DELETED",
  ARCHIVED: "ARCHIVED", IN_APPEAL: "IN_APPEAL", LIMIT_EXCEEDED: "LIMIT_EXCEEDED", LOCKED: "LOCKED", FLAGGED: null
}

/** The events a template status change may be made with. */
export const TEMPLATE_EVENTS: ReadonlyArray<string> = Object.keys(STATUS_AFTER_EVENT)

/** Why a template status change was refused. */
export type TemplateStatusRefusal = "unknown_template" | "unknown_event"

const limitOf = (tier: string | number): Quota.MessagingLimit => {
  const parsed = Quota.parseMessagingTier(tier)
  return Result.isSuccess(parsed) ? parsed.success : 0
}

const rank = (limit: Quota.MessagingLimit): number => (limit === "unlimited" ? Infinity : limit)

/** The simulator's whole mutable state. */
export class SimulatorState {
  readonly accounts = new Map<string, AccountState>()
  readonly wabas = new Set<string>()
  /** Templates per WABA, in configuration order (the order the templates API pages through). */
  readonly templates = new Map<string, Array<TemplateEntry>>()
  enforcement: Enforcement
  faults: Faults
  counters = { requests: 0, accepted: 0, wamid: 0 }
  acceptedPerRecipient = new Map<string, number>()
  rejectionsByCode = new Map<number, number>()
  messages: Array<AcceptedMessage> = []
  /** Fired template events of `faults.templateEvents` (by index), so each fires once. */
  firedEvents = new Set<number>()
  /** Set once the server listens: the absolute base of `paging.next` links. */
  baseUrl = ""

  readonly config: SimulatorConfig
  readonly now: () => number
  readonly draw: () => number
  readonly webhooks: WebhookSender | undefined

  constructor(config: SimulatorConfig, now: () => number, draw: () => number, webhooks: WebhookSender | undefined) {
    this.config = config
    this.now = now
    this.draw = draw
    this.webhooks = webhooks
    this.faults = config.faults
    this.enforcement = new Enforcement(config.limits.pairSpacingMs, config.limits.pairBurst)
    this.build()
  }

  private build(): void {
    this.accounts.clear()
    this.templates.clear()
    // Accounts of one portfolio share a messaging window, at the highest limit any of them has (Meta, Oct 2025).
    const windows = new Map<string, { window: MessagingWindow; limit: Quota.MessagingLimit }>()
    for (const account of this.config.accounts) {
      const key = account.portfolioId === undefined ? `number:${account.phoneNumberId}` : `portfolio:${account.portfolioId}`
      const limit = limitOf(account.messagingLimitTier)
      const shared = windows.get(key)
      if (shared === undefined) windows.set(key, { window: new MessagingWindow(), limit })
      else if (rank(limit) > rank(shared.limit)) shared.limit = limit
    }
    for (const account of this.config.accounts) {
      const key = account.portfolioId === undefined ? `number:${account.phoneNumberId}` : `portfolio:${account.portfolioId}`
      const shared = windows.get(key) as { window: MessagingWindow; limit: Quota.MessagingLimit }
      const mps = account.mps ?? Quota.throughputFor({ level: account.throughputLevel })
      this.accounts.set(account.phoneNumberId, {
        account,
        digits: account.displayPhoneNumber.replace(/\D/g, ""),
        limits: { throughput: new ThroughputWindow(), messaging: shared.window, mps, messagingLimit: shared.limit }
      })
      this.wabas.add(account.wabaId)
    }
    for (const [wabaId, templates] of Object.entries(this.config.templates)) {
      this.templates.set(wabaId, templates.map((template) => ({
        wabaId,
        template,
        raw: rawTemplate(template),
        status: template.status,
        pauses: 0
      })))
    }
  }

  /** Back to the configured state: limits, template statuses, faults and statistics. */
  reset(): void {
    this.faults = this.config.faults
    this.enforcement = new Enforcement(this.config.limits.pairSpacingMs, this.config.limits.pairBurst)
    this.counters = { requests: 0, accepted: 0, wamid: 0 }
    this.acceptedPerRecipient = new Map()
    this.rejectionsByCode = new Map()
    this.messages = []
    this.firedEvents = new Set()
    this.build()
    this.webhooks?.reset()
  }

  /** Counts a refusal. */
  reject(code: number): void {
    this.rejectionsByCode.set(code, (this.rejectionsByCode.get(code) ?? 0) + 1)
  }

  /** A snapshot of the statistics. */
  stats(options: { readonly messages?: boolean } = {}): Stats {
    const maxMpsPerNumber: Record<string, number> = {}
    for (const [id, state] of this.accounts) maxMpsPerNumber[id] = state.limits.throughput.maxObserved
    return {
      requests: this.counters.requests,
      accepted: this.counters.accepted,
      acceptedPerRecipient: Object.fromEntries(this.acceptedPerRecipient),
      maxMpsPerNumber,
      rejectionsByCode: Object.fromEntries([...this.rejectionsByCode].map(([code, n]) => [String(code), n])),
      webhooks: this.webhooks?.stats() ?? { posted: 0, statusesPosted: 0, failed: 0, retried: 0, dropped: 0, pending: 0 },
      messages: options.messages === false ? [] : [...this.messages]
    }
  }

  /**
   * Changes a template's status as Meta would (a pause mid-run, a reinstatement, …) and posts the
   * `message_template_status_update` webhook. Without a WABA id, every WABA's translation by that key changes.
   */
  setTemplateStatus(
    wabaId: string | undefined,
    name: string,
    language: string,
    event: string,
    reason?: string
  ): ReadonlyArray<TemplateEntry> | TemplateStatusRefusal {
    const upper = event.toUpperCase()
    const status = STATUS_AFTER_EVENT[upper]
    if (status === undefined) return "unknown_event"
    const entries = [...this.templates.values()].flat().filter((entry) =>
      (wabaId === undefined || entry.wabaId === wabaId) && entry.template.name === name && entry.template.language === language)
    if (entries.length === 0) return "unknown_template"
    const now = this.now()
    for (const entry of entries) {
      const wasPaused = entry.status === "PAUSED"
      if (upper === "PAUSED") entry.pauses++
      if (status !== null) entry.status = status
      const otherInfo = upper === "PAUSED"
        ? {
          title: entry.pauses === 1 ? "FIRST_PAUSE" : "SECOND_PAUSE",
          description: `Your WhatsApp message template has been paused for ${entry.pauses === 1 ? 3 : 6} hours until ${new Date(now + (entry.pauses === 1 ? 3 : 6) * 3_600_000).toUTCString()} due to low quality.`
        }
        : wasPaused && status === "APPROVED"
        ? { title: "UNPAUSE", description: "Your WhatsApp message template has been unpaused and can be sent again." }
        : undefined
      this.webhooks?.enqueueTemplateStatus(entry.wabaId, {
        event: upper,
        message_template_id: Number(entry.template.id),
        message_template_name: entry.template.name,
        message_template_language: entry.template.language,
        message_template_category: entry.template.category,
        reason: reason ?? (upper === "REJECTED" ? "INVALID_FORMAT" : "NONE"),
        ...(otherInfo === undefined ? {} : { other_info: otherInfo }),
        ...(upper === "DISABLED" ? { disable_info: { disable_date: Math.floor(now / 1000) } } : {})
      })
    }
    return entries
  }

  /** Fires the configured template events whose `afterAccepted` count has been reached. */
  fireTemplateEvents(): void {
    this.faults.templateEvents.forEach((event, i) => {
      if (this.firedEvents.has(i) || this.counters.accepted < event.afterAccepted) return
      this.firedEvents.add(i)
      this.setTemplateStatus(event.wabaId, event.name, event.language, event.event, event.reason)
    })
  }

  /** A template translation of a WABA, by Meta's key. */
  findTemplate(wabaId: string, name: string, language: string): TemplateEntry | undefined {
    return this.templates.get(wabaId)?.find((entry) => entry.template.name === name && entry.template.language === language)
  }
}

/** The configured template as Meta's JSON: the decoded object keeps Meta's field names. */
const rawTemplate = (template: Template.Template): Readonly<Record<string, unknown>> =>
  JSON.parse(JSON.stringify(template)) as Record<string, unknown>
