// The seed's example end to end (SPEC §4 B): the real daemon, the simulator as Meta and real PostgreSQL. The
// template "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena." synced from the simulator; a CSV of
// phone, salutation, name and order number, some salutations empty and a default for them, added through the
// real CLI — once before the start and once while the campaign runs, through the admin API. Every payload the
// simulator accepted carries each recipient's own values, the default where the salutation was empty, and never
// a blank. A CSV with two variable columns for the three variables is refused before any row is added, by the
// CLI and by the admin API alike.
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { expect, it } from "vitest"
import { megaphone } from "../cli/binary.ts"
import { ADMIN_TOKEN, allFinal, cli, e2eFile, eventually, recipient, setUpShop, shown, startDaemon } from "./support.ts"

const { cwd, scenario } = await e2eFile()

const ORDER_DONE = "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena."
const SALUTATION = "vážený zákazníku"

/** One row of the seed's CSV: phone, salutation (pane/paní, or empty), name, order number. */
interface Row {
  readonly n: number
  readonly salutation: string
  readonly name: string
  readonly order: string
}

/** Rows numbered `from` … `to - 1`: every third salutation empty, names with Czech letters. */
const rows = (from: number, to: number): ReadonlyArray<Row> =>
  Array.from({ length: to - from }, (_, i) => {
    const n = from + i
    return { n, salutation: n % 3 === 0 ? "" : n % 2 === 0 ? "paní" : "pane", name: `Dvořák-Šťastný ${n}`, order: `2024-${String(n).padStart(4, "0")}` }
  })

const line = (r: Row) => `+${recipient(r.n)},${r.salutation},${r.name},${r.order}`

/** The body texts of a payload the simulator accepted. */
const bodyTexts = (components: ReadonlyArray<unknown>): ReadonlyArray<string> => {
  const body = components.find((c): c is { type: "body"; parameters: ReadonlyArray<{ type: string; text?: string }> } =>
    typeof c === "object" && c !== null && "type" in c && c.type === "body")
  return body?.parameters.map((p) => p.text ?? "") ?? []
}

it("the seed's order confirmation: a CSV with empty salutations and a default sends the right values, never a blank", async () => {
  const { webhookPort, simulator, env } = await scenario({ tier: "TIER_1K", faults: {} })
  const run = cli(cwd, env)
  await setUpShop(cwd, env, simulator.sim.url)
  const id = (await run(["campaigns", "create", "--name", "Vyřízené objednávky", "--account", "shop", "--template", "order_done"])).stdout.trim()
  const daemon = await startDaemon(cwd, env, webhookPort)
  const api = `http://127.0.0.1:${daemon.adminPort}`
  const throughApi = { ...env, MEGAPHONE_ADMIN_URL: api, MEGAPHONE_ADMIN_TOKEN: ADMIN_TOKEN }

  // The blank CSV of the synced template: phone first, then the three variables, the text and an example as a guide.
  const blank = join(cwd, "objednavky.csv")
  await run(["campaigns", "template-csv", id, "-o", blank])
  const guide = await readFile(blank, "utf8")
  expect(guide.split("\r\n")[0]).toBe("phone,1,2,3")
  expect(guide).toContain(`"# Body: ${ORDER_DONE}"`)
  expect(guide).toContain("# Example: +420 601 123 456,Jana,Nováková,42")

  // Two variable columns for a three-variable template: refused before any row is added — directly, through the
  // CLI on the admin API, and by the API itself — each naming the missing column.
  const mismatch = join(cwd, "mismatch.csv")
  const short = ["telefon,oslovení,jméno", ...rows(0, 5).map((r) => `+${recipient(r.n)},${r.salutation},${r.name}`), ""].join("\r\n")
  await writeFile(mismatch, short)
  const missing = "The CSV has 3 columns; template order_done (cs) needs 4 (phone,1,2,3). Missing: 3."
  for (const environment of [env, throughApi]) {
    const refused = await megaphone(cwd, ["campaigns", "add-contacts", id, "--csv", mismatch, "--default", `1=${SALUTATION}`], environment)
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining(missing)])
    expect(refused.stderr).toContain(mismatch)
  }
  const posted = await fetch(`${api}/api/campaigns/${id}/contacts/csv`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "text/csv" },
    body: short
  })
  expect(posted.status).toBe(400)
  expect(await posted.text()).toContain(missing)
  const untouched = await shown(daemon, id)
  expect([untouched.state, Object.values(untouched.counts ?? { none: 1 }).every((n) => n === 0)]).toEqual(["draft", true])

  // The filled CSV (the guide rows left in): 30 contacts, an invalid phone, and a row with no name (no default).
  const first = rows(0, 30)
  await writeFile(blank, guide + [...first.map(line), "12345,pane,Nikdo,2024-9999", `+${recipient(99)},paní,,2024-0099`, ""].join("\r\n"))
  const added = JSON.parse((await run(["campaigns", "add-contacts", id, "--csv", blank, "--default", `1=${SALUTATION}`, "--json"])).stdout)
  expect(added).toMatchObject({ campaign: id, state: "draft", added: 31, invalid: 1, suppressed: 0, already_in_campaign: [] })
  expect(added.rejected).toEqual([{ line: 36, phone: `+${recipient(99)}`, reason: expect.stringContaining("Variable 2 (Body {{2}}) is empty") }])
  await run(["campaigns", "start", id])

  // While it runs, more contacts through the admin API: no header row this time, one already in the campaign.
  const second = rows(30, 45)
  const more = join(cwd, "dalsi.csv")
  await writeFile(more, [...second.map(line), ...rows(0, 1).map(line), ""].join("\n"))
  const report = JSON.parse((await cli(cwd, throughApi)(["campaigns", "add-contacts", id, "--csv", more, "--default", `1=${SALUTATION}`, "--json"])).stdout)
  expect(report).toMatchObject({ added: 15, invalid: 0, already_in_campaign: [recipient(0)], rejected: [] })
  expect(["running", "finished"]).toContain(report.state)

  await eventually(() => shown(daemon, id), (c) => c.state === "finished" && allFinal(c.counts), 60_000, "campaign finished")

  // What Meta received: one message per valid contact, the right value in each variable, the default where the
  // salutation was empty, and never a blank parameter.
  const stats = await fetch(`${simulator.sim.url}/_simulator/stats`).then((r) => r.json()) as {
    rejectionsByCode: Record<string, number>
    messages: ReadonlyArray<{ waId: string; template: { name: string; language: string }; components: ReadonlyArray<unknown> }>
  }
  expect(stats.rejectionsByCode).toEqual({})
  const sent = new Map(stats.messages.map((m) => [m.waId, m]))
  expect(stats.messages).toHaveLength(45)
  const wrong: Array<string> = []
  for (const r of [...first, ...second]) {
    const message = sent.get(recipient(r.n))
    const expected = [r.salutation === "" ? SALUTATION : r.salutation, r.name, r.order]
    const texts = message === undefined ? [] : bodyTexts(message.components)
    if (message?.template.name !== "order_done" || JSON.stringify(texts) !== JSON.stringify(expected)) {
      wrong.push(`${recipient(r.n)}: ${JSON.stringify(texts)}, expected ${JSON.stringify(expected)}`)
    }
  }
  expect(wrong).toEqual([])
  const blanks = stats.messages.flatMap((m) => bodyTexts(m.components).filter((t) => t.trim() === "").map(() => m.waId))
  expect(blanks).toEqual([])
  expect(stats.messages.filter((m) => bodyTexts(m.components)[0] === SALUTATION)).toHaveLength(15)

  // The export through the admin API, page by page: a row per contact with its values and its state.
  const exported = (await cli(cwd, throughApi)(["campaigns", "contacts", id, "--csv"])).stdout.split("\r\n").filter((l) => l !== "")
  expect(exported[0]).toMatch(/^id,phone,recipient,var\.1,var\.2,var\.3,state,state_label,/)
  expect(exported).toHaveLength(1 + 46)
  expect(exported.filter((l) => l.includes(",invalid_record,Invalid record,"))).toHaveLength(1)
  const salutationOf = new Map(exported.slice(1).map((l) => [l.split(",")[2], l.split(",")[3]]))
  expect(salutationOf.get(recipient(3))).toBe(SALUTATION)
  expect(salutationOf.get(recipient(4))).toBe("paní")

  // A campaign of several pages exports the same bytes either way: from the database, and through the admin API a
  // page per request (as --json too).
  const big = (await run(["campaigns", "create", "--name", "Velká", "--account", "shop", "--template", "order_done"])).stdout.trim()
  const many = join(cwd, "many.csv")
  await writeFile(many, ["phone,1,2,3", ...rows(1000, 3500).map(line), ""].join("\r\n"))
  expect(JSON.parse((await run(["campaigns", "add-contacts", big, "--csv", many, "--default", `1=${SALUTATION}`, "--json"])).stdout))
    .toMatchObject({ added: 2500 })
  const exports: Record<string, string> = {}
  for (const [name, format] of [["csv", ["--csv"]], ["excel", ["--excel", "--lang", "cs"]], ["json", ["--json"]]] as const) {
    const [direct, remote] = [join(cwd, `big-direct.${name}`), join(cwd, `big-remote.${name}`)]
    await run(["campaigns", "contacts", big, ...format, "-o", direct])
    await cli(cwd, throughApi)(["campaigns", "contacts", big, ...format, "-o", remote])
    exports[name] = await readFile(direct, "utf8")
    expect([name, (await readFile(remote, "utf8")) === exports[name]]).toEqual([name, true])
  }
  expect(exports["csv"]?.split("\r\n")).toHaveLength(1 + 2500 + 1)
  const all = JSON.parse(exports["json"] ?? "{}").contacts as ReadonlyArray<{ recipient: string }>
  expect(new Set(all.map((c) => c.recipient)).size).toBe(2500)

  daemon.child.kill("SIGTERM")
  expect((await daemon.exited).code).toBe(0)
}, 180_000)
