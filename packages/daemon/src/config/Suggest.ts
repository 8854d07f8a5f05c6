/** "Did you mean …?" for a configuration key that is not one: typos, other spellings, and keys in the wrong section. */

/** Lower case without `_`, `-` and spaces: `max_connections`, `MaxConnections` and `maxconnections` are one word. */
const normalise = (word: string): string => word.toLowerCase().replace(/[-_\s]/g, "")

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
export const distance = (a: string, b: string): number => {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: Array<Array<number>> = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      const row = d[i]
      if (row !== undefined) row[j] = best
    }
  }
  return at(a.length, b.length)
}

// A third of the word may be wrong, at least one letter: `concurency` → `concurrency`, not `idleMs` → `leaseMs`.
const close = (word: string, candidate: string): number | undefined => {
  const [a, b] = [normalise(word), normalise(candidate)]
  const d = distance(a, b)
  return d <= Math.max(1, Math.floor(Math.max(a.length, b.length) / 3)) ? d : undefined
}

/**
 * The known keys an unknown key was probably meant to be, best first (at most three). `unknown` is a full dotted
 * path (`dispatch.concurency`); `known` are the full paths of every setting and section. A key is compared with
 * its siblings first, then with the keys of other sections (`concurrency` at the top level → `dispatch.concurrency`).
 * A misspelt section is itself an unknown key at the top level, so it is matched as a sibling there.
 */
export const suggest = (unknown: string, known: ReadonlyArray<string>): ReadonlyArray<string> => {
  const segments = unknown.split(".")
  const name = segments[segments.length - 1] ?? unknown
  const parent = segments.slice(0, -1).join(".")
  const lastOf = (key: string) => key.slice(key.lastIndexOf(".") + 1)
  const parentOf = (key: string) => (key.includes(".") ? key.slice(0, key.lastIndexOf(".")) : "")

  const rank = (candidates: ReadonlyArray<string>, score: (key: string) => number | undefined) =>
    candidates
      .map((key) => ({ key, score: score(key) }))
      .filter((c): c is { key: string; score: number } => c.score !== undefined)
      .sort((x, y) => x.score - y.score || x.key.localeCompare(y.key))
      .map((c) => c.key)

  const siblings = rank(known.filter((key) => parentOf(key) === parent), (key) => close(name, lastOf(key)))
  if (siblings.length > 0) return siblings.slice(0, 3)
  return rank(known, (key) => close(name, lastOf(key))).slice(0, 3)
}

/** ` Did you mean dispatch.concurrency?` (or ` … a or b?`), or nothing when no key is close. */
export const didYouMean = (unknown: string, known: ReadonlyArray<string>): string => {
  const found = suggest(unknown, known)
  if (found.length === 0) return ""
  const last = found[found.length - 1]
  const list = found.length === 1 ? last : `${found.slice(0, -1).join(", ")} or ${last}`
  return ` Did you mean ${list}?`
}
