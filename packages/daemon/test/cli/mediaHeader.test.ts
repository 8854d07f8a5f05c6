// Media header templates (issue 11) as a user meets them in the CLI: `templates list` names the header's kind,
// `campaigns template-csv` hands out its column, `campaigns add-contacts` takes a link or a media id from that column
// or one fixed link (--default), rejects the line of a link Meta would not take, and refuses a bad fixed link
// before adding anyone. The real binary on a fresh embedded PostgreSQL.
import { rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Template } from "@megaphone/core"
import { Result } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { megaphone, scratchDirectory, shopDatabase } from "./binary.ts"

const cwd = await scratchDirectory()
afterAll(() => rm(cwd, { recursive: true, force: true }))

const T0 = new Date("2026-11-26T10:00:00.000Z")

const template = (fields: Record<string, unknown>): Template.Template =>
  Result.getOrThrow(Template.decode({ category: "MARKETING", status: "APPROVED", ...fields }))

/** A fresh database with account "shop", an image-header template and a document-header one. */
const seeded = (): Promise<string> => shopDatabase([
  template({ id: "1", name: "spring_catalog", language: "cs", components: [
    { type: "HEADER", format: "IMAGE" },
    { type: "BODY", text: "Dobrý den, {{1}}, posíláme jarní katalog." }
  ] }),
  template({ id: "2", name: "invoice_ready", language: "cs", category: "UTILITY", components: [
    { type: "HEADER", format: "DOCUMENT" },
    { type: "BODY", text: "Dobrý den, v příloze je faktura č. {{1}}." }
  ] })
], T0)

describe("media header templates in the CLI", () => {
  it("templates list, template-csv with the header's column, add-contacts by link, media id or fixed link", async () => {
    const url = await seeded()
    const run = (args: ReadonlyArray<string>) => megaphone(cwd, args, { MEGAPHONE_DATABASE_URL: url })

    const listed = JSON.parse((await run(["templates", "list", "--json"])).stdout).templates
    expect(listed.map((t: { name: string; header: string | null; variables: Array<string> }) => [t.name, t.header, t.variables])).toEqual([
      ["invoice_ready", "document", ["header.document", "1"]],
      ["spring_catalog", "image", ["header.image", "1"]]
    ])

    const id = (await run(["campaigns", "create", "--name", "Jarní katalog", "--account", "shop", "--template", "spring_catalog"])).stdout.trim()
    const blank = await run(["campaigns", "template-csv", id])
    expect(blank.code).toBe(0)
    expect(blank.stdout.split("\r\n")[0]).toBe("phone,header.image,1")
    expect(blank.stdout).toContain("# Header: an image — an https link or a media id in column header.image\r\n")
    expect(blank.stdout).toContain("# Example: +420 601 123 456,https://example.com/image.jpg,{{1}}")
    expect(blank.stderr).toContain("header.image: Header image (https link or media id); an https link anyone can download, or the id of an image uploaded to Meta")
    const asJson = JSON.parse((await run(["campaigns", "template-csv", id, "--json"])).stdout)
    expect(asJson.header).toEqual(["phone", "header.image", "1"])

    const csv = join(cwd, "katalog.csv")
    await writeFile(csv, [
      "phone,header.image,1",
      "+420601200001,https://cdn.example.com/jaro.jpg,Jano",
      "+420601200002,1215647396592284,Mařenko",
      "+420601200003,,Pepo",
      "+420601200004,http://cdn.example.com/jaro.jpg,Evo",
      ""
    ].join("\r\n"))
    const added = await run(["campaigns", "add-contacts", id, "--csv", csv, "--default", "header.image=https://cdn.example.com/vychozi.jpg", "--json"])
    expect(added.code).toBe(0)
    const report = JSON.parse(added.stdout)
    expect(report).toMatchObject({ added: 3, invalid: 0 })
    expect(report.rejected).toEqual([{
      line: 5,
      phone: "+420601200004",
      reason: expect.stringContaining(`header.image: "http://cdn.example.com/jaro.jpg" (column "header.image") is not an https link; media links are sent over https only.`)
    }])
    const contacts = JSON.parse((await run(["campaigns", "contacts", id, "--json"])).stdout).contacts
    expect(contacts.map((c: { parameters: Record<string, string> }) => c.parameters["header.image"])).toEqual([
      "https://cdn.example.com/jaro.jpg", "1215647396592284", "https://cdn.example.com/vychozi.jpg"
    ])

    // A fixed link Meta would not take refuses the whole file before anyone is added.
    const invoices = (await run(["campaigns", "create", "--name", "Faktury", "--account", "shop", "--template", "invoice_ready"])).stdout.trim()
    const file = join(cwd, "faktury.csv")
    await writeFile(file, "phone,header.document,1\r\n+420601200001,,2024-0042\r\n")
    const refused = await run(["campaigns", "add-contacts", invoices, "--csv", file, "--default", "header.document=faktura.pdf"])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`The default of variable header.document: "faktura.pdf" is neither an https link nor a media id.`)
    const fixed = await run(["campaigns", "add-contacts", invoices, "--csv", file, "--default", "header.document=https://cdn.example.com/f/2024-0042.pdf"])
    expect(fixed.code).toBe(0)
    expect(fixed.stdout).toContain("Added 1 contact(s)")
  }, 120_000)
})
