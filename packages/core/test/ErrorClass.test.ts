import { describe, it, expect } from "vitest"
import fc from "fast-check"
import {
  classifyGraphError,
  classifyTransportFailure,
  classifyWebhookError,
  detailsNameRecipient,
  errorCodeTable,
  explain,
  lookup,
  parseRetryAfter,
  type ClassifiedError,
  type ErrorClass,
  type ErrorScope
} from "../src/ErrorClass.ts"

const graphBody = (code: number, extra: Record<string, unknown> = {}) => ({
  error: {
    message: `(#${code}) Some title`,
    type: "OAuthException",
    code,
    error_data: { messaging_product: "whatsapp", details: "some detail" },
    fbtrace_id: "Az8or2yhqkZfEZ-_4Qn_Bam",
    ...extra
  }
})

// Every code of §2, with the class and scope the sender acts on.
const expected: ReadonlyArray<readonly [number, ErrorClass, ErrorScope, { retryAfterMs?: number; attemptLimit?: number }?]> = [
  [0, "auth", "waba"],
  [1, "transient", "contact", { attemptLimit: 3 }],
  [2, "transient", "app"],
  [3, "auth", "waba"],
  [4, "rate_limited", "app", { retryAfterMs: 60_000 }],
  [10, "auth", "waba"],
  [100, "template", "template"],
  [190, "auth", "waba"],
  [200, "auth", "waba"],
  [250, "auth", "waba"],
  [299, "auth", "waba"],
  [368, "account", "waba"],
  [80007, "rate_limited", "waba", { retryAfterMs: 60_000 }],
  [130429, "rate_limited", "phone_number", { retryAfterMs: 1_000 }],
  [130472, "recipient", "contact"],
  [130497, "recipient", "contact"],
  [131000, "transient", "contact", { attemptLimit: 3 }],
  [131005, "account", "waba"],
  [131008, "template", "template"],
  [131009, "template", "template"],
  [131016, "transient", "app"],
  [131021, "recipient", "contact"],
  [131026, "recipient", "contact"],
  [131030, "recipient", "contact"],
  [131031, "account", "waba"],
  [131042, "account", "waba"],
  [131045, "account", "phone_number"],
  [131047, "recipient", "contact"],
  [131048, "account", "phone_number"],
  [131049, "recipient", "contact"],
  [131050, "recipient", "contact"],
  [131051, "template", "template"],
  [131052, "template", "template"],
  [131053, "template", "template"],
  [131056, "rate_limited", "contact", { retryAfterMs: 6_000 }],
  [131057, "rate_limited", "phone_number", { retryAfterMs: 60_000 }],
  [132000, "template", "template"],
  [132001, "template", "template"],
  [132005, "recipient", "contact"],
  [132007, "recipient", "contact"],
  [132008, "recipient", "contact"],
  [132012, "template", "template"],
  [132015, "template", "template"],
  [132016, "template", "template"],
  [132018, "recipient", "contact"],
  [132068, "template", "template"],
  [132069, "rate_limited", "template", { retryAfterMs: 3_600_000 }],
  [133004, "transient", "app"],
  [135000, "transient", "contact", { attemptLimit: 2 }]
]

describe("classification table", () => {
  for (const [code, errorClass, scope, limits] of expected) it(`code ${code} → ${errorClass} / ${scope}`, () => {
    const fromGraph = classifyGraphError({ httpStatus: 400, body: graphBody(code) })
    expect(fromGraph.errorClass).toBe(errorClass)
    expect(fromGraph.scope).toBe(scope)
    expect(fromGraph.code).toBe(String(code))
    expect(fromGraph.retryAfterMs).toBe(limits?.retryAfterMs)
    expect(fromGraph.attemptLimit).toBe(limits?.attemptLimit)
    expect(fromGraph.fbtraceId).toBe("Az8or2yhqkZfEZ-_4Qn_Bam")

    const fromWebhook = classifyWebhookError({ code, title: "Some title", message: "Some title", error_data: { details: "x" } })
    expect(fromWebhook.errorClass).toBe(errorClass)
    expect(fromWebhook.scope).toBe(scope)
  })

  it("covers every table entry with a test row", () => {
    const tested = new Set(expected.map(([code]) => code))
    for (const entry of errorCodeTable) {
      expect(tested.has(entry.code)).toBe(true)
      if (entry.through !== undefined) expect(tested.has(entry.through)).toBe(true)
      expect(entry.reason).not.toBe("")
    }
    expect(lookup(300)).toBeUndefined()
    expect(lookup(199)?.code).toBeUndefined()
  })

  it("lists no code twice", () => {
    const codes = errorCodeTable.map((entry) => entry.code)
    expect(new Set(codes).size).toBe(codes.length)
  })
})

describe("codes decided by details (100, 131009)", () => {
  const recipientDetails = [
    "Invalid parameter 'to'",
    "Param to must be a valid phone number",
    "The recipient phone number is invalid",
    "Invalid wa_id",
    "parameter to is not a valid WhatsApp number"
  ]
  const payloadDetails = [
    "Unable to process the request",
    "Invalid phone_number_id",
    "Unsupported field: componnents",
    "The business phone number is not registered",
    "Invalid phone number ID",
    "Media link https://example.com/a.jpg is not reachable"
  ]
  it.each([100, 131009])("code %i with recipient details → recipient / contact", (code) => {
    for (const details of recipientDetails) {
      const c = classifyGraphError({ httpStatus: 400, body: graphBody(code, { error_data: { details } }) })
      expect([details, c.errorClass, c.scope]).toEqual([details, "recipient", "contact"])
      expect(c.text).toBe(`(#${code}) ${lookup(code)?.title} — ${details}`)
    }
  })
  it.each([100, 131009])("code %i with payload details → template / template", (code) => {
    for (const details of payloadDetails) {
      const c = classifyGraphError({ httpStatus: 400, body: graphBody(code, { error_data: { details } }) })
      expect([details, c.errorClass, c.scope]).toEqual([details, "template", "template"])
    }
  })
  it("without details it is a payload problem", () => {
    const c = classifyWebhookError({ code: 131009 })
    expect(c.errorClass).toBe("template")
    expect(detailsNameRecipient(undefined)).toBe(false)
  })
})

describe("text", () => {
  it("reads well for an operator, using our title and Meta's details", () => {
    const c = classifyWebhookError({ code: 131026, title: "Message undeliverable", message: "Message undeliverable" })
    expect(c.text).toBe("(#131026) Message undeliverable — the number is not on WhatsApp or cannot receive this message")
    const d = classifyGraphError({
      httpStatus: 400,
      body: graphBody(132000, { error_data: { details: "body: number of localizable_params (0) does not match the expected number of params (1)" } })
    })
    expect(d.text).toBe("(#132000) Parameter count mismatch — body: number of localizable_params (0) does not match the expected number of params (1)")
  })

  it("keeps fbtraceId only when present", () => {
    const c = classifyGraphError({ httpStatus: 400, body: { error: { code: 131026 } } })
    expect("fbtraceId" in c).toBe(false)
    expect(c.text).toBe("(#131026) Message undeliverable — the number is not on WhatsApp or cannot receive this message")
  })
})

describe("fallback by HTTP status", () => {
  const cases: ReadonlyArray<readonly [number, ErrorClass, ErrorScope, number | undefined]> = [
    [429, "rate_limited", "phone_number", undefined],
    [401, "auth", "waba", undefined],
    [403, "auth", "waba", undefined],
    [500, "transient", "contact", undefined],
    [503, "transient", "contact", undefined],
    [599, "transient", "contact", undefined],
    [408, "transient", "contact", undefined],
    [400, "transient", "contact", 1],
    [404, "transient", "contact", 1],
    [302, "transient", "contact", 1],
    [600, "transient", "contact", 1]
  ]
  it.each(cases)("HTTP %i without a code → %s / %s", (httpStatus, errorClass, scope, attemptLimit) => {
    for (const body of [undefined, "", "<html>Bad gateway</html>", { error: "nope" }, { foo: 1 }, null, [1, 2]]) {
      const c = classifyGraphError({ httpStatus, body })
      expect(c.errorClass).toBe(errorClass)
      expect(c.scope).toBe(scope)
      expect(c.code).toBe(`http_${httpStatus}`)
      expect(c.attemptLimit).toBe(attemptLimit)
    }
  })

  it("says an unexpected 4xx was not understood", () => {
    const c = classifyGraphError({ httpStatus: 418, body: "<html>teapot</html>" })
    expect(c.text).toContain("not understood")
    expect(c.text.startsWith("HTTP 418")).toBe(true)
  })

  it("keeps an unknown numeric code and decides by status", () => {
    const body = { error: { message: "(#999999) Brand new error", code: 999999, fbtrace_id: "T1",
      error_data: { details: "more" } } }
    const limited = classifyGraphError({ httpStatus: 429, body })
    expect([limited.errorClass, limited.code, limited.fbtraceId]).toEqual(["rate_limited", "999999", "T1"])
    expect(limited.text).toBe("(#999999) Too many requests — slowing down (Brand new error: more)")
    const unknown = classifyGraphError({ httpStatus: 400, body })
    expect([unknown.errorClass, unknown.attemptLimit]).toEqual(["transient", 1])
    expect(classifyGraphError({ httpStatus: 502, body }).errorClass).toBe("transient")
    expect(classifyGraphError({ httpStatus: 401, body }).text).toContain("Unauthorised")
    expect(classifyGraphError({ httpStatus: 403, body }).text).toContain("Forbidden")
  })

  it("still finds the code when other fields have odd types", () => {
    const c = classifyGraphError({ httpStatus: 400, body: { error: { code: 131026, message: 42, fbtrace_id: null } } })
    expect([c.errorClass, c.code]).toEqual(["recipient", "131026"])
  })

  it("classifies an unknown webhook code as not understood", () => {
    const c = classifyWebhookError({ code: 777, title: "Mystery", error_data: { details: "d" } })
    expect([c.errorClass, c.scope, c.code, c.attemptLimit]).toEqual(["transient", "contact", "777", 1])
    expect(c.text).toBe("(#777) Unknown error — response not understood; giving up on this contact after one attempt (Mystery: d)")
  })
})

describe("Retry-After", () => {
  const now = new Date("2025-06-01T12:00:00Z")
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("30", undefined)).toBe(30_000)
    expect(parseRetryAfter(" 1.5 ", undefined)).toBe(1_500)
    expect(parseRetryAfter("Sun, 01 Jun 2025 12:02:00 GMT", now)).toBe(120_000)
    expect(parseRetryAfter("Sun, 01 Jun 2025 11:00:00 GMT", now)).toBe(0)
    expect(parseRetryAfter("Sun, 01 Jun 2025 12:02:00 GMT", undefined)).toBeUndefined()
    expect(parseRetryAfter("soon", now)).toBeUndefined()
    expect(parseRetryAfter("", now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })

  it("waits for the longer of header and code advice", () => {
    expect(classifyGraphError({ httpStatus: 429, body: graphBody(130429), retryAfter: "5" }).retryAfterMs).toBe(5_000)
    expect(classifyGraphError({ httpStatus: 429, body: graphBody(131056), retryAfter: "2" }).retryAfterMs).toBe(6_000)
    expect(classifyGraphError({ httpStatus: 429, body: "", retryAfter: "Sun, 01 Jun 2025 12:00:10 GMT", now }).retryAfterMs)
      .toBe(10_000)
    expect(classifyGraphError({ httpStatus: 503, body: "", retryAfter: "7" }).retryAfterMs).toBe(7_000)
  })

  it("is ignored for final classes", () => {
    expect(classifyGraphError({ httpStatus: 400, body: graphBody(131026), retryAfter: "5" }).retryAfterMs).toBeUndefined()
  })
})

describe("transport failures", () => {
  it.each(["timeout", "network", "malformed_response"] as const)("%s → transient", (kind) => {
    const c = classifyTransportFailure(kind, "after 30 s")
    expect([c.errorClass, c.scope, c.code]).toEqual(["transient", "contact", kind])
    expect(c.text.endsWith("(after 30 s)")).toBe(true)
    expect(classifyTransportFailure(kind, "  ").text).toBe(explain(kind))
  })
  it("tells that a timed-out request may have reached Meta", () => {
    expect(classifyTransportFailure("timeout", "").text).toContain("may have reached Meta")
    expect(classifyTransportFailure("timeout", "").text).toContain("outcome unknown")
  })
})

describe("explain", () => {
  it("explains table codes, HTTP fallbacks, transport kinds and unknowns", () => {
    expect(explain(131026)).toBe(
      "(#131026) Message undeliverable — the number is not on WhatsApp or cannot receive this message; " +
        "mark the contact undeliverable; maybe try again in a later campaign."
    )
    expect(explain("250")).toContain("API permission error")
    expect(explain("http_503")).toContain("HTTP 503")
    expect(explain("http_418")).toContain("not understood")
    expect(explain("timeout")).toContain("may have reached Meta")
    expect(explain("999999")).toBe("(#999999) Unknown error code — see Meta's error-codes page")
    expect(explain("nonsense")).toContain("Unknown error code")
  })
  it("stays a short one-liner for every entry", () => {
    for (const entry of errorCodeTable) {
      const line = explain(entry.code)
      expect(line).not.toContain("\n")
      expect(line.length).toBeLessThan(200)
    }
  })
})

describe("properties", () => {
  const isClassified = (c: ClassifiedError): boolean =>
    typeof c.text === "string" && c.text.length > 0 && typeof c.code === "string" && c.code.length > 0

  it("is total: any body and any status give a classification", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 1000 }), fc.anything(), fc.option(fc.string(), { nil: undefined }), (httpStatus, body, retryAfter) => {
        expect(isClassified(classifyGraphError({ httpStatus, body, retryAfter, now: new Date(0) }))).toBe(true)
      })
    )
  })

  it("is total for Meta-shaped bodies with arbitrary fields", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.record({
          error: fc.record({
            code: fc.oneof(fc.integer(), fc.constantFrom(...expected.map(([code]) => code)), fc.jsonValue()),
            message: fc.oneof(fc.string(), fc.jsonValue()),
            error_data: fc.record({ details: fc.oneof(fc.string(), fc.jsonValue()) }, { requiredKeys: [] }),
            fbtrace_id: fc.oneof(fc.string(), fc.jsonValue())
          }, { requiredKeys: [] })
        }),
        (httpStatus, body) => {
          expect(isClassified(classifyGraphError({ httpStatus, body }))).toBe(true)
        }
      )
    )
  })

  it("never classifies by the message title", () => {
    fc.assert(
      fc.property(fc.constantFrom(...expected.map(([code]) => code)), fc.string(), fc.string(), fc.integer({ min: 400, max: 599 }),
        (code, titleA, titleB, httpStatus) => {
          const a = classifyGraphError({ httpStatus, body: { error: { code, message: titleA, error_data: { details: "x" } } } })
          const b = classifyGraphError({ httpStatus, body: { error: { code, message: titleB, error_data: { details: "x" } } } })
          expect([b.errorClass, b.scope]).toEqual([a.errorClass, a.scope])
          const w = classifyWebhookError({ code, title: titleB, message: titleA, error_data: { details: "x" } })
          expect([w.errorClass, w.scope]).toEqual([a.errorClass, a.scope])
        })
    )
  })

  it("known codes classify the same whatever the HTTP status", () => {
    fc.assert(
      fc.property(fc.constantFrom(...expected.map(([code]) => code)), fc.integer({ min: 100, max: 599 }), (code, httpStatus) => {
        expect(classifyGraphError({ httpStatus, body: graphBody(code) }).errorClass)
          .toBe(classifyGraphError({ httpStatus: 400, body: graphBody(code) }).errorClass)
      })
    )
  })

  it("rate_limited never carries an attemptLimit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 700 }), fc.oneof(fc.integer(), fc.constantFrom(...expected.map(([code]) => code))),
        fc.option(fc.nat({ max: 100_000 }).map(String), { nil: undefined }),
        (httpStatus, code, retryAfter) => {
          const c = classifyGraphError({ httpStatus, body: { error: { code } }, retryAfter })
          if (c.errorClass === "rate_limited") expect(c.attemptLimit).toBeUndefined()
          const w = classifyWebhookError({ code })
          if (w.errorClass === "rate_limited") expect(w.attemptLimit).toBeUndefined()
        })
    )
  })
})
