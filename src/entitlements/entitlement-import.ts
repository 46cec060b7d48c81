import { StringDecoder } from 'node:string_decoder'
import { parse } from 'csv-parse'
import { CustodianError } from '../errors.js'
import type { Node } from '../kernel/node.js'
import { TooFarBehind } from '../store/write-statements.js'
import { hashPassword } from './credentials.js'
import type { EntitlementIndex } from './entitlement-index.js'
import { checkCsvHeader, csvFields, type ImportProblem } from './import-records.js'
import { type ImportCounts, ImportSet, type KnownEntitlements, type ProblemList } from './import-set.js'

/**
 * `custodian import entitlements` and POST /v1/imports/entitlements: a JSON Lines or CSV file of users,
 * credentials, roles, resources, resource roles and grants, read and checked whole, then written in one bulk
 * transaction (store/bulk-write.ts) with one audit record, or not at all.
 */

export type ImportFormat = 'jsonl' | 'csv'

export interface ImportSource {
  /** Named in problems and in the audit record. */
  name: string
  format: ImportFormat
  chunks: AsyncIterable<string | Buffer> | Iterable<string | Buffer>
}

export type ImportPhase = 'reading' | 'hashing' | 'writing'

export interface ImportOptions {
  /** Bytes read, passwords hashed, rows written, as each phase goes; `total` when known. */
  progress?: (phase: ImportPhase, done: number, total?: number) => void
  /** Bring this node's Index up to the import before answering (a server does; a one-shot CLI need not). */
  catchUp?: boolean
}

export interface ImportResult {
  revision: number
  /** Rows written (each also a change record). */
  rows: number
  counts: ImportCounts
  summary: string
}

export type ImportOutcome =
  | { ok: true; result: ImportResult }
  | { ok: false; problems: ImportProblem[]; more: number }

const ACTION = 'import entitlements'
// Another write committing between the check and the write makes the import check again; this many times.
const ATTEMPTS = 5

/** The format a file name says: `.csv` is CSV, anything else JSON Lines. */
export const formatOfName = (name: string): ImportFormat => (/\.csv$/i.test(name) ? 'csv' : 'jsonl')

/** The entitlement Index as the import's checks see it. */
export const knownIn = (index: EntitlementIndex): KnownEntitlements => ({
  hasUser: (id) => index.users.has(id),
  hasRole: (id) => index.roles.has(id),
  permissionBuiltin: (id) => {
    const permission = index.permissions.get(id)
    return permission === undefined ? undefined : permission.builtin === 1
  },
  resourceParent: (id) => index.resources.get(id)?.parent_id,
  hasResourceRole: (id) => index.resourceRoles.has(id),
})

class StoreMoved extends Error {}

/** Imports a file for an administrator (or in bootstrap mode): every row of it, or, with its problems, none. */
export async function importEntitlements(
  custodian: Node,
  token: string | undefined,
  source: ImportSource,
  options: ImportOptions = {},
): Promise<ImportOutcome> {
  // Refused before anything is read: an anonymous caller costs no parsing.
  custodian.authorizeAdminAction(token, ACTION)
  const set = new ImportSet()
  await (source.format === 'csv' ? readCsv : readJsonLines)(source.chunks, set, (bytes) =>
    options.progress?.('reading', bytes),
  )
  await custodian.catchUp()
  const checked = set.check(knownIn(custodian.index))
  if (!set.problems.empty || !checked.empty) return refused(set.problems, checked)
  const clear = set.passwords()
  const hashes = await hashAll(clear, (n) => options.progress?.('hashing', n, clear.size))
  const counts = set.counts()
  const summary = `imported ${describe(counts)} from ${source.name}`
  const written = new Set(set.tables(hashes).map((t) => t.tbl))
  for (let attempt = 1; ; attempt++) {
    const since = custodian.revision
    try {
      const outcome = await custodian.store.bulkWrite(
        since,
        (pending) => {
          // Another write to a table the import writes (the tables its checks and the administrator's
          // authorization read) makes it check again; others, such as a token's last use written back all
          // the time on a busy server, cannot upset it.
          if (pending.some((c) => written.has(c.tbl))) throw new StoreMoved()
          const actor = custodian.authorizeAdminAction(token, ACTION)
          const at = new Date(custodian.now()).toISOString()
          return {
            tables: set.tables(hashes),
            audit: [
              {
                at,
                actor,
                action: 'entitlements.import',
                resource: source.name,
                outcome: 'ok',
                reason: summary,
              },
            ],
            result: undefined,
          }
        },
        (done, total) => options.progress?.('writing', done, total),
      )
      if (options.catchUp) await custodian.atLeast(outcome.revision)
      const rows = outcome.revision - outcome.firstRevision + 1
      return { ok: true, result: { revision: outcome.revision, rows, counts, summary } }
    } catch (error) {
      // Too far behind to see what moved (another import committed meanwhile): as if it had.
      if (!(error instanceof StoreMoved || error instanceof TooFarBehind)) throw error
      if (attempt === ATTEMPTS)
        throw new CustodianError(
          'Conflict',
          `the store kept changing during the import (${ATTEMPTS} attempts); try again`,
        )
      // Another write came first: check again against the Index caught up with it.
      await custodian.catchUp()
      const again = set.check(knownIn(custodian.index))
      if (!again.empty) return refused(again)
    }
  }
}

/** The problems of the lines on their own, then those of their references, in line order. */
const refused = (...lists: ProblemList[]): ImportOutcome => ({
  ok: false,
  problems: lists.flatMap((l) => l.items).sort((a, b) => a.line - b.line),
  more: lists.reduce((n, l) => n + l.more, 0),
})

/** "3 users, 30 grants": the counts that are not zero. */
const describe = (counts: ImportCounts) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([type, n]) => `${n} ${type.replace('_', ' ')}${n === 1 ? '' : 's'}`)
    .join(', ') || 'nothing'

/** Reads JSON Lines: one JSON object a line; blank lines are skipped. */
async function readJsonLines(
  chunks: ImportSource['chunks'],
  set: ImportSet,
  progress: (bytes: number) => void,
): Promise<void> {
  const decoder = new StringDecoder('utf8')
  let rest = ''
  let line = 0
  let bytes = 0
  const take = (text: string) => {
    line++
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text
    if (trimmed.trim() === '') return
    let value: unknown
    try {
      value = JSON.parse(trimmed)
    } catch (error) {
      // Node 22+ adds "(line 1 column N)" of the one-line text parsed: the file's line is given already.
      const message = (error as Error).message.replace(/ \(line \d+ column \d+\)$/, '')
      set.problems.add({ line, field: '', message: `not JSON: ${message}` })
      return
    }
    set.add(value, line)
  }
  for await (const chunk of chunks) {
    bytes += chunk.length
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk))
    let start = 0
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      take(text.slice(start, end))
      start = end + 1
    }
    rest = text.slice(start)
    progress(bytes)
  }
  rest += decoder.end()
  if (rest !== '') take(rest)
}

/** Reads CSV with a header naming its columns, one of them `type`; empty cells are absent fields. */
async function readCsv(
  chunks: ImportSource['chunks'],
  set: ImportSet,
  progress: (bytes: number) => void,
): Promise<void> {
  let header: string[] = []
  let bytes = 0
  const parser = parse({ bom: true, trim: true, skip_empty_lines: true, info: true })
  const feed = (async () => {
    for await (const chunk of chunks) {
      bytes += chunk.length
      if (!parser.write(chunk)) await new Promise((resolve) => parser.once('drain', resolve))
      progress(bytes)
    }
    parser.end()
  })()
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[]
      info: { lines: number }
    }>) {
      if (header.length === 0) {
        header = record
        for (const p of checkCsvHeader(header)) set.problems.add(p)
        continue
      }
      set.add(csvFields(header, record), info.lines)
    }
    await feed
  } catch (error) {
    const lines = (error as { lines?: number }).lines ?? 0
    set.problems.add({
      line: lines,
      field: '',
      message: (error as Error).message.replace(/^Invalid.*?: /, ''),
    })
    parser.destroy()
  }
}

/** Hashes clear passwords four at a time: argon2 runs on libuv's thread pool, which has four threads. */
async function hashAll(
  passwords: Map<string, string>,
  progress: (done: number) => void,
): Promise<Map<string, string>> {
  const hashes = new Map<string, string>()
  const queue = passwords.entries()
  const worker = async () => {
    for (let next = queue.next(); !next.done; next = queue.next()) {
      const [user, password] = next.value
      hashes.set(user, await hashPassword(password))
      progress(hashes.size)
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()])
  return hashes
}
