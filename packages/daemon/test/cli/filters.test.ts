// `megaphone filters create | list | show | delete | test` as a user runs them: the real binary on a fresh
// embedded PostgreSQL, directly and through a running daemon's admin API, which must print the same.
import { describe, expect, it } from "vitest"
import { bothWays } from "./bothWays.ts"

const T0 = new Date("2026-11-26T10:00:00.000Z")

const { direct, remote, same } = await bothWays((s) =>
  s.importDirectory(Array.from({ length: 30 }, (_, i) => ({
    phone: `+420601${String(i).padStart(6, "0")}`,
    columns: { name: `Zákazník ${i}`, město: i % 3 === 0 ? "Praha" : "Brno", orders: String(i) }
  })), "update", T0))

describe("megaphone filters", () => {
  it("create (both ways) → list → show → test → delete", async () => {
    const praha = await direct(["filters", "create", "praha", "--where", "město = \"Praha\""])
    expect([praha.code, praha.stdout]).toEqual([0, "Saved filter \"praha\": město = \"Praha\"\n"])
    expect(praha.stderr).toBe("See what it selects: megaphone filters test praha\n")
    const many = await remote(["filters", "create", "many", "--where", "orders >= 20 AND město = \"Brno\"", "--json"])
    expect(many.code).toBe(0)
    expect(JSON.parse(many.stdout)).toMatchObject({
      name: "many",
      where: "orders >= 20 and město = \"Brno\"",
      filter: { _tag: "And", filters: [{ _tag: "Gte", column: "orders", value: 20 }, { _tag: "Equals", column: "město", value: "Brno" }] }
    })

    const listed = await same(["filters", "list", "--json"])
    expect(JSON.parse(listed.stdout).filters.map((f: { name: string }) => f.name)).toEqual(["many", "praha"])
    const table = await same(["filters", "list"])
    expect(table.stdout).toMatch(/^NAME\s+WHERE\s+CREATED\nmany\s+orders >= 20 and město = "Brno"\s+\d{4}-/)
    expect(JSON.parse((await same(["filters", "show", "praha", "--json"])).stdout)).toMatchObject({ name: "praha", where: "město = \"Praha\"" })
    expect((await same(["filters", "show", "praha"])).stdout).toMatch(/^FIELD\s+VALUE\nname\s+praha\nwhere\s+město = "Praha"\ncreated\s+/)

    // test: the count (0–29, every third in Praha: 10) and the first 10 contacts.
    const tested = JSON.parse((await same(["filters", "test", "praha", "--json"])).stdout)
    expect(tested.where).toBe("město = \"Praha\"")
    expect(tested.matched).toBe(10)
    expect(tested.sample.map((c: { columns: { orders: string } }) => c.columns.orders)).toEqual(["0", "3", "6", "9", "12", "15", "18", "21", "24", "27"])
    const text = await same(["filters", "test", "many"])
    expect(text.stdout).toMatch(/^Filter "many" \(orders >= 20 and město = "Brno"\) matches 7 contact\(s\)\.\n\nID\s+PHONE\s+MĚSTO\s+NAME\s+ORDERS\n/)
    const probe = await same(["filters", "test", "--where", "name contains \"NÍK 1\"", "--sample", "2"])
    expect(probe.stdout).toContain("name contains \"NÍK 1\" matches 11 contact(s).")
    expect(probe.stdout).toContain("(the first 2 of 11)")
    expect(JSON.parse((await same(["filters", "test", "--where", "orders > 100", "--json"])).stdout)).toEqual({ where: "orders > 100", matched: 0, sample: [] })

    const deleted = await remote(["filters", "delete", "many"])
    expect([deleted.code, deleted.stdout]).toEqual([0, "Deleted filter \"many\". Campaigns that added contacts through it keep them.\n"])
    expect(JSON.parse((await direct(["filters", "delete", "praha", "--json"])).stdout)).toEqual({ deleted: "praha" })
    expect((await same(["filters", "list"])).stdout).toBe("No filters yet. Create one: megaphone filters create NAME --where EXPR\n")
  }, 180_000)

  it("refuses bad input with what, where and how to fix it, the same both ways", async () => {
    expect((await direct(["filters", "create", "taken", "--where", "orders > 1"])).code).toBe(0)
    const taken = await same(["filters", "create", "taken", "--where", "orders > 2"])
    expect([taken.code, taken.stderr]).toEqual([1,
      "error: A filter named \"taken\" already exists. Choose another name, or delete it first with `megaphone filters delete taken`.\n"])

    const parse = await same(["filters", "create", "broken", "--where", "město = \"Praha\" and\n  orders >"])
    expect(parse.code).toBe(1)
    expect(parse.stderr).toMatch(/^error: --where: expected a value after ">" at line 2, column 11/)
    const typo = await same(["filters", "create", "typo", "--where", "mesto = \"Praha\""])
    expect([typo.code, typo.stderr]).toEqual([1,
      "error: The filter reads an unknown column \"mesto\" (did you mean \"město\"?); the directory has: \"phone\", \"město\", \"name\", " +
      "\"orders\". See the columns with `megaphone contacts columns`.\n"])
    const typoTest = await same(["filters", "test", "--where", "Orders > 3"])
    expect(typoTest.stderr).toContain("unknown column \"Orders\" (did you mean \"orders\"?)")

    for (const args of [["filters", "show", "nope"], ["filters", "test", "nope"], ["filters", "delete", "nope"]]) {
      const missing = await same(args)
      expect([args, missing.code, missing.stderr]).toEqual([args, 1,
        "error: No filter named \"nope\". See `megaphone filters list`, or use --where EXPR.\n"])
    }

    // Usage mistakes: exit 2, before anything is read.
    for (const args of [["filters", "create", " ", "--where", "orders > 1"], ["filters", "create", "x"], ["filters", "test"],
      ["filters", "test", "taken", "--where", "orders > 1"], ["filters", "test", "taken", "--sample", "500"], ["filters", "show"]]) {
      expect([args, (await same(args)).code]).toEqual([args, 2])
    }
  }, 180_000)
})
