/**
 * The in-memory storage adapter: the same behaviour as the PostgreSQL adapter, kept in plain Maps, for
 * developers embedding Megaphone in one process and for fast tests.
 *
 * Atomicity: every operation runs as one synchronous step while holding a single-permit semaphore, so no
 * other fiber can observe or interleave a half-done operation. Every record goes in and comes out as a
 * copy, so a caller can never change stored state by mutating what it passed or got back.
 */
import { Campaign, ContactState, Filter, Ports, Quota, RetryPolicy } from "@megaphone/core"
import { Effect, Layer, Option, Result, Semaphore } from "effect"
import { campaignPace, cappedTake, decideClaims, releaseReservation, type Candidate } from "../shared/ClaimDecision.ts"
import { optedOutText } from "../shared/Suppression.ts"

type StorageShape = Ports.Storage.StorageShape
type CampaignContact = Ports.Storage.CampaignContact
type CampaignRecord = Ports.Storage.CampaignRecord
type DirectoryContact = Ports.Storage.DirectoryContact
type StoredTemplate = Ports.Storage.StoredTemplate
type StatusReport = Ports.Storage.StatusReport
type LoggedEvent = Ports.Storage.LoggedEvent
type Page = Ports.Storage.Page

/** What a claim reserved in the 24 h window, kept on the contact so a failed send can give it back. */
interface Reservation {
  readonly quotaKey: string
  readonly slot: Date
  readonly previousSentAt: Date | undefined
}

/** A campaign contact as stored: the public record plus its reservation (never shown to callers). */
interface ContactRow {
  readonly contact: CampaignContact
  readonly reservation: Reservation | undefined
}

/** The rolling-24 h window of one quota key: minute buckets and each recipient's latest send. */
interface QuotaWindow {
  readonly buckets: Map<number, number>
  readonly ledger: Map<string, Date>
}

/** One phone number's pair-limit rows and throughput row. */
interface NumberState {
  readonly pairLastSent: Map<string, Date>
  throughput: Quota.ThroughputState
}

interface Refusal {
  readonly contactId: string
  readonly reason: string
}

// Buckets this far behind `now` can never count again, even for a daemon whose clock lags by a day.
const BUCKET_RETENTION_MS = 2 * Quota.QUOTA_WINDOW_MS

const copy = <A>(value: A): A => structuredClone(value)

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const byId = (a: { readonly id: string }, b: { readonly id: string }): number => Number(a.id) - Number(b.id)

// The states `failureSummary` groups: the contact's last attempt failed.
const FAILED_STATES: ReadonlySet<ContactState.ContactStateId> = new Set(["error", "sending_failed", "retry_scheduled"])

/** Rows after `page.afterId`, at most `page.limit`, from rows already in ascending id order. */
const paginate = <A extends { readonly id: string }>(rows: Iterable<A>, page: Page): Array<A> => {
  const after = page.afterId === undefined ? -Infinity : Number(page.afterId)
  const out: Array<A> = []
  if (page.limit <= 0 || Number.isNaN(after)) return out
  for (const row of rows) {
    if (Number(row.id) <= after) continue
    out.push(row)
    if (out.length >= page.limit) break
  }
  return out
}

const templateKey = (wabaId: string, name: string, language: string): string => JSON.stringify([wabaId, name, language])

// Ids are unique per table only, so a contact's key inside its campaign needs the recipient or the phone.
const contactKey = (recipient: string | null, phone: string): string =>
  recipient !== null && recipient !== "" ? `recipient:${recipient}` : `phone:${phone}`

const dueAt = (contact: CampaignContact): number => (contact.progress.nextAttemptAt ?? contact.addedAt).getTime()

/** Due contacts in the port's fair-share order: the n-th of every campaign before the (n+1)-th of any. */
const fairShare = (due: ReadonlyArray<CampaignContact>, take: (campaignId: string) => number): Array<CampaignContact> => {
  const byDue = (a: CampaignContact, b: CampaignContact) => dueAt(a) - dueAt(b) || byId(a, b)
  const rank = new Map<string, number>()
  const seen = new Map<string, number>()
  for (const contact of [...due].sort(byDue)) {
    const n = seen.get(contact.campaignId) ?? 0
    seen.set(contact.campaignId, n + 1)
    if (n < take(contact.campaignId)) rank.set(contact.id, n)
  }
  return due.filter((c) => rank.has(c.id)).sort((a, b) => (rank.get(a.id) ?? 0) - (rank.get(b.id) ?? 0) || byDue(a, b))
}

const addDeltas = (buckets: Map<number, number>, deltas: ReadonlyMap<number, number>): void => {
  for (const [minute, delta] of deltas) {
    const count = (buckets.get(minute) ?? 0) + delta
    if (count <= 0) buckets.delete(minute)
    else buckets.set(minute, count)
  }
}

const pruneOldBuckets = (buckets: Map<number, number>, now: Date): void => {
  const oldest = Quota.minuteOf(new Date(now.getTime() - BUCKET_RETENTION_MS))
  for (const minute of buckets.keys()) if (minute < oldest) buckets.delete(minute)
}

const missingRecipient: ContactState.LastError = {
  code: "invalid_phone",
  text: "The phone number is not a valid number; correct it in the source (CSV or directory) and add the contact again."
}


/** A fresh in-memory storage with nothing in it; each call makes an independent store. */
export const make: Effect.Effect<StorageShape> = Effect.gen(function*() {
  const lock = yield* Semaphore.make(1)

  const counters = { directory: 0, campaign: 0, contact: 0, event: 0 }
  const accounts = new Map<string, Ports.Storage.Account>()
  const templates = new Map<string, StoredTemplate>()
  const directory = new Map<string, DirectoryContact>()
  const directoryByPhone = new Map<string, string>()
  const filters = new Map<string, Ports.Storage.SavedFilter>()
  const campaigns = new Map<string, CampaignRecord>()
  /** Capped campaigns' next free send instants (`CampaignRecord.maxMps`). */
  const campaignNextSend = new Map<string, Date>()
  const contacts = new Map<string, ContactRow>()
  // Contact ids of each campaign, in insertion (= id) order.
  const campaignContactIds = new Map<string, Array<string>>()
  const campaignContactKeys = new Map<string, Map<string, string>>()
  const pendingIds = new Set<string>()
  const wamidIndex = new Map<string, string>()
  const quotaWindows = new Map<string, QuotaWindow>()
  const numbers = new Map<string, NumberState>()
  const suppressions = new Map<string, Ports.Storage.Suppression>()
  const events: Array<LoggedEvent> = []

  /** Run one operation under the lock; the body runs synchronously, so it is atomic. */
  const atomically = <A, E = never>(body: () => Result.Result<A, E>): Effect.Effect<A, E> =>
    Semaphore.withPermits(lock, 1)(Effect.suspend(() => Effect.fromResult(body())))

  const ok = <A>(value: A): Result.Result<A, never> => Result.succeed(value)

  const quotaWindow = (key: string): QuotaWindow => {
    let window = quotaWindows.get(key)
    if (window === undefined) {
      window = { buckets: new Map(), ledger: new Map() }
      quotaWindows.set(key, window)
    }
    return window
  }

  const numberState = (phoneNumberId: string): NumberState => {
    let state = numbers.get(phoneNumberId)
    if (state === undefined) {
      state = { pairLastSent: new Map(), throughput: Quota.initialThroughput }
      numbers.set(phoneNumberId, state)
    }
    return state
  }

  /** Store a contact row and keep the indexes (pending set, wamid) in step with it. */
  const putContact = (row: ContactRow): void => {
    const { contact } = row
    contacts.set(contact.id, row)
    if (ContactState.isPending(contact.progress.state)) pendingIds.add(contact.id)
    else pendingIds.delete(contact.id)
    const wamid = contact.progress.wamid
    if (wamid !== null && !wamidIndex.has(wamid)) wamidIndex.set(wamid, contact.id)
  }

  /** The row after an event: progress copied (events carry caller-owned Dates), lease owner gone once settled. */
  const withProgress = (row: ContactRow, progress: ContactState.ContactProgress): ContactRow => ({
    ...row,
    contact: {
      ...row.contact,
      progress: copy(progress),
      leaseOwner: progress.state === "in_progress" ? row.contact.leaseOwner : null
    }
  })

  /** Apply one event to a stored contact; a refusal carries the state machine's reason. */
  const applyEvent = (
    row: ContactRow,
    event: ContactState.ContactEvent,
    now: Date
  ): Result.Result<ContactRow, Refusal> => {
    const next = ContactState.transition(row.contact.progress, event, now)
    if (Result.isFailure(next)) return Result.fail({ contactId: row.contact.id, reason: next.failure.reason })
    const updated = withProgress(row, next.success)
    putContact(updated)
    return Result.succeed(updated)
  }

  /** Give a claim's 24 h reservation back, unless a later send owns the recipient's ledger row now. */
  const giveBack = (row: ContactRow): ContactRow => {
    const reservation = row.reservation
    if (reservation === undefined) return row
    const window = quotaWindow(reservation.quotaKey)
    const recipient = row.contact.recipient
    const release = releaseReservation(window.ledger.get(recipient), reservation.slot, reservation.previousSentAt)
    if (release !== undefined) {
      if (release.ledger._tag === "Restore") window.ledger.set(recipient, release.ledger.at)
      else window.ledger.delete(recipient)
      addDeltas(window.buckets, release.bucketDeltas)
    }
    const forgotten: ContactRow = { ...row, reservation: undefined }
    putContact(forgotten)
    return forgotten
  }

  const sortedTemplates = (rows: Iterable<StoredTemplate>): Array<StoredTemplate> =>
    [...rows].sort((a, b) =>
      byCodeUnit(a.wabaId, b.wabaId) ||
      byCodeUnit(a.template.name, b.template.name) ||
      byCodeUnit(a.template.language, b.template.language)
    )

  const campaignContacts = (campaignId: string): Array<CampaignContact> =>
    (campaignContactIds.get(campaignId) ?? []).flatMap((id) => {
      const row = contacts.get(id)
      return row === undefined ? [] : [row.contact]
    })

  /** The directory contacts matching the filter and the search (each optional), in id (= insertion) order. */
  const directoryMatching = (filter: Filter.Filter | undefined, search: string | undefined): Array<DirectoryContact> =>
    [...directory.values()].filter((c) =>
      (filter === undefined || Filter.evaluate(filter, { phone: c.phone, ...c.columns })) &&
      (search === undefined || Ports.Storage.matchesSearch(c, search))
    )

  /** Delete these directory contacts; campaign contacts added from them keep everything but the link. */
  const deleteDirectory = (ids: ReadonlySet<string>): number => {
    let deleted = 0
    for (const id of ids) {
      const contact = directory.get(id)
      if (contact === undefined) continue
      directory.delete(id)
      directoryByPhone.delete(contact.phone)
      deleted++
    }
    if (deleted === 0) return 0
    for (const [id, row] of contacts) {
      const linked = row.contact.directoryContactId
      if (linked !== null && ids.has(linked)) contacts.set(id, { ...row, contact: { ...row.contact, directoryContactId: null } })
    }
    return deleted
  }

  const storage: StorageShape = {
    // Accounts -------------------------------------------------------------------------------------------
    saveAccount: (account) =>
      atomically(() => {
        // Replacing an account keeps when it was first added.
        const createdAt = accounts.get(account.name)?.createdAt ?? account.createdAt
        const saved = { ...copy(account), createdAt: copy(createdAt) }
        accounts.set(account.name, saved)
        return ok(copy(saved))
      }),
    getAccount: (name) => atomically(() => ok(Option.fromNullishOr(accounts.get(name)).pipe(Option.map(copy)))),
    listAccounts: () =>
      atomically(() => ok([...accounts.values()].sort((a, b) => byCodeUnit(a.name, b.name)).map(copy))),

    // Templates ------------------------------------------------------------------------------------------
    syncTemplates: (wabaId, listed, now) =>
      atomically(() => {
        let added = 0
        let updated = 0
        let deleted = 0
        const seen = new Set<string>()
        for (const template of listed) {
          const key = templateKey(wabaId, template.name, template.language)
          seen.add(key)
          if (templates.has(key)) updated++
          else added++
          templates.set(key, { wabaId, template: copy(template), syncedAt: copy(now), deletedAt: null })
        }
        for (const [key, stored] of templates) {
          if (stored.wabaId !== wabaId || seen.has(key) || stored.deletedAt !== null) continue
          templates.set(key, { ...stored, deletedAt: copy(now) })
          deleted++
        }
        return ok({ added, updated, deleted })
      }),
    listTemplates: (wabaId) =>
      atomically(() =>
        ok(sortedTemplates([...templates.values()].filter((t) => wabaId === undefined || t.wabaId === wabaId)).map(copy))
      ),
    updateTemplateStatus: (wabaId, name, language, status, rejectedReason, now) =>
      atomically(() => {
        const key = templateKey(wabaId, name, language)
        const stored = templates.get(key)
        if (stored === undefined) return ok(Option.none())
        const { rejected_reason: _stale, ...rest } = stored.template
        const template = rejectedReason === null ? { ...rest, status } : { ...rest, status, rejected_reason: rejectedReason }
        const updated: StoredTemplate = { ...stored, template, syncedAt: copy(now) }
        templates.set(key, updated)
        return ok(Option.some(copy(updated)))
      }),

    // Directory ------------------------------------------------------------------------------------------
    importDirectory: (rows, onDuplicate, now) =>
      atomically(() => {
        let inserted = 0
        let updated = 0
        let skipped = 0
        for (const row of rows) {
          const existingId = directoryByPhone.get(row.phone)
          const existing = existingId === undefined ? undefined : directory.get(existingId)
          if (existing === undefined) {
            const id = String(++counters.directory)
            directory.set(id, { id, phone: row.phone, columns: copy(row.columns), createdAt: copy(now), updatedAt: copy(now) })
            directoryByPhone.set(row.phone, id)
            inserted++
          } else if (onDuplicate === "skip") {
            skipped++
          } else {
            // An empty cell in the import never erases what the directory already knows.
            const merged: Record<string, string> = { ...existing.columns }
            for (const [column, value] of Object.entries(row.columns)) if (value !== "") merged[column] = value
            directory.set(existing.id, { ...existing, columns: merged, updatedAt: copy(now) })
            updated++
          }
        }
        return ok({ inserted, updated, skipped })
      }),
    listDirectory: (filter, page, search) =>
      atomically(() => ok(paginate(directoryMatching(filter, search), page).map(copy))),
    countDirectory: (filter, search) => atomically(() => ok(directoryMatching(filter, search).length)),
    getDirectoryContact: (key) =>
      atomically(() => {
        const id = "id" in key ? key.id : directoryByPhone.get(key.phone)
        return ok(Option.fromNullishOr(id === undefined ? undefined : directory.get(id)).pipe(Option.map(copy)))
      }),
    deleteDirectoryContacts: (keys) =>
      atomically(() => {
        const ids = new Set(keys.flatMap((key) => {
          const id = "id" in key ? key.id : directoryByPhone.get(key.phone)
          return id !== undefined && directory.has(id) ? [id] : []
        }))
        return ok(deleteDirectory(ids))
      }),
    deleteDirectoryMatching: (filter) =>
      atomically(() => ok(deleteDirectory(new Set(directoryMatching(filter, undefined).map((c) => c.id))))),
    directoryColumns: () =>
      atomically(() => {
        const names = new Set<string>()
        for (const contact of directory.values()) for (const column of Object.keys(contact.columns)) names.add(column)
        return ok([...names].sort(byCodeUnit))
      }),

    // Filters --------------------------------------------------------------------------------------------
    createFilter: (name, filter, now) =>
      atomically(() => {
        if (filters.has(name)) {
          return Result.fail(new Ports.Storage.Conflict({
            entity: "filter",
            key: name,
            message: `A filter named "${name}" exists already; choose another name or delete the old one first.`
          }))
        }
        const saved = { name, filter: copy(filter), createdAt: copy(now) }
        filters.set(name, saved)
        return ok(copy(saved))
      }),
    getFilter: (name) => atomically(() => ok(Option.fromNullishOr(filters.get(name)).pipe(Option.map(copy)))),
    listFilters: () =>
      atomically(() => ok([...filters.values()].sort((a, b) => byCodeUnit(a.name, b.name)).map(copy))),
    deleteFilter: (name) =>
      atomically(() =>
        filters.delete(name) ? ok(undefined) : Result.fail(new Ports.Storage.NotFound({ entity: "filter", key: name }))
      ),

    // Campaigns ------------------------------------------------------------------------------------------
    createCampaign: (campaign, now) =>
      atomically(() => {
        const id = String(++counters.campaign)
        const record: CampaignRecord = {
          id,
          name: campaign.name,
          accountName: campaign.accountName,
          templateName: campaign.templateName,
          language: campaign.language,
          note: campaign.note,
          maxMps: campaign.maxMps ?? null,
          lifecycle: Campaign.draft(copy(now)),
          sendWindow: null
        }
        campaigns.set(id, record)
        campaignContactIds.set(id, [])
        campaignContactKeys.set(id, new Map())
        return ok(copy(record))
      }),
    getCampaign: (id) => atomically(() => ok(Option.fromNullishOr(campaigns.get(id)).pipe(Option.map(copy)))),
    listCampaigns: () => atomically(() => ok([...campaigns.values()].sort(byId).map(copy))),
    setCampaignMaxMps: (id, maxMps) =>
      atomically<CampaignRecord, Ports.Storage.NotFound>(() => {
        const campaign = campaigns.get(id)
        if (campaign === undefined) return Result.fail(new Ports.Storage.NotFound({ entity: "campaign", key: id }))
        const updated = { ...campaign, maxMps }
        campaigns.set(id, updated)
        campaignNextSend.delete(id)
        return ok(copy(updated))
      }),
    setSendWindow: (id, sendWindow) =>
      atomically<CampaignRecord, Ports.Storage.NotFound>(() => {
        const campaign = campaigns.get(id)
        if (campaign === undefined) return Result.fail(new Ports.Storage.NotFound({ entity: "campaign", key: id }))
        const updated: CampaignRecord = { ...campaign, sendWindow: copy(sendWindow) }
        campaigns.set(id, updated)
        // Initial contacts have a next attempt time only while they wait for a window: due again, judged by the new one.
        for (const contact of campaignContacts(id)) {
          const row = contacts.get(contact.id)
          if (row === undefined || contact.progress.state !== "initial" || contact.progress.nextAttemptAt === null) continue
          putContact({ ...row, contact: { ...row.contact, progress: { ...row.contact.progress, nextAttemptAt: null } } })
        }
        return ok(copy(updated))
      }),
    updateCampaignLifecycle: (id, expected, next) =>
      atomically<CampaignRecord, Ports.Storage.NotFound | Ports.Storage.Conflict>(() => {
        const campaign = campaigns.get(id)
        if (campaign === undefined) return Result.fail(new Ports.Storage.NotFound({ entity: "campaign", key: id }))
        if (campaign.lifecycle.state !== expected) {
          return Result.fail(new Ports.Storage.Conflict({
            entity: "campaign",
            key: id,
            message: `Campaign ${id} is ${campaign.lifecycle.state}, not ${expected}: someone changed it first; re-read it and decide again.`
          }))
        }
        const updated: CampaignRecord = { ...campaign, lifecycle: copy(next) }
        campaigns.set(id, updated)
        return ok(copy(updated))
      }),
    failureSummary: (campaignIds) =>
      atomically(() => {
        const groups = new Map<string, { count: number; text: string; lastAt: Date; campaigns: Set<string> }>()
        for (const campaign of campaignIds ?? [...campaigns.keys()]) {
          for (const contact of campaignContacts(campaign)) {
            const { state, lastError, stateTimes } = contact.progress
            if (!FAILED_STATES.has(state) || lastError === null) continue
            const at = stateTimes[state] ?? contact.addedAt
            const group = groups.get(lastError.code)
            if (group === undefined) {
              groups.set(lastError.code, { count: 1, text: lastError.text, lastAt: at, campaigns: new Set([campaign]) })
              continue
            }
            group.count++
            group.campaigns.add(campaign)
            if (at.getTime() > group.lastAt.getTime()) Object.assign(group, { text: lastError.text, lastAt: at })
          }
        }
        return ok([...groups.entries()]
          .map(([code, g]) => ({ code, count: g.count, text: g.text, lastAt: g.lastAt, campaignIds: [...g.campaigns].sort((a, b) => Number(a) - Number(b)) }))
          .sort((a, b) => b.count - a.count || byCodeUnit(a.code, b.code)))
      }),
    soonestRetries: (campaignIds, limit) =>
      atomically(() => {
        const waiting = (campaignIds ?? [...campaigns.keys()])
          .flatMap((campaign) => campaignContacts(campaign))
          .filter((contact) => contact.progress.state === "retry_scheduled")
        const due = (c: CampaignContact) => c.progress.nextAttemptAt?.getTime() ?? Number.POSITIVE_INFINITY
        return ok(waiting.sort((a, b) => due(a) - due(b) || byId(a, b)).slice(0, Math.max(0, Math.floor(limit))).map(copy))
      }),
    hasPendingContacts: (id) =>
      atomically(() => ok(campaignContacts(id).some((contact) => ContactState.isPending(contact.progress.state)))),
    campaignCounts: (id) =>
      atomically(() => {
        const counts: Record<ContactState.ContactStateId, number> = { ...Campaign.emptyCounts }
        for (const contact of campaignContacts(id)) counts[contact.progress.state]++
        return ok(counts)
      }),

    // Campaign contacts ----------------------------------------------------------------------------------
    addCampaignContacts: (campaignId, newContacts, now) =>
      atomically(() => {
        const ids = campaignContactIds.get(campaignId)
        const keys = campaignContactKeys.get(campaignId)
        if (!campaigns.has(campaignId) || ids === undefined || keys === undefined) {
          return Result.fail(new Ports.Storage.NotFound({ entity: "campaign", key: campaignId }))
        }
        let added = 0
        let invalid = 0
        let suppressed = 0
        const alreadyInCampaign: Array<string> = []
        for (const c of newContacts) {
          const recipient = c.recipient ?? ""
          const key = contactKey(c.recipient, c.phone)
          if (keys.has(key)) {
            alreadyInCampaign.push(recipient !== "" ? recipient : c.phone)
            continue
          }
          let progress: ContactState.ContactProgress
          if (recipient === "") {
            progress = ContactState.invalidRecord(copy(now), copy(c.invalid ?? missingRecipient))
            invalid++
          } else if (suppressions.has(recipient)) {
            progress = ContactState.invalidRecord(copy(now), {
              code: "opted_out",
              text: optedOutText(suppressions.get(recipient)?.reason ?? "opted out")
            })
            suppressed++
          } else {
            progress = ContactState.initial(copy(now))
          }
          const id = String(++counters.contact)
          putContact({
            contact: {
              id,
              campaignId,
              phone: c.phone,
              recipient,
              parameters: copy(c.parameters),
              directoryContactId: c.directoryContactId ?? null,
              timeZone: c.timeZone ?? null,
              progress,
              leaseOwner: null,
              addedAt: copy(now)
            },
            reservation: undefined
          })
          ids.push(id)
          keys.set(key, id)
          added++
        }
        return ok({ added, invalid, suppressed, alreadyInCampaign })
      }),
    listCampaignContacts: (campaignId, state, page) =>
      atomically(() => {
        const rows = campaignContacts(campaignId).filter((c) => state === undefined || c.progress.state === state)
        return ok(paginate(rows, page).map(copy))
      }),
    getCampaignContact: (id) =>
      atomically(() => ok(Option.fromNullishOr(contacts.get(id)?.contact).pipe(Option.map(copy)))),

    // Dispatch -------------------------------------------------------------------------------------------
    claim: (request) =>
      atomically(() => {
        const { account, now } = request
        const limit = Math.max(0, Math.floor(request.limit))
        const running = new Set(
          [...campaigns.values()]
            .filter((c) => c.accountName === account.name && Campaign.isSending(c.lifecycle))
            .map((c) => c.id)
        )
        const due: Array<CampaignContact> = []
        if (limit > 0 && running.size > 0) {
          for (const id of pendingIds) {
            const contact = contacts.get(id)?.contact
            if (contact === undefined || !running.has(contact.campaignId)) continue
            if (ContactState.isDue(contact.progress, now) && dueAt(contact) <= now.getTime()) due.push(contact)
          }
        }
        const capOf = (campaignId: string) => campaigns.get(campaignId)?.maxMps ?? null
        const take = (campaignId: string) => {
          const cap = capOf(campaignId)
          return cap === null ? limit : cappedTake(cap, request.horizonMs, limit)
        }
        const candidates: Array<Candidate> = fairShare(due, take).slice(0, limit).map((c) => ({
          id: c.id,
          campaignId: c.campaignId,
          recipient: c.recipient,
          progress: c.progress,
          timeZone: c.timeZone
        }))
        const campaignPaces = new Map<string, Quota.GroupPace>()
        for (const { campaignId } of candidates) {
          const cap = capOf(campaignId)
          if (cap !== null) campaignPaces.set(campaignId, campaignPace(cap, request.capFactor, campaignNextSend.get(campaignId) ?? null))
        }

        const key = Ports.Storage.quotaKey(account)
        const window = quotaWindow(key)
        const number = numberState(account.phoneNumberId)
        const recipients = new Set(candidates.map((c) => c.recipient))
        const pick = (rows: ReadonlyMap<string, Date>): Map<string, Date> =>
          new Map([...recipients].flatMap((r) => {
            const at = rows.get(r)
            return at === undefined ? [] : [[r, at] as const]
          }))
        const decision = decideClaims(
          candidates,
          {
            buckets: Quota.pruneBuckets(window.buckets, now),
            lastSentAt: pick(window.ledger),
            pairLastSent: pick(number.pairLastSent),
            throughput: number.throughput,
            campaignPaces
          },
          account,
          {
            limit,
            leaseMs: request.leaseMs,
            now,
            ...(request.horizonMs === undefined ? {} : { horizonMs: request.horizonMs }),
            sendWindows: new Map(candidates.flatMap((c) => {
              const sendWindow = campaigns.get(c.campaignId)?.sendWindow ?? null
              return sendWindow === null ? [] : [[c.campaignId, sendWindow] as const]
            }))
          }
        )
        for (const deferral of decision.deferrals) {
          const row = contacts.get(deferral.id)
          if (row !== undefined) putContact({ ...row, contact: { ...row.contact, progress: copy(deferral.progress) } })
        }

        addDeltas(window.buckets, decision.bucketDeltas)
        pruneOldBuckets(window.buckets, now)
        for (const [recipient, at] of decision.ledgerWrites) window.ledger.set(recipient, copy(at))
        for (const [recipient, at] of decision.pairWrites) number.pairLastSent.set(recipient, copy(at))
        number.throughput = copy(decision.throughput)
        for (const [campaignId, at] of decision.campaignNextFreeAt) campaignNextSend.set(campaignId, copy(at))

        const claimed: Array<Ports.Storage.ClaimedContact> = []
        for (const claim of decision.claims) {
          const row = contacts.get(claim.id)
          if (row === undefined) continue
          const updated: ContactRow = {
            contact: { ...row.contact, progress: copy(claim.progress), leaseOwner: request.owner },
            reservation: { quotaKey: key, slot: copy(claim.slot), previousSentAt: copy(claim.previousSentAt) }
          }
          putContact(updated)
          claimed.push({ contact: copy(updated.contact), slot: copy(claim.slot) })
        }
        return ok({ claimed, nextCapacity: copy(decision.nextCapacity), deferred: decision.deferrals.length })
      }),
    recordOutcomes: (outcomes, now) =>
      atomically(() => {
        let applied = 0
        const refused: Array<Refusal> = []
        for (const outcome of outcomes) {
          const row = contacts.get(outcome.contactId)
          if (row === undefined) {
            refused.push({ contactId: outcome.contactId, reason: "no such contact" })
            continue
          }
          const next = applyEvent(row, outcome.event, now)
          if (Result.isFailure(next)) {
            refused.push(next.failure)
            continue
          }
          applied++
          if (outcome.releaseQuota === true) giveBack(next.success)
        }
        return ok({ applied, refused, unmatched: [] })
      }),
    applyStatuses: (reports, now) =>
      atomically(() => {
        let applied = 0
        const refused: Array<Refusal> = []
        const unmatched: Array<StatusReport> = []
        for (const report of reports) {
          const id = wamidIndex.get(report.wamid) ?? report.contactId
          const row = id === undefined ? undefined : contacts.get(id)
          if (row === undefined) {
            unmatched.push(copy(report))
            continue
          }
          const next = applyEvent(row, report.event, now)
          if (Result.isFailure(next)) refused.push(next.failure)
          else applied++
        }
        return ok({ applied, refused, unmatched })
      }),
    reclaimExpiredLeases: (now, policy) =>
      atomically(() => {
        let reclaimed = 0
        const expired = [...pendingIds]
          .flatMap((id) => {
            const row = contacts.get(id)
            return row === undefined ? [] : [row]
          })
          .filter(({ contact: { progress } }) =>
            progress.state === "in_progress" &&
            progress.leaseExpiresAt !== null &&
            progress.leaseExpiresAt.getTime() <= now.getTime()
          )
          .sort((a, b) => byId(a.contact, b.contact))
        for (const row of expired) {
          const decision = RetryPolicy.decideUnknownOutcome(policy, row.contact.progress.attempts, now)
          // The reservation stays: the message may have gone out, and a resend to the same recipient is free.
          if (Result.isSuccess(applyEvent(row, { _tag: "LeaseExpired", decision }, now))) reclaimed++
        }
        return ok(reclaimed)
      }),
    cancelPending: (campaignId, now) =>
      atomically(() => {
        let cancelled = 0
        for (const contact of campaignContacts(campaignId)) {
          if (!ContactState.isPending(contact.progress.state)) continue
          const row = contacts.get(contact.id)
          if (row !== undefined && Result.isSuccess(applyEvent(row, { _tag: "Cancelled" }, now))) cancelled++
        }
        return ok(cancelled)
      }),
    throttleNumber: (phoneNumberId, now) =>
      atomically(() => {
        const number = numberState(phoneNumberId)
        number.throughput = copy(Quota.throttled(number.throughput, now))
        return ok(undefined)
      }),
    quotaUsage: (account, now) =>
      atomically(() => {
        const key = Ports.Storage.quotaKey(account)
        const buckets = quotaWindows.get(key)?.buckets ?? new Map<number, number>()
        const used = Quota.countFromBuckets(buckets, now)
        const limit = account.messagingLimit
        return ok({
          quotaKey: key,
          used,
          limit,
          remaining: limit === "unlimited" ? "unlimited" : Math.max(0, limit - used),
          nextFreeAt: copy(Quota.bucketsNextFreeAt(buckets, limit, now))
        })
      }),

    // Suppression list -----------------------------------------------------------------------------------
    suppress: (entries, now) =>
      atomically(() => {
        let added = 0
        for (const { recipient, reason } of entries) {
          if (suppressions.has(recipient)) continue
          suppressions.set(recipient, { recipient, reason, createdAt: copy(now) })
          added++
        }
        // The recipients' contacts still waiting to be sent are settled now; a send in flight is not called back.
        const reasons = new Map(entries.map((e) => [e.recipient, suppressions.get(e.recipient)?.reason ?? e.reason]))
        for (const id of [...pendingIds]) {
          const row = contacts.get(id)
          const reason = row === undefined ? undefined : reasons.get(row.contact.recipient)
          if (row === undefined || reason === undefined || row.contact.progress.state === "in_progress") continue
          applyEvent(row, { _tag: "OptedOut", reason: optedOutText(reason) }, now)
        }
        return ok(added)
      }),
    unsuppress: (recipient) => atomically(() => ok(suppressions.delete(recipient))),
    listSuppressions: () =>
      atomically(() => ok([...suppressions.values()].sort((a, b) => byCodeUnit(a.recipient, b.recipient)).map(copy))),

    // Event log ------------------------------------------------------------------------------------------
    appendEvents: (batch) =>
      atomically(() => {
        // Event data is stored as JSON, as PostgreSQL's jsonb does: what cannot be JSON fails the whole batch.
        let encoded: Array<Omit<LoggedEvent, "id">>
        try {
          encoded = batch.map((e) => ({ ...e, data: JSON.parse(JSON.stringify(e.data)) as LoggedEvent["data"], at: copy(e.at) }))
        } catch (error) {
          return Result.fail(new Ports.Storage.StorageError({
            operation: "appendEvents",
            message: `Event data must be JSON: ${error instanceof Error ? error.message : String(error)}`
          }))
        }
        for (const event of encoded) events.push({ id: String(++counters.event), ...event })
        return ok(undefined)
      }),
    listEvents: (campaignId, page) =>
      atomically(() =>
        ok(paginate(events.filter((e) => campaignId === undefined || e.campaignId === campaignId), page).map(copy))
      ),

    // Retry failed contacts (issue 11, item 3) -------------------------------------------------------------
    retryContacts: (campaignId, selection, now) =>
      atomically(() => {
        const result = { retried: 0, suppressed: 0 }
        const state = campaigns.get(campaignId)?.lifecycle.state
        if (state !== "running" && state !== "paused" && state !== "finished") return ok(result)
        for (const contact of campaignContacts(campaignId)) {
          const progress = contact.progress
          if (!selection.states.includes(progress.state) || !ContactState.isRetryable(progress.state)) continue
          if (selection.codes.length > 0 && !selection.codes.includes(progress.lastError?.code ?? "")) continue
          if (suppressions.has(contact.recipient)) {
            result.suppressed++
            continue
          }
          const row = contacts.get(contact.id)
          if (row !== undefined && Result.isSuccess(applyEvent(row, { _tag: "RetryRequested" }, now))) result.retried++
        }
        return ok(result)
      })
  }
  return storage
})

/** The in-memory adapter as the Storage service; every build of the layer starts empty. */
export const layer: Layer.Layer<Ports.Storage.Storage> = Layer.effect(Ports.Storage.Storage, make)
