/**
 * The ten states of a contact inside a campaign (SPEC §5) and the one function that moves between them.
 *
 * Storage only persists what `transition` returns. Two rules make concurrent, duplicated and reordered
 * events harmless:
 * - progress is ranked (pending < sent < delivered < read < sending_failed) and never goes down — the one
 *   exception is an operator's `RetryRequested`, which puts an `error` or `sending_failed` contact back to `initial`;
 * - evidence that Meta has the message (an accepted response, a `sent`/`delivered`/`read` webhook) wins over
 *   what we believed, because a message that went out must never be reported as unsent — and never re-sent.
 */
import { Result, Schema } from "effect"
import type { ClassifiedError, ErrorClass } from "./ErrorClass.ts"
import type { RetryDecision } from "./RetryPolicy.ts"

/** The state ids, exactly as the CLI, the JSON API and the database spell them. */
export const states = [
  "initial",
  "in_progress",
  "sent",
  "delivered",
  "read",
  "retry_scheduled",
  "error",
  "invalid_record",
  "sending_failed",
  "cancelled"
] as const

/** One of the ten contact states. */
export type ContactStateId = (typeof states)[number]

/** A state's name for people, in English and in the seed's Czech. */
export const labels: Readonly<Record<ContactStateId, { readonly en: string; readonly cs: string }>> = {
  initial: { en: "Initial", cs: "Počáteční" },
  in_progress: { en: "In progress", cs: "Probíhá" },
  sent: { en: "Sent", cs: "Odesláno" },
  delivered: { en: "Delivered", cs: "Doručeno" },
  read: { en: "Read", cs: "Přečteno" },
  retry_scheduled: { en: "Retry scheduled", cs: "Naplánováno opakování" },
  error: { en: "Error", cs: "Chyba" },
  invalid_record: { en: "Invalid record", cs: "Neplatný záznam" },
  sending_failed: { en: "Sending failed", cs: "Odesílání se nezdařilo" },
  cancelled: { en: "Cancelled by administrator", cs: "Zrušeno administrátorem" }
}

/** What each state means, for help texts and docs. */
export const meanings: Readonly<Record<ContactStateId, string>> = {
  initial: "just added, waiting to be sent",
  in_progress: "the template message is being sent now",
  sent: "Meta accepted the message",
  delivered: "delivered to the phone",
  read: "read by the customer",
  retry_scheduled: "will be sent again at the next attempt time",
  error: "failed on every attempt; no more attempts",
  invalid_record: "the phone number is not a valid number",
  sending_failed: "the provider reported a failure for this message",
  cancelled: "the campaign ended before this contact was sent"
}

/** Waiting or being sent: the campaign is not finished while any contact is in one of these. */
export const pendingStates: ReadonlyArray<ContactStateId> = ["initial", "in_progress", "retry_scheduled"]

/** True while the contact still waits for (or is in) a send. */
export const isPending = (state: ContactStateId): boolean => pendingStates.includes(state)

/** True once nothing more will be sent to the contact (delivery reports may still arrive). */
export const isSettled = (state: ContactStateId): boolean => !isPending(state)

/** True for the states a stopped campaign cancels: everything not yet sent. */
export const isCancellable = (state: ContactStateId): boolean => isPending(state)

/** The final states an operator may put back to `initial` (`RetryRequested`): the ones that failed. */
export const retryableStates: ReadonlyArray<ContactStateId> = ["error", "sending_failed"]

/** True for a state `RetryRequested` applies to. */
export const isRetryable = (state: ContactStateId): boolean => retryableStates.includes(state)

/** The delivery statuses Meta reports in webhooks, in the order they happen. */
export type DeliveryStatus = "sent" | "delivered" | "read"

/**
 * Progress rank: a contact's rank never decreases. States we only believed (never sent, cancelled, errored)
 * rank 0, so evidence of a real send lifts them; a reported failure is the last word.
 */
export const rank = (state: ContactStateId): number => {
  switch (state) {
    case "sent":
      return 1
    case "delivered":
      return 2
    case "read":
      return 3
    case "sending_failed":
      return 4
    default:
      return 0
  }
}

/** The last failure of a contact, as shown in its row. */
export interface LastError {
  readonly code: string
  readonly text: string
  readonly errorClass?: ErrorClass
}

/** The per-contact progress that the state machine owns; storage persists it next to the contact's identity. */
export interface ContactProgress {
  readonly state: ContactStateId
  /** Attempts that count against the retry limit (rate-limited tries are refunded). */
  readonly attempts: number
  /** Tries Meta rate-limited: they did not count, but make the next backoff longer. */
  readonly throttledAttempts: number
  readonly nextAttemptAt: Date | null
  /** While `in_progress`: when the claim expires and the outcome counts as unknown. */
  readonly leaseExpiresAt: Date | null
  readonly lastError: LastError | null
  /** Meta's message id, once known. */
  readonly wamid: string | null
  /** The WhatsApp id Meta resolved the number to (may differ from what we sent, e.g. Brazil, Mexico). */
  readonly waId: string | null
  /** When each state was (last) entered; delivery states carry Meta's own timestamps. */
  readonly stateTimes: Readonly<Partial<Record<ContactStateId, Date>>>
}

/** Something that happens to a contact. */
export type ContactEvent =
  /** The dispatcher claimed the contact for a send; the lease bounds how long the claim holds. */
  | { readonly _tag: "Claimed"; readonly leaseExpiresAt: Date }
  /** Meta answered 200 with a wamid. */
  | { readonly _tag: "Accepted"; readonly wamid: string; readonly waId: string | null }
  /** The send failed synchronously (HTTP error, network, timeout); `decision` comes from the retry policy. */
  | { readonly _tag: "AttemptFailed"; readonly error: ClassifiedError; readonly decision: RetryDecision }
  /** The claim's lease ran out while `in_progress`: the daemon died or hung; the outcome is unknown. */
  | { readonly _tag: "LeaseExpired"; readonly decision: RetryDecision }
  /** The claim is handed back unsent (campaign paused before the request left); no attempt is used. */
  | { readonly _tag: "Released" }
  /** A status webhook: sent, delivered or read, with Meta's timestamp. */
  | {
    readonly _tag: "StatusReported"
    readonly status: DeliveryStatus
    readonly at: Date
    readonly wamid: string
    readonly waId?: string
  }
  /** A `failed` status webhook: the message was accepted but not delivered. */
  | { readonly _tag: "FailureReported"; readonly error: ClassifiedError; readonly at: Date; readonly wamid: string }
  /** The campaign was stopped by an administrator. */
  | { readonly _tag: "Cancelled" }
  /** The recipient opted out (replied STOP, or was put on the suppression list) before this contact was sent. */
  | { readonly _tag: "OptedOut"; readonly reason: string }
  /**
   * An operator asked to send a failed contact again (`campaigns retry`): the one move back to pending, from
   * {@link retryableStates} only, with a new attempt budget.
   */
  | { readonly _tag: "RetryRequested" }
  /**
   * The campaign's send window is closed for the recipient: a waiting contact (`initial`, `retry_scheduled`) is due
   * again at `until`, its next opening. No attempt is used and the state stays.
   */
  | { readonly _tag: "Deferred"; readonly until: Date }

/** An event that does not apply to the contact's current state. Safe to log and drop. */
export class InvalidTransition extends Schema.TaggedError<InvalidTransition>()("InvalidTransition", {
  from: Schema.String,
  event: Schema.String,
  reason: Schema.String
}) {}

/** A contact just added to a campaign. */
export const initial = (now: Date): ContactProgress => ({
  state: "initial",
  attempts: 0,
  throttledAttempts: 0,
  nextAttemptAt: null,
  leaseExpiresAt: null,
  lastError: null,
  wamid: null,
  waId: null,
  stateTimes: { initial: now }
})

/** A contact whose record cannot be sent (bad phone number, say); it is kept, with the reason, never dropped. */
export const invalidRecord = (now: Date, reason: LastError): ContactProgress => ({
  ...initial(now),
  state: "invalid_record",
  lastError: reason,
  stateTimes: { invalid_record: now }
})

/** Whether the contact may be claimed now: initial, or a retry, whose time (if it has one: a retry's, a window's) has come. */
export const isDue = (row: ContactProgress, now: Date): boolean =>
  (row.state === "initial" || row.state === "retry_scheduled") &&
  (row.nextAttemptAt === null || row.nextAttemptAt.getTime() <= now.getTime())

/**
 * The number of the send in flight or last made: it goes into biz_opaque_callback_data, so a webhook can be
 * tied to the exact attempt even when its wamid was never stored. Rate-limited tries keep their number.
 */
export const attemptNumber = (row: ContactProgress): number => row.attempts + row.throttledAttempts

/** Apply one event. Duplicate and out-of-order reports return the row unchanged (or only fill a timestamp). */
export const transition = (
  row: ContactProgress,
  event: ContactEvent,
  now: Date
): Result.Result<ContactProgress, InvalidTransition> => {
  const invalid = (reason: string) => Result.fail(new InvalidTransition({ from: row.state, event: event._tag, reason }))
  switch (event._tag) {
    case "Claimed": {
      if (!isDue(row, now)) {
        return invalid(
          (row.state === "retry_scheduled" || row.state === "initial") && row.nextAttemptAt !== null
            ? `the contact is not due until ${row.nextAttemptAt.toISOString()}`
            : `only initial contacts and due retries can be claimed`
        )
      }
      return Result.succeed({
        ...row,
        state: "in_progress",
        attempts: row.attempts + 1,
        nextAttemptAt: null,
        leaseExpiresAt: event.leaseExpiresAt,
        stateTimes: { ...row.stateTimes, in_progress: now }
      })
    }
    case "Accepted": {
      if (row.attempts + row.throttledAttempts === 0) return invalid("the contact was never claimed for a send")
      const identified = { ...row, wamid: row.wamid ?? event.wamid, waId: row.waId ?? event.waId }
      if (row.wamid !== null && row.wamid !== event.wamid) {
        return invalid(`Meta accepted a second message (${event.wamid}) for a contact that has ${row.wamid}: a duplicate send`)
      }
      if (rank(row.state) >= rank("sent")) return Result.succeed(identified)
      return Result.succeed(settle(identified, "sent", row.stateTimes.sent ?? now))
    }
    case "AttemptFailed": {
      if (row.state !== "in_progress") return invalid("the attempt's outcome arrived after the contact left in_progress")
      const lastError: LastError = { code: event.error.code, text: event.error.text, errorClass: event.error.errorClass }
      return Result.succeed(applyDecision({ ...row, lastError }, event.decision, now))
    }
    case "LeaseExpired": {
      if (row.state !== "in_progress") return invalid("only an in_progress contact holds a lease")
      if (row.leaseExpiresAt !== null && row.leaseExpiresAt.getTime() > now.getTime()) {
        return invalid(`the lease holds until ${row.leaseExpiresAt.toISOString()}`)
      }
      const lastError: LastError = {
        code: "outcome_unknown",
        text: `The sender stopped during attempt ${row.attempts} before it knew whether Meta accepted the message; ` +
          `it is resent only if no webhook shows it went out.`
      }
      return Result.succeed(applyDecision({ ...row, lastError }, event.decision, now))
    }
    case "Released": {
      if (row.state !== "in_progress") return invalid("only an in_progress contact can be released")
      return Result.succeed(release(row, now))
    }
    case "StatusReported": {
      const withTime = {
        ...row,
        wamid: row.wamid ?? event.wamid,
        waId: row.waId ?? event.waId ?? null,
        stateTimes: { ...row.stateTimes, [event.status]: row.stateTimes[event.status] ?? event.at }
      }
      if (rank(event.status) <= rank(row.state)) return Result.succeed(withTime)
      return Result.succeed(settle(withTime, event.status, withTime.stateTimes[event.status] ?? event.at))
    }
    case "FailureReported": {
      if (row.state === "sending_failed") return Result.succeed(row)
      if (row.state === "delivered" || row.state === "read") {
        return invalid(`a failure reported after the message was ${row.state} cannot be real`)
      }
      const lastError: LastError = { code: event.error.code, text: event.error.text, errorClass: event.error.errorClass }
      return Result.succeed(settle({ ...row, wamid: row.wamid ?? event.wamid, lastError }, "sending_failed", event.at))
    }
    case "Cancelled": {
      if (!isCancellable(row.state)) return Result.succeed(row)
      return Result.succeed(settle(row, "cancelled", now))
    }
    case "OptedOut": {
      // A send in flight cannot be called back; the reply only stops sends that have not started.
      if (row.state === "in_progress") return invalid("the message is being sent; an opt-out stops only waiting contacts")
      if (!isPending(row.state)) return Result.succeed(row)
      return Result.succeed(settle({ ...row, lastError: { code: "opted_out", text: event.reason } }, "invalid_record", now))
    }
    case "RetryRequested": {
      if (!isRetryable(row.state)) return invalid(`only ${retryableStates.join(" and ")} contacts can be retried`)
      return Result.succeed(retry(row, now))
    }
    case "Deferred": {
      if (row.state !== "initial" && row.state !== "retry_scheduled") return invalid("only a waiting contact can wait for its send window")
      return Result.succeed({ ...row, nextAttemptAt: event.until })
    }
  }
}

/** Apply a sequence of events, dropping the ones that do not apply (as a webhook receiver does). */
export const applyAll = (row: ContactProgress, events: Iterable<ContactEvent>, now: Date): ContactProgress => {
  let current = row
  for (const event of events) {
    const next = transition(current, event, now)
    if (Result.isSuccess(next)) current = next.success
  }
  return current
}

/*
 * Back to `initial` with a new budget: attempts counted from zero again; the old message's wamid and delivery times
 * go (a new send gets its own, and the first timestamp of a status wins); the last error stays until the next
 * attempt replaces it, so the contact still shows why it was retried.
 */
const retry = (row: ContactProgress, now: Date): ContactProgress => {
  const { sent: _sent, delivered: _delivered, read: _read, ...kept } = row.stateTimes
  return {
    ...row,
    state: "initial",
    attempts: 0,
    throttledAttempts: 0,
    nextAttemptAt: null,
    leaseExpiresAt: null,
    wamid: null,
    waId: null,
    stateTimes: { ...kept, initial: now }
  }
}

// Enter a state in which nothing is scheduled and no lease is held.
const settle = (row: ContactProgress, state: ContactStateId, at: Date): ContactProgress => ({
  ...row,
  state,
  nextAttemptAt: null,
  leaseExpiresAt: null,
  stateTimes: { ...row.stateTimes, [state]: at }
})

// Hand a claimed contact back unsent: the attempt is refunded and it is due at once when sending resumes.
const release = (row: ContactProgress, now: Date): ContactProgress => {
  const attempts = Math.max(0, row.attempts - 1)
  if (attempts === 0 && row.throttledAttempts === 0 && row.lastError === null) {
    return { ...row, state: "initial", attempts, leaseExpiresAt: null, nextAttemptAt: null, stateTimes: { ...row.stateTimes, initial: now } }
  }
  return {
    ...row,
    state: "retry_scheduled",
    attempts,
    leaseExpiresAt: null,
    nextAttemptAt: now,
    stateTimes: { ...row.stateTimes, retry_scheduled: now }
  }
}

const applyDecision = (row: ContactProgress, decision: RetryDecision, now: Date): ContactProgress => {
  switch (decision._tag) {
    case "Release":
      return release(row, now)
    case "RetryAt":
      return {
        ...row,
        state: "retry_scheduled",
        attempts: decision.countsAsAttempt ? row.attempts : Math.max(0, row.attempts - 1),
        throttledAttempts: decision.countsAsAttempt ? row.throttledAttempts : row.throttledAttempts + 1,
        nextAttemptAt: decision.at,
        leaseExpiresAt: null,
        stateTimes: { ...row.stateTimes, retry_scheduled: now }
      }
    case "GiveUp":
      return settle(row, decision.reason === "final_for_contact" ? "sending_failed" : "error", now)
  }
}
