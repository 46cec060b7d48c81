import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type ServerResponse } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsentService } from '../../src/consent/consent-service.js'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { specialAddress } from '../../src/net/address-policy.js'
import { OutboxWorker } from '../../src/notify/outbox-worker.js'
import { ALICE } from '../support/customers.js'

/**
 * Server-side request forgery: the server must make no request a caller chooses unless an administrator
 * asked for it, and then only to public addresses (or ones the operator allows), reading at most the limit,
 * and failing with one text whatever went wrong.
 */

/**
 * A tripwire under every socket of this process: connections to anything but 127.0.0.x are recorded and
 * never made, so that a broken guard cannot send traffic to 10.0.0.1 or 169.254.169.254 from a test run.
 */
const tripped: string[] = []
const realConnect = net.Socket.prototype.connect
function armTripwire() {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0]
    const options = (Array.isArray(first) ? first[0] : first) as { host?: string; path?: string } | number
    const host = typeof options === 'object' ? options.host : (args[1] as string | undefined)
    const local = typeof options === 'object' && options.path !== undefined
    if (!local && host !== undefined && !/^(127\.0\.0\.\d+|localhost)$/.test(host)) {
      tripped.push(host)
      process.nextTick(() => this.destroy(new Error(`tripwire: no connection to ${host} from a test`)))
      return this
    }
    return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args)
  } as typeof realConnect
}

/** A listener that records every TCP connection made to it, whatever is sent. */
async function recordingListener(
  host: string,
  handle: (url: string, response: ServerResponse) => void = (_u, r) => r.writeHead(200).end('ok'),
): Promise<{ server: Server; url: string; connections: () => number }> {
  let connections = 0
  const server = createServer((request, response) => handle(request.url ?? '/', response))
  server.on('connection', () => {
    connections += 1
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return {
    server,
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
  }
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })

/** A Custodian with its HTTP app (in-process, through inject), an administrator and a plain user. */
async function openServer(outboundAllow: string) {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-ssrf-'))
  const logs: string[] = []
  const logger = createLogger('warn', { write: (line: string) => logs.push(line) })
  const custodian = await Custodian.open({
    db: join(dir, 'custodian.db'),
    follow: false,
    logger,
    config: { logLevel: 'warn', outboundAllow },
  })
  const app = await buildApp(custodian, { logger: createLogger('silent') })
  const first = (await custodian.ensureAdmin()) as { userId: string; password: string }
  const admin = (await custodian.login(first.userId, first.password)).token
  await custodian.createUser(admin, { id: 'mallory', name: 'Mallory' })
  await custodian.addUserCredential(admin, 'mallory', 'password', 'mallory password')
  const user = (await custodian.login('mallory', 'mallory password')).token
  return {
    custodian,
    app,
    admin,
    user,
    logs,
    /** POST /v1/catalog/fetches as the holder of `token`. */
    fetchCatalog: async (token: string, url: string) => {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/catalog/fetches',
        headers: { authorization: `Bearer ${token}` },
        payload: { url },
      })
      return { status: response.statusCode, body: response.json() as Record<string, unknown> }
    },
    close: async () => {
      await app.close()
      await custodian.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

type Opened = Awaited<ReturnType<typeof openServer>>

const TURTLE = `@prefix ib1: <https://registry.core.trust.ib1.org/ns/1.0#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://registry.example/licence/open-reporting> a ib1:LicenceInterpretation ;
  dcterms:license <https://registry.example/legal-text/open-reporting> ;
  ib1:grant ib1:use_any .`

const refusedText = (url: string) => `the catalog document could not be fetched from ${url}`

beforeAll(() => armTripwire())
afterAll(() => {
  net.Socket.prototype.connect = realConnect
})

describe('POST /v1/catalog/fetches decides who asks before connecting anywhere', () => {
  // 127.0.0.1 is allowed here, so that only the authorization stands between a caller and the listener.
  let server: Opened
  let listener: Awaited<ReturnType<typeof recordingListener>>

  beforeAll(async () => {
    server = await openServer('127.0.0.1')
    listener = await recordingListener('127.0.0.1')
  })
  afterAll(async () => {
    await close(listener.server)
    await server.close()
  })

  it('refuses a junk token with 401 and connects nowhere', async () => {
    const answer = await server.fetchCatalog('junk', `${listener.url}/licences.ttl`)
    expect(answer.status).toBe(401)
    expect(listener.connections()).toBe(0)
  })

  it('refuses a plain user with 403 and connects nowhere', async () => {
    const answer = await server.fetchCatalog(server.user, `${listener.url}/licences.ttl`)
    expect(answer.status).toBe(403)
    expect(answer.body.detail).toMatch(/^mallory may not catalog\.load: it needs the admin permission/)
    expect(listener.connections()).toBe(0)
  })

  it('refuses them for private and metadata addresses before any connection', async () => {
    // Guard of the test itself: the policy refuses these literals (and the tripwire stops any real attempt).
    expect(specialAddress('10.0.0.1')).toMatch(/^private/)
    expect(specialAddress('169.254.169.254')).toMatch(/^link-local/)
    for (const url of ['http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/']) {
      expect((await server.fetchCatalog('junk', url)).status).toBe(401)
      expect((await server.fetchCatalog(server.user, url)).status).toBe(403)
    }
    expect(tripped).toEqual([])
  })

  it('fetches for an administrator from an allowed address', async () => {
    const registry = await recordingListener('127.0.0.1', (_url, response) =>
      response.writeHead(200, { 'content-type': 'text/turtle' }).end(TURTLE),
    )
    const answer = await server.fetchCatalog(server.admin, `${registry.url}/licences.ttl`)
    await close(registry.server)
    expect(answer.status).toBe(200)
    expect(answer.body.summary).toMatch(/^loaded 0 data service\(s\) and 1 licence interpretation\(s\)/)
  })
})

describe('the address policy, for an administrator too', () => {
  let server: Opened

  beforeAll(async () => {
    server = await openServer('')
  })
  afterAll(() => server.close())

  it('refuses loopback without an allow-list, before connecting, with the one text; the cause is logged', async () => {
    const listener = await recordingListener('127.0.0.1')
    const url = `${listener.url}/licences.ttl`
    const answer = await server.fetchCatalog(server.admin, url)
    await close(listener.server)
    expect(answer).toMatchObject({ status: 400, body: { detail: refusedText(url) } })
    expect(listener.connections()).toBe(0)
    expect(server.logs.join('')).toContain('127.0.0.1 is 127.0.0.1, which is loopback, in 127.0.0.0/8')
  })

  it('refuses private, link-local and IPv4-mapped addresses before connecting', async () => {
    for (const url of [
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/latest/meta-data/',
      'http://[fd00::1]/',
      'http://100.64.0.1/',
    ]) {
      const answer = await server.fetchCatalog(server.admin, url)
      expect(answer.status, url).toBe(400)
      expect(answer.body.detail).toBe(refusedText(url))
    }
    expect(tripped).toEqual([])
  })
})

describe('redirects, each hop checked as the first', () => {
  let server: Opened
  let target: Awaited<ReturnType<typeof recordingListener>>
  let redirector: Awaited<ReturnType<typeof recordingListener>>
  let registry: Awaited<ReturnType<typeof recordingListener>>

  beforeAll(async () => {
    // Only 127.0.0.1 is allowed; 127.0.0.2 is loopback too, and not allowed.
    server = await openServer('127.0.0.1')
    target = await recordingListener('127.0.0.2')
    registry = await recordingListener('127.0.0.1', (_url, response) =>
      response.writeHead(200, { 'content-type': 'text/turtle' }).end(TURTLE),
    )
    redirector = await recordingListener('127.0.0.1', (url, response) => {
      const to = new URL(url, 'http://x').searchParams.get('to') ?? ''
      response.writeHead(302, { location: to }).end()
    })
  })
  afterAll(async () => {
    for (const listener of [target, redirector, registry]) await close(listener.server)
    await server.close()
  })

  const via = (to: string) => `${redirector.url}/go?to=${encodeURIComponent(to)}`

  it('follows a redirect to an allowed address', async () => {
    const answer = await server.fetchCatalog(server.admin, via(`${registry.url}/licences.ttl`))
    expect(answer.status).toBe(200)
  })

  it('refuses a redirect from an allowed host to a refused one before connecting to it', async () => {
    const before = redirector.connections()
    const url = via(`${target.url}/secret`)
    const answer = await server.fetchCatalog(server.admin, url)
    expect(answer).toMatchObject({ status: 400, body: { detail: refusedText(url) } })
    expect(redirector.connections()).toBe(before + 1)
    expect(target.connections()).toBe(0)
    expect(server.logs.join('')).toContain('127.0.0.2 is 127.0.0.2, which is loopback')
  })

  it('refuses a redirect to the metadata address and to IPv6 loopback', async () => {
    expect(specialAddress('169.254.169.254')).toBe('link-local, in 169.254.0.0/16') // guard of the test itself
    for (const to of [
      'http://169.254.169.254/latest/meta-data/',
      `http://[::1]:${new URL(target.url).port}/`,
    ]) {
      const answer = await server.fetchCatalog(server.admin, via(to))
      expect(answer).toMatchObject({ status: 400, body: { detail: refusedText(via(to)) } })
    }
    expect(tripped).toEqual([])
  })
})

describe('one text for every failure', () => {
  let server: Opened

  beforeAll(async () => {
    server = await openServer('127.0.0.1')
  })
  afterAll(() => server.close())

  it('reads the same for a closed port and for an open one answering 401', async () => {
    const gone = await recordingListener('127.0.0.1')
    await close(gone.server)
    const guarded = await recordingListener('127.0.0.1', (_url, response) =>
      response.writeHead(401, { 'www-authenticate': 'Bearer' }).end('who are you?'),
    )
    const closed = await server.fetchCatalog(server.admin, `${gone.url}/licences.ttl`)
    const open = await server.fetchCatalog(server.admin, `${guarded.url}/licences.ttl`)
    await close(guarded.server)
    expect(guarded.connections()).toBe(1)
    expect(closed.status).toBe(400)
    expect(open.status).toBe(400)
    const generic = (answer: typeof open, url: string) => String(answer.body.detail).replace(url, 'URL')
    expect(generic(closed, gone.url)).toBe('the catalog document could not be fetched from URL/licences.ttl')
    expect(generic(open, guarded.url)).toBe(generic(closed, gone.url))
    // The causes are the operator's to read.
    expect(server.logs.join('')).toContain('ECONNREFUSED')
    expect(server.logs.join('')).toContain('answered HTTP 401')
  })

  it('cuts a 1 GB streamed answer at 5 MB without the process growing by 50 MB', async () => {
    const GB = 1024 ** 3
    const chunk = Buffer.alloc(64 * 1024, '# filler\n')
    let sent = 0
    const sockets = new Set<net.Socket>()
    const huge = await recordingListener('127.0.0.1', (url, response) => {
      if (url === '/warm-up') return response.writeHead(200, { 'content-type': 'text/turtle' }).end(TURTLE)
      response.writeHead(200, { 'content-type': 'text/turtle' }) // chunked: no length announced
      // Made lazily, as fast as the reader takes it (backpressure), until it hangs up.
      const pump = () => {
        while (sent < GB && !response.destroyed) {
          sent += chunk.length
          if (!response.write(chunk)) return void response.once('drain', pump)
        }
        if (!response.destroyed) response.end()
      }
      pump()
    })
    huge.server.on('connection', (socket) => sockets.add(socket))
    // The same path once with a small document first, so that what is measured is the body, not warming up.
    expect((await server.fetchCatalog(server.admin, `${huge.url}/warm-up`)).status).toBe(200)
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
      // A safety valve for a broken guard: stop feeding it long before the machine suffers.
      if (peak - before > 400 * 1024 ** 2) for (const socket of sockets) socket.destroy()
    }, 2)
    const url = `${huge.url}/licences.ttl`
    const answer = await server.fetchCatalog(server.admin, url)
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    await close(huge.server)
    expect(peak - before).toBeLessThan(50 * 1024 ** 2)
    expect(sent).toBeLessThan(64 * 1024 ** 2)
    expect(answer).toMatchObject({ status: 400, body: { detail: refusedText(url) } })
    expect(server.logs.join('')).toContain('sent more than 5242880 bytes')
  }, 60_000)
})

describe('notifications to a third party’s notifyUri', () => {
  it('are refused for a special address, not delivered, and recorded as failed with the one text', async () => {
    const server = await openServer('')
    const consent = new ConsentService(server.custodian)
    const listener = await recordingListener('127.0.0.1')
    const notifyUri = `${listener.url}/notify`
    try {
      await consent.createCustomer(server.admin, ALICE)
      const point = (
        await consent.createUsagePoint(server.admin, {
          customer: 'alice',
          description: 'Rabbit Hole Lane',
          kind: 'electricity',
        })
      ).details?.id as string
      const { clientId } = await consent.registerThirdParty(server.admin, {
        name: 'Solar Savings',
        description: '',
        redirectUris: ['https://solar.example/cb'],
        notifyUri,
        scope: 'FB=1_4_5',
      })
      const alice = (await server.custodian.login('alice', 'alice password')).token
      await consent.grant(alice, { clientId, usagePointIds: [point], scope: 'FB=4', periodEnd: '+30d' })
      const mails: unknown[] = []
      const worker = new OutboxWorker(
        server.custodian.store,
        { describe: 'test', send: async (mail) => void mails.push(mail) },
        server.custodian.log,
        { pollMs: 60_000 },
      )
      expect(await worker.runOnce()).toBe(1) // the email only
      expect(mails).toHaveLength(1)
      expect(listener.connections()).toBe(0)
      expect(await server.custodian.store.pendingOutbox(10)).toEqual([
        expect.objectContaining({
          channel: 'http',
          target: notifyUri,
          attempts: 1,
          last_error: `the notification could not be sent to ${notifyUri}`,
        }),
      ])
      expect(server.logs.join('')).toContain('which is loopback')
    } finally {
      await close(listener.server)
      await server.close()
    }
  })
})
