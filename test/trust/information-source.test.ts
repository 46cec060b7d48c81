import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { DelegationService } from '../../src/trust/delegation-service.js'
import { TrustService } from '../../src/trust/trust-service.js'
import { tempSqlite } from '../support/temp-store.js'

/** A reputation model asked at decision time: answers fast for most, never for one, garbage for another. */
describe('a reputation source asked at decision time', () => {
  const temp = tempSqlite()
  const asked: string[] = []
  const held: ServerResponse[] = []
  const source = createServer((request, response) => {
    const party = decodeURIComponent(request.url?.split('/').at(-1) ?? '')
    if (request.url?.startsWith('/party/')) {
      // The membership source knows one party Custodian has no record of, and no other.
      if (party !== 'elsewhere') return response.writeHead(404).end()
      return response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ memberships: [{ association: 'port' }], assurance: 'high' }))
    }
    asked.push(party)
    if (party === 'silent') return held.push(response) // never answers: the decision must not wait for it
    if (party === 'recorded') return response.writeHead(503).end()
    if (party === 'garbled')
      return response.writeHead(200, { 'content-type': 'application/json' }).end('{"mood":"fine"}')
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ score: 88, source: 'port reputation model' }))
  })
  let custodian: Custodian
  let trust: TrustService

  beforeAll(async () => {
    await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(source.address() as AddressInfo).port}/reputation/{id}`
    custodian = await Custodian.open({
      db: temp.target,
      follow: false,
      config: {
        logLevel: 'silent',
        reputationSource: url,
        partySource: url.replace('/reputation/', '/party/'),
        sourceTimeoutMs: 300,
        outboundAllow: '127.0.0.1',
      },
    })
    trust = new TrustService(custodian, new DelegationService(custodian))
    await trust.putAssociation(undefined, { id: 'port' })
    await trust.putService(undefined, { id: 'contents', association: 'port', classification: 'medium' })
    for (const id of ['known', 'silent', 'garbled'])
      await trust.putParty(undefined, { id, memberships: [{ association: 'port' }] })
    await trust.putParty(undefined, {
      id: 'recorded',
      reputation: { level: 'medium', source: 'last sync' },
      memberships: [{ association: 'port' }],
    })
  })
  afterAll(async () => {
    for (const response of held) response.destroy()
    await new Promise((resolve) => source.close(resolve))
    await custodian.close()
    temp.remove()
  })

  const reputation = async (party: string) => {
    const decision = await trust.decide(undefined, { party, service: 'contents' })
    return {
      allowed: decision.allowed,
      found: decision.findings.find((f) => f.input === 'reputation')?.found,
    }
  }

  it('uses what the source says, and asks it once per cache period', async () => {
    expect(await reputation('known')).toMatchObject({
      allowed: true,
      found: expect.stringMatching(/^high \(from port reputation model at /),
    })
    await reputation('known')
    expect(asked.filter((p) => p === 'known')).toHaveLength(1)
  })

  it('takes a party’s memberships and assurance from the party source, even one never recorded here', async () => {
    const decision = await trust.decide(undefined, { party: 'elsewhere', service: 'contents' })
    expect(decision.allowed).toBe(true)
    expect(decision.findings.find((f) => f.input === 'association')?.found).toBe('high (member of port)')
    // Parties the source does not know keep what was recorded.
    expect((await reputation('known')).allowed).toBe(true)
  })

  it('decides without it after the timeout, saying so', async () => {
    // Every failure to fetch reads the same (a timeout like a refusal or a closed port): nothing to probe with.
    expect(await reputation('silent')).toEqual({
      allowed: false,
      found: 'none (the reputation source could not be asked)',
    })
  })

  it('refuses an unreadable answer, and falls back to what was recorded when the source fails', async () => {
    expect((await reputation('garbled')).found).toMatch(
      /^none \(the reputation source answered something unreadable: expected/,
    )
    // The source is down for `recorded`: what the last synchronisation recorded is used.
    expect(await reputation('recorded')).toMatchObject({
      allowed: true,
      found: expect.stringMatching(/^medium \(from last sync at /),
    })
  })
})
