import { describe, expect, it } from 'vitest'
import { BATCH_ACTION, batchRecord } from './access.js'

const allowed = (userId: string, reason: string) => ({
  allowed: true,
  reason,
  obligations: [],
  revision: 7,
  userId,
})
const denied = (userId: string, reason: string) => ({ ...allowed(userId, reason), allowed: false })

describe('batchRecord', () => {
  it('is one record: allowed only when every question was, each question in order with its decision', () => {
    const record = batchRecord(
      'root',
      [
        { permission: 'open_door', resource: 'door1', user: 'alice' },
        { permission: 'open_door', resource: 'door1' },
      ],
      [
        allowed('alice', 'alice holds open_door on house1, which contains door1'),
        allowed('root', 'root holds admin'),
      ],
    )
    expect(record).toEqual({
      actor: 'root',
      action: BATCH_ACTION,
      resource: '2 question(s)',
      outcome: 'allowed',
      reason:
        '2 allowed, 0 denied:\n1. open_door on door1 for alice: allowed, alice holds open_door on house1, which contains door1\n2. open_door on door1: allowed, root holds admin',
    })
  })

  it('is denied when any question was', () => {
    const record = batchRecord(
      'bob',
      [
        { permission: 'open_door', resource: 'door1' },
        { permission: 'open_door', resource: 'house2' },
      ],
      [allowed('bob', 'bob holds open_door on door1'), denied('bob', 'house2 is not a registered resource')],
    )
    expect(record.outcome).toBe('denied')
    expect(record.reason.split('\n')).toEqual([
      '1 allowed, 1 denied:',
      '1. open_door on door1: allowed, bob holds open_door on door1',
      '2. open_door on house2: denied, house2 is not a registered resource',
    ])
  })
})
