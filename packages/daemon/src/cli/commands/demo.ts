/**
 * `megaphone demo [--headless [--json]] [--contacts N]` (issue 9): the whole system on one machine — embedded
 * PostgreSQL, the Graph API simulator with faults, the daemon — sending a campaign to N Czech contacts imported
 * from a Windows-1250 CSV, through a template pause and its reinstatement, to completion (demo/Demo.ts).
 * Without --headless (a terminal needed) the dashboard watches the campaign through the daemon's admin API — the
 * operator can pause, resume and stop it — until q, then everything is removed. With --headless progress goes
 * to stderr and the summary (JSON with --json) to stdout; exit 0 only when every contact is final and no
 * recipient was sent twice.
 */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { type DemoSummary, interactive, run } from "../../demo/Demo.ts"
import * as ApiSource from "../../tui/ApiSource.ts"
import { CommandFailed, usageError } from "../Failure.ts"
import { json, printJson } from "../Output.ts"
import { show } from "./tui.ts"

const human = (s: DemoSummary): string =>
  [
    `Campaign ${s.campaign.id}: ${s.campaign.state}; ${Object.entries(s.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")}`,
    `${s.contacts} contacts in ${s.sending_seconds} s of sending (${s.duration_seconds} s in all): ${s.messages_per_second} msg/s, ` +
    `the simulator saw at most ${s.simulator_max_mps} in a second (limit ${s.limits.throughput.limit_mps})`,
    `Recipients sent twice: ${s.recipients_sent_twice}; limits held: ${s.limits.held ? "yes" : "NO"}`,
    `Template pause: ${s.pause.happened ? `after ${s.pause.after_accepted} accepted — ${s.pause.explanation}; resumed: ${s.pause.resumed ? "yes" : "no"}` : "did not happen"}`
  ].join("\n")

/** `megaphone demo [--headless [--json]] [--contacts N] [--mps N] [--seed N] [--provider meta|360dialog]` */
export const demo = Command.make(
  "demo",
  {
    headless: Flag.Boolean("headless").pipe(Flag.withDescription("run to completion without the dashboard (no terminal needed) and print a summary"), Flag.withDefault(false)),
    contacts: Flag.Int("contacts").pipe(Flag.withDescription("contacts in the demo's directory and campaign (default 2000)"), Flag.withDefault(2_000)),
    mps: Flag.Int("mps").pipe(Flag.withDescription("the number's messages per second (default 100)"), Flag.withDefault(100)),
    seed: Flag.Int("seed").pipe(Flag.withDescription("seed of the simulator's random choices (default 7)"), Flag.withDefault(7)),
    provider: Flag.Literals("provider", ["meta", "360dialog"] as const).pipe(
      Flag.withDescription("send through Meta directly (default) or through 360dialog (the simulator plays 360dialog's API)"),
      Flag.withDefault("meta")
    ),
    json
  },
  (input) =>
    Effect.gen(function*() {
      const path = ["megaphone", "demo"]
      if (input.contacts < 10 || input.contacts > 100_000) return yield* usageError(path, `--contacts takes 10 to 100000, not ${input.contacts}.`)
      if (input.mps < 1 || input.mps > 1_000) return yield* usageError(path, `--mps takes 1 to 1000, not ${input.mps}.`)
      if (!input.headless) {
        if (process.stdout.isTTY !== true || process.stdin.isTTY !== true) {
          return yield* new CommandFailed({
            message: "`megaphone demo` shows the dashboard on a terminal, and stdin or stdout is not one. Without a terminal run " +
              "`megaphone demo --headless` (add --json for a summary to parse)."
          })
        }
        return yield* interactive({
          contacts: input.contacts,
          mps: input.mps,
          seed: input.seed,
        provider: input.provider,
          onProgress: (line) => process.stderr.write(`${line}\n`)
        }, (admin) => show({ source: ApiSource.make({ _tag: "Remote", ...admin }), lang: "en" })).pipe(
          Effect.scoped,
          Effect.mapError((e) => new CommandFailed({ message: e.message }))
        )
      }
      const summary = yield* run({
        contacts: input.contacts,
        mps: input.mps,
        seed: input.seed,
        provider: input.provider,
        onProgress: (line) => process.stderr.write(`${line}\n`)
      }).pipe(Effect.scoped, Effect.mapError((e) => new CommandFailed({ message: e.message })))
      if (input.json) yield* printJson(summary)
      else yield* Console.log(human(summary))
      if (!summary.ok) {
        return yield* new CommandFailed({
          message: summary.recipients_sent_twice > 0
            ? `${summary.recipients_sent_twice} recipient(s) were sent twice.`
            : "Not every contact reached a final state in time; see the counts."
        })
      }
    })
).pipe(Command.withDescription("Run the demo: embedded PostgreSQL, the simulator and the daemon sending a Czech campaign, watched on the dashboard."))
