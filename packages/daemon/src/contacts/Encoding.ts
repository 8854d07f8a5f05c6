/**
 * The text encoding of a CSV as Excel on a Czech desktop saves it: UTF-8 with or without BOM ("CSV UTF-8"),
 * Windows-1250 (plain "CSV", Czech Excel's default) or UTF-16 ("Unicode text", little-endian with a BOM).
 *
 * Detection: a byte-order mark decides; else the NUL bytes UTF-16 puts next to every ASCII letter; else the chunk
 * with the first non-ASCII bytes decides between UTF-8 (mostly valid) and Windows-1250 (not). Until a non-ASCII
 * byte appears the two read the same, so the decision waits for one: a file whose first 64 KiB are plain ASCII and
 * whose Czech names come later is still read right. Decoding is the built-in WHATWG `TextDecoder`, streaming.
 */
import { TextDecoder } from "node:util"

/** An encoding the importer reads. */
export type Encoding = "utf-8" | "windows-1250" | "utf-16le" | "utf-16be"

/** What `--encoding` accepts: `auto` detects; `utf-16` takes the byte order from the BOM (little-endian without). */
export type EncodingChoice = "auto" | "utf-8" | "windows-1250" | "utf-16"

/** The choices of `--encoding`, in the order the help lists them. */
export const ENCODING_CHOICES: ReadonlyArray<EncodingChoice> = ["auto", "utf-8", "windows-1250", "utf-16"]

/** The encoding in use and how it was chosen, for the summary and the preview. */
export interface DetectedEncoding {
  readonly encoding: Encoding
  /** e.g. "byte-order mark", "valid UTF-8", "--encoding". */
  readonly reason: string
}

/** A streaming decoder that may decide its encoding only once it sees a non-ASCII byte. */
export interface Decoder {
  /** The text of the next bytes of the file (`final` on the last call). */
  readonly decode: (bytes: Uint8Array, final: boolean) => string
  /** The encoding decided so far (UTF-8 while the file has been ASCII only). */
  readonly detected: () => DetectedEncoding
}

const hasPrefix = (bytes: Uint8Array, prefix: ReadonlyArray<number>): boolean =>
  bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b)

const UTF8_BOM = [0xef, 0xbb, 0xbf]
const UTF16LE_BOM = [0xff, 0xfe]
const UTF16BE_BOM = [0xfe, 0xff]

/** The encoding a byte-order mark at the start of `head` announces, if any. */
export const fromBom = (head: Uint8Array): Encoding | undefined =>
  hasPrefix(head, UTF8_BOM) ? "utf-8" : hasPrefix(head, UTF16LE_BOM) ? "utf-16le" : hasPrefix(head, UTF16BE_BOM) ? "utf-16be" : undefined

/**
 * UTF-16 without a BOM, recognised by its NUL bytes: ASCII text has one next to every letter, on the odd bytes
 * in little-endian and on the even ones in big-endian. No CSV in an 8-bit encoding has NUL bytes.
 */
export const fromNulPattern = (head: Uint8Array): "utf-16le" | "utf-16be" | undefined => {
  const length = Math.min(head.length, 4096) & ~1
  let even = 0
  let odd = 0
  for (let i = 0; i < length; i += 2) {
    if (head[i] === 0) even++
    if (head[i + 1] === 0) odd++
  }
  if (length < 4 || even + odd < length / 8) return undefined
  return odd >= even ? "utf-16le" : "utf-16be"
}

/** Whether `bytes` are valid UTF-8, allowing a sequence cut off at the end (the rest is in the next chunk). */
export const isUtf8 = (bytes: Uint8Array): boolean => {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true })
    return true
  } catch {
    return false
  }
}

/**
 * Whether `bytes` read as UTF-8 with a stray bad byte or two rather than as another encoding: more valid multi-byte
 * characters than invalid sequences. Czech in Windows-1250 is nearly all invalid sequences (`ř` is F8, `í` ED
 * before an ASCII letter), while one corrupted cell in a UTF-8 file must not turn every name of it into mojibake:
 * such a file is UTF-8 and only the rows with the bad bytes are rejected (see Import).
 */
export const isMostlyUtf8 = (bytes: Uint8Array): boolean => {
  if (isUtf8(bytes)) return true
  let valid = 0
  let invalid = 0
  // Not fatal: each invalid sequence becomes one U+FFFD; a sequence cut off at the end is held back by `stream`.
  for (const char of new TextDecoder("utf-8").decode(bytes, { stream: true })) {
    if (char === "\uFFFD") invalid++
    else if (char.charCodeAt(0) >= 0x80) valid++
  }
  return valid > invalid
}

const decoderFor = (encoding: Encoding): TextDecoder =>
  // Not fatal: one bad byte in a UTF-8 file becomes U+FFFD and only its row is rejected (see Import).
  new TextDecoder(encoding, { fatal: false, ignoreBOM: false })

const fixed = (encoding: Encoding, reason: string): Decoder => {
  const decoder = decoderFor(encoding)
  return {
    decode: (bytes, final) => decoder.decode(bytes, { stream: !final }),
    detected: () => ({ encoding, reason })
  }
}

// Enough bytes after the first non-ASCII one to hold a whole UTF-8 sequence, so the decision never rests on a cut one.
const DECISION_BYTES = 4

/** UTF-8 or Windows-1250, decided at the first non-ASCII bytes (ASCII reads the same in both until then). */
const utf8OrWindows1250 = (): Decoder => {
  let decided: { readonly decoder: TextDecoder; readonly detected: DetectedEncoding } | undefined
  let pending: Uint8Array = new Uint8Array(0)
  const ascii = new TextDecoder("latin1")
  return {
    decode: (chunk, final) => {
      if (decided !== undefined) return decided.decoder.decode(chunk, { stream: !final })
      const bytes = pending.length === 0 ? chunk : concat(pending, chunk)
      pending = new Uint8Array(0)
      let i = 0
      while (i < bytes.length && bytes[i]! < 0x80) i++
      if (i === bytes.length) return ascii.decode(bytes)
      if (bytes.length - i < DECISION_BYTES && !final) {
        pending = bytes.slice(i)
        return ascii.decode(bytes.subarray(0, i))
      }
      const rest = bytes.subarray(i)
      const encoding: Encoding = isMostlyUtf8(rest) ? "utf-8" : "windows-1250"
      decided = {
        decoder: decoderFor(encoding),
        detected: encoding === "windows-1250"
          ? { encoding, reason: "not UTF-8, so Windows-1250 (Czech Excel's \"CSV\")" }
          : isUtf8(rest)
          ? { encoding, reason: "valid UTF-8 without BOM" }
          : { encoding, reason: "UTF-8 without BOM, with a few bytes that are not (their rows are rejected)" }
      }
      return ascii.decode(bytes.subarray(0, i)) + decided.decoder.decode(bytes.subarray(i), { stream: !final })
    },
    detected: () => decided?.detected ?? { encoding: "utf-8", reason: "ASCII only so far (UTF-8 and Windows-1250 read it the same)" }
  }
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/**
 * The decoder for a file whose first bytes are `head`: what `choice` names, or (auto) what the BOM, the NUL
 * pattern of UTF-16 or the first non-ASCII bytes say. `--encoding utf-16` takes the byte order from the BOM or
 * the NUL pattern, little-endian (Excel's) when neither tells.
 */
export const makeDecoder = (choice: EncodingChoice, head: Uint8Array): Decoder => {
  const bom = fromBom(head)
  switch (choice) {
    case "utf-8":
    case "windows-1250":
      return fixed(choice, "--encoding")
    case "utf-16":
      return fixed(bom === "utf-16le" || bom === "utf-16be" ? bom : fromNulPattern(head) ?? "utf-16le", "--encoding")
    case "auto": {
      if (bom !== undefined) return fixed(bom, "byte-order mark")
      const utf16 = fromNulPattern(head)
      if (utf16 !== undefined) return fixed(utf16, "NUL bytes of UTF-16 text without BOM")
      return utf8OrWindows1250()
    }
  }
}

/** How a person reads the encoding's name: `UTF-16 (little-endian)`. */
export const describeEncoding = (encoding: Encoding): string =>
  encoding === "utf-16le" ? "UTF-16 (little-endian)" : encoding === "utf-16be" ? "UTF-16 (big-endian)" : encoding === "utf-8" ? "UTF-8" : "Windows-1250"
