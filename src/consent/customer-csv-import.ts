import { createReadStream, statSync } from 'node:fs'
import { parse } from 'csv-parse'
import { hashPassword } from '../entitlements/credentials.js'
import { CustodianError } from '../errors.js'
import type { Node } from '../kernel/node.js'
import type { ChangeResult } from '../kernel/write-plan.js'
import { opaqueId } from './consent-service.js'
import {
  type CustomerCsvRow,
  checkHeader,
  checkRows,
  type ImportProblem,
  importPlan,
} from './customer-csv.js'

export type ImportProgress = (phase: 'reading' | 'hashing', done: number, total: number) => void

export type ImportOutcome = { ok: true; result: ChangeResult } | { ok: false; problems: ImportProblem[] }

/** Hashes passwords a few at a time: argon2 runs on libuv's thread pool, which has four threads. */
async function hashAll(
  passwords: Map<string, string>,
  progress?: ImportProgress,
): Promise<Map<string, string>> {
  const hashes = new Map<string, string>()
  const queue = [...passwords]
  let done = 0
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        hashes.set(next[0], await hashPassword(next[1]))
        progress?.('hashing', ++done, passwords.size)
      }
    }),
  )
  return hashes
}

/**
 * Imports customers and usage points from a CSV file: streamed while read, checked whole, then written in
 * one transaction, or not at all.
 */
export async function importCustomersCsv(
  custodian: Node,
  token: string | undefined,
  path: string,
  progress?: ImportProgress,
): Promise<ImportOutcome> {
  const total = statSync(path).size
  let read = 0
  const problems: ImportProblem[] = []
  const rows: CustomerCsvRow[] = []
  const input = createReadStream(path)
  input.on('data', (chunk) => {
    read += chunk.length
    progress?.('reading', read, total)
  })
  const parser = input.pipe(
    parse({
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      columns: (header: string[]) => {
        problems.push(...checkHeader(header))
        return header
      },
    }),
  )
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>
      info: { lines: number }
    }>) {
      rows.push({ line: info.lines, fields: record })
    }
  } catch (error) {
    const lines = (error as { lines?: number }).lines
    return {
      ok: false,
      problems: [
        ...problems,
        { line: lines ?? 0, field: '', message: (error as Error).message.replace(/^Invalid.*?: /, '') },
      ],
    }
  }
  if (problems.length > 0) return { ok: false, problems }
  const checked = checkRows(custodian.projections, rows)
  if (checked.problems.length > 0) return { ok: false, problems: checked.problems }
  const hashes = await hashAll(new Map(checked.customers.map((c) => [c.username, c.password])), progress)
  const result = await custodian.change(token, 'customer.import', path, (world, now) => {
    // Checked again under the write lock: another process may have added one of these customers meanwhile.
    const again = checkRows(world, rows)
    if (again.problems.length > 0) {
      throw new CustodianError(
        'Conflict',
        `the store changed during the import: ${again.problems.map((p) => `line ${p.line}: ${p.field}: ${p.message}`).join('; ')}`,
      )
    }
    return importPlan(world, again, hashes, opaqueId, now)
  })
  return { ok: true, result }
}
