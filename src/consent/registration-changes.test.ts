import { describe, expect, it } from 'vitest'
import { AT, applyChanges, expectFailure } from '../../test/support/unit.js'
import type { Index } from '../kernel/projections.js'
import type { ThirdPartyRow } from '../store/schema.js'
import { ConsentModel } from './consent-model.js'
import { selfRegister, updateRegistration } from './registration-changes.js'
import type { SelfRegistration } from './registration-metadata.js'

const registration: SelfRegistration = {
  name: 'Solar Savings',
  description: '',
  redirectUris: ['https://solar.example/cb'],
  notifyUri: 'https://solar.example/notify',
  scope: 'FB=4_5',
}
const world = (...parties: Partial<ThirdPartyRow>[]) => {
  const consent = new ConsentModel()
  applyChanges(
    consent,
    parties.map((p) => ({
      tbl: 'espi_third_parties' as const,
      op: 'put' as const,
      row: {
        client_id: 'tp_1',
        secret_hash: 'h',
        name: 'Solar Savings',
        description: '',
        redirect_uris: '["https://solar.example/cb"]',
        notify_uri: 'https://solar.example/notify',
        scope: 'FB=4_5',
        scope_selection_uri: null,
        standing: 'active' as const,
        created_at: AT,
        updated_at: AT,
        ...p,
      },
    })),
  )
  return { consent } as unknown as Index
}

describe('a third party’s own registration, planned', () => {
  it('registers a third party as an administrator would, saying which token allowed it', () => {
    const plan = selfRegister(world(), {
      clientId: 'tp_2',
      secretHash: 'h2',
      registration,
      issuedBy: 'initial access token iat_1',
      now: AT,
    })
    expect(plan.changes).toEqual([
      expect.objectContaining({
        tbl: 'espi_third_parties',
        row: expect.objectContaining({ client_id: 'tp_2', secret_hash: 'h2', standing: 'active' }),
      }),
    ])
    expect(plan.summary).toMatch(/registered itself \(RFC 7591\) with initial access token iat_1$/)
  })

  it('refuses a name another third party goes by, whatever its case and spacing', () => {
    expectFailure(
      () =>
        selfRegister(world({ client_id: 'tp_1' }), {
          clientId: 'tp_2',
          secretHash: 'h',
          registration: { ...registration, name: 'solar  SAVINGS' },
          issuedBy: 'x',
          now: AT,
        }),
      'Validation',
      `client_name "solar  SAVINGS" is another third party's name`,
    )
  })

  it('changes what was sent, naming the fields; keeps the secret and standing; refuses a suspended party', () => {
    const plan = updateRegistration(world({}), {
      clientId: 'tp_1',
      registration: { ...registration, redirectUris: ['https://solar.example/back'] },
      now: '2026-11-24T10:00:00.000Z',
    })
    expect(plan.summary).toBe('third party tp_1 changed its registration (RFC 7592): redirect_uris')
    expect(plan.changes[0]).toMatchObject({
      row: { secret_hash: 'h', standing: 'active', updated_at: '2026-11-24T10:00:00.000Z', created_at: AT },
    })
    expect(updateRegistration(world({}), { clientId: 'tp_1', registration, now: AT }).changes).toEqual([])
    expectFailure(
      () => updateRegistration(world({ standing: 'suspended' }), { clientId: 'tp_1', registration, now: AT }),
      'Conflict',
      'third party tp_1 is suspended: its registration cannot change',
    )
  })
})
