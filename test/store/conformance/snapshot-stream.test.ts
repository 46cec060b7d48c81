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

  it('hands a table joined with the tables hanging off it: each row with its children as JSON arrays', async () => {
    const { store } = fixture
    await store.write(await store.streamSnapshot(() => undefined), () => ({
      changes: [
        { tbl: 'users', op: 'put', row: { id: 'bea', name: 'Bea' } },
        { tbl: 'users', op: 'put', row: { id: 'al', name: 'Al "quoted"' } },
        { tbl: 'users', op: 'put', row: { id: 'cy', name: 'Cy' } },
        grant('bea', 'r5'),
        grant('bea', 'r4'),
        { tbl: 'user_grants', op: 'put', row: { user_id: 'bea', grant_kind: 'permission', target_id: 'p1' } },
        grant('al', 'r "quoted"'),
        { tbl: 'credentials', op: 'put', row: { user_id: 'al', kind: 'password', secret_hash: 'h-al' } },
      ],
      audit: [auditEntry('more')],
      result: null,
    }))
    const asked: string[] = []
    const users: Record<string, unknown> = {}
    await store.streamSnapshot((tbl) => {
      asked.push(tbl)
      return tbl === 'users'
        ? {
            children: [
              { tbl: 'credentials', columns: ['kind', 'secret_hash'] },
              { tbl: 'user_grants', columns: ['grant_kind', 'target_id'] },
            ],
            row: (row, children) => {
              const { id } = row as { id: string }
              const sorted = (json: string) =>
                (JSON.parse(json) as string[][]).sort((a, b) => (a.join() < b.join() ? -1 : 1))
              users[id] = { row, children: children.map(sorted) }
            },
          }
        : undefined
    })
    expect(users).toMatchObject({
      al: {
        row: { id: 'al', name: 'Al "quoted"' },
        children: [[['password', 'h-al']], [['role', 'r "quoted"']]],
      },
      bea: {
        row: { id: 'bea', name: 'Bea' },
        children: [
          [],
          [
            ['permission', 'p1'],
            ['role', 'r4'],
            ['role', 'r5'],
          ],
        ],
      },
      cy: { row: { id: 'cy', name: 'Cy' }, children: [[], []] },
    })
    expect(Object.keys((users.al as { row: object }).row)).toEqual(['id', 'name'])
    // Read with the users, so not asked for on their own.
    expect(asked).toContain('users')
    expect(asked).not.toContain('credentials')
    expect(asked).not.toContain('user_grants')
  })
})
