import { isCustodianError } from '../errors.js'
import type { GrantKind } from '../store/schema.js'
import { checkId } from '../validation.js'
import { MAX_SECRET_LENGTH } from './sessions.js'

/**
 * The records of an entitlements import file (docs/import-entitlements.md), one a line: each checked on its
 * own here, with problems naming the line and the field. Pure: no I/O, no store.
 */

export interface ImportProblem {
  line: number
  /** The field at fault; '' for the line as a whole. */
  field: string
  message: string
}

export type RecordType = keyof typeof FIELDS

/** Each type's fields: the required ones first, then the optional ones. */
export const FIELDS = {
  permission: { required: ['id'], optional: ['name', 'description'] },
  role: { required: ['id'], optional: ['name', 'description', 'permissions'] },
  resource: { required: ['id'], optional: ['description', 'parent'] },
  resource_role: { required: ['id', 'role', 'resource'], optional: [] },
  user: { required: ['id'], optional: ['name'] },
  credential: { required: ['user'], optional: ['password', 'password_hash'] },
  grant: { required: ['user'], optional: ['role', 'permission', 'resource_role'] },
} as const satisfies Record<string, { required: readonly string[]; optional: readonly string[] }>

/** Every field of any type, in the order a CSV header lists them (`type` first). */
export const CSV_COLUMNS = [
  'type',
  ...new Set(Object.values(FIELDS).flatMap((f) => [...f.required, ...f.optional])),
]

export type ImportRecord =
  | { type: 'permission'; id: string; name: string; description: string }
  | { type: 'role'; id: string; name: string; description: string; permissions: string[] }
  | { type: 'resource'; id: string; description: string; parent: string | null }
  | { type: 'resource_role'; id: string; role: string; resource: string }
  | { type: 'user'; id: string; name: string }
  | { type: 'credential'; user: string; password?: string; password_hash?: string }
  | { type: 'grant'; user: string; kind: GrantKind; target: string }

const MAX_TEXT = 2_000

// An argon2 PHC string as @node-rs/argon2 writes it: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
const ARGON2_PHC =
  /^\$argon2(id|i|d)\$v=\d{1,3}\$m=\d{1,10},t=\d{1,10},p=\d{1,3}\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}$/

class FieldProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

const typeNames = Object.keys(FIELDS).join(', ')

/**
 * One record from a parsed line (a JSON object, or a CSV row whose empty cells were left out): the record,
 * or the problem with it.
 */
export function checkRecord(value: unknown, line: number): ImportRecord | ImportProblem {
  try {
    return recordOf(value)
  } catch (error) {
    if (error instanceof FieldProblem) return { line, field: error.field, message: error.message }
    throw error
  }
}

function recordOf(value: unknown): ImportRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new FieldProblem('', 'expected an object with a "type" field')
  const fields = value as Record<string, unknown>
  const type = fields.type
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type))
    throw new FieldProblem('type', `expected one of ${typeNames}, got ${JSON.stringify(type ?? null)}`)
  const spec = FIELDS[type as RecordType]
  const allowed: readonly string[] = [...spec.required, ...spec.optional]
  for (const name of Object.keys(fields)) {
    if (name !== 'type' && !allowed.includes(name))
      throw new FieldProblem(name, `a ${type} has no field "${name}" (its fields: ${allowed.join(', ')})`)
  }
  for (const name of spec.required) {
    if (fields[name] === undefined) throw new FieldProblem(name, `a ${type} needs "${name}"`)
  }
  switch (type as RecordType) {
    case 'permission':
    case 'role': {
      const id = idField(fields, 'id', type)
      const name = textField(fields, 'name') ?? id
      const description = textField(fields, 'description') ?? ''
      if (type === 'permission') return { type, id, name, description }
      return { type: 'role', id, name, description, permissions: idList(fields, 'permissions') }
    }
    case 'resource':
      return {
        type: 'resource',
        id: idField(fields, 'id', 'resource'),
        description: textField(fields, 'description') ?? '',
        parent: fields.parent === undefined ? null : idField(fields, 'parent', 'resource'),
      }
    case 'resource_role':
      return {
        type: 'resource_role',
        id: idField(fields, 'id', 'resource role'),
        role: idField(fields, 'role', 'role'),
        resource: idField(fields, 'resource', 'resource'),
      }
    case 'user': {
      const id = idField(fields, 'id', 'user')
      return { type: 'user', id, name: textField(fields, 'name') ?? id }
    }
    case 'credential':
      return credentialOf(fields)
    case 'grant':
      return grantOf(fields)
  }
}

function credentialOf(fields: Record<string, unknown>): ImportRecord {
  const user = idField(fields, 'user', 'user')
  const password = fields.password
  const hash = fields.password_hash
  if ((password === undefined) === (hash === undefined))
    throw new FieldProblem('password', 'a credential needs one of "password" or "password_hash"')
  if (hash !== undefined) {
    if (typeof hash !== 'string' || !ARGON2_PHC.test(hash))
      throw new FieldProblem(
        'password_hash',
        'expected an argon2 PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)',
      )
    return { type: 'credential', user, password_hash: hash }
  }
  if (typeof password !== 'string' || password === '' || password.length > MAX_SECRET_LENGTH)
    throw new FieldProblem('password', `the password must be 1 to ${MAX_SECRET_LENGTH} characters`)
  return { type: 'credential', user, password }
}

function grantOf(fields: Record<string, unknown>): ImportRecord {
  const user = idField(fields, 'user', 'user')
  const given = (['role', 'permission', 'resource_role'] as const).filter((k) => fields[k] !== undefined)
  const kind = given[0]
  if (given.length !== 1 || kind === undefined)
    throw new FieldProblem(
      given[1] ?? 'role',
      'a grant names exactly one of "role", "permission" or "resource_role"',
    )
  return { type: 'grant', user, kind, target: idField(fields, kind, kind.replace('_', ' ')) }
}

function idField(fields: Record<string, unknown>, name: string, kind: string): string {
  const value = fields[name]
  if (typeof value !== 'string') throw new FieldProblem(name, `expected a string, got ${typeof value}`)
  checkIdAt(name, kind, value)
  return value
}

function checkIdAt(field: string, kind: string, value: string): void {
  try {
    checkId(kind, value)
  } catch (error) {
    if (isCustodianError(error)) throw new FieldProblem(field, error.message)
    throw error
  }
}

function textField(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name]
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new FieldProblem(name, `expected a string, got ${typeof value}`)
  if (value.length > MAX_TEXT)
    throw new FieldProblem(name, `too long (${value.length} characters; at most ${MAX_TEXT})`)
  return value
}

/** A list of ids: a JSON array of strings, or (from CSV) one string of ids separated by spaces. */
function idList(fields: Record<string, unknown>, name: string): string[] {
  const value = fields[name]
  if (value === undefined) return []
  const ids = typeof value === 'string' ? value.split(/\s+/).filter((s) => s !== '') : value
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
    throw new FieldProblem(name, 'expected an array of ids (in CSV: ids separated by spaces)')
  for (const id of ids as string[]) checkIdAt(name, 'permission', id)
  return ids as string[]
}

/** A CSV row as a record's fields: its cells by the header's names, empty cells left out. */
export function csvFields(header: readonly string[], cells: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (let i = 0; i < header.length; i++) {
    const cell = cells[i]
    const name = header[i]
    if (cell !== undefined && cell !== '' && name !== undefined) fields[name] = cell
  }
  return fields
}

/** Problems with a CSV header: it must name the type column, and only columns some record type has. */
export function checkCsvHeader(header: readonly string[]): ImportProblem[] {
  const problems: ImportProblem[] = []
  if (!header.includes('type'))
    problems.push({ line: 1, field: 'type', message: 'the header must name a "type" column' })
  for (const name of header) {
    if (!CSV_COLUMNS.includes(name))
      problems.push({
        line: 1,
        field: name,
        message: `no record type has a column "${name}" (columns: ${CSV_COLUMNS.join(', ')})`,
      })
  }
  return problems
}
