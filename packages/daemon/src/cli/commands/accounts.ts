/**
 * `megaphone accounts add | list | show | refresh` (SPEC §2, §7): the WhatsApp business numbers campaigns send
 * from, and what Meta last reported about them (tier → messaging limit, quality, throughput, status).
 *
 * Adding a name that exists fails (exit 1) unless `--replace` is given: a typo must not silently rewire the
 * campaigns of another account. The access token is never stored or printed — only the variable's name.
 *
 * `list` and `show` also work through a daemon's admin API (cli/Remote.ts), printing the same; `add` and
 * `refresh` work only directly on the database.
 */
import { Dialog360Transport } from "@megaphone/adapters"
import { Ports, Quota } from "@megaphone/core"
import { Clock, Console, Effect, Option, Redacted, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { account as accountJson } from "../../accounts/Json.ts"
import { quota as quotaJson } from "../../campaigns/Json.ts"
import { senderCredentials } from "../../templates/TemplateSync.ts"
import * as Receiver from "../../webhook/Receiver.ts"
import { CommandFailed, usageError } from "../Failure.ts"
import { cell, json, printJson, table } from "../Output.ts"
import { adminUrl, directOnly, target, throughApi } from "../Remote.ts"
import { accessToken, explainAccountRefusal, findAccount, transportFailure, withStorage, withTransport } from "../Session.ts"
import { databaseUrl } from "../Storage.ts"

type Account = Ports.Storage.Account

/** The token variable, Graph URL and version an account gets when the flags do not say otherwise. */
export const ACCOUNT_DEFAULTS = {
  tokenEnv: "MEGAPHONE_ACCESS_TOKEN",
  graphUrl: "https://graph.facebook.com",
  graphVersion: "v23.0",
  provider: "meta"
} as const

/** The base URL an account of each provider gets without `--graph-url` (docs/providers.md). */
export const PROVIDER_URLS: Readonly<Record<Ports.Transport.Provider, string>> = {
  meta: ACCOUNT_DEFAULTS.graphUrl,
  "360dialog": Dialog360Transport.DEFAULT_BASE_URL
}

const limitText = (limit: Quota.MessagingLimit): string =>
  limit === "unlimited" ? "unlimited" : `${limit.toLocaleString("en-US")} / 24 h`

// ---------------------------------------------------------------------------------------------------------
// accounts add

/** The settings `accounts add` takes, as typed: the part of an account a person chooses. */
export type AccountSettings = Pick<Account, "name" | "phoneNumberId" | "wabaId" | "portfolioId" | "tokenEnv" | "graphUrl" | "graphVersion" | "provider">

const DIGITS = /^\d+$/
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Checks what `accounts add` was given; every problem names the flag and the fix. */
export const validateSettings = (s: AccountSettings): Result.Result<AccountSettings, ReadonlyArray<string>> => {
  const problems: Array<string> = []
  const name = s.name.trim()
  if (name === "") problems.push("NAME must not be empty: give the account a short handle, e.g. `megaphone accounts add shop …`.")
  if (!DIGITS.test(s.phoneNumberId)) {
    problems.push("--phone-number-id must be the phone number's id, digits only (e.g. 106540352242922), not the phone number " +
      "itself; find it in the App Dashboard → WhatsApp → API Setup, or in WhatsApp Manager → Phone numbers.")
  }
  if (!DIGITS.test(s.wabaId)) {
    problems.push("--waba-id must be the WhatsApp Business Account id, digits only (e.g. 102290129340398); " +
      "find it in WhatsApp Manager → Account tools, or in the App Dashboard → WhatsApp → API Setup.")
  }
  if (s.portfolioId !== null && !DIGITS.test(s.portfolioId)) {
    problems.push("--portfolio must be the business portfolio id, digits only; find it in Meta Business Suite → Settings → Business info, or leave it out.")
  }
  if (!ENV_NAME.test(s.tokenEnv)) {
    // Never echo the value: someone may have pasted the token itself here.
    problems.push("--token-env takes the NAME of the environment variable that holds the access token (letters, digits, _; " +
      "e.g. MEGAPHONE_ACCESS_TOKEN), not the token itself.")
  }
  let graphUrl = s.graphUrl
  try {
    const url = new URL(s.graphUrl)
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("not http(s)")
    graphUrl = s.graphUrl.replace(/\/+$/, "")
  } catch {
    problems.push(`--graph-url must be an http(s) URL such as ${ACCOUNT_DEFAULTS.graphUrl} (or the simulator's http://127.0.0.1:8789).`)
  }
  if (!/^v\d+\.\d+$/.test(s.graphVersion)) {
    problems.push(`--graph-version must look like ${ACCOUNT_DEFAULTS.graphVersion} (v, major, dot, minor).`)
  }
  return problems.length > 0 ? Result.fail(problems) : Result.succeed({ ...s, name, graphUrl })
}

/** A new account: nothing reported by Meta yet, so the limits new numbers start with (250 / 24 h, 80 mps). */
export const newAccount = (s: AccountSettings, now: Date): Account => ({
  ...s,
  displayPhoneNumber: null,
  messagingLimit: 250,
  messagingTier: null,
  qualityRating: null,
  throughputMps: Quota.DEFAULT_MPS,
  throughputLevel: null,
  nameStatus: null,
  status: null,
  createdAt: now,
  updatedAt: now
})

const add = Command.make(
  "add",
  {
    name: Argument.String("NAME").pipe(Argument.withDescription("a short handle for the account, e.g. shop")),
    phoneNumberId: Flag.String("phone-number-id").pipe(Flag.withDescription("the business phone number's id (digits)")),
    wabaId: Flag.String("waba-id").pipe(Flag.withDescription("the WhatsApp Business Account id (digits)")),
    portfolio: Flag.String("portfolio").pipe(Flag.withDescription("the business portfolio id, when its numbers share one messaging limit"), Flag.optional),
    tokenEnv: Flag.String("token-env").pipe(
      Flag.withDescription(`the environment variable holding the access token (default ${ACCOUNT_DEFAULTS.tokenEnv})`),
      Flag.withDefault(ACCOUNT_DEFAULTS.tokenEnv)
    ),
    graphUrl: Flag.String("graph-url").pipe(
      Flag.withDescription(`Graph API base URL (default ${ACCOUNT_DEFAULTS.graphUrl}; with --provider 360dialog, ${PROVIDER_URLS["360dialog"]})`),
      Flag.optional
    ),
    provider: Flag.Literals("provider", ["meta", "360dialog"] as const).pipe(
      Flag.withDescription("who carries the requests: meta (the Cloud API directly) or 360dialog (its API key in --token-env)"),
      Flag.withDefault(ACCOUNT_DEFAULTS.provider)
    ),
    graphVersion: Flag.String("graph-version").pipe(Flag.withDescription(`Graph API version (default ${ACCOUNT_DEFAULTS.graphVersion})`), Flag.withDefault(ACCOUNT_DEFAULTS.graphVersion)),
    maxMps: Flag.Int("max-mps").pipe(
      Flag.withDescription("send at most this many messages per second from the number (1-1000), when lower than Meta's rate"),
      Flag.optional
    ),
    replace: Flag.Boolean("replace").pipe(Flag.withDescription("change the settings of an existing account"), Flag.withDefault(false)),
    databaseUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      yield* directOnly("accounts add", input.databaseUrl)
      const checked = validateSettings({
        name: input.name,
        phoneNumberId: input.phoneNumberId.trim(),
        wabaId: input.wabaId.trim(),
        portfolioId: Option.getOrNull(Option.map(input.portfolio, (p) => p.trim())),
        tokenEnv: input.tokenEnv.trim(),
        graphUrl: Option.getOrElse(input.graphUrl, () => PROVIDER_URLS[input.provider]).trim(),
        graphVersion: input.graphVersion.trim(),
        provider: input.provider
      })
      if (Result.isFailure(checked)) return yield* new CommandFailed({ message: checked.failure.join("\n       ") })
      const maxMps = Option.getOrUndefined(input.maxMps)
      if (maxMps !== undefined && (maxMps < 1 || maxMps > Quota.HIGH_THROUGHPUT_MPS)) {
        return yield* usageError(["megaphone", "accounts", "add"], `--max-mps must be a whole number from 1 to ${Quota.HIGH_THROUGHPUT_MPS} (Meta's highest per-number rate), not ${maxMps}.`)
      }
      const settings = checked.success
      const saved = yield* Effect.gen(function*() {
        const storage = yield* Ports.Storage.Storage
        const now = new Date(yield* Clock.currentTimeMillis)
        const existing = yield* storage.getAccount(settings.name)
        if (Option.isSome(existing) && !input.replace) {
          const a = existing.value
          return yield* new CommandFailed({
            message: `Account "${a.name}" already exists (phone-number id ${a.phoneNumberId}, WABA ${a.wabaId}). ` +
              `To change its settings run the same command with --replace; to add another number, choose another name.`
          })
        }
        // Replacing keeps what Meta reported, unless it is another number now.
        const { maxMps: _previous, ...reported } = Option.isSome(existing) && existing.value.phoneNumberId === settings.phoneNumberId
          ? { ...existing.value, ...settings, updatedAt: now }
          : newAccount(settings, now)
        // The cap is a setting like the others: a replace without --max-mps removes it.
        return yield* storage.saveAccount(maxMps === undefined ? reported : { ...reported, maxMps })
      }).pipe(withStorage(input.databaseUrl))
      if (input.json) return yield* printJson({ account: accountJson(saved) })
      if (saved.provider === "360dialog") {
        yield* Console.log(`Saved account ${saved.name}: phone-number id ${saved.phoneNumberId}, WABA ${saved.wabaId}, ` +
          `through 360dialog at ${saved.graphUrl}, API key from ${saved.tokenEnv}.`)
        yield* Console.log(`Next: megaphone accounts webhook ${saved.name} --url https://…/webhooks/whatsapp   (tells 360dialog where to forward webhooks)`)
      } else {
        yield* Console.log(`Saved account ${saved.name}: phone-number id ${saved.phoneNumberId}, WABA ${saved.wabaId}, ` +
          `token from ${saved.tokenEnv}, Graph ${saved.graphUrl} ${saved.graphVersion}.`)
        yield* Console.log(`Next: megaphone accounts refresh ${saved.name}   (reads its tier, quality and throughput from Meta)`)
      }
      if (process.env[saved.tokenEnv] === undefined) {
        yield* Console.error(`note: ${saved.tokenEnv} is not set in this environment; set it before refresh or templates sync.`)
      }
    })
).pipe(Command.withDescription("Add a WhatsApp business phone number (its token stays in an environment variable)."))

// ---------------------------------------------------------------------------------------------------------
// accounts list / show

const list = Command.make("list", { databaseUrl, adminUrl, json }, (input) =>
  Effect.gen(function*() {
    const on = yield* target(["megaphone", "accounts", "list"], input)
    const accounts = on._tag === "Direct"
      ? yield* Effect.gen(function*() {
        return (yield* (yield* Ports.Storage.Storage).listAccounts()).map(accountJson)
      }).pipe(withStorage(on.databaseUrl))
      : yield* throughApi(on, (client) => Effect.map(client.accounts.list(), (r) => r.accounts))
    if (input.json) return yield* printJson({ accounts })
    if (accounts.length === 0) {
      return yield* Console.log("No accounts yet. Add one: megaphone accounts add NAME --phone-number-id ID --waba-id ID")
    }
    yield* Console.log(table(
      ["NAME", "PHONE NUMBER ID", "WABA", "NUMBER", "TIER", "LIMIT", "QUALITY", "MPS", "STATUS"],
      accounts.map((a) => [
        a.name, a.phone_number_id, a.waba_id, cell(a.display_phone_number), cell(a.messaging_tier), limitText(a.messaging_limit),
        cell(a.quality_rating), String(a.throughput_mps), cell(a.status)
      ])
    ))
  })).pipe(Command.withDescription("List the accounts."))

const show = Command.make(
  "show",
  { name: Argument.String("NAME"), databaseUrl, adminUrl, json },
  (input) =>
    Effect.gen(function*() {
      const { name } = input
      const on = yield* target(["megaphone", "accounts", "show"], input)
      const shown = on._tag === "Direct"
        ? yield* Effect.gen(function*() {
          const account = yield* findAccount(name)
          const now = new Date(yield* Clock.currentTimeMillis)
          const quota = yield* (yield* Ports.Storage.Storage).quotaUsage(account, now)
          return { account: accountJson(account), quota: quotaJson(quota) }
        }).pipe(withStorage(on.databaseUrl))
        : yield* throughApi(on, (client) =>
          Effect.all({
            account: client.accounts.show({ params: { name } }),
            quota: client.accounts.quota({ params: { name } })
          }), explainAccountRefusal)
      if (input.json) return yield* printJson(shown)
      const { account: a, quota } = shown
      yield* Console.log(table(["FIELD", "VALUE"], [
        ["name", a.name],
        ["phone-number id", a.phone_number_id],
        ["WABA", a.waba_id],
        ["portfolio", cell(a.portfolio_id)],
        ["number", cell(a.display_phone_number)],
        ["provider", a.provider],
        [a.provider === "360dialog" ? "API key from" : "token from", a.token_env],
        a.provider === "360dialog" ? ["360dialog API", a.graph_url] : ["Graph API", `${a.graph_url} ${a.graph_version}`],
        ["messaging tier", cell(a.messaging_tier)],
        ["messaging limit", limitText(a.messaging_limit)],
        ["used (rolling 24 h)", `${quota.used} (${quota.quota_key})`],
        ["quality", cell(a.quality_rating)],
        ["throughput", `${a.throughput_mps} mps${a.throughput_level === null ? "" : ` (${a.throughput_level})`}` +
          (a.max_mps === null ? "" : a.max_mps < a.throughput_mps ? `, capped at ${a.max_mps} (--max-mps)` : `, cap ${a.max_mps} (--max-mps)`)],
        ["name status", cell(a.name_status)],
        ["status", cell(a.status)],
        ["updated", a.updated_at.toISOString()]
      ]))
    })
).pipe(Command.withDescription("Show one account, with its use of the rolling 24-hour messaging limit."))

// ---------------------------------------------------------------------------------------------------------
// accounts refresh

/**
 * The account after Meta's phone-number report: tier → messaging limit, throughput level → mps. A tier Megaphone
 * cannot read keeps the previous limit (reported as a warning) rather than guessing a larger one.
 */
export const applyPhoneNumberInfo = (
  account: Account,
  info: Ports.Transport.PhoneNumberInfo,
  now: Date
): { readonly account: Account; readonly warnings: ReadonlyArray<string> } => {
  const warnings: Array<string> = []
  let messagingLimit = account.messagingLimit
  if (info.messagingLimitTier !== null) {
    const parsed = Quota.parseMessagingTier(info.messagingLimitTier)
    if (Result.isSuccess(parsed)) messagingLimit = parsed.success
    else warnings.push(`Meta reported the messaging tier ${info.messagingLimitTier}, which Megaphone does not know; the limit stays ${limitText(account.messagingLimit)}.`)
  }
  if (info.status !== null && info.status !== "CONNECTED") {
    warnings.push(`The number's status is ${info.status}: only CONNECTED numbers can send. See WhatsApp Manager → Phone numbers.`)
  }
  if (info.qualityRating === "RED") {
    warnings.push("The number's quality rating is RED: customers block or report its messages; slow down and review the templates.")
  }
  return {
    account: {
      ...account,
      displayPhoneNumber: info.displayPhoneNumber,
      messagingLimit,
      messagingTier: info.messagingLimitTier,
      qualityRating: info.qualityRating,
      throughputLevel: info.throughputLevel,
      throughputMps: Quota.throughputFor({ level: info.throughputLevel ?? undefined }),
      nameStatus: info.nameStatus,
      status: info.status,
      updatedAt: now
    },
    warnings
  }
}

const refresh = Command.make(
  "refresh",
  { name: Argument.String("NAME"), databaseUrl, json },
  ({ name, databaseUrl, json: asJson }) =>
    Effect.gen(function*() {
      yield* directOnly("accounts refresh", databaseUrl)
      const { account, warnings } = yield* Effect.gen(function*() {
        const storage = yield* Ports.Storage.Storage
        const transport = yield* Ports.Transport.Transport
        const account = yield* findAccount(name)
        if (account.provider === "360dialog") {
          // 360dialog's API has no phone-number node; Meta's account webhooks keep tier and quality current.
          return {
            account,
            warnings: ["360dialog's API does not report the number's tier, quality or throughput; Megaphone keeps what it has " +
              "and updates them from the account webhooks 360dialog forwards. Use --max-mps to cap the rate."]
          }
        }
        const token = yield* accessToken(account)
        const info = yield* transport.phoneNumberInfo(senderCredentials(account, token)).pipe(
          Effect.mapError((error) => transportFailure(account, error))
        )
        const now = new Date(yield* Clock.currentTimeMillis)
        const refreshed = applyPhoneNumberInfo(account, info, now)
        return { account: yield* storage.saveAccount(refreshed.account), warnings: refreshed.warnings }
      }).pipe(withTransport, withStorage(databaseUrl))
      if (asJson) return yield* printJson({ account: accountJson(account), warnings })
      yield* Console.log(`Refreshed ${account.name} (${cell(account.displayPhoneNumber)}): tier ${cell(account.messagingTier)} ` +
        `(${limitText(account.messagingLimit)}), quality ${cell(account.qualityRating)}, throughput ${cell(account.throughputLevel)} ` +
        `(${account.throughputMps} mps), name ${cell(account.nameStatus)}, status ${cell(account.status)}.`)
      for (const warning of warnings) yield* Console.error(`warning: ${warning}`)
    })
).pipe(Command.withDescription("Read the account's tier, quality, throughput and status from Meta and save them."))

// ---------------------------------------------------------------------------------------------------------
// accounts webhook

/** The variable holding the secret a BSP sends with each webhook, and the header it is sent in by default. */
export const WEBHOOK_SECRET_ENV = "MEGAPHONE_WEBHOOK_SECRET"

const webhook = Command.make(
  "webhook",
  {
    name: Argument.String("NAME"),
    url: Flag.String("url").pipe(Flag.withDescription("the daemon's public webhook URL, e.g. https://megaphone.example.com/webhooks/whatsapp")),
    secretHeader: Flag.String("secret-header").pipe(
      Flag.withDescription(`the header 360dialog sends ${WEBHOOK_SECRET_ENV} in (default ${Receiver.DEFAULT_SECRET_HEADER}; the daemon's webhook.secretHeader)`),
      Flag.withDefault(Receiver.DEFAULT_SECRET_HEADER)
    ),
    databaseUrl,
    json
  },
  (input) =>
    Effect.gen(function*() {
      yield* directOnly("accounts webhook", input.databaseUrl)
      const path = ["megaphone", "accounts", "webhook"]
      if (!/^https?:\/\/\S+$/.test(input.url.trim())) return yield* usageError(path, `--url must be an http(s) URL, not ${JSON.stringify(input.url)}.`)
      if (!/^[A-Za-z0-9-]{1,64}$/.test(input.secretHeader)) return yield* usageError(path, "--secret-header must be an HTTP header name (letters, digits, -).")
      const secret = process.env[WEBHOOK_SECRET_ENV]?.trim()
      if (secret === undefined || secret === "") {
        return yield* new CommandFailed({
          message: `${WEBHOOK_SECRET_ENV} is not set. Set it to a long random secret (the same one the daemon gets), so the ` +
            "daemon can tell 360dialog's deliveries from forgeries, and run the command again."
        })
      }
      const account = yield* Effect.gen(function*() {
        const account = yield* findAccount(input.name)
        if (account.provider !== "360dialog") {
          return yield* new CommandFailed({
            message: `Account "${account.name}" sends through Meta directly: its webhook URL is set for the whole app in the App Dashboard ` +
              "→ WhatsApp → Configuration, and Meta signs every delivery. Only 360dialog accounts are registered with this command."
          })
        }
        const transport = yield* Ports.Transport.Transport
        const token = yield* accessToken(account)
        const register = transport.registerWebhook
        if (register === undefined) return yield* new CommandFailed({ message: "This transport cannot register webhooks." })
        yield* register(senderCredentials(account, token), {
          url: input.url.trim(),
          headers: { [input.secretHeader]: Redacted.make(secret) }
        }).pipe(Effect.mapError((error) => transportFailure(account, error)))
        return account
      }).pipe(withTransport, withStorage(input.databaseUrl))
      if (input.json) return yield* printJson({ account: account.name, url: input.url.trim(), secret_header: input.secretHeader })
      yield* Console.log(`360dialog now forwards the webhooks of ${account.name} to ${input.url.trim()}, with ${WEBHOOK_SECRET_ENV} in ` +
        `${input.secretHeader}. Give the daemon the same ${WEBHOOK_SECRET_ENV}` +
        (input.secretHeader === Receiver.DEFAULT_SECRET_HEADER ? "." : ` and webhook.secretHeader = ${input.secretHeader}.`))
    })
).pipe(Command.withDescription("Register the daemon's webhook URL at 360dialog, with the shared secret in a header."))

/** `megaphone accounts add | list | show | refresh | webhook` */
export const accounts = Command.make("accounts").pipe(
  Command.withDescription("WhatsApp business numbers to send from."),
  Command.withSubcommands([add, list, show, refresh, webhook])
)
