// tmux as the pseudo-terminal of the dashboard's tests: a server of the test's own (its socket), the pane's text.
import { execFile, execFileSync } from "node:child_process"
import { promisify } from "node:util"

/** Whether tmux is installed (the pseudo-terminal tests are skipped without it). */
export const hasTmux = (() => {
  try {
    execFileSync("tmux", ["-V"])
    return true
  } catch {
    return false
  }
})()

/** tmux commands against the server on `socket` (one per test file, killed by `kill-server`). */
export const tmuxOn = (socket: string) => {
  const tmux = async (...args: ReadonlyArray<string>): Promise<string> =>
    (await promisify(execFile)("tmux", ["-L", socket, ...args])).stdout
  /** What the pane shows now, line by line (trailing spaces dropped). */
  const screen = async (session: string): Promise<string> =>
    (await tmux("capture-pane", "-p", "-t", session)).replace(/ +$/gm, "").replace(/\n$/, "")
  return { tmux, screen }
}
