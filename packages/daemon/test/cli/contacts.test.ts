// `megaphone contacts list | show | delete | columns | export` as a user runs them: the real binary on a fresh
// embedded PostgreSQL, directly and through a running daemon's admin API, which must print the same.
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import { withStorage } from "./binary.ts"
import { bothWays } from "./bothWays.ts"

const T0 = new Date("2026-11-26T10:00:00.000Z")
// More than two pages of the admin API (1,000 rows), so paging is exercised on both routes.
const MANY = 2_345

/** The named contacts first (ids 1–5), then MANY numbered ones in Brno. */
const named = [
  { phone: "+420601000001", columns: { name: "Žaneta Nováková", city: "Praha", město: "Praha", note: "=HYPERLINK(\"http://x\")" } },
  { phone: "+420601000002", columns: { name: "Petr Novák", city: "Praha", note: "+1 přítel, \"VIP\"" } },
  { phone: "+420601000003", columns: { name: "Eva", city: "Ostrava", note: "-5; @SUM(A1)" } },
  { phone: "+420601000004", columns: { name: "Jan", city: "Ostrava", note: "řádek\nnový" } },
  { phone: "+420777000005", columns: { name: "Ola", city: "Plzeň" } }
]

const { url, cwd, remoteCwd, dataDir, direct, remote, same } = await bothWays((s) =>
  Effect.gen(function*() {
    yield* s.importDirectory(named, "update", T0)
    yield* s.importDirectory(Array.from({ length: MANY }, (_, i) => ({
      phone: `+420602${String(i).padStart(6, "0")}`,
      columns: { name: `Zákazník ${i}`, city: "Brno" }
    })), "update", T0)
    // A campaign with contacts added from directory contacts 1, 3 and 5, to see what deleting them leaves.
    const campaign = yield* s.createCampaign({ name: "c", accountName: "shop", templateName: "order_done", language: "cs", note: null }, T0)
    yield* s.addCampaignContacts(campaign.id, ["1", "3", "5"].map((id, i) => ({
      phone: named[Number(id) - 1]?.phone ?? "",
      recipient: (named[Number(id) - 1]?.phone ?? "").slice(1),
      parameters: { "1": `value ${i}` },
      directoryContactId: id
    })), T0)
  }))

describe("megaphone contacts", () => {
  it("list: a page of the directory, by filter, expression or search, the same both ways", async () => {
    const all = await same(["contacts", "list", "--json"])
    expect(all.code).toBe(0)
    const document = JSON.parse(all.stdout)
    expect(document.matched).toBe(MANY + 5)
    expect(document.contacts).toHaveLength(100)
    expect(document.contacts[0]).toMatchObject({ id: "1", phone: "+420601000001", columns: named[0]?.columns })

    const text = await same(["contacts", "list", "--where", "city = \"Praha\""])
    expect(text.stdout.split("\n")[0]).toMatch(/^ID\s+PHONE\s+CITY\s+MĚSTO\s+NAME\s+NOTE$/)
    expect(text.stdout).toContain("2 of 2 contact(s).")
    const limited = await same(["contacts", "list", "--limit", "3"])
    expect(limited.stdout).toContain(`3 of ${MANY + 5} contact(s). --limit N shows more`)

    // Search: any column or the phone, whatever the case.
    const novak = JSON.parse((await same(["contacts", "list", "--search", "NOVÁK", "--json"])).stdout)
    expect(novak.contacts.map((c: { phone: string }) => c.phone)).toEqual(["+420601000001", "+420601000002"])
    const byPhone = JSON.parse((await same(["contacts", "list", "--search", "+420777", "--json"])).stdout)
    expect(byPhone.contacts.map((c: { phone: string }) => c.phone)).toEqual(["+420777000005"])
    const both = JSON.parse((await same(["contacts", "list", "--where", "city = \"Brno\"", "--search", "zákazník 12", "--limit", "5000", "--json"])).stdout)
    expect(both.matched).toBe(111) // 12, 120–129, 1200–1299
    expect(both.contacts).toHaveLength(111)
    // More than one API page.
    const brno = JSON.parse((await same(["contacts", "list", "--where", "city = \"Brno\"", "--limit", "2100", "--json"])).stdout)
    expect([brno.matched, brno.contacts.length, brno.contacts[2099].phone]).toEqual([MANY, 2100, "+420602002099"])
    expect((await same(["contacts", "list", "--search", "nobody"])).stdout).toBe("No contacts match.\n")
  }, 180_000)

  it("show by id or phone; columns", async () => {
    const byId = await same(["contacts", "show", "2", "--json"])
    expect(JSON.parse(byId.stdout)).toMatchObject({ id: "2", phone: "+420601000002", columns: named[1]?.columns })
    for (const key of ["+420601000002", "601 000 002", "+420 601 000 002"]) {
      expect((await same(["contacts", "show", key, "--json"])).stdout).toBe(byId.stdout)
    }
    const shown = await same(["contacts", "show", "1"])
    expect(shown.stdout).toMatch(/^FIELD\s+VALUE\nid\s+1\nphone\s+\+420601000001\ncity\s+Praha\nměsto\s+Praha\nname\s+Žaneta Nováková\n/)

    const columns = await same(["contacts", "columns", "--json"])
    expect(JSON.parse(columns.stdout)).toEqual({ columns: ["city", "město", "name", "note"] })
    expect((await same(["contacts", "columns"])).stdout).toBe("city\nměsto\nname\nnote\n")
  }, 120_000)

  it("refuses bad input with what, where and how to fix it, the same both ways", async () => {
    const missing = await same(["contacts", "show", "99999"])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe("error: No directory contact with id 99999. Find the contact with `megaphone contacts list --search TEXT`.\n")
    const phoneWithoutPlus = await same(["contacts", "show", "420601999999"])
    expect(phoneWithoutPlus.stderr).toContain("No directory contact with id 420601999999. For a phone number, write it with +: +420601999999.")
    const noPhone = await same(["contacts", "show", "+420601999999"])
    expect(noPhone.stderr).toContain("No directory contact with phone number +420601999999.")
    const garbage = await same(["contacts", "show", "abc"])
    expect([garbage.code, garbage.stderr]).toEqual([1, expect.stringContaining("\"abc\" is neither a contact id (digits) nor a phone number: \"abc\" contains letters.")])

    const unknownFilter = await same(["contacts", "list", "--filter", "nope"])
    expect([unknownFilter.code, unknownFilter.stderr]).toEqual([1,
      "error: No filter named \"nope\". See `megaphone filters list`, or use --where EXPR.\n"])
    const broken = await same(["contacts", "list", "--where", "city = "])
    expect(broken.code).toBe(1)
    expect(broken.stderr).toMatch(/^error: --where: .* at line 1, column 8/)
    const typo = await same(["contacts", "export", "--where", "mesto = \"Praha\""])
    expect(typo.code).toBe(1)
    expect(typo.stderr).toContain("unknown column \"mesto\" (did you mean \"město\"?)")
    expect(typo.stderr).toContain("See the columns with `megaphone contacts columns`.")
    expect(typo.stdout).toBe("")

    const both = await same(["contacts", "list", "--filter", "x", "--where", "city = \"Praha\""])
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining("Give --filter NAME or --where EXPR, not both.")])
    expect((await same(["contacts", "list", "--limit", "0"])).code).toBe(2)
    expect((await same(["contacts", "export", "--json"])).code).toBe(2)
    expect((await same(["contacts", "delete"])).code).toBe(2)
    expect((await same(["contacts", "delete", "1", "--where", "city = \"Praha\""])).code).toBe(2)
  }, 180_000)

  it("export: phone and every column, spreadsheet-safe, streamed page by page; --excel as Excel wants it", async () => {
    const csv = await same(["contacts", "export", "--where", "city != \"Brno\""])
    expect(csv.code).toBe(0)
    expect(csv.stderr).toBe("Exported 5 contact(s) with 4 column(s).\n")
    expect(csv.stdout).toBe([
      "phone,city,město,name,note",
      // Phone numbers start with + and are neutralised too: no exceptions an attacker could use.
      "'+420601000001,Praha,Praha,Žaneta Nováková,\"'=HYPERLINK(\"\"http://x\"\")\"",
      "'+420601000002,Praha,,Petr Novák,\"'+1 přítel, \"\"VIP\"\"\"",
      "'+420601000003,Ostrava,,Eva,'-5; @SUM(A1)",
      "'+420601000004,Ostrava,,Jan,\"řádek\nnový\"",
      "'+420777000005,Plzeň,,Ola,",
      ""
    ].join("\r\n"))

    const excel = await same(["contacts", "export", "--where", "city = \"Ostrava\"", "--excel"])
    const bytes = Buffer.from(excel.stdout, "utf8")
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    expect(excel.stdout).toBe("\uFEFF" + [
      "phone;city;město;name;note",
      "'+420601000003;Ostrava;;Eva;\"'-5; @SUM(A1)\"",
      "'+420601000004;Ostrava;;Jan;\"řádek\nnový\"",
      ""
    ].join("\r\n"))

    // Everything to a file, more than two API pages: the same bytes both ways.
    const files = { direct: join(cwd, "all.csv"), remote: join(remoteCwd, "all.csv") }
    const d = await direct(["contacts", "export", "-o", files.direct, "--json"])
    const r = await remote(["contacts", "export", "-o", files.remote, "--json"])
    expect(JSON.parse(d.stdout)).toEqual({ file: files.direct, exported: MANY + 5, columns: ["city", "město", "name", "note"] })
    expect(JSON.parse(r.stdout)).toEqual({ file: files.remote, exported: MANY + 5, columns: ["city", "město", "name", "note"] })
    const [written, again] = [await readFile(files.direct, "utf8"), await readFile(files.remote, "utf8")]
    expect(written).toBe(again)
    const lines = written.split("\r\n")
    expect(lines).toHaveLength(1 + MANY + 5 + 1) // the header, the contacts, the empty tail (a cell's "\n" is not a row's end)
    expect(lines.at(-2)).toBe(`'+420602${String(MANY - 1).padStart(6, "0")},Brno,,Zákazník ${MANY - 1},`)
    const text = await direct(["contacts", "export", "-o", files.direct])
    expect(text.stdout).toBe(`Exported ${MANY + 5} contact(s) with 4 column(s) to ${files.direct}.\n`)

    const unwritable = await same(["contacts", "export", "-o", "/nonexistent/dir/x.csv"])
    expect([unwritable.code, unwritable.stderr]).toEqual([1, expect.stringContaining("Cannot write /nonexistent/dir/x.csv")])
  }, 180_000)

  it("delete: by id or phone, or by filter only with --yes; campaigns keep their contacts", async () => {
    // By filter without --yes: refused, saying how many it would delete; nothing deleted.
    const refused = await same(["contacts", "delete", "--where", "city = \"Brno\""])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toBe(`error: --where 'city = "Brno"' matches ${MANY} contact(s); deleting them cannot be undone. ` +
      "See them with `megaphone contacts list --where 'city = \"Brno\"'`, then run this again with --yes.\n")
    const unknownKey = await same(["contacts", "delete", "1", "99999"])
    expect([unknownKey.code, unknownKey.stderr]).toEqual([1, expect.stringContaining("No directory contact with id 99999.")])
    expect(unknownKey.stderr).toContain("Nothing was deleted.")
    expect(JSON.parse((await direct(["contacts", "list", "--json", "--limit", "1"])).stdout).matched).toBe(MANY + 5)
    const none = await same(["contacts", "delete", "--where", "city = \"Tokio\""])
    expect([none.code, none.stdout]).toEqual([0, "No contacts match; nothing was deleted.\n"])

    // Directly by id and phone, through the API by filter.
    const byKey = await direct(["contacts", "delete", "1", "+420601000003", "601 000 003", "--json"])
    expect([byKey.code, JSON.parse(byKey.stdout)]).toEqual([0, { deleted: 2 }])
    const byPhone = await remote(["contacts", "delete", "+420777000005"])
    expect(byPhone.stdout).toBe("Deleted 1 contact(s) from the directory. Campaigns keep the contacts added from them, with their parameters.\n")
    const byFilter = await remote(["contacts", "delete", "--where", "city = \"Brno\"", "--yes", "--json"])
    expect([byFilter.code, JSON.parse(byFilter.stdout)]).toEqual([0, { deleted: MANY }])
    const left = JSON.parse((await same(["contacts", "list", "--json"])).stdout)
    expect(left.contacts.map((c: { id: string }) => c.id)).toEqual(["2", "4"])

    // The campaign still has its three contacts with their frozen parameters; only the links are gone.
    const contacts = await withStorage(url(), (s) =>
      Effect.gen(function*() {
        const [campaign] = yield* s.listCampaigns()
        return yield* s.listCampaignContacts(campaign?.id ?? "", undefined, { limit: 10 })
      }))
    expect(contacts.map((c) => [c.phone, c.parameters, c.directoryContactId, c.progress.state])).toEqual([
      ["+420601000001", { "1": "value 0" }, null, "initial"],
      ["+420601000003", { "1": "value 1" }, null, "initial"],
      ["+420777000005", { "1": "value 2" }, null, "initial"]
    ])
    expect(Option.isNone(await withStorage(url(), (s) => s.getDirectoryContact({ id: "1" })))).toBe(true)
  }, 180_000)

  it("the remote runs never opened a database of their own", () => {
    expect(existsSync(dataDir)).toBe(false)
    expect(existsSync(join(remoteCwd, "megaphone-data"))).toBe(false)
  })
})
