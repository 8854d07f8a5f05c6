/**
 * Windows-1250 bytes of Czech text, for the files a Czech Excel writes (the demo's and the import benchmark's
 * generated CSVs). Node decodes Windows-1250 but cannot encode it; this table holds the Czech letters only.
 */

/** Windows-1250 bytes of the Czech letters with diacritics. */
export const CP1250: Readonly<Record<string, number>> = {
  á: 0xe1, č: 0xe8, ď: 0xef, é: 0xe9, ě: 0xec, í: 0xed, ň: 0xf2, ó: 0xf3, ř: 0xf8, š: 0x9a, ť: 0x9d, ú: 0xfa, ů: 0xf9, ý: 0xfd, ž: 0x9e,
  Á: 0xc1, Č: 0xc8, Ď: 0xcf, É: 0xc9, Ě: 0xcc, Í: 0xcd, Ň: 0xd2, Ó: 0xd3, Ř: 0xd8, Š: 0x8a, Ť: 0x8d, Ú: 0xda, Ů: 0xd9, Ý: 0xdd, Ž: 0x8e
}

/** `text` in Windows-1250: ASCII as it is, Czech letters from {@link CP1250}; any other character throws. */
export const windows1250 = (text: string): Buffer => {
  const bytes = Buffer.allocUnsafe(text.length)
  let n = 0
  for (const char of text) {
    const code = char.charCodeAt(0)
    const byte = code < 0x80 ? code : CP1250[char]
    if (byte === undefined) throw new Error(`${char} has no Windows-1250 byte in the encoder's table (Czech letters only)`)
    bytes[n++] = byte
  }
  return bytes.subarray(0, n)
}
