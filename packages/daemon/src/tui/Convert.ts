/**
 * The dashboard's data (the TUI's port types) from the JSON shapes the CLI prints and the admin API answers
 * (campaigns/Json.ts, accounts/Json.ts). Both sources — over the admin API and over the database — first have
 * those shapes, so every conversion and every derived view (errors by code, retries, template issues) is
 * written once, here.
 */
import type { Source } from "@megaphone/tui"
import type * as AccountsJson from "../accounts/Json.ts"
import * as Json from "../campaigns/Json.ts"

type CampaignJson = typeof Json.CampaignJson.Type
type ContactJson = typeof Json.CampaignContact.Type

/** How many retries the dashboard lists by name (the rest are counted). */
const SOONEST = 5

/** A campaign for the list. */
export const campaign = (c: CampaignJson): Source.CampaignSummary => ({
  id: c.id,
  name: c.name,
  account: c.account,
  template: c.template,
  language: c.language,
  lifecycle: Json.lifecycle(c),
  counts: c.counts,
  maxMps: c.max_mps,
  sendWindow: c.send_window
})

/** An account with its quota use (none known: nothing used, the account's own limit). */
export const account = (a: typeof AccountsJson.Account.Type, quota: typeof Json.Quota.Type | undefined): Source.AccountStatus => ({
  name: a.name,
  displayPhoneNumber: a.display_phone_number,
  tier: a.messaging_tier,
  qualityRating: a.quality_rating,
  used: quota?.used ?? 0,
  limit: quota?.limit ?? a.messaging_limit,
  // The API gives a time even while there is room (it is then "now"); the dashboard wants one only when full.
  nextFreeAt: quota === undefined || quota.remaining === "unlimited" || quota.remaining > 0 ? null : quota.next_free_at,
  // What the daemon sends at: Meta's rate, or the operator's cap when lower.
  throughputMps: a.max_mps === null ? a.throughput_mps : Math.min(a.throughput_mps, a.max_mps)
})

/** A contact row. */
export const contact = (c: ContactJson): Source.ContactRow => ({
  id: c.id,
  phone: c.phone,
  state: c.state,
  attempts: c.attempts,
  // A contact held back by the send window can go at the window's next opening, not before.
  nextAttemptAt: c.waiting?.next_possible_at ?? c.next_attempt_at,
  waiting: c.waiting?.reason ?? null,
  lastError: c.last_error,
  wamid: c.wamid,
  stateTimes: c.state_times
})

/** The campaigns whose failures and retries matter now: those that have started and not been stopped. */
export const watched = (campaigns: ReadonlyArray<CampaignJson>): ReadonlyArray<CampaignJson> =>
  campaigns.filter((c) => c.state === "running" || c.state === "paused" || c.state === "finished")

/** What is failing in the watched campaigns (`GET /api/failures`, or the same from the storage). */
export type Failures = typeof Json.Failures.Type

/** How many of the retries due soonest the dashboard lists by name. */
export const SOONEST_RETRIES = SOONEST

/** Failures by code, most frequent first, as the storage grouped them. */
export const errorGroups = (failures: Failures): ReadonlyArray<Source.ErrorGroup> =>
  failures.errors.map((g) => ({ code: g.code, count: g.count, sample: g.text, campaigns: g.campaigns }))

/** The retries scheduled: the exact total from the campaigns' counts, the soonest few as the storage ordered them. */
export const retries = (campaigns: ReadonlyArray<CampaignJson>, failures: Failures): Source.Retries => ({
  total: campaigns.reduce((n, c) => n + c.counts.retry_scheduled, 0),
  soonest: failures.retries.map(({ campaign, contact: c }): Source.ScheduledRetry => ({
    campaignId: campaign,
    phone: c.phone,
    attempts: c.attempts,
    nextAttemptAt: c.next_attempt_at,
    lastError: c.last_error
  }))
})

/**
 * Synced templates that cannot be sent (the seed's warning triangle): those still listed by Meta, and any gone
 * one a campaign that has not ended still uses. `czech` gives the Czech explanation when the source knows it.
 */
export const templateIssues = (
  templates: ReadonlyArray<typeof AccountsJson.TemplateRow.Type>,
  campaigns: ReadonlyArray<CampaignJson>,
  czech: (template: typeof AccountsJson.TemplateRow.Type) => string | undefined = () => undefined
): ReadonlyArray<Source.TemplateIssue> => {
  const inUse = new Set(campaigns.filter((c) => c.state !== "stopped" && c.state !== "finished").map((c) => `${c.template}/${c.language}`))
  return templates
    .filter((t) => !t.usable && (t.deleted_at === null || inUse.has(`${t.name}/${t.language}`)))
    .map((t) => {
      const cs = czech(t)
      const en = t.explanation ?? `Template ${t.name} has status ${t.status} and cannot be sent.`
      return { template: t.name, language: t.language, status: t.status, accounts: t.accounts, explanation: cs === undefined ? { en } : { en, cs } }
    })
}

/** What adding contacts did. */
export const addReport = (r: typeof Json.AddContactsReport.Type): Source.AddContactsReport => ({
  added: r.added,
  invalid: r.invalid,
  suppressed: r.suppressed,
  duplicates: r.already_in_campaign.length,
  rejected: r.rejected.length,
  state: r.state
})
