// A fake data source for the dashboard's tests: plain data the test changes between polls, and every method a
// vi.fn, so a test asserts which port methods a key called.
import { Campaign, type ContactState } from "@megaphone/core"
import { vi } from "vitest"
import type { AccountStatus, CampaignSummary, ContactPage, ContactRow, ErrorGroup, Mode, Retries, Source, TemplateIssue } from "../src/Source.ts"

export const T0 = new Date("2026-11-26T10:00:00.000Z")

/** Contact counts with the given states set, the rest zero. */
export const counts = (set: Partial<Record<ContactState.ContactStateId, number>>): Campaign.ContactCounts => ({ ...Campaign.emptyCounts, ...set })

/** A campaign in `state` (with the lifecycle fields that state has). */
export const campaign = (
  id: string,
  name: string,
  state: Campaign.CampaignStateId,
  contactCounts: Campaign.ContactCounts,
  pauseReason: Campaign.PauseReason | null = state === "paused" ? { _tag: "Operator" } : null
): CampaignSummary => ({
  id,
  name,
  account: "shop",
  template: "order_done",
  language: "cs",
  lifecycle: {
    state,
    pauseReason,
    createdAt: T0,
    startedAt: state === "draft" ? null : T0,
    pausedAt: state === "paused" ? T0 : null,
    endedAt: state === "finished" || state === "stopped" ? T0 : null,
    scheduledAt: null
  },
  counts: contactCounts
})

export const running = campaign("12", "Objednávky", "running", counts({ initial: 550, in_progress: 10, sent: 200, delivered: 150, read: 80, retry_scheduled: 4, error: 6 }))
export const templatePaused = campaign("13", "Jarní výprodej", "paused", counts({ initial: 300, delivered: 100 }), {
  _tag: "System",
  kind: "template_unusable",
  code: "132015",
  explanation: "Template spring_sale is paused by Meta for low quality"
})
export const finished = campaign("14", "Podzim", "finished", counts({ delivered: 700, read: 290, sending_failed: 10 }))

export const shop: AccountStatus = {
  name: "shop",
  displayPhoneNumber: "+420 601 000 001",
  tier: "TIER_1K",
  qualityRating: "GREEN",
  used: 612,
  limit: 1000,
  nextFreeAt: null,
  throughputMps: 80
}

export const errors: ReadonlyArray<ErrorGroup> = [
  { code: "131026", count: 5, sample: "(#131026) Message undeliverable — not on WhatsApp", campaigns: ["12"] },
  { code: "invalid_phone", count: 2, sample: "not a phone number: x12", campaigns: ["12"] }
]

export const issues: ReadonlyArray<TemplateIssue> = [{
  template: "spring_sale",
  language: "cs",
  status: "PAUSED",
  accounts: ["shop"],
  explanation: { en: "Template spring_sale is paused by Meta for low quality.", cs: "Šablonu spring_sale pozastavila Meta kvůli nízké kvalitě." }
}]

export const retries: Retries = {
  total: 4,
  soonest: [{ campaignId: "12", phone: "+420601200007", attempts: 1, nextAttemptAt: new Date(T0.getTime() + 30_000), lastError: { code: "131000", text: "Something went wrong" } }]
}

/** A contact row in `state`. */
export const contact = (n: number, state: ContactState.ContactStateId): ContactRow => ({
  id: String(n),
  phone: `+420601${200_000 + n}`,
  state,
  attempts: state === "initial" ? 0 : 1,
  nextAttemptAt: state === "retry_scheduled" ? new Date(T0.getTime() + 30_000) : null,
  lastError: state === "error" ? { code: "131026", text: "(#131026) Message undeliverable" } : null,
  wamid: state === "initial" ? null : `wamid.HBgM${n}`,
  stateTimes: { initial: T0, ...(state === "initial" ? {} : { [state]: new Date(T0.getTime() + 2000) }) }
})

/** What the fake serves; tests change it between polls. */
export interface FakeData {
  campaigns: Array<CampaignSummary>
  accounts: Array<AccountStatus>
  errors: ReadonlyArray<ErrorGroup>
  retries: Retries
  issues: ReadonlyArray<TemplateIssue>
  pages: (campaignId: string, state: ContactState.ContactStateId | undefined, afterId: string | undefined) => ContactPage
}

/** A fake source over `data`; actions change the campaign as the daemon would. */
export const fakeSource = (data: Partial<FakeData> = {}, mode: Mode = { _tag: "Live", description: "admin API at http://127.0.0.1:8787" }) => {
  const d: FakeData = {
    campaigns: [running, templatePaused, finished],
    accounts: [shop],
    errors,
    retries,
    issues,
    pages: (_id, state, afterId) => ({
      contacts: Array.from({ length: 3 }, (_, i) => contact(Number(afterId ?? 0) + i + 1, state ?? "delivered")),
      nextAfterId: afterId === undefined ? "3" : null
    }),
    ...data
  }
  const change = (id: string, next: (c: CampaignSummary) => CampaignSummary, cancelled = 0) => {
    const found = d.campaigns.find((c) => c.id === id)
    if (found === undefined) return Promise.reject(new Error(`No campaign ${id}`))
    const changed = next(found)
    d.campaigns = d.campaigns.map((c) => (c.id === id ? changed : c))
    return Promise.resolve({ campaign: changed, cancelled })
  }
  const lifecycle = (state: Campaign.CampaignStateId, pauseReason: Campaign.PauseReason | null) => (c: CampaignSummary): CampaignSummary => ({
    ...c,
    lifecycle: { ...c.lifecycle, state, pauseReason }
  })
  const source = {
    mode,
    campaigns: vi.fn(() => Promise.resolve(d.campaigns)),
    accounts: vi.fn(() => Promise.resolve(d.accounts)),
    recentErrors: vi.fn(() => Promise.resolve(d.errors)),
    retries: vi.fn(() => Promise.resolve(d.retries)),
    templateIssues: vi.fn(() => Promise.resolve(d.issues)),
    contacts: vi.fn((id: string, query: { state?: ContactState.ContactStateId; afterId?: string; limit: number }) =>
      Promise.resolve(d.pages(id, query.state, query.afterId))),
    pause: vi.fn((id: string) => change(id, lifecycle("paused", { _tag: "Operator" }))),
    resume: vi.fn((id: string) => change(id, lifecycle("running", null))),
    stop: vi.fn((id: string) => change(id, lifecycle("stopped", null), 564)),
    addContacts: vi.fn((id: string) => {
      void id
      return Promise.resolve({ added: 3, invalid: 1, suppressed: 0, duplicates: 0, rejected: 0, state: "running" as const })
    }),
    // As the daemon: error and sending_failed back to initial, one of them left (suppressed); a finished campaign runs again.
    retry: vi.fn((id: string, request: { readonly states: ReadonlyArray<ContactState.ContactStateId> }) => {
      const found = d.campaigns.find((c) => c.id === id)
      const selected = found === undefined ? 0 : request.states.reduce((n, s) => n + found.counts[s], 0)
      const retried = Math.max(0, selected - 1)
      return change(id, (c) => ({
        ...c,
        lifecycle: { ...c.lifecycle, state: "running", endedAt: null },
        counts: { ...c.counts, ...Object.fromEntries(request.states.map((s) => [s, 0])), initial: c.counts.initial + retried }
      })).then(({ campaign }) => ({ campaign, retried, suppressed: selected - retried }))
    })
  } satisfies Source
  return { source, data: d }
}

/** Waits until `check` passes (it throws until then), for at most `ms`. */
export const until = async (check: () => void, ms = 3000): Promise<void> => {
  const end = Date.now() + ms
  for (;;) {
    try {
      check()
      return
    } catch (error) {
      if (Date.now() > end) throw error
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}

/** Key sequences as a terminal sends them. */
export const keys = {
  up: "\u001B[A",
  down: "\u001B[B",
  right: "\u001B[C",
  left: "\u001B[D",
  enter: "\r",
  escape: "\u001B",
  tab: "\t",
  backspace: "\u007F"
} as const
