/**
 * The daemon's configuration, loaded once at start. Each source overrides the one before it:
 *
 *   defaults  <  the JSON file of `--config`  <  environment variables  <  flags
 *
 * and the merged result is decoded with Schema at this boundary. Every problem is collected — a broken file
 * (with line and column), a bad value (with its key and where it came from), an unknown key (with a
 * "did you mean"), an unreadable secret — and reported at once in one {@link ConfigError}.
 *
 * Secrets (the database URL, the app secret, the verify and admin tokens) come from the environment, a
 * `NAME_FILE` file or systemd's credentials directory ({@link Secrets}) and only ever live in a `Redacted`:
 * printing, logging or `JSON.stringify`-ing a `DaemonConfig` shows none of them.
 */
import * as fs from "node:fs/promises"
import type { Database } from "@megaphone/adapters"
import type { RetryPolicy } from "@megaphone/core"
import { Effect, type LogLevel, Option, Redacted, Result, Schema, type SchemaIssue } from "effect"
import type * as Dispatcher from "../dispatch/Dispatcher.ts"
import { ConfigError, type Origin, type Problem, single } from "./ConfigError.ts"
import * as JsonText from "./JsonText.ts"
import * as Secrets from "./Secrets.ts"
import { DaemonSettings, formatListen, type ListenAddress, type LogLevelName, sections, type Setting, settings } from "./Settings.ts"
import { didYouMean } from "./Suggest.ts"

/** The daemon's flags that override configuration (SPEC §7 `megaphone daemon`). */
export interface DaemonFlags {
  /** `--database-url` → `database.url`. */
  readonly databaseUrl: string
  /** `--webhook-listen` → `webhook.listen`. */
  readonly webhookListen: string
  /** `--admin-listen` → `admin.listen`. */
  readonly adminListen: string
}

/** What {@link load} reads: the `--config` file if one was given, the flags that were given, and the environment. */
export interface LoadInput {
  readonly file?: string | undefined
  readonly flags: { readonly [K in keyof DaemonFlags]?: DaemonFlags[K] | undefined }
  readonly env: Secrets.Environment
}

/** The names of the daemon's own secrets (each also as `NAME_FILE` and as the systemd credential `NAME`). */
export const SECRET_NAMES = {
  appSecret: "MEGAPHONE_APP_SECRET",
  verifyToken: "MEGAPHONE_VERIFY_TOKEN",
  adminToken: "MEGAPHONE_ADMIN_TOKEN"
} as const

/**
 * The secret 360dialog sends with each webhook (docs/providers.md). Optional, and only for 360dialog accounts, so
 * not among the secrets every installation passes as a credential (the systemd unit has it commented out).
 */
export const WEBHOOK_SECRET_NAME = "MEGAPHONE_WEBHOOK_SECRET"

/** The daemon's own secrets. Account access tokens are read per account with `Secrets.read(account.tokenEnv, env)`. */
export interface DaemonSecrets {
  /** Signs every webhook (X-Hub-Signature-256); required. */
  readonly appSecret: Redacted.Redacted<string>
  /** Answers Meta's verification handshake; without it every handshake is refused. */
  readonly verifyToken: Option.Option<Redacted.Redacted<string>>
  /** The bearer token of the admin API. */
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
  /** What a BSP (360dialog) sends in `webhook.secretHeader`; without it only Meta-signed webhooks are accepted. */
  readonly webhookSecret: Option.Option<Redacted.Redacted<string>>
}

/** The daemon's decoded configuration: every setting, the secrets, and where each value came from. */
export interface DaemonConfig extends DaemonSettings {
  readonly secrets: DaemonSecrets
  /**
   * Where each value came from, by setting key or secret name: `default`, the file's path, the environment
   * variable (`MEGAPHONE_APP_SECRET_FILE (/run/…)`, `$CREDENTIALS_DIRECTORY/…` for secrets) or the flag.
   */
  readonly sources: Readonly<Record<string, string>>
}

// ---------------------------------------------------------------------------------------------------------------
// The raw tree the sources are merged into (in the file's shape, before decoding)

type Tree = Record<string, unknown>

interface From {
  readonly origin: Origin
  readonly source: string
}

const DEFAULT: From = { origin: "default", source: "default" }

const ORIGIN_ORDER: { readonly [O in Origin]: number } = { file: 0, environment: 1, flag: 2, default: 3 }

const FLAG_KEYS: { readonly [K in keyof DaemonFlags]: string } = {
  databaseUrl: "database.url",
  webhookListen: "webhook.listen",
  adminListen: "admin.listen"
}

const settingOf = new Map(settings.map((s) => [s.key, s]))
const knownKeys: ReadonlyArray<string> = [...sections, ...settings.map((s) => s.key)]
const sectionSet = new Set(sections)

const isObject = (value: unknown): value is Tree => typeof value === "object" && value !== null && !Array.isArray(value)

// A key "__proto__" from JSON.parse must stay a plain (reported) key, not become the object's prototype.
const setOwn = (tree: Tree, key: string, value: unknown): void => {
  Object.defineProperty(tree, key, { value, enumerable: true, writable: true, configurable: true })
}

const getPath = (tree: unknown, key: string): unknown =>
  key.split(".").reduce<unknown>((node, part) => (isObject(node) && Object.hasOwn(node, part) ? node[part] : undefined), tree)

/** Put a known setting's value in the tree; false when a section on the way is not an object (the file's problem stands). */
const setPath = (tree: Tree, key: string, value: unknown): boolean => {
  const parts = key.split(".")
  let node: Tree = tree
  for (const part of parts.slice(0, -1)) {
    if (!Object.hasOwn(node, part)) setOwn(node, part, {})
    const next = node[part]
    if (!isObject(next)) return false
    node = next
  }
  setOwn(node, parts[parts.length - 1] ?? key, value)
  return true
}

const defaultsTree = (): Tree => {
  const tree: Tree = {}
  for (const section of sections) setPath(tree, section, {})
  for (const s of settings) if (s.default !== undefined) setPath(tree, s.key, s.default)
  return tree
}

/** Lay the file over the defaults: sections merge key by key, anything else (unknown keys too) replaces. */
const overlay = (target: Tree, file: Tree, prefix: string, record: (key: string) => void): void => {
  for (const [name, value] of Object.entries(file)) {
    const key = prefix === "" ? name : `${prefix}.${name}`
    const existing = Object.hasOwn(target, name) ? target[name] : undefined
    if (sectionSet.has(key) && isObject(value) && isObject(existing)) {
      overlay(existing, value, key, record)
    } else {
      setOwn(target, name, value)
    }
    record(key)
  }
}

const nonEmpty = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim()
  return trimmed === undefined || trimmed === "" ? undefined : trimmed
}

/** Text from the environment or a flag in the file's terms: integers as numbers; anything else stays text and fails decoding. */
const fromText = (setting: Setting, text: string): unknown => (setting.kind === "integer" && /^[+-]?\d+$/.test(text) ? Number(text) : text)

// ---------------------------------------------------------------------------------------------------------------
// The file

const describeType = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `a ${typeof value}`

const errnoCode = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string" ? cause.code : undefined

const fileProblem = (source: string, message: string): ConfigError => single({ origin: "file", source, message })

/** The file's top-level object, or why it cannot be used (read error, JSON syntax with line:column, not an object). */
const readConfigFile = (file: string): Effect.Effect<Tree, ConfigError> =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (cause) => {
      const code = errnoCode(cause)
      return fileProblem(file, code === "ENOENT"
        ? "the configuration file does not exist; give --config the path of a JSON file (examples/systemd/config.json is one)"
        : code === "EACCES" || code === "EPERM"
        ? "the configuration file cannot be read by this user; make it readable by the daemon's user (e.g. root:megaphone, mode 0640)"
        : code === "EISDIR"
        ? "is a directory; give --config the path of a JSON file"
        : `the configuration file cannot be read (${code ?? "unknown error"})`)
    }
  }).pipe(
    Effect.flatMap((text) => {
      const parsed = JsonText.parse(text)
      if (Result.isFailure(parsed)) {
        const { line, column, problem } = parsed.failure
        return Effect.fail(fileProblem(`${file}:${line}:${column}`, `not valid JSON: ${problem}.`))
      }
      const value = parsed.success
      return isObject(value)
        ? Effect.succeed(value)
        : Effect.fail(fileProblem(file, `expected one JSON object such as {"dispatch": {"concurrency": 32}}, got ${describeType(value)}`))
    })
  )

// ---------------------------------------------------------------------------------------------------------------
// Decoding problems, in people's terms

interface IssueAt {
  readonly path: ReadonlyArray<string>
  readonly tag: string
}

/** The leaves of an issue tree with the path to each. */
const issuesAt = (issue: SchemaIssue.Issue, path: ReadonlyArray<string>, out: Array<IssueAt>): void => {
  switch (issue._tag) {
    case "Pointer":
      return issuesAt(issue.issue, [...path, ...issue.path.map(String)], out)
    case "Filter":
    case "Encoding":
      return issuesAt(issue.issue, path, out)
    case "Composite":
    case "AnyOf":
      if (issue.issues.length === 0) out.push({ path, tag: issue._tag })
      for (const inner of issue.issues) issuesAt(inner, path, out)
      return
    default:
      out.push({ path, tag: issue._tag })
  }
}

const show = (value: unknown): string => {
  if (value === undefined) return "nothing"
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}

const childrenOf = (parent: string): ReadonlyArray<string> =>
  knownKeys.filter((key) => (parent === "" ? !key.includes(".") : key.startsWith(`${parent}.`) && !key.slice(parent.length + 1).includes(".")))
    .map((key) => key.slice(key.lastIndexOf(".") + 1))

/** The problem an issue at `key` describes; the value is shown unless the setting is a secret. */
const describeIssue = (key: string, tag: string, raw: Tree): string => {
  if (tag === "UnexpectedKey") {
    const parent = key.includes(".") ? key.slice(0, key.lastIndexOf(".")) : ""
    const hint = didYouMean(key, knownKeys)
    const here = parent === "" ? "at the top level" : `in ${parent}`
    return `unknown key.${hint === "" ? ` The keys ${here} are: ${childrenOf(parent).join(", ")}.` : hint}`
  }
  const value = getPath(raw, key)
  const setting = settingOf.get(key)
  if (setting !== undefined) {
    return setting.secret
      ? `expected ${setting.expected}; the value given is not one (not shown: it may hold a password)`
      : `expected ${setting.expected}, got ${show(value)}`
  }
  if (sectionSet.has(key)) return `expected an object with the keys ${childrenOf(key).join(", ")}, got ${show(value)}`
  return `expected one JSON object, got ${show(value)}`
}

/**
 * Rules between two settings, checked once each setting is valid on its own. A problem is reported at the first
 * of the two keys that was set (the one not at its default), since that is the one to look at.
 */
const crossChecks = (s: DaemonSettings, problemAt: (keys: readonly [string, string], message: string) => Problem): Array<Problem> => {
  const problems: Array<Problem> = []
  const { dispatch, retry } = s
  if (dispatch.horizonMs >= dispatch.leaseMs) {
    problems.push(problemAt(["dispatch.horizonMs", "dispatch.leaseMs"], `dispatch.horizonMs (${dispatch.horizonMs}) must be less than ` +
      `dispatch.leaseMs (${dispatch.leaseMs}): a send slot handed out further ahead than a lease lasts would outlive its lease`))
  }
  for (const key of ["baseDelayMs", "rateLimitedBaseDelayMs"] as const) {
    if (retry[key] > retry.maxDelayMs) {
      problems.push(problemAt([`retry.${key}`, "retry.maxDelayMs"], `retry.${key} (${retry[key]}) must not exceed retry.maxDelayMs ` +
        `(${retry.maxDelayMs}), the longest wait`))
    }
  }
  const [webhook, admin] = [s.webhook.listen, s.admin.listen]
  if (webhook.port !== 0 && webhook.port === admin.port && webhook.host === admin.host) {
    problems.push(problemAt(["admin.listen", "webhook.listen"], `admin.listen and webhook.listen are both ${formatListen(webhook)}; ` +
      "the two servers need different ports"))
  }
  return problems
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

/**
 * Load the daemon's configuration: defaults, then `file` (JSON), then `env`, then `flags`, decoded and checked,
 * plus the daemon's secrets. Fails with one {@link ConfigError} listing every problem with its source.
 */
export const load = (input: LoadInput): Effect.Effect<DaemonConfig, ConfigError> =>
  Effect.gen(function*() {
    const problems: Array<Problem> = []
    const collect = <A>(effect: Effect.Effect<A, ConfigError>): Effect.Effect<Option.Option<A>> =>
      effect.pipe(
        Effect.map(Option.some),
        Effect.catch((error: ConfigError) => {
          problems.push(...error.problems)
          return Effect.succeed(Option.none<A>())
        })
      )
    const locateSecret = (name: string): Effect.Effect<Option.Option<Secrets.FoundSecret>> =>
      Effect.map(collect(Secrets.locate(name, input.env)), Option.flatten)

    const raw = defaultsTree()
    const from = new Map<string, From>(settings.filter((s) => s.default !== undefined).map((s) => [s.key, DEFAULT]))

    const { file } = input
    if (file !== undefined) {
      const content = yield* collect(readConfigFile(file))
      if (Option.isSome(content)) overlay(raw, content.value, "", (key) => from.set(key, { origin: "file", source: file }))
    }

    for (const setting of settings) {
      if (setting.env === undefined) continue
      if (setting.secret) {
        const found = yield* locateSecret(setting.env)
        if (Option.isSome(found) && setPath(raw, setting.key, Redacted.value(found.value.value))) {
          from.set(setting.key, { origin: "environment", source: found.value.source })
        }
        continue
      }
      const text = nonEmpty(input.env[setting.env])
      if (text !== undefined && setPath(raw, setting.key, fromText(setting, text))) {
        from.set(setting.key, { origin: "environment", source: setting.env })
      }
    }

    for (const [flag, key] of Object.entries(FLAG_KEYS) as ReadonlyArray<[keyof DaemonFlags, string]>) {
      const text = nonEmpty(input.flags[flag])
      const setting = settingOf.get(key)
      if (text !== undefined && setting !== undefined && setPath(raw, key, fromText(setting, text))) {
        from.set(key, { origin: "flag", source: setting.flag ?? flag })
      }
    }

    // The value's own source, or the nearest section's (an unknown key inside a section came with the file).
    const sourceOf = (key: string): From => {
      for (let k = key; k !== ""; k = k.includes(".") ? k.slice(0, k.lastIndexOf(".")) : "") {
        const found = from.get(k)
        if (found !== undefined) return found
      }
      return file === undefined ? DEFAULT : { origin: "file", source: file }
    }
    const problemAt = (key: string, message: string): Problem => ({ ...sourceOf(key), key, message })

    const decoded = Schema.decodeUnknownResult(DaemonSettings)(raw, { errors: "all", onExcessProperty: "error" })
    if (Result.isFailure(decoded)) {
      const found: Array<IssueAt> = []
      issuesAt(decoded.failure.issue, [], found)
      const seen = new Set<string>()
      for (const { path, tag } of found) {
        const key = path.join(".")
        if (seen.has(key)) continue
        seen.add(key)
        problems.push(problemAt(key, describeIssue(key, tag, raw)))
      }
    } else {
      problems.push(...crossChecks(decoded.success, (keys, message) =>
        problemAt(keys.find((key) => sourceOf(key).origin !== "default") ?? keys[0], message)))
    }

    const appSecret = yield* collect(Secrets.required(SECRET_NAMES.appSecret, input.env, "the app secret of your Meta app (App settings → Basic), which signs every webhook"))
    const verifyToken = yield* locateSecret(SECRET_NAMES.verifyToken)
    const adminToken = yield* locateSecret(SECRET_NAMES.adminToken)
    const webhookSecret = yield* locateSecret(WEBHOOK_SECRET_NAME)

    if (problems.length > 0 || Result.isFailure(decoded) || Option.isNone(appSecret)) {
      // Grouped by where they are fixed: the file first, then the environment, then the command line.
      return yield* new ConfigError({ problems: [...problems].sort((a, b) => ORIGIN_ORDER[a.origin] - ORIGIN_ORDER[b.origin]) })
    }
    const secretSources: Array<[string, string]> = [[SECRET_NAMES.appSecret, appSecret.value.source]]
    for (const [name, found] of [[SECRET_NAMES.verifyToken, verifyToken], [SECRET_NAMES.adminToken, adminToken],
      [WEBHOOK_SECRET_NAME, webhookSecret]] as const) {
      if (Option.isSome(found)) secretSources.push([name, found.value.source])
    }
    const secretOf = (found: Option.Option<Secrets.FoundSecret>) => Option.map(found, (secret) => secret.value)

    return {
      ...decoded.success,
      secrets: {
        appSecret: appSecret.value.value,
        verifyToken: secretOf(verifyToken),
        adminToken: secretOf(adminToken),
        webhookSecret: secretOf(webhookSecret)
      },
      sources: Object.fromEntries([
        ...settings.flatMap((s): Array<[string, string]> => {
          const found = from.get(s.key)
          return found === undefined ? [] : [[s.key, found.source]]
        }),
        ...secretSources
      ])
    }
  })

// ---------------------------------------------------------------------------------------------------------------
// What the daemon needs from it

/** The database to open: the server of `database.url`, else the embedded PostgreSQL in `database.dataDir`. */
export const database = (config: DaemonSettings): Database.Database =>
  config.database.url === undefined
    ? { _tag: "Embedded", dataDir: config.database.dataDir }
    : { _tag: "Server", url: config.database.url }

/** The retry policy of the `retry` section. */
export const retryPolicy = (config: DaemonSettings): RetryPolicy.RetryPolicy => ({ ...config.retry })

/** The dispatcher's options: the `dispatch` section and the retry policy, claiming as `owner`. */
export const dispatchOptions = (config: DaemonSettings, owner: string): Dispatcher.DispatchOptions => ({
  owner,
  policy: retryPolicy(config),
  ...config.dispatch
})

const LOG_LEVELS: { readonly [L in LogLevelName]: LogLevel.LogLevel } = { debug: "Debug", info: "Info", warning: "Warn", error: "Error" }

/** `log.level` as Effect's log level, for `References.MinimumLogLevel`. */
export const minimumLogLevel = (config: DaemonSettings): LogLevel.LogLevel => LOG_LEVELS[config.log.level]

const isListen = (value: unknown): value is ListenAddress =>
  isObject(value) && typeof value["host"] === "string" && typeof value["port"] === "number"

/**
 * The configuration for a log line: each setting as `value (source)`, secrets as `set (source)` or `not set`.
 * No secret value appears in it.
 */
export const summary = (config: DaemonConfig): Readonly<Record<string, string>> => {
  const line = (value: unknown, source: string | undefined) => {
    const text = Redacted.isRedacted(value) ? "set" : isListen(value) ? formatListen(value) : String(value)
    return source === undefined ? text : `${text} (${source})`
  }
  const entries: Array<[string, string]> = []
  for (const s of settings) {
    const value = getPath(config, s.key)
    if (value !== undefined) entries.push([s.key, line(value, config.sources[s.key])])
  }
  for (const name of Object.values(SECRET_NAMES)) {
    const source = config.sources[name]
    entries.push([name, source === undefined ? "not set" : `set (${source})`])
  }
  return Object.fromEntries(entries)
}

/** Where a server listens, and how it is written (`HOST:PORT`, `[IPv6]:PORT`). */
export { formatListen, type ListenAddress } from "./Settings.ts"
