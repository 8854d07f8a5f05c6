/** Times and counts as the dashboard prints them. */

const formats = new Map<string, { readonly time: Intl.DateTimeFormat; readonly day: Intl.DateTimeFormat }>()

const formatsFor = (timeZone: string | undefined) => {
  const key = timeZone ?? ""
  let found = formats.get(key)
  if (found === undefined) {
    const zone = timeZone === undefined ? {} : { timeZone }
    found = {
      time: new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", ...zone }),
      day: new Intl.DateTimeFormat("en-GB", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23", ...zone })
    }
    formats.set(key, found)
  }
  return found
}

/** `13:02:11` for a time within 20 h of `now`, else `27/11, 13:02`; `timeZone` undefined is the local zone. */
export const clockTime = (at: Date, now: Date, timeZone?: string): string => {
  const f = formatsFor(timeZone)
  return Math.abs(at.getTime() - now.getTime()) < 20 * 3600_000 ? f.time.format(at) : f.day.format(at)
}

/** A count with thin grouping: `12 345`. */
export const count = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " ")
