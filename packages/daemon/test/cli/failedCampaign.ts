// A campaign whose contacts failed, for the `campaigns retry` tests (directly and through the admin API): the
// sends are recorded through the storage as a dispatcher would record them, so no Meta is needed.
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { ContactState } from "@megaphone/core"
import { Effect, Option } from "effect"
import { expect } from "vitest"
import { type RunResult, withStorage } from "./binary.ts"

const failure = (code: string, reason: "final_for_contact" | "attempts_exhausted"): ContactState.ContactEvent => ({
  _tag: "AttemptFailed",
  error: { errorClass: code === "131000" ? "transient" : "recipient", scope: "contact", code, text: `(#${code}) failed` },
  decision: { _tag: "GiveUp", reason }
})

/** How the five contacts of {@link failedCampaign} end their first attempt, by recipient. */
export const FIRST_ATTEMPT: Readonly<Record<string, ContactState.ContactEvent>> = {
  "420601400001": failure("131026", "final_for_contact"), // sending_failed
  "420601400002": failure("131026", "final_for_contact"), // sending_failed
  "420601400003": failure("131000", "attempts_exhausted"), // error
  "420601400004": failure("131049", "final_for_contact"), // sending_failed
  "420601400005": { _tag: "Accepted", wamid: "wamid.5", waId: null } // sent
}

/**
 * A running campaign of account "shop" and template order_done (three variables) whose five contacts were each
 * sent once as {@link FIRST_ATTEMPT} says: three sending_failed (131026 twice, 131049), one error (131000), one
 * sent. `run` runs the CLI (directly or remotely); `dir` is where the contacts' CSV is written. Its id.
 */
export const failedCampaign = async (url: string, run: (args: ReadonlyArray<string>) => Promise<RunResult>, dir: string): Promise<string> => {
  const id = (await run(["campaigns", "create", "--name", "Opakování", "--account", "shop", "--template", "order_done"])).stdout.trim()
  const file = join(dir, `retry-${id}.csv`)
  await writeFile(file, ["phone,1,2,3", ...Object.keys(FIRST_ATTEMPT).map((r, i) => `+${r},pane,Novák,${i}`), ""].join("\n"))
  expect((await run(["campaigns", "add-contacts", id, "--csv", file])).code).toBe(0)
  expect((await run(["campaigns", "start", id])).code).toBe(0)
  await withStorage(url, (s) =>
    Effect.gen(function*() {
      const account = Option.getOrThrow(yield* s.getAccount("shop"))
      const { claimed } = yield* s.claim({ account, limit: 10, leaseMs: 60_000, owner: "test", now: new Date() })
      const mine = claimed.filter(({ contact }) => contact.campaignId === id)
      expect(mine).toHaveLength(5)
      yield* s.recordOutcomes(mine.map(({ contact }) => ({ contactId: contact.id, event: FIRST_ATTEMPT[contact.recipient] as ContactState.ContactEvent })), new Date())
    }))
  return id
}
