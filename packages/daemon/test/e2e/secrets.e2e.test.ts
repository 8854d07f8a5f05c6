// No secret is ever printed (issue 10, security review): a real daemon at debug level, the simulator as Meta, real
// PostgreSQL behind a password, and the CLI run as operators run it — successes, `--json` output, and commands that
// fail because of a wrong access token, a wrong admin token or a wrong database password. Everything any of them
// printed, and everything the admin API and the webhook receiver answered (/metrics and /openapi.json included), is
// searched for every secret: none may appear, in any usual encoding.
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { afterAll, expect, inject, it } from "vitest"
import * as EmbeddedPostgres from "../../../adapters/src/storage/embedded/EmbeddedPostgres.ts"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import { config, PHONE_ID, type Running, startSimulator, WABA_ID } from "../../../adapters/test/transport/simulator/support.ts"
import { bin, megaphone, scratchDirectory } from "../cli/binary.ts"
import * as Signature from "../../src/webhook/Signature.ts"
import { eventually, recipient } from "./support.ts"

// Distinctive values, so a match can only be a leak. The "wrong" ones are secrets too: a refused token is echoed
// by no message.
const SECRET = {
  accessToken: "EAAGsecretAccessToken7f3a9c1e5d",
  appSecret: "appSecret-b84e2d0c61f7",
  adminToken: "adminToken-5c9e7a13f2d8",
  verifyToken: "verifyToken-e1d6b39a07c4",
  databasePassword: "dbPassword-a3f8c2e9d4b1",
  wrongAccessToken: "EAAGwrongAccessToken0b7d4e2a9c",
  wrongAdminToken: "adminWrong-6f1a8d3c5e90",
  wrongDatabasePassword: "dbWrongPassword-94c1b7e2f3"
} as const

/** A secret as it could show up: itself, percent-encoded, base64 (e.g. Basic auth) and hex. */
const encodings = (secret: string): ReadonlyArray<string> =>
  [...new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64").replace(/=+$/, ""), Buffer.from(secret).toString("hex")])]

/** Everything printed or answered during the run, each with where it came from. */
const transcript: Array<{ readonly source: string; readonly text: string }> = []
const record = (source: string, text: string): string => {
  transcript.push({ source, text })
  return text
}

const cwd = await scratchDirectory()
const children: Array<ChildProcess> = []
let simulator: Running | undefined
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  await simulator?.stop()
  await rm(cwd, { recursive: true, force: true })
})

/** A database owned by a role of its own, whose password is one of the secrets; its URL with that password. */
const passwordDatabase = async (password: string): Promise<{ readonly url: (password: string) => string }> => {
  const server = inject("megaphonePostgres").embedded
  if (!server.available) throw new Error(server.reason)
  const database = new URL(Redacted.value(await freshDatabase("embedded"))).pathname.slice(1)
  const role = `megaphone_secrets_${randomBytes(4).toString("hex")}`
  await Effect.runPromise(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    // Identifiers and the password are this test's own constants (PostgreSQL takes no parameters in DDL).
    yield* sql.unsafe(`create role ${role} login password '${password}'`)
    yield* sql.unsafe(`alter database "${database}" owner to ${role}`)
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(server.adminUrl), maxConnections: 1 }))))
  const admin = new URL(server.adminUrl)
  return { url: (pw) => `postgres://${role}:${pw}@${admin.host}/${database}` }
}

/** Runs `megaphone ARGS` and records what it printed; returns the run. */
const run = async (label: string, args: ReadonlyArray<string>, env: Record<string, string>) => {
  const result = await megaphone(cwd, args, env)
  record(`${label}: stdout`, result.stdout)
  record(`${label}: stderr`, result.stderr)
  return result
}

/** An HTTP request whose answer (status line, headers and body) is recorded. */
const http = async (label: string, url: string, init: RequestInit = {}) => {
  const response = await fetch(url, init)
  const text = await response.text()
  record(`${label}: ${response.status}`, `${[...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${text}`)
  return { status: response.status, text }
}

it("no secret appears in anything the CLI, the daemon, the admin API or the webhook receiver printed or answered", async () => {
  const db = await passwordDatabase(SECRET.databasePassword)
  const [webhookPort, adminPort] = [await EmbeddedPostgres.freePort(), await EmbeddedPostgres.freePort()]
  simulator = await startSimulator(config({
    accessToken: SECRET.accessToken,
    webhook: {
      url: `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`,
      appSecret: SECRET.appSecret,
      delays: { sentMs: 20, deliveredMs: 40, readMs: 60, jitterMs: 20 },
      probabilities: { delivered: 1, read: 0 },
      maxAttempts: 20,
      retryMaxMs: 1_000
    }
  }))
  const graph = simulator.sim.url
  // Every secret is in every environment: a command that has no use for one must not print it either.
  const env = {
    MEGAPHONE_DATABASE_URL: db.url(SECRET.databasePassword),
    SHOP_TOKEN: SECRET.accessToken,
    MEGAPHONE_APP_SECRET: SECRET.appSecret,
    MEGAPHONE_VERIFY_TOKEN: SECRET.verifyToken,
    MEGAPHONE_ADMIN_TOKEN: SECRET.adminToken
  }
  const ok = async (label: string, args: ReadonlyArray<string>, extra: Record<string, string> = {}) => {
    const result = await run(label, args, { ...env, ...extra })
    expect([label, result.code, result.stderr]).toEqual([label, 0, expect.any(String)])
    return result
  }
  const fails = async (label: string, args: ReadonlyArray<string>, extra: Record<string, string>) => {
    const result = await run(label, args, { ...env, ...extra })
    expect([label, result.code]).not.toEqual([label, 0])
    return result
  }

  // The operator's set-up, as in docs/getting-started.md, with --json where the command has it.
  await ok("accounts add", ["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--token-env", "SHOP_TOKEN",
    "--graph-url", graph, "--json"])
  await ok("accounts refresh", ["accounts", "refresh", "shop", "--json"])
  await ok("accounts list", ["accounts", "list", "--json"])
  await ok("templates sync", ["templates", "sync", "--account", "shop", "--json"])
  const id = (await ok("campaigns create", ["campaigns", "create", "--name", "Jaro", "--account", "shop", "--template", "order_done"])).stdout.trim()
  const csv = join(cwd, "contacts.csv")
  await writeFile(csv, ["phone,1,2,3", ...Array.from({ length: 5 }, (_, i) => `+${recipient(i)},pane,Novák ${i},${1000 + i}`), ""].join("\n"))
  await ok("campaigns add-contacts", ["campaigns", "add-contacts", id, "--csv", csv, "--json"])
  await ok("campaigns start", ["campaigns", "start", id, "--json"])
  // The database URL as a flag, where a usage or "not found" message could quote it.
  await fails("campaigns show (unknown id, --database-url)", ["campaigns", "show", "999999", "--json", "--database-url", db.url(SECRET.databasePassword)], {})

  // Commands that fail because a secret is wrong.
  await fails("accounts refresh (wrong access token)", ["accounts", "refresh", "shop", "--json"], { SHOP_TOKEN: SECRET.wrongAccessToken })
  await fails("templates sync (wrong access token)", ["templates", "sync", "--account", "shop"], { SHOP_TOKEN: SECRET.wrongAccessToken })
  await fails("campaigns list (wrong database password)", ["campaigns", "list", "--json"],
    { MEGAPHONE_DATABASE_URL: db.url(SECRET.wrongDatabasePassword) })
  await fails("daemon (configuration refused)", ["daemon", "--admin-listen", "nowhere"], { MEGAPHONE_LOG_LEVEL: "debug" })

  // The daemon at debug level, everything it writes on stdout and stderr kept.
  let daemonOut = ""
  const daemon = spawn(process.execPath, [bin, "daemon", "--webhook-listen", `127.0.0.1:${webhookPort}`, "--admin-listen", `127.0.0.1:${adminPort}`], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", ...env, MEGAPHONE_LOG_LEVEL: "debug", MEGAPHONE_IDLE_MS: "200" },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.push(daemon)
  daemon.stdout?.on("data", (chunk: Buffer) => (daemonOut += chunk.toString()))
  daemon.stderr?.on("data", (chunk: Buffer) => (daemonOut += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => daemon.on("exit", (code) => resolve(code)))
  const admin = `http://127.0.0.1:${adminPort}`
  const bearer = { authorization: `Bearer ${SECRET.adminToken}` }
  await eventually(() => fetch(`${admin}/healthz`).then((r) => r.status, () => 0), (s) => s === 200, 30_000, `/healthz (output: ${daemonOut.slice(-500)})`)

  // The campaign goes out through the simulator, and its webhooks (signed with the app secret) come back.
  const shown = await eventually(async () => JSON.parse((await http("GET /api/campaigns/ID", `${admin}/api/campaigns/${id}`, { headers: bearer })).text) as {
    state?: string
    counts?: Record<string, number>
  }, (c) => c.state === "finished" && (c.counts?.["delivered"] ?? 0) === 5, 30_000, "campaign finished and delivered")
  expect(shown.counts).toMatchObject({ delivered: 5 })

  // The admin API: documents, metrics, answers and errors.
  expect((await http("GET /metrics", `${admin}/metrics`, { headers: bearer })).text).toContain("megaphone_sends_total")
  expect((await http("GET /openapi.json", `${admin}/openapi.json`, { headers: bearer })).status).toBe(200)
  expect((await http("GET /api/accounts", `${admin}/api/accounts`, { headers: bearer })).text).toContain("SHOP_TOKEN")
  await http("GET /api/accounts/shop/quota", `${admin}/api/accounts/shop/quota`, { headers: bearer })
  await http("GET /api/templates", `${admin}/api/templates?account=shop`, { headers: bearer })
  expect((await http("GET /api/campaigns/999999", `${admin}/api/campaigns/999999`, { headers: bearer })).status).toBe(404)
  expect((await http("POST /api/campaigns (bad body)", `${admin}/api/campaigns`, {
    method: "POST", headers: { ...bearer, "content-type": "application/json" }, body: "{\"name\": 1}"
  })).status).toBe(400)
  expect((await http("GET /api/campaigns (wrong token)", `${admin}/api/campaigns`, { headers: { authorization: `Bearer ${SECRET.wrongAdminToken}` } })).status).toBe(401)
  expect((await http("GET /api/campaigns (Basic)", `${admin}/api/campaigns`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${SECRET.adminToken}`).toString("base64")}` }
  })).status).toBe(401)
  expect((await http("GET /healthz", `${admin}/healthz`)).status).toBe(200)
  expect((await http("GET /readyz", `${admin}/readyz`)).status).toBe(200)

  // The webhook receiver: the handshake with the right and a wrong verify token, a forged and a missing signature.
  const webhook = `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`
  expect((await http("GET webhook (verify)", `${webhook}?hub.mode=subscribe&hub.verify_token=${SECRET.verifyToken}&hub.challenge=4242`)).text).toBe("4242")
  expect((await http("GET webhook (wrong verify token)", `${webhook}?hub.mode=subscribe&hub.verify_token=${SECRET.wrongAdminToken}&hub.challenge=1`)).status).toBe(403)
  const body = JSON.stringify({ object: "whatsapp_business_account", entry: [] })
  expect((await http("POST webhook (forged)", webhook, {
    method: "POST", body, headers: { "content-type": "application/json", "x-hub-signature-256": Signature.sign(Redacted.make(SECRET.wrongAccessToken), Buffer.from(body)) }
  })).status).toBe(401)
  expect((await http("POST webhook (unsigned)", webhook, { method: "POST", body, headers: { "content-type": "application/json" } })).status).toBe(401)

  // The CLI through the admin API: with the token, and with a wrong one.
  const remote = { MEGAPHONE_ADMIN_URL: admin, MEGAPHONE_DATABASE_URL: "" }
  await ok("campaigns show (admin API)", ["campaigns", "show", id, "--json"], remote)
  await ok("accounts list (admin API)", ["accounts", "list", "--json"], remote)
  await fails("campaigns list (admin API, wrong token)", ["campaigns", "list", "--json"], { ...remote, MEGAPHONE_ADMIN_TOKEN: SECRET.wrongAdminToken })
  await ok("campaigns show", ["campaigns", "show", id, "--json"])

  daemon.kill("SIGTERM")
  expect(await exited).toBe(0)
  record("daemon: stdout and stderr", daemonOut)
  // Not vacuous: the daemon wrote debug lines, and the failing commands said why.
  expect(daemonOut).toMatch(/"level":"DEBUG"|level=DEBUG|\bDEBUG\b/i)
  expect(transcript.filter((t) => t.source.startsWith("accounts refresh (wrong access token)")).map((t) => t.text).join("")).not.toBe("")

  const leaks = Object.entries(SECRET).flatMap(([name, secret]) =>
    encodings(secret).flatMap((encoded) => transcript.filter((t) => t.text.includes(encoded)).map((t) => `${name} (as ${encoded}) in ${t.source}`)))
  expect(leaks).toEqual([])
}, 90_000)
