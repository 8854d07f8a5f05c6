// Meta's documented webhook payloads (whatsapp-cloud-api.md §3) as domain items, and the rules around them.
import { Option, Result } from "effect"
import { describe, expect, it } from "vitest"
import * as Webhook from "../src/Webhook.ts"

const WABA = "102290129340398"
const PHONE_ID = "106540352242922"

const notification = (field: string, value: unknown, wabaId = WABA) => ({
  object: "whatsapp_business_account",
  entry: [{ id: wabaId, changes: [{ field, value }] }]
})

const statusesValue = (statuses: ReadonlyArray<unknown>) => ({
  messaging_product: "whatsapp",
  metadata: { display_phone_number: "15550783881", phone_number_id: PHONE_ID },
  statuses
})

/** §3 status example, verbatim apart from the ellipses. */
const metaStatus = {
  id: "wamid.HBgNNDIwNjAxMTIzNDU2FQIAERgSQjVGQzE2RjA3QzZFQjRBQzc5AA==",
  status: "delivered",
  timestamp: "1750857384",
  recipient_id: "420601123456",
  biz_opaque_callback_data: "campaign42:contact977",
  conversation: { id: "a75d17ad2cb1e4ad1d1c5a2b0f5d57c3", expiration_timestamp: "1750943820", origin: { type: "marketing" } },
  pricing: { billable: true, pricing_model: "PMP", type: "regular", category: "marketing" }
}

const items = (body: unknown) => Result.getOrThrow(Webhook.decode(body)).items

describe("Webhook.decode: Meta's documented examples", () => {
  it("a delivered status: wamid, status, Meta's time, recipient, number, WABA, callback data", () => {
    expect(items(notification("messages", statusesValue([metaStatus])))).toEqual([{
      _tag: "StatusUpdate",
      wamid: metaStatus.id,
      status: "delivered",
      at: new Date(1750857384 * 1000),
      recipientId: "420601123456",
      phoneNumberId: PHONE_ID,
      wabaId: WABA,
      callbackData: "campaign42:contact977"
    }])
  })

  it("a failed status carries its first error, classified (131049 → recipient, contact)", () => {
    const failed = {
      ...metaStatus,
      status: "failed",
      errors: [
        { code: 131049, title: "This message was not delivered to maintain healthy ecosystem engagement.",
          message: "This message was not delivered to maintain healthy ecosystem engagement.",
          error_data: { details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered." },
          href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/" },
        { code: 131026, title: "second error is not used" }
      ]
    }
    const [item] = items(notification("messages", statusesValue([failed])))
    expect(item?._tag).toBe("StatusUpdate")
    if (item?._tag !== "StatusUpdate") return
    expect(item.status).toBe("failed")
    expect(item.error).toMatchObject({ code: "131049", errorClass: "recipient", scope: "contact" })
    expect(item.error?.text).toContain("the message failed to be delivered")
  })

  it("a failed status without a readable error still fails the contact, with an explanation", () => {
    const [item] = items(notification("messages", statusesValue([{ ...metaStatus, status: "failed", errors: "??" }])))
    expect(item).toMatchObject({ _tag: "StatusUpdate", status: "failed", error: { code: "unknown", errorClass: "recipient" } })
  })

  it("an inbound text message", () => {
    const value = {
      messaging_product: "whatsapp",
      metadata: { display_phone_number: "15550783881", phone_number_id: PHONE_ID },
      contacts: [{ profile: { name: "Anna" }, wa_id: "420601123456" }],
      messages: [{ from: "420601123456", id: "wamid.ABGGFlA5FpafAgo6EHeW", timestamp: "1504902988", type: "text", text: { body: "STOP" } }]
    }
    expect(items(notification("messages", value))).toEqual([{
      _tag: "InboundMessage",
      wabaId: WABA,
      phoneNumberId: PHONE_ID,
      from: "420601123456",
      wamid: "wamid.ABGGFlA5FpafAgo6EHeW",
      at: new Date(1504902988 * 1000),
      type: "text",
      text: "STOP"
    }])
  })

  it("a quick-reply button tap, with the template message it answers", () => {
    const value = {
      messaging_product: "whatsapp",
      metadata: { display_phone_number: "15550783881", phone_number_id: PHONE_ID },
      messages: [{
        context: { from: "15550783881", id: "wamid.TEMPLATE" },
        from: "420601123456", id: "wamid.REPLY", timestamp: "1504902988", type: "button",
        button: { payload: "STOP_PROMO", text: "Stop promotions" }
      }]
    }
    expect(items(notification("messages", value))[0]).toMatchObject({
      _tag: "InboundMessage", type: "button", buttonPayload: "STOP_PROMO", buttonText: "Stop promotions", contextWamid: "wamid.TEMPLATE"
    })
  })

  it("an interactive reply reads as a button", () => {
    const value = {
      metadata: { phone_number_id: PHONE_ID },
      messages: [{ from: "420601123456", id: "wamid.I", timestamp: "1504902988", type: "interactive",
        interactive: { type: "button_reply", button_reply: { id: "unsubscribe", title: "Odhlásit" } } }]
    }
    expect(items(notification("messages", value))[0]).toMatchObject({ buttonPayload: "unsubscribe", buttonText: "Odhlásit" })
  })

  it("message_template_status_update PAUSED (numeric template id)", () => {
    const body = {
      entry: [{ id: WABA, time: 1739321024, changes: [{ field: "message_template_status_update",
        value: { event: "PAUSED", message_template_id: 1689556908129832, message_template_name: "spring_sale",
          message_template_language: "cs", message_template_category: "MARKETING", reason: "NONE",
          other_info: { title: "FIRST_PAUSE", description: "Your message template has been paused for 3 hours." } } }] }],
      object: "whatsapp_business_account"
    }
    expect(items(body)).toEqual([{
      _tag: "TemplateStatusChange",
      wabaId: WABA,
      templateId: "1689556908129832",
      name: "spring_sale",
      language: "cs",
      category: "MARKETING",
      event: "PAUSED",
      reason: "NONE",
      otherInfo: { title: "FIRST_PAUSE", description: "Your message template has been paused for 3 hours." },
      rejectionReason: null
    }])
  })

  it("a REJECTED template with rejection_info and a null reason", () => {
    const value = { event: "REJECTED", message_template_id: "77", message_template_name: "x", message_template_language: "en",
      reason: null, rejection_info: { reason: "Promotional content", recommendation: "…" } }
    expect(items(notification("message_template_status_update", value))[0]).toMatchObject({
      event: "REJECTED", reason: null, otherInfo: null, rejectionReason: "Promotional content"
    })
  })

  it("message_template_quality_update", () => {
    const value = { previous_quality_score: "GREEN", new_quality_score: "RED", message_template_id: 806312974732579,
      message_template_name: "order_done", message_template_language: "cs" }
    expect(items(notification("message_template_quality_update", value))).toEqual([{
      _tag: "TemplateQualityUpdate", wabaId: WABA, templateId: "806312974732579", name: "order_done", language: "cs",
      previousScore: "GREEN", newScore: "RED"
    }])
  })

  it("phone_number_quality_update with a limit change", () => {
    const value = { display_phone_number: "15550783881", event: "UPGRADE", current_limit: "TIER_10K", old_limit: "TIER_2K",
      max_daily_conversations_per_business: "TIER_10K" }
    expect(items(notification("phone_number_quality_update", value))).toEqual([{
      _tag: "PhoneQualityUpdate", wabaId: WABA, displayPhoneNumber: "15550783881", event: "UPGRADE",
      currentLimit: "TIER_10K", oldLimit: "TIER_2K", maxDailyConversationsPerBusiness: "TIER_10K"
    }])
  })

  it("business_capability_update as a tier name and as integers", () => {
    expect(items(notification("business_capability_update", { max_daily_conversations_per_business: "TIER_2K" }))[0])
      .toMatchObject({ _tag: "CapabilityUpdate", maxDailyConversationsPerBusiness: "TIER_2K", maxDailyConversationPerPhone: null })
    expect(items(notification("business_capability_update", {
      max_daily_conversation_per_phone: -1, max_phone_numbers_per_business: 20, max_daily_conversations_per_business: 2000
    }))[0]).toMatchObject({ maxDailyConversationsPerBusiness: 2000, maxDailyConversationPerPhone: -1, maxPhoneNumbersPerBusiness: 20 })
  })

  it("account_update: a restriction of business-initiated messaging halts sending", () => {
    const value = { phone_number: "15550783881", event: "ACCOUNT_RESTRICTION",
      restriction_info: [{ restriction_type: "RESTRICTED_BIZ_INITIATED_MESSAGING", expiration: 1752000000 },
        { restriction_type: "RESTRICTED_ADD_PHONE_NUMBER_ACTION", expiration: 1752000000 }] }
    expect(items(notification("account_update", value))).toEqual([{
      _tag: "AccountUpdate", wabaId: WABA, event: "ACCOUNT_RESTRICTION", phoneNumber: "15550783881",
      restrictionTypes: ["RESTRICTED_BIZ_INITIATED_MESSAGING", "RESTRICTED_ADD_PHONE_NUMBER_ACTION"],
      violationType: null, banState: null, haltsSending: true
    }])
  })

  it("account_update: DISABLED_UPDATE with a ban halts sending; a violation alone does not", () => {
    expect(items(notification("account_update", { event: "DISABLED_UPDATE", ban_info: { waba_ban_state: ["DISABLE"], waba_ban_date: "x" } }))[0])
      .toMatchObject({ banState: "DISABLE", haltsSending: true })
    expect(items(notification("account_update", { event: "ACCOUNT_VIOLATION", violation_info: { violation_type: "SCAM" } }))[0])
      .toMatchObject({ violationType: "SCAM", haltsSending: false })
  })

  it("a system-level error (value.errors[], e.g. 130429)", () => {
    const value = { messaging_product: "whatsapp", metadata: { phone_number_id: PHONE_ID },
      errors: [{ code: 130429, title: "Rate limit hit", message: "(#130429) Rate limit hit", error_data: { details: "Cloud API message throughput has been reached." } }] }
    expect(items(notification("messages", value))[0]).toMatchObject({
      _tag: "SystemError", phoneNumberId: PHONE_ID, error: { code: "130429", errorClass: "rate_limited" }
    })
  })
})

describe("Webhook.decode: tolerance", () => {
  it("iterates every entry and change, in order", () => {
    const body = {
      object: "whatsapp_business_account",
      entry: [
        { id: "w1", changes: [
          { field: "messages", value: statusesValue([{ ...metaStatus, id: "a", status: "sent" }, { ...metaStatus, id: "b", status: "read" }]) },
          { field: "messages", value: statusesValue([{ ...metaStatus, id: "c" }]) }
        ] },
        { id: "w2", changes: [{ field: "messages", value: statusesValue([{ ...metaStatus, id: "d" }]) }] }
      ]
    }
    expect(items(body).map((i) => i._tag === "StatusUpdate" ? `${i.wabaId}:${i.wamid}:${i.status}` : i._tag))
      .toEqual(["w1:a:sent", "w1:b:read", "w1:c:delivered", "w2:d:delivered"])
  })

  it("an unknown field is kept as ignored with its name; the rest decodes", () => {
    const body = { entry: [{ id: WABA, changes: [
      { field: "smb_message_echoes", value: { anything: true } },
      { field: "messages", value: statusesValue([metaStatus]) }
    ] }] }
    const decoded = items(body)
    expect(decoded[0]).toEqual({ _tag: "Ignored", wabaId: WABA, field: "smb_message_echoes", reason: "field not handled" })
    expect(decoded[1]?._tag).toBe("StatusUpdate")
  })

  it("new fields and odd values of fields we do not need change nothing", () => {
    const odd = { ...metaStatus, conversation: 42, pricing: "new", user_id: "BSUID.1", brand_new: { nested: [1] },
      biz_opaque_callback_data: 12 }
    const [item] = items(notification("messages", { ...statusesValue([odd]), metadata: { phone_number_id: 106540352242922 } }))
    expect(item).toMatchObject({ _tag: "StatusUpdate", wamid: metaStatus.id, phoneNumberId: "106540352242922" })
    expect(item && "callbackData" in item).toBe(false)
  })

  it("one unreadable status does not sink its neighbours; rare statuses are ignored", () => {
    const decoded = items(notification("messages", statusesValue([
      { id: 5 }, { ...metaStatus, status: "deleted" }, { ...metaStatus, timestamp: "soon" }, metaStatus
    ])))
    expect(decoded.map((i) => i._tag)).toEqual(["Ignored", "Ignored", "Ignored", "StatusUpdate"])
    expect(decoded[1]).toMatchObject({ reason: expect.stringContaining(`"deleted"`) })
  })

  it("a body without entry[] is a decode error, not an exception", () => {
    for (const body of [null, 42, "x", [], {}, { entry: 3 }]) {
      expect(Result.isFailure(Webhook.decode(body))).toBe(true)
    }
    expect(Result.getOrThrow(Webhook.decode({ entry: [] })).items).toEqual([])
    expect(items({ entry: [7, { id: "w", changes: [null] }] }).map((i) => i._tag === "Ignored" ? i.field : "")).toEqual(["(entry)", "(change)"])
  })

  it("timestamps: string or number seconds; nonsense is none", () => {
    expect(Webhook.parseTimestamp("1750857384")).toEqual(new Date(1750857384000))
    expect(Webhook.parseTimestamp(1750857384)).toEqual(new Date(1750857384000))
    expect(Webhook.parseTimestamp("")).toBeUndefined()
    expect(Webhook.parseTimestamp("-1")).toBeUndefined()
    expect(Webhook.parseTimestamp("1e99")).toBeUndefined()
    expect(Webhook.parseTimestamp(1e20)).toBeUndefined()
  })
})

describe("Webhook.toStatusReport", () => {
  const update = (overrides: Partial<Webhook.StatusUpdate> = {}): Webhook.StatusUpdate => ({
    _tag: "StatusUpdate", wamid: "wamid.X", status: "delivered", at: new Date(1750857384000), recipientId: "420601123456",
    phoneNumberId: PHONE_ID, wabaId: WABA, ...overrides
  })

  it("delivery statuses become StatusReported with Meta's time and the wa_id", () => {
    expect(Webhook.toStatusReport(update())).toEqual({
      wamid: "wamid.X",
      event: { _tag: "StatusReported", status: "delivered", at: new Date(1750857384000), wamid: "wamid.X", waId: "420601123456" }
    })
  })

  it("failed becomes FailureReported with the classified error", () => {
    const error = { errorClass: "recipient", scope: "contact", code: "131026", text: "undeliverable" } as const
    expect(Webhook.toStatusReport(update({ status: "failed", error }), "977")).toEqual({
      wamid: "wamid.X", contactId: "977", event: { _tag: "FailureReported", error, at: new Date(1750857384000), wamid: "wamid.X" }
    })
  })

  it("the contact id comes from our callback data unless given; foreign callback data gives none", () => {
    expect(Webhook.toStatusReport(update({ callbackData: "mp1:977:2" })).contactId).toBe("977")
    expect(Webhook.toStatusReport(update({ callbackData: "mp1:977:2" }), "5").contactId).toBe("5")
    expect("contactId" in Webhook.toStatusReport(update({ callbackData: "campaign42:contact977" }))).toBe(false)
  })
})

describe("callback data", () => {
  it("encodes as mp1:<contactId>:<attempt> and reads back", () => {
    expect(Webhook.encodeCallbackData({ contactId: "977", attempt: 2 })).toBe("mp1:977:2")
    expect(Webhook.decodeCallbackData("mp1:977:2")).toEqual(Option.some({ contactId: "977", attempt: 2 }))
  })

  it("anything else is none", () => {
    for (const text of ["", "mp1", "mp1:977", "mp1::2", "mp2:977:2", "mp1:0977:2", "mp1:977:02", "mp1:x:2", " mp1:977:2",
      "mp1:977:2 ", "mp1:977:2:1", "campaign42:contact977", "mp1:1234567890123456789:1"]) {
      expect(Option.isNone(Webhook.decodeCallbackData(text))).toBe(true)
    }
  })
})

describe("opt-out replies", () => {
  it("whole replies, any case, with or without diacritics and punctuation", () => {
    for (const reply of ["STOP", "stop", " Stop. ", "STOP!!!", "Odhlásit", "ODHLASIT", "odhlásit se", "Unsubscribe 🙏", "stop all"]) {
      expect(Webhook.isOptOut(reply), reply).toBe(true)
    }
  })

  it("not a word inside a sentence, not another word", () => {
    for (const reply of ["please stop", "Don't stop me now", "stopka", "ok", "", "odhlásit zítra"]) {
      expect(Webhook.isOptOut(reply), reply).toBe(false)
    }
  })

  it("button payloads may start with a word", () => {
    expect(Webhook.isOptOut({ payload: "STOP_PROMO" })).toBe(true)
    expect(Webhook.isOptOut({ payload: "unsubscribe" })).toBe(true)
    expect(Webhook.isOptOut({ payload: "STOPWATCH" })).toBe(false)
    expect(Webhook.isOptOut({ payload: "CONFIRM_ORDER" })).toBe(false)
  })

  it("configurable words replace the defaults", () => {
    expect(Webhook.isOptOut("KONEC", ["konec"])).toBe(true)
    expect(Webhook.isOptOut("stop", ["konec"])).toBe(false)
  })

  it("an inbound message opts out by its text, button text or payload", () => {
    const base: Webhook.InboundMessage = { _tag: "InboundMessage", wabaId: WABA, phoneNumberId: PHONE_ID, from: "420601123456",
      wamid: "w", at: new Date(0), type: "text" }
    expect(Webhook.isOptOutMessage({ ...base, text: "Stop" })).toBe(true)
    expect(Webhook.isOptOutMessage({ ...base, type: "button", buttonPayload: "STOP_PROMO", buttonText: "Stop promotions" })).toBe(true)
    expect(Webhook.isOptOutMessage({ ...base, type: "button", buttonPayload: "X", buttonText: "Odhlásit" })).toBe(true)
    expect(Webhook.isOptOutMessage({ ...base, text: "Díky!" })).toBe(false)
    expect(Webhook.isOptOutMessage({ ...base, type: "image" })).toBe(false)
  })
})
