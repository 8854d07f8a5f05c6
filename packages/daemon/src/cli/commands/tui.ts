/**
 * `megaphone tui [--lang en|cs]` (issue 8, SPEC §6 "TUI"): the live dashboard. Through a running daemon's admin
 * API (`--admin-url` / `MEGAPHONE_ADMIN_URL`, token from `MEGAPHONE_ADMIN_TOKEN`) it watches and steers
 * campaigns; without a daemon — no admin URL, or none answering there — it opens the database (as every
 * command does: `--database-url`, `MEGAPHONE_DATABASE_URL`, else the embedded default) read-only, and the
 * dashboard refuses pause, resume, stop and add contacts with the reason.
 */
import { Ports } from "@megaphone/core"
import type { RunOptions } from "@megaphone/tui"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as AdminApi from "../../admin-api/AdminApi.ts"
import * as ApiSource from "../../tui/ApiSource.ts"
import * as StorageSource from "../../tui/StorageSource.ts"
import { CommandFailed } from "../Failure.ts"
import { ADMIN_URL_ENV, adminUrl, type Remote, target, throughApi } from "../Remote.ts"
import { withStorage } from "../Session.ts"
import { databaseUrl, describeDatabase, resolveDatabase } from "../Storage.ts"

/** Shows the dashboard until the person quits. Ink and React load only now: the other commands start without them. */
export const show = (options: RunOptions): Effect.Effect<void> =>
  Effect.promise(async () => {
    const { run } = await import("@megaphone/tui")
    await run(options)
  })

/** Whether anything answers `/healthz` at the admin URL within 2 s. */
const answers = (remote: Remote): Effect.Effect<boolean> =>
  Effect.promise(() =>
    fetch(`${remote.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false)
  )

const startDaemon = "start `megaphone daemon` (with --admin-listen and MEGAPHONE_ADMIN_TOKEN) and run `megaphone tui --admin-url URL` " +
  "to pause, resume, stop, retry failed contacts or add contacts."

/** `megaphone tui` */
export const tui = Command.make(
  "tui",
  {
    lang: Flag.Literals("lang", ["en", "cs"] as const).pipe(
      Flag.withDescription("language of the state labels (cs: the seed's Czech names)"),
      Flag.withDefault("en" as const)
    ),
    databaseUrl,
    adminUrl
  },
  (input) =>
    Effect.gen(function*() {
      if (process.stdout.isTTY !== true || process.stdin.isTTY !== true) {
        return yield* new CommandFailed({
          message: "`megaphone tui` draws on a terminal, and stdin or stdout is not one. For scripts use " +
            "`megaphone campaigns list --json` or `megaphone campaigns show ID --json`."
        })
      }
      const on = yield* target(["megaphone", "tui"], input)
      let reason = `no daemon's admin API is configured (${ADMIN_URL_ENV} or --admin-url); ${startDaemon}`
      let database = input.databaseUrl
      if (on._tag === "Remote") {
        if (yield* answers(on)) {
          // A wrong token or a foreign server fails here, before the screen is taken over.
          yield* throughApi(on, (client) => client.campaigns.list())
          return yield* show({ source: ApiSource.make(on), lang: input.lang })
        }
        reason = `the daemon's admin API at ${on.baseUrl} does not answer; ${startDaemon}`
        database = Option.none()
      }
      const where = describeDatabase(yield* resolveDatabase(database))
      yield* withStorage(database)(
        Effect.gen(function*() {
          const storage = yield* Ports.Storage.Storage
          const source = StorageSource.make(StorageSource.runWith(storage), where, reason)
          yield* show({ source, lang: input.lang })
        })
      )
    })
).pipe(Command.withDescription(
  `The live dashboard: campaigns with progress by state, send rate and ETA; accounts' quota; errors, retries and ` +
    `template problems. Keys pause, resume, stop and add contacts through a daemon's admin API (${ADMIN_URL_ENV}, token from ` +
    `${AdminApi.TOKEN_ENV}); without a daemon it shows the database read-only.`
))
