/** Escaping for the XML Custodian writes (Green Button feeds, ESPI notifications). */

// Characters XML 1.0 does not allow at all, not even escaped: one in a name would break the whole document.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to remove
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
}

/** Escapes text for element content and attribute values alike. */
export const xmlText = (s: string): string =>
  s.replace(NOT_XML, '\uFFFD').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
