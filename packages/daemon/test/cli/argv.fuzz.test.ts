// Fuzzing `megaphone`'s argument parsing: the real subcommands and flags mixed with junk, unicode, huge numbers and
// missing values. Every run ends with exit 0, 1 or 2 and, on failure, a message for people — never a defect, a
// stack trace or a hang. Most runs are in-process (`Cli.run` with an argv, fast); a few run the built binary, to
// see what a person sees. The database is unreachable (port 1) and nothing that serves (daemon, simulator, demo,
// tui) gets further than its help. FUZZ_SEED=<n> explores other inputs.
import { execFile } from "node:child_process"
import { mkdir, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { Cause, Console, Effect, Exit } from "effect"
import { CliError, type Command } from "effect/cli"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { megaphone as tree, run } from "../../src/cli/Cli.ts"
import { CommandFailed, reportFailures } from "../../src/cli/Failure.ts"
import { bin, scratchDirectory } from "./binary.ts"

const seed = Number(process.env["FUZZ_SEED"] ?? 20_260_512)

const cwd = await scratchDirectory()
const UNREACHABLE = "postgres://megaphone:x@127.0.0.1:1/none"
const env: Record<string, string> = {
  MEGAPHONE_DATABASE_URL: UNREACHABLE,
  MEGAPHONE_DATA_DIR: join(cwd, "no-data-here"),
  MEGAPHONE_APP_SECRET: "fuzz",
  MEGAPHONE_VERIFY_TOKEN: "fuzz"
}

// ---------------------------------------------------------------------------------------------------------
// Argument lists

/** Every command path of the tree, from its own subcommand lists. */
const paths = (command: Command.Command.Any, prefix: ReadonlyArray<string> = []): Array<ReadonlyArray<string>> =>
  [prefix, ...command.subcommands.flatMap((group) => group.commands.flatMap((c) => paths(c, [...prefix, c.name])))]
const commandPaths = paths(tree)

// These serve or take over the terminal: in a fuzz run they only ever show their help or refuse a flag.
const SERVING = new Set(["daemon", "simulator", "demo", "tui"])

const FLAGS = [
  "--where", "--filter", "--config", "--account", "--json", "--webhook-listen", "--waba-id", "--token-env", "--template",
  "--search", "--rejects", "--portfolio", "--phone-number-id", "--phone-column", "--output", "-o", "--note", "--name", "--map",
  "--listen", "--language", "--graph-version", "--graph-url", "--delimiter", "--database-url", "--csv", "--country", "--admin-url",
  "--admin-listen", "--var", "--default", "--yes", "--replace", "--headless", "--excel", "--dry-run", "--state", "--seed",
  "--encoding", "--on-duplicate", "--limit", "--log-level", "--version", "--completions", "--no-such-flag", "-x", "--json=false"
  // Not --wizard: Effect's interactive wizard waits on stdin for as long as it stays open, as a prompt should.
]

const VALUES = [
  "main", "Praha", "city = \"Praha\"", "orders >= 3 and (", "1", "0", "-1", "3.5", "99999999999999999999999999", "1e309", "NaN",
  "", " ", "ř😀", "‮evil", "\t", "a=b", "=", "x=", "--", "-", "tab", ";", "|", "auto", "utf-16", "update", "skip", "delivered",
  "CZ", "XX", "cs", UNREACHABLE, "mysql://x", "http://127.0.0.1:1", "not a url", "#1=phone", "Jméno=", "1=Jméno",
  join(cwd, "contacts.csv"), join(cwd, "out.csv"), "/nonexistent/dir/file.csv", cwd, "a".repeat(5_000)
]

const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.constantFrom("--", "-", "---", "--=", "-h", "--help=yes", "--json=maybe", "-ox", "--output=")
).map((s) => s.replaceAll("\u0000", "")) // argv cannot hold NUL

const token = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...FLAGS), fc.constantFrom(...VALUES)).map(([f, v]) => [f, v]) },
  { weight: 2, arbitrary: fc.constantFrom(...FLAGS).map((f) => [f]) },
  { weight: 2, arbitrary: fc.constantFrom(...VALUES).map((v) => [v]) },
  { weight: 2, arbitrary: junk.map((j) => [j]) }
)

/** A command path (sometimes cut short or misspelt), then tokens. */
const messyArgv: fc.Arbitrary<ReadonlyArray<string>> = fc.tuple(
  fc.constantFrom(...commandPaths),
  fc.nat(),
  fc.option(junk, { freq: 4 }),
  fc.array(token, { maxLength: 7 }),
  fc.constantFrom("", "--help", "--no-such-flag")
).map(([path, cut, typo, tokens, last]) => {
  const command = path.slice(0, path.length - (cut % 3 === 0 ? 1 : 0))
  if (command.length > 0 && SERVING.has(command[0]!)) return [...command, last === "" ? "--help" : last]
  const head = typo === null ? command : [...command.slice(0, -1), typo]
  return [...head, ...tokens.flat(), ...(last === "" ? [] : [last])]
})

/** A whole command path, a name or file where one may be due, and flags with values: what gets past the parser. */
const tidyArgv: fc.Arbitrary<ReadonlyArray<string>> = fc.tuple(
  fc.constantFrom(...commandPaths.filter((p) => p.length > 0 && !SERVING.has(p[0]!))),
  fc.constantFrom([], ["main"], [join(cwd, "contacts.csv")], ["1"]),
  fc.array(fc.tuple(fc.constantFrom(...FLAGS.filter((f) => f !== "--no-such-flag" && f !== "-x")), fc.constantFrom(...VALUES)), { maxLength: 3 })
).map(([path, positional, flags]) => [...path, ...positional, ...flags.flat()])

const argvArb = fc.oneof(messyArgv, tidyArgv)

// ---------------------------------------------------------------------------------------------------------
// In-process runs

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** Why the run counts as a crash, if it does. */
  readonly crash: string | undefined
}

/** Lines printed through Console (as the CLI prints), kept apart per stream. */
const capture = () => {
  const out: Array<string> = []
  const err: Array<string> = []
  const line = (sink: Array<string>) => (...args: ReadonlyArray<unknown>) => void sink.push(args.map(String).join(" "))
  const console: Console.Console = Object.assign(Object.create(globalThis.console) as Console.Console, {
    log: line(out), info: line(out), debug: line(out), error: line(err), warn: line(err), trace: line(err)
  })
  return { console, out, err }
}

/** The binary's exit code for an exit (bin/megaphone.ts's teardown), and whether it is a crash. */
const judge = (exit: Exit.Exit<unknown, unknown>): { readonly code: number; readonly crash: string | undefined } => {
  if (Exit.isSuccess(exit)) return { code: 0, crash: undefined }
  if (exit.cause.reasons.some((r) => r._tag === "Die")) return { code: 1, crash: `defect: ${Cause.pretty(exit.cause)}` }
  const error = Cause.squash(exit.cause)
  if (CliError.isCliError(error)) return { code: error._tag === "ShowHelp" && error.errors.length === 0 ? 0 : 2, crash: undefined }
  // Anything else reaches the runtime's own report: a pretty-printed cause, stack trace included.
  if (!(error instanceof CommandFailed)) return { code: 1, crash: `unreported failure: ${Cause.pretty(exit.cause)}` }
  return { code: 1, crash: undefined }
}

const inProcess = async (argv: ReadonlyArray<string>): Promise<Outcome> => {
  const { console, out, err } = capture()
  // The type still names the HTTP services of `daemon`, which provides them itself where it serves; bin/megaphone.ts
  // gives the CLI no more than NodeServices either.
  const cli = run(argv) as Effect.Effect<void, CommandFailed | CliError.CliError>
  const exit = await Effect.runPromiseExit(cli.pipe(
    reportFailures,
    Effect.provideService(Console.Console, console),
    Effect.provide(NodeServices.layer),
    // A run that does not end in time counts as a hang (the property fails on it).
    Effect.timeoutOption(10_000)
  ))
  if (Exit.isSuccess(exit) && exit.value._tag === "None") return { code: -1, stdout: "", stderr: "", crash: "hang: no exit after 10 s" }
  const { code, crash } = judge(exit)
  return { code, stdout: out.join("\n"), stderr: err.join("\n"), crash }
}

const saved: Record<string, string | undefined> = {}
const savedCwd = process.cwd()
beforeAll(async () => {
  await writeFile(join(cwd, "contacts.csv"), "Jméno;Telefon\r\nJan;777123456\r\n")
  await mkdir(env["MEGAPHONE_DATA_DIR"]!, { recursive: true })
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  saved["MEGAPHONE_ADMIN_URL"] = process.env["MEGAPHONE_ADMIN_URL"]
  delete process.env["MEGAPHONE_ADMIN_URL"]
  // Relative paths in the junk (`-o x`) land in the scratch directory, not in the repository.
  process.chdir(cwd)
})
afterAll(async () => {
  process.chdir(savedCwd)
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await rm(cwd, { recursive: true, force: true })
})

const expectPersonMessage = (o: Outcome, argv: ReadonlyArray<string>) => {
  const context = JSON.stringify(argv)
  expect(o.crash, context).toBeUndefined()
  expect([0, 1, 2], context).toContain(o.code)
  // A failure says something, without a stack trace.
  if (o.code !== 0) expect(o.stderr.trim().length, context).toBeGreaterThan(0)
  expect(o.stderr, context).not.toMatch(/\n\s+at .+:\d+:\d+/)
}

describe("megaphone argv (fuzz)", () => {
  it("in-process: the real commands and flags mixed with junk exit 0, 1 or 2 with a message, never a defect or a hang", { timeout: 60_000 }, async () => {
    const codes = new Set<number>()
    await fc.assert(fc.asyncProperty(argvArb, async (argv) => {
      const outcome = await inProcess(argv)
      expectPersonMessage(outcome, argv)
      codes.add(outcome.code)
    }), { seed, numRuns: 250 })
    // The runs reach success (help), usage errors and failures alike.
    expect([...codes].sort()).toEqual([0, 1, 2])
  })

  it("the binary: a person sees exit 0, 1 or 2 and a short message on stderr, never a stack trace or a hang", { timeout: 90_000 }, async () => {
    const binary = (argv: ReadonlyArray<string>) =>
      new Promise<Outcome>((resolve) => {
        execFile(process.execPath, [bin, ...argv], { cwd, env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 20_000, killSignal: "SIGKILL" },
          (error, stdout, stderr) => {
            const failed = error as (Error & { code?: number | string; killed?: boolean }) | null
            const code = failed === null ? 0 : typeof failed.code === "number" ? failed.code : -1
            resolve({ code, stdout, stderr, crash: failed?.killed === true ? "hang: killed after 20 s" : undefined })
          })
      })
    // Twenty-four runs, four at a time: each is a Node process that loads the whole bundle (about a second).
    const samples = fc.sample(argvArb, { seed, numRuns: 24 })
    const outcomes: Array<[ReadonlyArray<string>, Outcome]> = []
    for (let i = 0; i < samples.length; i += 4) {
      const batch = samples.slice(i, i + 4)
      outcomes.push(...(await Promise.all(batch.map(async (argv) => [argv, await binary(argv)] as [ReadonlyArray<string>, Outcome]))))
    }
    for (const [argv, outcome] of outcomes) {
      expectPersonMessage(outcome, argv)
      // What a person reads first is one line saying what is wrong (the help may follow).
      if (outcome.code !== 0) expect(outcome.stderr.trimStart().split("\n")[0]!.length, JSON.stringify(argv)).toBeLessThan(2_000)
    }
  })
})
