import { describe, expect, it } from 'vitest'
import { auditEntry, backends, GENESIS_HASH, race, storeFixture, verifyAuditChain } from './backends.js'

describe.each(backends)('the audit log on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('starts empty, its head the genesis hash', async () => {
    expect(await fixture.store.readAudit(0, 10)).toEqual([])
    expect(await fixture.store.auditHead()).toEqual({ seq: 0, hash: GENESIS_HASH })
  })

  it('appends the records of a write in order, chained from the genesis hash, and records the head', async () => {
    const { store } = fixture
    await store.write(0, () => ({
      changes: [],
      audit: [auditEntry('one'), auditEntry('two')],
      result: null,
    }))
    const rows = await store.readAudit(0, 10)
    expect(rows.map((r) => [r.seq, r.action])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ])
    expect(rows[0]).toMatchObject({ ...auditEntry('one'), prev_hash: GENESIS_HASH })
    expect(rows[1]?.prev_hash).toBe(rows[0]?.hash)
    expect(await store.auditHead()).toEqual({ seq: 2, hash: rows[1]?.hash })
  })

  it('leaves the log and its head alone when a write has no audit records', async () => {
    const { store } = fixture
    const head = await store.auditHead()
    await store.write(0, () => ({
      changes: [{ tbl: 'users', op: 'put', row: { id: 'quiet', name: 'Quiet' } }],
      audit: [],
      result: null,
    }))
    expect(await store.auditHead()).toEqual(head)
    expect(await store.readAudit(head.seq, 10)).toEqual([])
  })

  it('chains audit records across writes and connections, and records the head', async () => {
    const { store } = fixture
    const other = await fixture.node()
    await race([store, other], 19, (node, i) =>
      node.write(0, () => ({ changes: [], audit: [auditEntry(`w${i}`)], result: null })),
    )
    const rows = await store.readAudit(0, 1000)
    expect(rows.length).toBe(21)
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1))
    const result = verifyAuditChain(rows, { seq: 0, hash: GENESIS_HASH })
    expect(result.problems).toEqual([])
    expect(await store.auditHead()).toEqual(result.last)
    expect(await other.auditHead()).toEqual(result.last)
  })

  it('reads after a sequence number, up to a limit', async () => {
    const { store } = fixture
    const all = await store.readAudit(0, 1000)
    expect(await store.readAudit(5, 3)).toEqual(all.slice(5, 8))
    expect(await store.readAudit(21, 10)).toEqual([])
  })

  it('keeps every character of a record: quotes, backslashes, braces, commas, NULL as text, emoji, empty', async () => {
    const { store } = fixture
    const head = await store.auditHead()
    const awkward = [
      'say "hi"',
      'back\\slash \\"',
      '{a,b}',
      'NULL',
      '',
      'ünïcode 🎉',
      "it's; drop table x",
      '\n\t',
    ]
    const entries = awkward.map((reason, i) => ({ ...auditEntry(`awkward${i}`), reason, resource: reason }))
    await store.write(0, () => ({ changes: [], audit: entries, result: null }))
    const rows = await store.readAudit(head.seq, 100)
    expect(rows.map((r) => [r.reason, r.resource])).toEqual(awkward.map((text) => [text, text]))
    expect(verifyAuditChain(rows, head).problems).toEqual([])
  })
  it('appends records alone after those of writes, and after those another node appended meanwhile', async () => {
    const { store } = fixture
    const other = await fixture.node()
    const before = await store.auditHead()
    await store.appendAudit([auditEntry('alone one'), auditEntry('alone two')])
    // `other` last saw the log before these: it chains after them all the same.
    await other.appendAudit([auditEntry('from the other node')])
    await store.appendAudit([auditEntry('alone three')])
    const rows = await store.readAudit(before.seq, 100)
    expect(rows.map((r) => [r.seq - before.seq, r.action])).toEqual([
      [1, 'alone one'],
      [2, 'alone two'],
      [3, 'from the other node'],
      [4, 'alone three'],
    ])
    const result = verifyAuditChain(rows, before)
    expect(result.problems).toEqual([])
    expect(await store.auditHead()).toEqual(result.last)
    await store.appendAudit([])
    expect(await store.auditHead()).toEqual(result.last)
  })

  it('chains records appended alone and in writes by nodes racing, none lost', async () => {
    const { store } = fixture
    // A serving node appends records alone as it serves (on SQLite from a worker thread, on a connection of
    // its own); the others as a command does.
    const serving = await fixture.node()
    await serving.serving(() => {})
    const nodes = [store, await fixture.node(), serving]
    const before = await store.auditHead()
    await race(nodes, 30, async (node, i) => {
      if (i % 3 === 0)
        await node.write(0, () => ({ changes: [], audit: [auditEntry(`write${i}`)], result: null }))
      else await node.appendAudit([auditEntry(`alone${i}a`), auditEntry(`alone${i}b`)])
    })
    const rows = await store.readAudit(before.seq, 1000)
    expect(rows).toHaveLength(10 + 20 * 2)
    const result = verifyAuditChain(rows, before)
    expect(result.problems).toEqual([])
    expect(await store.auditHead()).toEqual(result.last)
    // Each node's two records of one append stay together.
    const actions = rows.map((r) => r.action)
    for (let i = 1; i < 30; i++)
      if (i % 3 !== 0) expect(actions.indexOf(`alone${i}b`)).toBe(actions.indexOf(`alone${i}a`) + 1)
  })
  it('stores a NUL or a lone surrogate of a record as U+FFFD, appended alone or in a write, the chain whole', async () => {
    const { store } = fixture
    const head = await store.auditHead()
    const odd = { ...auditEntry('odd'), resource: 'door\u0000\uD800', reason: 'why\u0000' }
    await store.appendAudit([odd])
    await store.write(0, () => ({ changes: [], audit: [odd], result: null }))
    const rows = await store.readAudit(head.seq, 10)
    expect(rows.map((r) => [r.resource, r.reason])).toEqual([
      ['door\uFFFD\uFFFD', 'why\uFFFD'],
      ['door\uFFFD\uFFFD', 'why\uFFFD'],
    ])
    expect(verifyAuditChain(rows, head).problems).toEqual([])
  })
})
