import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../src/config.js'
import type { Custodian } from '../../src/custodian.js'
import { DelegationService } from '../../src/trust/delegation-service.js'
import { type DelegationEvidence, parseEvidence } from '../../src/trust/delegation-shapes.js'
import { type SigningMaterial, signEvidence } from '../../src/trust/evidence-token.js'
import { TrustService } from '../../src/trust/trust-service.js'
import { currentPolicy, ishareJson } from '../support/ishare.js'
import { custodianOn, tempSqlite } from '../support/temp-store.js'
import { type Issued, issue, material, type TestPki, testPki } from '../support/test-pki.js'

const OWNER = 'EU.EORI.NL000000003' // Warehouse 13: owns the shipper data
const CARRIER = 'EU.EORI.NL000000001' // ABC Trucking: the policy's access subject
const DRIVER = 'EU.EORI.NL000000009' // ABC Trucking's driver, one delegation further
const PROVIDER = 'EU.EORI.NL000000004' // the data service provider deciding, and asking the register
const ATTACKER = 'EU.EORI.NL000000666' // an ordinary participant, with an ordinary certificate
const REGISTER = 'EU.EORI.NLREGISTER'
const REMOTE = 'EU.EORI.NLREMOTE' // another register, asked at decision time

const now = () => Math.floor(Date.now() / 1000)
/** Warehouse 13's policy for ABC Trucking (every container's ETA but 120-123), valid now. */
const ownersPolicy = (): DelegationEvidence => parseEvidence(currentPolicy('case2_policy.json'))
const sign = (signer: SigningMaterial, iss: string, evidence = ownersPolicy(), iat = now()) =>
  signEvidence(signer, iss, PROVIDER, evidence, iat)

/** A Custodian acting as register and data service provider, trusting the test PKI's root. */
function provider(pki: () => TestPki, config: () => Partial<Config> = () => ({})) {
  const temp = tempSqlite()
  const state = {} as {
    custodian: Custodian
    delegation: DelegationService
    trust: TrustService
    token: string
  }
  let close: () => Promise<void>
  beforeAll(async () => {
    const roots = join(temp.dir, 'roots.pem')
    writeFileSync(roots, pki().root.pem)
    ;({ custodian: state.custodian, close } = await custodianOn(
      async () => ({ target: temp.target, remove: async () => temp.remove() }),
      { config: { registerId: REGISTER, trustedRoots: roots, ...config() } },
    ))
    state.delegation = new DelegationService(state.custodian)
    state.trust = new TrustService(state.custodian, state.delegation)
    state.token = (await state.custodian.serviceSession(PROVIDER, 'the data service provider')).token
    await state.trust.putAssociation(state.token, { id: 'port' })
    await state.trust.putService(state.token, {
      id: 'shipper-data',
      association: 'port',
      classification: 'high',
      owner: OWNER,
      resourceType: 'CONTAINER.DATA',
    })
    await state.trust.putParty(state.token, {
      id: CARRIER,
      reputation: { level: 'high', source: 'port' },
      memberships: [{ association: 'port' }],
    })
  })
  afterAll(async () => close())
  return state
}

describe('signed evidence binds its signer', () => {
  let pki: TestPki
  let owner: Issued
  let attacker: Issued
  beforeAll(() => {
    pki = testPki()
    owner = pki.participant(OWNER)
    attacker = pki.participant(ATTACKER)
  })
  const at = provider(() => pki)

  /** The trust decision on the carrier reading a container's ETA, carrying `evidence`. */
  const decide = async (evidence?: string) => {
    const decision = await at.trust.decide(at.token, {
      party: CARRIER,
      service: 'shipper-data',
      identifiers: ['180621.ABC125'],
      attributes: ['CONTAINER.DATA.ATTRIBUTE.ETA'],
      ...(evidence ? { evidence } : {}),
    })
    return {
      allowed: decision.allowed,
      reason: decision.reason,
      authorization: decision.findings.find((f) => f.input === 'authorization')?.found,
    }
  }
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: Error) => error.message,
    )

  it('denies without evidence, and permits on the owner’s own signed evidence', async () => {
    expect(await decide()).toMatchObject({
      allowed: false,
      authorization: `the register holds no evidence of ${OWNER} for ${CARRIER}`,
    })
    expect(await decide(await sign(material(owner), OWNER))).toMatchObject({
      allowed: true,
      authorization: `signed evidence from ${OWNER}: permitted`,
    })
  })

  it('attack 1: a participant’s certificate signing as the owner (iss = owner) is refused, and the decision says why', async () => {
    const forged = await sign(material(attacker), OWNER)
    const why = `delegation evidence refused: the JWT's iss ${OWNER} is not the party its signing certificate names (${ATTACKER})`
    const decision = await decide(forged)
    expect(decision).toEqual({ allowed: false, authorization: why, reason: expect.stringContaining(why) })
    // Nor may it sign as the register.
    expect(await decide(await sign(material(attacker), REGISTER))).toMatchObject({
      allowed: false,
      authorization: `delegation evidence refused: the JWT's iss ${REGISTER} is not the party its signing certificate names (${ATTACKER})`,
    })
  })

  it('attack 2: evidence the participant signed as itself with the owner as policyIssuer is refused', async () => {
    const forged = await sign(material(attacker), ATTACKER)
    const why = `the evidence is issued by ${OWNER} but signed by ${ATTACKER}, which is not a register trusted to sign for others`
    // Even where the verifier accepts the participant's evidence, it is not the owner's.
    expect(await refusal(at.delegation.verify(forged, PROVIDER, [ATTACKER]))).toBe(
      `delegation evidence refused: ${why}`,
    )
    expect(await decide(await sign(material(attacker), ATTACKER))).toMatchObject({
      allowed: false,
      authorization: `delegation evidence refused: ${why}`,
    })
  })

  it('attack 2: a forged previous_steps link (policyIssuer the owner, signed by the participant) is refused, naming the link', async () => {
    // ABC Trucking delegated on to its driver in this register; the owner's first link comes as a step.
    const onward = currentPolicy('case1_policy.json') as { delegationEvidence: Record<string, unknown> }
    onward.delegationEvidence.policyIssuer = CARRIER
    onward.delegationEvidence.target = { accessSubject: DRIVER }
    await at.delegation.putPolicy(at.token, onward)
    const mask = ishareJson('cases/case1_mask.json') as {
      delegationRequest: { target: { accessSubject: string } }
    }
    mask.delegationRequest.target.accessSubject = DRIVER
    const link = parseEvidence(currentPolicy('case1_policy.json'))
    const forged = await sign(material(attacker), ATTACKER, link)
    expect(await refusal(at.delegation.answer(at.token, mask, [forged]))).toBe(
      `previous step 0 refused: the evidence is issued by ${OWNER} but signed by ${ATTACKER}, which is not a register trusted to sign for others`,
    )
    // The owner's own signature on the same link makes the chain.
    const genuine = await at.delegation.answer(at.token, mask, [await sign(material(owner), OWNER, link)])
    expect(genuine.reasons).toEqual(['permitted'])
  })

  it('attack 3: a chain through a CA:false certificate (a participant issuing the owner a certificate) is refused', async () => {
    const fake = issue({ commonName: 'Warehouse 13', party: OWNER, issuer: attacker })
    expect(await decide(await sign(material(fake), OWNER))).toMatchObject({
      allowed: false,
      authorization: `delegation evidence refused: certificate 1 of the chain (CN=Participant ${ATTACKER}\nserialNumber=${ATTACKER}) issues certificate 0 but is not a CA (basicConstraints)`,
    })
  })

  it('attack 3: a chain longer than a CA’s path length allows is refused', async () => {
    const sub = issue({ commonName: 'Sub CA', issuer: pki.intermediate, ca: { cA: true } })
    const fake = issue({ commonName: 'Warehouse 13', party: OWNER, issuer: sub })
    expect(await decide(await sign(material(fake), OWNER))).toMatchObject({
      allowed: false,
      authorization:
        'delegation evidence refused: certificate 2 of the chain (CN=Test participant CA) allows 0 CA certificate(s) below it, the chain has 1',
    })
  })

  it('attack 4: evidence issued a year from now (exp = iat + 30) is refused; a few seconds ahead is clock skew', async () => {
    const iat = now() + 365 * 86_400
    const decision = await decide(await sign(material(owner), OWNER, ownersPolicy(), iat))
    expect(decision.allowed).toBe(false)
    expect(decision.authorization).toMatch(
      new RegExp(
        `^delegation evidence refused: the JWT's iat ${iat} is in the future \\(now \\d+, allowing 10 s of clock skew\\)$`,
      ),
    )
    expect((await decide(await sign(material(owner), OWNER, ownersPolicy(), now() + 5))).allowed).toBe(true)
  })

  it('attack 5: a replayed jti is refused, whoever signed it', async () => {
    const signed = await sign(material(owner), OWNER)
    expect((await decide(signed)).allowed).toBe(true)
    const replayed = await decide(signed)
    expect(replayed.allowed).toBe(false)
    expect(replayed.authorization).toMatch(
      new RegExp(`^delegation evidence refused: the JWT's jti \\S+ of ${OWNER} was used before`),
    )
    const mask = {
      delegationRequest: {
        policyIssuer: OWNER,
        target: { accessSubject: DRIVER },
        policySets: [
          {
            policies: [
              {
                target: {
                  resource: { type: 'CONTAINER.DATA', identifiers: ['180621.ABC125'] },
                  actions: ['ISHARE.READ'],
                },
              },
            ],
          },
        ],
      },
    }
    // The register's own answer (for the driver: the carrier's decisions above stay without stored evidence).
    const policy = currentPolicy('case2_policy.json')
    await at.delegation.putPolicy(at.token, {
      delegationEvidence: { ...policy.delegationEvidence, target: { accessSubject: DRIVER } },
    })
    const answered = (await at.delegation.answer(at.token, mask)).token
    expect((await at.delegation.verify(answered, PROVIDER, [OWNER])).policyIssuer).toBe(OWNER)
    expect(await refusal(at.delegation.verify(answered, PROVIDER, [OWNER]))).toMatch(
      new RegExp(`^delegation evidence refused: the JWT's jti \\S+ of ${REGISTER} was used before`),
    )
  })
})

describe('a remote register’s answer binds its signer too', () => {
  let pki: TestPki
  let remoteCertificate: Issued
  let token: () => Promise<string>
  let remote: Server
  const url = { value: '' }
  beforeAll(async () => {
    pki = testPki()
    remoteCertificate = pki.participant(REMOTE)
    token = () => sign(material(remoteCertificate), REMOTE)
    remote = createServer((_request, response) => {
      void token().then((delegationToken) => {
        response.setHeader('content-type', 'application/json')
        response.end(JSON.stringify({ delegationToken, delegation_token: delegationToken }))
      })
    })
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve))
    url.value = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => remote.close(() => resolve())))

  const ask = (delegation: DelegationService) =>
    delegation.askRemote({
      policyIssuer: OWNER,
      target: { accessSubject: CARRIER },
      policySets: [
        {
          policies: [
            {
              target: { resource: { type: 'CONTAINER.DATA', identifiers: ['*'] }, actions: ['ISHARE.READ'] },
            },
          ],
        },
      ],
    })

  const asking =
    (trustedRegisters = '') =>
    () => ({
      remoteRegister: url.value,
      remoteRegisterParty: PROVIDER,
      // The remote register is a local listener: reachable only where the outbound policy allows it.
      outboundAllow: '127.0.0.1',
      ...(trustedRegisters ? { trustedRegisters } : {}),
    })

  describe('not named in trustedRegisters', () => {
    const at = provider(() => pki, asking())
    it('refuses the owner’s evidence it signed', async () => {
      await expect(ask(at.delegation)).rejects.toThrow(
        `the remote register's evidence was refused: the evidence is issued by ${OWNER} but signed by ${REMOTE}, which is not a register trusted to sign for others`,
      )
    })
  })

  describe('named in trustedRegisters', () => {
    const at = provider(() => pki, asking(`EU.EORI.OTHER, ${REMOTE}`))
    it('accepts the owner’s evidence it signed, and only the evidence asked for', async () => {
      expect((await ask(at.delegation))?.policyIssuer).toBe(OWNER)
      token = () => sign(material(remoteCertificate), REMOTE, { ...ownersPolicy(), policyIssuer: CARRIER })
      await expect(ask(at.delegation)).rejects.toThrow(
        `the remote register's evidence was refused: the evidence is issued by ${CARRIER}; only evidence of ${OWNER} is accepted here`,
      )
    })
  })
})
