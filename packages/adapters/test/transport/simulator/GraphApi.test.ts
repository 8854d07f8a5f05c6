/** The simulator's Graph endpoints over real HTTP: Meta's success body, each validation code, paging, the phone node. */
import { Result } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Simulator } from "../../../src/index.ts"
import { type Answer, config, control, get, orderDone, PHONE_ID, type Running, send, startSimulator, templates, WABA_ID } from "./support.ts"

let running: Running
let url: string
// Each test uses its own recipients, so the pair limit never links two tests.
let next = 0
const recipient = () => `42070${String(1_000_000 + next++).padStart(7, "0")}`

beforeAll(async () => {
  running = await startSimulator(config())
  url = running.sim.url
})
afterAll(() => running.stop())

describe("POST /{phone-number-id}/messages", () => {
  it("accepts a valid template send with Meta's success body", async () => {
    const to = recipient()
    const answer = await send(url, orderDone(`+${to}`, undefined, { biz_opaque_callback_data: "campaign1:contact1" }))
    expect(answer.status).toBe(200)
    expect(answer.json).toMatchObject({
      messaging_product: "whatsapp",
      contacts: [{ input: `+${to}`, wa_id: to }],
      messages: [{ message_status: "accepted" }]
    })
    const wamid = (answer.json.messages as Array<{ id: string }>)[0]?.id ?? ""
    expect(wamid).toMatch(/^wamid\.[A-Za-z0-9+/=]+$/)
    expect(wamid.length).toBeLessThanOrEqual(128)
    const stats = await fetch(`${url}/_simulator/stats`).then((r) => r.json()) as Simulator.Stats
    expect(stats.messages.find((m) => m.wamid === wamid)).toMatchObject({
      to: `+${to}`, waId: to, template: { name: "order_done", language: "cs" }, callbackData: "campaign1:contact1", phoneNumberId: PHONE_ID
    })
  })

  it("accepts named parameters, a text header with a URL button, and a media header with a coupon", async () => {
    const named = await send(url, {
      messaging_product: "whatsapp", to: recipient(), type: "template",
      template: { name: "spring_sale", language: { code: "cs" }, components: [{ type: "body", parameters: [
        { type: "text", parameter_name: "discount", text: "20 %" }, { type: "text", parameter_name: "first_name", text: "Anna" }
      ] }] }
    })
    expect(named.json).toMatchObject({ messages: [{ message_status: "accepted" }] })
    const header = await send(url, {
      messaging_product: "whatsapp", to: recipient(), type: "template",
      template: { name: "shipping_update", language: { code: "cs" }, components: [
        { type: "header", parameters: [{ type: "text", text: "42" }] },
        { type: "body", parameters: [{ type: "text", text: "Jano" }] },
        { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: "ORDER-42" }] }
      ] }
    })
    expect(header.status).toBe(200)
    const media = await send(url, {
      messaging_product: "whatsapp", to: recipient(), type: "template",
      template: { name: "coupon", language: { code: "en" }, components: [
        { type: "header", parameters: [{ type: "image", image: { link: "https://cdn.example/a.jpg" } }] },
        { type: "button", sub_type: "copy_code", index: 0, parameters: [{ type: "coupon_code", coupon_code: "SPRING25" }] }
      ] }
    })
    expect(media.status).toBe(200)
    for (const image of [{ id: "1215647396592284" }, { link: "http://cdn.example/a.jpg" }]) {
      expect((await couponWith({ type: "image", image })).status).toBe(200)
    }
  })

  const cases: ReadonlyArray<readonly [string, () => Promise<Answer>, number, number, RegExp?]> = [
    ["no token → 190", () => send(url, orderDone(recipient()), { token: null }), 401, 190],
    ["a wrong token → 190", () => send(url, orderDone(recipient()), { token: "nope" }), 401, 190],
    ["an unknown phone-number id → 100 naming it", () => send(url, orderDone(recipient()), { phoneId: "999" }), 400, 100, /999/],
    ["no messaging_product → 100", () => send(url, { ...orderDone(recipient()), messaging_product: undefined }), 400, 100, /messaging_product/],
    ["an unknown top-level key → 100", () => send(url, { ...orderDone(recipient()), colour: "red" }), 400, 100, /colour/],
    ["not JSON → 100", () => send(url, "{nope"), 400, 100, /JSON/],
    ["no to → 100", () => send(url, { ...orderDone(recipient()), to: undefined }), 400, 100, /\bto\b/],
    ["letters in to → 131009 naming to", () => send(url, orderDone("42060abc1234")), 400, 131009, /\bto\b/],
    ["a too short to → 131009", () => send(url, orderDone("12345")), 400, 131009, /\bto\b/],
    ["a too long to → 131009", () => send(url, orderDone("4206011234567890")), 400, 131009, /\bto\b/],
    ["to = the business number → 131021", () => send(url, orderDone("+420601000001")), 400, 131021],
    ["no template → 131008", () => send(url, { ...orderDone(recipient()), template: undefined }), 400, 131008, /template/],
    ["no language → 131008", () => send(url, { ...orderDone(recipient()), template: { name: "order_done" } }), 400, 131008, /language/],
    ["an unknown template → 132001", () => send(url, { ...orderDone(recipient()), template: { name: "nope", language: { code: "cs" } } }), 404, 132001, /nope/],
    ["a wrong language → 132001", () => send(url, { ...orderDone(recipient()), template: { name: "order_done", language: { code: "en" } } }), 404, 132001, /\ben\b/],
    ["a rejected template → 132001", () => send(url, { ...orderDone(recipient()), template: { name: "lucky_draw", language: { code: "cs" } } }), 404, 132001],
    ["a paused template → 132015", () => send(url, { ...orderDone(recipient()), template: { name: "winter_sale", language: { code: "cs" }, components: [{ type: "body", parameters: [{ type: "text", text: "1" }] }] } }), 400, 132015],
    ["a disabled template → 132016", () => send(url, { ...orderDone(recipient()), template: { name: "old_promo", language: { code: "cs" } } }), 400, 132016],
    ["two body parameters for three → 132000", () => send(url, orderDone(recipient(), ["a", "b"])), 400, 132000,
      /body: number of localizable_params \(2\) does not match the expected number of params \(3\)/],
    ["no body component → 132000", () => send(url, { ...orderDone(recipient()), template: { name: "order_done", language: { code: "cs" } } }), 400, 132000, /\(0\)/],
    ["a header parameter the template lacks → 132000", () => send(url, { ...orderDone(recipient()), template: { name: "order_done", language: { code: "cs" }, components: [
      { type: "header", parameters: [{ type: "text", text: "x" }] }, { type: "body", parameters: [{ type: "text", text: "a" }, { type: "text", text: "b" }, { type: "text", text: "c" }] }
    ] } }), 400, 132000, /header/],
    ["a missing URL button parameter → 131008", () => send(url, { ...orderDone(recipient()), template: { name: "shipping_update", language: { code: "cs" }, components: [
      { type: "header", parameters: [{ type: "text", text: "42" }] }, { type: "body", parameters: [{ type: "text", text: "Jano" }] }
    ] } }), 400, 131008, /Button at index 0 of type Url requires a parameter/],
    ["an unknown parameter_name → 132000", () => send(url, { ...orderDone(recipient()), template: { name: "spring_sale", language: { code: "cs" }, components: [{ type: "body", parameters: [
      { type: "text", parameter_name: "first_name", text: "A" }, { type: "text", parameter_name: "price", text: "1" }
    ] }] } }), 400, 132000, /price/],
    ["a text header where an image is expected → 132012", () => send(url, { ...orderDone(recipient()), template: { name: "coupon", language: { code: "en" }, components: [
      { type: "header", parameters: [{ type: "text", text: "x" }] }, { type: "button", sub_type: "copy_code", index: "0", parameters: [{ type: "coupon_code", coupon_code: "A" }] }
    ] } }), 400, 132012, /expected IMAGE, received TEXT/],
    ["no header where an image is expected → 132012", () => couponWith(undefined), 400, 132012, /expected IMAGE, received UNKNOWN/],
    ["a video where an image is expected → 132012", () => couponWith({ type: "video", video: { link: "https://cdn.example/a.mp4" } }), 400, 132012, /expected IMAGE, received VIDEO/],
    ["an image without its image object → 131008", () => couponWith({ type: "image" }), 400, 131008, /parameter image is required/],
    ["an image with neither link nor id → 131008", () => couponWith({ type: "image", image: {} }), 400, 131008, /a link .* or the id of uploaded media is required/],
    ["an image with a filename → 100 (documents only)", () => couponWith({ type: "image", image: { link: "https://cdn.example/a.jpg", filename: "a.jpg" } }), 400, 100,
      /Unexpected key "filename" on param "header.parameters\[0\].image"/],
    ["an image link that is not a URL → 131009", () => couponWith({ type: "image", image: { link: "cdn.example/a.jpg" } }), 400, 131009, /image.link/],
    ["an image link with a space → 131009", () => couponWith({ type: "image", image: { link: "https://cdn.example/a b.jpg" } }), 400, 131009, /image.link/],
    ["an image id that is not digits → 131009", () => couponWith({ type: "image", image: { id: "4::aW1h" } }), 400, 131009, /image.id/],
    ["a newline in a text parameter (v23) → 132018", () => send(url, orderDone(recipient(), ["Ja\nna", "N", "1"])), 400, 132018, /new-line/],
    ["five spaces in a text parameter (v23) → 132018", () => send(url, orderDone(recipient(), ["Ja     na", "N", "1"])), 400, 132018],
    ["a tab in a text parameter before v23 → 100", () => send(url, orderDone(recipient(), ["Ja\tna", "N", "1"]), { version: "v22.0" }), 400, 100, /new-line/],
    ["a body longer than 1024 after filling in → 132005", () => send(url, orderDone(recipient(), ["x".repeat(1100), "N", "1"])), 400, 132005],
    ["callback data over 512 characters → 100", () => send(url, orderDone(recipient(), undefined, { biz_opaque_callback_data: "x".repeat(513) })), 400, 100, /biz_opaque_callback_data/],
    ["a non-template message → 131051", () => send(url, { messaging_product: "whatsapp", to: recipient(), type: "text", text: { body: "hi" } }), 400, 131051]
  ]

  for (const [name, run, status, code, details] of cases) {
    it(`refuses ${name}`, async () => {
      const answer = await run()
      expect(answer.status).toBe(status)
      expect(answer.json.error?.code).toBe(code)
      expect(answer.json.error).toMatchObject({ type: expect.any(String), fbtrace_id: expect.any(String) })
      if (details !== undefined) expect(`${answer.json.error?.message} ${answer.json.error?.error_data?.details ?? ""}`).toMatch(details)
    })
  }

  it("counts rejections by code", async () => {
    const stats = await Effect_runStats()
    expect(stats.rejectionsByCode["132000"]).toBeGreaterThanOrEqual(3)
    expect(stats.rejectionsByCode["190"]).toBe(2)
  })
})

/** A send of the `coupon` template (IMAGE header, COPY_CODE button) with this header parameter, or none. */
const couponWith = (parameter: Record<string, unknown> | undefined) =>
  send(url, {
    messaging_product: "whatsapp", to: recipient(), type: "template",
    template: { name: "coupon", language: { code: "en" }, components: [
      ...(parameter === undefined ? [] : [{ type: "header", parameters: [parameter] }]),
      { type: "button", sub_type: "copy_code", index: "0", parameters: [{ type: "coupon_code", coupon_code: "SPRING25" }] }
    ] }
  })

const Effect_runStats = () => fetch(`${url}/_simulator/stats?messages=false`).then((r) => r.json()) as Promise<Simulator.Stats>

describe("GET /{waba-id}/message_templates", () => {
  it("pages through 260 templates with Graph cursors and absolute next links", async () => {
    const many = Array.from({ length: 260 }, (_, i) => ({
      id: String(50_000 + i), name: `t_${String(i).padStart(3, "0")}`, language: "cs", status: i % 10 === 0 ? "PAUSED" : "APPROVED",
      category: "UTILITY", components: [{ type: "BODY", text: "Hi {{1}}" }]
    }))
    const big = await startSimulator(config({ templates: { [WABA_ID]: many } }))
    try {
      const names: Array<string> = []
      let link: string | undefined = `/v23.0/${WABA_ID}/message_templates?fields=name,status,components&limit=100`
      let pages = 0
      while (link !== undefined) {
        const page = await get(big.sim.url, link)
        expect(page.status).toBe(200)
        const data = page.json.data as Array<{ id: string; name: string; status: string }>
        names.push(...data.map((t) => t.name))
        expect(Object.keys(data[0] ?? {}).sort()).toEqual(["components", "id", "name", "status"])
        const paging = page.json.paging as { cursors: { after: string }; next?: string }
        expect(paging.cursors.after).toEqual(expect.any(String))
        if (paging.next !== undefined) expect(paging.next.startsWith(`${big.sim.url}/v23.0/${WABA_ID}/message_templates?`)).toBe(true)
        link = paging.next
        pages++
      }
      expect(pages).toBe(3)
      expect(names).toEqual(many.map((t) => t.name))
      // The cursor alone also works, as Graph's `after=` does.
      const first = await get(big.sim.url, `/v23.0/${WABA_ID}/message_templates?limit=2`)
      const after = (first.json.paging as { cursors: { after: string } }).cursors.after
      const second = await get(big.sim.url, `/v23.0/${WABA_ID}/message_templates?limit=2&after=${after}`)
      expect((second.json.data as Array<{ name: string }>).map((t) => t.name)).toEqual(["t_002", "t_003"])
      const paused = await get(big.sim.url, `/v23.0/${WABA_ID}/message_templates?status=PAUSED&limit=100`)
      expect((paused.json.data as Array<unknown>).length).toBe(26)
    } finally {
      await big.stop()
    }
  })

  it("serves the live status after a change over the control endpoint", async () => {
    expect((await control(url, "template-status", { name: "order_done", language: "cs", event: "PAUSED" })).status).toBe(200)
    const page = await get(url, `/v23.0/${WABA_ID}/message_templates?fields=name,status&name=order_done`)
    expect(page.json.data).toEqual([{ id: "1001", name: "order_done", status: "PAUSED" }])
    const paused = await send(url, orderDone(recipient()))
    expect(paused.json.error?.code).toBe(132015)
    await control(url, "template-status", { name: "order_done", language: "cs", event: "REINSTATED" })
    expect((await send(url, orderDone(recipient()))).status).toBe(200)
  })

  it("refuses an unknown WABA, an unknown field and a bad token", async () => {
    expect((await get(url, `/v23.0/123/message_templates`)).json.error?.code).toBe(100)
    const field = await get(url, `/v23.0/${WABA_ID}/message_templates?fields=name,colour`)
    expect(field.json.error?.message).toMatch(/nonexisting field \(colour\)/)
    expect((await get(url, `/v23.0/${WABA_ID}/message_templates`, "bad")).status).toBe(401)
  })

  it("returns all configured templates in Meta's shape", async () => {
    const page = await get(url, `/v23.0/${WABA_ID}/message_templates?limit=100&fields=id,name,language,status,category,parameter_format,components,rejected_reason`)
    expect((page.json.data as Array<unknown>).length).toBe(templates.length)
    expect(page.json.paging).not.toHaveProperty("next")
    expect((page.json.data as Array<{ name: string }>).find((t) => t.name === "lucky_draw")).toMatchObject({ status: "REJECTED", rejected_reason: "PROMOTIONAL" })
  })
})

describe("GET /{phone-number-id}", () => {
  it("answers the requested fields", async () => {
    const node = await get(url, `/v23.0/${PHONE_ID}?fields=display_phone_number,verified_name,quality_rating,messaging_limit_tier,throughput,name_status,status`)
    expect(node.json).toEqual({
      id: PHONE_ID, display_phone_number: "+420 601 000 001", verified_name: "Megaphone Shop", quality_rating: "GREEN",
      messaging_limit_tier: "TIER_2K", throughput: { level: "STANDARD" }, name_status: "APPROVED", status: "CONNECTED"
    })
    expect((await get(url, `/v23.0/${PHONE_ID}?fields=bogus`)).json.error?.code).toBe(100)
    expect((await get(url, `/v23.0/555`)).json.error?.code).toBe(100)
  })
})

describe("configuration", () => {
  it("names the bad key and what is expected", () => {
    const bad = Simulator.decodeConfig({ ...config(), accounts: [{ phoneNumberId: "abc", wabaId: WABA_ID, displayPhoneNumber: "+420 601 000 001", verifiedName: "x", messagingLimitTier: "TIER_3K" }] })
    expect(Result.isFailure(bad)).toBe(true)
    const message = Result.isFailure(bad) ? bad.failure.message : ""
    expect(message).toMatch(/accounts\[0\]\.phoneNumberId/)
    expect(message).toMatch(/accounts\[0\]\.messagingLimitTier/)
    expect(message).toMatch(/TIER_3K/)
  })

  it("refuses templates of an unknown WABA", () => {
    const bad = Simulator.decodeConfig({ ...config(), templates: { "777": [] } })
    expect(Result.isFailure(bad) ? bad.failure.message : "").toMatch(/templates\.777/)
  })
})
