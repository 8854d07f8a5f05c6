// The dashboard against a fake source, in an 80×24 frame: what it shows for running, paused (with the
// system's reason) and finished campaigns, and which port methods each key calls.
import { render } from "ink-testing-library"
import React from "react"
import { afterEach, describe, expect, it } from "vitest"
import { Dashboard, type DashboardProps } from "../src/Dashboard.ts"
import type { Source } from "../src/Source.ts"
import { campaign, contact, counts, fakeSource, finished, keys, running, T0, templatePaused, until } from "./support.ts"

const h = React.createElement
const mounted: Array<{ unmount: () => void }> = []
afterEach(() => {
  for (const app of mounted.splice(0)) app.unmount()
})

/** The dashboard at 80×24 in UTC on a clock that stands at T0 + 5 s unless `props` says otherwise. */
const show = (source: Source, props: Partial<DashboardProps> = {}) => {
  const app = render(h(Dashboard, {
    source,
    size: { columns: 80, rows: 24 },
    timeZone: "UTC",
    color: false,
    now: () => new Date(T0.getTime() + 5000),
    refreshMs: 60_000,
    slowRefreshMs: 60_000,
    ...props
  }))
  mounted.push(app)
  const frame = () => app.lastFrame() ?? ""
  const press = async (...sequence: ReadonlyArray<string>) => {
    for (const key of sequence) {
      app.stdin.write(key)
      // Ink reads each write as one keypress; give React a moment to apply it.
      await new Promise((resolve) => setTimeout(resolve, 15))
    }
  }
  return { app, frame, press }
}

/** Every line of a frame fits 80 columns and the frame is exactly 24 lines. */
const expect80x24 = (frame: string) => {
  const lines = frame.split("\n")
  expect(lines).toHaveLength(24)
  for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80)
}

describe("the campaign list", () => {
  it("shows a running campaign: state, stacked bar with counts and %, rate, ETA; accounts; problems; keys", async () => {
    const { source } = fakeSource({ campaigns: [running] })
    const { frame } = show(source)
    await until(() => expect(frame()).toContain("PROBLEMS"))
    const text = frame()
    expect80x24(text)
    expect(text).toContain("▶ Objednávky")
    expect(text).toContain("Running")
    // 436 of 1000 settled (sent, delivered, read, error); 564 pending.
    expect(text).toMatch(/\[█+▓+▒+·+\]\s+43%\s+436\/1000\s+0\.0\/s\s+ETA\s+—/)
    expect(text).toContain("█ Read 80 8%  ▓ Delivered 150 15%  ▒ Sent 200 20%  E Error 6 0%")
    expect(text).toContain("> In progress 10 1%  r Retry scheduled 4 0%  · Initial 550 55%")
    expect(text).toContain("shop       TIER_1K   ######....    612/1000 GREEN")
    expect(text).toContain("/80 msg/s")
    expect(text).toContain("room now")
    expect(text).toContain("⚠ spring_sale (cs) PAUSED — Template spring_sale is paused by Meta for low")
    expect(text).toContain("✗ 131026 ×5 Message undeliverable — the number is not on WhatsApp")
    expect(text).toContain("✗ invalid_phone ×2 not a phone number: x12")
    expect(text).toContain("↻ 4 retries scheduled; next 10:00:30 +420601200007 (attempt 2, after 131000)")
    expect(text.split("\n").at(-1)).toBe("↑↓ ⏎ detail  p pause  r resume  s stop  R retry  a add  / search  ? help  q quit")
  })

  it("shows a campaign the system paused, with its reason", async () => {
    const { source } = fakeSource({ campaigns: [templatePaused] })
    const { frame } = show(source)
    await until(() => expect(frame()).toContain("Jarní výprodej"))
    const text = frame()
    expect80x24(text)
    expect(text).toMatch(/▶ Jarní výprodej .* Paused: Template spring_sale/)
    expect(text).toContain("⏸ Template spring_sale is paused by Meta for low quality (132015)")
    expect(text).toMatch(/25% 100\/400\s+paused\s+ETA\s+—/)
  })

  it("shows a finished campaign as done, and an operator's pause as such", async () => {
    const byOperator = campaign("15", "Léto", "paused", counts({ initial: 10 }))
    const { source } = fakeSource({ campaigns: [finished, byOperator] })
    const { frame } = show(source)
    await until(() => expect(frame()).toContain("Podzim"))
    const text = frame()
    expect(text).toMatch(/Podzim .* Finished/)
    expect(text).toMatch(/100% 1000\/1000\s+finished\s+ETA\s+done/)
    expect(text).toContain("F Sending failed 10 1%")
    expect(text).toContain("Paused (by an operator)")
  })

  it("measures the send rate from successive polls: msg/s, sparkline and ETA", async () => {
    let settledNow = 0
    let clock = T0.getTime()
    const { source, data } = fakeSource({ campaigns: [running] })
    source.campaigns.mockImplementation(() => {
      settledNow += 20
      clock += 1000
      data.campaigns = [{ ...running, counts: counts({ initial: 1000 - settledNow, delivered: settledNow }) }]
      return Promise.resolve(data.campaigns)
    })
    const { frame } = show(source, { now: () => new Date(clock), refreshMs: 20 })
    await until(() => expect(source.campaigns.mock.calls.length).toBeGreaterThan(6))
    await until(() => expect(frame()).toMatch(/20\.0\/s ▁*█+ ETA\s+0:\d\d/))
  })

  it("speaks the seed's Czech with --lang cs", async () => {
    const { source } = fakeSource()
    const { frame } = show(source, { lang: "cs" })
    await until(() => expect(frame()).toContain("Probíhá"))
    const text = frame()
    expect(text).toContain("Přečteno 80 8%")
    expect(text).toContain("Doručeno 150 15%")
    expect(text).toContain("Naplánováno opakování 4 0%")
    expect(text).toContain("⚠ spring_sale (cs) PAUSED — Šablonu spring_sale pozastavila Meta kvůli")
  })

  it("draws without colours: no escape codes, a distinct glyph per state", async () => {
    const { source } = fakeSource({ campaigns: [running] })
    const { frame } = show(source, { color: false })
    await until(() => expect(frame()).toContain("Objednávky"))
    expect(frame()).not.toContain("\u001B[")
    expect(frame()).toContain("r Retry scheduled 4 0%")
  })

  it("fits a resized terminal: the same data in 120×40 and in 60×16", async () => {
    const { source } = fakeSource()
    const { app, frame } = show(source)
    await until(() => expect(frame()).toContain("PROBLEMS"))
    for (const size of [{ columns: 120, rows: 40 }, { columns: 60, rows: 16 }]) {
      app.rerender(h(Dashboard, { source, size, timeZone: "UTC", color: false, refreshMs: 60_000, now: () => T0 }))
      await until(() => expect(frame().split("\n")).toHaveLength(size.rows))
      for (const l of frame().split("\n")) expect([...l].length).toBeLessThanOrEqual(size.columns)
      expect(frame()).toContain("Objednávky")
    }
  })
})

describe("keys", () => {
  it("p pauses the selected campaign and r resumes it, through the source", async () => {
    const { source } = fakeSource()
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Objednávky"))
    await press("p")
    await until(() => expect(source.pause).toHaveBeenCalledWith("12"))
    await until(() => expect(frame()).toContain("“Objednávky”: Paused (by an operator)."))
    await press("r")
    await until(() => expect(source.resume).toHaveBeenCalledWith("12"))
    await until(() => expect(frame()).toContain("“Objednávky”: Running."))
  })

  it("↓ selects the next campaign; an operation its state does not allow is refused without a call", async () => {
    const { source } = fakeSource()
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Podzim"))
    await press(keys.down)
    await until(() => expect(frame()).toContain("▶ Jarní výprodej"))
    await press("p")
    await until(() => expect(frame()).toContain("Cannot pause a paused campaign"))
    expect(source.pause).not.toHaveBeenCalled()
    await press("r")
    await until(() => expect(source.resume).toHaveBeenCalledWith("13"))
  })

  it("s asks before stopping: n keeps the campaign, y stops it", async () => {
    const { source } = fakeSource()
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Objednávky"))
    await press("s")
    await until(() => expect(frame()).toContain("Stop campaign “Objednávky” (12) for good?"))
    expect(frame()).toContain("Its 564 contact(s) not yet sent will be cancelled")
    await press("n")
    await until(() => expect(frame()).toContain("Not stopped."))
    expect(source.stop).not.toHaveBeenCalled()
    await press("s", "y")
    await until(() => expect(source.stop).toHaveBeenCalledWith("12"))
    await until(() => expect(frame()).toContain("“Objednávky”: Stopped; 564 contact(s) not yet sent were cancelled."))
    expect(source.stop).toHaveBeenCalledTimes(1)
  })

  it("a adds contacts from a CSV file or through a saved filter with a mapping", async () => {
    const { source } = fakeSource()
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Objednávky"))
    await press("a")
    await until(() => expect(frame()).toContain("Add contacts to “Objednávky” (12)"))
    await press("/tmp/k.csv", keys.tab, "2=zákazník", keys.enter)
    await until(() => expect(source.addContacts).toHaveBeenCalledWith("12", { _tag: "Csv", path: "/tmp/k.csv", defaults: { 2: "zákazník" } }))
    await until(() => expect(frame()).toContain("Added 3 contact(s) to “Objednávky”: 2 to send, 1 invalid"))

    await press("a", keys.up, keys.right, keys.tab, "vip", keys.tab, keys.tab, "1=salutation 2=name", keys.enter)
    await until(() => expect(source.addContacts).toHaveBeenLastCalledWith("12", {
      _tag: "Directory",
      filter: { name: "vip" },
      phoneColumn: "phone",
      vars: { 1: "salutation", 2: "name" },
      defaults: {}
    }))
  })

  it("the add form says what is missing and Esc cancels it without a call", async () => {
    const { source } = fakeSource()
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Objednávky"))
    await press("a", keys.enter)
    await until(() => expect(frame()).toContain("Give the CSV file's path."))
    await press(keys.escape)
    await until(() => expect(frame()).not.toContain("Add contacts to"))
    expect(source.addContacts).not.toHaveBeenCalled()
  })

  it("Enter opens the contacts: rows with SPEC §5 fields, ←/→ change the state, n/b page", async () => {
    const { source } = fakeSource()
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Objednávky"))
    await press(keys.enter)
    await until(() => expect(source.contacts).toHaveBeenCalledWith("12", { limit: 12 }))
    await until(() => expect(frame()).toContain("+420601200001"))
    const text = frame()
    expect80x24(text)
    expect(text).toContain("◀ All states ▶ · page 1 · rows 1–3 …")
    expect(text).toContain("PHONE           STATE           ATT  NEXT      WAMID")
    expect(text).toContain("Initial 10:00:00 › Delivered 10:00:02")
    await press(keys.right)
    await until(() => expect(source.contacts).toHaveBeenLastCalledWith("12", { limit: 12, state: "initial" }))
    await press(keys.left, keys.left)
    await until(() => expect(source.contacts).toHaveBeenLastCalledWith("12", { limit: 12, state: "cancelled" }))
    await press(keys.left, keys.left, keys.left)
    await until(() => expect(source.contacts).toHaveBeenLastCalledWith("12", { limit: 12, state: "error" }))
    await until(() => expect(frame()).toMatch(/▶ \+420601200001\s+E Error\s+1\s+-\s+wamid\.HBg…\s+131026 Message unde/))
    await press(keys.down)
    await until(() => expect(frame()).toContain("(#131026) Message undeliverable — the number is not on WhatsApp"))
    await press("n")
    await until(() => expect(source.contacts).toHaveBeenLastCalledWith("12", { limit: 12, state: "error", afterId: "3" }))
    await until(() => expect(frame()).toContain("page 2 · rows 13–15"))
    await press("b")
    await until(() => expect(source.contacts).toHaveBeenLastCalledWith("12", { limit: 12, state: "error" }))
    await press("p")
    await until(() => expect(source.pause).toHaveBeenCalledWith("12"))
    await press(keys.escape)
    await until(() => expect(frame()).toContain("CAMPAIGNS 3"))
  })

  it("/ searches the campaigns; Esc clears the search", async () => {
    const { source } = fakeSource()
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Podzim"))
    await press("/", "pod", keys.enter)
    await until(() => expect(frame()).toContain("Search: “pod” — 1 of 3"))
    expect(frame()).not.toContain("Objednávky")
    await press("p")
    await until(() => expect(frame()).toContain("Cannot pause a finished campaign"))
    await press(keys.escape)
    await until(() => expect(frame()).toContain("Objednávky"))
  })

  it("? shows the keys and what each state means; q quits", async () => {
    const { source } = fakeSource()
    const { app, frame, press } = show(source)
    await until(() => expect(frame()).toContain("Objednávky"))
    await press("?")
    await until(() => expect(frame()).toContain("Contact states"))
    expect(frame()).toContain("Retry scheduled         will be sent again at the next attempt time")
    expect(frame()).toContain("R  retry failed: error and sending failed contacts sent again (asks first)")
    await press("x")
    await until(() => expect(frame()).toContain("PROBLEMS"))
    await press("q")
    // After exit the app no longer reacts: a key sent now calls nothing.
    await press("p")
    expect(source.pause).not.toHaveBeenCalled()
    void app
  })

  it("read-only: actions are refused with the reason, and nothing is called", async () => {
    const { source } = fakeSource({}, {
      _tag: "ReadOnly",
      description: "the embedded database in ./megaphone-data",
      reason: "no daemon answers; start `megaphone daemon` and run `megaphone tui --admin-url URL` to pause, resume, stop or add contacts."
    })
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("read-only · the embedded database"))
    await press("p", "s", "a", "R")
    await until(() => expect(frame()).toContain("Read-only — no daemon answers"))
    expect(frame()).not.toContain("Stop campaign")
    expect(frame()).not.toContain("Retry the failed")
    expect(source.pause).not.toHaveBeenCalled()
    expect(source.stop).not.toHaveBeenCalled()
    expect(source.retry).not.toHaveBeenCalled()
    expect(frame()).toContain("a add (read-only)")
  })

  it("a failing source leaves the last data and says why", async () => {
    const { source } = fakeSource()
    const { frame } = show(source, { refreshMs: 20 })
    await until(() => expect(frame()).toContain("Objednávky"))
    source.campaigns.mockImplementation(() => Promise.reject(new Error("Cannot reach the admin API at http://127.0.0.1:8787 (ECONNREFUSED).")))
    await until(() => expect(frame()).toContain("⚠ Cannot refresh: Cannot reach the admin API"))
    expect(frame()).toContain("⚠ stale since 10:00:05")
    expect(frame()).toContain("Objednávky")
  })
})

// Scheduled start (issue 11, item 1): a scheduled draft shows its time in the dashboard's zone.
describe("a scheduled draft", () => {
  const scheduled = (() => {
    const draft = campaign("16", "Advent", "draft", counts({ initial: 40 }))
    return { ...draft, lifecycle: { ...draft.lifecycle, scheduledAt: new Date("2026-12-01T08:00:00.000Z") } }
  })()

  it("shows when it starts, in the dashboard's zone and language", async () => {
    const { source } = fakeSource({ campaigns: [scheduled] })
    const { frame } = show(source, { timeZone: "Europe/Prague" })
    await until(() => expect(frame()).toContain("Advent"))
    expect(frame()).toMatch(/Advent .* Scheduled for 2026-12-01 09:00/)
    const cs = show(fakeSource({ campaigns: [scheduled] }).source, { timeZone: "Europe/Prague", lang: "cs" })
    await until(() => expect(cs.frame()).toContain("Advent"))
    expect(cs.frame()).toMatch(/Advent .* Naplánováno na 2026-12-01 09:00/)
  })
})

// Per-campaign rate cap (issue 11, item 6): a capped campaign says its cap next to its state.
describe("a capped campaign", () => {
  it("shows its messages/second cap; an uncapped one shows none", async () => {
    const capped = { ...campaign("17", "Trickle", "running", counts({ initial: 40 })), maxMps: 2.5 }
    const { source } = fakeSource({ campaigns: [capped, running] })
    const { frame } = show(source)
    await until(() => expect(frame()).toContain("Trickle"))
    expect(frame()).toMatch(/Trickle .* · ≤ 2\.5\/s/)
    expect(frame()).not.toMatch(/Objednávky .*≤/)
  })
})

// Send window (issue 11, item 2): a campaign with quiet hours says them next to its state, in the list and in its
// contacts; a contact held back by the window says why.
describe("a campaign with a send window", () => {
  it("shows its days and hours; a waiting contact says why it waits", async () => {
    const quiet = { ...campaign("18", "Slušně", "running", counts({ initial: 3 })), sendWindow: "Mon-Fri 09:00-20:00" }
    const waiting = { ...contact(1, "initial"), waiting: "outside the send window Mon-Fri 09:00-20:00 (Europe/Prague)" }
    const { source } = fakeSource({ campaigns: [quiet, running], pages: () => ({ contacts: [waiting], nextAfterId: null }) })
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Slušně"))
    expect(frame()).toMatch(/Slušně .* · sends Mon-Fri 09:00/)
    expect(frame()).not.toMatch(/Objednávky .*sends/)
    await press(keys.enter)
    await until(() => expect(frame()).toContain("+420601200001"))
    expect(frame()).toContain("Waiting: outside the send window Mon-Fri 09:00-20:00 (Europe/Prague).")
    expect(frame()).toMatch(/Slušně .* · sends Mon-Fri 09:00/)
  })
})

// Retry failed (issue 11, item 3): `R` asks with how many, `y` retries error and sending_failed through the source.
describe("R retries the failed contacts", () => {
  it("asks with how many; n and Esc leave them without a call, y retries error and sending_failed", async () => {
    const { source } = fakeSource()
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Objednávky"))
    await press("R")
    await until(() => expect(frame()).toContain("Retry the failed contacts of “Objednávky” (12)?"))
    expect80x24(frame())
    expect(frame()).toContain("6 contact(s) — 6 in error, 0 sending failed — go back to initial")
    expect(frame()).toContain("with a new attempt budget and are sent again")
    await press("n")
    await until(() => expect(frame()).toContain("Not retried."))
    await press("R")
    await until(() => expect(frame()).toContain("Retry the failed contacts"))
    await press(keys.escape)
    await until(() => expect(frame()).not.toContain("Retry the failed contacts"))
    expect(source.retry).not.toHaveBeenCalled()
    await press("R", "y")
    await until(() => expect(source.retry).toHaveBeenCalledWith("12", { states: ["error", "sending_failed"] }))
    await until(() => expect(frame()).toContain("“Objednávky”: 5 contact(s) put back to send; 1 skipped: on the suppression list."))
    expect(frame()).toMatch(/Objednávky .* Running/)
    expect(source.retry).toHaveBeenCalledTimes(1)
  })

  it("runs a finished campaign's sending_failed contacts again", async () => {
    const { source } = fakeSource({ campaigns: [finished] })
    const { frame, press } = show(source)
    await until(() => expect(frame()).toContain("Podzim"))
    await press("R")
    await until(() => expect(frame()).toContain("10 contact(s) — 0 in error, 10 sending failed"))
    await press("y")
    await until(() => expect(source.retry).toHaveBeenCalledWith("14", { states: ["error", "sending_failed"] }))
    await until(() => expect(frame()).toContain("“Podzim”: 9 contact(s) put back to send; 1 skipped: on the suppression list."))
    await until(() => expect(frame()).toMatch(/Podzim .* Running/))
  })

  it("refuses a draft or stopped campaign with why, and says when nothing failed, without asking or calling", async () => {
    const stopped = campaign("17", "Zima", "stopped", counts({ delivered: 5, error: 2, cancelled: 3 }))
    const draft = campaign("18", "Jaro", "draft", counts({ initial: 4 }))
    const clean = campaign("19", "Léto", "finished", counts({ delivered: 9 }))
    const { source } = fakeSource({ campaigns: [stopped, draft, clean] })
    // Wide enough for the whole refusal on the status line.
    const { frame, press } = show(source, { size: { columns: 140, rows: 24 } })
    await until(() => expect(frame()).toContain("Zima"))
    await press("R")
    await until(() => expect(frame()).toContain("Cannot retry a stopped campaign: a stopped campaign sends nothing more — create a new campaign"))
    await press(keys.down, "R")
    await until(() => expect(frame()).toContain("Cannot retry a draft campaign: nothing has been sent yet — start it"))
    await press(keys.down, "R")
    await until(() => expect(frame()).toContain("Nothing to retry: “Léto” has no contacts in error or sending failed."))
    expect(frame()).not.toContain("Retry the failed contacts")
    expect(source.retry).not.toHaveBeenCalled()
  })

  it("shows the daemon's refusal when the campaign changed since the last poll", async () => {
    const { source } = fakeSource()
    source.retry.mockImplementation(() =>
      Promise.reject(new Error("Cannot retry a stopped campaign: a stopped campaign sends nothing more — create a new campaign; nothing more can be done with it.")))
    const { frame, press } = show(source, { size: { columns: 140, rows: 24 } })
    await until(() => expect(frame()).toContain("Objednávky"))
    await press("R", "y")
    await until(() => expect(frame()).toContain("Cannot retry a stopped campaign: a stopped campaign sends nothing more"))
  })
})
