/**
 * A scriptable Graph API on loopback (node:http) for the answers the simulator does not give on demand:
 * exact bodies and headers, a server that hangs, a connection cut mid-request, paging that never ends.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, type Scope } from "effect"

/** One request the stub received. */
export interface Received {
  readonly method: string
  /** Path and query, as sent. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** The client's port: one value per keep-alive connection. */
  readonly remotePort: number
}

/** What the stub answers: a status with a JSON (or raw text) body, or no answer at all. */
export type Reply =
  | { readonly status: number; readonly json?: unknown; readonly text?: string; readonly headers?: Readonly<Record<string, string>> }
  | "hang"
  | "drop"

/** A running stub. */
export interface StubGraph {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  readonly received: ReadonlyArray<Received>
  /** Replaces the answering function. */
  readonly answer: (handler: (request: Received) => Reply) => void
  /** Open client connections right now. */
  readonly openConnections: () => Promise<number>
}

const reply = (res: ServerResponse, answer: Exclude<Reply, "hang" | "drop">): void => {
  const body = answer.text ?? (answer.json === undefined ? "" : JSON.stringify(answer.json))
  res.writeHead(answer.status, {
    "content-type": answer.text === undefined ? "application/json" : "text/html",
    "content-length": Buffer.byteLength(body),
    ...answer.headers
  })
  res.end(body)
}

/** Starts a stub on 127.0.0.1 (any free port); it stops, cutting every connection, when the scope closes. */
export const start: Effect.Effect<StubGraph, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(async () => {
    const received: Array<Received> = []
    let handler: (request: Received) => Reply = () => ({ status: 500, json: { error: { code: 1, message: "no handler" } } })
    const server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const request: Received = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          remotePort: req.socket.remotePort ?? 0
        }
        received.push(request)
        const answer = handler(request)
        if (answer === "drop") req.socket.destroy()
        else if (answer !== "hang") reply(res, answer)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const { port } = server.address() as AddressInfo
    const stub: StubGraph = {
      url: `http://127.0.0.1:${port}`,
      received,
      answer: (next) => {
        handler = next
      },
      openConnections: () => new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))))
    }
    return { stub, server }
  }),
  ({ server }) =>
    Effect.promise(() => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    })
).pipe(Effect.map(({ stub }) => stub))

/** A free loopback port with nothing listening on it (bound, then released). */
export const closedPort: Effect.Effect<number> = Effect.promise(async () => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
})
