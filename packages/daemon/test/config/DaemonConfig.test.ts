// The daemon's configuration as ops meet it: defaults, a file, the environment and flags overriding each other,
// and a start refused with every problem named (file and key, variable or flag) and how to fix it.
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { inspect } from "node:util"
import { RetryPolicy } from "@megaphone/core"
import { Option, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { renderProblem } from "../../src/config/ConfigError.ts"
import { database, dispatchOptions, minimumLogLevel, summary } from "../../src/config/DaemonConfig.ts"
import { APP_SECRET, loadError, loadOk, scratch, writeFileIn } from "./support.ts"

const dir = await scratch()
const configFile = (content: unknown) => writeFileIn(dir, content)

describe("defaults", () => {
  it("with no file, no variables and no flags every setting has its default and the embedded database is used", async () => {
    const config = await loadOk()
    expect(config.database).toEqual({ dataDir: "./megaphone-data", maxConnections: 10 })
    expect(config.webhook.listen).toEqual({ host: "0.0.0.0", port: 8788 })
    expect(config.admin.listen).toEqual({ host: "127.0.0.1", port: 8787 })
    expect(config.dispatch).toEqual({ claimLimit: 500, leaseMs: 300_000, horizonMs: 2_000, idleMs: 1_000, roundsInFlight: 4, lateMs: 50 })
    expect(config.retry).toEqual(RetryPolicy.defaultPolicy)
    expect(config.shutdown.deadlineMs).toBe(20_000)
    expect(config.log.level).toBe("info")
    expect(config.phone.defaultCountry).toBe("CZ")
    expect(config.daemonId).toBeUndefined()
    expect(config.sources["dispatch.leaseMs"]).toBe("default")
    expect(config.sources["database.url"]).toBeUndefined()
    expect(Redacted.value(config.secrets.appSecret)).toBe(APP_SECRET)
    expect(Option.isNone(config.secrets.verifyToken) && Option.isNone(config.secrets.adminToken)).toBe(true)
    expect(database(config)).toEqual({ _tag: "Embedded", dataDir: "./megaphone-data" })
    expect(minimumLogLevel(config)).toBe("Info")
    // Concurrency unset: the dispatcher derives it from each number's throughput.
    expect(dispatchOptions(config, "d1")).toEqual({
      owner: "d1", policy: RetryPolicy.defaultPolicy, claimLimit: 500, leaseMs: 300_000, horizonMs: 2_000, idleMs: 1_000, roundsInFlight: 4, lateMs: 50
    })
  })

  it("an empty object in the file is every default", async () => {
    const config = await loadOk({ file: await configFile({}) })
    expect(config.dispatch.leaseMs).toBe(300_000)
  })
})

describe("precedence: defaults < file < environment < flags", () => {
  it("each source overrides the one before it, key by key, and the sources say where each value came from", async () => {
    const file = await configFile({
      admin: { listen: "127.0.0.1:9000" },
      webhook: { listen: "0.0.0.0:9001" },
      dispatch: { concurrency: 8, claimLimit: 100 },
      log: { level: "debug" },
      phone: { defaultCountry: "sk" }
    })
    const config = await loadOk({
      file,
      env: { MEGAPHONE_ADMIN_LISTEN: "127.0.0.1:9100", MEGAPHONE_CONCURRENCY: " 16 ", MEGAPHONE_CLAIM_LIMIT: "" },
      flags: { adminListen: "[::1]:9200", webhookListen: undefined }
    })
    expect(config.admin.listen).toEqual({ host: "::1", port: 9200 })
    expect(config.webhook.listen).toEqual({ host: "0.0.0.0", port: 9001 })
    expect(config.dispatch.concurrency).toBe(16)
    expect(config.dispatch.claimLimit).toBe(100) // an empty variable is not set
    expect(config.log.level).toBe("debug")
    expect(config.phone.defaultCountry).toBe("SK")
    expect(minimumLogLevel(config)).toBe("Debug")
    expect(config.sources).toMatchObject({
      "admin.listen": "--admin-listen",
      "webhook.listen": file,
      "dispatch.concurrency": "MEGAPHONE_CONCURRENCY",
      "dispatch.claimLimit": file,
      "dispatch.idleMs": "default"
    })
  })

  it("the database URL: flag, then the variable, then its _FILE, then the credential, then the file", async () => {
    const urlFile = await writeFileIn(dir, "postgres://from-url-file@db/megaphone\n")
    const credentials = join(dir, "credentials-url")
    await mkdir(credentials, { recursive: true })
    await writeFile(join(credentials, "MEGAPHONE_DATABASE_URL"), "postgres://from-credential@db/megaphone")
    const file = await configFile({ database: { url: "postgres://from-config-file@db/megaphone" } })
    const url = async (env: Record<string, string>, flag?: string) => {
      const config = await loadOk({ file, env, flags: { databaseUrl: flag } })
      const db = database(config)
      return db._tag === "Server" ? [Redacted.value(db.url), config.sources["database.url"]] : db
    }
    expect(await url({})).toEqual(["postgres://from-config-file@db/megaphone", file])
    expect(await url({ CREDENTIALS_DIRECTORY: credentials })).toEqual(["postgres://from-credential@db/megaphone", "$CREDENTIALS_DIRECTORY/MEGAPHONE_DATABASE_URL"])
    expect(await url({ CREDENTIALS_DIRECTORY: credentials, MEGAPHONE_DATABASE_URL_FILE: urlFile }))
      .toEqual(["postgres://from-url-file@db/megaphone", `MEGAPHONE_DATABASE_URL_FILE (${urlFile})`])
    expect(await url({ MEGAPHONE_DATABASE_URL_FILE: urlFile, MEGAPHONE_DATABASE_URL: "postgresql://from-variable@db/m" }))
      .toEqual(["postgresql://from-variable@db/m", "MEGAPHONE_DATABASE_URL"])
    expect(await url({ MEGAPHONE_DATABASE_URL: "postgresql://from-variable@db/m" }, "postgres://from-flag@db/m"))
      .toEqual(["postgres://from-flag@db/m", "--database-url"])
  })

  it("every setting has its variable: integers, enumerations and text are read from the environment", async () => {
    const config = await loadOk({
      env: {
        MEGAPHONE_DATA_DIR: "/var/lib/megaphone/postgres",
        MEGAPHONE_DATABASE_MAX_CONNECTIONS: "20",
        MEGAPHONE_WEBHOOK_LISTEN: "127.0.0.1:18788",
        MEGAPHONE_IDLE_MS: "250",
        MEGAPHONE_ROUNDS_IN_FLIGHT: "2",
        MEGAPHONE_RETRY_MAX_ATTEMPTS: "5",
        MEGAPHONE_RETRY_ON_UNKNOWN_OUTCOME: "hold",
        MEGAPHONE_SHUTDOWN_DEADLINE_MS: "45000",
        MEGAPHONE_LOG_LEVEL: "warning",
        MEGAPHONE_DEFAULT_COUNTRY: "de",
        MEGAPHONE_DAEMON_ID: "mph-1"
      }
    })
    expect([
      config.database.dataDir, config.database.maxConnections, config.webhook.listen.port, config.dispatch.idleMs,
      config.dispatch.roundsInFlight, config.retry.maxAttempts, config.retry.onUnknownOutcome, config.shutdown.deadlineMs,
      config.log.level, minimumLogLevel(config), config.phone.defaultCountry, config.daemonId
    ]).toEqual(["/var/lib/megaphone/postgres", 20, 18788, 250, 2, 5, "hold", 45_000, "warning", "Warn", "DE", "mph-1"])
  })
})

describe("errors name the key, the source and what is expected", () => {
  it("a JSON syntax error gives the file, line and column and how to fix it", async () => {
    const file = await configFile(`{\n  "dispatch": {\n    "concurrency": 8,\n  }\n}\n`)
    const error = await loadError({ file })
    expect(error.problems).toEqual([{
      origin: "file",
      source: `${file}:4:3`,
      message: "not valid JSON: a trailing comma before } is not allowed in JSON; remove it."
    }])
    expect(error.message).toContain(`${file}:4:3: not valid JSON: a trailing comma`)
  })

  it("a value of the wrong type", async () => {
    const file = await configFile({ dispatch: { concurrency: "x" } })
    const error = await loadError({ file })
    expect(error.message).toContain(`${file}: dispatch.concurrency: expected an integer between 1 and 1024, got "x"`)
    expect(error.problems).toEqual([{ origin: "file", source: file, key: "dispatch.concurrency", message: "expected an integer between 1 and 1024, got \"x\"" }])
  })

  it("values out of range, not integers, or not one of the choices — all of them at once", async () => {
    const file = await configFile({
      database: { maxConnections: 0 },
      dispatch: { concurrency: 5000, leaseMs: 1000, idleMs: 2.5 },
      log: { level: "warn" },
      retry: { onUnknownOutcome: true }
    })
    const error = await loadError({ file })
    expect(error.problems.map(renderProblem)).toEqual([
      `${file}: database.maxConnections: expected an integer between 1 and 1000, got 0`,
      `${file}: dispatch.concurrency: expected an integer between 1 and 1024, got 5000`,
      `${file}: dispatch.leaseMs: expected an integer number of milliseconds between 60000 and 86400000, got 1000`,
      `${file}: dispatch.idleMs: expected an integer number of milliseconds between 10 and 60000, got 2.5`,
      `${file}: retry.onUnknownOutcome: expected one of "retry", "hold", got true`,
      `${file}: log.level: expected one of "debug", "info", "warning", "error", got "warn"`
    ])
    expect(error.message).toMatch(/^The configuration has 6 problems:\n/)
  })

  it("an unknown key is an error, with the key it was probably meant to be", async () => {
    const file = await configFile({
      dispatch: { concurency: 8 },
      database: { max_connections: 5 },
      concurrency: 4,
      listen: "127.0.0.1:1",
      sendRate: 80
    })
    const error = await loadError({ file })
    expect(error.problems.map((p) => [p.key, p.message])).toEqual([
      ["concurrency", "unknown key. Did you mean dispatch.concurrency?"],
      ["listen", "unknown key. Did you mean admin.listen or webhook.listen?"],
      ["sendRate", "unknown key. The keys at the top level are: database, webhook, admin, dispatch, retry, shutdown, log, phone, daemonId."],
      ["database.max_connections", "unknown key. Did you mean database.maxConnections?"],
      ["dispatch.concurency", "unknown key. Did you mean dispatch.concurrency?"]
    ])
    expect(error.problems.every((p) => p.origin === "file" && p.source === file)).toBe(true)
  })

  it("a section that is not an object, and a file that is not one object", async () => {
    const file = await configFile({ dispatch: 5 })
    expect((await loadError({ file })).problems.map(renderProblem)).toEqual([
      `${file}: dispatch: expected an object with the keys concurrency, claimLimit, leaseMs, horizonMs, idleMs, roundsInFlight, lateMs, got 5`
    ])
    const array = await configFile([])
    expect((await loadError({ file: array })).problems.map(renderProblem)).toEqual([
      `${array}: expected one JSON object such as {"dispatch": {"concurrency": 32}}, got an array`
    ])
  })

  it("a country libphonenumber does not know", async () => {
    const error = await loadError({ env: { MEGAPHONE_DEFAULT_COUNTRY: "XX" } })
    expect(error.problems.map(renderProblem)).toEqual([
      "MEGAPHONE_DEFAULT_COUNTRY (phone.defaultCountry): expected a two-letter ISO 3166 country code, such as CZ, SK or DE, got \"XX\""
    ])
  })

  it("a listen address that is not HOST:PORT, from a flag, the environment and the file", async () => {
    const file = await configFile({ webhook: { listen: "0.0.0.0:70000" } })
    const error = await loadError({ file, flags: { adminListen: "localhost" }, env: { MEGAPHONE_CONCURRENCY: "x" } })
    expect(error.problems.map(renderProblem)).toEqual([
      `${file}: webhook.listen: expected HOST:PORT such as 127.0.0.1:8787 or [::1]:8787, with a port between 0 and 65535, got "0.0.0.0:70000"`,
      "MEGAPHONE_CONCURRENCY (dispatch.concurrency): expected an integer between 1 and 1024, got \"x\"",
      "--admin-listen (admin.listen): expected HOST:PORT such as 127.0.0.1:8787 or [::1]:8787, with a port between 0 and 65535, got \"localhost\""
    ])
  })

  it("rules between settings, reported at the key that was set", async () => {
    const file = await configFile({
      dispatch: { leaseMs: 60_000, horizonMs: 60_000 },
      retry: { baseDelayMs: 10_000, maxDelayMs: 5_000 },
      admin: { listen: "0.0.0.0:8788" }
    })
    expect((await loadError({ file, env: { MEGAPHONE_RETRY_RATE_LIMITED_BASE_DELAY_MS: "1000000" } })).problems.map(renderProblem)).toEqual([
      `${file}: dispatch.horizonMs: dispatch.horizonMs (60000) must be less than dispatch.leaseMs (60000): ` +
      "a send slot handed out further ahead than a lease lasts would outlive its lease",
      `${file}: retry.baseDelayMs: retry.baseDelayMs (10000) must not exceed retry.maxDelayMs (5000), the longest wait`,
      `${file}: admin.listen: admin.listen and webhook.listen are both 0.0.0.0:8788; the two servers need different ports`,
      "MEGAPHONE_RETRY_RATE_LIMITED_BASE_DELAY_MS (retry.rateLimitedBaseDelayMs): retry.rateLimitedBaseDelayMs (1000000) " +
      "must not exceed retry.maxDelayMs (5000), the longest wait"
    ])
    // Only one side set: the problem is reported there, not at the other side's default.
    const error = await loadError({ env: { MEGAPHONE_RETRY_BASE_DELAY_MS: "1000000" } })
    expect(error.problems.map(renderProblem)).toEqual([
      "MEGAPHONE_RETRY_BASE_DELAY_MS (retry.baseDelayMs): retry.baseDelayMs (1000000) must not exceed retry.maxDelayMs (900000), the longest wait"
    ])
  })

  it("a configuration file that does not exist", async () => {
    const file = join(dir, "missing.json")
    expect((await loadError({ file })).problems.map(renderProblem)).toEqual([
      `${file}: the configuration file does not exist; give --config the path of a JSON file (examples/systemd/config.json is one)`
    ])
  })

  it("a database URL that is not PostgreSQL's is refused without showing it", async () => {
    const error = await loadError({ env: { MEGAPHONE_DATABASE_URL: "mysql://megaphone:hunter2@db/megaphone" } })
    expect(error.problems.map(renderProblem)).toEqual([
      "MEGAPHONE_DATABASE_URL (database.url): expected a PostgreSQL URL such as postgres://USER:PASSWORD@HOST:5432/DATABASE; " +
      "the value given is not one (not shown: it may hold a password)"
    ])
    expect(error.message).not.toContain("hunter2")
  })

  it("without the app secret the daemon does not start, and the message says the three ways to give it", async () => {
    const error = await loadError({ env: { MEGAPHONE_APP_SECRET: undefined } })
    expect(error.problems).toHaveLength(1)
    expect(renderProblem(error.problems[0]!)).toBe(
      "MEGAPHONE_APP_SECRET: is not set. It is the app secret of your Meta app (App settings → Basic), which signs every webhook; " +
      "set MEGAPHONE_APP_SECRET, or name a file holding it in MEGAPHONE_APP_SECRET_FILE, or pass it as the systemd credential " +
      "MEGAPHONE_APP_SECRET (LoadCredential=MEGAPHONE_APP_SECRET:/etc/megaphone/MEGAPHONE_APP_SECRET)."
    )
  })

  it("problems from every source are reported together", async () => {
    const file = await configFile({ dispatch: { concurrency: 0, idlems: 5 } })
    const error = await loadError({
      file,
      env: { MEGAPHONE_APP_SECRET: undefined, MEGAPHONE_LOG_LEVEL: "loud", MEGAPHONE_ADMIN_TOKEN_FILE: join(dir, "no-such-token") },
      flags: { webhookListen: "nowhere" }
    })
    expect(error.problems.map((p) => `${p.origin} ${p.source} ${p.key ?? "-"}`)).toEqual([
      `file ${file} dispatch.idlems`,
      `file ${file} dispatch.concurrency`,
      "environment MEGAPHONE_LOG_LEVEL log.level",
      "environment MEGAPHONE_APP_SECRET -",
      "environment MEGAPHONE_ADMIN_TOKEN_FILE -",
      "flag --webhook-listen webhook.listen"
    ])
  })
})

describe("secrets never show", () => {
  it("JSON.stringify, String, util.inspect and the summary of a loaded configuration contain no secret", async () => {
    const secrets = {
      app: "app-secret-value-31337",
      verify: "verify-token-value-4242",
      admin: "admin-token-value-9001",
      password: "db-password-value-777"
    }
    const verifyFile = await writeFileIn(dir, `${secrets.verify}\n`)
    const credentials = join(dir, "credentials-leak")
    await mkdir(credentials, { recursive: true })
    await writeFile(join(credentials, "MEGAPHONE_ADMIN_TOKEN"), secrets.admin)
    const config = await loadOk({
      env: {
        MEGAPHONE_APP_SECRET: secrets.app,
        MEGAPHONE_VERIFY_TOKEN_FILE: verifyFile,
        CREDENTIALS_DIRECTORY: credentials,
        MEGAPHONE_DATABASE_URL: `postgres://megaphone:${secrets.password}@db:5432/megaphone`
      }
    })
    // They are there…
    expect(Redacted.value(config.secrets.appSecret)).toBe(secrets.app)
    expect(Option.map(config.secrets.verifyToken, Redacted.value)).toEqual(Option.some(secrets.verify))
    expect(Option.map(config.secrets.adminToken, Redacted.value)).toEqual(Option.some(secrets.admin))
    const db = database(config)
    expect(db._tag === "Server" && Redacted.value(db.url)).toContain(secrets.password)
    // …and nothing prints them.
    const printed = [
      JSON.stringify(config),
      String(config),
      `${config.database.url}`,
      inspect(config, { depth: Infinity, showHidden: true }),
      JSON.stringify(summary(config))
    ]
    for (const text of printed) {
      for (const secret of Object.values(secrets)) expect(text).not.toContain(secret)
    }
    expect(summary(config)).toMatchObject({
      "database.url": "set (MEGAPHONE_DATABASE_URL)",
      MEGAPHONE_APP_SECRET: "set (MEGAPHONE_APP_SECRET)",
      MEGAPHONE_VERIFY_TOKEN: `set (MEGAPHONE_VERIFY_TOKEN_FILE (${verifyFile}))`,
      MEGAPHONE_ADMIN_TOKEN: "set ($CREDENTIALS_DIRECTORY/MEGAPHONE_ADMIN_TOKEN)",
      "admin.listen": "127.0.0.1:8787 (default)"
    })
  })

  it("a syntax error in the file does not quote the file (it may hold the database password)", async () => {
    const file = await configFile(`{ "database": { "url": "postgres://u:s3cr3t-pw@db/m" ,, } }`)
    const error = await loadError({ file })
    expect(error.message).toContain(`${file}:1:55: not valid JSON: unexpected ','; expected a key in double quotes.`)
    expect(error.message).not.toContain("s3cr3t")
  })
})
