// `megaphone accounts …` as a user runs it: the real binary, a real PostgreSQL, the simulator as Meta,
// SPEC §7 exit codes, and a token that is never printed.
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { freshDatabase } from "../../../adapters/test/support/postgres.ts"
import {
  config, PHONE_ID, PHONE_ID_2, startSimulator, TOKEN, WABA_ID
} from "../../../adapters/test/transport/simulator/support.ts"
import { megaphone, withSimulator } from "./binary.ts"

const { cwd, simulator: running } = await withSimulator()

const database = async () => Redacted.value(await freshDatabase("embedded"))
const run = (url: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  megaphone(cwd, [...args, "--database-url", url], env)

describe("megaphone accounts --provider 360dialog", () => {
  it("adds with 360dialog's URL; refresh explains instead of calling; webhook registers the URL with the secret header", async () => {
    const url = await database()
    const added = await run(url, ["accounts", "add", "bsp", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--provider", "360dialog",
      "--token-env", "BSP_KEY", "--json"])
    expect(added.code).toBe(0)
    expect(JSON.parse(added.stdout).account).toMatchObject({ provider: "360dialog", graph_url: "https://waba-v2.360dialog.io", token_env: "BSP_KEY" })
    expect((await run(url, ["accounts", "add", "x", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--provider", "acme"])).code).toBe(2)

    const base = config()
    const bsp = await startSimulator({ ...base, provider: "360dialog", accounts: base.accounts.slice(0, 1) })
    try {
      await run(url, ["accounts", "add", "bsp", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--provider", "360dialog",
        "--token-env", "BSP_KEY", "--graph-url", bsp.sim.url, "--replace"])
      const refreshed = await run(url, ["accounts", "refresh", "bsp", "--json"], { BSP_KEY: TOKEN })
      expect(refreshed.code).toBe(0)
      expect(JSON.parse(refreshed.stdout).warnings.join(" ")).toContain("360dialog's API does not report")
      const secret = "cli-webhook-secret-4411"
      const hook = ["accounts", "webhook", "bsp", "--url", "http://127.0.0.1:9/webhooks/whatsapp"]
      const unset = await run(url, hook, { BSP_KEY: TOKEN })
      expect([unset.code, unset.stderr]).toEqual([1, expect.stringContaining("MEGAPHONE_WEBHOOK_SECRET is not set")])
      const wrongKey = await run(url, hook, { BSP_KEY: "not-the-key", MEGAPHONE_WEBHOOK_SECRET: secret })
      expect(wrongKey.code).toBe(1)
      expect(wrongKey.stderr + wrongKey.stdout).not.toContain("not-the-key")
      const registered = await run(url, [...hook, "--json"], { BSP_KEY: TOKEN, MEGAPHONE_WEBHOOK_SECRET: secret })
      expect([registered.code, registered.stderr]).toEqual([0, ""])
      expect(JSON.parse(registered.stdout)).toEqual({ account: "bsp", url: "http://127.0.0.1:9/webhooks/whatsapp", secret_header: "X-Megaphone-Webhook-Secret" })
      expect(registered.stdout).not.toContain(secret)
      // A Meta-direct account has no such API: refused with where to set the URL instead.
      await run(url, ["accounts", "add", "direct", "--phone-number-id", PHONE_ID_2, "--waba-id", WABA_ID])
      const direct = await run(url, ["accounts", "webhook", "direct", "--url", "http://127.0.0.1:9/x"], { MEGAPHONE_WEBHOOK_SECRET: secret })
      expect([direct.code, direct.stderr]).toEqual([1, expect.stringContaining("App Dashboard")])
    } finally {
      await bsp.stop()
    }
  })
})

describe("megaphone accounts", () => {
  it("add, list and show, in text and JSON", async () => {
    const url = await database()
    const added = await run(url, ["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--json"])
    expect(added.code).toBe(0)
    const { account } = JSON.parse(added.stdout)
    expect(account).toEqual({
      name: "shop",
      phone_number_id: PHONE_ID,
      waba_id: WABA_ID,
      portfolio_id: null,
      token_env: "MEGAPHONE_ACCESS_TOKEN",
      graph_url: "https://graph.facebook.com",
      graph_version: "v23.0",
      provider: "meta",
      display_phone_number: null,
      messaging_limit: 250,
      messaging_tier: null,
      quality_rating: null,
      throughput_mps: 80,
      max_mps: null,
      throughput_level: null,
      name_status: null,
      status: null,
      created_at: expect.any(String),
      updated_at: expect.any(String)
    })
    const second = await run(url, [
      "accounts", "add", "outlet", "--phone-number-id", PHONE_ID_2, "--waba-id", WABA_ID, "--portfolio", "77",
      "--token-env", "OUTLET_TOKEN", "--graph-url", "http://127.0.0.1:8789/", "--graph-version", "v24.0"
    ])
    expect(second.code).toBe(0)
    expect(second.stdout).toContain("Saved account outlet")
    expect(second.stderr).toContain("note: OUTLET_TOKEN is not set")

    const listed = await run(url, ["accounts", "list", "--json"])
    expect(listed.code).toBe(0)
    const { accounts } = JSON.parse(listed.stdout)
    expect(accounts.map((a: { name: string }) => a.name)).toEqual(["outlet", "shop"])
    expect(accounts[0]).toMatchObject({ portfolio_id: "77", token_env: "OUTLET_TOKEN", graph_url: "http://127.0.0.1:8789", graph_version: "v24.0" })

    const table = await run(url, ["accounts", "list"])
    const lines = table.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^NAME\s+PHONE NUMBER ID\s+WABA\s+NUMBER\s+TIER\s+LIMIT\s+QUALITY\s+MPS\s+STATUS$/)
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual(["outlet", "shop"])
    // Aligned: the WABA column starts at the same place on every line.
    const column = lines[0]?.indexOf("WABA") ?? -1
    for (const line of lines.slice(1)) expect(line.slice(column).startsWith(WABA_ID)).toBe(true)

    const shown = await run(url, ["accounts", "show", "shop", "--json"])
    expect(shown.code).toBe(0)
    expect(JSON.parse(shown.stdout)).toEqual({
      account,
      quota: { quota_key: `phone:${PHONE_ID}`, used: 0, limit: 250, remaining: 250, next_free_at: expect.any(String) }
    })
    const text = await run(url, ["accounts", "show", "outlet"])
    expect(text.stdout).toMatch(/token from\s+OUTLET_TOKEN/)
    expect(text.stdout).toMatch(/used \(rolling 24 h\)\s+0 \(portfolio:77\)/)
  }, 60_000)

  it("adding an existing name fails with the fix; --replace changes the settings and keeps when it was added", async () => {
    const url = await database()
    const first = await run(url, ["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--json"])
    const again = await run(url, ["accounts", "add", "shop", "--phone-number-id", PHONE_ID_2, "--waba-id", WABA_ID])
    expect(again.code).toBe(1)
    expect(again.stderr).toBe(`error: Account "shop" already exists (phone-number id ${PHONE_ID}, WABA ${WABA_ID}). ` +
      "To change its settings run the same command with --replace; to add another number, choose another name.\n")
    const replaced = await run(url, ["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID,
      "--token-env", "SHOP_TOKEN", "--replace", "--json"])
    expect(replaced.code).toBe(0)
    const before = JSON.parse(first.stdout).account
    const after = JSON.parse(replaced.stdout).account
    expect([after.token_env, after.created_at]).toEqual(["SHOP_TOKEN", before.created_at])
  }, 60_000)

  it("invalid values fail (1) naming each flag and its fix, and never echo a pasted token", async () => {
    const url = await database()
    const result = await run(url, [
      "accounts", "add", " ", "--phone-number-id", "+420 601 000 001", "--waba-id", "waba", "--portfolio", "p-1",
      "--token-env", "EAAGm0PX4ZCpsBAHYZB.secret", "--graph-url", "graph.facebook.com", "--graph-version", "23.0"
    ])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: NAME must not be empty/)
    for (const flag of ["--phone-number-id", "--waba-id", "--portfolio", "--token-env", "--graph-url", "--graph-version"]) {
      expect(result.stderr).toContain(`${flag} must`.replace("--token-env must", "--token-env takes"))
    }
    expect(result.stderr).toContain("digits only (e.g. 106540352242922), not the phone number itself")
    expect(result.stderr).toContain("--graph-version must look like v23.0")
    expect(result.stderr).not.toContain("EAAGm0PX4ZCpsBAHYZB")
    expect(JSON.parse((await run(url, ["accounts", "list", "--json"])).stdout)).toEqual({ accounts: [] })
  }, 60_000)

  it("bad usage exits with 2; an unknown account with 1", async () => {
    const url = await database()
    const missing = await run(url, ["accounts", "add", "shop", "--phone-number-id", PHONE_ID])
    expect(missing.code).toBe(2)
    expect(missing.stdout + missing.stderr).toContain("Missing required flag: --waba-id")
    const tooFast = await run(url, ["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, "--max-mps", "1001"])
    expect(tooFast.code).toBe(2)
    expect(tooFast.stdout + tooFast.stderr).toContain("--max-mps must be a whole number from 1 to 1000")
    const unknown = await run(url, ["accounts", "list", "--no-such-flag"])
    expect(unknown.code).toBe(2)
    expect((await run(url, ["accounts", "show"])).code).toBe(2)
    const nobody = await run(url, ["accounts", "show", "nobody", "--json"])
    expect(nobody.code).toBe(1)
    expect(nobody.stdout).toBe("")
    expect(nobody.stderr).toContain('No account named "nobody". See `megaphone accounts list`')
  }, 60_000)

  it("refresh reads tier, quality, throughput and status from the simulator over HTTP and saves them", async () => {
    const url = await database()
    const graph = ["--graph-url", running().sim.url, "--token-env", "SIM_TOKEN"]
    await run(url, ["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID, ...graph])
    await run(url, ["accounts", "add", "fast", "--phone-number-id", PHONE_ID_2, "--waba-id", WABA_ID, "--max-mps", "200", ...graph])

    const refreshed = await run(url, ["accounts", "refresh", "shop", "--json"], { SIM_TOKEN: TOKEN })
    expect(refreshed.code).toBe(0)
    expect(JSON.parse(refreshed.stdout)).toMatchObject({
      account: {
        name: "shop", display_phone_number: "+420 601 000 001", messaging_tier: "TIER_2K", messaging_limit: 2000,
        quality_rating: "GREEN", throughput_level: "STANDARD", throughput_mps: 80, name_status: "APPROVED", status: "CONNECTED"
      },
      warnings: []
    })
    const fast = await run(url, ["accounts", "refresh", "fast"], { SIM_TOKEN: TOKEN })
    expect(fast.code).toBe(0)
    expect(fast.stdout).toContain("tier TIER_250 (250 / 24 h)")
    expect(fast.stdout).toContain("throughput HIGH (1000 mps)")
    const saved = JSON.parse((await run(url, ["accounts", "show", "fast", "--json"])).stdout)
    // Meta's rate as reported, and the operator's cap kept through the refresh: the daemon sends at 200.
    expect(saved.account).toMatchObject({ messaging_limit: 250, throughput_mps: 1000, max_mps: 200 })
    expect((await run(url, ["accounts", "show", "fast"])).stdout).toContain("1000 mps (HIGH), capped at 200 (--max-mps)")
    expect(refreshed.stdout + refreshed.stderr + fast.stdout + fast.stderr).not.toContain(TOKEN)
  }, 60_000)

  it("refresh without the token variable names it; a wrong token fails (1) without printing it", async () => {
    const url = await database()
    await run(url, ["accounts", "add", "shop", "--phone-number-id", PHONE_ID, "--waba-id", WABA_ID,
      "--graph-url", running().sim.url, "--token-env", "SIM_TOKEN"])
    const unset = await run(url, ["accounts", "refresh", "shop"])
    expect(unset.code).toBe(1)
    expect(unset.stderr).toContain("read from the environment variable SIM_TOKEN, which is not set. Set SIM_TOKEN")
    const wrong = await run(url, ["accounts", "refresh", "shop", "--json"], { SIM_TOKEN: "wrong-secret-token" })
    expect(wrong.code).toBe(1)
    expect(wrong.stdout).toBe("")
    expect(wrong.stderr).toMatch(/^error: Account "shop": .*Check the token in SIM_TOKEN/)
    expect(wrong.stderr).not.toContain("wrong-secret-token")
    const shown = JSON.parse((await run(url, ["accounts", "show", "shop", "--json"])).stdout)
    expect(shown.account.messaging_tier).toBeNull()
  }, 60_000)
})
