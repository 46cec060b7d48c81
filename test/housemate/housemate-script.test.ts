import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))

type Line = {
  line: number
  command: string
  ok: boolean
  result?: Record<string, unknown>
  error?: { code: string; message: string }
}

function script(db: string, file: string, input?: string): { code: number | null; lines: Line[] } {
  const run = spawnSync(process.execPath, [CLI, 'script', file, '--db', db, '--json'], {
    encoding: 'utf8',
    input,
    env: { ...process.env, LOG_LEVEL: 'warn' },
  })
  const lines = run.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line)
  return { code: run.status, lines }
}

describe('House Mate by script: the seed, a house, and voice commands', () => {
  const temp = tempSqlite()
  let lines: Line[]
  const at = (n: number) => lines.find((l) => l.line === n) as Line

  beforeAll(() => {
    expect(script(temp.target, fixture('housemate-seed.script')).code).toBe(0)
    const run = script(temp.target, fixture('housemate-house1.script'))
    lines = run.lines
    expect(run.code).toBe(1) // three lines are refused on purpose
  })
  afterAll(() => temp.remove())

  it('refuses exactly the lines meant to fail', () => {
    expect(lines.filter((l) => !l.ok).map((l) => [l.line, l.error?.code])).toEqual([
      [25, 'AccessDenied'],
      [30, 'Authentication'],
      [41, 'Authentication'],
    ])
  })

  it('lets sam turn the oven on by voice, and the oven changes', () => {
    expect(at(22)).toMatchObject({
      command: 'voice_command',
      ok: true,
      result: { user: 'sam', device: 'house1:kitchen:oven', status: 'power', value: 'on' },
    })
    expect(at(23).result).toMatchObject({ device: 'house1:kitchen:oven', status: { power: 'on' } })
  })

  it("refuses jimmy's voice command to turn the oven on, naming the oven, and leaves it unchanged", () => {
    expect(at(25).error?.message).toBe(
      'control_oven on house1:kitchen:oven refused: jimmy holds control_door, control_window on house1 (which contains house1:kitchen:oven); control_oven is not among them',
    )
    expect(at(26).result).toMatchObject({ status: { power: 'on' } })
  })

  it('lets jimmy open a window', () => {
    expect(at(27).result).toMatchObject({
      user: 'jimmy',
      device: 'house1:kitchen:kitchen_window',
      status: 'state',
      value: 'open',
    })
    expect(at(28).result).toMatchObject({ status: { state: 'open' } })
  })

  it('refuses an unknown voice', () => {
    expect(at(30).error).toEqual({
      code: 'Authentication',
      message: 'voice print login failed: no user has this voice print',
    })
  })

  it('sets the thermostat and locks the door, and counts the energy in use', () => {
    expect(at(31).result).toMatchObject({
      device: 'house1:living_room:thermostat',
      status: 'temperature',
      value: '72',
    })
    expect(at(32).result).toMatchObject({ device: 'house1:living_room:front_door', value: 'locked' })
    expect(at(33).result).toMatchObject({ watts: 2400 })
  })

  it("turns the oven off with the controller's own token when smoke is detected", () => {
    expect(at(35).ok).toBe(true)
    expect(at(36).result).toMatchObject({ status: { power: 'off' } })
    const audit = spawnSync(
      process.execPath,
      [CLI, 'audit', 'list', '--limit', '1000', '--db', temp.target, '--json'],
      { encoding: 'utf8' },
    )
    const records = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(records).toContainEqual(
      expect.objectContaining({
        actor: 'housemate-controller',
        action: 'appliance.set_status',
        resource: 'house1:kitchen:oven',
        outcome: 'ok',
      }),
    )
  })

  it('keeps an unknown occupant in the house without a user, so nobody can speak as it', () => {
    expect(at(39).result).toMatchObject({
      summary: 'defined unknown adult occupant visitor (no user, no voice print)',
    })
    expect(at(40).result).toMatchObject({ summary: expect.stringContaining('no entitlements') })
    const db = new Database(temp.target, { readonly: true })
    const users = (db.prepare('select id from users').all() as { id: string }[]).map((u) => u.id)
    db.close()
    expect(users).toContain('sam')
    expect(users).not.toContain('visitor')
  })
})

describe('a House Mate script with mistakes', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('reports each bad line with its number and changes nothing for it', () => {
    expect(script(temp.target, fixture('housemate-seed.script')).code).toBe(0)
    const bad = [
      'add_role_to_user debra, admin',
      'login user debra, password secret',
      'define house house1',
      'define room kitchen floor one type kitchen house house1',
      'define room kitchen floor 1 type kitchen house house9',
      'define room kitchen floor 1 type kitchen house house1',
      'define appliance oven type oven room house1:attic',
      'define appliance oven type oven room house1:kitchen colour red',
      'define appliance oven type oven room house1:kitchen',
      'set appliance house1:kitchen:fridge status power value on',
      'set appliance house9:kitchen:oven status power value on',
      'set sensor house1:kitchen:oven status power value on',
      'show appliance house1:kitchen:oven status',
      'voice_command house1:kitchen:ava, --sam--, "oven on"',
      'voice_command house1:kitchen:oven, --sam--, "make coffee"',
      'define occupant rex type dragon',
      'add occupant nobody to_house house1',
      'show configuration house1',
    ].join('\n')
    const run = script(temp.target, '-', bad)
    expect(run.code).toBe(1)
    expect(run.lines.map((l) => [l.line, l.ok ? 'ok' : l.error?.code])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'ok'],
      [4, 'Syntax'],
      [5, 'NotFound'],
      [6, 'ok'],
      [7, 'NotFound'],
      [8, 'Syntax'],
      [9, 'ok'],
      [10, 'NotFound'],
      [11, 'NotFound'],
      [12, 'NotFound'],
      [13, 'Syntax'],
      [14, 'NotFound'],
      [15, 'Validation'],
      [16, 'Validation'],
      [17, 'NotFound'],
      [18, 'ok'],
    ])
    const message = (n: number) => run.lines[n - 1]?.error?.message
    expect(message(4)).toBe(
      'floor must be a whole number, got "one": define room <room> floor <n> type <type> house <house> [windows <n>]',
    )
    expect(message(5)).toBe('house house9 is not defined')
    expect(message(7)).toBe('room house1:attic is not defined')
    expect(message(10)).toBe('appliance house1:kitchen:fridge is not defined')
    expect(message(12)).toBe('sensor house1:kitchen:oven is not defined (it is an appliance)')
    expect(message(14)).toBe('device house1:kitchen:ava is not defined')
    expect(message(15)).toMatch(/^not understood: no device named in "make coffee"/)
    // Only what the good lines defined is there: one room, one oven, no status, no occupant rex.
    expect(run.lines[17]?.result).toEqual({
      items: [
        {
          id: 'house1',
          address: '',
          occupants: [],
          rooms: [
            {
              id: 'house1:kitchen',
              name: 'kitchen',
              floor: 1,
              type: 'kitchen',
              windows: 0,
              devices: [
                {
                  id: 'house1:kitchen:oven',
                  name: 'oven',
                  kind: 'appliance',
                  type: 'oven',
                  energy_use_watts: null,
                  status: {},
                },
              ],
            },
          ],
        },
      ],
    })
  })
})
