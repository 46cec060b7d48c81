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
  for (const [i, c] of table.cases.entries())
    if (typeof c.name !== 'string') throw new Error(`${path}: case ${i + 1} has no name`)
  return table as Table
}
