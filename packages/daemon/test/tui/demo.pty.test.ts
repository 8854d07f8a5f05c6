// Issue 9, point 1: `megaphone demo` (what `npm start` runs) in a real pseudo-terminal (tmux, 80×24) on the
// production binary: the dashboard shows the demo's campaign progressing, the template pause Meta injects
// half-way (the campaign paused by the daemon, then resumed); q quits with exit 0 and leaves no temporary
// directory and no child process. Skipped where tmux is missing.
import { execFileSync } from "node:child_process"
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect, it } from "vitest"
import { bin } from "../cli/binary.ts"
import { eventually, sleep } from "../e2e/support.ts"
import { hasTmux, tmuxOn } from "./tmux.ts"

const socket = `megaphone-demo-test-${process.pid}`
const { tmux, screen } = tmuxOn(socket)

const demoDirectories = async () => (await readdir(tmpdir())).filter((name) => name.startsWith("megaphone-demo-"))

/** Every process below `root` now (ps's parent links). */
const descendants = (root: number): ReadonlyArray<number> => {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid="]).toString().trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number))
  const found: Array<number> = []
  const walk = (pid: number) => {
    for (const [child, parent] of rows) {
      if (parent === pid && child !== undefined) {
        found.push(child)
        walk(child)
      }
    }
  }
  walk(root)
  return found
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

afterAll(async () => {
  // Only this test's tmux server (its own socket).
  if (hasTmux) await tmux("kill-server").catch(() => "")
})

it.skipIf(!hasTmux)("megaphone demo shows the campaign progressing through the template pause; q cleans everything up", async () => {
  const before = new Set(await demoDirectories())
  const scratch = await mkdtemp(join(tmpdir(), "megaphone-pty-"))
  const exitFile = join(scratch, "exit")
  try {
    // NO_COLOR: a distinct glyph per state; the exit code lands in a file once the binary ends.
    const command = `'${process.execPath}' '${bin}' demo --contacts 300 --mps 20; echo $? > '${exitFile}'`
    await tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", "-c", scratch,
      "-e", `PATH=${process.env["PATH"] ?? ""}`, "-e", "TERM=xterm-256color", "-e", "NO_COLOR=1",
      // Set as CI servers set it: the dashboard still draws in a terminal (Ink alone would wait for the last frame).
      "-e", "CI=true",
      "sh", "-c", command)
    const shellPid = Number((await tmux("display-message", "-p", "-t", "demo", "#{pane_pid}")).trim())

    const done = (text: string) => Number(/\b(\d+)\/300\b/.exec(text)?.[1] ?? -1)
    const first = await eventually(() => screen("demo"), (s) => s.includes("Demo: vyřízené") && done(s) > 0, 90_000, "the demo's campaign on screen")
    expect(first).toContain("● live · admin API at http://127.0.0.1:")
    const moving = await eventually(() => screen("demo"), (s) => done(s) > done(first), 30_000, "the count growing")
    console.log(`megaphone demo at 80×24:\n${moving}`)

    // Half-way Meta pauses the template: the daemon pauses the campaign, then resumes it once reinstated.
    const paused = await eventually(() => screen("demo"), (s) => /Demo: vyřízené.*Paused/.test(s), 60_000, "the campaign paused by the template")
    console.log(`The template pause on screen:\n${paused}`)
    await eventually(() => screen("demo"), (s) => /Demo: vyřízené.*(Running|Finished)/.test(s), 60_000, "the campaign resumed")

    const processes = descendants(shellPid)
    expect(processes.length).toBeGreaterThan(1) // the binary, the daemon, PostgreSQL …
    await tmux("send-keys", "-t", "demo", "q")
    const code = await eventually(() => readFile(exitFile, "utf8").catch(() => ""), (s) => s !== "", 60_000, "the demo to exit")
    expect(code.trim()).toBe("0")
    await sleep(500)
    expect(processes.filter(alive)).toEqual([])
    expect((await demoDirectories()).filter((name) => !before.has(name))).toEqual([])
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}, 240_000)
