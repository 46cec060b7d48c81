import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { CookieJar } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { mailTo, oneTimeCode, smtpListener } from '../support/smtp-listener.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

/**
 * Attacks on self-registration, where knowing an account number (it is printed on every bill) is the
 * start: taking over a customer who already has an online account; replaying a code in another sign-in;
 * guessing codes from many addresses.
 */
describe('self-registration refuses', () => {
  const temp = tempSqlite()
  let smtp: Awaited<ReturnType<typeof smtpListener>>
  let server: RunningServer
  let admin: string
  let clientId: string
  const redirectUri = 'https://solar.example/callback'

  beforeAll(async () => {
    smtp = await smtpListener()
    ;({ server, admin } = await startWithAdmin(temp.target, {
      ...mailTo(smtp),
      // The tests come from 127.0.0.1, a listed proxy: X-Forwarded-For plays the attacker's many addresses.
      CUSTODIAN_TRUST_PROXY: '127.0.0.1',
      CUSTODIAN_PUBLIC_URL: 'http://custodian.test',
      CUSTODIAN_LOGIN_MAX_FAILURES_USER: '3',
      CUSTODIAN_LOGIN_SLOW_AFTER_FAILURES: '4',
    }))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    for (const who of ['hare', 'dodo']) {
      await call(server.url, 'POST', '/v1/customers', {
        token: admin,
        body: { username: who, name: who, email: `${who}@example.org`, account_number: `ACCT-${who}` },
      })
    }
    // Registered without discovery: the public URL here is not where the test reaches the server.
    const party = await call(server.url, 'POST', '/v1/third-parties', {
      token: admin,
      body: {
        name: 'Solar',
        redirect_uris: [redirectUri],
        notify_uri: 'https://solar.example/n',
        scope: 'FB=4_5',
      },
    })
    clientId = party.body.client_id as string
  })
  afterAll(async () => {
    await server.stop()
    await smtp.close()
    temp.remove()
  })

  /** A browser at the sign-in page of a new authorization request: its cookies and the interaction. */
  const signIn = async () => {
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'FB=4',
      state: 's',
      code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
      code_challenge_method: 'S256',
    })
    const jar = new CookieJar()
    const start = await fetch(`${server.url}/oauth/auth?${query}`, { redirect: 'manual' })
    jar.take(start)
    const uid = /\/interaction\/([^/?]+)/.exec(start.headers.get('location') ?? '')?.[1] ?? ''
    const form = await fetch(`${server.url}/interaction/${uid}/register`, {
      headers: { cookie: jar.header() },
    })
    const csrf = /name="csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? ''
    const post = async (path: string, fields: Record<string, string>, from = '198.51.100.1') => {
      const response = await fetch(`${server.url}/interaction/${uid}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie: jar.header(),
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': from,
        },
        body: new URLSearchParams({ csrf, ...fields }),
      })
      const text = await response.text()
      return { status: response.status, text, seal: /name="seal" value="([^"]+)"/.exec(text)?.[1] ?? '' }
    }
    return { uid, post }
  }

  const codeFor = async (who: string) => {
    const mail = await until(`the code for ${who}`, () =>
      smtp.received.find((m) => m.to === `${who}@example.org`),
    )
    return oneTimeCode(mail)
  }

  it('to send a code for a customer who already has an online account', async () => {
    const { post } = await signIn()
    const asked = await post('/register', { account_number: ALICE_BODY.account_number })
    expect(asked.status).toBe(200)
    expect(asked.text).toContain('we have sent a one-time code')
    const codes = await registrationCodeRecords()
    expect(codes.map((record) => record.resource)).toEqual(['unknown account'])
  })

  const registrationCodeRecords = async () => {
    const audit = await call(server.url, 'GET', '/v1/audit?limit=1000', { token: admin })
    return (audit.body.items as { action: string; actor: string; resource: string }[]).filter(
      (record) => record.action === 'customer.registration_code',
    )
  }

  it('to tell, by the answer or the work behind it, an account number of ours from one that is not', async () => {
    const before = (await registrationCodeRecords()).length
    const { post } = await signIn()
    const unknown = await post('/register', { account_number: 'ACCT-nobody' }, '198.51.100.7')
    const taken = await post('/register', { account_number: ALICE_BODY.account_number }, '198.51.100.8')
    const strip = (text: string) => text.replace(/name="seal" value="[^"]+"/, '')
    expect(strip(unknown.text)).toBe(strip(taken.text).replace(ALICE_BODY.account_number, 'ACCT-nobody'))
    // Both wrote one audit record, in the same kind of transaction as a code that is sent.
    const after = await registrationCodeRecords()
    expect(after.length - before).toBe(2)
    expect(after.slice(0, 2).map((record) => [record.actor, record.resource])).toEqual([
      ['anonymous', 'unknown account'],
      ['anonymous', 'unknown account'],
    ])
  })

  it('a code and its seal carried into another sign-in', async () => {
    const first = await signIn()
    const asked = await first.post('/register', { account_number: 'ACCT-hare' })
    const code = await codeFor('hare')
    const second = await signIn()
    const replayed = await second.post('/register/confirm', {
      account_number: 'ACCT-hare',
      seal: asked.seal,
      code,
      password: 'a new password',
      password_again: 'a new password',
    })
    expect(replayed.status).toBe(400)
    expect(replayed.text).toContain('That code is wrong or has expired')
    // In its own sign-in the same code works.
    const own = await first.post('/register/confirm', {
      account_number: 'ACCT-hare',
      seal: asked.seal,
      code,
      password: 'a new password',
      password_again: 'a new password',
    })
    expect(own.status).toBe(303)
  })

  it('to go on guessing the codes of one account number from ever new addresses', async () => {
    const { post } = await signIn()
    const asked = await post('/register', { account_number: 'ACCT-dodo' }, '203.0.113.1')
    const guess = (from: string) =>
      post(
        '/register/confirm',
        {
          account_number: 'ACCT-dodo',
          seal: asked.seal,
          code: '999999',
          password: 'a new password',
          password_again: 'a new password',
        },
        from,
      )
    // Each address stays below its own limit of 3; the account number across addresses is locked at 4.
    for (const from of ['203.0.113.2', '203.0.113.3', '203.0.113.4'])
      expect((await guess(from)).status).toBe(400)
    const refused = await guess('203.0.113.5')
    expect(refused.status).toBe(429)
    expect(refused.text).toContain('Too many attempts')
  })
})
