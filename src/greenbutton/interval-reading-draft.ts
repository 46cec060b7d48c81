/**
 * An IntervalReading read as its elements stream past, without a node per element: a 10-year file holds
 * 350,400 readings of 7 elements each, and building, then collecting, those nodes was half of an import.
 * It reads what the tree reading did: the first timePeriod (its first start and duration), the first
 * value and cost, and every ReadingQuality (its first quality, or its own text); other elements are skipped.
 */

export interface IntervalReading {
  start: number
  duration: number
  value: number
  cost?: number
  qualities: number[]
}

interface At {
  line: number
  column: number
}

/** A refusal: where, and why. The reader turns it into its EspiReadError. */
export type ReadingProblem = { position: At; reason: string }

/**
 * Up to 15 ASCII digits, a minus sign before them or not, and nothing else: what nearly every value of a file
 * is, read without trimming or a regular expression (a 10-year file holds 1.4 million of them). Undefined
 * for anything else, which `wholeNumber` reads the long way.
 */
function plainInteger(text: string): number | undefined {
  const negative = text.charCodeAt(0) === 45
  const from = negative ? 1 : 0
  if (text.length - from < 1 || text.length - from > 15) return undefined
  let value = 0
  for (let i = from; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return undefined
    value = value * 10 + digit
  }
  return negative ? -value : value
}

/** Whole numbers as ESPI writes them, within what a JavaScript number holds exactly. */
export function wholeNumber(text: string, what: string): number | string {
  const plain = plainInteger(text)
  if (plain !== undefined) return plain
  const trimmed = text.trim()
  if (!/^-?\d{1,19}$/.test(trimmed)) return `${what} must be a whole number, found "${trimmed.slice(0, 40)}"`
  const value = Number(trimmed)
  return Number.isSafeInteger(value) ? value : `${what} is out of range: ${trimmed}`
}

export class IntervalReadingDraft {
  /** The open elements, the IntervalReading first, and the text of each so far. */
  readonly #path: string[] = ['IntervalReading']
  readonly #texts: string[] = ['']
  readonly #position: At
  #periodPosition: At | undefined
  #inFirstPeriod = false
  #start: number | undefined
  #duration: number | undefined
  #value: number | undefined
  #cost: number | undefined
  #qualityTaken = false
  readonly #qualities: number[] = []
  /** The first number refused while closing the current element. */
  #problem: ReadingProblem | undefined

  constructor(position: At) {
    this.#position = position
  }

  /** Opens an element; `here` gives the parser's position, asked only when it is kept (no object per element). */
  open(name: string, here: () => At): void {
    if (this.#path.length === 1 && name === 'timePeriod' && !this.#periodPosition) {
      this.#periodPosition = here()
      this.#inFirstPeriod = true
    }
    if (this.#path.length === 1 && name === 'ReadingQuality') this.#qualityTaken = false
    this.#path.push(name)
    this.#texts.push('')
  }

  /** Adds text to the innermost open element; false if it would then be longer than `max`. */
  text(text: string, max: number): boolean {
    const last = this.#texts.length - 1
    const next = (this.#texts[last] as string) + text
    if (next.length > max) return false
    this.#texts[last] = next
    return true
  }

  /** The innermost open element's name. */
  get current(): string {
    return this.#path.at(-1) as string
  }

  /**
   * Closes the innermost element (`here`: where, asked only for a problem); returns the reading when it was
   * the IntervalReading, a problem when a number is not one or the reading lacks what it needs.
   */
  close(here: () => At): IntervalReading | ReadingProblem | undefined {
    const name = this.#path.pop() as string
    const text = this.#texts.pop() as string
    const depth = this.#path.length
    if (depth === 0) return this.#reading()
    // Plain branches, no closure: this runs for every element of every reading.
    this.#problem = undefined
    if (depth === 1) {
      if (name === 'value') {
        if (this.#value === undefined) this.#value = this.#number(text, 'IntervalReading value', here)
      } else if (name === 'cost') {
        if (this.#cost === undefined) this.#cost = this.#number(text, 'IntervalReading cost', here)
      } else if (name === 'timePeriod') this.#inFirstPeriod = false
      else if (name === 'ReadingQuality' && !this.#qualityTaken)
        this.#quality(this.#number(text, 'ReadingQuality quality', here))
    } else if (depth === 2 && this.#inFirstPeriod && this.#path[1] === 'timePeriod') {
      if (name === 'start') {
        if (this.#start === undefined) this.#start = this.#number(text, 'timePeriod start', here)
      } else if (name === 'duration') {
        if (this.#duration === undefined) this.#duration = this.#number(text, 'timePeriod duration', here)
      }
    } else if (
      depth === 2 &&
      name === 'quality' &&
      !this.#qualityTaken &&
      this.#path[1] === 'ReadingQuality'
    ) {
      this.#quality(this.#number(text, 'ReadingQuality quality', here))
      this.#qualityTaken = true
    }
    return this.#problem
  }

  #number(text: string, what: string, here: () => At): number | undefined {
    const read = wholeNumber(text, what)
    if (typeof read === 'number') return read
    this.#problem ??= { position: here(), reason: read }
    return undefined
  }

  #quality(code: number | undefined): void {
    if (code !== undefined) this.#qualities.push(code)
  }

  #reading(): IntervalReading | ReadingProblem {
    if (!this.#periodPosition || this.#value === undefined)
      return { position: this.#position, reason: 'IntervalReading needs a timePeriod and a value' }
    if (this.#start === undefined || this.#duration === undefined)
      return { position: this.#periodPosition, reason: 'timePeriod needs a start and a duration' }
    const start = this.#start
    const duration = this.#duration
    const value = this.#value
    const cost = this.#cost
    return cost === undefined
      ? { start, duration, value, qualities: this.#qualities }
      : { start, duration, value, cost, qualities: this.#qualities }
  }
}
