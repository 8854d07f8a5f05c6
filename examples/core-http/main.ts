/**
 * Megaphone's core inside a plain Node HTTP service (node:http, no framework): `POST /preview` answers the exact
 * Cloud API request body for a template + one contact, or a 400 with the core's explanation of what to fix;
 * `POST /phone` normalises a phone number. The endpoints themselves are plain functions in Handlers.ts.
 *
 * Run the self-test (starts the service, makes the requests, prints the answers, exits 0):
 *   npx node examples/core-http/main.ts --self-test
 * Or serve (default 127.0.0.1 on a free port, printed; `--port`/`PORT`, `--host`/`HOST` choose):
 *   npx node examples/core-http/main.ts --port 8080
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { parseArgs } from "node:util"
import { type Answer, phone, preview } from "./Handlers.ts"

/** A request body larger than this is refused (413): one template and one contact fit many times over. */
const MAX_BODY_BYTES = 1024 * 1024

const routes: Readonly<Record<string, (body: unknown) => Answer>> = {
  "/preview": preview,
  "/phone": phone
}

const usage = {
  endpoints: {
    "POST /preview": "{ template, csv: { header, row } | record + mapping, defaults?, language?, defaultCountry?, callbackData? } → the Cloud API body",
    "POST /phone": "{ phone, defaultCountry?, requireMobile? } → { e164, waId, country, type }"
  }
}

/** The request body as text, or undefined once it exceeds MAX_BODY_BYTES. */
const readBody = async (request: IncomingMessage): Promise<string | undefined> => {
  const chunks: Array<Buffer> = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString("utf8")
}

const send = (response: ServerResponse, { status, body }: Answer, headers: Record<string, string> = {}): void => {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers })
  response.end(`${JSON.stringify(body, null, 2)}\n`)
}

/** Routes one request; every answer is JSON, every refusal says what to change. */
const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
  const path = new URL(request.url ?? "/", "http://localhost").pathname
  const endpoint = routes[path]
  if (request.method === "GET" && path === "/") return send(response, { status: 200, body: usage })
  if (endpoint === undefined) {
    return send(response, { status: 404, body: { _tag: "NotFound", message: `No ${request.method ?? ""} ${path}.`, ...usage } })
  }
  if (request.method !== "POST") {
    return send(response, { status: 405, body: { _tag: "MethodNotAllowed", message: `${path} takes POST with a JSON body.` } }, { allow: "POST" })
  }
  const text = await readBody(request)
  if (text === undefined) {
    return send(response, { status: 413, body: { _tag: "PayloadTooLarge", message: `The body exceeds ${MAX_BODY_BYTES} bytes.` } })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    return send(response, { status: 400, body: { _tag: "BadRequest", stage: "request", message: `The body is not JSON: ${reason}` } })
  }
  send(response, endpoint(json))
}

/** Starts the service; resolves with the server and its URL once it listens. */
const start = (host: string, port: number): Promise<{ readonly server: Server; readonly url: string }> =>
  new Promise((resolve, reject) => {
    const server = createServer((request, response) => {
      handle(request, response).catch((error: unknown) => {
        // A bug in the example, never a bad request: answer 500 and keep serving.
        console.error(error)
        if (!response.headersSent) send(response, { status: 500, body: { _tag: "InternalError", message: "See the service's log." } })
        else response.end()
      })
    })
    server.once("error", reject)
    server.listen(port, host, () => {
      const { address, port: bound } = server.address() as AddressInfo
      resolve({ server, url: `http://${address.includes(":") ? `[${address}]` : address}:${bound}` })
    })
  })

// ---------------------------------------------------------------------------------------------------------
// Self-test: the requests a developer would make with curl, and the answers they get
// ---------------------------------------------------------------------------------------------------------

// One element of Graph's GET /{WABA_ID}/message_templates `data[]`, as Meta returns it (the seed's order_done).
const orderDone = {
  id: "1689556908129832",
  name: "order_done",
  language: "cs",
  status: "APPROVED",
  category: "UTILITY",
  components: [{
    type: "BODY",
    text: "Dobrý den, {{1}} {{2}}, vaše objednávka č. {{3}} byla vyřízena.",
    example: { body_text: [["pane", "Nováku", "2024-0001"]] }
  }]
}

interface Call {
  readonly what: string
  readonly path: string
  readonly body: unknown
  readonly expect: number
}

const calls: ReadonlyArray<Call> = [
  {
    what: "a positional CSV row, the empty salutation filled by a default",
    path: "/preview",
    body: {
      template: orderDone,
      language: "cs",
      csv: { header: ["phone", "salutation", "name", "order number"], row: ["+420 601 123 456", "", "Novák", "2024-0042"] },
      defaults: { 1: "pane" },
      callbackData: "campaign1:contact1"
    },
    expect: 200
  },
  {
    what: "a directory record read through a mapping",
    path: "/preview",
    body: {
      template: orderDone,
      record: { mobile: "602 234 567", salutation: "paní", surname: "Svobodová", order: "2024-0043" },
      mapping: { phoneColumn: "mobile", variables: { 1: { column: "salutation" }, 2: { column: "surname" }, 3: { column: "order" } } }
    },
    expect: 200
  },
  {
    what: "a mapping naming a column the record does not have",
    path: "/preview",
    body: {
      template: orderDone,
      record: { mobile: "602 234 567", Surname: "Svobodová", order: "2024-0043" },
      mapping: { phoneColumn: "mobile", variables: { 2: { column: "surname" }, 3: { column: "order" } } },
      defaults: { 1: "paní" }
    },
    expect: 400
  },
  {
    what: "a value Meta would refuse (a line break)",
    path: "/preview",
    body: {
      template: orderDone,
      csv: { header: ["phone", "1", "2", "3"], row: ["+420 601 123 456", "pane", "Novák\nml.", "2024-0042"] }
    },
    expect: 400
  },
  {
    what: "a template Meta has paused",
    path: "/preview",
    body: {
      template: { ...orderDone, status: "PAUSED" },
      csv: { header: ["phone", "1", "2", "3"], row: ["+420 601 123 456", "pane", "Novák", "2024-0042"] }
    },
    expect: 400
  },
  {
    what: "a request that is not what the endpoint takes",
    path: "/preview",
    body: { template: orderDone, csv: { header: "phone,1,2,3", row: ["+420 601 123 456"] } },
    expect: 400
  },
  { what: "a number as people write it", path: "/phone", body: { phone: "00420 (601) 123-456" }, expect: 200 },
  { what: "a Slovak number without its country code", path: "/phone", body: { phone: "0905 123 456", defaultCountry: "sk" }, expect: 200 },
  { what: "a number outside the Czech ranges", path: "/phone", body: { phone: "+420 123 456 789" }, expect: 400 }
]

// The template is the same in every request: printed as its name and status, sent in full.
const shortTemplate = (key: string, value: unknown): unknown => {
  if (key !== "template" || typeof value !== "object" || value === null || !("status" in value)) return value
  return `<Graph template order_done (cs), ${String(value.status)}>`
}

/** Makes every call against the running service, prints request and answer; false when a status was unexpected. */
const selfTest = async (url: string): Promise<boolean> => {
  let ok = true
  for (const call of calls) {
    const response = await fetch(`${url}${call.path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(call.body)
    })
    const answer = await response.text()
    const verdict = response.status === call.expect ? "ok" : `UNEXPECTED, wanted ${call.expect}`
    if (response.status !== call.expect) ok = false
    console.log(`\n### POST ${call.path} — ${call.what}`)
    console.log(`→ ${JSON.stringify(call.body, shortTemplate)}`)
    console.log(`← ${response.status} (${verdict})`)
    console.log(answer.trimEnd())
  }
  return ok
}

// ---------------------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------------------

const { values: flags } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string" },
    "self-test": { type: "boolean", default: false }
  }
})

// The self-test reads flags only: a PORT or HOST meant for something else must not move it.
const fromEnv = (name: string): string | undefined => (flags["self-test"] ? undefined : process.env[name])
const host = flags.host ?? fromEnv("HOST") ?? "127.0.0.1"
const portText = flags.port ?? fromEnv("PORT") ?? "0"
const port = Number(portText)
if (portText.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port (or PORT) must be a whole number from 0 to 65535 (0: any free port); got "${portText}".`)
  process.exit(2)
}

const { server, url } = await start(host, port)
if (flags["self-test"]) {
  console.log(`core-http self-test against ${url}`)
  const ok = await selfTest(url)
  server.close()
  console.log(ok ? "\nself-test passed" : "\nself-test FAILED")
  process.exitCode = ok ? 0 : 1
} else {
  console.log(`Megaphone core-http listening on ${url}`)
  console.log(`Try: curl -s ${url}/phone -H 'content-type: application/json' -d '{"phone":"+420 601 123 456"}'`)
  const stop = () => server.close(() => process.exit(0))
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
}
