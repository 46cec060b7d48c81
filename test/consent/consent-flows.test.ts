import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsentService } from '../../src/consent/consent-service.js'
import { authorizationAccess } from '../../src/consent/rules.js'
import type { Custodian } from '../../src/custodian.js'
import { ALICE } from '../support/customers.js'
import { custodianOn, storeBackends } from '../support/temp-store.js'

const BASE = 'https://utility.example'

describe.each(storeBackends)('ESPI consent on $name', ({ make }) => {
  let close: () => Promise<void>
  let custodian: Custodian
  let consent: ConsentService
  const now = Date.parse('2026-11-23T10:00:00Z')
  let alice: string
  let bob: string
  let clientId: string
  const points: Record<string, string> = {}

  beforeAll(async () => {
    ;({ custodian, close } = await custodianOn(make, { clock: () => now }))
    consent = new ConsentService(custodian)
    await consent.createCustomer(undefined, ALICE)
    await consent.createCustomer(undefined, {
      username: 'bob',
      name: 'Bob Marley',
      email: 'bob@example.org',
      accountNumber: 'ACCT-0002',
      password: 'bob password',
    })
    for (const [who, description] of [
      ['alice', '12 Rabbit Hole Lane, electric meter'],
      ['bob', '1 Trenchtown Road, electric meter'],
    ] as const) {
      const result = await consent.createUsagePoint(undefined, {
        customer: who,
        description,
        kind: 'electricity',
      })
      points[who] = result.details?.id as string
    }
    const party = await consent.registerThirdParty(undefined, {
      name: 'Solar Savings',
      description: 'Sizes solar panels from your usage',
      redirectUris: ['https://solar.example/callback'],
      notifyUri: 'https://solar.example/notify',
      scope: 'FB=1_3_4_5_15;IntervalDuration=900_3600;BlockDuration=monthly;HistoryLength=13',
    })
    clientId = party.clientId
    alice = (await custodian.login('alice', 'alice password')).token
    bob = (await custodian.login('bob', 'bob password')).token
  })
  afterAll(async () => {
    await close()
  })

  const scope = 'FB=4_5;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13'

  it('lets a customer authorize a third party for her own usage point, as an ESPI Authorization without personal data', async () => {
    const granted = await consent.grant(alice, {
      clientId,
      usagePointIds: [points.alice as string],
      scope,
      periodEnd: '2027-11-23T10:00:00Z',
    })
    const id = granted.details?.id as string
    expect(id).toMatch(/^au_/)
    const seen = consent.thirdPartyAuthorizations(clientId, BASE)
    expect(seen).toEqual([
      {
        id,
        status: 'active',
        authorizedPeriod: { start: now / 1000, duration: 365 * 86_400 },
        scope: 'FB=4_5;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13',
        resourceURI: expect.stringMatching(new RegExp(`^${BASE}/espi/1_1/resource/Batch/Subscription/su_`)),
        authorizationURI: `${BASE}/espi/1_1/resource/Authorization/${id}`,
        updated: new Date(now).toISOString(),
      },
    ])
    const text = JSON.stringify(seen)
    for (const personal of ['alice', 'Alice', 'Liddell', 'alice@example.org', 'ACCT-0001', 'Rabbit'])
      expect(text).not.toContain(personal)
    expect(authorizationAccess(custodian.consent, id, clientId, now).allowed).toBe(true)
    // The customer sees the names she needs.
    expect(consent.customerAuthorizations(alice, BASE)).toEqual([
      expect.objectContaining({
        id,
        thirdParty: { clientId, name: 'Solar Savings' },
        usagePoints: [{ id: points.alice, description: '12 Rabbit Hole Lane, electric meter' }],
      }),
    ])
    expect(consent.customerAuthorizations(bob, BASE)).toEqual([])
  })

  it("refuses someone else's usage point, a scope beyond the allowance, and a malformed scope, naming why", async () => {
    await expect(
      consent.grant(alice, {
        clientId,
        usagePointIds: [points.bob as string],
        scope,
        periodEnd: '2027-01-01',
      }),
    ).rejects.toThrow(`usage point ${points.bob} is not one of yours`)
    await expect(
      consent.grant(alice, {
        clientId,
        usagePointIds: [points.alice as string],
        scope: 'FB=4_16',
        periodEnd: '2027-01-01',
      }),
    ).rejects.toThrow(
      'scope FB=4_16 is beyond what Solar Savings may ask for: function block(s) 16 are not among those allowed (1_3_4_5_15)',
    )
    await expect(
      consent.grant(alice, {
        clientId,
        usagePointIds: [points.alice as string],
        scope: 'FB=4;HistoryLength=x',
        periodEnd: '2027-01-01',
      }),
    ).rejects.toThrow('scope "FB=4;HistoryLength=x": HistoryLength=x: a whole number > 0 is expected')
  })

  it('extends an authorization at once, and only its owner may', async () => {
    const [auth] = consent.customerAuthorizations(alice, BASE)
    const id = auth?.id as string
    await expect(consent.extend(bob, id, '2030-01-01')).rejects.toThrow(
      `authorization ${id} is not one of yours`,
    )
    // A day is the last day readable, as the customer's pages take it: access ends when that day does.
    await consent.extend(alice, id, '2028-11-22')
    expect(custodian.consent.authorizations.get(id)?.period_end).toBe('2028-11-23T00:00:00.000Z')
    await consent.extend(alice, id, '2028-11-23T10:00:00Z')
    expect(custodian.consent.authorizations.get(id)?.period_end).toBe('2028-11-23T10:00:00.000Z')
    expect(
      authorizationAccess(custodian.consent, id, clientId, Date.parse('2028-06-01T00:00:00Z')).allowed,
    ).toBe(true)
  })

  it('terminates on a chosen date: data of that day stays available, nothing after', async () => {
    const [auth] = consent.customerAuthorizations(alice, BASE)
    const id = auth?.id as string
    await expect(consent.terminate(alice, id, '2026-11-22')).rejects.toThrow(
      'the termination date 2026-11-22 is in the past: choose today or later',
    )
    await consent.terminate(alice, id, '2026-11-25')
    expect(
      authorizationAccess(custodian.consent, id, clientId, Date.parse('2026-11-25T23:59:59Z')).allowed,
    ).toBe(true)
    expect(
      authorizationAccess(custodian.consent, id, clientId, Date.parse('2026-11-26T00:00:00Z')),
    ).toMatchObject({
      allowed: false,
      reason: `authorization ${id} was terminated; access ended at 2026-11-26T00:00:00.000Z`,
    })
    await expect(consent.extend(alice, id, '2030-01-01')).rejects.toThrow(
      'was terminated; grant a new one instead',
    )
  })

  it('refuses to authorize a suspended third party, and lists it publicly with its standing', async () => {
    await consent.setStanding(undefined, clientId, 'suspended')
    await expect(
      consent.grant(alice, {
        clientId,
        usagePointIds: [points.alice as string],
        scope,
        periodEnd: '2027-01-01',
      }),
    ).rejects.toThrow('third party Solar Savings is suspended, so it cannot be authorized')
    expect(consent.publicThirdParties()).toEqual([
      {
        client_id: clientId,
        name: 'Solar Savings',
        description: 'Sizes solar panels from your usage',
        standing: 'suspended',
      },
    ])
    expect(authorizationAccess(custodian.consent, 'au_x', clientId, now).allowed).toBe(false)
    await consent.setStanding(undefined, clientId, 'active')
  })

  it('keeps customer actions to customers: a token is needed, and an administrator is not a customer', async () => {
    await expect(
      consent.grant(undefined, {
        clientId,
        usagePointIds: [points.alice as string],
        scope,
        periodEnd: '2027-01-01',
      }),
    ).rejects.toThrow(/no access token was given/)
    await custodian.createUser(undefined, { id: 'staff', name: 'Staff' })
    await custodian.addUserCredential(undefined, 'staff', 'password', 'staff password')
    const staff = (await custodian.login('staff', 'staff password')).token
    await expect(
      consent.grant(staff, {
        clientId,
        usagePointIds: [points.alice as string],
        scope,
        periodEnd: '2027-01-01',
      }),
    ).rejects.toThrow('staff is not a customer of this utility')
  })
})
