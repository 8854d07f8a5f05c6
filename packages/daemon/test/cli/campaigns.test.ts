// `megaphone campaigns …` as a user runs them: the real binary on a fresh embedded PostgreSQL, the account and
// its synced templates seeded through the storage (no Meta needed: these commands never call it).
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Template } from "@megaphone/core"
import { Effect, Redacted, Result } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import { megaphone, scratchDirectory, withStorage } from "./binary.ts"

const cwd = await scratchDirectory()
afterAll(async () => {
  const { rm } = await import("node:fs/promises")
  await rm(cwd, { recursive: true, force: true })
})

const T0 = new Date("2026-11-26T10:00:00.000Z")


const template = (fields: Record<string, unknown>): Template.Template =>
  Result.getOrThrow(Template.decode({ category: "UTILITY", status: "APPROVED", components: [], ...fields }))

const ORDER_DONE = "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena."

/** A fresh database with account "shop", the seed's order_done (cs), a two-language welcome and a paused template. */
const seeded = async (): Promise<string> => {
  const url = Redacted.value(await freshDatabase("embedded"))
  await withStorage(url, (s) => Effect.gen(function*() {
    yield* s.saveAccount({
      name: "shop", phoneNumberId: "106540352242922", wabaId: "111", portfolioId: null, tokenEnv: "SIM_TOKEN",
      graphUrl: "http://127.0.0.1:1", graphVersion: "v23.0", displayPhoneNumber: null, messagingLimit: 250, messagingTier: null,
      qualityRating: null, throughputMps: 80, throughputLevel: null, nameStatus: null, status: null, createdAt: T0, updatedAt: T0
    })
    yield* s.syncTemplates("111", [
      template({ id: "1", name: "order_done", language: "cs", components: [{ type: "BODY", text: ORDER_DONE }] }),
      template({ id: "2", name: "welcome", language: "cs", components: [{ type: "BODY", text: "Vítejte, {{1}}" }] }),
      template({ id: "3", name: "welcome", language: "en", components: [{ type: "BODY", text: "Welcome, {{1}}" }] }),
      template({ id: "4", name: "spring_sale", language: "cs", status: "PAUSED", components: [{ type: "BODY", text: "Sleva {{1}}" }] })
    ], T0)
  }))
  return url
}

const STATES = ["initial", "in_progress", "sent", "delivered", "read", "retry_scheduled", "error", "invalid_record", "sending_failed", "cancelled"]

describe("megaphone campaigns", () => {
  it("create → template-csv → add-contacts (Excel CSV) → show → start → pause → resume → stop → contacts", async () => {
    const url = await seeded()
    const run = (args: ReadonlyArray<string>) => megaphone(cwd, args, { MEGAPHONE_DATABASE_URL: url })

    const created = await run(["campaigns", "create", "--name", "Objednávky", "--account", "shop", "--template", "order_done", "--note", "listopad"])
    expect(created.code).toBe(0)
    const id = created.stdout.trim()
    expect(id).toMatch(/^\d+$/)
    expect(created.stderr).toContain(`megaphone campaigns template-csv ${id}`)

    const blank = await run(["campaigns", "template-csv", id])
    expect([blank.code, blank.stdout]).toEqual([0, "phone,1,2,3\n"])
    expect(blank.stderr).toContain("phone: the contact's phone number with country code")
    const file = join(cwd, "blank.csv")
    expect((await run(["campaigns", "template-csv", id, "-o", file])).code).toBe(0)
    expect(await readFile(file, "utf8")).toBe("phone,1,2,3\r\n")

    // What Excel saves: BOM, `;`, CRLF; one invalid phone, a line break inside a value, an empty cell with a
    // default, and a duplicate.
    const csv = join(cwd, "kontakty.csv")
    await writeFile(csv, "\uFEFF" + [
      "telefon;oslovení;jméno;číslo objednávky",
      "+420 601 123 456;pane;Novák;1001",
      "601 123 457;paní;Nová;1002",
      "12345;pane;Nikdo;1003",
      "+420601123458;pane;\"Dvořák\r\nml.\";1004",
      "+420601123459;paní;Svobodová;",
      "+420601123460,pane,Bílý,1005",
      "+420601123456;pane;Novák;1001",
      ""
    ].join("\r\n"))
    const added = await run(["campaigns", "add-contacts", id, "--csv", csv, "--default", "3=neuvedeno", "--json"])
    expect(added.code).toBe(0)
    const report = JSON.parse(added.stdout)
    expect(report).toMatchObject({ campaign: id, state: "draft", added: 4, invalid: 1, suppressed: 0, already_in_campaign: ["420601123456"] })
    expect(report.rejected).toHaveLength(2)
    expect(report.rejected[0]).toMatchObject({ line: 5, phone: "+420601123458", reason: expect.stringContaining("line break") })
    // A row in another delimiter is rejected with its line, not added as one odd phone number.
    expect(report.rejected[1]).toMatchObject({ line: 8, reason: expect.stringContaining("use the header's delimiter") })

    const shown = await run(["campaigns", "show", id, "--json"])
    expect(shown.code).toBe(0)
    const campaign = JSON.parse(shown.stdout)
    for (const key of ["id", "name", "state", "account", "template", "language", "counts"]) expect(campaign).toHaveProperty(key)
    expect(campaign).toMatchObject({ id, name: "Objednávky", state: "draft", account: "shop", template: "order_done", language: "cs", note: "listopad" })
    expect(Object.keys(campaign.counts)).toEqual(STATES)
    expect(campaign.counts).toEqual({ ...Object.fromEntries(STATES.map((s) => [s, 0])), initial: 3, invalid_record: 1 })
    expect(campaign.quota).toMatchObject({ used: 0, limit: 250 })

    const contactsNow = JSON.parse((await run(["campaigns", "contacts", id, "--json"])).stdout).contacts
    expect(contactsNow.map((c: { phone: string; recipient: string | null; state: string }) => [c.phone, c.recipient, c.state])).toEqual([
      ["+420 601 123 456", "420601123456", "initial"],
      ["601 123 457", "420601123457", "initial"],
      ["12345", null, "invalid_record"],
      ["+420601123459", "420601123459", "initial"]
    ])
    expect(contactsNow[0].parameters).toEqual({ "1": "pane", "2": "Novák", "3": "1001" })
    expect(contactsNow[3].parameters).toEqual({ "1": "paní", "2": "Svobodová", "3": "neuvedeno" })
    expect(contactsNow[2].last_error).toMatchObject({ code: "invalid_phone" })

    const step = async (op: string, state: string) => {
      const result = await run(["campaigns", op, id, "--json"])
      expect([op, result.code, result.stderr]).toEqual([op, 0, ""])
      expect(JSON.parse(result.stdout).state).toBe(state)
      return JSON.parse(result.stdout)
    }
    await step("start", "running")
    const paused = await step("pause", "paused")
    expect(paused.pause_reason).toEqual({ by: "operator" })
    const again = await run(["campaigns", "pause", id])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("Cannot pause a paused campaign: only a running campaign can be paused; it allows: resume, stop, add_contacts.")
    await step("resume", "running")
    const stopped = await step("stop", "stopped")
    expect(stopped.cancelled).toBe(3)
    expect(stopped.counts).toMatchObject({ initial: 0, cancelled: 3, invalid_record: 1 })

    const cancelled = await run(["campaigns", "contacts", id, "--state", "cancelled", "--json"])
    expect(cancelled.code).toBe(0)
    const rows = JSON.parse(cancelled.stdout).contacts
    expect(rows.map((c: { recipient: string }) => c.recipient)).toEqual(["420601123456", "420601123457", "420601123459"])
    expect(rows[0]).toMatchObject({ state: "cancelled", attempts: 0, wamid: null, last_error: null })
    expect(Object.keys(rows[0].state_times)).toEqual(["initial", "cancelled"])

    const asCsv = await run(["campaigns", "contacts", id, "--csv"])
    expect(asCsv.stdout.split("\r\n")[0]).toMatch(/^id,phone,recipient,state,attempts,next_attempt_at,last_error_code,last_error_text,wamid,initial_at,/)
    expect(asCsv.stdout.split("\r\n").filter((l) => l !== "")).toHaveLength(5)

    const more = await run(["campaigns", "add-contacts", id, "--csv", csv])
    expect(more.code).toBe(1)
    expect(more.stderr).toContain("Cannot add contacts a stopped campaign")

    const listed = await run(["campaigns", "list"])
    expect(listed.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+STATE\s+ACCOUNT\s+TEMPLATE\s+LANGUAGE\s+TOTAL\s+WAITING\s+SENT\s+FAILED\s+CANCELLED$/)
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+Objednávky\\s+stopped\\s+shop\\s+order_done\\s+cs\\s+4\\s+0\\s+0\\s+1\\s+3$`, "m"))
  }, 120_000)

  it("refuses what cannot work with one clear error: header mismatch, languages, unusable template, unknown ids, bad usage", async () => {
    const url = await seeded()
    const run = (args: ReadonlyArray<string>) => megaphone(cwd, args, { MEGAPHONE_DATABASE_URL: url })

    const several = await run(["campaigns", "create", "--name", "W", "--account", "shop", "--template", "welcome"])
    expect(several.code).toBe(1)
    expect(several.stderr).toContain("Template welcome exists in 2 languages: cs, en. Choose one with --language.")
    const paused = await run(["campaigns", "create", "--name", "S", "--account", "shop", "--template", "spring_sale"])
    expect(paused.code).toBe(1)
    expect(paused.stderr).toContain("Template spring_sale (cs) cannot be sent: Template spring_sale is paused by Meta")
    const noAccount = await run(["campaigns", "create", "--name", "S", "--account", "nobody", "--template", "order_done"])
    expect([noAccount.code, noAccount.stderr]).toEqual([1, expect.stringContaining('No account named "nobody"')])

    const made = await run(["campaigns", "create", "--name", "W", "--account", "shop", "--template", "welcome", "--language", "en", "--json"])
    const campaign = JSON.parse(made.stdout)
    expect(campaign).toMatchObject({ state: "draft", template: "welcome", language: "en", pause_reason: null })

    const csv = join(cwd, "short.csv")
    await writeFile(csv, "phone\n+420601123456\n")
    const mismatch = await run(["campaigns", "add-contacts", campaign.id, "--csv", csv])
    expect(mismatch.code).toBe(1)
    expect(mismatch.stderr).toContain("The CSV has 1 columns; template welcome (en) needs 2 (phone,1). Missing: 1.")
    const empty = await run(["campaigns", "start", campaign.id])
    expect([empty.code, empty.stderr]).toEqual([1, expect.stringContaining("it has no contacts yet — add contacts first")])

    const unknown = await run(["campaigns", "show", "999"])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('No campaign with id "999". See the ids with `megaphone campaigns list`.')

    expect((await run(["campaigns", "show"])).code).toBe(2)
    expect((await run(["campaigns", "contacts", campaign.id, "--state", "lost"])).code).toBe(2)
    const both = await run(["campaigns", "add-contacts", campaign.id, "--csv", csv, "--where", "city = \"Praha\""])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain("Give exactly one of --csv FILE, --filter NAME or --where EXPR.")
    const noPhone = await run(["campaigns", "add-contacts", campaign.id, "--where", "city = \"Praha\""])
    expect(noPhone.code).toBe(2)
  }, 120_000)

  it("adds directory contacts through --where with columns and defaults, after checking the whole mapping", async () => {
    const url = await seeded()
    const run = (args: ReadonlyArray<string>) => megaphone(cwd, args, { MEGAPHONE_DATABASE_URL: url })
    await withStorage(url, (s) => s.importDirectory([
      { phone: "+420601000001", columns: { city: "Praha", salutation: "pane", surname: "Novák", order: "1" } },
      { phone: "+420601000002", columns: { city: "Praha", salutation: "paní", surname: "Nová", order: "" } },
      { phone: "+420601000003", columns: { city: "Brno", salutation: "pane", surname: "Brněnský", order: "3" } }
    ], "update", T0))
    const id = (await run(["campaigns", "create", "--name", "Praha", "--account", "shop", "--template", "order_done"])).stdout.trim()

    const missing = await run(["campaigns", "add-contacts", id, "--where", "city = \"Praha\"", "--phone-column", "telefon", "--var", "1=salutation"])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('The phone column "telefon" does not exist.')
    expect(missing.stderr).toContain("Variable 2 (")
    expect(missing.stderr).toContain("Variable 3 (")

    const broken = await run(["campaigns", "add-contacts", id, "--where", "city = ", "--phone-column", "phone"])
    expect(broken.code).toBe(1)
    expect(broken.stderr).toMatch(/--where: .* at line 1, column \d+/)

    const ok = await run(["campaigns", "add-contacts", id, "--where", "city = \"Praha\"", "--phone-column", "phone",
      "--var", "1=salutation", "--var", "2=surname", "--var", "3=order", "--default", "3=neuvedeno", "--json"])
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ added: 2, invalid: 0, rejected: [], already_in_campaign: [] })
    const contacts = JSON.parse((await run(["campaigns", "contacts", id, "--json"])).stdout).contacts
    expect(contacts.map((c: { parameters: Record<string, string> }) => c.parameters["3"])).toEqual(["1", "neuvedeno"])
  }, 120_000)
})
