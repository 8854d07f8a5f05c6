/**
 * The dashboard: polls its {@link Source} (campaigns and accounts every `refreshMs`, problems every
 * `slowRefreshMs`), measures send rates from successive polls, and draws one full-screen frame of exactly the
 * terminal's height — the campaign list (or a campaign's contacts), accounts, problems, a status line and the
 * keys. Keys call the source's actions; a stop and a retry ask first; a read-only source refuses them with the reason.
 */
import { Campaign, ContactState } from "@megaphone/core"
import { Box, useApp, useInput, useWindowSize } from "ink"
import React, { useEffect, useRef, useState } from "react"
import * as AddForm from "./AddForm.ts"
import { campaignHeader, campaignList, type Motion, selectedInfo } from "./components/CampaignList.ts"
import { contactTable, DETAIL_FIXED_LINES } from "./components/CampaignDetail.ts"
import * as Overlays from "./components/Overlays.ts"
import { accountLines, problemCount, problemLines } from "./components/Panels.ts"
import { blank, h, line, span } from "./components/Text.ts"
import { clockTime } from "./Format.ts"
import { rate, rates, record, type Sample, settled } from "./Progress.ts"
import type { AccountStatus, AddContactsReport, CampaignSummary, ContactPage, ErrorGroup, Retries, Source, TemplateIssue } from "./Source.ts"
import type { Theme } from "./Theme.ts"

/** Options of the dashboard. */
export interface DashboardProps {
  readonly source: Source
  /** Language of the state labels (default English; `cs`: the seed's Czech). */
  readonly lang?: "en" | "cs"
  /** Draw in colour (default true; false for `NO_COLOR`). */
  readonly color?: boolean
  /** How often campaigns, accounts and the open page of contacts are read (default 1 s). */
  readonly refreshMs?: number
  /** How often errors, retries and template issues are read (default 5 s). */
  readonly slowRefreshMs?: number
  /** The clock (default the system's); tests step it. */
  readonly now?: () => Date
  /** Time zone of the times shown (default the local one). */
  readonly timeZone?: string
  /** A fixed size instead of the terminal's (tests). */
  readonly size?: { readonly columns: number; readonly rows: number }
}

interface Data {
  readonly campaigns: ReadonlyArray<CampaignSummary>
  readonly accounts: ReadonlyArray<AccountStatus>
  readonly errors: ReadonlyArray<ErrorGroup>
  readonly retries: Retries
  readonly issues: ReadonlyArray<TemplateIssue>
  readonly updatedAt: Date | undefined
  readonly failure: string | undefined
}

const noData: Data = {
  campaigns: [],
  accounts: [],
  errors: [],
  retries: { total: 0, soonest: [] },
  issues: [],
  updatedAt: undefined,
  failure: undefined
}

type Overlay =
  | { readonly _tag: "None" }
  | { readonly _tag: "Help" }
  | { readonly _tag: "ConfirmStop"; readonly id: string }
  | { readonly _tag: "ConfirmRetry"; readonly id: string }
  | { readonly _tag: "Add"; readonly id: string; readonly form: AddForm.Form }

interface Detail {
  readonly id: string
  readonly state: ContactState.ContactStateId | undefined
  /** `afterId`s of the pages before the current one (empty on the first page). */
  readonly trail: ReadonlyArray<string | undefined>
  readonly afterId: string | undefined
  readonly row: number
}

interface Message {
  readonly text: string
  readonly tone: "ok" | "error" | "info"
}

const toneColor = { ok: "green", error: "red", info: "cyan" } as const

/** The message of anything thrown or rejected. */
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** A one-line summary of adding contacts (as the CLI's add-contacts says it). */
const addSummary = (c: CampaignSummary, r: AddContactsReport): string =>
  `Added ${r.added} contact(s) to “${c.name}”: ${r.added - r.invalid - r.suppressed} to send, ${r.invalid} invalid, ` +
  `${r.suppressed} opted out; ${r.duplicates} duplicate(s) skipped, ${r.rejected} row(s) rejected. The campaign is ${r.state}.`

const filterStates: ReadonlyArray<ContactState.ContactStateId | undefined> = [undefined, ...ContactState.states]

/** Fixed lines of the list view: header, column header, selected info (2), accounts title, status, keys. */
const LIST_FIXED_LINES = 7

/** The dashboard component. */
export const Dashboard = (props: DashboardProps): React.ReactElement => {
  const { source } = props
  const refreshMs = props.refreshMs ?? 1000
  const slowRefreshMs = props.slowRefreshMs ?? 5000
  const now = props.now ?? (() => new Date())
  const theme: Theme = { color: props.color ?? true, lang: props.lang ?? "en" }
  const terminal = useWindowSize()
  const size = props.size ?? terminal
  const { exit } = useApp()

  const [data, setData] = useState<Data>(noData)
  const history = useRef(new Map<string, ReadonlyArray<Sample>>())
  const [refreshKey, setRefreshKey] = useState(0)
  const [selectedId, setSelectedId] = useState<string | undefined>(undefined)
  const [search, setSearch] = useState("")
  const [searching, setSearching] = useState(false)
  const [overlay, setOverlay] = useState<Overlay>({ _tag: "None" })
  const [message, setMessage] = useState<Message | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const [detail, setDetail] = useState<Detail | undefined>(undefined)
  const [page, setPage] = useState<ContactPage | undefined>(undefined)

  const pageSize = Math.max(1, size.rows - LIST_FIXED_LINES - DETAIL_FIXED_LINES)

  // Campaigns and accounts every refreshMs; errors, retries and template issues every slowRefreshMs.
  useEffect(() => {
    let alive = true
    let inFlight = false
    let slowAt = Number.NEGATIVE_INFINITY
    const tick = async () => {
      if (inFlight) return
      inFlight = true
      try {
        const started = now().getTime()
        const slow = started - slowAt >= slowRefreshMs
        const [campaigns, accounts, problems] = await Promise.all([
          source.campaigns(),
          source.accounts(),
          slow ? Promise.all([source.recentErrors(), source.retries(), source.templateIssues()]) : undefined
        ])
        if (!alive) return
        if (slow) slowAt = started
        const at = now()
        for (const c of campaigns) {
          history.current.set(c.id, record(history.current.get(c.id) ?? [], { at: at.getTime(), settled: settled(c.counts) }))
        }
        setData((d) => ({
          ...d,
          campaigns,
          accounts,
          ...(problems === undefined ? {} : { errors: problems[0], retries: problems[1], issues: problems[2] }),
          updatedAt: at,
          failure: undefined
        }))
      } catch (error) {
        if (alive) setData((d) => ({ ...d, failure: messageOf(error) }))
      } finally {
        inFlight = false
      }
    }
    void tick()
    const timer = setInterval(() => void tick(), refreshMs)
    return () => {
      alive = false
      clearInterval(timer)
    }
  }, [source, refreshMs, slowRefreshMs, refreshKey])

  // The open page of contacts, refreshed as often as the list.
  const detailId = detail?.id
  const detailState = detail?.state
  const detailAfter = detail?.afterId
  useEffect(() => {
    if (detailId === undefined) return
    let alive = true
    let inFlight = false
    const load = async () => {
      if (inFlight) return
      inFlight = true
      try {
        const loaded = await source.contacts(detailId, {
          limit: pageSize,
          ...(detailState === undefined ? {} : { state: detailState }),
          ...(detailAfter === undefined ? {} : { afterId: detailAfter })
        })
        if (alive) setPage(loaded)
      } catch (error) {
        if (alive) setMessage({ text: `Cannot read the contacts: ${messageOf(error)}`, tone: "error" })
      } finally {
        inFlight = false
      }
    }
    void load()
    const timer = setInterval(() => void load(), refreshMs)
    return () => {
      alive = false
      clearInterval(timer)
    }
  }, [source, detailId, detailState, detailAfter, pageSize, refreshMs, refreshKey])

  const needle = search.trim().toLowerCase()
  const shown = needle === ""
    ? data.campaigns
    : data.campaigns.filter((c) => [c.id, c.name, c.account, c.template].some((f) => f.toLowerCase().includes(needle)))
  const selectedIndex = Math.max(0, shown.findIndex((c) => c.id === selectedId))
  const selected: CampaignSummary | undefined = detail === undefined
    ? shown[selectedIndex]
    : data.campaigns.find((c) => c.id === detail.id)

  const motion = (id: string): Motion => {
    const samples = history.current.get(id) ?? []
    return { rate: rate(samples, 10_000), recent: rates(samples) }
  }
  const throughput = (account: string): number =>
    data.campaigns.filter((c) => c.account === account && c.lifecycle.state === "running").reduce((n, c) => n + motion(c.id).rate, 0)

  // ---------------------------------------------------------------------------------------------------------
  // Actions

  const readOnly = source.mode._tag === "ReadOnly" ? source.mode : undefined

  const run = (label: string, action: () => Promise<string>) => {
    setBusy(true)
    setMessage({ text: `${label}…`, tone: "info" })
    action().then(
      (text) => setMessage({ text, tone: "ok" }),
      (error: unknown) => setMessage({ text: messageOf(error), tone: "error" })
    ).finally(() => {
      setBusy(false)
      setRefreshKey((k) => k + 1)
    })
  }

  /** Replaces a campaign with the answer of an action, so the frame shows it before the next poll. */
  const applyChange = (changed: CampaignSummary) =>
    setData((d) => ({ ...d, campaigns: d.campaigns.map((c) => (c.id === changed.id ? changed : c)) }))

  /** Whether the operation may go ahead: not read-only, and the campaign's state allows it (the core decides). */
  const allowed = (c: CampaignSummary, operation: "pause" | "resume" | "stop" | "add" | "retry"): boolean => {
    if (readOnly !== undefined) {
      setMessage({ text: `Read-only — ${readOnly.reason}`, tone: "error" })
      return false
    }
    if (busy) return false
    const at = now()
    const decided = operation === "pause"
      ? Campaign.pause(c.lifecycle, at)
      : operation === "resume"
      ? Campaign.resume(c.lifecycle, c.counts, at)
      : operation === "stop"
      ? Campaign.stop(c.lifecycle, at)
      : operation === "retry"
      ? Campaign.retry(c.lifecycle)
      : Campaign.addContacts(c.lifecycle)
    if (decided._tag === "Failure") {
      setMessage({ text: decided.failure.message, tone: "error" })
      return false
    }
    return true
  }

  const pause = (c: CampaignSummary) =>
    run(`Pausing “${c.name}”`, async () => {
      const { campaign } = await source.pause(c.id)
      applyChange(campaign)
      return `“${campaign.name}”: ${Campaign.describe(campaign.lifecycle, theme.lang)}.`
    })

  const resume = (c: CampaignSummary) =>
    run(`Resuming “${c.name}”`, async () => {
      const { campaign } = await source.resume(c.id)
      applyChange(campaign)
      return `“${campaign.name}”: ${Campaign.describe(campaign.lifecycle, theme.lang)}.`
    })

  const stop = (c: CampaignSummary) =>
    run(`Stopping “${c.name}”`, async () => {
      const { campaign, cancelled } = await source.stop(c.id)
      applyChange(campaign)
      return `“${campaign.name}”: ${Campaign.describe(campaign.lifecycle, theme.lang)}; ${cancelled} contact(s) not yet sent were cancelled.`
    })

  const add = (c: CampaignSummary, request: Parameters<Source["addContacts"]>[1]) =>
    run(`Adding contacts to “${c.name}”`, async () => addSummary(c, await source.addContacts(c.id, request)))

  // Retry failed (issue 11, item 3): every failed contact, as `campaigns retry ID --state error,sending_failed`.
  const retry = (c: CampaignSummary) =>
    run(`Retrying the failed contacts of “${c.name}”`, async () => {
      const { campaign, retried, suppressed } = await source.retry(c.id, { states: ContactState.retryableStates })
      applyChange(campaign)
      // The campaign's state shows in the list (a finished one runs again); the line says what the retry did.
      return `“${campaign.name}”: ${retried} contact(s) put back to send; ${suppressed} skipped: on the suppression list.`
    })

  /** `R`: asks first, unless the state refuses it or there is nothing failed to retry. */
  const askRetry = (c: CampaignSummary) => {
    if (!allowed(c, "retry")) return
    if (Overlays.retryable(c) === 0) {
      return setMessage({ text: `Nothing to retry: “${c.name}” has no contacts in error or sending failed.`, tone: "info" })
    }
    setOverlay({ _tag: "ConfirmRetry", id: c.id })
  }

  // ---------------------------------------------------------------------------------------------------------
  // Keys

  const openDetail = (c: CampaignSummary) => {
    setPage(undefined)
    setDetail({ id: c.id, state: undefined, trail: [], afterId: undefined, row: 0 })
  }

  const onOverlayKey = (input: string, key: Parameters<Parameters<typeof useInput>[0]>[1]): void => {
    switch (overlay._tag) {
      case "None":
        return
      case "Help":
        return setOverlay({ _tag: "None" })
      case "ConfirmStop": {
        setOverlay({ _tag: "None" })
        const c = data.campaigns.find((x) => x.id === overlay.id)
        if (input === "y" && c !== undefined) return stop(c)
        return setMessage({ text: "Not stopped.", tone: "info" })
      }
      case "ConfirmRetry": {
        setOverlay({ _tag: "None" })
        const c = data.campaigns.find((x) => x.id === overlay.id)
        if (input === "y" && c !== undefined) return retry(c)
        return setMessage({ text: "Not retried.", tone: "info" })
      }
      case "Add": {
        const form = overlay.form
        const c = data.campaigns.find((x) => x.id === overlay.id)
        const set = (next: AddForm.Form) => setOverlay({ ...overlay, form: next })
        if (key.escape) return setOverlay({ _tag: "None" })
        if (key.return) {
          const request = AddForm.toRequest(form)
          if ("focus" in request) return set(request)
          setOverlay({ _tag: "None" })
          return c === undefined ? undefined : add(c, request)
        }
        if (key.tab || key.downArrow) return set(AddForm.move(form, key.shift ? -1 : 1))
        if (key.upArrow) return set(AddForm.move(form, -1))
        if (form.focus === "from" && (key.leftArrow || key.rightArrow)) return set(AddForm.cycle(form, key.leftArrow ? -1 : 1))
        if (key.backspace || key.delete) return set(AddForm.erase(form))
        if (input !== "" && !key.ctrl && !key.meta) return set(AddForm.type(form, input))
        return
      }
    }
  }

  useInput((input, key) => {
    if (overlay._tag !== "None") return onOverlayKey(input, key)
    if (searching) {
      if (key.escape) {
        setSearch("")
        return setSearching(false)
      }
      if (key.return) return setSearching(false)
      if (key.backspace || key.delete) return setSearch((s) => [...s].slice(0, -1).join(""))
      if (input !== "" && !key.ctrl && !key.meta) return setSearch((s) => s + input)
      return
    }
    if (input === "q") return exit()
    if (input === "?") return setOverlay({ _tag: "Help" })
    if (key.escape || (detail !== undefined && key.backspace)) {
      if (detail !== undefined) {
        setDetail(undefined)
        return setPage(undefined)
      }
      if (search !== "") return setSearch("")
      return setMessage(undefined)
    }
    if (detail === undefined) {
      if (input === "/") {
        setSearching(true)
        return setMessage(undefined)
      }
      if (key.upArrow || key.downArrow) {
        const next = shown[Math.min(shown.length - 1, Math.max(0, selectedIndex + (key.upArrow ? -1 : 1)))]
        return setSelectedId(next?.id)
      }
      if (key.return && selected !== undefined) return openDetail(selected)
    } else {
      const rows = page?.contacts.length ?? 0
      if (key.upArrow || key.downArrow) {
        return setDetail({ ...detail, row: Math.min(Math.max(0, rows - 1), Math.max(0, detail.row + (key.upArrow ? -1 : 1))) })
      }
      if (key.leftArrow || key.rightArrow) {
        const at = filterStates.indexOf(detail.state)
        const state = filterStates[(at + (key.leftArrow ? -1 : 1) + filterStates.length) % filterStates.length]
        setPage(undefined)
        return setDetail({ ...detail, state, trail: [], afterId: undefined, row: 0 })
      }
      if ((input === "n" || key.pageDown) && page !== undefined && page.nextAfterId !== null) {
        const afterId = page.nextAfterId
        setPage(undefined)
        return setDetail({ ...detail, trail: [...detail.trail, detail.afterId], afterId, row: 0 })
      }
      if ((input === "b" || key.pageUp) && detail.trail.length > 0) {
        setPage(undefined)
        return setDetail({ ...detail, trail: detail.trail.slice(0, -1), afterId: detail.trail.at(-1), row: 0 })
      }
    }
    if (selected === undefined) return
    if (input === "p" && allowed(selected, "pause")) return pause(selected)
    if (input === "r" && allowed(selected, "resume")) return resume(selected)
    if (input === "s" && allowed(selected, "stop")) return setOverlay({ _tag: "ConfirmStop", id: selected.id })
    if (input === "a" && allowed(selected, "add")) return setOverlay({ _tag: "Add", id: selected.id, form: AddForm.empty })
    if (input === "R") return askRetry(selected)
  })

  // ---------------------------------------------------------------------------------------------------------
  // The frame

  const at = now()
  const width = size.columns
  const modeText = source.mode._tag === "Live" ? `● live · ${source.mode.description}` : `read-only · ${source.mode.description}`
  const header = line("header",
    span(theme, "Megaphone", { bold: true }), "  ",
    span(theme, modeText, { color: source.mode._tag === "Live" ? "green" : "yellow" }),
    data.updatedAt === undefined
      ? "  connecting…"
      : data.failure === undefined
      ? span(theme, `  ${clockTime(data.updatedAt, at, props.timeZone)}`, { dim: true })
      : span(theme, `  ⚠ stale since ${clockTime(data.updatedAt, at, props.timeZone)}`, { color: "red" }))

  const status = message !== undefined
    ? line("status", span(theme, message.text, { color: toneColor[message.tone] }))
    : searching
    ? line("status", `/ ${search}▌`, span(theme, "   Enter keep · Esc clear", { dim: true }))
    : data.failure !== undefined
    ? line("status", span(theme, `⚠ Cannot refresh: ${data.failure}`, { color: "red" }))
    : search !== ""
    ? line("status", `Search: “${search}” — ${shown.length} of ${data.campaigns.length}`, span(theme, "   Esc clears", { dim: true }))
    : blank("status")

  const off = readOnly === undefined ? "" : " (read-only)"
  const keys = line("keys", span(theme, detail === undefined
    ? `↑↓ ⏎ detail  p pause  r resume  s stop  R retry  a add${off}  / search  ? help  q quit`
    : `↑↓ row  ←→ state  n/b page  Esc back  p r s R a${off}  ? help  q quit`, { dim: true, inverse: !theme.color }))

  let body: Array<React.ReactElement>
  const bodyLines = Math.max(0, size.rows - 3)
  if (overlay._tag === "Help") {
    body = [...Overlays.help(theme, readOnly !== undefined)]
  } else if ((overlay._tag === "ConfirmStop" || overlay._tag === "ConfirmRetry" || overlay._tag === "Add") && data.campaigns.some((c) => c.id === overlay.id)) {
    const c = data.campaigns.find((x) => x.id === overlay.id) as CampaignSummary
    body = [
      ...campaignList({ theme, campaigns: [c], selected: 0, motion, lines: 2, width, search: "", timeZone: props.timeZone }),
      blank("gap"),
      ...(overlay._tag === "ConfirmStop"
        ? Overlays.confirmStop(theme, c)
        : overlay._tag === "ConfirmRetry"
        ? Overlays.confirmRetry(theme, c)
        : Overlays.addForm(theme, c, overlay.form))
    ]
  } else if (detail !== undefined) {
    body = selected === undefined
      ? [line("gone", `  Campaign ${detail.id} is not listed (any more). Esc goes back.`)]
      : [
        ...campaignList({ theme, campaigns: [selected], selected: 0, motion, lines: 2, width, search: "", timeZone: props.timeZone }),
        ...selectedInfo(theme, selected, width),
        ...contactTable({
          theme,
          page,
          state: detail.state,
          pageNumber: detail.trail.length + 1,
          selected: detail.row,
          rows: pageSize,
          width,
          now: at,
          timeZone: props.timeZone
        })
      ]
  } else {
    const problems = { issues: data.issues, errors: data.errors, retries: data.retries }
    const accountCount = Math.max(1, Math.min(data.accounts.length, 3))
    let problemLinesWanted = problemCount(problems) === 0 ? 0 : 1 + Math.min(problemCount(problems), 4)
    const room = size.rows - LIST_FIXED_LINES - accountCount
    if (room - problemLinesWanted < 2) problemLinesWanted = Math.max(0, room - 2)
    if (problemLinesWanted === 1) problemLinesWanted = 0
    const campaignLines = Math.max(2, room - problemLinesWanted)
    const listed = campaignList({ theme, campaigns: shown, selected: selectedIndex, motion, lines: campaignLines, width, search, timeZone: props.timeZone })
    body = [
      line("campaigns-title", span(theme, campaignHeader(width, shown.length, data.campaigns.length), { bold: true })),
      ...listed,
      ...selectedInfo(theme, shown[selectedIndex], width),
      ...Array.from({ length: Math.max(0, campaignLines - listed.length) }, (_, i) => blank(`cpad-${i}`)),
      line("accounts-title", span(theme, "ACCOUNTS     tier      24 h recipients        quality  msg/s", { bold: true })),
      ...accountLines(theme, data.accounts, throughput, at, props.timeZone, accountCount),
      ...(problemLinesWanted === 0
        ? []
        : [
          line("problems-title", span(theme, "PROBLEMS", { bold: true })),
          ...problemLines(theme, problems, at, props.timeZone, problemLinesWanted - 1)
        ])
    ]
  }
  const fitted = body.slice(0, bodyLines)
  while (fitted.length < bodyLines) fitted.push(blank(`pad-${fitted.length}`))
  return h(Box, { flexDirection: "column", width, height: size.rows }, header, ...fitted, status, keys)
}
