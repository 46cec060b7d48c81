/**
 * How deeply a JSON text nests, found in one pass over its characters without parsing it: a body nested
 * deeper than the configured limit is refused before JSON.parse and the code that walks the result (which
 * recurses) ever see it.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d

/**
 * Whether `text` opens more than `max` arrays and objects inside one another. Strings are skipped (a
 * bracket in a string does not count); the text need not be valid JSON, JSON.parse judges that afterwards.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) inString = true
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--
  }
  return false
}

/** The refusal of a body nested too deeply, naming the limit and its setting. */
export const tooDeepMessage = (what: string, max: number) =>
  `${what} nests arrays and objects more than ${max} deep (the limit maxJsonDepth, --max-json-depth)`
