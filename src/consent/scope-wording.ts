import type { BlockDuration, EspiScope } from './espi-scope.js'
import { parseEspiScope } from './espi-scope.js'

/**
 * An ESPI scope as a customer reads it: which data, how far back, how often. The one mapping of function
 * blocks and terms to words, used by the consent page, the account page and the emails. Pure.
 *
 * Only the function blocks that carry data a customer would recognise are named (what data-window.ts
 * serves: FB 4 interval readings, FB 15/16 usage summaries, FB 17 power quality, and the costs of FB 12 and
 * 16); the others are protocol features (notifications, bulk transfer, OAuth) that change nothing a third
 * party learns about the customer.
 */
export interface ScopeWording {
  /** Which data, one phrase each: "hourly electricity use", "monthly usage summaries", "bills and costs". */
  data: string[]
  /** How far back: "the last 13 months", or "all your past data". */
  history: string
  /** How often new data reaches the third party: "updated daily". */
  frequency: string
}

const INTERVAL_WORDS: Record<number, string> = {
  60: 'minute-by-minute',
  900: '15-minute',
  1800: 'half-hourly',
  3600: 'hourly',
  86400: 'daily',
}

/** An interval length in seconds as an adjective: 900 → "15-minute", 7200 → "2-hour". */
function intervalWord(seconds: number): string {
  const known = INTERVAL_WORDS[seconds]
  if (known) return known
  if (seconds % 3600 === 0) return `${seconds / 3600}-hour`
  if (seconds % 60 === 0) return `${seconds / 60}-minute`
  return `${seconds}-second`
}

/** The first letter in capitals, for a phrase that starts a sentence or a list item. */
export const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)

/** "a", "a and b", "a, b and c". */
export function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? ''
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`
}

const COMMODITIES: [number, string][] = [
  [5, 'electricity'],
  [10, 'gas'],
  [11, 'water'],
]

function dataOf(scope: EspiScope): string[] {
  const has = (block: number) => scope.functionBlocks.includes(block)
  const data: string[] = []
  if (has(4)) {
    const commodities = COMMODITIES.filter(([block]) => has(block)).map(([, word]) => word)
    const what = `${commodities.length > 0 ? joinWords(commodities) : 'energy'} use`
    data.push(
      scope.intervalDurations.length > 0
        ? `${joinWords(scope.intervalDurations.map(intervalWord))} ${what}`
        : `${what}, at every interval your meter records`,
    )
  }
  if (has(6)) data.push('peak demand')
  if (has(7) || has(8)) data.push('energy you send back to the grid')
  if (has(9)) data.push('meter register readings')
  if (has(15) || has(16)) data.push('monthly usage summaries')
  if (has(12) || has(16)) data.push('bills and costs')
  if (has(17)) data.push('power quality (voltage) summaries')
  if (data.length === 0) data.push('what your chosen meters measure, without any readings')
  return data
}

const BLOCK_NOUNS: Record<BlockDuration, [string, string]> = {
  hourly: ['hour', 'hours'],
  daily: ['day', 'days'],
  weekly: ['week', 'weeks'],
  monthly: ['month', 'months'],
  billing: ['billing period', 'billing periods'],
  seasonal: ['season', 'seasons'],
  yearly: ['year', 'years'],
}

function historyOf(scope: EspiScope): string {
  if (scope.historyLength === undefined || scope.historySeconds === undefined) return 'all your past data'
  if (scope.blockDuration) {
    const [one, many] = BLOCK_NOUNS[scope.blockDuration]
    return scope.historyLength === 1 ? `the last ${one}` : `the last ${scope.historyLength} ${many}`
  }
  const days = Math.max(1, Math.round(scope.historySeconds / 86_400))
  return days === 1 ? 'the last day' : `the last ${days} days`
}

const BLOCK_FREQUENCY: Record<BlockDuration, string> = {
  hourly: 'updated every hour',
  daily: 'updated daily',
  weekly: 'updated weekly',
  monthly: 'updated monthly',
  billing: 'updated after each bill',
  seasonal: 'updated each season',
  yearly: 'updated yearly',
}

/** SubscriptionFrequency (seconds between updates) when given, else the block length, else as published. */
function frequencyOf(scope: EspiScope): string {
  const seconds = scope.subscriptionFrequency
  if (seconds !== undefined) {
    if (seconds === 86_400) return 'updated daily'
    if (seconds === 3_600) return 'updated every hour'
    if (seconds % 86_400 === 0) return `updated every ${seconds / 86_400} days`
    if (seconds % 3_600 === 0) return `updated every ${seconds / 3_600} hours`
    return `updated every ${Math.max(1, Math.round(seconds / 60))} minutes`
  }
  if (scope.blockDuration) return BLOCK_FREQUENCY[scope.blockDuration]
  return 'updated whenever your utility receives new readings'
}

export function describeScope(scope: EspiScope): ScopeWording {
  return { data: dataOf(scope), history: historyOf(scope), frequency: frequencyOf(scope) }
}

/** The wording of a stored scope text; a scope that no longer parses grants nothing (as data-window.ts). */
export function describeScopeText(text: string): ScopeWording {
  const parsed = parseEspiScope(text)
  return parsed.ok
    ? describeScope(parsed.scope)
    : {
        data: ['nothing (this permission can no longer be read)'],
        history: 'no past data',
        frequency: 'never updated',
      }
}

/** One sentence, for text without lists (emails): "Hourly electricity use, covering …". */
export function scopeSentence(wording: ScopeWording): string {
  return capitalize(`${joinWords(wording.data)}, covering ${wording.history}, ${wording.frequency}.`)
}

/**
 * A meter as its customer knows it: its description, with its kind only when the description does not
 * already say it ("Home, electricity", not "Home, electricity (electricity)"); never its internal id.
 */
export function meterLabel(point: { description: string; service_kind: string }): string {
  const description = point.description.trim()
  if (!description) return `${capitalize(point.service_kind)} meter`
  return description.toLowerCase().includes(point.service_kind.toLowerCase())
    ? description
    : `${description} (${point.service_kind})`
}
