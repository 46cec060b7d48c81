import { Readable } from 'node:stream'
import { Type } from '@sinclair/typebox'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { operationRoutes } from '../../src/http/operation-routes.js'
import { errorHandler } from '../../src/http/problem.js'
import { checkInput, operation } from '../../src/kernel/operations.js'
import { operationCommands } from '../../src/script/operation-commands.js'
import { type LineReport, runScript } from '../../src/script/run-script.js'
import { tempSqlite } from '../support/temp-store.js'

/** One operation of every shape the generators split: a path parameter, a body field and an optional one. */
const rename = operation({
  name: 'rename_thing',
  summary: 'Rename a thing',
  tags: ['things'],
  permission: 'admin',
  input: Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: 5 }),
      name: Type.String(),
      times: Type.Optional(Type.Integer()),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ id: Type.String(), name: Type.String(), times: Type.Integer() }),
  http: { method: 'PUT', path: '/v1/things/:id', status: 202 },
  script: {
    usage: 'rename_thing <id>, <name>[, <times>]',
    help: 'renames a thing',
    args: ['id', 'name', 'times'],
    optional: 1,
  },
  run: (_context, { id, name, times }) => ({ id, name, times: times ?? 1 }),
})

describe('the operations framework', () => {
  it('checks input against the schema, converting script text, naming each bad field', () => {
    expect(checkInput(rename, { id: 'a', name: 'b', times: '3' })).toEqual({ id: 'a', name: 'b', times: 3 })
    expect(() => checkInput(rename, { id: 'toolong', name: 'b', times: 'x' })).toThrow(
      'id Expected string length less or equal to 5; times Expected integer',
    )
  })

  describe('on a store', () => {
    const temp = tempSqlite()
    let custodian: Custodian
    beforeAll(async () => {
      custodian = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    })
    afterAll(async () => {
      await custodian.close()
      temp.remove()
    })

    it('serves the route: path parameters and body fields by name, its status, problems for bad input', async () => {
      const app = Fastify()
      app.setErrorHandler(errorHandler)
      await app.register(operationRoutes, { custodian, tables: [[rename]] })
      const put = (url: string, payload: object) => app.inject({ method: 'PUT', url, payload })
      const renamed = await put('/v1/things/a1', { name: 'Ann', times: 2 })
      expect(renamed.statusCode).toBe(202)
      expect(renamed.json()).toEqual({ id: 'a1', name: 'Ann', times: 2 })
      const bad = await put('/v1/things/a1', { times: 2 })
      expect(bad.statusCode).toBe(400)
      expect(bad.json()).toMatchObject({ code: 'Validation', detail: 'body.name is required' })
      await app.close()
    })

    it('makes a script command: positional arguments, optional ones left out, Validation naming the field', async () => {
      const commands = operationCommands([[rename]])
      const reports: LineReport[] = []
      // runScript knows only the language's commands; the generated spec is run the way it runs one.
      const state = { custodian, logins: new Map<string, string>(), address: 'script' }
      const field = (text: string, column: number) => ({ text, words: [text], column })
      const ok = await commands.rename_thing?.run(state, [field('a1', 14), field('Ann', 18)])
      expect(ok).toEqual({
        message: '{"id":"a1","name":"Ann","times":1}',
        result: { id: 'a1', name: 'Ann', times: 1 },
      })
      await expect(
        commands.rename_thing?.run(state, [field('toolong', 14), field('Ann', 23)]),
      ).rejects.toThrow('id Expected string length less or equal to 5')
      await runScript(custodian, Readable.from('create_user "", Nobody'), (r) => reports.push(r))
      expect(reports[0]).toMatchObject({ ok: false, error: { code: 'Syntax' } })
    })
  })
})
