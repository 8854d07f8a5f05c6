// What BEGIN IMMEDIATE buys: several processes claiming from one SQLite file never take a contact twice. Three
// child processes race over the same due contacts; every contact is claimed exactly once, by the process that says so.
import { Campaign, Ports } from "@megaphone/core"
import { Effect, Result } from "effect"
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, expect, it } from "vitest"
import * as SqliteStorage from "./SqliteStorage.ts"

const root = fileURLToPath(new URL("../../", import.meta.url))
const directory = mkdtempSync(join(tmpdir(), "megaphone-sqlite-processes-"))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

const CONTACTS = 1_500
const T0 = new Date("2026-11-26T10:00:00.000Z")

const account: Ports.Storage.Account = {
  name: "a", phoneNumberId: "pn-a", wabaId: "waba-1", portfolioId: null, tokenEnv: "MEGAPHONE_ACCESS_TOKEN",
  graphUrl: "http://127.0.0.1:8789", graphVersion: "v23.0", displayPhoneNumber: null, messagingLimit: "unlimited",
  messagingTier: "TIER_UNLIMITED", qualityRating: "GREEN", throughputMps: 1_000_000, throughputLevel: "HIGH",
  nameStatus: "APPROVED", status: "CONNECTED", createdAt: T0, updatedAt: T0
}

// A claimer process: it opens the file, says it is ready and waits for the go, so that all three race; then it
// claims a little at a time, as a daemon claims rounds, until nothing has been left for a while, and prints the ids.
const claimer = `
  import { existsSync, writeFileSync } from "node:fs"
  import { Effect, Option } from "effect"
  import { Ports } from "@megaphone/core"
  import * as SqliteStorage from ${JSON.stringify(new URL("./SqliteStorage.ts", import.meta.url).href)}
  const claimed = await Effect.runPromise(Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    const account = Option.getOrThrow(yield* storage.getAccount("a"))
    writeFileSync(process.env.DATABASE + ".ready-" + process.env.OWNER, "")
    while (!existsSync(process.env.DATABASE + ".go")) yield* Effect.sleep("5 millis")
    const mine = []
    for (let round = 0, idle = 0; idle < 20; round++) {
      const now = new Date(${T0.getTime()} + 1000 + round)
      const { claimed } = yield* storage.claim({ account, limit: 10, leaseMs: 3600000, owner: process.env.OWNER, now })
      mine.push(...claimed.map((c) => c.contact.id))
      idle = claimed.length === 0 ? idle + 1 : 0
      yield* Effect.sleep("2 millis")
    }
    return mine
  }).pipe(Effect.provide(SqliteStorage.layer(process.env.DATABASE))))
  console.log(JSON.stringify(claimed))
`

const runClaimer = async (file: string, owner: string): Promise<ReadonlyArray<string>> => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", claimer], {
    cwd: root,
    timeout: 60_000,
    env: { PATH: process.env["PATH"] ?? "", DATABASE: file, OWNER: owner }
  })
  return JSON.parse(stdout) as ReadonlyArray<string>
}

it("three processes claiming from one file claim every due contact exactly once", async () => {
  const file = join(directory, "race.db")
  const campaignId = await Effect.runPromise(Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    yield* storage.saveAccount(account)
    const created = yield* storage.createCampaign({ name: "race", accountName: "a", templateName: "order_done", language: "cs", note: null }, T0)
    yield* storage.updateCampaignLifecycle(created.id, "draft", Result.getOrThrow(Campaign.start(created.lifecycle, { ...Campaign.emptyCounts, initial: 1 }, T0)))
    yield* storage.addCampaignContacts(created.id, Array.from({ length: CONTACTS }, (_, i) => {
      const recipient = `420601${String(i).padStart(6, "0")}`
      return { phone: `+${recipient}`, recipient, parameters: {} }
    }), T0)
    return created.id
  }).pipe(Effect.provide(SqliteStorage.layer(file))))

  const owners = ["p1", "p2", "p3"]
  const running = Promise.all(owners.map((owner) => runClaimer(file, owner)))
  while (!owners.every((owner) => existsSync(`${file}.ready-${owner}`))) await new Promise((resolve) => setTimeout(resolve, 10))
  writeFileSync(`${file}.go`, "")
  const results = await running
  const all = results.flat()
  expect(all.length).toBe(CONTACTS)
  expect(new Set(all).size).toBe(CONTACTS)

  // The file agrees: every contact in progress, held by the process that reported it.
  const stored = await Effect.runPromise(Effect.gen(function*() {
    const storage = yield* Ports.Storage.Storage
    return yield* storage.listCampaignContacts(campaignId, undefined, { limit: CONTACTS + 1 })
  }).pipe(Effect.provide(SqliteStorage.layer(file))))
  const ownerOf = new Map(results.flatMap((ids, i) => ids.map((id) => [id, owners[i]] as const)))
  expect(stored.every((c) => c.progress.state === "in_progress" && c.leaseOwner === ownerOf.get(c.id))).toBe(true)
  // They did race: more than one process took a share.
  expect(results.filter((ids) => ids.length > 0).length, `claims per process: ${results.map((ids) => ids.length).join(", ")}`).toBeGreaterThan(1)
}, 90_000)
