/**
 * The demo (issue 9): everything Megaphone does, on one machine, with nothing to install. In a fresh temporary
 * directory: the embedded PostgreSQL; Meta's Graph API simulator (in this process) with a realistic fault mix;
 * a directory of Czech contacts imported from a generated Windows-1250 CSV (as a Czech Excel saves it) by the
 * import engine; the template synced from the simulator; a saved filter; a campaign on the filter's contacts,
 * started; and the real daemon (a child process of the same binary) sending it. Half-way, Meta pauses the
 * template: the daemon pauses the campaign by itself (the explanation is recorded); the demo then reinstates
 * the template, the campaign resumes and runs to completion. Every child process and the directory are removed
 * when the scope closes (the end, a failure, Ctrl+C).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Database, EmbeddedPostgres, ProviderTransport, Simulator } from "@megaphone/adapters"
import { Campaign, Ports } from "@megaphone/core"
import { Effect, Option, Redacted, Schema, type Scope } from "effect"
import * as Operations from "../campaigns/Operations.ts"
import * as Rows from "../campaigns/Rows.ts"
import { saveFilter } from "../campaigns/Directory.ts"
import { importFile } from "../contacts/Import.ts"
import { windows1250 } from "../contacts/Windows1250.ts"
import { senderCredentials, syncTemplates } from "../templates/TemplateSync.ts"
import * as Receiver from "../webhook/Receiver.ts"

/** The demo cannot run, or went wrong on the way; the message says where. */
export class DemoFailed extends Schema.TaggedError<DemoFailed>()("DemoFailed", { message: Schema.String }) {}

/** What the demo is asked to do. */
export interface DemoOptions {
  readonly contacts: number
  /** The operator's cap on the number's messages per second. */
  readonly mps: number
  readonly seed: number
  /** Who carries the account's requests: Meta directly (default) or 360dialog (the simulator in its 360dialog mode). */
  readonly provider?: Ports.Transport.Provider
  /** Receives a progress line about every second (for stderr). */
  readonly onProgress: (line: string) => void
}

/** Everything the run showed, as the `--json` summary prints it. */
export interface DemoSummary {
  readonly ok: boolean
  readonly contacts: number
  readonly campaign: { readonly id: string; readonly state: string }
  readonly counts: Readonly<Record<string, number>>
  readonly all_final: boolean
  readonly duration_seconds: number
  readonly sending_seconds: number
  readonly messages_per_second: number
  readonly simulator_max_mps: number
  readonly recipients_sent_twice: number
  readonly limits: {
    readonly held: boolean
    readonly throughput: { readonly limit_mps: number; readonly highest_seen_mps: number; readonly held: boolean }
    readonly messaging_tier: { readonly tier: string; readonly limit: number; readonly unique_recipients: number; readonly held: boolean }
  }
  readonly pause: {
    readonly happened: boolean
    readonly after_accepted: number | null
    readonly code: string | null
    readonly explanation: string | null
    readonly resumed: boolean
  }
  readonly import: { readonly encoding: string; readonly rows: number; readonly inserted: number; readonly rejected: number }
  readonly refusals_by_code: Readonly<Record<string, number>>
  readonly webhook_statuses: number
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: one number, one WABA, the seed's template

const TOKEN = "demo-access-token"
const TOKEN_ENV = "MEGAPHONE_DEMO_TOKEN"
const APP_SECRET = "demo-app-secret"
/** What the demo's 360dialog forwards in `X-Megaphone-Webhook-Secret` with each webhook. */
const WEBHOOK_SECRET = "demo-webhook-secret"
const PHONE_ID = "106540352242922"
const WABA_ID = "102290129340398"
const ACCOUNT = "demo"
const TEMPLATE = "order_done"
const FILTER = "cesti-zakaznici"

/** The seed's template: an approved utility template in Czech with three positional variables. */
export const ORDER_DONE = {
  id: "1689556908129001",
  name: TEMPLATE,
  language: "cs",
  status: "APPROVED",
  category: "UTILITY",
  parameter_format: "POSITIONAL" as const,
  components: [{
    type: "BODY" as const,
    text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena.",
    example: { body_text: [["Jana", "Nováková", "2024-0042"]] }
  }]
}

/** The smallest Meta tier above `contacts` unique recipients. */
const tierAbove = (contacts: number): { readonly tier: string; readonly limit: number } =>
  contacts < 1_000
    ? { tier: "TIER_1K", limit: 1_000 }
    : contacts < 2_000
    ? { tier: "TIER_2K", limit: 2_000 }
    : contacts < 10_000
    ? { tier: "TIER_10K", limit: 10_000 }
    : { tier: "TIER_100K", limit: 100_000 }

// ---------------------------------------------------------------------------------------------------------------
// The CSV a Czech office exports

const HEADER = ["Telefon", "Jméno", "Příjmení", "Číslo objednávky", "Město"]
const FIRST = ["Jana", "Petr", "Tomáš", "Lucie", "Jiří", "Kateřina", "Zdeněk", "Věra", "Michal", "Eliška"]
const LAST = ["Novák", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák", "Němec", "Pokorný", "Růžička"]
const TOWNS = ["Praha", "Brno", "Ostrava", "Plzeň", "Liberec", "Olomouc", "České Budějovice", "Hradec Králové", "Ústí nad Labem", "Zlín"]

/** The n-th contact's recipient (wa_id): distinct Czech mobiles 420 601 xxx xxx. */
export const recipientOf = (n: number): string => `420${601_000_000 + n}`

/** The n-th row, its phone written in one of the ways people write it. */
const row = (n: number): string => {
  const national = String(601_000_000 + n)
  const spaced = `${national.slice(0, 3)} ${national.slice(3, 6)} ${national.slice(6)}`
  const phone = [`+420 ${spaced}`, `00420${national}`, national, `(+420) ${national.slice(0, 3)}-${national.slice(3, 6)}-${national.slice(6)}`][n % 4]
  const town = TOWNS[(n >> 3) % TOWNS.length] ?? ""
  return [phone, FIRST[n % FIRST.length], LAST[(n >> 1) % LAST.length], `2026-${String(n).padStart(5, "0")}`, town.includes(" ") ? `"${town}"` : town]
    .join(";")
}

/** The CSV of `contacts` rows in Windows-1250, `;`, CRLF. */
export const czechCsv = (contacts: number): Buffer =>
  windows1250([HEADER.join(";"), ...Array.from({ length: contacts }, (_, n) => row(n)), ""].join("\r\n"))

// ---------------------------------------------------------------------------------------------------------------
// Processes

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const failed = (step: string) => (error: unknown) =>
  new DemoFailed({
    message: `The demo failed while ${step}: ${
      typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error)
    }`
  })

/** A fresh temporary directory (enterable by the `postgres` user when run as root), removed when the scope closes. */
const temporaryDirectory = Effect.acquireRelease(
  Effect.promise(async () => {
    const dir = await mkdtemp(join(tmpdir(), "megaphone-demo-"))
    await chmod(dir, 0o755)
    return dir
  }),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }).catch(() => undefined))
)

/** The daemon as a child process of this binary; SIGTERM (then SIGKILL after 10 s) when the scope closes. */
const daemonProcess = (
  cwd: string,
  env: Record<string, string>,
  webhookPort: number,
  adminPort: number
): Effect.Effect<{ readonly child: ChildProcess; readonly stderr: () => string }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const script = process.argv[1] ?? ""
      const child = spawn(process.execPath, [...process.execArgv, script, "daemon", "--webhook-listen", `127.0.0.1:${webhookPort}`, "--admin-listen", `127.0.0.1:${adminPort}`], {
        cwd,
        env: { PATH: process.env["PATH"] ?? "", ...env },
        stdio: ["ignore", "ignore", "pipe"]
      })
      let tail = ""
      child.stderr?.on("data", (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4_000)))
      return { child, stderr: () => tail }
    }),
    ({ child }) =>
      Effect.promise(async () => {
        if (child.exitCode !== null || child.signalCode !== null) return
        const exited = new Promise((resolve) => child.once("exit", resolve))
        child.kill("SIGTERM")
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
        await exited
        clearTimeout(timer)
      })
  )

// ---------------------------------------------------------------------------------------------------------------
// The run

const PENDING = ["initial", "in_progress", "retry_scheduled"] as const

const pendingOf = (counts: Campaign.ContactCounts): number => PENDING.reduce((n, s) => n + (counts[s] ?? 0), 0)

/**
 * Sets the demo up, each piece released when the scope closes: the storage, the simulator, the import, the
 * campaign (started) and the daemon sending it, its admin API at `adminUrl` with `adminToken`.
 */
const setUp = (options: DemoOptions) =>
  Effect.gen(function*() {
    const say = options.onProgress
    const started = performance.now()
    const dir = yield* temporaryDirectory

    say(`Starting the embedded PostgreSQL in ${dir} …`)
    const postgres = yield* EmbeddedPostgres.start({ dataDir: join(dir, "data"), durable: false, log: () => undefined }).pipe(
      Effect.mapError(failed("starting the embedded PostgreSQL"))
    )

    const [webhookPort, adminPort] = [
      yield* Effect.promise(EmbeddedPostgres.freePort),
      yield* Effect.promise(EmbeddedPostgres.freePort)
    ]
    const { tier, limit: tierLimit } = tierAbove(options.contacts)
    // A few invalid numbers (refused with 131009), about one contact in a hundred.
    const invalidNumbers = Array.from({ length: options.contacts }, (_, n) => n).filter((n) => n % 97 === 41).map(recipientOf)
    const faults = { rateLimit: 0.02, serverError: 0.02, unavailable: 0.01, undeliverable: 0.03, latencyMs: 20, jitterMs: 20, invalidNumbers }
    const provider = options.provider ?? "meta"
    const sim = yield* Simulator.start({
      provider,
      accessToken: TOKEN,
      seed: options.seed,
      accounts: [{
        phoneNumberId: PHONE_ID,
        wabaId: WABA_ID,
        displayPhoneNumber: "+420 700 000 001",
        verifiedName: "Megaphone Demo",
        messagingLimitTier: tier,
        throughputLevel: "HIGH"
      }],
      templates: { [WABA_ID]: [ORDER_DONE] },
      webhook: {
        url: `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`,
        // 360dialog does not sign; its target and secret header are registered below through its API.
        ...(provider === "meta" ? { appSecret: APP_SECRET } : {}),
        delays: { sentMs: 100, deliveredMs: 300, readMs: 1_000, jitterMs: 200 },
        probabilities: { delivered: 0.97, read: 0.6 },
        batchSize: 10,
        maxAttempts: 20,
        retryMaxMs: 2_000
      },
      faults
    }).pipe(Effect.mapError(failed("starting the Graph API simulator")))
    say(`${provider === "meta" ? "Graph API" : "360dialog API"} simulator on ${sim.url} (faults: 2 % 130429, 3 % 5xx, 3 % undeliverable, ${invalidNumbers.length} invalid numbers).`)

    const csvFile = join(dir, "zakaznici.csv")
    yield* Effect.promise(() => writeFile(csvFile, czechCsv(options.contacts)))

    const seeded = yield* Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      say(`Importing ${options.contacts} Czech contacts from a Windows-1250 CSV …`)
      const imported = yield* importFile({
        file: csvFile,
        encoding: "auto",
        delimiter: "auto",
        rules: [
          { source: "Telefon", target: "phone" },
          { source: "Jméno", target: "jmeno" },
          { source: "Příjmení", target: "prijmeni" },
          { source: "Číslo objednávky", target: "objednavka" },
          { source: "Město", target: "mesto" }
        ],
        country: "CZ",
        onDuplicate: "update",
        rejectsPath: join(dir, "zakaznici.rejects.csv")
      }).pipe(Effect.mapError(failed("importing the contacts")))
      say(`Imported: ${imported.inserted} new, ${imported.rejected} rejected (${imported.encoding.encoding}, ${imported.encoding.reason}).`)

      const now = new Date()
      const account = yield* storage.saveAccount({
        name: ACCOUNT,
        phoneNumberId: PHONE_ID,
        wabaId: WABA_ID,
        portfolioId: null,
        tokenEnv: TOKEN_ENV,
        graphUrl: sim.url,
        ...(provider === "meta" ? {} : { provider }),
        graphVersion: "v23.0",
        displayPhoneNumber: "+420 700 000 001",
        messagingLimit: tierLimit,
        messagingTier: tier,
        qualityRating: "GREEN",
        throughputMps: 1_000,
        maxMps: options.mps,
        throughputLevel: "HIGH",
        nameStatus: "APPROVED",
        status: "CONNECTED",
        createdAt: now,
        updatedAt: now
      })
      if (provider === "360dialog") {
        yield* Effect.gen(function*() {
          const register = (yield* Ports.Transport.Transport).registerWebhook
          if (register !== undefined) {
            yield* register(senderCredentials(account, Redacted.make(TOKEN)), {
              url: `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`,
              headers: { [Receiver.DEFAULT_SECRET_HEADER]: Redacted.make(WEBHOOK_SECRET) }
            })
          }
        }).pipe(Effect.provide(ProviderTransport.layer()), Effect.mapError(failed("registering the webhook at 360dialog")))
      }
      yield* syncTemplates(account, Redacted.make(TOKEN)).pipe(
        Effect.provide(ProviderTransport.layer()),
        Effect.mapError(failed("syncing the templates"))
      )
      yield* saveFilter(storage, FILTER, `phone starts with "+420"`, now).pipe(Effect.mapError(failed("saving the filter")))
      const created = yield* Operations.create(storage, { name: "Demo: vyřízené objednávky", account: ACCOUNT, template: TEMPLATE }).pipe(
        Effect.mapError(failed("creating the campaign"))
      )
      const id = created.campaign.id
      const added = yield* Operations.addContacts(storage, id, (_campaign, template) =>
        Rows.fromDirectory(storage, template, {
          filter: FILTER,
          phoneColumn: "phone",
          vars: { "1": "jmeno", "2": "prijmeni", "3": "objednavka" },
          defaults: {}
        })).pipe(Effect.mapError(failed("adding the filter's contacts to the campaign")))
      yield* Operations.operate(storage, id, "start", "CLI").pipe(Effect.mapError(failed("starting the campaign")))
      say(`Campaign ${id} on ${TEMPLATE}: ${added.added} contacts through the filter "${FILTER}", started; ${options.mps} msg/s, ${tier}.`)
      return { id, imported }
    }).pipe(
      Effect.provide(Database.layer({ _tag: "Server", url: postgres.url }, { maxConnections: 3 })),
      Effect.mapError((e) => (e instanceof DemoFailed ? e : failed("seeding")(e)))
    )

    const adminToken = Redacted.make(randomUUID())
    const daemon = yield* daemonProcess(dir, {
      MEGAPHONE_DATABASE_URL: Redacted.value(postgres.url),
      [TOKEN_ENV]: TOKEN,
      MEGAPHONE_APP_SECRET: APP_SECRET,
      MEGAPHONE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MEGAPHONE_ADMIN_TOKEN: Redacted.value(adminToken),
      // Short retry waits so the faults settle in seconds (the rules are the production ones).
      MEGAPHONE_RETRY_BASE_DELAY_MS: "300",
      MEGAPHONE_RETRY_MAX_DELAY_MS: "1500",
      MEGAPHONE_RETRY_RATE_LIMITED_BASE_DELAY_MS: "300",
      MEGAPHONE_RETRY_UNKNOWN_OUTCOME_GRACE_MS: "3000",
      MEGAPHONE_IDLE_MS: "200"
    }, webhookPort, adminPort)
    say("The daemon is sending …")
    return { started, postgres, sim, tier, tierLimit, seeded, daemon, adminUrl: `http://127.0.0.1:${adminPort}`, adminToken }
  })

/** Runs the demo to completion (or a timeout) and returns its summary. */
export const run = (options: DemoOptions): Effect.Effect<DemoSummary, DemoFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const say = options.onProgress
    const { started, postgres, sim, tier, tierLimit, seeded, daemon } = yield* setUp(options)

    const watched = yield* Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      const read = Effect.all({
        campaign: Effect.map(storage.getCampaign(seeded.id), Option.getOrUndefined),
        counts: storage.campaignCounts(seeded.id),
        stats: sim.stats
      })
      const sendingStarted = performance.now()
      const timeoutMs = 60_000 + (options.contacts / options.mps) * 4_000
      let pauseAsked: number | null = null
      let pause: { code: string; explanation: string } | null = null
      let resumed = false
      let lastAccepted = 0
      let lastAt = performance.now()
      for (;;) {
        const { campaign, counts, stats } = yield* read
        const state = campaign?.lifecycle.state ?? "?"
        const now = performance.now()
        const mps = Math.round(((stats.accepted - lastAccepted) * 1000) / Math.max(1, now - lastAt))
        lastAccepted = stats.accepted
        lastAt = now
        const seconds = Math.round((now - sendingStarted) / 1000)
        say(
          `${seconds} s · accepted ${stats.accepted}/${options.contacts} · ${mps} msg/s · sent ${counts.sent} delivered ${counts.delivered} ` +
            `read ${counts.read} failed ${counts.sending_failed + counts.error + counts.invalid_record} · waiting ${pendingOf(counts)} · campaign ${state}`
        )
        if (daemon.child.exitCode !== null) {
          return yield* new DemoFailed({ message: `The daemon exited with ${daemon.child.exitCode}:\n${daemon.stderr()}` })
        }
        // Half-way, Meta pauses the template (low quality): the daemon must pause the campaign by itself.
        if (pauseAsked === null && stats.accepted >= options.contacts / 2) {
          pauseAsked = stats.accepted
          say("Meta pauses the template order_done (quality) …")
          yield* sim.setTemplateStatus(WABA_ID, TEMPLATE, "cs", "PAUSED", "NONE").pipe(Effect.mapError(failed("pausing the template")))
        }
        if (pauseAsked !== null && pause === null && campaign?.lifecycle.state === "paused") {
          const reason = campaign.lifecycle.pauseReason
          pause = reason?._tag === "System"
            ? { code: reason.code ?? reason.kind, explanation: reason.explanation }
            : { code: "operator", explanation: "paused by an operator" }
          say(`The campaign paused itself: ${pause.explanation}`)
          yield* Effect.promise(() => sleep(2_000))
          say("Meta reinstates the template (APPROVED) …")
          yield* sim.setTemplateStatus(WABA_ID, TEMPLATE, "cs", "APPROVED").pipe(Effect.mapError(failed("reinstating the template")))
        }
        if (pause !== null && !resumed && state !== "paused") {
          resumed = true
          say(`The campaign resumed by itself (${state}).`)
        }
        if (pendingOf(counts) === 0 && pause !== null && state !== "paused" && state !== "running") {
          return { campaign: { id: seeded.id, state }, counts, stats, sendingSeconds: (now - sendingStarted) / 1000, pauseAsked, pause, resumed }
        }
        if (now - sendingStarted > timeoutMs) {
          return { campaign: { id: seeded.id, state }, counts, stats, sendingSeconds: (now - sendingStarted) / 1000, pauseAsked, pause, resumed }
        }
        yield* Effect.promise(() => sleep(1_000))
      }
    }).pipe(
      Effect.provide(Database.layer({ _tag: "Server", url: postgres.url }, { maxConnections: 1 })),
      Effect.mapError((e) => (e instanceof DemoFailed ? e : failed("watching the campaign")(e)))
    )

    const { counts, stats } = watched
    const duplicates = Object.values(stats.acceptedPerRecipient).filter((n) => n > 1).length
    const uniqueRecipients = Object.keys(stats.acceptedPerRecipient).length
    const highest = stats.maxMpsPerNumber[PHONE_ID] ?? 0
    const throughputHeld = highest <= options.mps
    const tierHeld = uniqueRecipients <= tierLimit
    const allFinal = pendingOf(counts) === 0 && Campaign.totalContacts(counts) === options.contacts
    const summary: DemoSummary = {
      ok: allFinal && duplicates === 0,
      contacts: options.contacts,
      campaign: watched.campaign,
      counts,
      all_final: allFinal,
      duration_seconds: round((performance.now() - started) / 1000),
      sending_seconds: round(watched.sendingSeconds),
      messages_per_second: round(stats.accepted / Math.max(0.001, watched.sendingSeconds)),
      simulator_max_mps: highest,
      recipients_sent_twice: duplicates,
      limits: {
        held: throughputHeld && tierHeld,
        throughput: { limit_mps: options.mps, highest_seen_mps: highest, held: throughputHeld },
        messaging_tier: { tier, limit: tierLimit, unique_recipients: uniqueRecipients, held: tierHeld }
      },
      pause: {
        happened: watched.pause !== null,
        after_accepted: watched.pauseAsked,
        code: watched.pause?.code ?? null,
        explanation: watched.pause?.explanation ?? null,
        resumed: watched.resumed
      },
      import: {
        encoding: seeded.imported.encoding.encoding,
        rows: seeded.imported.rows,
        inserted: seeded.imported.inserted,
        rejected: seeded.imported.rejected
      },
      refusals_by_code: stats.rejectionsByCode,
      webhook_statuses: stats.webhooks.statusesPosted
    }
    return summary
  })

const round = (x: number): number => Math.round(x * 10) / 10

// ---------------------------------------------------------------------------------------------------------------
// The interactive demo

/** A daemon's admin API and its token, as the dashboard's ApiSource takes it. */
export interface AdminApiAccess {
  readonly baseUrl: string
  readonly token: Redacted.Redacted<string>
}

/** Waits (at most 30 s) until the daemon's admin API answers `/healthz`. */
const adminAnswering = (adminUrl: string, daemon: { readonly child: ChildProcess; readonly stderr: () => string }) =>
  Effect.gen(function*() {
    const deadline = performance.now() + 30_000
    for (;;) {
      const ok = yield* Effect.promise(() =>
        fetch(`${adminUrl}/healthz`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false)
      )
      if (ok) return
      if (daemon.child.exitCode !== null) {
        return yield* new DemoFailed({ message: `The daemon exited with ${daemon.child.exitCode}:\n${daemon.stderr()}` })
      }
      if (performance.now() > deadline) {
        return yield* new DemoFailed({ message: `The daemon's admin API at ${adminUrl} did not answer in 30 s:\n${daemon.stderr()}` })
      }
      yield* Effect.sleep("200 millis")
    }
  })

/**
 * Meta's side of the story while the operator watches: half-way through, the template is paused (the daemon
 * pauses the campaign by itself, with its explanation); once the campaign shows it — and a few seconds more to
 * read it — the template is reinstated and the daemon resumes the campaign.
 */
const templatePauseHalfWay = (options: DemoOptions, stage: Effect.Success<ReturnType<typeof setUp>>) =>
  Effect.gen(function*() {
    const { sim, seeded, postgres } = stage
    while ((yield* sim.stats).accepted < options.contacts / 2) yield* Effect.sleep("300 millis")
    yield* sim.setTemplateStatus(WABA_ID, TEMPLATE, "cs", "PAUSED", "NONE")
    yield* Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      const deadline = performance.now() + 60_000
      while (performance.now() < deadline) {
        const campaign = Option.getOrUndefined(yield* storage.getCampaign(seeded.id))
        if (campaign?.lifecycle.state === "paused" && campaign.lifecycle.pauseReason?._tag === "System") return
        yield* Effect.sleep("500 millis")
      }
    }).pipe(Effect.provide(Database.layer({ _tag: "Server", url: postgres.url }, { maxConnections: 1 })))
    yield* Effect.sleep("8 seconds")
    yield* sim.setTemplateStatus(WABA_ID, TEMPLATE, "cs", "APPROVED")
  })

/**
 * The interactive demo (`megaphone demo`): sets everything up, then shows `dashboard` over the daemon's admin
 * API until the operator quits, while Meta pauses the template half-way and reinstates it. Progress lines go to
 * `onProgress` only before the dashboard takes the screen; everything is removed when the scope closes.
 */
export const interactive = (
  options: DemoOptions,
  dashboard: (admin: AdminApiAccess) => Effect.Effect<void>
): Effect.Effect<void, DemoFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const stage = yield* setUp(options)
    yield* adminAnswering(stage.adminUrl, stage.daemon)
    yield* templatePauseHalfWay(options, stage).pipe(Effect.ignore, Effect.forkScoped)
    yield* dashboard({ baseUrl: stage.adminUrl, token: stage.adminToken })
    options.onProgress("Stopping the daemon, the simulator and PostgreSQL, removing the demo's directory …")
  })
