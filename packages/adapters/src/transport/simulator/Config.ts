/**
 * The simulator's JSON configuration (docs/simulator.md): accounts, Meta's template objects per WABA, the
 * status webhooks and the faults to inject. Decoded with Schema so a typo is reported with its path.
 */
import { Template } from "@megaphone/core"
import { Quota } from "@megaphone/core"
import { Effect, Result, Schema } from "effect"

const defaulted = <S extends Schema.Top>(schema: S, value: S["Type"]) =>
  schema.pipe(Schema.withDecodingDefault(Effect.succeed(value)))

const Probability = Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }, {
  description: "a probability between 0 and 1"
}))
const Millis = Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 3_600_000 }, {
  description: "a duration in milliseconds between 0 and 3600000"
}))
const Digits = Schema.String.check(Schema.isPattern(/^\d{1,20}$/, { description: "a string of digits" }))

const MessagingTier = Schema.Union([Schema.String, Schema.Number]).check(Schema.makeFilter(
  (tier: string | number) =>
    Result.isSuccess(Quota.parseMessagingTier(tier)) ||
    `a messaging tier (TIER_250, TIER_2K, TIER_10K, TIER_100K, TIER_UNLIMITED, a count, or -1), got ${JSON.stringify(tier)}`
))

/** One business phone number and the account (WABA, portfolio) it belongs to. */
export const Account = Schema.Struct({
  phoneNumberId: Digits,
  wabaId: Digits,
  /** Accounts with the same portfolio share one messaging limit (Meta since Oct 2025). */
  portfolioId: Schema.optionalKey(Schema.String),
  /** As Meta formats it, e.g. "+420 601 000 001"; its digits are the business number. */
  displayPhoneNumber: Schema.String.check(Schema.isPattern(/^\+?[\d\s()-]{6,24}$/, { description: "a phone number such as +420 601 000 001" })),
  verifiedName: Schema.String,
  qualityRating: defaulted(Schema.String, "GREEN"),
  messagingLimitTier: defaulted(MessagingTier, "TIER_2K"),
  throughputLevel: defaulted(Schema.Literals(["STANDARD", "HIGH", "NOT_APPLICABLE"]), "STANDARD"),
  /** Overrides the messages per second that the throughput level implies (STANDARD 80, HIGH 1000). */
  mps: Schema.optionalKey(Schema.Number.check(Schema.isBetween({ minimum: 1, maximum: 100_000 }, { description: "messages per second, 1 to 100000" }))),
  nameStatus: defaulted(Schema.String, "APPROVED"),
  status: defaulted(Schema.String, "CONNECTED"),
  /** 360dialog mode: this number's `D360-API-KEY` (default: `accessToken`); never logged. */
  apiKey: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1)))
})

/** One configured business phone number. */
export type Account = typeof Account.Type

/** Delays of the status webhooks after the send (sent), then after the previous status. */
export const Delays = Schema.Struct({
  sentMs: defaulted(Millis, 20),
  deliveredMs: defaulted(Millis, 50),
  readMs: defaulted(Millis, 100),
  /** A random 0..jitterMs is added to each delay. */
  jitterMs: defaulted(Millis, 0)
})

/** How the simulated Meta posts status webhooks. */
export const Webhook = Schema.Struct({
  url: Schema.String.check(Schema.isPattern(/^https?:\/\/\S+$/, { description: "an http(s) URL" })),
  /** Key of the `X-Hub-Signature-256` HMAC; never logged. Required in Meta mode; 360dialog does not sign. */
  appSecret: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1))),
  /** Headers added to every POST (360dialog mode: what `POST /v1/configs/webhook` registered); never logged. */
  headers: defaulted(Schema.Record(Schema.String, Schema.String), {}),
  delays: defaulted(Delays, { sentMs: 20, deliveredMs: 50, readMs: 100, jitterMs: 0 }),
  probabilities: defaulted(Schema.Struct({
    /** Of a sent message, the share that is delivered. */
    delivered: defaulted(Probability, 1),
    /** Of a delivered message, the share that is read. */
    read: defaulted(Probability, 1)
  }), { delivered: 1, read: 1 }),
  /** Probability that a status is posted a second time (at-least-once delivery). */
  duplicates: defaulted(Probability, 0),
  /** Statuses are shuffled within this window; 0 keeps sent → delivered → read per message. */
  reorder: defaulted(Schema.Struct({ windowMs: defaulted(Millis, 0) }), { windowMs: 0 }),
  /** Statuses of one phone number per POST, at most. */
  batchSize: defaulted(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 1000 })), 1),
  /** Attempts per POST (the first included) before it is dropped. */
  maxAttempts: defaulted(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 20 })), 5),
  /** First retry after this; doubles per attempt, capped by retryMaxMs. */
  retryBaseMs: defaulted(Millis, 200),
  retryMaxMs: defaulted(Millis, 10_000),
  /** A POST without an answer within this is a failed attempt. */
  timeoutMs: defaulted(Millis, 5_000),
  /** POSTs in flight at once. */
  concurrency: defaulted(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 256 })), 16)
})

/** The status webhook settings, decoded. */
export type Webhook = typeof Webhook.Type

/** 360dialog mode without a `webhook` block: the default delivery habits, posting nowhere until a URL is registered. */
export const unregisteredWebhook = (): Webhook => Schema.decodeUnknownSync(Webhook)({ url: "http://unregistered.invalid/" })

/** A template status change the simulator makes by itself after some accepted messages (a pause mid-run). */
export const TemplateEvent = Schema.Struct({
  wabaId: Schema.optionalKey(Schema.String),
  name: Schema.String,
  language: Schema.String,
  event: Schema.String,
  reason: Schema.optionalKey(Schema.String),
  afterAccepted: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }))
})

/** Faults injected into sends; every probability is drawn from the seeded generator. */
export const Faults = Schema.Struct({
  /** 130429 (HTTP 429) although the number is under its throughput. */
  rateLimit: defaulted(Probability, 0),
  /** 131000 (HTTP 500). */
  serverError: defaulted(Probability, 0),
  /** Code 2 (HTTP 503). */
  unavailable: defaulted(Probability, 0),
  /** No answer until the client gives up (or hangMaxMs passes, then the connection is dropped). */
  hang: defaulted(Probability, 0),
  hangMaxMs: defaulted(Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 300_000 }, { description: "at most 300000 (5 min)" })), 300_000),
  /** Added to every Graph answer: latencyMs + random 0..jitterMs. */
  latencyMs: defaulted(Millis, 0),
  jitterMs: defaulted(Millis, 0),
  /** Accepted, then a `failed` status webhook with 131026. */
  undeliverable: defaulted(Probability, 0),
  undeliverableRecipients: defaulted(Schema.Array(Schema.String), []),
  /** Refused synchronously with 131009. */
  invalidNumbers: defaulted(Schema.Array(Schema.String), []),
  /** 360dialog mode: its own rate limit, HTTP 400 "You have exceeded the endpoint rate limit." */
  providerRateLimit: defaulted(Probability, 0),
  /** 360dialog mode: every send refused with HTTP 400 "Could not send message due to lack of payment." */
  providerPaymentRequired: defaulted(Schema.Boolean, false),
  templateEvents: defaulted(Schema.Array(TemplateEvent), [])
})

/** The faults in force, decoded. */
export type Faults = typeof Faults.Type

/** Limits other than throughput (which comes from each account). */
export const Limits = Schema.Struct({
  /** Meta's pair limit: one message per this long to the same recipient from the same number. */
  pairSpacingMs: defaulted(Millis, 6_000),
  /** Extra messages a pair may send at once before the spacing applies (Meta allows some; default none). */
  pairBurst: defaulted(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 100 })), 0)
})

/** The whole configuration file. */
export const SimulatorConfig = Schema.Struct({
  /** Whose API to serve: Meta's Graph API (default) or 360dialog's Cloud API endpoint (docs/providers.md). */
  provider: defaulted(Schema.Literals(["meta", "360dialog"]), "meta"),
  /** The token clients must send as `Authorization: Bearer …`; never logged. */
  accessToken: Schema.String.check(Schema.isMinLength(1)),
  accounts: Schema.Array(Account).check(Schema.isMinLength(1)),
  /** Meta's template objects (as `GET /{waba}/message_templates` returns them), per WABA id. */
  templates: defaulted(Schema.Record(Schema.String, Schema.Array(Template.Template)), {}),
  webhook: Schema.optionalKey(Webhook),
  faults: defaulted(Faults, decodeDefaults()),
  limits: defaulted(Limits, { pairSpacingMs: 6_000, pairBurst: 0 }),
  /** Makes every random choice reproducible. */
  seed: Schema.optionalKey(Schema.Int)
})

function decodeDefaults(): Faults {
  return {
    rateLimit: 0, serverError: 0, unavailable: 0, hang: 0, hangMaxMs: 300_000, latencyMs: 0, jitterMs: 0,
    undeliverable: 0, undeliverableRecipients: [], invalidNumbers: [], providerRateLimit: 0, providerPaymentRequired: false,
    templateEvents: []
  }
}

/** The configuration, decoded. */
export type SimulatorConfig = typeof SimulatorConfig.Type

/** The input form of the configuration (what a JSON file or a test writes). */
export type SimulatorConfigInput = typeof SimulatorConfig.Encoded

/** A configuration that cannot be used; the message names each bad key and what is expected there. */
export class SimulatorConfigError extends Schema.TaggedError<SimulatorConfigError>()("SimulatorConfigError", {
  explanation: Schema.String
}) {
  override get message(): string {
    return this.explanation
  }
}

const decodeConfig = Schema.decodeUnknownResult(SimulatorConfig)
const decodeFaultsPatch = Schema.decodeUnknownResult(Faults)

/** `at ["accounts"][0]["wabaId"]` → `accounts[0].wabaId`, the way people write paths. */
const readablePath = (message: string): string =>
  message.replace(/\[(?:"([^"]+)"|(\d+))\]/g, (_all, key: string | undefined, index: string | undefined) =>
    key !== undefined ? `.${key}` : `[${index ?? ""}]`).replace(/at \./g, "at ")

/** Cross-field checks Schema cannot express: unique ids, templates of known WABAs, unique name + language. */
const consistency = (config: SimulatorConfig): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const numbers = new Set<string>()
  config.accounts.forEach((account, i) => {
    if (numbers.has(account.phoneNumberId)) problems.push(`accounts[${i}].phoneNumberId: ${account.phoneNumberId} appears twice; each number once`)
    numbers.add(account.phoneNumberId)
  })
  if (config.provider === "meta" && config.webhook !== undefined && config.webhook.appSecret === undefined) {
    problems.push("webhook.appSecret: required when provider is meta (Meta signs every webhook with it)")
  }
  if (config.provider === "360dialog") {
    const keys = new Set<string>()
    config.accounts.forEach((account, i) => {
      const key = account.apiKey ?? config.accessToken
      if (keys.has(key)) problems.push(`accounts[${i}].apiKey: two numbers have the same API key; give each number its own apiKey in 360dialog mode`)
      keys.add(key)
    })
  }
  const wabas = new Set(config.accounts.map((account) => account.wabaId))
  for (const [waba, templates] of Object.entries(config.templates)) {
    if (!wabas.has(waba)) problems.push(`templates.${waba}: no account has wabaId ${waba}; use one of ${[...wabas].join(", ")}`)
    const keys = new Set<string>()
    templates.forEach((template, i) => {
      const key = `${template.name}/${template.language}`
      if (keys.has(key)) problems.push(`templates.${waba}[${i}]: ${template.name} in ${template.language} appears twice; name + language must be unique`)
      keys.add(key)
    })
  }
  return problems
}

/** Decodes a parsed JSON configuration, reporting every problem with its path. */
export const decode = (input: unknown): Result.Result<SimulatorConfig, SimulatorConfigError> => {
  const decoded = decodeConfig(input, { errors: "all" })
  if (Result.isFailure(decoded)) {
    return Result.fail(new SimulatorConfigError({
      explanation: `The simulator configuration is invalid:\n${readablePath(decoded.failure.message)}`
    }))
  }
  const problems = consistency(decoded.success)
  return problems.length === 0
    ? Result.succeed(decoded.success)
    : Result.fail(new SimulatorConfigError({ explanation: `The simulator configuration is invalid:\n${problems.join("\n")}` }))
}

/** Decodes a change of faults (a partial object, merged over the faults in force). */
export const decodeFaults = (current: Faults, patch: unknown): Result.Result<Faults, SimulatorConfigError> => {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    return Result.fail(new SimulatorConfigError({ explanation: "faults: expected a JSON object" }))
  }
  const decoded = decodeFaultsPatch({ ...current, ...patch }, { errors: "all" })
  return Result.mapError(decoded, (error) => new SimulatorConfigError({ explanation: `Invalid faults:\n${readablePath(error.message)}` }))
}
