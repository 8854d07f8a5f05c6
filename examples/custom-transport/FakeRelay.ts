/**
 * A stand-in for "Relay", a hypothetical business solution provider (BSP), on loopback: just enough of its API for
 * RelayTransport.ts to talk to, with a script of failures per recipient so the example shows every kind of outcome. This is
 * the other side of the wire — not what the example teaches, so it is plain node:http and kept short.
 *
 * Relay's API (every call needs the header `X-Relay-Key`):
 *   POST /{version}/channels/{phoneNumberId}/messages   body: the Cloud API body, unchanged
 *     202 { id, wamid, recipient, queue }                   Meta took it
 *     4xx/5xx { error: { kind: "meta", metaCode, title, details } }   Meta refused it (Relay passes Meta's code on)
 *     4xx/5xx { error: { kind: "relay", reason } }                    Relay itself failed (busy, bad key)
 *   GET  /{version}/channels/{phoneNumberId}         the number: { displayNumber, verifiedName, quality, tier, throughput, nameStatus, state }
 *   GET  /{version}/accounts/{wabaId}/templates?cursor=   { items: [Graph template …], nextCursor }
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** What Relay answers to one send: Meta's refusal passed on, or Relay being busy (503). */
export type Scripted =
  | { readonly kind: "meta"; readonly status: number; readonly metaCode: number; readonly title: string; readonly details: string }
  | { readonly kind: "busy" }

/** How the stand-in behaves. */
export interface ProviderConfig {
  readonly key: string
  readonly phoneNumberId: string
  readonly wabaId: string
  /** Graph template elements, served two per page so the transport has to follow the cursor. */
  readonly templates: ReadonlyArray<unknown>
  /** Per recipient (`to`), the answers to its first sends in order; later sends are accepted. */
  readonly script: Readonly<Record<string, ReadonlyArray<Scripted>>>
}

/** A running stand-in: its base URL, every send request it received (in order), and how to stop it. */
export interface RunningRelay {
  readonly url: string
  readonly received: ReadonlyArray<{ readonly to: string; readonly status: number }>
  readonly close: () => Promise<void>
}

const PAGE_SIZE = 2

const json = (response: ServerResponse, status: number, body: unknown): void => {
  response.writeHead(status, { "content-type": "application/json" })
  response.end(JSON.stringify(body))
}

const readJson = async (request: IncomingMessage): Promise<unknown> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString("utf8"))
}

/** Starts the stand-in on 127.0.0.1 (a free port). */
export const startRelay = (config: ProviderConfig): Promise<RunningRelay> => {
  const received: Array<{ to: string; status: number }> = []
  const sendsTo = new Map<string, number>()
  let messages = 0

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.headers["x-relay-key"] !== config.key) {
      return json(response, 401, { error: { kind: "relay", reason: "unknown X-Relay-Key" } })
    }
    const url = new URL(request.url ?? "/", "http://relay")
    const [, , collection, id, action] = url.pathname.split("/")
    if (request.method === "POST" && collection === "channels" && id === config.phoneNumberId && action === "messages") {
      const body = await readJson(request) as { readonly to?: string }
      const to = body.to ?? ""
      const attempt = sendsTo.get(to) ?? 0
      sendsTo.set(to, attempt + 1)
      const scripted = config.script[to]?.[attempt]
      if (scripted?.kind === "busy") {
        received.push({ to, status: 503 })
        return json(response, 503, { error: { kind: "relay", reason: "upstream queue full, try again shortly" } })
      }
      if (scripted?.kind === "meta") {
        received.push({ to, status: scripted.status })
        const { metaCode, title, details } = scripted
        return json(response, scripted.status, { error: { kind: "meta", metaCode, title, details } })
      }
      messages++
      received.push({ to, status: 202 })
      return json(response, 202, { id: `rl_${messages}`, wamid: `wamid.RELAY${String(messages).padStart(4, "0")}`, recipient: to, queue: "accepted" })
    }
    if (request.method === "GET" && collection === "channels" && id === config.phoneNumberId && action === undefined) {
      return json(response, 200, {
        displayNumber: "+420 601 000 001", verifiedName: "Megaphone Shop", quality: "GREEN",
        tier: "TIER_1K", throughput: "STANDARD", nameStatus: "APPROVED", state: "CONNECTED"
      })
    }
    if (request.method === "GET" && collection === "accounts" && id === config.wabaId && action === "templates") {
      const from = Number(url.searchParams.get("cursor") ?? "0")
      const next = from + PAGE_SIZE
      return json(response, 200, {
        items: config.templates.slice(from, next),
        nextCursor: next < config.templates.length ? String(next) : null
      })
    }
    return json(response, 404, { error: { kind: "relay", reason: `no ${request.method ?? ""} ${url.pathname}` } })
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => json(response, 500, { error: { kind: "relay", reason: String(error) } }))
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        received,
        close: () => new Promise((done) => {
          server.close(() => done())
          // fetch keeps connections alive for reuse; the example is over, so they go too.
          server.closeAllConnections()
        })
      })
    })
  })
}
