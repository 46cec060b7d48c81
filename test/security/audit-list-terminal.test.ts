import { afterAll, beforeAll, expect, it } from 'vitest'
import { cliOn } from '../support/cli.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

// The audit log holds text anyone chose: a check without a token is recorded with the resource it asked about.
// `custodian audit list` shows each record on one line, with control characters escaped: such text can neither
// forge a record of its own in the listing nor send the terminal of the administrator reading it commands.

const temp = tempSqlite()
const cli = cliOn(temp)
let server: RunningServer
beforeAll(async () => {
  ;({ server } = await startWithAdmin(temp.target))
})
afterAll(async () => {
  await server.stop()
  temp.remove()
})

it('lists a record of hostile text on its own line, with nothing a terminal acts on', async () => {
  const forged = 'door1 denied: x\n999 2026-12-03T00:00:00.000Z root user.delete alice ok: done\u001b[2J\r'
  const asked = await call(server.url, 'POST', '/v1/check', {
    token: 'no such token',
    body: { permission: 'open_door', resource: forged },
  })
  expect(asked.status).toBe(401)

  const json = cli.run('audit', 'list', '--json')
  expect(json.status).toBe(0)
  const records = json.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { resource: string })
  expect(records.some((r) => r.resource === forged)).toBe(true) // the record itself keeps the text as given

  const listed = cli.run('audit', 'list')
  expect(listed.status).toBe(0)
  const lines = listed.stdout.trimEnd().split('\n')
  expect(lines).toHaveLength(records.length)
  expect(listed.stdout.includes('\u001b')).toBe(false)
  expect(listed.stdout.includes('\r')).toBe(false)
  expect(lines.filter((line) => line.startsWith('999 '))).toEqual([])
  expect(listed.stdout).toContain(
    'door1 denied: x\\n999 2026-12-03T00:00:00.000Z root user.delete alice ok: done\\u001b[2J\\r',
  )
})
