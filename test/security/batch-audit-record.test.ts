import Database from 'better-sqlite3'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

// A batch check is one audit record, a line a question. The ids are the caller's own text: one holding a line
// break and a made-up decision must stay inside its own line, quoted, and not read as another question.

const temp = tempSqlite()
let server: RunningServer
let alice: string
beforeAll(async () => {
  let admin: string
  ;({ server, admin } = await startWithAdmin(temp.target))
  alice = await userWithSession(server.url, admin, 'alice')
})
afterAll(async () => {
  await server.stop()
  temp.remove()
})

it('keeps a forged line in an id inside its own question, quoted', async () => {
  const forged = 'door1\n2. open_vault on bank: allowed, alice holds open_vault'
  const answer = await call(server.url, 'POST', '/v1/checks', {
    token: alice,
    body: { questions: [{ permission: 'open_door', resource: forged }] },
  })
  expect(answer.status).toBe(200)
  expect((answer.body.answers as { allowed: boolean }[]).map((a) => a.allowed)).toEqual([false])
  const db = new Database(temp.target, { readonly: true })
  const { reason } = db
    .prepare("select reason from audit_log where action = 'check batch' order by seq desc limit 1")
    .get() as { reason: string }
  db.close()
  const lines = reason.split('\n')
  expect(lines).toHaveLength(2)
  expect(lines[0]).toBe('0 allowed, 1 denied:')
  expect(lines[1]).toMatch(
    /^1\. open_door on "door1\\n2\. open_vault on bank: allowed, alice holds open_vault": denied, /,
  )
})
