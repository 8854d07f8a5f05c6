// `megaphone tui` in a real pseudo-terminal (tmux, 80×24) against the real daemon, the simulator as Meta and
// PostgreSQL: the screen while a campaign progresses, after `p` (and the daemon agrees it is paused), after a
// resize; then read-only straight on the database, where `p` is refused. Skipped where tmux is missing.
import { afterAll, expect, it } from "vitest"
import { bin } from "../cli/binary.ts"
import { ADMIN_TOKEN, e2eFile, eventually, seedCampaign, shown, sleep, startDaemon } from "../e2e/support.ts"
import { hasTmux, tmuxOn } from "./tmux.ts"

const socket = `megaphone-tui-test-${process.pid}`
const { tmux, screen } = tmuxOn(socket)

/** Starts `megaphone tui ARGS` in a detached 80×24 tmux session with only `env` (plus PATH and TERM). */
const startTui = async (session: string, cwd: string, env: Record<string, string>, args: ReadonlyArray<string>) => {
  const vars = { PATH: process.env["PATH"] ?? "", TERM: "xterm-256color", ...env }
  await tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", "-c", cwd,
    ...Object.entries(vars).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    // Set as CI servers set it: the dashboard still draws in a terminal (Ink alone would wait for the last frame).
    "-e", "CI=true",
    process.execPath, bin, "tui", ...args)
}

const { cwd, scenario } = await e2eFile()

afterAll(async () => {
  // Only this test's tmux server (its own socket).
  if (hasTmux) await tmux("kill-server").catch(() => "")
})

it.skipIf(!hasTmux)("shows a campaign progressing, pauses it with p, fits a resize; read-only without a daemon", async () => {
  const { webhookPort, simulator, env } = await scenario({ tier: "TIER_1K", faults: { undeliverable: 0.05, latencyMs: 5, jitterMs: 5 } })
  const daemon = await startDaemon(cwd, env, webhookPort)
  const id = await seedCampaign(cwd, env, simulator.sim.url, { contacts: 600, mps: 8 })
  const adminUrl = `http://127.0.0.1:${daemon.adminPort}`

  // NO_COLOR: a distinct glyph per state, so the text capture shows the stacked bar.
  await startTui("live", cwd, { MEGAPHONE_ADMIN_URL: adminUrl, MEGAPHONE_ADMIN_TOKEN: ADMIN_TOKEN, NO_COLOR: "1" }, [])
  const done = (text: string) => Number(/(\d+)\/600/.exec(text)?.[1] ?? -1)
  const first = await eventually(() => screen("live"), (s) => s.includes("Running") && done(s) > 0, 30_000, "the campaign running on screen")
  expect(first).toContain("● live · admin API at " + adminUrl)
  expect(first).toMatch(/▶ Objednávky\s+shop\s+order_done \(cs\)\s+Running/)
  // Measured from successive polls: a rate near the account's 8 msg/s, an ETA, the account's quota.
  const moving = await eventually(() => screen("live"), (s) => done(s) > done(first) && /\d+\.\d\/s .* ETA\s+\d+:\d\d/.test(s), 30_000,
    "progress, rate and ETA")
  expect(moving).toMatch(/shop\s+TIER_1K\s+\S+\s+\d+\/1000/)
  expect(moving.split("\n").at(-1)).toBe("↑↓ ⏎ detail  p pause  r resume  s stop  R retry  a add  / search  ? help  q quit")
  expect(moving.split("\n")).toHaveLength(24)
  console.log(`megaphone tui at 80×24 while the campaign runs:\n${moving}`)

  // Enter: the campaign's contacts with the row fields of SPEC §5; Esc back.
  await tmux("send-keys", "-t", "live", "Enter")
  const contacts = await eventually(() => screen("live"), (s) => /▶ \+420601\d{6}/.test(s), 15_000, "the contacts page")
  expect(contacts).toContain("PHONE           STATE           ATT  NEXT      WAMID")
  expect(contacts).toContain("◀ All states ▶ · page 1 · rows 1–12 …")
  console.log(`Enter: the campaign's contacts:\n${contacts}`)
  await tmux("send-keys", "-t", "live", "Escape")
  await eventually(() => screen("live"), (s) => s.includes("CAMPAIGNS 1"), 10_000, "back to the list")

  await tmux("send-keys", "-t", "live", "p")
  const paused = await eventually(() => screen("live"), (s) => s.includes("“Objednávky”: Paused (by an operator)."), 15_000, "paused on screen")
  expect(paused).toMatch(/Objednávky .* Paused \(by an operator\)/)
  expect((await shown(daemon, id)).state).toBe("paused")
  // Paused means still: once the sends already in flight have settled, the count stands.
  await eventually(async () => {
    const before = done(await screen("live"))
    await sleep(2000)
    return [before, done(await screen("live"))] as const
  }, ([before, after]) => before === after, 20_000, "the count standing still")

  await tmux("resize-window", "-t", "live", "-x", "100", "-y", "30")
  const resized = await eventually(() => screen("live"), (s) => s.split("\n").length === 30 && s.split("\n").at(-1)?.startsWith("↑↓ ⏎ detail") === true,
    10_000, "the frame redrawn at 100×30")
  expect(resized).toContain("Objednávky")

  await tmux("send-keys", "-t", "live", "q")
  await eventually(() => tmux("has-session", "-t", "live").then(() => true, () => false), (alive) => !alive, 10_000, "the dashboard quit")

  // No admin URL: the database itself, read-only; `p` is refused with the reason and the campaign stays paused.
  await startTui("readonly", cwd, { MEGAPHONE_DATABASE_URL: env["MEGAPHONE_DATABASE_URL"] ?? "" }, ["--lang", "cs"])
  const readOnly = await eventually(() => screen("readonly"), (s) => s.includes("Objednávky"), 30_000, "the read-only dashboard")
  expect(readOnly).toContain("read-only · the PostgreSQL server from the database URL")
  expect(readOnly).toContain("Pozastaveno (administrátorem)")
  await tmux("send-keys", "-t", "readonly", "r")
  await eventually(() => screen("readonly"), (s) => s.includes("Read-only — no daemon's admin API is configured"), 10_000, "the refusal")
  expect((await shown(daemon, id)).state).toBe("paused")
  await tmux("send-keys", "-t", "readonly", "q")
}, 180_000)
