// Shared fast-check generators for the core's property tests.
import fc from "fast-check"
import type { ClassifiedError, ErrorClass } from "../src/ErrorClass.ts"

/** Any of the six error classes. */
export const errorClass: fc.Arbitrary<ErrorClass> = fc.constantFrom(
  "rate_limited", "transient", "recipient", "template", "account", "auth"
)

/** A classified error of any class, sometimes with Retry-After and a per-code attempt limit. */
export const classifiedError: fc.Arbitrary<ClassifiedError> = fc.record({
  errorClass,
  code: fc.constantFrom("130429", "131000", "131026", "132001", "131031", "190", "timeout"),
  text: fc.string({ maxLength: 20 }),
  scope: fc.constantFrom("contact", "template", "phone_number", "waba", "app")
}).chain((base) =>
  fc.record({
    retryAfterMs: fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined }),
    attemptLimit: base.errorClass === "transient" ? fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }) : fc.constant(undefined)
  }).map(({ retryAfterMs, attemptLimit }) => ({
    ...base,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(attemptLimit === undefined ? {} : { attemptLimit })
  }))
)

/** An instant in 2026. */
export const instant: fc.Arbitrary<Date> = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 11, 31) }).map((ms) => new Date(ms))
