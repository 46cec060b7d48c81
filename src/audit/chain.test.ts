import { describe, expect, it } from 'vitest'
import {
  type AuditEntry,
  type AuditRow,
  chainAuditEntries,
  GENESIS_HASH,
  hashAuditRecord,
  storableText,
  verifyAuditChain,
} from './chain.js'

const GENESIS = { seq: 0, hash: GENESIS_HASH }

const entry = (n: number): AuditEntry => ({
  at: `2026-11-23T10:00:0${n}.000Z`,
  actor: n % 2 ? 'sam' : 'bootstrap',
  action: 'access.check',
  resource: `house${n}`,
  outcome: n % 2 ? 'allowed' : 'denied',
  reason: `reason ${n}`,
})

/** Five chained records from the genesis head. */
const chain = (): AuditRow[] => chainAuditEntries([1, 2, 3, 4, 5].map(entry), GENESIS)

describe('chainAuditEntries', () => {
  it('numbers records from the head and links each to the previous hash', () => {
    const rows = chain()
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5])
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH)
    for (let i = 1; i < rows.length; i++) expect(rows[i]?.prev_hash).toBe(rows[i - 1]?.hash)
    expect(new Set(rows.map((r) => r.hash)).size).toBe(5)
    expect(rows[2]).toMatchObject(entry(3))
  })

  it('hashes every field and the previous hash', () => {
    const rows = chain()
    const row = rows[1] as AuditRow
    expect(row.hash).toBe(hashAuditRecord(2, entry(2), rows[0]?.hash as string))
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/)
    for (const field of ['at', 'actor', 'action', 'resource', 'outcome', 'reason'] as const) {
      expect(hashAuditRecord(2, { ...entry(2), [field]: 'changed' }, row.prev_hash)).not.toBe(row.hash)
    }
    expect(hashAuditRecord(3, entry(2), row.prev_hash)).not.toBe(row.hash)
    expect(hashAuditRecord(2, entry(2), GENESIS_HASH)).not.toBe(row.hash)
  })

  it('does not let field boundaries shift without changing the hash', () => {
    const a = hashAuditRecord(1, { ...entry(1), actor: 'sam', action: 'x.y' }, GENESIS_HASH)
    const b = hashAuditRecord(1, { ...entry(1), actor: 'samx', action: '.y' }, GENESIS_HASH)
    expect(a).not.toBe(b)
  })

  it('continues a chain from a later head as if chained in one go', () => {
    const all = chain()
    const first = chainAuditEntries([1, 2].map(entry), GENESIS)
    const last = first.at(-1) as AuditRow
    const rest = chainAuditEntries([3, 4, 5].map(entry), { seq: last.seq, hash: last.hash })
    expect([...first, ...rest]).toEqual(all)
  })

  it('returns nothing for no entries', () => {
    expect(chainAuditEntries([], GENESIS)).toEqual([])
  })
})

describe('verifyAuditChain', () => {
  it('passes an intact chain and reports its last record', () => {
    const rows = chain()
    expect(verifyAuditChain(rows, GENESIS)).toEqual({
      problems: [],
      last: { seq: 5, hash: rows[4]?.hash },
      count: 5,
    })
  })

  it('passes a run read after an earlier record', () => {
    const rows = chain()
    const from = rows[1] as AuditRow
    const result = verifyAuditChain(rows.slice(2), { seq: from.seq, hash: from.hash })
    expect(result.problems).toEqual([])
    expect(result.count).toBe(3)
  })

  it('passes an empty run, keeping the head it started from', () => {
    expect(verifyAuditChain([], GENESIS)).toEqual({ problems: [], last: GENESIS, count: 0 })
  })

  it('detects a changed field in a record', () => {
    const rows = chain()
    rows[2] = { ...(rows[2] as AuditRow), outcome: 'allowed', reason: 'nothing to see' }
    expect(verifyAuditChain(rows, GENESIS).problems).toEqual([
      { seq: 3, problem: 'record content does not match its hash: it was changed' },
    ])
  })

  it('detects a record removed from the middle', () => {
    const rows = chain()
    rows.splice(2, 1)
    expect(verifyAuditChain(rows, GENESIS).problems).toEqual([
      { seq: 4, problem: 'record(s) 3..3 missing: sequence jumps from 2 to 4' },
    ])
  })

  it('detects several records removed at the start', () => {
    const rows = chain().slice(3)
    expect(verifyAuditChain(rows, GENESIS).problems).toEqual([
      { seq: 4, problem: 'record(s) 1..3 missing: sequence jumps from 0 to 4' },
    ])
  })

  it('detects a wrong previous hash even when the record was re-hashed to match', () => {
    const rows = chain()
    const forged = { ...(rows[3] as AuditRow), prev_hash: 'f'.repeat(64) }
    forged.hash = hashAuditRecord(forged.seq, forged, forged.prev_hash)
    rows[3] = forged
    const { problems } = verifyAuditChain(rows, GENESIS)
    // Record 5 still points at the original hash of record 4, which was replaced.
    expect(problems).toEqual([
      { seq: 4, problem: "previous-hash does not match record 3's hash" },
      { seq: 5, problem: "previous-hash does not match record 4's hash" },
    ])
  })

  it('detects a wrong previous hash left un-rehashed as both a broken link and a changed record', () => {
    const rows = chain()
    rows[1] = { ...(rows[1] as AuditRow), prev_hash: GENESIS_HASH }
    expect(verifyAuditChain(rows, GENESIS).problems).toEqual([
      { seq: 2, problem: "previous-hash does not match record 1's hash" },
      { seq: 2, problem: 'record content does not match its hash: it was changed' },
    ])
  })

  it('detects a chain started from the wrong head', () => {
    const rows = chain()
    const problems = verifyAuditChain(rows, { seq: 0, hash: 'a'.repeat(64) }).problems
    expect(problems).toEqual([{ seq: 1, problem: "previous-hash does not match record 0's hash" }])
  })
})

describe('storableText', () => {
  it('leaves text every store takes as it is, and makes a NUL or a lone surrogate U+FFFD', () => {
    expect(storableText('house 1 ünïcode 🎉 "quoted"\n')).toBe('house 1 ünïcode 🎉 "quoted"\n')
    expect(storableText('a\u0000b\u0000')).toBe('a\uFFFDb\uFFFD')
    expect(storableText('a\uD800b')).toBe('a\uFFFDb')
    expect(storableText('a\uDC00')).toBe('a\uFFFD')
  })

  it('is applied before the hash: the stored record is the one the chain covers', () => {
    const [row] = chainAuditEntries([{ ...entry(1), resource: 'door\u0000\uD800' }], GENESIS)
    expect(row?.resource).toBe('door\uFFFD\uFFFD')
    expect(verifyAuditChain(row ? [row] : [], GENESIS).problems).toEqual([])
    expect(row?.hash).toBe(hashAuditRecord(1, { ...entry(1), resource: 'door\uFFFD\uFFFD' }, GENESIS_HASH))
  })
})
