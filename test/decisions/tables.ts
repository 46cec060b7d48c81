import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import type { Question } from './adapters/adapter.js'

/** The shape of a decision table file (see decision-tables.test.ts). */
export interface Step {
  given?: unknown
  remove?: unknown
  check?: Question[]
}
export interface Case extends Step {
  name: string
  then?: Step[]
}
export interface Table {
  model: unknown
  cases: Case[]
}

/** A table file (a path, or a URL of one), read and checked for the keys the loader needs. */
export function readTable(path: string | URL): Table {
  const table = parse(readFileSync(path, 'utf8'), { merge: true }) as Partial<Table> | null
  if (!table || !Array.isArray(table.cases) || table.cases.length === 0)
    throw new Error(`${path}: a table needs a non-empty list of cases`)
  onlyKeys(table, ['model', 'cases'], String(path))
  for (const [i, c] of table.cases.entries()) {
    if (typeof c.name !== 'string') throw new Error(`${path}: case ${i + 1} has no name`)
    onlyKeys(c, ['name', 'given', 'remove', 'check', 'then'], `${path} › ${c.name}`)
    for (const [s, step] of (c.then ?? []).entries())
      onlyKeys(step, ['given', 'remove', 'check'], `${path} › ${c.name} › then ${s + 1}`)
  }
  return table as Table
}

/**
 * `of` as a domain reads it, remembering which keys were read: a key nobody read is a typo or a word the
 * domain does not know, and a table that says something no one checks must fail, not pass.
 */
export function tracked<T>(of: T): { value: T; unread: () => string[] } {
  if (typeof of !== 'object' || of === null || Array.isArray(of)) return { value: of, unread: () => [] }
  const read = new Set<string | symbol>()
  const value = new Proxy(of as object, {
    get(target, key, receiver) {
      read.add(key)
      return Reflect.get(target, key, receiver)
    },
  })
  return { value: value as T, unread: () => Object.keys(of).filter((k) => !read.has(k)) }
}

/** Fails on keys of a table that the loader does not know. */
export function onlyKeys(of: object, known: readonly string[], where: string): void {
  const unknown = Object.keys(of).filter((k) => !known.includes(k))
  if (unknown.length > 0)
    throw new Error(`${where}: unknown key(s) ${unknown.join(', ')} (known: ${known.join(', ')})`)
}
