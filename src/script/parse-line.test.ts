import { describe, expect, it } from 'vitest'
import { type Field, type ParsedLine, parseLine } from './parse-line.js'

/** The parsed command, failing the test with the whole result when the line did not parse as one. */
function command(raw: string): { command: string; fields: Field[] } {
  const parsed = parseLine(raw)
  if (parsed.kind !== 'command') throw new Error(`expected a command, got ${JSON.stringify(parsed)}`)
  return parsed
}

const texts = (raw: string) => command(raw).fields.map((f) => f.text)

function error(raw: string): Extract<ParsedLine, { kind: 'error' }> {
  const parsed = parseLine(raw)
  if (parsed.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(parsed)}`)
  return parsed
}

describe('parseLine', () => {
  it('keeps a comma inside double quotes as part of the field', () => {
    const parsed = command(
      'define_permission, user_admin, "User Administrator", "Create, Update, Delete Users"',
    )
    expect(parsed.command).toBe('define_permission')
    expect(parsed.fields.map((f) => f.text)).toEqual([
      'user_admin',
      'User Administrator',
      'Create, Update, Delete Users',
    ])
    // A quoted string is one word, spaces and all.
    expect(parsed.fields[2]?.words).toEqual(['Create, Update, Delete Users'])
  })

  it('takes the first argument from the first field when no comma follows the command name', () => {
    const line = 'add_user_credential sam, voice_print, --sam--'
    const parsed = command(line)
    expect(parsed.command).toBe('add_user_credential')
    expect(parsed.fields.map((f) => f.text)).toEqual(['sam', 'voice_print', '--sam--'])
    expect(parsed.fields[0]?.column).toBe(line.indexOf('sam') + 1)
  })

  it('gives each field after a comma the column of its first character', () => {
    const line = 'create_user, debra,  "Debra Smart"'
    expect(command(line).fields.map((f) => f.column)).toEqual([
      line.indexOf('debra') + 1,
      line.indexOf('"') + 1,
    ])
  })

  it('parses the same arguments with or without a comma after the command name', () => {
    expect(texts('add_user_credential, sam, voice_print, --sam--')).toEqual(
      texts('add_user_credential sam, voice_print, --sam--'),
    )
  })

  it('joins an unquoted multi-word field with single spaces and keeps its words', () => {
    const parsed = command('create_user, debra,   Debra    Smart  ')
    expect(parsed.fields.map((f) => f.text)).toEqual(['debra', 'Debra Smart'])
    expect(parsed.fields[1]?.words).toEqual(['Debra', 'Smart'])
  })

  it('splits a field into words: login user sam, password secret', () => {
    const parsed = command('login user sam, password secret')
    expect(parsed.command).toBe('login')
    expect(parsed.fields.map((f) => f.words)).toEqual([
      ['user', 'sam'],
      ['password', 'secret'],
    ])
    expect(parsed.fields.map((f) => f.text)).toEqual(['user sam', 'password secret'])
  })

  it('returns a command with no fields for a bare command name', () => {
    expect(parseLine('list_users')).toEqual({ kind: 'command', command: 'list_users', fields: [] })
  })

  it('keeps an empty field between commas and after a trailing comma', () => {
    expect(texts('define_permission, p, , x')).toEqual(['p', '', 'x'])
    expect(texts('create_user, debra,')).toEqual(['debra', ''])
  })

  it('keeps an empty quoted string as an empty word', () => {
    const parsed = command('define_permission, p, "", x')
    expect(parsed.fields[1]).toMatchObject({ text: '', words: [''] })
  })

  it.each([
    [''],
    ['   '],
    ['\t'],
    ['\r'],
    ['# define permissions'],
    ['   # indented comment, with "an unterminated quote'],
  ])('treats %j as blank', (raw) => {
    expect(parseLine(raw)).toEqual({ kind: 'blank' })
  })

  it('does not treat a # inside a line as a comment', () => {
    expect(texts('create_user, debra, Debra #1')).toEqual(['debra', 'Debra #1'])
  })

  it('unescapes \\" and \\\\ inside quotes and keeps other backslashes', () => {
    const parsed = command(String.raw`define_permission, p, "say \"hi\"", "back\\slash", "a\nb"`)
    expect(parsed.fields.map((f) => f.text)).toEqual(['p', 'say "hi"', 'back\\slash', 'a\\nb'])
  })

  it('joins quoted and unquoted parts written without a space into one word', () => {
    const parsed = command('create_user, x, ab"c d"e f')
    expect(parsed.fields[1]?.words).toEqual(['abc de', 'f'])
  })

  it('ignores a trailing carriage return', () => {
    expect(texts('create_user, debra, Debra Smart\r')).toEqual(['debra', 'Debra Smart'])
  })

  it('reports an unterminated quote at the 1-based column of its opening quote', () => {
    const line = 'define_permission, user_admin, "User Administrator'
    const parsed = error(line)
    expect(parsed.column).toBe(line.indexOf('"') + 1)
    expect(parsed.column).toBe(32)
    expect(parsed.message).toMatch(/unterminated quoted string/)
  })

  it('reports the unterminated quote, not an earlier closed one', () => {
    const line = 'define_permission, p, "closed", "open'
    expect(error(line).column).toBe(line.lastIndexOf('"') + 1)
  })

  it('treats an escaped quote as not closing the string', () => {
    const line = String.raw`define_permission, p, "ends with \"`
    expect(error(line).column).toBe(line.indexOf('"') + 1)
  })

  it('refuses a line that does not start with a command name', () => {
    const parsed = error('123 abc, def')
    expect(parsed.column).toBe(1)
    expect(parsed.message).toBe('expected a command name, found "123"')
  })

  it('gives the column of the first non-blank character for an indented non-command', () => {
    const parsed = error('   Define_Permission, p')
    expect(parsed.column).toBe(4)
    expect(parsed.message).toContain('"Define_Permission"')
  })

  it('refuses a line that starts with a comma', () => {
    const parsed = error(', user_admin')
    expect(parsed.column).toBe(1)
    expect(parsed.message).toMatch(/^expected a command name/)
  })
})
