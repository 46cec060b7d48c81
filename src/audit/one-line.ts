/** Control characters, and the two line separators JavaScript also breaks lines at. */
const BREAKS_A_LINE = /[\p{Cc}\u2028\u2029]/u
const BREAKS_A_LINE_ALL = /[\p{Cc}\u2028\u2029]/gu

/**
 * Text on one line: control characters (a line break, an escape that drives a terminal) written as JSON
 * escapes, so that text a caller chose (an id asked about, without a token even) can neither forge another
 * line of a listing nor send a terminal commands. Nearly all text holds none: the test spares a copy.
 */
export const oneLine = (text: string): string =>
  BREAKS_A_LINE.test(text) ? text.replace(BREAKS_A_LINE_ALL, (c) => JSON.stringify(c).slice(1, -1)) : text
