// The CLI through a running daemon's admin API (MEGAPHONE_ADMIN_URL / --admin-url), compared with the same
// commands directly on the database: the real binary against the real daemon on a fresh PostgreSQL. The remote
// runs get no database URL and an empty scratch data directory, which must still not exist afterwards: they
// cannot have read the database themselves. The account's token is not in the daemon's environment, so the
// daemon never dispatches and the data stays still between the two runs of a command.
import { existsSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Template } from "@megaphone/core"
import { Effect, Result } from "effect"
import { describe, expect, it } from "vitest"
import { ADMIN_TOKEN } from "../e2e/support.ts"
import type { RunResult } from "./binary.ts"
import { bothWays } from "./bothWays.ts"
import { failedCampaign } from "./failedCampaign.ts"

const T0 = new Date("2026-11-26T10:00:00.000Z")
const CONTACTS = 1_050 // more than one page of the API (1,000), so paging is exercised

const template = (fields: Record<string, unknown>): Template.Template =>
  Result.getOrThrow(Template.decode({ category: "UTILITY", status: "APPROVED", components: [], ...fields }))

// The quota's next_free_at is computed from the clock at each request, so it moves between two runs.
const stable = (result: RunResult): RunResult => ({
  ...result,
  stdout: result.stdout.replace(/"next_free_at": "[^"]*"/g, "\"next_free_at\": \"(now-based)\"")
})

const { url, remoteCwd, dataDir, direct, remote, remoteEnv, same } = await bothWays((s) =>
  Effect.gen(function*() {
    yield* s.saveAccount({
      name: "shop", phoneNumberId: "106540352242922", wabaId: "111", portfolioId: null, tokenEnv: "SIM_TOKEN",
      graphUrl: "http://127.0.0.1:1", graphVersion: "v23.0", displayPhoneNumber: null, messagingLimit: 250, messagingTier: null,
      qualityRating: null, throughputMps: 80, throughputLevel: null, nameStatus: null, status: null, createdAt: T0, updatedAt: T0
    })
    yield* s.syncTemplates("111", [
      template({ id: "1", name: "order_done", language: "cs", components: [{ type: "BODY", text: "Dobrý den, {{1}} {{2}}, objednávka č. {{3}}." }] }),
      template({ id: "2", name: "welcome", language: "cs", components: [{ type: "BODY", text: "Vítejte, {{1}}" }] }),
      template({ id: "3", name: "welcome", language: "en", components: [{ type: "BODY", text: "Welcome, {{1}}" }] }),
      template({ id: "4", name: "spring_sale", language: "cs", status: "PAUSED", components: [{ type: "BODY", text: "Sleva {{1}}" }] })
    ], T0)
  }), stable)

const adminUrl = (): string => remoteEnv()["MEGAPHONE_ADMIN_URL"] ?? ""

const csv = (rows: number): string =>
  ["phone;1;2;3", ...Array.from({ length: rows }, (_, i) => i % 100 === 7 ? `x${i};pane;Bad ${i};${i}` : `+420601${300_000 + i};pane;Novák ${i};${1000 + i}`), "+420601300000;pane;Twice;1", ""]
    .join("\n")

describe("megaphone through the admin API (MEGAPHONE_ADMIN_URL)", () => {
  let id = ""

  it("creates a campaign and uploads its contacts; every read prints what it prints directly", async () => {
    const created = await remote(["campaigns", "create", "--name", "Objednávky", "--account", "shop", "--template", "order_done", "--note", "remote"])
    expect(created.code).toBe(0)
    id = created.stdout.trim()
    expect(id).toMatch(/^\d+$/)
    expect(created.stderr).toContain(`megaphone campaigns add-contacts ${id} --csv contacts.csv`)

    const file = join(remoteCwd, "contacts.csv")
    await writeFile(file, csv(CONTACTS))
    const added = await remote(["campaigns", "add-contacts", id, "--csv", file, "--default", "2=zákazník", "--json"])
    expect(added.code).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({ campaign: id, state: "draft", added: CONTACTS, invalid: 11, already_in_campaign: ["420601300000"] })

    for (const json of [[], ["--json"]]) {
      await same(["campaigns", "list", ...json])
      await same(["campaigns", "show", id, ...json])
      await same(["campaigns", "template-csv", id, ...json])
      await same(["accounts", "list", ...json])
      await same(["accounts", "show", "shop", ...json])
      await same(["templates", "list", ...json])
      await same(["templates", "list", "--account", "shop", ...json])
      await same(["campaigns", "contacts", id, "--state", "invalid_record", ...json])
    }
    const all = await same(["campaigns", "contacts", id, "--json"])
    expect((JSON.parse(all.stdout) as { contacts: Array<unknown> }).contacts).toHaveLength(CONTACTS)
    await same(["campaigns", "contacts", id, "--csv"])
    await same(["campaigns", "contacts", id])
  }, 180_000)

  it("start, pause, resume and stop answer what the campaign then is", async () => {
    const showJson = async () => {
      const { quota: _quota, ...campaign } = JSON.parse((await direct(["campaigns", "show", id, "--json"])).stdout) as Record<string, unknown>
      return campaign
    }
    for (const operation of ["start", "pause", "resume"]) {
      const answered = await remote(["campaigns", operation, id, "--json"])
      expect([operation, answered.code]).toEqual([operation, 0])
      expect(JSON.parse(answered.stdout)).toEqual(await showJson())
    }
    const paused = await remote(["campaigns", "pause", id])
    expect([paused.code, paused.stdout]).toEqual([0, `Campaign ${id} "Objednávky": Paused (by an operator).\n`])
    // Refused in the current state: the same message as directly, exit 1.
    const refused = await same(["campaigns", "start", id])
    expect(refused.code).toBe(1)
    const stopped = await remote(["campaigns", "stop", id, "--json"])
    expect(JSON.parse(stopped.stdout)).toEqual({ ...await showJson(), cancelled: CONTACTS - 11 })
    await same(["campaigns", "show", id])
  }, 120_000)

  // Scheduled start (issue 11, item 1): far in the future, so the test daemon's scheduler leaves it alone.
  it("schedule and unschedule answer the campaign with scheduled_at, and refuse as they do directly", async () => {
    const created = await direct(["campaigns", "create", "--name", "Advent", "--account", "shop", "--template", "order_done"])
    const draft = created.stdout.trim()
    const scheduled = await remote(["campaigns", "schedule", draft, "--at", "2099-12-01T09:00+01:00", "--json"])
    expect(scheduled.code).toBe(0)
    expect(JSON.parse(scheduled.stdout)).toMatchObject({ id: draft, state: "draft", scheduled_at: "2099-12-01T08:00:00.000Z" })
    const { quota: _quota, ...shown } = JSON.parse((await direct(["campaigns", "show", draft, "--json"])).stdout) as Record<string, unknown>
    expect(JSON.parse(scheduled.stdout)).toEqual(shown)
    expect((await same(["campaigns", "schedule", draft, "--at", "2099-12-01T08:00Z"])).stdout).toMatch(/Scheduled for .*2099-12-01T08:00:00\.000Z/)
    expect((await same(["campaigns", "schedule", draft, "--at", "2001-01-01T09:00Z"])).stderr).toMatch(/has already passed/)
    expect((await same(["campaigns", "schedule", draft, "--at", "tomorrow"])).code).toBe(2)
    const unscheduled = await remote(["campaigns", "unschedule", draft, "--json"])
    expect(JSON.parse(unscheduled.stdout)).toMatchObject({ state: "draft", scheduled_at: null })
    await same(["campaigns", "show", draft])
  }, 120_000)

  // Per-campaign rate cap (issue 11, item 6).
  it("rate sets and clears a campaign's cap, answering the campaign with max_mps, and refuses as it does directly", async () => {
    const created = await remote(["campaigns", "create", "--name", "Trickle", "--account", "shop", "--template", "order_done", "--max-mps", "3", "--json"])
    expect(created.code).toBe(0)
    const draft = (JSON.parse(created.stdout) as { id: string; max_mps: number }).id
    expect(JSON.parse(created.stdout)).toMatchObject({ max_mps: 3 })
    const capped = await remote(["campaigns", "rate", draft, "--max-mps", "0.5", "--json"])
    expect(JSON.parse(capped.stdout)).toMatchObject({ id: draft, max_mps: 0.5 })
    expect((await same(["campaigns", "rate", draft, "--max-mps", "2"])).stdout).toMatch(/sends at most 2 message\(s\) per second/)
    await same(["campaigns", "show", draft])
    expect((await same(["campaigns", "rate", draft, "--max-mps", "0"])).code).toBe(2)
    expect((await same(["campaigns", "rate", draft])).code).toBe(2)
    expect((await same(["campaigns", "rate", "999999", "--clear"])).code).toBe(1)
    const cleared = await remote(["campaigns", "rate", draft, "--clear", "--json"])
    expect(JSON.parse(cleared.stdout)).toMatchObject({ max_mps: null })
  }, 120_000)

  // Send windows (issue 11, item 2): a window that is all but always closed, so the contacts wait in both runs.
  it("window sets and clears a campaign's send window; contacts say why they wait, as they do directly", async () => {
    const draft = (await direct(["campaigns", "create", "--name", "Quiet", "--account", "shop", "--template", "order_done"])).stdout.trim()
    const file = join(remoteCwd, "quiet.csv")
    await writeFile(file, "phone;1;2;3\n+420601400001;pane;Novák;1\n+12025550123;Mr;Smith;2\n")
    expect((await direct(["campaigns", "add-contacts", draft, "--csv", file])).code).toBe(0)
    const set = await remote(["campaigns", "window", draft, "--days", "Sun", "--hours", "03:00-03:01", "--json"])
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({ id: draft, send_window: "Sun 03:00-03:01" })
    expect((await same(["campaigns", "window", draft, "--window", "Sun 03:00-03:01; Sat 03:00-03:01"])).stdout)
      .toMatch(/sends only Sun 03:00-03:01; Sat 03:00-03:01 on each recipient's clock/)
    await same(["campaigns", "show", draft])
    await same(["campaigns", "show", draft, "--json"])
    const listed = await same(["campaigns", "contacts", draft, "--json"])
    const contacts = (JSON.parse(listed.stdout) as { contacts: Array<{ recipient: string; waiting: { reason: string } | null }> }).contacts
    expect(contacts.map((c) => c.waiting?.reason)).toEqual([
      "outside the send window Sun 03:00-03:01; Sat 03:00-03:01 (Europe/Prague)",
      expect.stringMatching(/^the send window .* is never open in all of .* at once: give the contact a time_zone$/)
    ])
    expect((await same(["campaigns", "contacts", draft])).stdout).toMatch(/2 contact\(s\), 2 waiting for the send window\./)
    expect((await same(["campaigns", "window", draft, "--days", "Mon-Fri", "--hours", "20:00-09:00"])).code).toBe(2)
    expect((await same(["campaigns", "window", draft, "--days", "Mon-Fri"])).code).toBe(2)
    expect((await same(["campaigns", "window", draft])).code).toBe(2)
    expect((await same(["campaigns", "window", "999999", "--clear"])).code).toBe(1)
    const cleared = await remote(["campaigns", "window", draft, "--clear", "--json"])
    expect(JSON.parse(cleared.stdout)).toMatchObject({ send_window: null })
  }, 120_000)

  it("refusals read as they do directly", async () => {
    const blank = join(remoteCwd, "wrong.csv")
    await writeFile(blank, "phone,1\n+420601123456,x\n")
    const empty = join(remoteCwd, "empty.csv")
    await writeFile(empty, "")
    const draft = (await direct(["campaigns", "create", "--name", "Koncept", "--account", "shop", "--template", "order_done"])).stdout.trim()
    const refusals = [
      ["campaigns", "show", "999999"],
      ["campaigns", "contacts", "999999", "--json"],
      ["campaigns", "pause", draft],
      ["accounts", "show", "nobody"],
      ["templates", "list", "--account", "nobody"],
      ["campaigns", "create", "--name", "X", "--account", "nobody", "--template", "order_done"],
      ["campaigns", "create", "--name", "X", "--account", "shop", "--template", "nope"],
      ["campaigns", "create", "--name", "X", "--account", "shop", "--template", "welcome"],
      ["campaigns", "create", "--name", "X", "--account", "shop", "--template", "welcome", "--language", "de"],
      ["campaigns", "create", "--name", "X", "--account", "shop", "--template", "spring_sale"],
      ["campaigns", "create", "--name", " ", "--account", "shop", "--template", "order_done"],
      ["campaigns", "add-contacts", draft, "--csv", blank],
      ["campaigns", "add-contacts", draft, "--csv", empty],
      ["campaigns", "add-contacts", draft, "--filter", "nope", "--phone-column", "phone"],
      ["campaigns", "add-contacts", draft, "--where", "city = ", "--phone-column", "phone"],
      ["campaigns", "add-contacts", id, "--csv", blank]
    ]
    for (const args of refusals) {
      const result = await same(args)
      const blankName = args.includes(" ") // a usage mistake, caught before any data is read
      expect([args, result.code]).toEqual([args, blankName ? 2 : 1])
      expect(result.stderr).not.toBe("")
    }
  }, 180_000)

  it("a wrong token, a missing token or no daemon: exit 1 with what to check, the token never printed", async () => {
    const wrong = await remote(["campaigns", "list"], { ...remoteEnv(), MEGAPHONE_ADMIN_TOKEN: "not-the-token-42" })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain(`The admin API at ${adminUrl()} refused the token (401)`)
    expect(wrong.stderr).toContain("MEGAPHONE_ADMIN_TOKEN")
    expect(wrong.stdout + wrong.stderr).not.toContain("not-the-token-42")

    const { MEGAPHONE_ADMIN_TOKEN: _token, ...withoutToken } = remoteEnv()
    const missing = await remote(["accounts", "list"], withoutToken)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("MEGAPHONE_ADMIN_TOKEN is not set")

    const gone = await remote(["campaigns", "list"], { ...remoteEnv(), MEGAPHONE_ADMIN_URL: "http://127.0.0.1:1" })
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain("Cannot reach the admin API at http://127.0.0.1:1")

    const flag = await remote(["campaigns", "list", "--json", "--admin-url", adminUrl()], { MEGAPHONE_ADMIN_TOKEN: ADMIN_TOKEN, MEGAPHONE_DATA_DIR: dataDir })
    expect(flag.code).toBe(0)
    expect(flag.stdout).toBe((await direct(["campaigns", "list", "--json"])).stdout)

    const both = await remote(["campaigns", "list", "--admin-url", adminUrl(), "--database-url", url()])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain("Give --admin-url or --database-url, not both.")

    // A URL that is not http(s): given as a flag, a usage mistake (2); from the environment, a configuration problem (1).
    const badFlag = await remote(["campaigns", "list", "--admin-url", "ftp://127.0.0.1"], { MEGAPHONE_ADMIN_TOKEN: ADMIN_TOKEN })
    expect(badFlag.code).toBe(2)
    expect(badFlag.stderr).toContain("--admin-url must be the daemon's admin API as an http(s) URL")
    const badEnv = await remote(["campaigns", "list"], { ...remoteEnv(), MEGAPHONE_ADMIN_URL: "127.0.0.1:8787" })
    expect(badEnv.code).toBe(1)
    expect(badEnv.stderr).toContain("MEGAPHONE_ADMIN_URL must be the daemon's admin API as an http(s) URL")
  }, 120_000)

  // Retry failed (issue 11, item 3): the same selection, refusals and words as directly; the daemon never sends here.
  it("retry puts back the selected failed contacts and refuses as it does directly", async () => {
    const failed = await failedCampaign(url(), direct, remoteCwd)
    const showJson = async () => {
      const { quota: _quota, ...campaign } = JSON.parse((await direct(["campaigns", "show", failed, "--json"])).stdout) as Record<string, unknown>
      return campaign
    }
    // Refusals that change nothing: the same exit code and words both ways.
    expect((await same(["campaigns", "retry", failed, "--state", "read"])).code).toBe(2)
    const asked = await same(["campaigns", "retry", failed, "--state", "error,sending_failed"])
    expect([asked.code, asked.stderr]).toEqual([1, expect.stringContaining(`Campaign ${failed} has 4 contact(s) in error or sending_failed;`)])
    const unknown = await same(["campaigns", "retry", failed, "--state", "sending_failed", "--code", "999", "--yes"])
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining("--code: No failed contact of campaign")])

    const byCode = await remote(["campaigns", "retry", failed, "--state", "sending_failed", "--code", "131026", "--yes", "--json"])
    expect([byCode.code, byCode.stderr]).toEqual([0, ""])
    expect(JSON.parse(byCode.stdout)).toEqual({ ...await showJson(), retried: 2, suppressed: 0, states: ["sending_failed"], codes: ["131026"] })
    expect((await showJson())["counts"]).toMatchObject({ initial: 2, sending_failed: 1, error: 1, sent: 1 })
    const rest = await remote(["campaigns", "retry", failed, "--state", "sending_failed", "--yes"])
    expect(rest.stdout).toBe(`Put 1 contact(s) of campaign ${failed} back to initial with a new attempt budget. Campaign ${failed} is running.\n`)
    // Nothing left in sending_failed: both ways put back none, in the same words.
    expect((await same(["campaigns", "retry", failed, "--state", "sending_failed", "--yes"])).stdout).toContain("Put 0 contact(s)")
    expect((await same(["campaigns", "retry", failed, "--state", "sending_failed", "--yes", "--json"])).code).toBe(0)

    expect((await remote(["campaigns", "stop", failed])).code).toBe(0)
    const stopped = await same(["campaigns", "retry", failed, "--state", "error", "--yes"])
    expect([stopped.code, stopped.stderr]).toEqual([1, expect.stringContaining("Cannot retry a stopped campaign")])
  }, 120_000)

  it("clone makes the follow-up draft through the API as it does directly, and refuses in the same words", async () => {
    // The first campaign (stopped by now): its cancelled contacts are copied, its invalid records have no recipient.
    const before = JSON.parse((await direct(["campaigns", "show", id, "--json"])).stdout) as { counts: Record<string, number> }
    expect(before.counts).toMatchObject({ cancelled: expect.any(Number), invalid_record: 11 })
    const cloned = await remote(["campaigns", "clone", id, "--name", "Follow-up", "--contacts-from", id, "--state", "cancelled,invalid_record", "--json"])
    expect([cloned.code, cloned.stderr]).toEqual([0, ""])
    const report = JSON.parse(cloned.stdout) as { id: string; contacts: unknown }
    const { quota: _quota, ...shown } = JSON.parse((await direct(["campaigns", "show", report.id, "--json"])).stdout) as Record<string, unknown>
    const added = before.counts["cancelled"]
    expect(report).toEqual({
      ...shown,
      cloned_from: id,
      contacts: {
        from: id,
        states: ["cancelled", "invalid_record"],
        skipped_invalid: 11,
        added: { campaign: report.id, state: "draft", added, invalid: 0, suppressed: 0, already_in_campaign: [], rejected: [] }
      }
    })
    expect(shown).toMatchObject({ name: "Follow-up", state: "draft", template: "order_done", note: "remote", counts: { initial: added } })
    const text = await remote(["campaigns", "clone", id, "--name", "Znovu"])
    expect(text.code).toBe(0)
    expect(text.stderr).toContain(`Created campaign ${text.stdout.trim()} "Znovu" (draft) from campaign ${id}: order_done (cs) from shop.`)
    // Refusals that change nothing: the same exit code and words both ways.
    expect((await same(["campaigns", "clone", id, "--name", "X", "--contacts-from", id, "--state", "unread"])).code).toBe(2)
    const missing = await same(["campaigns", "clone", "999", "--name", "X"])
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining('No campaign with id "999". See the ids with `megaphone campaigns list`.')])
    const from = await same(["campaigns", "clone", id, "--name", "X", "--contacts-from", "998", "--state", "sent"])
    expect([from.code, from.stderr]).toEqual([1, expect.stringContaining('No campaign with id "998"')])
    const welcome = (await direct(["campaigns", "create", "--name", "Vítejte", "--account", "shop", "--template", "welcome", "--language", "cs"])).stdout.trim()
    const other = await same(["campaigns", "clone", id, "--name", "X", "--contacts-from", welcome, "--state", "sent"])
    expect([other.code, other.stderr]).toEqual([1, expect.stringContaining(`--contacts-from: Campaign ${welcome} sends welcome (cs), not order_done (cs)`)])
  }, 120_000)

  it("commands the API does not offer refuse instead of opening a database", async () => {
    for (const args of [["migrate"], ["daemon"], ["templates", "sync"], ["accounts", "refresh", "shop"],
      ["accounts", "add", "x", "--phone-number-id", "1", "--waba-id", "2"]]) {
      const refused = await remote(args)
      expect([args, refused.code]).toEqual([args, 1])
      expect(refused.stderr).toContain(`\`megaphone ${args.slice(0, args[0] === "migrate" || args[0] === "daemon" ? 1 : 2).join(" ")}\` works only directly on the database`)
    }
  }, 120_000)

  it("the remote runs never opened a database of their own", () => {
    expect(existsSync(dataDir)).toBe(false)
    expect(existsSync(join(remoteCwd, "megaphone-data"))).toBe(false)
  })
})
