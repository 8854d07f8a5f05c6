// `megaphone campaigns …` as a user runs them: the real binary on a fresh embedded PostgreSQL, the account and
// its synced templates seeded through the storage (no Meta needed: these commands never call it).
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Filter, Template } from "@megaphone/core"
import { Effect, Result } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { megaphone, scratchDirectory, shopDatabase, withStorage } from "./binary.ts"
import { failedCampaign } from "./failedCampaign.ts"

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
const seeded = (): Promise<string> => shopDatabase([
  template({ id: "1", name: "order_done", language: "cs", components: [{ type: "BODY", text: ORDER_DONE }] }),
  template({ id: "2", name: "welcome", language: "cs", components: [{ type: "BODY", text: "Vítejte, {{1}}" }] }),
  template({ id: "3", name: "welcome", language: "en", components: [{ type: "BODY", text: "Welcome, {{1}}" }] }),
  template({ id: "4", name: "spring_sale", language: "cs", status: "PAUSED", components: [{ type: "BODY", text: "Sleva {{1}}" }] }),
  template({ id: "5", name: "promo", language: "cs", parameter_format: "NAMED", components: [{ type: "BODY", text: "Ahoj {{first_name}}, sleva {{discount}}." }] }),
  template({ id: "6", name: "shipping_update", language: "cs", components: [
    { type: "HEADER", format: "TEXT", text: "Zásilka {{1}}" },
    { type: "BODY", text: "Dobrý den, {{1}}, zásilka je na cestě." },
    { type: "BUTTONS", buttons: [{ type: "URL", text: "Sledovat", url: "https://shop.example/t/{{1}}" }] }
  ] })
], T0)

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
    expect(blank.code).toBe(0)
    expect(blank.stdout.split("\r\n")).toEqual([
      "phone,1,2,3",
      "# Template order_done (cs). Rows starting with # are notes and are skipped; the column order decides the variables.",
      `"# Body: ${ORDER_DONE}"`,
      "# Example: +420 601 123 456,{{1}},{{2}},{{3}}\n"
    ])
    expect(blank.stderr).toContain("phone: the contact's phone number with country code")
    const file = join(cwd, "blank.csv")
    expect((await run(["campaigns", "template-csv", id, "-o", file])).code).toBe(0)
    expect(await readFile(file, "utf8")).toBe(`${blank.stdout.trimEnd()}\r\n`)
    const excel = join(cwd, "blank-excel.csv")
    expect((await run(["campaigns", "template-csv", id, "--excel", "-o", excel])).code).toBe(0)
    expect((await readFile(excel, "utf8")).split("\r\n")[0]).toBe("\uFEFFphone;1;2;3")

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
    expect(again.stderr).toContain("Cannot pause a paused campaign: only a running campaign can be paused; it allows: resume, stop, add_contacts, retry.")
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
    expect(asCsv.stdout.split("\r\n")[0]).toBe("id,phone,recipient,var.1,var.2,var.3,state,state_label,attempts,next_attempt_at," +
      "last_error_code,last_error_text,wamid,wa_id,added_at,initial_at,in_progress_at,sent_at,delivered_at,read_at," +
      "retry_scheduled_at,error_at,invalid_record_at,sending_failed_at,cancelled_at")
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
  it("the blank CSV filled in, a file without header, a mismatch refused, opted-out and duplicates skipped, and the export", async () => {
    const url = await seeded()
    const run = (args: ReadonlyArray<string>) => megaphone(cwd, args, { MEGAPHONE_DATABASE_URL: url })
    const id = (await run(["campaigns", "create", "--name", "Export", "--account", "shop", "--template", "order_done"])).stdout.trim()
    const counts = async () => JSON.parse((await run(["campaigns", "show", id, "--json"])).stdout).counts as Record<string, number>
    const added = async (file: string, text: string, ...flags: Array<string>) => {
      await writeFile(join(cwd, file), text)
      const result = await run(["campaigns", "add-contacts", id, "--csv", join(cwd, file), ...flags])
      return { ...result, report: result.code === 0 && flags.includes("--json") ? JSON.parse(result.stdout) : undefined }
    }

    // Two variable columns for a three-variable template: refused before any row, naming what is missing.
    const mismatch = await added("mismatch.csv", "telefon,oslovení,jméno\r\n+420601100001,pane,Novák\r\n")
    expect(mismatch.code).toBe(1)
    expect(mismatch.stderr).toContain("The CSV has 3 columns; template order_done (cs) needs 4 (phone,1,2,3). Missing: 3.")
    expect(await counts()).toEqual(Object.fromEntries(STATES.map((s) => [s, 0])))

    // The blank CSV with the guide rows left in: only the rows below them are contacts.
    const blank = join(cwd, "export-blank.csv")
    expect((await run(["campaigns", "template-csv", id, "-o", blank])).code).toBe(0)
    const guided = await readFile(blank, "utf8")
    const first = await added("guided.csv", guided + "+420601100001,pane,Novák,1\r\n+420601100002,,\"=HYPERLINK(\"\"http://evil\"\")\",2\r\n",
      "--default", "1=vážený zákazníku", "--json")
    expect([first.code, first.stderr]).toEqual([0, ""])
    expect(first.report).toMatchObject({ added: 2, invalid: 0, suppressed: 0, already_in_campaign: [], rejected: [] })

    // No header row; one already in the campaign, one opted out, one with an empty name and no default.
    await withStorage(url, (s) => s.suppress([{ recipient: "420601100004", reason: "STOP" }], T0))
    const second = await added("no-header.csv", [
      "+420601100003;paní;Nová;3",
      "+420601100001;pane;Novák;1",
      "+420601100004;pane;Odhlášený;4",
      "+420601100005;pane;;5",
      ""
    ].join("\r\n"))
    expect(second.code).toBe(0)
    expect(second.stdout).toContain(`Added 2 contact(s) to campaign ${id}: 1 to send, 0 invalid record(s), 1 suppressed (opted out); ` +
      "1 duplicate(s) skipped (already in the campaign), 1 row(s) rejected.")
    expect(second.stdout).toContain("Already in the campaign (skipped): 420601100001")
    expect(second.stdout).toContain("line 4 (+420601100005): 2: Variable 2 (Body {{2}}) is empty for this contact and has no default")
    expect(await counts()).toMatchObject({ initial: 3, invalid_record: 1 })

    // The export: every field, a column per variable, the state's label, spreadsheet-safe cells.
    const csv = await run(["campaigns", "contacts", id, "--csv"])
    expect(csv.code).toBe(0)
    const lines = csv.stdout.split("\r\n")
    expect(lines.at(-1)).toBe("")
    const header = lines[0]?.split(",") ?? []
    const rows = lines.slice(1, -1)
    expect(rows).toHaveLength(4)
    const field = (row: string, name: string) => row.split(",")[header.indexOf(name)]
    expect(rows.map((r) => [field(r, "phone"), field(r, "var.1"), field(r, "state"), field(r, "state_label")])).toEqual([
      ["'+420601100001", "pane", "initial", "Initial"],
      ["'+420601100002", "vážený zákazníku", "initial", "Initial"],
      ["'+420601100003", "paní", "initial", "Initial"],
      ["'+420601100004", "pane", "invalid_record", "Invalid record"]
    ])
    // A formula is text in a spreadsheet: a leading ' (and the quotes doubled inside the quoted cell).
    expect(rows[1]).toContain(`,"'=HYPERLINK(""http://evil"")",2,initial,`)
    expect(field(rows[3] ?? "", "last_error_code")).toBe("opted_out")
    expect(field(rows[0] ?? "", "initial_at")).toMatch(/^\d{4}-\d\d-\d\dT/)

    // For Czech Excel, into a file: BOM, `;`, CRLF, the seed's names.
    const out = join(cwd, "export.csv")
    const excel = await run(["campaigns", "contacts", id, "--excel", "--lang", "cs", "-o", out])
    expect([excel.code, excel.stdout, excel.stderr]).toEqual([0, "", `Wrote 4 contact(s) of campaign ${id} to ${out}.\n`])
    const written = await readFile(out, "utf8")
    expect(written.startsWith("\uFEFFid;phone;recipient;var.1;var.2;var.3;state;state_label;")).toBe(true)
    expect(written.split("\r\n")).toHaveLength(6)
    expect(written).toContain(";initial;Počáteční;")
    expect(written).toContain(";invalid_record;Neplatný záznam;")
    const waiting = await run(["campaigns", "contacts", id, "--state", "invalid_record", "--csv"])
    expect(waiting.stdout.split("\r\n").filter((l) => l !== "")).toHaveLength(2)

    // --json streams the very document printJson would print.
    const asJson = await run(["campaigns", "contacts", id, "--json"])
    expect(asJson.stdout).toBe(`${JSON.stringify(JSON.parse(asJson.stdout), null, 2)}\n`)
    expect(JSON.parse(asJson.stdout).contacts).toHaveLength(4)
    const none = await run(["campaigns", "contacts", id, "--state", "sent", "--json"])
    expect(none.stdout).toBe(`${JSON.stringify({ campaign: id, contacts: [] }, null, 2)}\n`)

    // With its template gone from Meta, the export still has a column per value its contacts carry.
    await withStorage(url, (s) => s.syncTemplates("111", [], T0))
    const orphan = await run(["campaigns", "contacts", id, "--csv"])
    expect([orphan.code, orphan.stdout.split("\r\n")[0]]).toEqual([0, expect.stringMatching(/^id,phone,recipient,var\.1,var\.2,var\.3,state,/)])

    // An unknown campaign leaves no file behind; --csv with --json is a usage mistake.
    const nowhere = join(cwd, "nowhere.csv")
    const unknown = await run(["campaigns", "contacts", "999", "--csv", "-o", nowhere])
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('No campaign with id "999"')])
    await expect(readFile(nowhere)).rejects.toThrow()
    expect((await run(["campaigns", "contacts", id, "--csv", "--json"])).code).toBe(2)
  }, 120_000)

  it("adds directory contacts through a saved filter: named parameters, header and URL-button variables", async () => {
    const url = await seeded()
    const run = (args: ReadonlyArray<string>) => megaphone(cwd, args, { MEGAPHONE_DATABASE_URL: url })
    await withStorage(url, (s) => Effect.gen(function*() {
      yield* s.importDirectory([
        { phone: "+420601000001", columns: { city: "Praha", jmeno: "Jana", zasilka: "Z-1" } },
        { phone: "+420601000002", columns: { city: "Praha", jmeno: "", zasilka: "Z-2" } },
        { phone: "+420601000003", columns: { city: "Brno", jmeno: "Petr", zasilka: "Z-3" } }
      ], "update", T0)
      yield* s.createFilter("praha", Result.getOrThrow(Filter.parse("city = \"Praha\"")), T0)
    }))

    const promo = (await run(["campaigns", "create", "--name", "Promo", "--account", "shop", "--template", "promo"])).stdout.trim()
    const named = await run(["campaigns", "add-contacts", promo, "--filter", "praha", "--phone-column", "phone",
      "--var", "first_name=jmeno", "--default", "first_name=zákazníku", "--default", "discount=20 %", "--json"])
    expect(named.code).toBe(0)
    expect(JSON.parse(named.stdout)).toMatchObject({ added: 2, rejected: [] })
    const promoContacts = JSON.parse((await run(["campaigns", "contacts", promo, "--json"])).stdout).contacts
    expect(promoContacts.map((c: { parameters: unknown }) => c.parameters)).toEqual([
      { first_name: "Jana", discount: "20 %" },
      { first_name: "zákazníku", discount: "20 %" }
    ])

    const shipping = (await run(["campaigns", "create", "--name", "Zásilky", "--account", "shop", "--template", "shipping_update"])).stdout.trim()
    expect((await run(["campaigns", "template-csv", shipping])).stdout.split("\r\n")[0]).toBe("phone,header.1,1,button.0")
    const unmapped = await run(["campaigns", "add-contacts", shipping, "--filter", "praha", "--phone-column", "phone", "--var", "1=jmeno",
      "--var", "button.0=tracking"])
    expect(unmapped.code).toBe(1)
    expect(unmapped.stderr).toContain("Variable header.1 (")
    expect(unmapped.stderr).toContain('Variable button.0 (Button 0 "Sledovat" URL suffix after https://shop.example/t/) is mapped to column "tracking", which does not exist.')
    const parts = await run(["campaigns", "add-contacts", shipping, "--filter", "praha", "--phone-column", "phone",
      "--var", "header.1=zasilka", "--var", "1=jmeno", "--var", "button.0=zasilka", "--default", "1=zákazníku", "--json"])
    expect(JSON.parse(parts.stdout)).toMatchObject({ added: 2, rejected: [] })
    const exported = (await run(["campaigns", "contacts", shipping, "--csv"])).stdout.split("\r\n")
    expect(exported[0]).toMatch(/^id,phone,recipient,var\.header\.1,var\.1,var\.button\.0,state,/)
    expect(exported[2]).toMatch(/^\d+,'\+420601000002,420601000002,Z-2,zákazníku,Z-2,initial,/)
  }, 120_000)
})

// ---------------------------------------------------------------------------------------------------------
// campaigns retry (issue 11, item 3)

describe("megaphone campaigns retry", () => {
  it("puts back exactly the selected failed contacts, by state and --code; asks for --yes; refuses bad states and stopped campaigns", async () => {
    const url = await seeded()
    const run = (args: ReadonlyArray<string>) => megaphone(cwd, args, { MEGAPHONE_DATABASE_URL: url })
    const id = await failedCampaign(url, run, cwd)
    const counts = async () => JSON.parse((await run(["campaigns", "show", id, "--json"])).stdout).counts as Record<string, number>
    const recipients = async (state: string) =>
      JSON.parse((await run(["campaigns", "contacts", id, "--state", state, "--json"])).stdout).contacts.map((c: { recipient: string }) => c.recipient)
    expect(await counts()).toMatchObject({ sending_failed: 3, error: 1, sent: 1, initial: 0 })

    // A state that cannot be retried is a usage mistake (exit 2), naming the states that can.
    const read = await run(["campaigns", "retry", id, "--state", "read"])
    expect(read.code).toBe(2)
    expect(read.stderr).toContain("--state: Cannot retry contacts in read: only error and sending_failed contacts can be retried.")
    const none = await run(["campaigns", "retry", id])
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining("Name the states to retry: error, sending_failed")])

    // Without --yes it says how many and changes nothing.
    const asked = await run(["campaigns", "retry", id, "--state", "sending_failed"])
    expect(asked.code).toBe(1)
    expect(asked.stderr).toContain(`Campaign ${id} has 3 contact(s) in sending_failed; retrying puts them back to initial with a new attempt budget`)
    expect(asked.stderr).toContain("Run this again with --yes to do it.")
    expect(await counts()).toMatchObject({ sending_failed: 3, error: 1, initial: 0 })

    // --code selects by the last error; a code no failed contact has is refused with the codes there are.
    const unknown = await run(["campaigns", "retry", id, "--state", "sending_failed", "--code", "999", "--yes"])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain(`--code: No failed contact of campaign ${id} has the last error code 999;`)
    expect(unknown.stderr).toMatch(/the codes present are: .*131049/)
    const byCode = await run(["campaigns", "retry", id, "--state", "sending_failed", "--code", "131026", "--yes", "--json"])
    expect([byCode.code, byCode.stderr]).toEqual([0, ""])
    const report = JSON.parse(byCode.stdout)
    expect(report).toMatchObject({ id, state: "running", retried: 2, suppressed: 0, states: ["sending_failed"], codes: ["131026"] })
    expect(report.counts).toMatchObject({ initial: 2, sending_failed: 1, error: 1, sent: 1 })
    expect(await recipients("initial")).toEqual(["420601400001", "420601400002"])
    // Back to initial with a new budget; the last error stays until the next attempt replaces it.
    const back = JSON.parse((await run(["campaigns", "contacts", id, "--state", "initial", "--json"])).stdout).contacts[0]
    expect(back).toMatchObject({ attempts: 0, wamid: null, last_error: { code: "131026" } })

    // Both states; the recipient who opted out meanwhile is left as it is, and counted.
    await withStorage(url, (s) => s.suppress([{ recipient: "420601400004", reason: "STOP" }], T0))
    const both = await run(["campaigns", "retry", id, "--state", "error,sending_failed", "--yes"])
    expect([both.code, both.stderr]).toEqual([0, ""])
    expect(both.stdout).toBe(`Put 1 contact(s) of campaign ${id} back to initial with a new attempt budget; ` +
      `1 left as they were (recipient on the suppression list). Campaign ${id} is running.\n`)
    expect(await recipients("initial")).toEqual(["420601400001", "420601400002", "420601400003"])
    expect(await recipients("sending_failed")).toEqual(["420601400004"])
    expect(await recipients("sent")).toEqual(["420601400005"])

    // A stopped campaign sends nothing more, and a draft has sent nothing: both refuse.
    expect((await run(["campaigns", "stop", id])).code).toBe(0)
    const stopped = await run(["campaigns", "retry", id, "--state", "sending_failed", "--yes"])
    expect(stopped.code).toBe(1)
    expect(stopped.stderr).toContain("Cannot retry a stopped campaign: a stopped campaign sends nothing more — create a new campaign")
    const draft = (await run(["campaigns", "create", "--name", "Koncept", "--account", "shop", "--template", "order_done"])).stdout.trim()
    const early = await run(["campaigns", "retry", draft, "--state", "error", "--yes"])
    expect([early.code, early.stderr]).toEqual([1, expect.stringContaining("Cannot retry a draft campaign: nothing has been sent yet")])
    const missing = await run(["campaigns", "retry", "999", "--state", "error", "--yes"])
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('No campaign with id "999"')])
  }, 120_000)
})

// campaigns clone (issue 11, item 5)

describe("megaphone campaigns clone", () => {
  it("copies the settings, and with --contacts-from --state the chosen contacts; refuses bad usage and unknown ids", async () => {
    const url = await seeded()
    const run = (args: ReadonlyArray<string>) => megaphone(cwd, args, { MEGAPHONE_DATABASE_URL: url })
    const id = await failedCampaign(url, run, cwd)

    // Settings only: a draft with the same account, template and language; only the new id on stdout.
    const plain = await run(["campaigns", "clone", id, "--name", "Znovu"])
    expect(plain.code).toBe(0)
    const copy = plain.stdout.trim()
    expect(copy).toMatch(/^\d+$/)
    expect(plain.stderr).toContain(`Created campaign ${copy} "Znovu" (draft) from campaign ${id}: order_done (cs) from shop.`)
    const shown = JSON.parse((await run(["campaigns", "show", copy, "--json"])).stdout)
    expect(shown).toMatchObject({ state: "draft", account: "shop", template: "order_done", language: "cs", total: 0 })

    // The failed contacts, with their parameters, into a follow-up draft.
    const followUp = await run(["campaigns", "clone", id, "--name", "Follow-up", "--contacts-from", id, "--state", "sending_failed,error", "--json"])
    expect([followUp.code, followUp.stderr]).toEqual([0, ""])
    const report = JSON.parse(followUp.stdout)
    expect(report).toMatchObject({
      name: "Follow-up",
      state: "draft",
      cloned_from: id,
      contacts: { from: id, states: ["sending_failed", "error"], skipped_invalid: 0, added: { added: 4, invalid: 0, suppressed: 0, already_in_campaign: [] } }
    })
    expect(report.counts).toMatchObject({ initial: 4 })
    expect(report).not.toHaveProperty("allowed_operations")
    const source = JSON.parse((await run(["campaigns", "contacts", id, "--state", "error", "--json"])).stdout).contacts[0]
    const copied = JSON.parse((await run(["campaigns", "contacts", report.id, "--json"])).stdout).contacts
    expect(copied.find((c: { recipient: string }) => c.recipient === source.recipient)).toMatchObject({ parameters: source.parameters, state: "initial" })

    const text = await run(["campaigns", "clone", id, "--name", "Odeslané", "--contacts-from", id, "--state", "sent"])
    expect(text.code).toBe(0)
    expect(text.stderr).toContain(`Copied the sent contacts of campaign ${id}: Added 1 contact(s) to campaign ${text.stdout.trim()}: 1 to send,`)

    // Usage mistakes exit 2 before anything is read; unknown ids exit 1.
    const bad = await run(["campaigns", "clone", id, "--name", "X", "--contacts-from", id, "--state", "sent,unread"])
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("--state: unread is not a contact state; the states are: initial, in_progress,")])
    const noState = await run(["campaigns", "clone", id, "--name", "X", "--contacts-from", id])
    expect([noState.code, noState.stderr]).toEqual([2, expect.stringContaining("--state: Name the states of the contacts to copy")])
    const noFrom = await run(["campaigns", "clone", id, "--name", "X", "--state", "sent"])
    expect([noFrom.code, noFrom.stderr]).toEqual([2, expect.stringContaining("--state needs --contacts-from ID.")])
    const blank = await run(["campaigns", "clone", id, "--name", " "])
    expect([blank.code, blank.stderr]).toEqual([2, expect.stringContaining("--name must not be empty.")])
    const missing = await run(["campaigns", "clone", "999", "--name", "X"])
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('No campaign with id "999"')])
    const welcome = (await run(["campaigns", "create", "--name", "Vítejte", "--account", "shop", "--template", "welcome", "--language", "cs"])).stdout.trim()
    const other = await run(["campaigns", "clone", id, "--name", "X", "--contacts-from", welcome, "--state", "sent"])
    expect([other.code, other.stderr]).toEqual([1, expect.stringContaining(`--contacts-from: Campaign ${welcome} sends welcome (cs), not order_done (cs)`)])
    expect(JSON.parse((await run(["campaigns", "list", "--json"])).stdout).campaigns).toHaveLength(5)
  }, 120_000)
})
