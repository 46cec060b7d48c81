import { invalid } from '../errors.js'
import type { TimeFilter } from '../store/usage-data-store.js'

/** The ESPI query parameters (REQ.21) of a feed request, read and checked. Pure. */
export type Query = Record<string, string | undefined>

/** RFC 3339's date-time: what Date.parse also reads, but not "03/01/2016" or a date alone. */
const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** The ESPI query parameters, each checked; a bad one is refused by name. */
export function queryOf(query: Query): {
  filter: TimeFilter
  maxResults?: number
  startIndex: number
  depth: number
} {
  const time = (name: string) => {
    const text = query[name]
    if (text === undefined) return undefined
    const ms = RFC_3339.test(text) ? Date.parse(text) : Number.NaN
    if (Number.isNaN(ms)) throw invalid(`${name}: "${text.slice(0, 40)}" is not a date-time (RFC 3339)`)
    // Entries show whole seconds: an upper bound takes in the second it names, so a shown time selects.
    return name.endsWith('-max') ? Math.floor(ms / 1000) * 1000 + 999 : ms
  }
  const count = (name: string, least: number) => {
    const text = query[name]
    if (text === undefined) return undefined
    if (!/^\d{1,9}$/.test(text) || Number(text) < least)
      throw invalid(`${name}: "${text.slice(0, 40)}" is not a whole number of at least ${least}`)
    return Number(text)
  }
  const filter: TimeFilter = {}
  for (const [name, key] of [
    ['published-min', 'publishedMin'],
    ['published-max', 'publishedMax'],
    ['updated-min', 'updatedMin'],
    ['updated-max', 'updatedMax'],
  ] as const) {
    const value = time(name)
    if (value !== undefined) filter[key] = value
  }
  const maxResults = count('max-results', 1)
  return {
    filter,
    ...(maxResults === undefined ? {} : { maxResults }),
    startIndex: count('start-index', 1) ?? 1,
    depth: count('depth', 1) ?? 3,
  }
}
