// The SPEC §7 JSON of a campaign: the fields `campaigns show --json` promises, every contact state counted, and
// the admin API's campaign being exactly that plus the operations its state allows.
import { describe, expect, it } from "@effect/vitest"
import { ContactState } from "@megaphone/core"
import { Effect, Schema } from "effect"
import * as Json from "../../src/campaigns/Json.ts"
import * as Operations from "../../src/campaigns/Operations.ts"
import * as AdminJson from "../../src/admin-api/Json.ts"
import { seeded } from "./support.ts"

describe("campaign JSON", () => {
  it.effect("has the SPEC §7 fields, counts of all ten states in order, and the API adds only allowed_operations", () =>
    Effect.gen(function*() {
      const storage = yield* seeded
      const { campaign, counts } = yield* Operations.create(storage, { name: "Objednávky", account: "shop", template: "order_done" })
      const shown = Json.campaign(campaign, counts)
      expect(Object.keys(shown)).toEqual([
        "id", "name", "state", "account", "template", "language", "note", "max_mps", "pause_reason", "counts", "total",
        "created_at", "started_at", "paused_at", "ended_at", "scheduled_at", "send_window"
      ])
      expect(Object.keys(shown.counts)).toEqual([...ContactState.states])
      expect(shown).toMatchObject({ state: "draft", account: "shop", template: "order_done", language: "cs", pause_reason: null, total: 0 })
      expect(AdminJson.campaign(campaign, counts)).toEqual({ ...shown, allowed_operations: ["start", "stop", "add_contacts", "edit", "schedule", "unschedule"] })
      // What the CLI prints is what the API's schema encodes.
      const encoded = yield* Schema.encodeEffect(Schema.toCodecJson(Json.CampaignJson))(shown)
      expect(encoded).toEqual(JSON.parse(JSON.stringify(shown)))
    }))
})
