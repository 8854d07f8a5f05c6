// `megaphone contacts import` as a user runs it: a child process on files as Excel writes them, into a fresh
// PostgreSQL database per test; the directory is then read back through the storage.
import { copyFile, readFile, rm, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Database } from "@megaphone/adapters"
import { Ports } from "@megaphone/core"
import { Effect, Layer, Redacted } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import { ImportStopped } from "../../src/contacts/Errors.ts"
import { importFile } from "../../src/contacts/Import.ts"
import { megaphone as run, type RunResult, scratchDirectory, withStorage } from "../cli/binary.ts"

const cwd = await scratchDirectory()
afterAll(() => rm(cwd, { recursive: true, force: true }))

const fixtures = join(import.meta.dirname, "fixtures")

const megaphone = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<RunResult> => run(cwd, args, env)

/** A fixture copied into the scratch directory (its rejects file lands next to it there). */
const copy = async (name: string): Promise<string> => {
  const path = join(cwd, name)
  await copyFile(join(fixtures, name), path)
  return path
}

const database = async () => Redacted.value(await freshDatabase("embedded"))

const importJson = async (url: string, args: ReadonlyArray<string>) => {
  const run = await megaphone(["contacts", "import", ...args, "--json", "--database-url", url])
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout)
}

/** The directory as phone → columns. */
const directory = (url: string) =>
  withStorage(url, (s) => Effect.map(s.listDirectory(undefined, { limit: 1000 }), (all) => Object.fromEntries(all.map((c) => [c.phone, c.columns]))))

const exists = (path: string) => stat(path).then(() => true, () => false)

// Each test runs the command a few times, each a Node process that strips TypeScript at start.
describe("megaphone contacts import", { timeout: 120_000 }, () => {
  it("Windows-1250 with ; and CRLF: every good row arrives with its diacritics, the bad ones are reported with their lines", async () => {
    const url = await database()
    const file = await copy("excel-windows-1250.csv")
    const summary = await importJson(url, [file])
    expect(summary).toMatchObject({
      dry_run: false, encoding: "windows-1250", delimiter: ";", delimiter_reason: "detected", header_line: 1,
      rows: 11, inserted: 8, updated: 0, skipped: 0, rejected: 3, blank: 2, rejects_file: join(cwd, "excel-windows-1250.rejects.csv")
    })
    expect(summary.rejects.map((r: { line: number }) => r.line)).toEqual([9, 11, 13])
    expect(summary.rejects[0].reason).toContain("missing closing \" (quote) on this line")
    expect(summary.rejects[1].reason).toBe("the row has 4 cells, the header (line 1) has 5")
    expect(summary.rejects[2].reason).toContain("Telefon: \"12345\" is too short")
    expect(summary.columns).toEqual([
      { number: 1, header: "Jméno", target: "Jméno", existing: false, how: "new column" },
      { number: 2, header: "Příjmení", target: "Příjmení", existing: false, how: "new column" },
      { number: 3, header: "Oslovení", target: "Oslovení", existing: false, how: "new column" },
      { number: 4, header: "Telefon", target: "phone", existing: null, how: "by name" },
      { number: 5, header: "Číslo objednávky", target: "Číslo objednávky", existing: false, how: "new column" }
    ])

    const contacts = await directory(url)
    expect(Object.keys(contacts).sort()).toEqual([
      "+420602123456", "+420603111222", "+420604222333", "+420777123456", "+420777123457", "+420777123458", "+420777123460", "+421905123456"
    ])
    expect(contacts["+420777123458"]).toEqual({ "Jméno": "Žofie", "Příjmení": "Šťastná", "Oslovení": "paní", "Číslo objednávky": "2024-003" })
    expect(contacts["+420602123456"]?.["Příjmení"]).toBe("Čapek\nml.")
    expect(contacts["+421905123456"]).toMatchObject({ "Jméno": "Ján", "Příjmení": "Kováč", "Oslovení": "pán" })
    expect(contacts["+420603111222"]?.["Příjmení"]).toBe("Němcová, \"Babička\"")
    // The row right after the unclosed quote is not lost.
    expect(contacts["+420777123460"]).toMatchObject({ "Jméno": "Ondřej", "Příjmení": "Úlehla" })

    // The rejects file: UTF-8 with BOM for Excel, the input's delimiter, line and reason before the row as it was.
    const rejects = await readFile(summary.rejects_file, "utf8")
    expect(rejects.startsWith("\uFEFFline;reason;Jméno;Příjmení;Oslovení;Telefon;Číslo objednávky\r\n")).toBe(true)
    const lines = rejects.slice(1).trimEnd().split("\r\n")
    expect(lines).toHaveLength(4)
    expect(lines[1]).toMatch(/^9;".*missing closing.*";Lukáš;"""Řezník";pane;777123459;2024-006$/)
    expect(lines[2]).toBe("11;the row has 4 cells, the header (line 1) has 5;Věra;Nováková;paní;777123461")
    expect(lines[3]).toMatch(/^13;"Telefon: ""12345"" is too short.*";Jiří;Bílý;pane;12345;2024-008$/)

    // Again: the same phones are updated (or skipped), never duplicated.
    expect(await importJson(url, [file, "--on-duplicate", "skip"])).toMatchObject({ inserted: 0, updated: 0, skipped: 8, rejected: 3 })
    expect(await importJson(url, [file])).toMatchObject({ inserted: 0, updated: 8, skipped: 0, rejected: 3 })
    expect(Object.keys(await directory(url))).toHaveLength(8)
  })

  it("UTF-8 with BOM and commas, onto the existing directory columns, updating the contacts of the same phones", async () => {
    const url = await database()
    await importJson(url, [await copy("excel-windows-1250.csv")])
    const summary = await importJson(url, [await copy("excel-utf-8-bom.csv")])
    expect(summary).toMatchObject({ encoding: "utf-8", encoding_reason: "byte-order mark", delimiter: ",", rows: 6, inserted: 0, updated: 5, rejected: 1, blank: 1 })
    expect(summary.columns.map((c: { existing: boolean | null }) => c.existing)).toEqual([true, true, true, null, true])
    expect(summary.rejects).toEqual([{ line: 6, reason: expect.stringContaining("Telefon: \"+420 123\"") }])
    const contacts = await directory(url)
    expect(contacts["+420777123457"]).toMatchObject({ "Jméno": "Řehoř", "Příjmení": "Šídlo, st." })
    expect(contacts["+420602123456"]).toMatchObject({ "Jméno": "Ěva", "Příjmení": "Ďurková" })
  })

  it("tab-separated UTF-8 without BOM and LF, and UTF-16 from Excel's \"Unicode text\"", async () => {
    const url = await database()
    const tab = await importJson(url, [await copy("tab-separated.txt")])
    expect(tab).toMatchObject({ encoding: "utf-8", delimiter: "tab", rows: 4, inserted: 3, rejected: 1 })
    expect(tab.rejects).toEqual([{ line: 5, reason: "the row has 3 cells, the header (line 1) has 4" }])
    expect((await directory(url))["+420777123457"]).toEqual({ "jméno": "Marie", "příjmení": "Svobodová", "poznámka": "dvě\nřádky" })
    // The rejects file keeps the input's delimiter.
    expect(await readFile(join(cwd, "tab-separated.rejects.csv"), "utf8")).toContain("5\tthe row has 3 cells, the header (line 1) has 4\tPetr\tMalý\t777123458")

    const utf16 = await importJson(url, [await copy("excel-unicode-text.txt")])
    expect(utf16).toMatchObject({ encoding: "utf-16le", delimiter: "tab", rows: 5, inserted: 2, updated: 2, rejected: 1 })
    expect(utf16.rejects).toEqual([{ line: 5, reason: expect.stringContaining("\"neznámé\" contains letters") }])
    const contacts = await directory(url)
    expect(contacts["+420777123458"]).toMatchObject({ "jméno": "Ludmila", "příjmení": "Štěpánková", "Oslovení": "paní" })
    expect(contacts["+421905123456"]).toMatchObject({ "jméno": "Igor", "příjmení": "Kráľ" })
  })

  it("--dry-run shows encoding, delimiter, mapping, the first rows and the problems, and writes nothing", async () => {
    const url = await database()
    const file = await copy("excel-windows-1250.csv")
    await rm(join(cwd, "excel-windows-1250.rejects.csv"), { force: true })
    const text = await megaphone(["contacts", "import", file, "--dry-run", "--database-url", url, "--map", "Číslo objednávky=objednávka"])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain("dry run, nothing is written")
    expect(text.stdout).toContain("Read as Windows-1250")
    expect(text.stdout).toContain("delimiter ; (detected)")
    expect(text.stdout).toMatch(/4 +Telefon +phone \(E\.164, the key\) +by name/)
    expect(text.stdout).toMatch(/5 +Číslo objednávky +objednávka \(new\) +--map/)
    expect(text.stdout).toMatch(/6 +\+420602123456 +Karel +Čapek⏎ml\. +pane +2024-004/)
    expect(text.stdout).toContain("3 of all 11 row(s) of the file would be rejected")
    expect(text.stdout).toContain("line 11: the row has 4 cells, the header (line 1) has 5")

    const json = await megaphone(["contacts", "import", file, "--dry-run", "--json", "--database-url", url])
    expect(json.code).toBe(0)
    const preview = JSON.parse(json.stdout)
    expect(preview).toMatchObject({ dry_run: true, encoding: "windows-1250", delimiter: ";", checked: 11, whole_file: true, rejected: 3 })
    expect(preview.rows).toHaveLength(5)
    expect(preview.rows[0]).toEqual({
      line: 2, phone: "+420777123456", columns: { "Jméno": "Jan", "Příjmení": "Novák", "Oslovení": "pane", "Číslo objednávky": "2024-001" }
    })
    expect(preview.problems.map((p: { line: number }) => p.line)).toEqual([9, 11, 13])
    expect(await directory(url)).toEqual({})
    expect(await exists(join(cwd, "excel-windows-1250.rejects.csv"))).toBe(false)
  })

  it("usage mistakes exit 2 before anything is read; a file that cannot be mapped exits 1 and writes nothing", async () => {
    const url = await database()
    const file = await copy("excel-windows-1250.csv")
    const unknown = await megaphone(["contacts", "import", file, "--database-url", url, "--map", "Prijmeni2=x"])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("the CSV has no column named \"Prijmeni2\". Did you mean \"Příjmení\"?")
    expect((await megaphone(["contacts", "import", file, "--database-url", url, "--map", "Jméno"])).code).toBe(2)
    expect((await megaphone(["contacts", "import", file, "--database-url", url, "--delimiter", "|"])).code).toBe(2)
    expect((await megaphone(["contacts", "import", file, "--database-url", url, "--country", "XX"])).code).toBe(2)

    const remote = await megaphone(["contacts", "import", file, "--admin-url", "http://127.0.0.1:8787"])
    expect(remote.code).toBe(2)
    expect(remote.stderr).toContain("works only directly on the database")
    const remoteEnv = await megaphone(["contacts", "import", file], { MEGAPHONE_ADMIN_URL: "http://127.0.0.1:8787" })
    expect(remoteEnv.code).toBe(2)
    expect(remoteEnv.stderr).toContain("MEGAPHONE_ADMIN_URL names the admin API")

    const noPhone = join(cwd, "no-phone.csv")
    await writeFile(noPhone, "Jméno;Příjmení\r\nJan;Novák\r\n")
    const failed = await megaphone(["contacts", "import", noPhone, "--database-url", url])
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain("--map COLUMN=phone")
    const twice = join(cwd, "twice.csv")
    await writeFile(twice, "Jméno;Telefon;Jméno\r\nJan;777123456;Honza\r\n")
    const collide = await megaphone(["contacts", "import", twice, "--database-url", url])
    expect(collide.code).toBe(1)
    expect(collide.stderr).toContain("columns #1 \"Jméno\" and #3 \"Jméno\"")
    expect((await megaphone(["contacts", "import", join(cwd, "missing.csv"), "--database-url", url])).stderr).toContain("Cannot read")
    // A wrong path is told before the database is tried (here: a database nobody listens for).
    const nowhere = await megaphone(["contacts", "import", join(cwd, "missing.csv"), "--database-url", "postgres://x:y@127.0.0.1:1/none"])
    expect(nowhere.code).toBe(1)
    expect(nowhere.stderr).toContain("missing.csv: there is no such file. Check the path")
    expect(await directory(url)).toEqual({})

    // Every row rejected: something is wrong with the file as a whole.
    const allBad = join(cwd, "all-bad.csv")
    await writeFile(allBad, "Jméno;Telefon\r\nJan;123\r\nEva;456\r\n")
    const bad = await megaphone(["contacts", "import", allBad, "--database-url", url, "--json"])
    expect(bad.code).toBe(1)
    expect(JSON.parse(bad.stdout)).toMatchObject({ rows: 2, rejected: 2 })
    expect(bad.stderr).toContain("Every row of")
  })

  it("--country and MEGAPHONE_DEFAULT_COUNTRY read numbers without a country code; a run without rejects leaves no stale rejects file", async () => {
    const url = await database()
    const file = join(cwd, "slovak.csv")
    const rejects = join(cwd, "slovak-rejects.csv")
    await writeFile(file, "Meno;Mobil\r\nJán;0905 123 456\r\nEva;+420 777 123 456\r\n")
    await writeFile(rejects, "stale")
    const cz = await importJson(url, [file, "--rejects", rejects])
    expect(cz).toMatchObject({ inserted: 1, rejected: 1, rejects_file: rejects })
    const sk = await megaphone(["contacts", "import", file, "--rejects", rejects, "--json", "--database-url", url], { MEGAPHONE_DEFAULT_COUNTRY: "sk" })
    expect(JSON.parse(sk.stdout)).toMatchObject({ inserted: 1, updated: 1, rejected: 0, rejects_file: null })
    expect(await exists(rejects)).toBe(false)
    expect(await importJson(url, [file, "--country", "SK"])).toMatchObject({ updated: 2 })
    expect(Object.keys(await directory(url)).sort()).toEqual(["+420777123456", "+421905123456"])
  })

  it("a database failure part-way keeps the batches written and says at which line it stopped and that re-running is safe", async () => {
    const url = await database()
    const file = join(cwd, "long.csv")
    await writeFile(file, ["Jméno;Telefon", ...Array.from({ length: 10 }, (_, i) => `Kontakt ${i};+420 601 000 ${String(i).padStart(3, "0")}`)].join("\r\n"))
    let calls = 0
    // The real storage, whose third write fails as a lost connection would.
    const failing = Layer.effect(Ports.Storage.Storage, Effect.gen(function*() {
      const storage = yield* Ports.Storage.Storage
      return {
        ...storage,
        importDirectory: (contacts, onDuplicate, now) =>
          ++calls === 3
            ? Effect.fail(new Ports.Storage.StorageError({ operation: "importDirectory", message: "Connection terminated unexpectedly" }))
            : storage.importDirectory(contacts, onDuplicate, now)
      } satisfies Ports.Storage.StorageShape
    })).pipe(Layer.provide(Database.layer({ _tag: "Server", url: Redacted.make(url) }, { maxConnections: 2 })))
    const error = await Effect.runPromise(importFile({
      file, encoding: "auto", delimiter: "auto", rules: [], country: "CZ", onDuplicate: "update", rejectsPath: join(cwd, "long.rejects.csv"), batchSize: 3
    }).pipe(Effect.flip, Effect.provide(failing)))
    expect(error).toBeInstanceOf(ImportStopped)
    expect(error).toMatchObject({ line: 8, imported: 6 })
    expect(error.message).toContain("stopped at line 8")
    expect(error.message).toContain("run the same command again")
    expect(Object.keys(await directory(url))).toHaveLength(6)
  })
})
