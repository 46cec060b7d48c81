import { describe, expect, it } from 'vitest'
import { auditEntry, backends, storeFixture } from './backends.js'

const grant = (user_id: string, target_id: string) =>
  ({ tbl: 'user_grants', op: 'put', row: { user_id, grant_kind: 'role', target_id } }) as const

describe.each(backends)('the snapshot streamed on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('hands each table asked for its rows one at a time, several-column keys in key order, and reads no other', async () => {
    const { store } = fixture
    // Written out of key order, so that key order comes from the read.
    const written = await store.write(0, () => ({
      changes: [
        { tbl: 'users', op: 'put', row: { id: 'zoe', name: 'Zoe' } },
        { tbl: 'users', op: 'put', row: { id: 'amy', name: 'Amy' } },
        grant('zoe', 'r2'),
        grant('amy', 'r9'),
        grant('zoe', 'r1'),
        grant('amy', 'r3'),
      ],
      audit: [auditEntry('seed')],
      result: null,
    }))
    const asked: string[] = []
    const grants: string[] = []
    const revision = await store.streamSnapshot((tbl) => {
      asked.push(tbl)
      if (tbl !== 'user_grants') return undefined
      return (row) => {
        const { user_id, target_id } = row as { user_id: string; target_id: string }
        grants.push(`${user_id}:${target_id}`)
      }
    })
    expect(revision).toBe(written.revision)
    expect(grants).toEqual(['amy:r3', 'amy:r9', 'zoe:r1', 'zoe:r2'])
    expect(asked).toContain('users') // asked, not read: its rows had nowhere to go
    expect(await store.streamSnapshot(() => undefined)).toBe(written.revision)
  })

  it('hands a table of three key columns as groups when asked so: the first two, and a JSON array of the third in key order', async () => {
    const { store } = fixture
    await store.write(await store.streamSnapshot(() => undefined), () => ({
      changes: [
        grant('bea', 'r5'),
        grant('bea', 'r4'),
        { tbl: 'user_grants', op: 'put', row: { user_id: 'bea', grant_kind: 'permission', target_id: 'p1' } },
        grant('al', 'r "quoted"'),
      ],
      audit: [auditEntry('more')],
      result: null,
    }))
    const groups: [string, string, string[]][] = []
    await store.streamSnapshot((tbl) =>
      tbl === 'user_grants'
        ? { groups: (user, kind, targets) => groups.push([user, kind, JSON.parse(targets) as string[]]) }
        : undefined,
    )
    expect(groups.filter(([user]) => user === 'al' || user === 'bea')).toEqual([
      ['al', 'role', ['r "quoted"']],
      ['bea', 'permission', ['p1']],
      ['bea', 'role', ['r4', 'r5']],
    ])
  })
})
