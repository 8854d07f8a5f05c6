/**
 * How states look: one colour per contact state, and — without colours (`NO_COLOR`, a dumb terminal) — one
 * distinct glyph per state, so the stacked bar still reads.
 */
import type { Campaign, ContactState } from "@megaphone/core"

/** Whether to draw in colour, and the language of the labels. */
export interface Theme {
  readonly color: boolean
  readonly lang: "en" | "cs"
}

/** Colour (an Ink/chalk colour name) of each contact state. */
export const stateColor: Readonly<Record<ContactState.ContactStateId, string>> = {
  initial: "gray",
  in_progress: "cyan",
  sent: "blue",
  delivered: "green",
  read: "greenBright",
  retry_scheduled: "yellow",
  error: "red",
  invalid_record: "magenta",
  sending_failed: "redBright",
  cancelled: "white"
}

/** The glyph of each state in a bar without colours; with colours every state is a full block but `initial`. */
export const stateGlyph: Readonly<Record<ContactState.ContactStateId, string>> = {
  initial: "·",
  in_progress: ">",
  sent: "▒",
  delivered: "▓",
  read: "█",
  retry_scheduled: "r",
  error: "E",
  invalid_record: "x",
  sending_failed: "F",
  cancelled: "-"
}

/** The cell the bar draws for a state. */
export const cell = (state: ContactState.ContactStateId, theme: Theme): string =>
  theme.color ? (state === "initial" ? "░" : "█") : stateGlyph[state]

/** Colour of a campaign state. */
export const campaignColor: Readonly<Record<Campaign.CampaignStateId, string>> = {
  draft: "gray",
  running: "green",
  paused: "yellow",
  finished: "blue",
  stopped: "red"
}

/** Colour of Meta's quality rating. */
export const qualityColor = (rating: string | null): string | undefined =>
  rating === "GREEN" ? "green" : rating === "YELLOW" ? "yellow" : rating === "RED" ? "red" : undefined

/**
 * Whether the environment asks for no colours: `NO_COLOR` set to anything non-empty (no-color.org), or
 * `TERM=dumb`.
 */
export const colorsWanted = (env: Readonly<Record<string, string | undefined>>): boolean =>
  (env["NO_COLOR"] ?? "") === "" && env["TERM"] !== "dumb"
