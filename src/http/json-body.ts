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

/**
 * The field (`body.a.0.b`) of the first text of a parsed body holding a NUL, key or value; undefined if none.
 * No store keeps a NUL in text (PostgreSQL refuses it), so a body with one is refused, naming where it is.
 */
export function fieldWithNul(value: unknown, path = 'body'): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined
  if (typeof value !== 'object' || value === null) return undefined
  for (const [key, item] of Object.entries(value)) {
    const field = `${path}.${key.replaceAll('\0', '\\u0000')}`
    if (key.includes('\0')) return field
    const found = fieldWithNul(item, field)
    if (found) return found
  }
  return undefined
}

/** The refusal of a body holding a NUL, naming the field. */
export const nulMessage = (field: string) =>
  `${field} holds a NUL character (\\u0000), which no text may hold`
