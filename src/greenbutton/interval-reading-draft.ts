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

/** Whole numbers as ESPI writes them, within what a JavaScript number holds exactly. */
export function wholeNumber(text: string, what: string): number | string {
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
    const parent = this.#path.at(-1)
    let problem: ReadingProblem | undefined
    const number = (what: string) => {
      const read = wholeNumber(text, what)
      if (typeof read === 'number') return read
      problem ??= { position: here(), reason: read }
      return undefined
    }
    if (depth === 0) return this.#reading()
    if (depth === 1) {
      if (name === 'value') this.#value ??= number('IntervalReading value')
      else if (name === 'cost') this.#cost ??= number('IntervalReading cost')
      else if (name === 'timePeriod') this.#inFirstPeriod = false
      else if (name === 'ReadingQuality' && !this.#qualityTaken)
        this.#quality(number('ReadingQuality quality'))
    } else if (depth === 2 && parent === 'timePeriod' && this.#inFirstPeriod) {
      if (name === 'start') this.#start ??= number('timePeriod start')
      else if (name === 'duration') this.#duration ??= number('timePeriod duration')
    } else if (depth === 2 && parent === 'ReadingQuality' && name === 'quality' && !this.#qualityTaken) {
      this.#quality(number('ReadingQuality quality'))
      this.#qualityTaken = true
    }
    return problem
  }

  #quality(code: number | undefined): void {
    if (code !== undefined) this.#qualities.push(code)
  }

  #reading(): IntervalReading | ReadingProblem {
    if (!this.#periodPosition || this.#value === undefined)
      return { position: this.#position, reason: 'IntervalReading needs a timePeriod and a value' }
    if (this.#start === undefined || this.#duration === undefined)
      return { position: this.#periodPosition, reason: 'timePeriod needs a start and a duration' }
    return {
      start: this.#start,
      duration: this.#duration,
      value: this.#value,
      ...(this.#cost === undefined ? {} : { cost: this.#cost }),
      qualities: this.#qualities,
    }
  }
}
