/**
 * The dashboard's data port: everything the dashboard reads and every action it takes, as plain async methods.
 *
 * The dashboard never talks HTTP or SQL itself. The daemon's CLI provides two implementations — one over a
 * running daemon's admin API (live, with actions), one straight on the database (read-only, when no daemon runs)
 * — and tests provide a fake. The dashboard computes send rates, sparklines and ETAs itself from successive
 * polls of {@link Source.campaigns}.
 *
 * Every method rejects with an `Error` whose message is for people (what failed and what to do).
 */
import type { Campaign, ContactState, Quota } from "@megaphone/core"

/** A campaign as the list shows it: identity, lifecycle (with the pause reason) and contacts per state. */
export interface CampaignSummary {
  readonly id: string
  readonly name: string
  readonly account: string
  readonly template: string
  readonly language: string
  readonly lifecycle: Campaign.CampaignLifecycle
  readonly counts: Campaign.ContactCounts
  /** The campaign's own messages/second cap (`campaigns rate`); absent or null: its number's rate. */
  readonly maxMps?: number | null | undefined
  /** The days and hours it sends on each recipient's clock (`campaigns window`), e.g. `Mon-Fri 09:00-20:00`; absent or null: any time. */
  readonly sendWindow?: string | null | undefined
}

/** An account with its rolling-24 h unique-recipient use, tier, quality and throughput limit. */
export interface AccountStatus {
  readonly name: string
  readonly displayPhoneNumber: string | null
  /** Meta's messaging tier as Meta spells it (`TIER_1K`), when known. */
  readonly tier: string | null
  /** Meta's quality rating (`GREEN`, `YELLOW`, `RED`), when known. */
  readonly qualityRating: string | null
  /** Unique recipients in the rolling 24 h window of the account's quota key. */
  readonly used: number
  readonly limit: Quota.MessagingLimit
  /** When the window frees a place for a new recipient; null while there is room (or with no limit). */
  readonly nextFreeAt: Date | null
  /** The number's throughput limit, messages per second. */
  readonly throughputMps: number
}

/** Contacts whose last failure had the same code, across the campaigns. */
export interface ErrorGroup {
  /** Meta's code (`131026`), `http_503`, a transport kind, or one of ours (`invalid_phone`, `opted_out`, …). */
  readonly code: string
  readonly count: number
  /** The text of one of these failures, as recorded. */
  readonly sample: string
  /** Ids of the campaigns the contacts belong to. */
  readonly campaigns: ReadonlyArray<string>
}

/** A contact waiting for its next attempt. */
export interface ScheduledRetry {
  readonly campaignId: string
  readonly phone: string
  readonly attempts: number
  readonly nextAttemptAt: Date | null
  readonly lastError: ContactState.LastError | null
}

/** The retries scheduled now: how many, and the soonest few. */
export interface Retries {
  readonly total: number
  readonly soonest: ReadonlyArray<ScheduledRetry>
}

/** A synced template that cannot be sent now (the seed's warning triangle), with its explanation. */
export interface TemplateIssue {
  readonly template: string
  readonly language: string
  readonly status: string
  readonly accounts: ReadonlyArray<string>
  /** English always; Czech when the source can tell it. */
  readonly explanation: { readonly en: string; readonly cs?: string }
}

/** One contact of a campaign with the row fields of SPEC §5. */
export interface ContactRow {
  readonly id: string
  readonly phone: string
  readonly state: ContactState.ContactStateId
  readonly attempts: number
  readonly nextAttemptAt: Date | null
  readonly lastError: { readonly code: string; readonly text: string } | null
  readonly wamid: string | null
  readonly stateTimes: Readonly<Partial<Record<ContactState.ContactStateId, Date>>>
  /** Why the contact waits although due (its campaign's send window is closed for it); absent or null: it does not. */
  readonly waiting?: string | null | undefined
}

/** Which page of a campaign's contacts to read. */
export interface ContactQuery {
  /** Only contacts in this state (all without it). */
  readonly state?: ContactState.ContactStateId
  /** Only contacts after this id (the previous page's `nextAfterId`). */
  readonly afterId?: string
  readonly limit: number
}

/** A page of contacts, by ascending id. */
export interface ContactPage {
  readonly contacts: ReadonlyArray<ContactRow>
  /** Pass as `afterId` for the next page; null when this page was the last. */
  readonly nextAfterId: string | null
}

/** Contacts to add: directory contacts through a saved filter or an expression, or a CSV file (SPEC §4). */
export type AddContacts =
  | {
    readonly _tag: "Directory"
    /** A saved filter's name, or a filter expression. */
    readonly filter: { readonly name: string } | { readonly where: string }
    readonly phoneColumn: string
    /** VARIABLE → directory column. */
    readonly vars: Readonly<Record<string, string>>
    /** VARIABLE → value used when empty. */
    readonly defaults: Readonly<Record<string, string>>
  }
  | {
    readonly _tag: "Csv"
    /** A CSV file on the machine the dashboard runs on. */
    readonly path: string
    readonly defaults: Readonly<Record<string, string>>
  }

/** What adding contacts did. */
export interface AddContactsReport {
  readonly added: number
  readonly invalid: number
  readonly suppressed: number
  readonly duplicates: number
  readonly rejected: number
  readonly state: Campaign.CampaignStateId
}

/** A campaign after pause, resume or stop; `cancelled` counts the contacts a stop cancelled. */
export interface CampaignChange {
  readonly campaign: CampaignSummary
  readonly cancelled: number
}

/** Which failed contacts to retry: some of `ContactState.retryableStates`, optionally only those with a last error code. */
export interface RetryRequest {
  readonly states: ReadonlyArray<ContactState.ContactStateId>
  readonly codes?: ReadonlyArray<string>
}

/** A campaign after a retry: contacts put back to `initial`, and those left because their recipient is suppressed. */
export interface RetryReport {
  readonly campaign: CampaignSummary
  readonly retried: number
  readonly suppressed: number
}

/** Where the data comes from, and whether actions are possible. */
export type Mode =
  | { readonly _tag: "Live"; readonly description: string }
  | { readonly _tag: "ReadOnly"; readonly description: string; readonly reason: string }

/** The data port of the dashboard. */
export interface Source {
  readonly mode: Mode
  /** Every campaign with its lifecycle and contacts per state. */
  readonly campaigns: () => Promise<ReadonlyArray<CampaignSummary>>
  /** Every account with its quota use. */
  readonly accounts: () => Promise<ReadonlyArray<AccountStatus>>
  /** Failed and retried contacts grouped by their last error's code, most frequent first. */
  readonly recentErrors: () => Promise<ReadonlyArray<ErrorGroup>>
  /** Retries scheduled, soonest first. */
  readonly retries: () => Promise<Retries>
  /** Synced templates that cannot be sent. */
  readonly templateIssues: () => Promise<ReadonlyArray<TemplateIssue>>
  /** A page of a campaign's contacts. */
  readonly contacts: (campaignId: string, query: ContactQuery) => Promise<ContactPage>
  readonly pause: (campaignId: string) => Promise<CampaignChange>
  readonly resume: (campaignId: string) => Promise<CampaignChange>
  /** End the campaign for good; its contacts not yet sent are cancelled. */
  readonly stop: (campaignId: string) => Promise<CampaignChange>
  readonly addContacts: (campaignId: string, request: AddContacts) => Promise<AddContactsReport>
  /** Put failed contacts back to `initial` with a new attempt budget (`campaigns retry`). */
  readonly retry: (campaignId: string, request: RetryRequest) => Promise<RetryReport>
}

/** The explanation of a template issue in the dashboard's language (English when Czech is not known). */
export const issueText = (issue: TemplateIssue, lang: "en" | "cs"): string =>
  lang === "cs" ? issue.explanation.cs ?? issue.explanation.en : issue.explanation.en
