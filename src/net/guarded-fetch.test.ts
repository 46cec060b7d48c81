import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OutboundClient, OutboundError, type OutboundRequest, type Resolver } from './guarded-fetch.js'

/** A listener on a loopback address that records what reaches it and answers as `handle` says. */
async function listener(host: string, handle: (request: IncomingMessage, response: ServerResponse) => void) {
  const seen: { method: string; url: string; host: string; authorization?: string; body: string }[] = []
  let connections = 0
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        host: request.headers.host ?? '',
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        body,
      })
      handle(request, response)
    })
  })
  server.on('connection', () => {
    connections += 1
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const port = (server.address() as AddressInfo).port
  return { server, port, url: `http://${host}:${port}`, seen, connections: () => connections }
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })

function client(allow: string, resolve?: Resolver) {
  const logged: string[] = []
  const log = { warn: (_object: unknown, message: string) => void logged.push(message) }
  return {
    logged,
    outbound: new OutboundClient({ allow, log: log as never, ...(resolve ? { resolve } : {}) }),
  }
}

const GET: OutboundRequest = { what: 'the document', maxBytes: 1024, timeoutMs: 2_000 }

/** The OutboundError a request fails with (the test fails if it succeeds). */
async function failure(run: Promise<unknown>): Promise<OutboundError> {
  try {
    await run
  } catch (error) {
    if (error instanceof OutboundError) return error
    throw error
  }
  throw new Error('expected an OutboundError')
}

describe('the guarded outbound client', () => {
  let server: Awaited<ReturnType<typeof listener>>
  let other: Awaited<ReturnType<typeof listener>>
  const held: ServerResponse[] = []

  beforeAll(async () => {
    other = await listener('127.0.0.2', (_request, response) => response.writeHead(200).end('other'))
    server = await listener('127.0.0.1', (request, response) => {
      const url = new URL(request.url ?? '/', 'http://x')
      const to = url.searchParams.get('to')
      if (url.pathname === '/ok') return response.writeHead(200).end('fine')
      if (url.pathname === '/redirect')
        return response
          .writeHead(Number(url.searchParams.get('status') ?? 302), { location: to ?? '/ok' })
          .end()
      if (url.pathname === '/loop') {
        const n = Number(url.searchParams.get('n') ?? 0)
        return response.writeHead(302, { location: n > 0 ? `/loop?n=${n - 1}` : '/ok' }).end()
      }
      if (url.pathname === '/announced')
        return response.writeHead(200, { 'content-length': '4096' }).end('x'.repeat(4096))
      if (url.pathname === '/silent') return void held.push(response)
      if (url.pathname === '/missing') return response.writeHead(404).end('none')
      response.writeHead(500).end()
    })
  })
  afterAll(async () => {
    for (const response of held) response.destroy()
    await close(server.server)
    await close(other.server)
  })

  it('fetches from an allowed address, and answers with the body and where it came from', async () => {
    const { outbound } = client('127.0.0.1')
    const answer = await outbound.fetch(`${server.url}/ok`, GET)
    expect(answer).toMatchObject({ status: 200, url: `${server.url}/ok` })
    expect(answer.body.toString()).toBe('fine')
  })

  it('refuses every failure with one text, and logs the cause', async () => {
    const { outbound, logged } = client('127.0.0.1')
    const cases = [
      [`${server.url}/silent`, { ...GET, timeoutMs: 200 }, /no complete answer within 200 ms/],
      [`${server.url}/announced`, GET, /announced 4096 bytes, more than 1024/],
      [`${server.url}/nothing-here`, GET, /answered HTTP 500/],
      [`${server.url.replace('127.0.0.1', '127.0.0.3')}/ok`, GET, /127\.0\.0\.3, which is loopback/],
      ['file:///etc/passwd', GET, /file: URLs are not fetched/],
      ['gopher://127.0.0.1/', GET, /gopher: URLs are not fetched/],
    ] as const
    for (const [url, request, cause] of cases) {
      const error = await failure(outbound.fetch(url, request))
      expect(error.message).toBe(`the document could not be fetched from ${url}`)
      expect(error.detail).toMatch(cause)
      expect(logged.at(-1)).toMatch(cause)
    }
    const posted = await failure(
      outbound.fetch(`${server.url}/nothing-here`, { ...GET, method: 'POST', body: '{}' }),
    )
    expect(posted.message).toBe(`the document could not be sent to ${server.url}/nothing-here`)
    const told = await failure(
      outbound.fetch(`${server.url}/silent`, {
        ...GET,
        timeoutMs: 100,
        failure: 'the source could not be asked',
      }),
    )
    expect(told.message).toBe('the source could not be asked')
  })

  it('answers statuses the caller accepts (404 for "none")', async () => {
    const { outbound } = client('127.0.0.1')
    expect((await outbound.fetch(`${server.url}/missing`, { ...GET, accept: [404] })).status).toBe(404)
  })

  it('follows at most 5 redirects', async () => {
    const { outbound } = client('127.0.0.1')
    expect((await outbound.fetch(`${server.url}/loop?n=4`, GET)).url).toBe(`${server.url}/ok`)
    const error = await failure(outbound.fetch(`${server.url}/loop?n=5`, GET))
    expect(error.detail).toBe('more than 5 redirects')
  })

  it('continues a POST redirected with 303 as a GET without its body, and keeps it for 307', async () => {
    const { outbound } = client('127.0.0.1')
    const post = {
      ...GET,
      method: 'POST' as const,
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    }
    server.seen.length = 0
    await outbound.fetch(`${server.url}/redirect?status=303`, post)
    await outbound.fetch(`${server.url}/redirect?status=307`, post)
    expect(server.seen.map(({ method, url, body }) => [method, url, body])).toEqual([
      ['POST', '/redirect?status=303', '{"a":1}'],
      ['GET', '/ok', ''],
      ['POST', '/redirect?status=307', '{"a":1}'],
      ['POST', '/ok', '{"a":1}'],
    ])
  })

  it('sends credentials only to the origin they were given for', async () => {
    const { outbound } = client('127.0.0.1, 127.0.0.2')
    const request = { ...GET, headers: { authorization: 'Bearer secret' } }
    server.seen.length = 0
    other.seen.length = 0
    await outbound.fetch(`${server.url}/redirect?to=${encodeURIComponent('/ok')}`, request)
    await outbound.fetch(`${server.url}/redirect?to=${encodeURIComponent(`${other.url}/x`)}`, request)
    expect(server.seen.map((s) => s.authorization)).toEqual([
      'Bearer secret',
      'Bearer secret',
      'Bearer secret',
    ])
    expect(other.seen).toEqual([expect.not.objectContaining({ authorization: expect.anything() })])
  })

  it('checks every address a name resolves to, and connects to the checked one without asking again', async () => {
    let asked = 0
    // A rebinding resolver: an allowed address first, then a refused one. Only the first answer may be used.
    const rebinding: Resolver = async () => {
      asked += 1
      return asked === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '127.0.0.2', family: 4 }]
    }
    const { outbound } = client('127.0.0.1', rebinding)
    server.seen.length = 0
    const before = other.connections()
    const answer = await outbound.fetch(`http://registry.test:${server.port}/ok`, GET)
    expect(answer.body.toString()).toBe('fine')
    expect(asked).toBe(1)
    expect(server.seen).toEqual([expect.objectContaining({ host: `registry.test:${server.port}` })])
    expect(other.connections()).toBe(before)
  })

  it('refuses a name when any of its addresses is refused, before connecting', async () => {
    const before = other.connections()
    const mixed: Resolver = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '127.0.0.2', family: 4 },
    ]
    const { outbound } = client('', mixed)
    const error = await failure(outbound.fetch(`http://mixed.test:${other.port}/`, GET))
    expect(error.message).toBe(`the document could not be fetched from http://mixed.test:${other.port}/`)
    expect(error.detail).toBe(
      'mixed.test is 127.0.0.2, which is loopback, in 127.0.0.0/8; not allowed by outboundAllow',
    )
    const metadata: Resolver = async () => [{ address: '169.254.169.254', family: 4 }]
    expect((await failure(client('', metadata).outbound.fetch('http://metadata.test/', GET))).detail).toMatch(
      /is 169\.254\.169\.254, which is link-local/,
    )
    expect(other.connections()).toBe(before)
  })

  it('lets an allowed name reach its special addresses', async () => {
    const local: Resolver = async () => [{ address: '127.0.0.2', family: 4 }]
    const answer = await client('Registry.Internal', local).outbound.fetch(
      `http://registry.internal:${other.port}/x`,
      GET,
    )
    expect(answer.body.toString()).toBe('other')
  })

  it('refuses a setting that does not parse when the client is made', () => {
    expect(() => client('10.0.0.0/99')).toThrow(/bad prefix length/)
  })

  it('refuses numeric spellings of special addresses', async () => {
    const { outbound } = client('')
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://0/', 'http://[::ffff:7f00:1]/']) {
      expect((await failure(outbound.fetch(url, GET))).detail, url).toMatch(/which is (loopback|unspecified)/)
    }
  })
})
