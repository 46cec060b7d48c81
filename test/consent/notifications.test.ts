import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsentService } from '../../src/consent/consent-service.js'
import { Custodian } from '../../src/custodian.js'
import { createLogger } from '../../src/logger.js'
import { createMailer } from '../../src/notify/mailer.js'
import { OutboxWorker } from '../../src/notify/outbox-worker.js'
import { ALICE } from '../support/customers.js'
import { storeBackends } from '../support/temp-store.js'

const listen = (server: { listen: (port: number, host: string, cb: () => void) => unknown }) =>
  new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

describe.each(storeBackends)('authorization notifications on $name', ({ make }) => {
  let target: string
  let remove: () => Promise<void>
  let custodian: Custodian
  let consent: ConsentService
  let smtp: SMTPServer
  let thirdParty: Server
  const mails: string[] = []
  const posts: { contentType: string; body: string }[] = []
  let failNext = 0
  // Real time plus what the test has moved on: the store stamps new messages with the real time.
  let offset = 0
  const clock = () => Date.now() + offset
  let clientId: string
  let point: string
  let alice: string
  let worker: OutboxWorker

  const open = async () => {
    custodian = await Custodian.open({
      db: target,
      clock,
      follow: false,
      config: { logLevel: 'silent', publicUrl: 'https://utility.example' },
    })
    consent = new ConsentService(custodian)
    const port = (smtp.server.address() as AddressInfo).port
    const mailer = createMailer({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      from: 'Utility <no-reply@utility.example>',
      mailbox: '',
    })
    worker = new OutboxWorker(custodian.store, mailer, createLogger('silent'), {
      pollMs: 60_000,
      clock,
      outboundAllow: '127.0.0.1',
    })
  }

  beforeAll(async () => {
    ;({ target, remove } = await make())
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, callback) {
        let text = ''
        stream.on('data', (chunk) => {
          text += chunk
        })
        stream.on('end', () => {
          mails.push(text)
          callback()
        })
      },
    })
    await listen(smtp)
    thirdParty = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk) => {
        body += chunk
      })
      request.on('end', () => {
        if (failNext > 0) {
          failNext -= 1
          response.writeHead(503).end()
          return
        }
        posts.push({ contentType: request.headers['content-type'] ?? '', body })
        response.writeHead(202).end()
      })
    })
    await listen(thirdParty)
    await open()
    await consent.createCustomer(undefined, ALICE)
    point = (
      await consent.createUsagePoint(undefined, {
        customer: 'alice',
        description: 'Rabbit Hole Lane',
        kind: 'electricity',
      })
    ).details?.id as string
    const notifyUri = `http://127.0.0.1:${(thirdParty.address() as AddressInfo).port}/notify`
    clientId = (
      await consent.registerThirdParty(undefined, {
        name: 'Solar Savings',
        description: '',
        redirectUris: ['https://solar.example/cb'],
        notifyUri,
        scope: 'FB=1_4_5',
      })
    ).clientId
    alice = (await custodian.login('alice', 'alice password')).token
  })
  afterAll(async () => {
    await custodian.close()
    await new Promise<void>((resolve) => smtp.close(() => resolve()))
    await new Promise((resolve) => thirdParty.close(resolve))
    await remove()
  })

  it('emails the customer and POSTs a BatchList naming the Authorization to the third party, with no personal data', async () => {
    const granted = await consent.grant(alice, {
      clientId,
      usagePointIds: [point],
      scope: 'FB=4',
      periodEnd: '+30d',
    })
    const id = granted.details?.id as string
    expect(await worker.runOnce()).toBe(2)
    expect(mails).toHaveLength(1)
    expect(mails[0]).toMatch(/^To: alice@example.org$/m)
    expect(mails[0]).toMatch(/^Subject: Your data sharing with Solar Savings was granted$/m)
    expect(mails[0]).toContain('Dear Alice Liddell,')
    expect(posts).toEqual([
      {
        contentType: 'application/xml',
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<BatchList xmlns="http://naesb.org/espi"><resources>https://utility.example/espi/1_1/resource/Authorization/${id}</resources></BatchList>\n`,
      },
    ])
    for (const personal of ['alice', 'Alice', 'Liddell', 'ACCT-0001', 'Rabbit'])
      expect(posts[0]?.body).not.toContain(personal)
    expect(await custodian.store.pendingOutbox(10)).toEqual([])
  })

  it('retries a failed notification with backoff until it is delivered', async () => {
    const [auth] = consent.customerAuthorizations(alice, '')
    failNext = 1
    await consent.extend(alice, auth?.id as string, '+60d')
    expect(await worker.runOnce()).toBe(1) // the email went; the POST failed
    const [pending] = await custodian.store.pendingOutbox(10)
    expect(pending).toMatchObject({
      channel: 'http',
      attempts: 1,
      // A 503 reads like every other failure to deliver (the cause is in the log): nothing to probe with.
      last_error: `the notification could not be sent to http://127.0.0.1:${(thirdParty.address() as AddressInfo).port}/notify`,
    })
    expect(await worker.runOnce()).toBe(0) // not due yet
    offset += 6_000
    expect(await worker.runOnce()).toBe(1)
    expect(posts).toHaveLength(2)
    expect(mails.at(-1)).toMatch(/^Subject: Your data sharing with Solar Savings was extended$/m)
  })

  it('keeps undelivered notifications across a restart', async () => {
    const [auth] = consent.customerAuthorizations(alice, '')
    await consent.terminate(alice, auth?.id as string, 'today')
    await custodian.close() // before any delivery
    await open()
    expect((await custodian.store.pendingOutbox(10)).map((m) => m.channel).sort()).toEqual(['email', 'http'])
    expect(await worker.runOnce()).toBe(2)
    expect(mails.at(-1)).toMatch(/^Subject: Your data sharing with Solar Savings was terminated$/m)
    expect(posts).toHaveLength(3)
  })
})
