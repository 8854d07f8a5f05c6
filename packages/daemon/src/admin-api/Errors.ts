/**
 * The admin API's errors, each with its HTTP status and a `message` for people: what went wrong and how to fix
 * it. They travel as JSON `{ "_tag": …, "message": …, … }`, so a client derived from the API (HttpApiClient)
 * gets them back as these same classes.
 */
import { Schema } from "effect"

/** 400: the request is not what the endpoint takes (a field, a parameter, a CSV header, a filter). */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", {
  message: Schema.String
}, { httpApiStatus: 400, description: "The request is not valid; the message says what to change." }) {}

/** 400: filter text that does not parse, with where the problem is (as `Filter.parse` reports it). */
export class InvalidFilter extends Schema.TaggedError<InvalidFilter>()("InvalidFilter", {
  message: Schema.String,
  /** 1-based line of the problem. */
  line: Schema.Number,
  /** 1-based column, in characters. */
  column: Schema.Number,
  /** 0-based offset into the text (UTF-16 units). */
  offset: Schema.Number,
  expected: Schema.String,
  found: Schema.String,
  hint: Schema.String
}, { httpApiStatus: 400, description: "The filter text does not parse; line, column and hint say where and how to fix it." }) {}

/** 401: no bearer token, or not the right one. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  message: Schema.String
}, { httpApiStatus: 401, description: "Missing or wrong `Authorization: Bearer <MEGAPHONE_ADMIN_TOKEN>`." }) {}

/** 404: the thing the path names does not exist. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  /** What kind of thing: account, campaign, filter, contact. */
  entity: Schema.String,
  key: Schema.String,
  message: Schema.String
}, { httpApiStatus: 404, description: "The account, campaign, filter or contact in the path does not exist." }) {}

/** 409: the operation does not fit the current state, the name is taken, or someone changed the thing first. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  message: Schema.String
}, { httpApiStatus: 409, description: "Not allowed in the current state, already exists, or changed meanwhile: re-read and decide again." }) {}

/** 503: the database failed or is unreachable, or the admin API has no token configured. */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  message: Schema.String
}, { httpApiStatus: 503, description: "The database is unavailable (try again shortly), or MEGAPHONE_ADMIN_TOKEN is not set." }) {}

/** 503 on `/readyz`: the database did not answer in time. */
export class NotReady extends Schema.TaggedError<NotReady>()("NotReady", {
  message: Schema.String
}, { httpApiStatus: 503, description: "The database did not answer `select 1` within 2 seconds." }) {}
