import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsentService } from '../../src/consent/consent-service.js'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { ALICE } from '../support/customers.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * The attacks that held the server, each refused at a limit that is named, and the largest request the limits
 * allow answered without holding the event loop. In-process: the delay measured is that of the process
 * doing the work.
 */

const OWNER = 'EU.EORI.NL000000003'
const SUBJECT = 'EU.EORI.NL000000001'
const PROVIDER = 'EU.EORI.NL000000004'

const now = () => Math.floor(Date.now() / 1000)

/** A policy set of `policies` policies, each made by `policy(i)` (its index in the document). */
const sets = <T>(count: number, perSet: number, policy: (i: number) => T) =>
  Array.from({ length: count }, (_, s) => ({
    policies: Array.from({ length: perSet }, (_, p) => policy(s * perSet + p)),
  }))

const evidence = (policySets: unknown[], subject = SUBJECT) => ({
  delegationEvidence: {
    notBefore: now() - 60,
    notOnOrAfter: now() + 86_400,
    policyIssuer: OWNER,
    target: { accessSubject: subject },
    policySets,
  },
})

const request = (policySets: unknown[], subject = SUBJECT) => ({
  delegationRequest: { policyIssuer: OWNER, target: { accessSubject: subject }, policySets },
})

const permit = (type = 'CONTAINER.DATA') => ({
  target: { resource: { type, identifiers: ['*'], attributes: ['*'] }, actions: ['read'] },
  rules: [{ effect: 'Permit' }],
})

/**
 * The largest evidence the default limits allow, made to cost the most: 10 policy sets of 10 policies that
 * all cover every request, each with 10 rules (1,000 in all), 8 of them Deny rules that do not bite and the
 * last one that does (so every rule of every policy is looked at), 900 values in all.
 */
const largestEvidence = (subject = SUBJECT) =>
  evidence(
    sets(10, 10, (i) => ({
      target: {
        resource: { type: 'CONTAINER.DATA', identifiers: ['*'], attributes: ['*'] },
        actions: ['read'],
      },
      rules: [
        { effect: 'Permit' },
        ...Array.from({ length: 8 }, (_, r) =>
          r < 5
            ? { effect: 'Deny', target: { resource: { identifiers: [`other-${i}-${r}`] } } }
            : { effect: 'Deny', target: { resource: { type: `OTHER.${r}` } } },
        ),
        { effect: 'Deny', target: { actions: ['read'] } },
      ],
    })),
    subject,
  )

/** The largest request the default limits allow: 10 policy sets of 10 policies, 1,000 values in all. */
const largestRequest = (subject = SUBJECT) =>
  request(
    sets(10, 10, (i) => ({
      target: {
        resource: {
          type: 'CONTAINER.DATA',
          identifiers: Array.from({ length: 8 }, (_, k) => `container-${i}-${k}`),
          attributes: ['eta'],
        },
        actions: ['read'],
      },
    })),
    subject,
  )

/** The request of the incident: 615 KiB of 5,200 policies, none of which a policy for reading covers. */
const attackRequest = () =>
  request(
    sets(1, 5_200, (i) => ({
      target: {
        resource: { type: 'CONTAINER.DATA', identifiers: [`container-${i}`], attributes: ['*'] },
        actions: ['write'],
      },
    })),
  )

const MAX_HOLD_MS = 50

/**
 * The event loop's delay (p99, in ms) while `work` runs, sampled every millisecond: the quietest of up to
 * five runs, the next run made only while none was under the limit. Work that holds the loop holds it on
 * every run; a shared machine that deschedules this process (other test files run beside this one, on two
 * cores) does so on some runs, not on all: three were once all just over the limit in CI (50.6 ms), against
 * 13–42 ms for this file alone.
 */
async function delayWhile(work: () => Promise<void>): Promise<number> {
  let quietest = Number.POSITIVE_INFINITY
  for (let run = 0; run < 5 && quietest >= MAX_HOLD_MS; run++) {
    const delay = monitorEventLoopDelay({ resolution: 1 })
    delay.enable()
    try {
      await work()
      // Turns of the event loop, for the monitor's timer to record how long the work held it.
      for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve))
    } finally {
      delay.disable()
    }
    quietest = Math.min(quietest, delay.percentile(99) / 1e6)
  }
  return quietest
}

describe('bounded work per request', () => {
  const temp = tempSqlite()
  let custodian: Custodian
  let app: Awaited<ReturnType<typeof buildApp>>
  const tokens: Record<string, string> = {}

  const send = (
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    who: string,
    payload?: string | Buffer,
    type = 'application/json',
  ) =>
    app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        ...(payload === undefined ? {} : { 'content-type': type }),
      },
      ...(payload === undefined ? {} : { payload }),
    })
  const json = (method: 'PUT' | 'POST', url: string, who: string, body: unknown) =>
    send(method, url, who, JSON.stringify(body))

  beforeAll(async () => {
    custodian = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    const first = await custodian.ensureAdmin()
    if (!first) throw new Error('the store already has an administrator')
    tokens.admin = (await custodian.login(first.userId, first.password)).token
    for (const id of [OWNER, PROVIDER]) {
      await custodian.createUser(tokens.admin, { id, name: id })
      await custodian.addUserCredential(tokens.admin, id, 'password', `${id} password`)
      tokens[id] = (await custodian.login(id, `${id} password`)).token
    }
    const consent = new ConsentService(custodian)
    await consent.createCustomer(tokens.admin, ALICE)
    await consent.createUsagePoint(tokens.admin, {
      customer: ALICE.username,
      description: 'Front meter',
      kind: 'electricity',
      id: 'up_front',
    })
    app = await buildApp(custodian, { logger: createLogger('silent') })
  })
  afterAll(async () => {
    await app?.close()
    await custodian?.close()
    temp.remove()
  })

  describe('delegation evidence and requests', () => {
    it('refuses evidence of 6,500 policies with 413, naming the limit, and stores nothing', async () => {
      const response = await json(
        'PUT',
        '/v1/delegation-policies',
        OWNER,
        evidence(sets(1, 6_500, () => permit())),
      )
      expect(response.statusCode).toBe(413)
      expect(response.json()).toMatchObject({
        status: 413,
        detail:
          'delegationEvidence has 6500 policies, more than the 100 allowed (the limit maxPolicies, --max-policies)',
      })
      const stored = await send('GET', `/v1/delegation-policies/${OWNER}/${SUBJECT}`, OWNER)
      expect(stored.statusCode).toBe(404)
    })

    it('refuses too many policy sets, rules of a policy, and values, each naming its limit', async () => {
      const cases: [unknown, string][] = [
        [
          evidence(sets(11, 1, () => permit())),
          'has 11 policy sets, more than the 10 allowed (the limit maxPolicySets',
        ],
        [
          evidence([
            {
              policies: [
                { ...permit(), rules: [{ effect: 'Permit' }, ...Array(1_000).fill({ effect: 'Deny' })] },
              ],
            },
          ]),
          'has 1001 rules, more than the 1000 allowed (the limit maxRules',
        ],
        [
          evidence([
            {
              policies: [
                {
                  ...permit(),
                  target: {
                    resource: { type: 'T', identifiers: Array.from({ length: 1_001 }, (_, i) => `c${i}`) },
                  },
                },
              ],
            },
          ]),
          'more than the 1000 allowed (the limit maxTargetValues',
        ],
      ]
      for (const [body, limit] of cases) {
        const response = await json('PUT', '/v1/delegation-policies', OWNER, body)
        expect(response.statusCode, JSON.stringify(body).slice(0, 100)).toBe(413)
        expect(response.json().detail).toContain(limit)
      }
    })

    it('refuses a 615 KiB delegation request with 413, naming the limit', async () => {
      const body = attackRequest()
      expect(JSON.stringify(body).length).toBeGreaterThan(610 * 1024)
      const response = await json('POST', '/delegation', PROVIDER, body)
      expect(response.statusCode).toBe(413)
      expect(response.json().detail).toBe(
        'delegationRequest has 5200 policies, more than the 100 allowed (the limit maxPolicies, --max-policies)',
      )
    })

    it('holds the event loop under 50 ms (p99) refusing the attack, and answering the largest request the limits allow against the largest evidence', async () => {
      const largest = JSON.stringify(largestRequest())
      // Warmed up once (the first answer also makes the signing key): compiling code is not what is measured.
      expect((await json('PUT', '/v1/delegation-policies', OWNER, largestEvidence())).statusCode).toBe(200)
      expect((await send('POST', '/delegation', PROVIDER, largest)).statusCode).toBe(200)
      const attack = {
        evidence: JSON.stringify(evidence(sets(1, 6_500, () => permit()))),
        request: JSON.stringify(attackRequest()),
      }

      const refused: number[] = []
      const answered: number[] = []
      let health = 0
      // inject() answers in promise callbacks alone: each request waits for the event loop's turn, as one
      // arriving on a socket would, so that what is measured is each request's longest hold.
      const turn = () => new Promise((resolve) => setImmediate(resolve))
      // Measured apart, so that a single long hold is not lost among the samples of the many answers.
      const refusing = await delayWhile(async () => {
        refused.push((await send('PUT', '/v1/delegation-policies', OWNER, attack.evidence)).statusCode)
        await turn()
        refused.push((await send('POST', '/delegation', PROVIDER, attack.request)).statusCode)
      })
      expect((await json('PUT', '/v1/delegation-policies', OWNER, largestEvidence())).statusCode).toBe(200)
      const answering = await delayWhile(async () => {
        for (let i = 0; i < 20; i++) {
          await turn()
          // /health is asked while each request is under way, and answers.
          const [answer, probe] = await Promise.all([
            send('POST', '/delegation', PROVIDER, largest),
            app.inject({ method: 'GET', url: '/health' }),
          ])
          answered.push(answer.statusCode)
          if (probe.statusCode === 200) health++
        }
      })
      console.log(
        `event loop delay (p99): ${refusing.toFixed(1)} ms refusing the attack, ${answering.toFixed(1)} ms answering the largest requests`,
      )
      expect(refusing).toBeLessThan(MAX_HOLD_MS)
      expect(answering).toBeLessThan(MAX_HOLD_MS)
      // Each run refused both, and answered its 20 requests with /health answering beside each.
      expect(refused).toEqual(Array(refused.length).fill(413))
      expect([2, 4, 6, 8, 10]).toContain(refused.length)
      expect(answered).toEqual(Array(answered.length).fill(200))
      expect([20, 40, 60, 80, 100]).toContain(answered.length)
      expect(health).toBe(answered.length)
    })

    it('looks for a chain to a subject without evaluating each of the issuer’s evidence on the way', async () => {
      // The issuer's largest evidence for 100 other parties, none of whom delegates further.
      for (let i = 0; i < 100; i++) {
        const stored = await json('PUT', '/v1/delegation-policies', OWNER, largestEvidence(`EU.EORI.NL1${i}`))
        expect(stored.statusCode).toBe(200)
      }
      const body = JSON.stringify(largestRequest('EU.EORI.NOBODY'))
      let status = 0
      const p99 = await delayWhile(async () => {
        status = (await send('POST', '/delegation', PROVIDER, body)).statusCode
      })
      expect(status).toBe(404)
      console.log(`event loop delay while looking for a chain: p99 ${p99.toFixed(1)} ms`)
      expect(p99).toBeLessThan(MAX_HOLD_MS)
    })
  })

  describe('JSON bodies and trust matrices', () => {
    it('refuses JSON nested 30,000 deep into a trust matrix with 400 naming the depth limit, not 500', async () => {
      const deep = `{"matrix":{"high":${'{"all":['.repeat(15_000)}{"authorization":true}${']}'.repeat(15_000)}}}`
      const response = await send('PUT', '/v1/trust/associations/deep', 'admin', deep)
      expect(response.statusCode).toBe(400)
      expect(response.json().detail).toBe(
        'the body nests arrays and objects more than 64 deep (the limit maxJsonDepth, --max-json-depth)',
      )
    })

    it('refuses a matrix nested too deeply within the JSON limit, and one too large, naming the limits', async () => {
      let requirement: unknown = { authorization: true }
      for (let i = 0; i < 20; i++) requirement = { any: [requirement] }
      const deep = await json('PUT', '/v1/trust/associations/deep', 'admin', {
        matrix: { high: requirement },
      })
      expect(deep.statusCode).toBe(200) // 20 levels, 40 of JSON: within both limits
      const large = await json('PUT', '/v1/trust/associations/large', 'admin', {
        matrix: { high: { any: Array(500).fill({ authorization: true }) } },
      })
      expect(large.statusCode).toBe(413)
      expect(large.json().detail).toBe(
        'matrix.high.any: matrix has more than 200 classifications and requirements (the limit maxMatrixSize, --max-matrix-size)',
      )
    })
  })

  describe('usage data imports', () => {
    const csv = (text: string | Buffer) =>
      send('POST', '/v1/usage-data?name=upload.csv', 'admin', text, 'text/csv')
    const readings = async () => {
      const meterReading = (await custodian.store.usage.resources(['up_front'])).find(
        (r) => r.source === 'MeterReading/csv-900',
      )
      return meterReading ? custodian.store.usage.readings(meterReading.id, 0, 2 ** 31, 10) : []
    }

    it('refuses a CSV line longer than the limit by file and line, quickly, storing nothing', async () => {
      const header = 'usage_point,start,duration,value\n'
      const good = 'up_front,2026-11-21T00:00:00Z,900,5\n'
      const long = `up_front,2026-11-21T00:15:00Z,900,${'9'.repeat(4 * 1024 * 1024)}\n`
      const started = performance.now()
      const response = await csv(Buffer.from(header + good + long + good))
      expect(response.statusCode).toBe(400)
      expect(response.json().detail).toBe(
        'upload.csv:3:0: line longer than 10000 characters (the limit maxTextLength, --max-text-length)',
      )
      expect(performance.now() - started).toBeLessThan(2_000)
      expect(await readings()).toEqual([])
    })

    it('refuses a one-line CSV of 4 MB by file and line', async () => {
      const response = await csv(
        Buffer.from(`usage_point,start,duration,value,${'x,'.repeat(2 * 1024 * 1024)}`),
      )
      expect(response.statusCode).toBe(400)
      expect(response.json().detail).toMatch(/^upload\.csv:1:0: line longer than 10000 characters/)
    })

    it('refuses a CSV in which no line is a reading, by file and line, storing nothing', async () => {
      const response = await csv('usage_point,start,duration,value\n\n')
      expect(response.statusCode).toBe(400)
      expect(response.json().detail).toBe(
        'upload.csv:1:0: no readings: no line after the header is a reading (usage_point,start,duration,value[,cost][,quality])',
      )
      const oneLine = await csv('up_front,2026-11-21T00:00:00Z,900,5')
      expect(oneLine.statusCode).toBe(400)
      expect(oneLine.json().detail).toMatch(/^upload\.csv:1:0: no readings: /)
      expect(await readings()).toEqual([])
    })

    it('refuses XML elements nested 30,000 deep in an entry by file and line, not with a 500', async () => {
      const xml = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><content><UsagePoint xmlns="http://naesb.org/espi">${'<a>'.repeat(30_000)}${'</a>'.repeat(30_000)}</UsagePoint></content></entry></feed>`
      const response = await send(
        'POST',
        '/v1/usage-data?name=upload.xml',
        'admin',
        xml,
        'application/atom+xml',
      )
      expect(response.statusCode).toBe(400)
      expect(response.json().detail).toMatch(/^upload\.xml:1:\d+: elements nest more than 64 deep$/)
    })

    it('refuses XML text outside the elements it keeps once it is longer than the limit', async () => {
      const xml = `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">${'x'.repeat(1024 * 1024)}</feed>`
      const response = await send(
        'POST',
        '/v1/usage-data?name=upload.xml',
        'admin',
        xml,
        'application/atom+xml',
      )
      expect(response.statusCode).toBe(400)
      expect(response.json().detail).toMatch(
        /^upload\.xml:1:\d+: a text or tag is longer than 20000 characters \(the limit maxTextLength, --max-text-length\)$/,
      )
    })
  })
})
