/**
 * Runs the dashboard in the terminal: full screen (the alternate screen, restored on exit, as `htop` does),
 * only changed lines redrawn, so a refresh every second does not flicker.
 */
import { render } from "ink"
import { Dashboard, type DashboardProps } from "./Dashboard.ts"
import { h } from "./components/Text.ts"
import { colorsWanted } from "./Theme.ts"

/** Options of {@link run}: the dashboard's, plus the streams (default the process's). */
export interface RunOptions extends Omit<DashboardProps, "color"> {
  /** Draw in colour; default: unless `NO_COLOR` is set or `TERM=dumb`. */
  readonly color?: boolean
  readonly stdin?: NodeJS.ReadStream
  readonly stdout?: NodeJS.WriteStream
}

/** Shows the dashboard until `q` (or Ctrl+C); resolves then. */
export const run = async (options: RunOptions): Promise<void> => {
  const { stdin, stdout, ...props } = options
  const color = options.color ?? colorsWanted(process.env)
  const app = render(h(Dashboard, { ...props, color }), {
    // Ink would draw only the last frame when `CI` is set; an operator's terminal is a terminal all the same.
    interactive: Boolean((stdout ?? process.stdout).isTTY),
    ...(stdin === undefined ? {} : { stdin }),
    ...(stdout === undefined ? {} : { stdout }),
    alternateScreen: true,
    incrementalRendering: true,
    exitOnCtrlC: true,
    patchConsole: true,
    maxFps: 10
  })
  await app.waitUntilExit()
}
