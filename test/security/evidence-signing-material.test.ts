import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DelegationService } from '../../src/trust/delegation-service.js'
import { custodianOn, tempSqlite } from '../support/temp-store.js'
import { testPki } from '../support/test-pki.js'

const REGISTER = 'EU.EORI.NLREGISTER'

/** The register signs as registerId: a configured certificate naming another party is refused at once. */
describe.each([
  ['names the register', REGISTER, undefined],
  [
    'names another party',
    'EU.EORI.NL000000666',
    `the signing certificate names EU.EORI.NL000000666 (its subject's serialNumber), not ${REGISTER} (registerId): evidence signed with it would be refused`,
  ],
])('a configured signing certificate that %s', (_name, party, refusal) => {
  const temp = tempSqlite()
  let delegation: DelegationService
  let close: () => Promise<void>
  beforeAll(async () => {
    const signer = testPki().participant(party)
    writeFileSync(join(temp.dir, 'key.pem'), signer.key)
    writeFileSync(join(temp.dir, 'chain.pem'), signer.chain.join(''))
    let custodian: Awaited<ReturnType<typeof custodianOn>>['custodian']
    ;({ custodian, close } = await custodianOn(
      async () => ({ target: temp.target, remove: async () => temp.remove() }),
      {
        config: {
          registerId: REGISTER,
          delegationKey: join(temp.dir, 'key.pem'),
          delegationCertificates: join(temp.dir, 'chain.pem'),
        },
      },
    ))
    delegation = new DelegationService(custodian)
  })
  afterAll(async () => close())

  it(refusal ? 'is refused, saying why' : 'signs', async () => {
    const material = Promise.resolve()
      .then(() => delegation.material())
      .then(
        (m) => `chain of ${m.chain.length}`,
        (error: Error) => error.message,
      )
    expect(await material).toBe(refusal ? `${join(temp.dir, 'chain.pem')}: ${refusal}` : 'chain of 3')
  })
})
