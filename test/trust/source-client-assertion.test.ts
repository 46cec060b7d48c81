import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Custodian } from '../../src/custodian.js'
import { trustServicesOf } from '../../src/trust/operations.js'
import { partyServer } from '../support/ishare-party-server.js'
import { custodianOn, tempSqlite } from '../support/temp-store.js'

const REGISTER = 'EU.EORI.NLREGISTER'
const SOURCE = 'EU.EORI.NLREPUTATION'

/** A reputation source that is an iSHARE party: it answers only with a token got with a client assertion. */
describe('an information source asked as an iSHARE party', () => {
  const temp = async () => {
    const made = tempSqlite()
    return { target: made.target, remove: async () => made.remove() }
  }
  const {
    server: source,
    assertions,
    listen,
  } = partyServer('source-token', () => ({
    status: 200,
    body: { level: 'high', source: 'port reputation model' },
  }))
  let custodian: Custodian
  let close: () => Promise<void>

  beforeAll(async () => {
    const base = await listen()
    ;({ custodian, close } = await custodianOn(temp, {
      config: {
        registerId: REGISTER,
        reputationSource: `${base}/reputation/{id}`,
        reputationSourceId: SOURCE,
        outboundAllow: '127.0.0.1',
      },
    }))
    const { trust } = trustServicesOf(custodian)
    await trust.putAssociation(undefined, { id: 'port' })
    await trust.putService(undefined, { id: 'contents', association: 'port', classification: 'medium' })
    await trust.putParty(undefined, { id: 'carrier', memberships: [{ association: 'port' }] })
  })
  afterAll(async () => {
    await close()
    await new Promise((resolve) => source.close(resolve))
  })

  it('gets its token with this server’s client assertion, once, and then its answer', async () => {
    const { trust } = trustServicesOf(custodian)
    const decision = await trust.decide(undefined, { party: 'carrier', service: 'contents' })
    expect(decision.findings.find((f) => f.input === 'reputation')?.found).toMatch(
      /^high \(from port reputation model at /,
    )
    expect(decision.allowed).toBe(true)
    expect(assertions).toHaveLength(1)
    expect(assertions[0]).toMatchObject({ iss: REGISTER, sub: REGISTER, aud: SOURCE })
  })
})
