/**
 * The command-script line syntax, as the seed writes it: a command name, then comma-separated fields, with
 * or without a comma after the name. A field is one or more words; double quotes keep commas and spaces
 * inside one word (`\"` and `\\` escape). `#` starts a comment line; blank lines are skipped.
 */
export interface Field {
  /** The field's words joined by single spaces, quotes removed. */
  text: string
  words: string[]
  /** 1-based column where the field starts. */
  column: number
}

export type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'command'; command: string; fields: Field[] }
  | { kind: 'error'; column: number; message: string }

export function parseLine(raw: string): ParsedLine {
  const text = raw.replace(/\r$/, '')
  const trimmed = text.trimStart()
  if (trimmed === '' || trimmed.startsWith('#')) return { kind: 'blank' }

  const fields: Field[] = []
  let words: string[] = []
  let word: string | undefined
  let fieldColumn = text.length - trimmed.length + 1
  let i = fieldColumn - 1
  const endWord = () => {
    if (word !== undefined) words.push(word)
    word = undefined
  }
  const endField = (nextColumn: number) => {
    endWord()
    fields.push({ text: words.join(' '), words, column: fieldColumn })
    words = []
    fieldColumn = nextColumn
  }
  while (i < text.length) {
    const ch = text[i] as string
    // A field's column is where its first word starts, not the space after the comma.
    if (ch !== ' ' && ch !== '\t' && ch !== ',' && word === undefined && words.length === 0)
      fieldColumn = i + 1
    if (ch === '"') {
      const start = i
      let value = ''
      i += 1
      for (;;) {
        if (i >= text.length)
          return { kind: 'error', column: start + 1, message: 'unterminated quoted string (no closing ")' }
        const c = text[i] as string
        if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
          value += text[i + 1]
          i += 2
        } else if (c === '"') {
          i += 1
          break
        } else {
          value += c
          i += 1
        }
      }
      word = (word ?? '') + value
    } else if (ch === ',') {
      endField(i + 2)
      i += 1
    } else if (ch === ' ' || ch === '\t') {
      endWord()
      i += 1
    } else {
      word = (word ?? '') + ch
      i += 1
    }
  }
  endField(i + 1)

  // The command name is the first word; the rest of the first field (if no comma followed the name) is the
  // first argument.
  const first = fields[0] as Field
  const command = first.words[0] ?? ''
  if (!/^[a-z][a-z_]*$/.test(command)) {
    return {
      kind: 'error',
      column: first.column,
      message: `expected a command name, found "${command || first.text}"`,
    }
  }
  const rest = first.words.slice(1)
  const args = fields.slice(1)
  if (rest.length > 0) {
    args.unshift({ text: rest.join(' '), words: rest, column: first.column + command.length + 1 })
  }
  return { kind: 'command', command, fields: args }
}
