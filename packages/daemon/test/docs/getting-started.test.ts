// docs/getting-started.md cannot rot: every ```sh block of it runs, in order, in ONE bash process (so `cd`,
// `export` and shell variables carry from block to block, as in the reader's terminal) in a fresh directory,
// with `megaphone` on PATH as the production binary this test run built. A block marked
// `<!-- background: ready when "TEXT" -->` is what a reader starts in a second terminal: it runs with `&` and the
// next block waits (polling, with a deadline) until it printed TEXT; all of them get SIGTERM at the end (the
// reader's Ctrl+C), also when a block failed. A block marked `<!-- not run: REASON -->` is skipped; there are at most
// MAX_NOT_RUN of them. The doc's fixed ports (127.0.0.1:8787, 8788, 8789) become free ones, so the test runs
// beside anything else on the machine. Then the export the doc wrote is checked: every contact settled, the
// defaults where the salutation was empty, the invalid number kept as such.
import { spawn } from "node:child_process"
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parse } from "csv-parse/sync"
import { afterAll, expect, it } from "vitest"
import * as EmbeddedPostgres from "../../../adapters/src/storage/embedded/EmbeddedPostgres.ts"
import { bin, scratchDirectory } from "../cli/binary.ts"

const DOC = fileURLToPath(new URL("../../../../docs/getting-started.md", import.meta.url))
/** Blocks a reader runs but the test cannot (installing the repository, a real Meta account): very few. */
const MAX_NOT_RUN = 2
/** How long a background block may take to print its ready text. */
const READY_SECONDS = 60
/** The whole page, every block and the shutdown of the background ones. */
const SCRIPT_DEADLINE_MS = 150_000

/** What the comment right before a fence says about the block. */
type Mode =
  | { readonly _tag: "Run" }
  | { readonly _tag: "Background"; readonly readyWhen: string }
  | { readonly _tag: "NotRun"; readonly reason: string }

/** One ```sh block of the page. */
interface Block {
  /** 1-based, in the page's order, counting every shell block. */
  readonly number: number
  /** The line of the opening fence in the page. */
  readonly line: number
  readonly mode: Mode
  readonly source: string
}

const SHELL_FENCE = /^```(sh|bash|shell)\s*$/
const BACKGROUND = /^<!-- background: ready when "([^"]+)" -->$/
const NOT_RUN = /^<!-- not run: (\S.*\S) -->$/

/** The page's shell blocks with their marks; an unknown mark or an unclosed fence is an error. */
const shellBlocks = (markdown: string): ReadonlyArray<Block> => {
  const lines = markdown.split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    const opening = lines[i] ?? ""
    if (!opening.startsWith("```")) continue
    const end = lines.findIndex((l, j) => j > i && l.trim() === "```")
    if (end === -1) throw new Error(`docs/getting-started.md line ${i + 1}: the fence is never closed`)
    if (SHELL_FENCE.test(opening)) {
      const before = (lines[i - 1] ?? "").trim()
      const background = BACKGROUND.exec(before)
      const notRun = NOT_RUN.exec(before)
      const mode: Mode = background?.[1] !== undefined
        ? { _tag: "Background", readyWhen: background[1] }
        : notRun?.[1] !== undefined
        ? { _tag: "NotRun", reason: notRun[1] }
        : { _tag: "Run" }
      if (mode._tag === "Run" && before.startsWith("<!--")) {
        throw new Error(`docs/getting-started.md line ${i}: "${before}" is not a mark this test knows (background: ready when "TEXT", not run: REASON)`)
      }
      blocks.push({ number: blocks.length + 1, line: i + 1, mode, source: lines.slice(i + 1, end).join("\n") })
    }
    i = end
  }
  return blocks
}

/** `source` with `exec` before its last command, so a SIGTERM to the background job reaches the program itself. */
const execLast = (source: string): string => {
  const lines = source.split("\n")
  const starts = lines.flatMap((l, i) => l.trim() === "" || l.trim().startsWith("#") || (lines[i - 1] ?? "").trimEnd().endsWith("\\") ? [] : [i])
  const last = starts.at(-1)
  if (last === undefined) throw new Error(`a background block without a command:\n${source}`)
  return lines.map((l, i) => (i === last ? `exec ${l}` : l)).join("\n")
}

const quoted = (text: string) => `'${text.replaceAll("'", "'\\''")}'`

// On any exit, stops the background jobs last-started-first with SIGTERM (what Ctrl+C does for the reader), giving
// each the time a clean shutdown takes (the daemon stops the embedded PostgreSQL) before SIGKILL. __doc_ready
// polls a background block's log for its ready text, failing at once if the job exits, and at the deadline.
const PRELUDE = `set -euo pipefail
exec 2>&1
__doc_jobs=()
__doc_stop() {
  local i pid n
  for ((i = \${#__doc_jobs[@]} - 1; i >= 0; i--)); do
    pid=\${__doc_jobs[i]}
    kill -TERM "$pid" 2>/dev/null || true
    for ((n = 0; n < 300; n++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap __doc_stop EXIT
__doc_ready() {
  local pid=$1 log=$2 text=$3 deadline=$((SECONDS + ${READY_SECONDS}))
  until grep -sqF -- "$text" "$log"; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "::not ready: it exited before printing \\"$text\\""; return 1; fi
    if ((SECONDS >= deadline)); then echo "::not ready: \\"$text\\" not printed within ${READY_SECONDS} s"; return 1; fi
    sleep 0.1
  done
}
`

/** The bash script that runs `blocks`, background logs going to `logs`. */
const script = (blocks: ReadonlyArray<Block>, logs: string): string => {
  const parts = [PRELUDE]
  for (const block of blocks) {
    if (block.mode._tag === "NotRun") continue
    parts.push(`echo "::block ${block.number}"`)
    if (block.mode._tag === "Run") {
      parts.push(block.source)
    } else {
      const log = quoted(join(logs, `block-${block.number}.log`))
      parts.push(`( ${execLast(block.source)}\n) < /dev/null > ${log} 2>&1 &`)
      parts.push(`__doc_jobs+=($!)`, `__doc_ready $! ${log} ${quoted(block.mode.readyWhen)}`)
    }
  }
  parts.push(`echo "::done"`)
  return parts.join("\n") + "\n"
}

/** The page's ports replaced by three distinct free ones: each must occur in the blocks that run. */
const withFreePorts = async (text: string): Promise<string> => {
  let result = text
  const taken = new Set<number>()
  for (const port of ["8787", "8788", "8789"]) {
    const address = `127.0.0.1:${port}`
    if (!result.includes(address)) throw new Error(`the blocks that run never use ${address}; update withFreePorts`)
    let free = await EmbeddedPostgres.freePort()
    while (taken.has(free)) free = await EmbeddedPostgres.freePort()
    taken.add(free)
    result = result.replaceAll(new RegExp(`127\\.0\\.0\\.1:${port}(?!\\d)`, "g"), `127.0.0.1:${free}`)
  }
  return result
}

/** What the script printed, how it ended. */
interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly output: string
}

let running: ReturnType<typeof spawn> | undefined
const directory = await scratchDirectory()
afterAll(async () => {
  // Only if the script outlived the test (a timeout): its process group, background jobs included.
  if (running?.pid !== undefined && running.exitCode === null && running.signalCode === null) {
    try {
      process.kill(-running.pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
  await rm(directory, { recursive: true, force: true })
})

/** Runs `file` with bash in `cwd` with `env`, in a process group of its own, killed at the deadline. */
const runScript = (file: string, cwd: string, env: Record<string, string>): Promise<Run> =>
  new Promise((resolve) => {
    const child = spawn("bash", [file], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
    running = child
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => {
      output += `\n::killed after ${SCRIPT_DEADLINE_MS} ms`
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL")
    }, SCRIPT_DEADLINE_MS)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output })
    })
  })

/** Which block failed, its source, what it printed and the end of every background block's log. */
const failureReport = async (run: Run, blocks: ReadonlyArray<Block>, logs: string): Promise<string> => {
  const marks = [...run.output.matchAll(/^::block (\d+)$/gm)]
  const last = marks.at(-1)
  const block = blocks.find((b) => b.number === Number(last?.[1]))
  const printed = last?.index === undefined ? run.output : run.output.slice(last.index + last[0].length)
  const backgrounds = await Promise.all(blocks.filter((b) => b.mode._tag === "Background" && marks.some((m) => Number(m[1]) === b.number))
    .map(async (b) => {
      const log = await readFile(join(logs, `block-${b.number}.log`), "utf8").catch(() => "(no log)")
      return `--- background block ${b.number} (line ${b.line}), its last lines:\n${log.split("\n").slice(-30).join("\n")}`
    }))
  return [
    `docs/getting-started.md: block ${block?.number ?? "?"} (line ${block?.line ?? "?"}) failed — bash exited ${run.code ?? run.signal}:`,
    block?.source ?? "(before the first block)",
    "--- what it printed:",
    printed.trim().split("\n").slice(-60).join("\n"),
    ...backgrounds
  ].join("\n")
}

it("docs/getting-started.md: every command runs, in order, and the campaign ends with every contact settled", async () => {
  const blocks = shellBlocks(await readFile(DOC, "utf8"))
  const notRun = blocks.filter((b) => b.mode._tag === "NotRun")
  expect(notRun.length, notRun.map((b) => `line ${b.line}`).join(", ")).toBeLessThanOrEqual(MAX_NOT_RUN)
  expect(blocks.filter((b) => b.mode._tag === "Background").length).toBeGreaterThanOrEqual(2)

  // `megaphone` as the reader has it: this run's production binary on this run's Node 24.
  const tools = join(directory, "bin")
  const logs = join(directory, "logs")
  const home = join(directory, "home")
  for (const dir of [tools, logs, home]) await mkdir(dir)
  await chmod(home, 0o755) // as root the embedded PostgreSQL runs as postgres, which must enter it
  await writeFile(join(tools, "megaphone"), `#!/bin/sh\nexec ${quoted(process.execPath)} ${quoted(bin)} "$@"\n`, { mode: 0o755 })
  const file = join(directory, "getting-started.sh")
  await writeFile(file, await withFreePorts(script(blocks, logs)))

  // No MEGAPHONE_* from outside: the page's own database (the embedded default) and settings only.
  const run = await runScript(file, home, { PATH: `${tools}:${process.env["PATH"] ?? ""}`, HOME: home, LANG: "C.UTF-8" })
  if (run.code !== 0 || !run.output.includes("\n::done\n")) throw new Error(await failureReport(run, blocks, logs))
  const ran = [...run.output.matchAll(/^::block (\d+)$/gm)].map((m) => Number(m[1]))
  expect(ran).toEqual(blocks.filter((b) => b.mode._tag !== "NotRun").map((b) => b.number))

  // The export the page wrote: its 15 contacts once each, every one settled (stopped: sent ones and cancelled
  // ones), the default where the salutation was empty, the bad number an invalid record.
  const rows = parse(await readFile(join(home, "megaphone-try", "vysledky.csv"), "utf8"), { columns: true }) as ReadonlyArray<Record<string, string>>
  const byRecipient = new Map(rows.map((r) => [r["recipient"] ?? "", r]))
  expect(rows).toHaveLength(15)
  expect(byRecipient.size).toBe(15)
  const waiting = rows.filter((r) => ["initial", "in_progress", "retry_scheduled"].includes(r["state"] ?? ""))
  expect(waiting.map((r) => `${r["recipient"]}: ${r["state"]}`)).toEqual([])
  expect(rows.filter((r) => r["state"] === "invalid_record").map((r) => r["phone"])).toEqual(["'+420 601 20"])
  for (const salutationless of ["420601200003", "420601200008", "420601200012"]) {
    expect([salutationless, byRecipient.get(salutationless)?.["var.1"]]).toEqual([salutationless, "vážený zákazníku"])
  }
  expect(byRecipient.get("420601200001")).toMatchObject({ "var.1": "pane", "var.2": "Nováku", "var.3": "2024-0101" })
  expect(rows.some((r) => r["state"] === "cancelled")).toBe(true)
}, SCRIPT_DEADLINE_MS + 30_000)
