// The admin API as an operator (and the CLI, and the dashboard) meets it: real HTTP on loopback, a fresh embedded
// PostgreSQL, the account and its synced templates seeded through the storage. No Meta needed: nothing here sends.
import { createServer } from "node:http"
import { NodeHttpServer } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { Database } from "@megaphone/adapters"
import { Ports, Template } from "@megaphone/core"
import { Validator } from "@seriousme/openapi-schema-validator"
import { ByteSize, Effect, Layer, ManagedRuntime, Option, Redacted, Result } from "effect"
import { FetchHttpClient, HttpRouter, HttpServer } from "effect/http"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import * as AdminApi from "../../src/admin-api/AdminApi.ts"
import * as Json from "../../src/admin-api/Json.ts"
import * as Metrics from "../../src/metrics/Metrics.ts"
import { checkExposition } from "../metrics/exposition.ts"

const TOKEN = "admin-token-7c1e9b52"
const T0 = new Date("2026-11-26T10:00:00.000Z")
const ORDER_DONE = "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena."
const STATES = ["initial", "in_progress", "sent", "delivered", "read", "retry_scheduled", "error", "invalid_record", "sending_failed", "cancelled"]

const template = (fields: Record<string, unknown>): Template.Template =>
  Result.getOrThrow(Template.decode({ category: "UTILITY", status: "APPROVED", components: [], ...fields }))

interface Served {
  readonly base: string
  readonly run: <A, E>(effect: Effect.Effect<A, E, Ports.Storage.Storage | Metrics.Metrics | SqlClient.SqlClient>) => Promise<A>
  readonly close: () => Promise<void>
}

/** The admin API on a free loopback port over a fresh database, as the daemon mounts it. */
const serve = async (token: Option.Option<Redacted.Redacted<string>>, maxBody?: ByteSize.ByteSize): Promise<Served> => {
  const url = await freshDatabase("embedded")
  const app = HttpRouter.serve(AdminApi.layer({ token, ...(maxBody === undefined ? {} : { maxBody }) }), { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(Metrics.layer),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(Database.layer({ _tag: "Server", url }, { maxConnections: 4 }))
  )
  const runtime = ManagedRuntime.make(app)
  const address = await runtime.runPromise(Effect.gen(function*() {
    return (yield* HttpServer.HttpServer).address
  }))
  if (address._tag === "UnixPathAddress") throw new Error("expected a TCP address")
  return {
    base: `http://127.0.0.1:${address.port}`,
    run: (effect) => runtime.runPromise(effect),
    close: () => runtime.dispose()
  }
}

/** A type as it crosses the wire in JSON: dates become ISO strings. */
type Wire<T> = T extends Date ? string
  : T extends ReadonlyArray<infer A> ? ReadonlyArray<Wire<A>>
  : T extends object ? { readonly [K in keyof T]: Wire<T[K]> }
  : T
type Account = Wire<typeof Json.Account.Type>
type Quota = Wire<typeof Json.Quota.Type>
type TemplateRow = Wire<typeof Json.TemplateRow.Type>
type DirectoryContact = Wire<typeof Json.DirectoryContact.Type>
type SavedFilter = Wire<typeof Json.SavedFilter.Type>
type FilterTest = Wire<typeof Json.FilterTest.Type>
type Campaign = Wire<typeof Json.CampaignJson.Type>
type CampaignDetail = Wire<typeof Json.CampaignDetail.Type>
type CampaignChange = Wire<typeof Json.CampaignChange.Type>
type CampaignRetry = Wire<typeof Json.CampaignRetry.Type>
type CampaignClone = Wire<typeof Json.CampaignClone.Type>
type Contact = Wire<typeof Json.CampaignContact.Type>
type AddReport = Wire<typeof Json.AddContactsReport.Type>
type LoggedEvent = Wire<typeof Json.LoggedEvent.Type>
type BlankCsv = Wire<typeof Json.BlankCsv.Type>
type Page<K extends string, A> = { readonly [P in K]: ReadonlyArray<A> } & { readonly next_after_id: string | null }
/** Every error answer: its tag, its message for people, and the error's own fields. */
interface ErrorBody {
  readonly _tag: string
  readonly message: string
  readonly [field: string]: unknown
}

/** An answer; `json` is typed as the wire shape the test expects (the assertions check it). */
interface Reply<T> {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: T
}

/** One request; the admin token unless `token` says otherwise (null: no Authorization header). */
const call = async <T = ErrorBody>(
  base: string,
  method: string,
  path: string,
  options: { readonly body?: unknown; readonly csv?: string; readonly token?: string | null; readonly authorization?: string } = {}
): Promise<Reply<T>> => {
  const headers: Record<string, string> = {}
  if (options.authorization !== undefined) headers["authorization"] = options.authorization
  else if (options.token !== null) headers["authorization"] = `Bearer ${options.token ?? TOKEN}`
  let body: string | undefined
  if (options.csv !== undefined) {
    headers["content-type"] = "text/csv; charset=utf-8"
    body = options.csv
  } else if (options.body !== undefined) {
    headers["content-type"] = "application/json"
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body)
  }
  const response = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) })
  const text = await response.text()
  let json = undefined as T
  try {
    json = JSON.parse(text) as T
  } catch {
    // Text answers (health, metrics) stay text.
  }
  return { status: response.status, headers: response.headers, text, json }
}

let server: Served
let base: string
const api = <T = ErrorBody>(method: string, path: string, options?: Parameters<typeof call>[3]) => call<T>(base, method, path, options)

beforeAll(async () => {
  server = await serve(Option.some(Redacted.make(TOKEN)))
  base = server.base
  await server.run(Effect.gen(function*() {
    const s = yield* Ports.Storage.Storage
    yield* s.saveAccount({
      name: "shop", phoneNumberId: "106540352242922", wabaId: "111", portfolioId: null, tokenEnv: "SHOP_TOKEN",
      graphUrl: "http://127.0.0.1:1", graphVersion: "v23.0", displayPhoneNumber: null, messagingLimit: 250, messagingTier: null,
      qualityRating: null, throughputMps: 80, throughputLevel: null, nameStatus: null, status: null, createdAt: T0, updatedAt: T0
    })
    yield* s.syncTemplates("111", [
      template({ id: "1", name: "order_done", language: "cs", components: [{ type: "BODY", text: ORDER_DONE }] }),
      template({ id: "2", name: "welcome", language: "cs", components: [{ type: "BODY", text: "Vítejte, {{1}}" }] }),
      template({ id: "3", name: "welcome", language: "en", components: [{ type: "BODY", text: "Welcome, {{1}}" }] }),
      template({ id: "4", name: "spring_sale", language: "cs", status: "PAUSED", components: [{ type: "BODY", text: "Sleva {{1}}" }] })
    ], T0)
    yield* s.importDirectory([
      { phone: "+420601000001", columns: { city: "Praha", salutation: "pane", surname: "Novák", order: "1" } },
      { phone: "+420601000002", columns: { city: "Praha", salutation: "paní", surname: "Nová", order: "" } },
      { phone: "+420601000003", columns: { city: "Brno", salutation: "pane", surname: "Brněnský", order: "3" } }
    ], "update", T0)
  }))
}, 120_000)

afterAll(async () => {
  await server?.close()
})

describe("admin API: health and security", () => {
  it("answers /healthz and /readyz without a token", async () => {
    const health = await api("GET", "/healthz", { token: null })
    expect([health.status, health.text]).toEqual([200, "ok"])
    const ready = await api("GET", "/readyz", { token: null })
    expect([ready.status, ready.text]).toEqual([200, "ready"])
  })

  // Authorization headers that are not `Bearer <the token>`: no credential, no space after the scheme, another
  // scheme carrying the token, the token twice, one character short.
  const MALFORMED = [`Bearer`, `Bearer `, `Bearer${TOKEN}`, `Token ${TOKEN}`, `Bearer ${TOKEN} ${TOKEN}`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer "${TOKEN}"`]
    .map((authorization) => ({ authorization }))

  it("refuses every other route of the OpenAPI document without the token, with a wrong one, and with another scheme", async () => {
    const spec = (await api<{ paths: Record<string, Record<string, unknown>> }>("GET", "/openapi.json")).json
    const routes = Object.entries(spec.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, "1")] as const))
    const protectedRoutes = routes.filter(([, path]) => path !== "/healthz" && path !== "/readyz")
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(25)
    expect(protectedRoutes).toContainEqual(["GET", "/openapi.json"])
    expect(protectedRoutes).toContainEqual(["GET", "/metrics"])
    for (const [method, path] of protectedRoutes) {
      for (const attempt of [{ token: null }, { token: "wrong-token" }, { token: `${TOKEN}x` }, { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` }, ...MALFORMED]) {
        const reply = await api(method, path, attempt)
        expect([method, path, reply.status]).toEqual([method, path, 401])
        expect(reply.json).toMatchObject({ _tag: "Unauthorized", message: expect.stringContaining("MEGAPHONE_ADMIN_TOKEN") })
        expect(reply.headers.get("www-authenticate")).toMatch(/^Bearer/)
        expect(reply.text).not.toContain(TOKEN)
      }
    }
  }, 60_000)

  it("without a configured token refuses every protected route (503, saying to set MEGAPHONE_ADMIN_TOKEN) but stays healthy", async () => {
    const locked = await serve(Option.none())
    try {
      for (const path of ["/api/campaigns", "/openapi.json", "/metrics"]) {
        for (const token of [null, "anything"]) {
          const reply = await call(locked.base, "GET", path, { token })
          expect([path, reply.status]).toEqual([path, 503])
          expect(reply.json).toMatchObject({ _tag: "Unavailable", message: expect.stringContaining("Set MEGAPHONE_ADMIN_TOKEN") })
        }
      }
      expect((await call(locked.base, "GET", "/healthz", { token: null })).status).toBe(200)
    } finally {
      await locked.close()
    }
  }, 60_000)

  it("answers /readyz 503 (JSON, saying what to check) when the database refuses connections", async () => {
    const cut = await serve(Option.some(Redacted.make(TOKEN)))
    try {
      expect((await call(cut.base, "GET", "/readyz", { token: null })).status).toBe(200)
      // No new connections to this database, and the pool's open ones closed: `select 1` cannot succeed.
      const name = await cut.run(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return (yield* sql<{ readonly name: string }>`select current_database() as name`)[0]?.name ?? ""
      }))
      const server = inject("megaphonePostgres").embedded
      if (!server.available) throw new Error(server.reason)
      await Effect.runPromise(Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql.unsafe(`alter database "${name}" allow_connections false`)
        yield* sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(server.adminUrl), maxConnections: 1 }))))
      const reply = await call(cut.base, "GET", "/readyz", { token: null })
      expect(reply.status).toBe(503)
      expect(reply.json).toMatchObject({ _tag: "NotReady", message: expect.stringContaining("select 1") })
      expect((await call(cut.base, "GET", "/healthz", { token: null })).status).toBe(200)
    } finally {
      await cut.close()
    }
  }, 60_000)

  it("does not read a body larger than the limit", async () => {
    const small = await serve(Option.some(Redacted.make(TOKEN)), ByteSize.bytes(1024))
    try {
      const reply = await call(small.base, "POST", "/api/campaigns/1/contacts/csv", { csv: `phone\r\n${"+420601000001\r\n".repeat(200)}` })
      expect(reply.status).toBe(413)
      const fits = await call(small.base, "POST", "/api/campaigns/1/contacts/csv", { csv: "phone\r\n+420601000001\r\n" })
      expect(fits.status).toBe(404)
      // Without the token the body is not read at all: 401, whatever its size.
      const stranger = await call(small.base, "POST", "/api/campaigns/1/contacts/csv", { csv: `phone\r\n${"+420601000001\r\n".repeat(200)}`, token: null })
      expect(stranger.status).toBe(401)
    } finally {
      await small.close()
    }
  }, 60_000)
})

describe("admin API: accounts, templates, directory, filters", () => {
  it("lists accounts without any token value, and their quota", async () => {
    const list = await api<{ accounts: ReadonlyArray<Account> }>("GET", "/api/accounts")
    expect(list.status).toBe(200)
    expect(list.json.accounts).toHaveLength(1)
    expect(list.json.accounts[0]).toMatchObject({ name: "shop", waba_id: "111", token_env: "SHOP_TOKEN", messaging_limit: 250 })
    const shown = await api<Account>("GET", "/api/accounts/shop")
    expect(shown.json).toEqual(list.json.accounts[0])
    const quota = await api<Quota>("GET", "/api/accounts/shop/quota")
    expect(quota.json).toMatchObject({ quota_key: "phone:106540352242922", used: 0, limit: 250, remaining: 250 })
    expect(quota.json).toHaveProperty("next_free_at")
    const { next_free_at: _, ...usage } = quota.json
    expect((await api<{ quotas: ReadonlyArray<Quota> }>("GET", "/api/quota")).json.quotas).toEqual([{ account: "shop", ...usage, next_free_at: expect.anything() }])

    const missing = await api("GET", "/api/accounts/nobody")
    expect(missing.status).toBe(404)
    expect(missing.json).toMatchObject({ _tag: "NotFound", entity: "account", key: "nobody", message: expect.stringContaining("GET /api/accounts") })
  })

  it("lists templates, with why one cannot be sent", async () => {
    const all = await api<{ templates: ReadonlyArray<TemplateRow> }>("GET", "/api/templates?account=shop")
    expect(all.status).toBe(200)
    expect(all.json.templates.map((t) => `${t.name}/${t.language}`)).toEqual([
      "order_done/cs", "spring_sale/cs", "welcome/cs", "welcome/en"
    ])
    const paused = all.json.templates.find((t) => t.name === "spring_sale")
    expect(paused).toMatchObject({ usable: false, status: "PAUSED", accounts: ["shop"], variables: ["1"] })
    expect(paused?.explanation).toEqual(expect.any(String))
    const unknown = await api("GET", "/api/templates?account=nobody")
    expect(unknown.status).toBe(400)
    expect(unknown.json.message).toContain("no account named \"nobody\"")
  })

  it("pages and searches the directory", async () => {
    const first = await api<Page<"contacts", DirectoryContact>>("GET", "/api/directory/contacts?limit=2")
    expect(first.status).toBe(200)
    expect(first.json.contacts.map((c) => c.phone)).toEqual(["+420601000001", "+420601000002"])
    expect(first.json.next_after_id).toBe(first.json.contacts[1]?.id)
    const second = await api<Page<"contacts", DirectoryContact>>("GET", `/api/directory/contacts?limit=2&after_id=${first.json.next_after_id}`)
    expect(second.json.contacts.map((c) => c.phone)).toEqual(["+420601000003"])
    expect(second.json.next_after_id).toBeNull()

    const praha = await api<Page<"contacts", DirectoryContact>>("GET", `/api/directory/contacts?where=${encodeURIComponent("city = \"Praha\"")}`)
    expect(praha.json.contacts).toHaveLength(2)
    const one = await api<DirectoryContact>("GET", `/api/directory/contacts/${first.json.contacts[1]?.id}`)
    expect(one.json).toMatchObject({ phone: "+420601000002", columns: { city: "Praha", surname: "Nová" } })
    expect((await api("GET", "/api/directory/contacts/999999")).status).toBe(404)
    expect((await api("GET", "/api/directory/contacts/abc")).status).toBe(404)
    expect((await api<{ columns: ReadonlyArray<string> }>("GET", "/api/directory/columns")).json.columns).toEqual(["city", "order", "salutation", "surname"])

    const typo = await api("GET", `/api/directory/contacts?where=${encodeURIComponent("mesto = \"Praha\"")}`)
    expect(typo.status).toBe(400)
    expect(typo.json.message).toContain("unknown column \"mesto\"")
    const tooMany = await api("GET", "/api/directory/contacts?limit=5000")
    expect(tooMany.status).toBe(400)
    expect(tooMany.json).toMatchObject({ _tag: "BadRequest", message: expect.stringContaining("query string") })
  })

  it("creates, tests, shows, lists and deletes filters; bad text is a 400 with its position", async () => {
    const created = await api<SavedFilter>("POST", "/api/filters", { body: { name: "praha", where: "city = \"Praha\"" } })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({ name: "praha", where: "city = \"Praha\"", filter: { _tag: "Equals", column: "city", value: "Praha" } })

    const again = await api("POST", "/api/filters", { body: { name: "praha", where: "city = \"Brno\"" } })
    expect(again.status).toBe(409)
    expect(again.json.message).toContain("already exists")

    const broken = await api("POST", "/api/filters", { body: { name: "broken", where: "city = " } })
    expect(broken.status).toBe(400)
    expect(broken.json).toMatchObject({ _tag: "InvalidFilter", line: 1, column: expect.any(Number), hint: expect.any(String) })
    expect(broken.json.message).toMatch(/^where: .* at line 1, column \d+/)

    const unknownColumn = await api("POST", "/api/filters", { body: { name: "typo", where: "mesto = \"Praha\"" } })
    expect(unknownColumn.status).toBe(400)
    expect(unknownColumn.json.message).toContain("unknown column \"mesto\"")

    const tested = await api<FilterTest>("GET", "/api/filters/praha/test?sample=1")
    expect(tested.json).toMatchObject({ where: "city = \"Praha\"", matched: 2 })
    expect(tested.json.sample).toHaveLength(1)
    const probed = await api<FilterTest>("POST", "/api/filters/test", { body: { where: "city = \"Brno\" or order is empty" } })
    expect(probed.json.matched).toBe(2)

    expect((await api<{ filters: ReadonlyArray<SavedFilter> }>("GET", "/api/filters")).json.filters.map((f) => f.name)).toEqual(["praha"])
    expect((await api<SavedFilter>("GET", "/api/filters/praha")).json.name).toBe("praha")
    expect((await api("POST", "/api/filters", { body: { name: "gone", where: "order is empty" } })).status).toBe(201)
    expect((await api("DELETE", "/api/filters/gone")).status).toBe(204)
    const deleted = await api("GET", "/api/filters/gone")
    expect(deleted.status).toBe(404)
    expect(deleted.json).toMatchObject({ _tag: "NotFound", entity: "filter", key: "gone" })
    expect((await api("DELETE", "/api/filters/gone")).status).toBe(404)
  })
})

describe("admin API: campaigns", () => {
  let id = ""

  it("creates a campaign; a bad request says what to fix", async () => {
    const created = await api<Campaign>("POST", "/api/campaigns", { body: { name: "Objednávky", account: "shop", template: "order_done", note: "listopad" } })
    expect(created.status).toBe(201)
    id = created.json.id
    expect(created.json).toMatchObject({ name: "Objednávky", state: "draft", account: "shop", template: "order_done", language: "cs", note: "listopad" })
    expect(Object.keys(created.json.counts)).toEqual(STATES)

    const noField = await api("POST", "/api/campaigns", { body: { account: "shop", template: "order_done" } })
    expect(noField.status).toBe(400)
    expect(noField.json).toEqual({ _tag: "BadRequest", message: expect.stringContaining("body is not valid: Missing key at [\"name\"]") })
    const notJson = await api("POST", "/api/campaigns", { body: "{not json" })
    expect([notJson.status, notJson.json.message]).toEqual([400, expect.stringContaining("Expected a valid JSON body")])
    const twoLanguages = await api("POST", "/api/campaigns", { body: { name: "x", account: "shop", template: "welcome" } })
    expect(twoLanguages.status).toBe(400)
    expect(twoLanguages.json.message).toContain("exists in 2 languages: cs, en")
    const paused = await api("POST", "/api/campaigns", { body: { name: "x", account: "shop", template: "spring_sale" } })
    expect(paused.json.message).toContain("cannot be sent")
    const noAccount = await api("POST", "/api/campaigns", { body: { name: "x", account: "nobody", template: "order_done" } })
    expect([noAccount.status, noAccount.json.message]).toEqual([400, expect.stringContaining("No account named \"nobody\"")])

    const missing = await api("GET", "/api/campaigns/999999")
    expect(missing.status).toBe(404)
    expect(missing.json.message).toContain("GET /api/campaigns")
  })

  it("add contacts by CSV upload → start → contacts by state → pause → resume → stop (cancels the rest)", async () => {
    const blank = await api<BlankCsv>("GET", `/api/campaigns/${id}/template-csv`)
    expect(blank.json).toMatchObject({ header: ["phone", "1", "2", "3"], csv: expect.stringMatching(/^phone,1,2,3\r\n# /) })

    // What Excel saves: BOM, `;`, CRLF; an invalid phone, a row in another delimiter, an empty cell with a default.
    const csv = "\uFEFF" + [
      "telefon;oslovení;jméno;číslo objednávky",
      "+420 601 123 456;pane;Novák;1001",
      "601 123 457;paní;Nová;1002",
      "12345;pane;Nikdo;1003",
      "+420601123459;paní;Svobodová;",
      "+420601123460,pane,Bílý,1005",
      "+420601123456;pane;Novák;1001",
      ""
    ].join("\r\n")
    const added = await api<AddReport>("POST", `/api/campaigns/${id}/contacts/csv?default=3%3Dneuvedeno`, { csv })
    expect(added.status).toBe(200)
    expect(added.json).toMatchObject({ campaign: id, state: "draft", added: 4, invalid: 1, suppressed: 0, already_in_campaign: ["420601123456"] })
    expect(added.json.rejected).toEqual([{ line: 6, phone: "+420601123460,pane,Bílý,1005", reason: expect.stringContaining("use the header's delimiter") }])

    const badHeader = await api("POST", `/api/campaigns/${id}/contacts/csv`, { csv: "phone;1\r\n+420601123461;pane\r\n" })
    expect(badHeader.status).toBe(400)
    expect(badHeader.json.message).toContain("The uploaded CSV")
    const badDefault = await api("POST", `/api/campaigns/${id}/contacts/csv?default=oops`, { csv })
    expect([badDefault.status, badDefault.json.message]).toEqual([400, expect.stringContaining("VARIABLE=VALUE")])

    const started = await api<CampaignChange>("POST", `/api/campaigns/${id}/start`)
    expect(started.status).toBe(200)
    expect(started.json).toMatchObject({ id, state: "running", cancelled: 0, allowed_operations: ["pause", "stop", "add_contacts", "retry"] })
    expect(started.json.counts).toMatchObject({ initial: 3, invalid_record: 1 })
    const again = await api("POST", `/api/campaigns/${id}/start`)
    expect(again.status).toBe(409)
    expect(again.json.message).toContain("Cannot start a running campaign")

    const initial = await api<Page<"contacts", Contact>>("GET", `/api/campaigns/${id}/contacts?state=initial&limit=2`)
    expect(initial.json.contacts.map((c) => [c.phone, c.state])).toEqual([
      ["+420 601 123 456", "initial"], ["601 123 457", "initial"]
    ])
    expect(initial.json.contacts[0]?.parameters).toEqual({ "1": "pane", "2": "Novák", "3": "1001" })
    const rest = await api<Page<"contacts", Contact>>("GET", `/api/campaigns/${id}/contacts?state=initial&limit=2&after_id=${initial.json.next_after_id}`)
    expect(rest.json.contacts.map((c) => c.parameters["3"])).toEqual(["neuvedeno"])
    expect(rest.json.next_after_id).toBeNull()
    const invalid = await api<Page<"contacts", Contact>>("GET", `/api/campaigns/${id}/contacts?state=invalid_record`)
    expect(invalid.json.contacts).toEqual([expect.objectContaining({ phone: "12345", recipient: null, last_error: expect.objectContaining({ code: "invalid_phone" }) })])
    expect((await api("GET", `/api/campaigns/${id}/contacts?state=bogus`)).status).toBe(400)

    const pausedNow = await api<CampaignChange>("POST", `/api/campaigns/${id}/pause`)
    expect(pausedNow.json).toMatchObject({ state: "paused", pause_reason: { by: "operator" } })
    expect((await api("POST", `/api/campaigns/${id}/pause`)).status).toBe(409)
    expect((await api<CampaignChange>("POST", `/api/campaigns/${id}/resume`)).json).toMatchObject({ state: "running", pause_reason: null })

    const stopped = await api<CampaignChange>("POST", `/api/campaigns/${id}/stop`)
    expect(stopped.json).toMatchObject({ state: "stopped", cancelled: 3 })
    expect(stopped.json.counts).toMatchObject({ initial: 0, cancelled: 3, invalid_record: 1 })
    expect((await api<Page<"contacts", Contact>>("GET", `/api/campaigns/${id}/contacts?state=cancelled`)).json.contacts).toHaveLength(3)
    const late = await api("POST", `/api/campaigns/${id}/contacts/csv`, { csv })
    expect([late.status, late.json.message]).toEqual([409, expect.stringContaining("create a new campaign")])

    const shown = await api<CampaignDetail>("GET", `/api/campaigns/${id}`)
    expect(shown.json).toMatchObject({ id, state: "stopped", total: 4, quota: { used: 0, limit: 250 } })
    const events = await api<Page<"events", LoggedEvent>>("GET", `/api/campaigns/${id}/events`)
    expect(events.json.events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["campaign_start", "campaign_pause", "campaign_resume", "campaign_stop"])
    )
    expect(events.json.events.find((e) => e.kind === "campaign_stop")?.data).toEqual({ cancelled: 3 })
    expect((await api<Page<"events", LoggedEvent>>("GET", "/api/events?limit=1")).json.events).toHaveLength(1)
    const listed = await api<{ campaigns: ReadonlyArray<Campaign> }>("GET", "/api/campaigns")
    expect(listed.json.campaigns.map((c) => [c.id, c.state])).toContainEqual([id, "stopped"])
  })

  it("adds directory contacts through a saved filter or an expression, checking the whole mapping first", async () => {
    const created = await api<Campaign>("POST", "/api/campaigns", { body: { name: "Praha", account: "shop", template: "order_done" } })
    const praha = created.json.id
    const path = `/api/campaigns/${praha}/contacts/directory`

    const missing = await api("POST", path, { body: { where: "city = \"Praha\"", phone_column: "telefon", vars: { "1": "salutation" } } })
    expect(missing.status).toBe(400)
    expect(missing.json.message).toContain("The phone column \"telefon\" does not exist.")
    expect(missing.json.message).toContain("Variable 2 (")
    const both = await api("POST", path, { body: { filter: "praha", where: "city = \"Praha\"", phone_column: "phone" } })
    expect([both.status, both.json.message]).toEqual([400, expect.stringContaining("not both")])
    const broken = await api("POST", path, { body: { where: "city = ", phone_column: "phone" } })
    expect([broken.status, broken.json._tag]).toEqual([400, "InvalidFilter"])
    const unknownFilter = await api("POST", path, { body: { filter: "nope", phone_column: "phone" } })
    expect([unknownFilter.status, unknownFilter.json.message]).toEqual([400, expect.stringContaining("no filter named \"nope\"")])

    const ok = await api<AddReport>("POST", path, {
      body: { filter: "praha", phone_column: "phone", vars: { "1": "salutation", "2": "surname", "3": "order" }, defaults: { "3": "neuvedeno" } }
    })
    expect(ok.status).toBe(200)
    expect(ok.json).toMatchObject({ added: 2, invalid: 0, rejected: [], already_in_campaign: [] })
    const contacts = (await api<Page<"contacts", Contact>>("GET", `/api/campaigns/${praha}/contacts`)).json.contacts
    expect(contacts.map((c) => c.parameters["3"])).toEqual(["1", "neuvedeno"])
  })
})

describe("admin API: counting, searching and deleting directory contacts", () => {
  it("counts and searches; shows and deletes by id or phone, or by filter; campaign contacts stay", async () => {
    const own = await serve(Option.some(Redacted.make(TOKEN)))
    const call2 = <T = ErrorBody>(method: string, path: string, options?: Parameters<typeof call>[3]) => call<T>(own.base, method, path, options)
    try {
      await own.run(Effect.gen(function*() {
        const s = yield* Ports.Storage.Storage
        yield* s.importDirectory([
          { phone: "+420601000001", columns: { name: "Žaneta Nováková", city: "Praha" } },
          { phone: "+420601000002", columns: { name: "Petr Novák", city: "Praha" } },
          { phone: "+420601000003", columns: { name: "Eva", city: "Brno" } },
          { phone: "+420777000004", columns: { name: "Jan", city: "Brno" } }
        ], "update", T0)
        const campaign = yield* s.createCampaign({ name: "c", accountName: "shop", templateName: "order_done", language: "cs", note: null }, T0)
        yield* s.addCampaignContacts(campaign.id, [{ phone: "+420601000003", recipient: "420601000003", parameters: { "1": "Eva" }, directoryContactId: "3" }], T0)
      }))
      const count = (query: string) => call2<{ matched: number }>("GET", `/api/directory/count${query}`)
      expect((await count("")).json).toEqual({ matched: 4 })
      expect((await count(`?where=${encodeURIComponent("city = \"Praha\"")}&search=NOVÁK`)).json).toEqual({ matched: 2 })
      expect((await count("?search=777")).json).toEqual({ matched: 1 })
      const typo = await call2("GET", `/api/directory/count?where=${encodeURIComponent("Name = \"Eva\"")}`)
      expect([typo.status, typo.json.message]).toEqual([400, expect.stringContaining("unknown column \"Name\" (did you mean \"name\"?)")])
      const searched = await call2<Page<"contacts", DirectoryContact>>("GET", "/api/directory/contacts?search=nov&limit=1")
      expect(searched.json.contacts.map((c) => c.phone)).toEqual(["+420601000001"])
      const next = await call2<Page<"contacts", DirectoryContact>>("GET", `/api/directory/contacts?search=nov&limit=1&after_id=${searched.json.next_after_id}`)
      expect(next.json.contacts.map((c) => c.phone)).toEqual(["+420601000002"])

      const byPhone = await call2<DirectoryContact>("GET", `/api/directory/contacts/${encodeURIComponent("+420601000002")}`)
      expect([byPhone.status, byPhone.json.id]).toEqual([200, "2"])
      expect((await call2<DirectoryContact>("GET", `/api/directory/contacts/${encodeURIComponent("601 000 002")}`)).json.id).toBe("2")

      const deleted = await call2<{ deleted: number }>("DELETE", `/api/directory/contacts/${encodeURIComponent("+420601000002")}`)
      expect([deleted.status, deleted.json]).toEqual([200, { deleted: 1 }])
      const gone = await call2("DELETE", "/api/directory/contacts/2")
      expect([gone.status, gone.json]).toMatchObject([404, { _tag: "NotFound", entity: "contact", key: "2" }])
      expect((await call2<{ deleted: number }>("POST", "/api/directory/contacts/delete", { body: { contacts: ["1", "+420601000001", "999", "abc"] } })).json)
        .toEqual({ deleted: 1 })
      const neither = await call2("POST", "/api/directory/contacts/delete", { body: {} })
      expect([neither.status, neither.json.message]).toEqual([400, expect.stringContaining("Give exactly one of")])
      const two = await call2("POST", "/api/directory/contacts/delete", { body: { contacts: ["1"], where: "city = \"Brno\"" } })
      expect(two.status).toBe(400)
      const broken = await call2("POST", "/api/directory/contacts/delete", { body: { where: "city = " } })
      expect([broken.status, broken.json._tag]).toEqual([400, "InvalidFilter"])
      const unknown = await call2("POST", "/api/directory/contacts/delete", { body: { filter: "nope" } })
      expect([unknown.status, unknown.json.message]).toEqual([400, expect.stringContaining("no filter named \"nope\"")])
      const brno = await call2<{ deleted: number }>("POST", "/api/directory/contacts/delete", { body: { where: "city = \"Brno\"" } })
      expect(brno.json).toEqual({ deleted: 2 })
      expect((await count("")).json).toEqual({ matched: 0 })

      const kept = await own.run(Effect.gen(function*() {
        const s = yield* Ports.Storage.Storage
        return yield* s.listCampaignContacts("1", undefined, { limit: 10 })
      }))
      expect(kept.map((c) => [c.phone, c.parameters, c.directoryContactId])).toEqual([["+420601000003", { "1": "Eva" }, null]])
    } finally {
      await own.close()
    }
  }, 60_000)
})

describe("admin API: /metrics", () => {
  it("serves Prometheus text: counters the daemon records, gauges from storage, label values escaped", async () => {
    await server.run(Effect.gen(function*() {
      const metrics = yield* Metrics.Metrics
      yield* metrics.recordSend("shop", "accepted", undefined, 5)
      yield* metrics.recordSend("shop", "failed", "131026", 2)
      yield* metrics.recordSend("we\"ird\\name\nx", "released")
      yield* metrics.recordRetryScheduled("shop", 3)
      yield* metrics.recordWebhookStatuses(4, [0.2, 1.5, 40, 7200])
      yield* metrics.recordRound("shop", { claimed: 7, reclaimed: 1 })
    }))
    const reply = await api("GET", "/metrics")
    expect(reply.status).toBe(200)
    expect(reply.headers.get("content-type")).toBe(AdminApi.METRICS_CONTENT_TYPE)
    const problems = checkExposition(reply.text)
    expect(problems).toEqual([])
    const lines = reply.text.split("\n")
    expect(lines).toContain("# TYPE megaphone_sends_total counter")
    expect(lines).toContain("megaphone_sends_total{account=\"shop\",result=\"accepted\",code=\"\"} 5")
    expect(lines).toContain("megaphone_sends_total{account=\"shop\",result=\"failed\",code=\"131026\"} 2")
    expect(lines).toContain("megaphone_sends_total{account=\"we\\\"ird\\\\name\\nx\",result=\"released\",code=\"\"} 1")
    expect(lines).toContain("megaphone_retries_scheduled_total{account=\"shop\"} 3")
    expect(lines).toContain("megaphone_webhook_statuses_total 4")
    expect(lines).toContain("# TYPE megaphone_webhook_lag_seconds histogram")
    expect(lines).toContain("megaphone_webhook_lag_seconds_bucket{le=\"1\"} 1")
    expect(lines).toContain("megaphone_webhook_lag_seconds_bucket{le=\"+Inf\"} 4")
    expect(lines).toContain("megaphone_webhook_lag_seconds_count 4")
    expect(lines).toContain("megaphone_contacts_claimed_total{account=\"shop\"} 7")
    expect(lines).toContain("megaphone_campaigns{state=\"stopped\"} 1")
    expect(lines).toContain("megaphone_quota_used{account=\"shop\",quota_key=\"phone:106540352242922\"} 0")
    expect(lines).toContain("megaphone_quota_limit{account=\"shop\",quota_key=\"phone:106540352242922\"} 250")
    expect(lines).toContain("megaphone_storage_up 1")
    expect(lines.some((l) => /^megaphone_campaign_contacts\{campaign="\d+",state="cancelled"\} 3$/.test(l))).toBe(true)
    expect(lines.some((l) => /^process_resident_memory_bytes \d+$/.test(l))).toBe(true)
    expect(reply.text).not.toContain(TOKEN)
  })
})

describe("admin API: OpenAPI document and a derived client", () => {
  it("publishes an OpenAPI 3.1 document that holds together", async () => {
    const reply = await api<{ components: { securitySchemes: Record<string, unknown> } }>("GET", "/openapi.json")
    expect(reply.status).toBe(200)
    expect(reply.headers.get("content-type")).toContain("application/json")
    const problems = checkOpenApi(reply.json)
    expect(problems).toEqual([])
    expect(reply.json.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "Bearer" })
  })

  it("validates against the OpenAPI 3.1 JSON Schema", async () => {
    const reply = await api("GET", "/openapi.json")
    const result = await new Validator().validate(JSON.parse(reply.text) as Record<string, unknown>)
    expect([result.valid, result.errors ?? []]).toEqual([true, []])
    // The validator does reject a broken document (so "valid" above means something).
    const broken = await new Validator().validate({ openapi: "3.1.0", info: { title: "x" }, paths: { "/x": { get: { responses: 7 } } } })
    expect(broken.valid).toBe(false)
  })

  it("is usable through HttpApiClient: typed answers, typed errors", async () => {
    const program = Effect.gen(function*() {
      const client = yield* AdminApi.client({ baseUrl: base, token: Redacted.make(TOKEN) })
      const accounts = yield* client.accounts.list()
      const campaigns = yield* client.campaigns.list()
      const shown = yield* client.campaigns.show({ params: { id: campaigns.campaigns[0]?.id ?? "" } })
      const missing = yield* Effect.flip(client.campaigns.show({ params: { id: "999999" } }))
      const contacts = yield* client.campaigns.contacts({ params: { id: shown.id }, query: { state: "cancelled", limit: 2 } })
      return { accounts, shown, missing, contacts }
    }).pipe(Effect.provide(FetchHttpClient.layer))
    const { accounts, shown, missing, contacts } = await Effect.runPromise(program)
    expect(accounts.accounts[0]?.name).toBe("shop")
    expect(shown.created_at).toBeInstanceOf(Date)
    expect(missing).toBeInstanceOf(AdminApi.Errors.NotFound)
    expect(contacts.contacts).toHaveLength(2)
    expect(contacts.next_after_id).toEqual(contacts.contacts[1]?.id)

    const wrong = Effect.gen(function*() {
      const client = yield* AdminApi.client({ baseUrl: base, token: Redacted.make("wrong") })
      return yield* Effect.flip(client.accounts.list())
    }).pipe(Effect.provide(FetchHttpClient.layer))
    expect(await Effect.runPromise(wrong)).toBeInstanceOf(AdminApi.Errors.Unauthorized)
  })
})

// ---------------------------------------------------------------------------------------------------------
// A structural check of an OpenAPI 3.1 document: what every consumer relies on. (No OpenAPI validator is
// installed; see docs/api.md.)

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

/** Everything wrong with the document, as readable lines (empty when it holds together). */
const checkOpenApi = (doc: unknown): Array<string> => {
  const problems: Array<string> = []
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)
  if (!isObject(doc)) return ["the document is not a JSON object"]
  if (typeof doc["openapi"] !== "string" || !/^3\.1\.\d+$/.test(doc["openapi"])) problems.push(`openapi is ${String(doc["openapi"])}, not 3.1.x`)
  const info = doc["info"]
  if (!isObject(info) || typeof info["title"] !== "string" || typeof info["version"] !== "string") problems.push("info.title/info.version missing")
  const components = isObject(doc["components"]) ? doc["components"] : {}
  const schemes = isObject(components["securitySchemes"]) ? components["securitySchemes"] : {}
  const bearer = schemes["bearer"]
  if (!isObject(bearer) || bearer["type"] !== "http" || String(bearer["scheme"]).toLowerCase() !== "bearer") {
    problems.push("no http bearer security scheme named bearer")
  }
  // Every $ref must point at something in the document.
  const resolve = (ref: string): unknown =>
    ref.startsWith("#/")
      ? ref.slice(2).split("/").reduce<unknown>((node, key) => (isObject(node) ? node[key.replaceAll("~1", "/").replaceAll("~0", "~")] : undefined), doc)
      : undefined
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) node.forEach((child, i) => walk(child, `${at}[${i}]`))
    else if (isObject(node)) {
      if (typeof node["$ref"] === "string" && resolve(node["$ref"]) === undefined) problems.push(`${at}: $ref ${node["$ref"]} does not resolve`)
      for (const [key, child] of Object.entries(node)) walk(child, `${at}.${key}`)
    }
  }
  walk(doc, "$")
  const paths = doc["paths"]
  if (!isObject(paths) || Object.keys(paths).length === 0) return [...problems, "no paths"]
  const operationIds = new Set<string>()
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith("/")) problems.push(`${path}: a path must start with /`)
    if (!isObject(item)) {
      problems.push(`${path}: not a path item`)
      continue
    }
    const operations = Object.entries(item).filter(([key]) => METHODS.includes(key))
    if (operations.length === 0) problems.push(`${path}: no operations`)
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
    for (const [method, op] of operations) {
      const where = `${method.toUpperCase()} ${path}`
      if (!isObject(op)) {
        problems.push(`${where}: not an operation`)
        continue
      }
      const id = op["operationId"]
      if (typeof id !== "string") problems.push(`${where}: no operationId`)
      else if (operationIds.has(id)) problems.push(`${where}: operationId ${id} is used twice`)
      else operationIds.add(id)
      const responses = op["responses"]
      if (!isObject(responses) || Object.keys(responses).length === 0) problems.push(`${where}: no responses`)
      else {
        for (const [status, response] of Object.entries(responses)) {
          if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(status)) problems.push(`${where}: response key ${status} is not a status`)
          if (!isObject(response) || typeof response["description"] !== "string") problems.push(`${where} ${status}: no description`)
        }
        if (!Object.keys(responses).some((s) => s.startsWith("2"))) problems.push(`${where}: no success response`)
      }
      const parameters = Array.isArray(op["parameters"]) ? op["parameters"] : []
      for (const name of templated) {
        if (!parameters.some((p) => isObject(p) && p["in"] === "path" && p["name"] === name && p["required"] === true)) {
          problems.push(`${where}: path parameter ${name} is not declared as required`)
        }
      }
      for (const p of parameters) {
        if (!isObject(p) || typeof p["name"] !== "string" || !["query", "header", "path", "cookie"].includes(String(p["in"]))) {
          problems.push(`${where}: a parameter without name or a valid "in"`)
        }
      }
      const security = op["security"]
      const open = path === "/healthz" || path === "/readyz"
      const needsBearer = Array.isArray(security) && security.some((s) => isObject(s) && Array.isArray(s["bearer"]))
      if (open && needsBearer) problems.push(`${where}: a health check must not need the token`)
      if (!open && !needsBearer) problems.push(`${where}: does not declare the bearer security requirement`)
      if (!open && isObject(responses) && !("401" in responses)) problems.push(`${where}: no 401 response documented`)
    }
  }
  return problems
}

// Retry failed (issue 11, item 3): POST /api/campaigns/{id}/retry {states, codes?}. Last in the file: it stops a
// campaign and claims recipients, which the counts of /metrics above do not expect.
describe("admin API: retry failed contacts", () => {
  const failure = (code: string, reason: "final_for_contact" | "attempts_exhausted") => ({
    _tag: "AttemptFailed" as const,
    error: { errorClass: "recipient" as const, scope: "contact" as const, code, text: `(#${code}) failed` },
    decision: { _tag: "GiveUp" as const, reason }
  })

  it("puts the selected failed contacts back (200 with the counts); bad states 400; a stopped campaign 409; no token 401", async () => {
    const created = await api<Campaign>("POST", "/api/campaigns", { body: { name: "Opakování", account: "shop", template: "order_done" } })
    const id = created.json.id
    const csv = "phone,1,2,3\r\n+420601500001,pane,A,1\r\n+420601500002,paní,B,2\r\n+420601500003,pane,C,3\r\n+420601500004,pane,D,4\r\n"
    expect((await api<AddReport>("POST", `/api/campaigns/${id}/contacts/csv`, { csv })).json).toMatchObject({ added: 4 })
    expect((await api("POST", `/api/campaigns/${id}/retry`, { body: { states: ["error"] } })).status).toBe(409) // a draft has sent nothing
    expect((await api("POST", `/api/campaigns/${id}/start`)).status).toBe(200)
    // The first attempt of each, recorded as a dispatcher would: two sending_failed (131026, 131049), one error, one sent.
    const outcomes: Record<string, Ports.Storage.Outcome["event"]> = {
      "420601500001": failure("131026", "final_for_contact"),
      "420601500002": failure("131049", "final_for_contact"),
      "420601500003": failure("131000", "attempts_exhausted"),
      "420601500004": { _tag: "Accepted", wamid: "wamid.R4", waId: null }
    }
    await server.run(Effect.gen(function*() {
      const s = yield* Ports.Storage.Storage
      const account = Option.getOrThrow(yield* s.getAccount("shop"))
      const { claimed } = yield* s.claim({ account, limit: 20, leaseMs: 60_000, owner: "test", now: new Date() })
      const mine = claimed.filter(({ contact }) => contact.campaignId === id)
      expect(mine).toHaveLength(4)
      yield* s.recordOutcomes(mine.map(({ contact }) => ({ contactId: contact.id, event: outcomes[contact.recipient] ?? failure("x", "final_for_contact") })), new Date())
    }))
    const path = `/api/campaigns/${id}/retry`

    expect((await api("POST", path, { body: { states: ["sending_failed"] }, token: null })).status).toBe(401)
    const read = await api("POST", path, { body: { states: ["read", "error"] } })
    expect([read.status, read.json.message]).toEqual([400, "\"states\": Cannot retry contacts in read: only error and sending_failed contacts can be retried."])
    const empty = await api("POST", path, { body: { states: [] } })
    expect([empty.status, empty.json.message]).toEqual([400, expect.stringContaining("Name the states to retry: error, sending_failed")])
    expect((await api("POST", path, { body: { codes: ["131026"] } })).status).toBe(400)
    const unknown = await api("POST", path, { body: { states: ["sending_failed"], codes: ["999"] } })
    expect([unknown.status, unknown.json.message]).toEqual([400, expect.stringMatching(/^"codes": No failed contact of campaign \d+ has the last error code 999; the codes present are: /)])
    expect((await api("POST", "/api/campaigns/999999/retry", { body: { states: ["error"] } })).status).toBe(404)

    const byCode = await api<CampaignRetry>("POST", path, { body: { states: ["sending_failed"], codes: ["131026"] } })
    expect(byCode.status).toBe(200)
    expect(byCode.json).toMatchObject({ id, state: "running", retried: 1, suppressed: 0, states: ["sending_failed"], codes: ["131026"] })
    expect(byCode.json.counts).toMatchObject({ initial: 1, sending_failed: 1, error: 1, sent: 1 })
    expect(byCode.json.allowed_operations).toContain("retry")
    const both = await api<CampaignRetry>("POST", path, { body: { states: ["error", "sending_failed"] } })
    expect(both.json).toMatchObject({ retried: 2, suppressed: 0, states: ["error", "sending_failed"], codes: [] })
    expect(both.json.counts).toMatchObject({ initial: 3, sending_failed: 0, error: 0, sent: 1 })
    const initial = await api<Page<"contacts", Contact>>("GET", `/api/campaigns/${id}/contacts?state=initial`)
    expect(initial.json.contacts.map((c) => [c.recipient, c.attempts])).toEqual([["420601500001", 0], ["420601500002", 0], ["420601500003", 0]])
    const events = await api<Page<"events", LoggedEvent>>("GET", `/api/campaigns/${id}/events`)
    expect(events.json.events.filter((e) => e.kind === "campaign_contacts_retried").map((e) => e.data)).toEqual(expect.arrayContaining([
      { by: "admin API", states: ["sending_failed"], codes: ["131026"], retried: 1, suppressed: 0 },
      { by: "admin API", states: ["error", "sending_failed"], codes: [], retried: 2, suppressed: 0 }
    ]))

    expect((await api("POST", `/api/campaigns/${id}/stop`)).status).toBe(200)
    const stopped = await api("POST", path, { body: { states: ["error"] } })
    expect([stopped.status, stopped.json.message]).toEqual([409, expect.stringContaining("Cannot retry a stopped campaign")])
  })
})

// Clone a campaign (issue 11, item 5)
describe("admin API: clone a campaign", () => {
  it("a follow-up draft with the settings (201), and the chosen contacts with their parameters; bad states 400; unknown ids 404", async () => {
    const created = await api<Campaign>("POST", "/api/campaigns", { body: { name: "Původní", account: "shop", template: "order_done", note: "listopad" } })
    const id = created.json.id
    const csv = "phone,1,2,3\r\n+420601600001,pane,A,1\r\n+420601600002,paní,B,2\r\n12345,pane,C,3\r\n"
    expect((await api<AddReport>("POST", `/api/campaigns/${id}/contacts/csv`, { csv })).json).toMatchObject({ added: 3, invalid: 1 })
    const path = `/api/campaigns/${id}/clone`

    expect((await api("POST", path, { body: { name: "X" }, token: null })).status).toBe(401)
    const plain = await api<CampaignClone>("POST", path, { body: { name: "Jen nastavení" } })
    expect(plain.status).toBe(201)
    expect(plain.json).toMatchObject({
      name: "Jen nastavení", state: "draft", account: "shop", template: "order_done", language: "cs", note: "listopad",
      cloned_from: id, contacts: null, total: 0
    })
    expect(plain.json.allowed_operations).toContain("start")

    const followUp = await api<CampaignClone>("POST", path, { body: { name: "Follow-up", contacts_from: { campaign_id: id, states: ["initial", "invalid_record"] } } })
    expect(followUp.status).toBe(201)
    expect(followUp.json.contacts).toEqual({
      from: id,
      states: ["initial", "invalid_record"],
      skipped_invalid: 1,
      added: { campaign: followUp.json.id, state: "draft", added: 2, invalid: 0, suppressed: 0, already_in_campaign: [], rejected: [] }
    })
    expect(followUp.json.counts).toMatchObject({ initial: 2 })
    const copied = await api<Page<"contacts", Contact>>("GET", `/api/campaigns/${followUp.json.id}/contacts`)
    expect(copied.json.contacts.map((c) => [c.recipient, c.parameters])).toEqual([
      ["420601600001", { 1: "pane", 2: "A", 3: "1" }],
      ["420601600002", { 1: "paní", 2: "B", 3: "2" }]
    ])
    const events = await api<Page<"events", LoggedEvent>>("GET", `/api/campaigns/${followUp.json.id}/events`)
    expect(events.json.events.filter((e) => e.kind === "campaign_clone").map((e) => e.data)).toEqual([
      { by: "admin API", cloned_from: id, contacts_from: id, states: ["initial", "invalid_record"], added: 2 }
    ])

    const bad = await api("POST", path, { body: { name: "X", contacts_from: { campaign_id: id, states: ["unread"] } } })
    expect([bad.status, bad.json.message]).toEqual([400, expect.stringMatching(/^"contacts_from\.states": unread is not a contact state; the states are: initial,/)])
    expect((await api("POST", path, { body: { name: " " } })).status).toBe(400)
    expect((await api("POST", path, { body: {} })).status).toBe(400)
    const welcome = await api<Campaign>("POST", "/api/campaigns", { body: { name: "Vítejte", account: "shop", template: "welcome", language: "cs" } })
    const other = await api("POST", path, { body: { name: "X", contacts_from: { campaign_id: welcome.json.id, states: ["sent"] } } })
    expect([other.status, other.json.message]).toEqual([400, expect.stringMatching(/^"contacts_from\.campaign_id": Campaign \d+ sends welcome \(cs\), not order_done/)])
    expect((await api("POST", "/api/campaigns/999999/clone", { body: { name: "X" } })).status).toBe(404)
    expect((await api("POST", path, { body: { name: "X", contacts_from: { campaign_id: "999999", states: ["sent"] } } })).status).toBe(404)
  })
})

// Send windows (issue 11, item 2)
describe("admin API: send window", () => {
  it("sets and removes a campaign's window (200 with send_window); contacts say why they wait; bad text 400; stopped 409", async () => {
    const created = await api<Campaign>("POST", "/api/campaigns", { body: { name: "Slušně", account: "shop", template: "order_done" } })
    const id = created.json.id
    expect(created.json.send_window).toBeNull()
    await api<AddReport>("POST", `/api/campaigns/${id}/contacts/csv`, { csv: "phone,1,2,3\r\n+420601700001,pane,A,1\r\n" })
    const path = `/api/campaigns/${id}/window`
    expect((await api("POST", path, { body: { window: "Mon-Fri 09:00-20:00" }, token: null })).status).toBe(401)
    // Open one minute a week: the contact waits whenever this runs (but for that minute).
    const set = await api<Campaign>("POST", path, { body: { window: "sunday 3:00-3:01" } })
    expect([set.status, set.json.send_window]).toEqual([200, "Sun 03:00-03:01"])
    const contacts = await api<Page<"contacts", Contact>>("GET", `/api/campaigns/${id}/contacts`)
    expect(contacts.json.contacts.map((c) => [c.time_zone, c.waiting?.reason])).toEqual([
      [null, "outside the send window Sun 03:00-03:01 (Europe/Prague)"]
    ])
    expect(new Date(contacts.json.contacts[0]?.waiting?.next_possible_at ?? "").getUTCDay()).toBe(0)
    const bad = await api("POST", path, { body: { window: "Mon-Fri 20:00-09:00" } })
    expect([bad.status, bad.json.message]).toEqual([400, expect.stringMatching(/^window: "20:00-09:00" ends before it starts/)])
    const cleared = await api<Campaign>("POST", path, { body: { window: null } })
    expect([cleared.status, cleared.json.send_window]).toEqual([200, null])
    expect((await api<Page<"contacts", Contact>>("GET", `/api/campaigns/${id}/contacts`)).json.contacts.map((c) => c.waiting)).toEqual([null])
    expect((await api("POST", "/api/campaigns/999999/window", { body: { window: null } })).status).toBe(404)
    await api("POST", `/api/campaigns/${id}/stop`)
    const stopped = await api("POST", path, { body: { window: "Mon-Fri 09:00-20:00" } })
    expect([stopped.status, stopped.json.message]).toEqual([409, expect.stringContaining("Cannot change the send window of a stopped campaign")])
  })
})
