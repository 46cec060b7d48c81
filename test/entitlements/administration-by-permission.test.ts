import { readFileSync } from 'node:fs'
import type { TObject } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consentOperations } from '../../src/consent/operations.js'
import { Custodian } from '../../src/custodian.js'
import { entitlementOperations } from '../../src/entitlements/operations.js'
import { ADMINISTRATION, permissionFor } from '../../src/entitlements/permissions.js'
import { CustodianError } from '../../src/errors.js'
import { housemateOperations } from '../../src/housemate/operations.js'
import { auditOperations } from '../../src/kernel/audit-operations.js'
import { invoke, type Operation } from '../../src/kernel/operations.js'
import { catalogOperations } from '../../src/licences/operations.js'
import { trustOperations } from '../../src/trust/operations.js'
import { ROOT_ADMINISTRATOR, runLines } from '../support/script-session.js'
import { tempSqlite } from '../support/temp-store.js'

// The administration table (entitlements/permissions.ts) is the rule every surface enforces: each
// administrative operation, run by someone without the permission, is refused naming the permission the
// table gives it, and a holder of that permission alone is not refused. The README documents the same table.

const administrative: Operation[] = [
  ...entitlementOperations,
  ...auditOperations,
  ...Object.values(housemateOperations),
  ...Object.values(consentOperations),
  ...Object.values(catalogOperations),
  ...Object.values(trustOperations),
].filter((op) => op.permission === 'admin')

const narrower = Object.keys(ADMINISTRATION) as (keyof typeof ADMINISTRATION)[]

describe('administration by permission', () => {
  const temp = tempSqlite()
  let custodian: Custodian
  const tokens = new Map<string, string>()

  /** An input of `op`'s shape, each field its schema's default (a pattern's field a word): not always valid. */
  const sample = (op: Operation) =>
    Object.fromEntries(
      Object.entries((op.input as TObject).properties ?? {}).map(([name, schema]) => {
        try {
          return [name, Value.Create(schema)]
        } catch {
          return [name, 'x']
        }
      }),
    )

  /** What running `op` on a sample input does with `token`: ok, or the error. */
  const attempt = async (op: Operation, token: string) => {
    const context = { custodian, token, address: 'test', baseUrl: '' }
    try {
      await invoke(op, context, sample(op))
      return { code: 'ok', message: '' }
    } catch (error) {
      if (!(error instanceof CustodianError)) throw error
      return { code: error.code, message: error.message }
    }
  }

  beforeAll(async () => {
    custodian = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    const setup = await runLines(
      custodian,
      ...ROOT_ADMINISTRATOR,
      'create_user nobody, Nobody',
      'add_user_credential nobody, password, nobody secret',
      ...narrower.flatMap((p) => [
        `define_permission ${p}, ${p}, "${ADMINISTRATION[p].description}"`,
        `create_user holder_${p}, Holder`,
        `add_user_credential holder_${p}, password, secret`,
        `add_role_to_user holder_${p}, ${p}`,
      ]),
    )
    expect(setup.filter((r) => r !== 'ok')).toEqual([])
    for (const user of ['nobody', ...narrower.map((p) => `holder_${p}`)])
      tokens.set(user, (await custodian.login(user, user === 'nobody' ? 'nobody secret' : 'secret')).token)
  })
  afterAll(async () => {
    await custodian.close()
    temp.remove()
  })

  it('refuses each administrative operation to a user without its permission, naming the permission', async () => {
    expect(administrative.length).toBeGreaterThan(40)
    for (const op of administrative) {
      const outcome = await attempt(op, tokens.get('nobody') as string)
      expect({ op: op.name, ...outcome }).toMatchObject({
        op: op.name,
        code: 'AccessDenied',
        message: expect.stringContaining(`it needs the ${permissionFor(op.name)} permission`),
      })
    }
  })

  it("allows each operation of the table to a holder of that permission alone, and no other's", async () => {
    for (const permission of narrower) {
      const token = tokens.get(`holder_${permission}`) as string
      for (const op of administrative) {
        const outcome = await attempt(op, token)
        if (permissionFor(op.name) === permission)
          expect({ op: op.name, ...outcome }).not.toMatchObject({ code: 'AccessDenied' })
        else
          expect({ op: op.name, by: permission, code: outcome.code }).toEqual({
            op: op.name,
            by: permission,
            code: 'AccessDenied',
          })
      }
    }
  })

  it('is the table the README documents, permission by permission', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    for (const permission of narrower) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${permission}\` |`))
      const listed = [...(row ?? '').matchAll(/`([a-z_ ]+)`/g)].map((m) => m[1]).slice(1)
      expect({ permission, listed: listed.sort() }).toEqual({
        permission,
        listed: Object.keys(ADMINISTRATION[permission].operations).sort(),
      })
    }
  })
})
