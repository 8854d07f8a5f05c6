// "Did you mean": typos, other spellings of a key, and keys written in the wrong section.
import { describe, expect, it } from "vitest"
import { distance, suggest } from "../../src/config/Suggest.ts"

const known = ["database", "database.url", "database.maxConnections", "dispatch", "dispatch.concurrency", "dispatch.idleMs",
  "dispatch.leaseMs", "webhook", "webhook.listen", "admin", "admin.listen", "log", "log.level"]

describe("suggest", () => {
  it.each([
    ["dispatch.concurency", ["dispatch.concurrency"]], // a letter missing
    ["dispatch.conucrrency", ["dispatch.concurrency"]], // two letters swapped
    ["database.max_connections", ["database.maxConnections"]], // snake case
    ["database.MaxConnections", ["database.maxConnections"]], // case
    ["concurrency", ["dispatch.concurrency"]], // right key, wrong section
    ["listen", ["admin.listen", "webhook.listen"]],
    ["Dispatch", ["dispatch"]],
    ["dispatch.idle", ["dispatch.idleMs"]],
    ["dispach", ["dispatch"]],
    ["dispatch.rate", []], // nothing close
    ["sendRate", []]
  ])("%s → %j", (unknown, expected) => {
    expect(suggest(unknown, known)).toEqual(expected)
  })

  it("distance counts insertions, deletions, substitutions and swaps as one edit each", () => {
    expect([distance("abc", "abc"), distance("abc", "ab"), distance("abc", "abd"), distance("abc", "acb"), distance("", "abc")]).toEqual([0, 1, 1, 1, 3])
  })
})
