/**
 * A CSV file opened for import: its encoding and delimiter (detected or given), its header, and its records chunk
 * by chunk with constant memory — one reused read buffer, the decoder's and the reader's small carry-over.
 */
import { open } from "node:fs/promises"
import { Effect } from "effect"
import { type CsvEvent, CsvReader, type Delimiter, isBlank, sniffDelimiter } from "./CsvReader.ts"
import { type Decoder, type DetectedEncoding, type EncodingChoice, makeDecoder } from "./Encoding.ts"
import { FileEmpty, FileUnreadable } from "./Errors.ts"

/** Bytes read at a time: big enough that per-chunk costs vanish, small enough to stay constant memory. */
export const CHUNK_BYTES = 64 * 1024

/** `--delimiter`: one of the delimiters, or `auto` to sniff it. */
export type DelimiterChoice = Delimiter | "auto"

/** An open CSV, positioned after its header. */
export interface Source {
  readonly file: string
  /** Size in bytes (for the progress bar). */
  readonly size: number
  readonly delimiter: Delimiter
  /** `detected` or `--delimiter`. */
  readonly delimiterReason: string
  readonly header: ReadonlyArray<string>
  readonly headerLine: number
  /** Empty lines before the header. */
  readonly blankBefore: number
  /** The encoding decided so far (it may be decided at the first non-ASCII byte, further in). */
  readonly encoding: () => DetectedEncoding
  /** Bytes read so far. */
  readonly bytesRead: () => number
  /** The next records after the header (the first call also returns those read along with the header); `undefined` at the end. */
  readonly next: () => Effect.Effect<ReadonlyArray<CsvEvent> | undefined, FileUnreadable>
}

const unreadable = (file: string, error: unknown) =>
  new FileUnreadable({ file, detail: error instanceof Error ? error.message.replace(/^[A-Z]+: /, "") : String(error) })

/**
 * Open `file` (closed when the scope closes), decide its encoding and delimiter, and read up to its header. The
 * header is the first row that is not empty; a file with none is {@link FileEmpty}, a header that is not valid
 * CSV a {@link FileUnreadable} naming its line.
 */
export const openSource = (
  file: string,
  choice: { readonly encoding: EncodingChoice; readonly delimiter: DelimiterChoice }
) =>
  Effect.gen(function*() {
    const handle = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => open(file, "r"), catch: (error) => unreadable(file, error) }),
      (h) => Effect.promise(() => h.close())
    )
    const stat = yield* Effect.tryPromise({ try: () => handle.stat(), catch: (error) => unreadable(file, error) })
    if (stat.isDirectory()) return yield* new FileUnreadable({ file, detail: "it is a directory, not a CSV file" })
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES)
    let bytesRead = 0
    const readChunk = Effect.tryPromise({
      try: async () => {
        const { bytesRead: n } = await handle.read(buffer, 0, CHUNK_BYTES, null)
        bytesRead += n
        return buffer.subarray(0, n)
      },
      catch: (error) => unreadable(file, error)
    })

    const first = yield* readChunk
    const decoder: Decoder = makeDecoder(choice.encoding, first)
    let firstText: string | undefined = decoder.decode(first, first.length === 0)
    const delimiter = choice.delimiter === "auto" ? sniffDelimiter(firstText) : choice.delimiter
    const reader = new CsvReader(delimiter)
    let done = false

    /** The records completed by the next chunk (at the end, with those the reader still held); `undefined` after the end. */
    const nextEvents: Effect.Effect<Array<CsvEvent> | undefined, FileUnreadable> = Effect.gen(function*() {
      if (done) return undefined
      let text: string
      let final: boolean
      if (firstText !== undefined) {
        text = firstText
        firstText = undefined
        final = first.length === 0
      } else {
        const chunk = yield* readChunk
        final = chunk.length === 0
        text = decoder.decode(chunk, final)
      }
      const events = reader.push(text)
      if (final) {
        done = true
        for (const event of reader.end()) events.push(event)
      }
      return events
    })

    // Up to the header: empty lines are counted, a broken first row cannot be a header.
    let blankBefore = 0
    const pending: Array<CsvEvent> = []
    let header: ReadonlyArray<string> | undefined
    let headerLine = 0
    while (header === undefined) {
      const events = yield* nextEvents
      if (events === undefined) return yield* new FileEmpty({ file })
      for (const event of events) {
        if (header !== undefined) pending.push(event)
        else if (event._tag === "Broken") {
          return yield* new FileUnreadable({ file, detail: `the header (line ${event.line}) is not valid CSV: ${event.reason}` })
        } else if (isBlank(event.cells)) blankBefore++
        else {
          header = event.cells.map((c) => c.trim())
          headerLine = event.line
        }
      }
    }

    let handedPending = false
    const source: Source = {
      file,
      size: stat.size,
      delimiter,
      delimiterReason: choice.delimiter === "auto" ? "detected" : "--delimiter",
      header,
      headerLine,
      blankBefore,
      encoding: decoder.detected,
      bytesRead: () => bytesRead,
      next: () => {
        if (!handedPending) {
          handedPending = true
          if (pending.length > 0) return Effect.succeed(pending)
        }
        return nextEvents
      }
    }
    return source
  })
