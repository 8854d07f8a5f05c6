/**
 * The simulator's 360dialog mode (docs/providers.md, docs/simulator.md): 360dialog's Cloud API endpoint on
 * loopback. The number is named by its `D360-API-KEY`, not by the path; `POST /messages` forwards to the same
 * strict Cloud API send as Meta mode (Meta's validation, limits, faults and error bodies); templates are listed
 * from `GET /v1/configs/templates` in 360dialog's envelope; `POST /v1/configs/webhook` sets where the status
 * webhooks go and the headers they carry (no Meta signature). 360dialog's own errors use its `meta` envelope.
 */
import { send, type GraphReply } from "./GraphApi.ts"
import type { AccountState, SimulatorState } from "./State.ts"

/** The header that carries a number's API key (Node lower-cases header names). */
export const API_KEY_HEADER = "d360-api-key"

/** The Graph version 360dialog forwards to (it pins one; which one is not documented). */
const FORWARDED_GRAPH_MAJOR = 23

/** A 360dialog request as the server read it. */
export interface Dialog360Request {
  readonly method: string
  readonly pathname: string
  readonly query: URLSearchParams
  readonly apiKey: string | undefined
  readonly body: string
}

const TRACE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"

/** 360dialog's own error envelope (shape from client code; unverified in its docs). */
const providerError = (state: SimulatorState, status: number, message: string): GraphReply => {
  let trace = ""
  for (let i = 0; i < 20; i++) trace += TRACE_CHARS[Math.floor(state.draw() * TRACE_CHARS.length)] ?? "a"
  return {
    kind: "json",
    status,
    body: { meta: { success: false, http_code: status, developer_message: message, "360dialog_trace_id": trace } }
  }
}

const json = (body: unknown, status = 200): GraphReply => ({ kind: "json", status, body })

const accountOf = (state: SimulatorState, apiKey: string | undefined): AccountState | undefined => {
  if (apiKey === undefined || apiKey === "") return undefined
  for (const account of state.accounts.values()) {
    if ((account.account.apiKey ?? state.config.accessToken) === apiKey) return account
  }
  return undefined
}

/** Answers one request in 360dialog mode. */
export const handle = (state: SimulatorState, request: Dialog360Request): GraphReply => {
  state.counters.requests++
  const account = accountOf(state, request.apiKey?.trim())
  if (account === undefined) return providerError(state, 401, "Invalid api_key")
  const route = `${request.method} ${request.pathname.replace(/\/+$/, "")}`
  switch (route) {
    case "POST /messages":
      return sendMessage(state, account, request.body)
    case "GET /v1/configs/templates":
      return listTemplates(state, account, request.query)
    case "POST /v1/configs/webhook":
      return registerWebhook(state, request.body)
    default:
      return providerError(state, 404, `Not found: ${route}`)
  }
}

const sendMessage = (state: SimulatorState, account: AccountState, body: string): GraphReply => {
  const faults = state.faults
  if (faults.providerPaymentRequired) {
    return providerError(state, 400, "Could not send message due to lack of payment. Messaging can resume once overdue invoices towards 360dialog are settled.")
  }
  if (faults.providerRateLimit > 0 && state.draw() < faults.providerRateLimit) {
    return providerError(state, 400, "You have exceeded the endpoint rate limit.")
  }
  return send(state, account, FORWARDED_GRAPH_MAJOR, body)
}

const nonNegative = (text: string | null, fallback: number): number | undefined => {
  if (text === null) return fallback
  const n = Number(text)
  return Number.isInteger(n) && n >= 0 ? n : undefined
}

const listTemplates = (state: SimulatorState, account: AccountState, query: URLSearchParams): GraphReply => {
  const limit = nonNegative(query.get("limit"), 1000)
  const offset = nonNegative(query.get("offset"), 0)
  if (limit === undefined || offset === undefined) {
    return providerError(state, 400, "limit and offset must be non-negative integers")
  }
  const all = state.templates.get(account.account.wabaId) ?? []
  const page = all.slice(offset, offset + limit)
  return json({
    count: page.length,
    filters: {},
    limit,
    offset,
    sort: ["id"],
    total: all.length,
    // 360dialog's spelling: lower-case status, its own namespace next to Meta's fields.
    waba_templates: page.map((entry) => ({
      ...entry.raw,
      status: entry.status.toLowerCase(),
      namespace: `ns_${account.account.wabaId}`,
      rejected_reason: entry.raw["rejected_reason"] ?? null
    }))
  })
}

const registerWebhook = (state: SimulatorState, raw: string): GraphReply => {
  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch {
    return providerError(state, 400, "Invalid payload: not JSON")
  }
  const fields = typeof body === "object" && body !== null && !Array.isArray(body) ? body as Readonly<Record<string, unknown>> : {}
  const { url, headers } = fields
  if (typeof url !== "string" || !/^https?:\/\/\S+$/.test(url)) return providerError(state, 400, "Invalid payload: url must be an http(s) URL")
  const given = headers ?? {}
  if (typeof given !== "object" || given === null || Array.isArray(given) ||
    Object.values(given).some((value) => typeof value !== "string")) {
    return providerError(state, 400, "Invalid payload: headers must be an object of strings")
  }
  state.webhooks?.setTarget(url, given as Readonly<Record<string, string>>)
  return json({ url })
}
