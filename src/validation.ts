import { invalid } from './errors.js'

/** Input checks shared by every domain's write planners. */

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,199}$/

/** Refuses an id that is not 1-200 letters, digits and _ . : @ / -, naming the kind of thing it is for. */
export function checkId(kind: string, id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw invalid(
      `${kind} id "${id}" is not valid: use 1-200 letters, digits and _ . : @ / -, starting with a letter or digit`,
    )
  }
}
