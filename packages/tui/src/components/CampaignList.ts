/**
 * The campaign list: two lines per campaign — name, account, template and state (with the pause reason); then
 * the stacked progress bar, % done, send rate with its sparkline, and ETA — plus the selected campaign's legend.
 */
import { Campaign } from "@megaphone/core"
import type React from "react"
import { duration, etaSeconds, percent, perSecond, settled, sparkline } from "../Progress.ts"
import type { CampaignSummary } from "../Source.ts"
import { campaignColor, type Theme } from "../Theme.ts"
import { legend, stackedBar } from "./StackedBar.ts"
import { fit, line, right, span } from "./Text.ts"

/** What the dashboard measured of a campaign over its last polls. */
export interface Motion {
  /** Settled contacts per second, averaged over the last seconds. */
  readonly rate: number
  /** Rates between consecutive polls, oldest first. */
  readonly recent: ReadonlyArray<number>
}

const SPARK = 8

/** A short word for the rate column of a campaign that is not sending. */
const idle: Readonly<Record<Campaign.CampaignStateId, { readonly en: string; readonly cs: string }>> = {
  draft: { en: "draft", cs: "koncept" },
  running: { en: "", cs: "" },
  paused: { en: "paused", cs: "pauza" },
  finished: { en: "finished", cs: "hotovo" },
  stopped: { en: "stopped", cs: "ukončeno" }
}

/** The rate and ETA cells of a campaign: measured while running, the state's word otherwise. */
const motionCells = (c: CampaignSummary, motion: Motion, theme: Theme): { readonly rate: string; readonly eta: string } => {
  const state = c.lifecycle.state
  if (state !== "running") {
    return { rate: idle[state][theme.lang], eta: state === "finished" ? (theme.lang === "cs" ? "hotovo" : "done") : "—" }
  }
  const pending = Campaign.pendingContacts(c.counts)
  const eta = etaSeconds(pending, motion.rate)
  return { rate: perSecond(motion.rate), eta: eta === undefined ? "—" : duration(eta) }
}

const nameWidthFor = (width: number): number => Math.max(10, Math.min(30, Math.floor(width * 0.25)))

/** The column titles over the list, with how many campaigns are shown of how many. */
export const campaignHeader = (width: number, shown: number, total: number): string =>
  `  ${fit(`CAMPAIGNS ${shown === total ? total : `${shown}/${total}`}`, nameWidthFor(width))} ${fit("ACCOUNT", 8)} ${fit("TEMPLATE", 16)} STATE`

/** The two lines of one campaign. */
const rows = (c: CampaignSummary, selected: boolean, motion: Motion, theme: Theme, width: number, numbers: number, timeZone: string) => {
  const total = Campaign.totalContacts(c.counts)
  const done = settled(c.counts)
  const marker = selected ? "▶ " : "  "
  const nameWidth = nameWidthFor(width)
  const head = `${fit(c.name, nameWidth)} ${fit(c.account, 8)} ${fit(`${c.template} (${c.language})`, 16)} `
  const cells = motionCells(c, motion, theme)
  const tail = ` ${right(String(percent(done, total)), 3)}% ${right(`${done}/${total}`, numbers)} ${right(cells.rate, 8)} ` +
    `${c.lifecycle.state === "running" ? sparkline(motion.recent, SPARK) : " ".repeat(SPARK)} ${theme.lang === "cs" ? "zbývá" : "ETA"} ${right(cells.eta, 7)}`
  const barWidth = Math.max(4, width - 4 - [...tail].length)
  return [
    line(`${c.id}-a`,
      span(theme, marker + head, { bold: selected }),
      span(theme, Campaign.describe(c.lifecycle, theme.lang, timeZone), { color: campaignColor[c.lifecycle.state], bold: selected }),
      c.maxMps === undefined || c.maxMps === null ? "" : span(theme, ` · ≤ ${c.maxMps}/s`, { dim: true }),
      c.sendWindow === undefined || c.sendWindow === null
        ? ""
        : span(theme, ` · ${theme.lang === "cs" ? "odesílá" : "sends"} ${c.sendWindow}`, { dim: true })),
    line(`${c.id}-b`, "  [", ...stackedBar(theme, c.counts, barWidth), "]", tail)
  ]
}

/** Props of {@link CampaignList}. */
export interface CampaignListProps {
  readonly theme: Theme
  readonly campaigns: ReadonlyArray<CampaignSummary>
  readonly selected: number
  readonly motion: (id: string) => Motion
  /** Lines available for the campaigns (two each). */
  readonly lines: number
  readonly width: number
  readonly search: string
  /** The zone a scheduled start is shown in (default: the machine's). */
  readonly timeZone?: string | undefined
}

/** The visible window of the list (the selected campaign always in it), or a hint when there is nothing. */
export const campaignList = (props: CampaignListProps): ReadonlyArray<React.ReactElement> => {
  const { theme, campaigns, selected } = props
  if (campaigns.length === 0) {
    return [line("none", props.search === ""
      ? (theme.lang === "cs" ? "  Zatím žádné kampaně." : "  No campaigns yet. Create one: megaphone campaigns create --name NAME --account ACCOUNT --template TEMPLATE")
      : `  No campaign matches “${props.search}”. Esc clears the search.`)]
  }
  const fits = Math.max(1, Math.floor(props.lines / 2))
  const first = Math.min(Math.max(0, selected - fits + 1), Math.max(0, campaigns.length - fits))
  const numbers = Math.max(...campaigns.map((c) => String(Campaign.totalContacts(c.counts)).length)) * 2 + 1
  return campaigns.slice(first, first + fits).flatMap((c, i) =>
    rows(c, first + i === selected, props.motion(c.id), theme, props.width, numbers, props.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone)
  )
}

/**
 * Two lines on the selected campaign: the legend (counts and % per state), and when the system paused it, the
 * whole reason (the list's state column may cut it).
 */
export const selectedInfo = (theme: Theme, c: CampaignSummary | undefined, width: number): ReadonlyArray<React.ReactElement> => {
  if (c === undefined) return [line("legend-0", " "), line("legend-1", " ")]
  const reason = c.lifecycle.pauseReason
  const legendLines = legend(theme, c.counts, width - 2, reason?._tag === "System" ? 1 : 2)
  const why = reason?._tag === "System"
    ? [line("why", span(theme, `  ⏸ ${reason.explanation}${reason.code === undefined ? "" : ` (${reason.code})`}`, { color: "yellow" }))]
    : []
  const all = [...legendLines.map((parts, i) => line(`legend-${i}`, "  ", ...parts)), ...why]
  return [...all, ...Array.from({ length: 2 - all.length }, (_, i) => line(`legend-pad-${i}`, " "))]
}
