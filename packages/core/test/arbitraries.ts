// Shared fast-check generators for the core's property tests.
import fc from "fast-check"
import type { ClassifiedError, ErrorClass } from "../src/ErrorClass.ts"
import * as Filter from "../src/Filter.ts"

/** Any of the six error classes. */
export const errorClass: fc.Arbitrary<ErrorClass> = fc.constantFrom(
  "rate_limited", "transient", "recipient", "template", "account", "auth"
)

/** A classified error of any class, sometimes with Retry-After and a per-code attempt limit. */
export const classifiedError: fc.Arbitrary<ClassifiedError> = fc.record({
  errorClass,
  code: fc.constantFrom("130429", "131000", "131026", "132001", "131031", "190", "timeout", "malformed_response", "network"),
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

/** Filters over the given columns and values, nested a few levels. */
export const filterOf = (column: fc.Arbitrary<string>, value: fc.Arbitrary<Filter.Value>): fc.Arbitrary<Filter.Filter> =>
  fc.letrec<{ filter: Filter.Filter }>((tie) => {
    const operands = fc.array(tie("filter"), { minLength: 2, maxLength: 3 })
      .map((fs) => fs as unknown as readonly [Filter.Filter, Filter.Filter, ...Array<Filter.Filter>])
    return {
      filter: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.tuple(fc.constantFrom("Equals", "NotEquals", "Contains", "StartsWith", "Lt", "Lte", "Gt", "Gte"), column, value)
          .map(([_tag, c, v]): Filter.Filter => ({ _tag, column: c, value: v })),
        column.map(Filter.empty),
        column.map(Filter.notEmpty),
        fc.tuple(column, fc.array(value, { minLength: 1, maxLength: 3 }))
          .map(([c, vs]) => Filter.isIn(c, vs as unknown as readonly [Filter.Value, ...Array<Filter.Value>])),
        operands.map((filters): Filter.Filter => ({ _tag: "And", filters })),
        operands.map((filters): Filter.Filter => ({ _tag: "Or", filters })),
        tie("filter").map(Filter.not)
      )
    }
  }).filter

