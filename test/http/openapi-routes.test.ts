import type { FastifyInstance, FastifyServerOptions, RouteOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * /openapi.json describes every route the server answers. Every Fastify instance the app makes is watched
 * with an onRoute hook (added before any route is), so a route registered anywhere, in any plugin, is seen.
 */
const registered = vi.hoisted(() => [] as { method: string; url: string }[])
vi.mock('fastify', async (importOriginal) => {
  const original = await importOriginal<typeof import('fastify')>()
  const watched = (options?: FastifyServerOptions) => {
    const app = original.default(options)
    app.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) registered.push({ method, url: route.url })
    })
    return app
  }
  return { ...original, default: watched }
})

/**
 * The API explorer's own routes (@fastify/swagger-ui at /docs: its page, assets and a copy of this document)
 * show the document rather than belong to it, and the library hides them from it.
 */
const explorer = (url: string) => url === '/docs' || url.startsWith('/docs/')

/** Fastify's `/a/:id` is OpenAPI's `/a/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

describe('the OpenAPI document', () => {
  const temp = tempSqlite()
  let custodian: Custodian
  let app: FastifyInstance
  let paths: Record<string, Record<string, unknown>>

  beforeAll(async () => {
    custodian = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    // The demo third party's pages are registered only with `custodian demo`: ask for them too.
    app = (await buildApp(custodian, {
      logger: createLogger('silent'),
      demo: () => undefined,
    })) as unknown as FastifyInstance
    await app.ready()
    const response = await app.inject({ method: 'GET', url: '/openapi.json' })
    expect(response.statusCode).toBe(200)
    paths = (response.json() as { paths: typeof paths }).paths
  })
  afterAll(async () => {
    await app?.close()
    await custodian?.close()
    temp.remove()
  })

  it('describes every route the server registers', () => {
    // HEAD routes are the ones Fastify adds for each GET (exposeHeadRoutes): the GET describes them.
    const routes = registered.filter((r) => r.method !== 'HEAD' && !explorer(r.url))
    expect(routes.length).toBeGreaterThan(100)
    const missing = routes
      .filter((r) => !r.url.endsWith('*'))
      .filter((r) => paths[openApiPath(r.url)]?.[r.method.toLowerCase()] === undefined)
      .map((r) => `${r.method} ${r.url}`)
    expect(missing).toEqual([])
  })

  it('describes the endpoints behind each wildcard mount, which OpenAPI cannot name', () => {
    // A wildcard (oidc-provider's mount under /oauth) forwards paths the library serves; the document
    // names those paths one by one, so each mount must have documented paths beneath it.
    const wildcards = registered.filter((r) => r.url.endsWith('*') && !explorer(r.url))
    const mounts = [...new Set(wildcards.map((r) => r.url.slice(0, -1)))]
    expect(mounts).toEqual(['/oauth/'])
    for (const mount of mounts)
      expect(
        Object.keys(paths).filter((path) => path.startsWith(mount)),
        mount,
      ).not.toEqual([])
  })
  it('says how the protocol surfaces authenticate and what they answer', () => {
    type Operation = {
      parameters?: { name: string }[]
      security?: Record<string, unknown>[]
      responses: Record<string, { content?: Record<string, unknown> }>
    }
    const get = (path: string) => paths[path]?.get as Operation
    const espi = Object.keys(paths).filter((path) => path.startsWith('/espi/1_1/resource/'))
    expect(espi).toHaveLength(23)
    for (const path of espi) {
      expect(get(path).security, path).toEqual([{ espiOAuth: [] }])
      expect(Object.keys(get(path).responses['200']?.content ?? {}), path).toEqual(['application/atom+xml'])
      expect(Object.keys(get(path).responses['404']?.content ?? {}), path).toEqual([
        'application/problem+json',
      ])
    }
    const feed = get('/espi/1_1/resource/Subscription/{sub}/UsagePoint')
    expect(feed.parameters?.map((p) => p.name)).toEqual([
      'published-min',
      'published-max',
      'updated-min',
      'updated-max',
      'start-index',
      'max-results',
      'depth',
      'sub',
    ])
    for (const page of ['/account/access', '/third-parties', '/interaction/{uid}', '/demo/third-party'])
      expect(Object.keys(get(page).responses['200']?.content ?? {}), page).toEqual(['text/html'])
    for (const endpoint of ['/oauth/token', '/oauth/token/revocation', '/oauth/token/introspection'])
      expect(paths[endpoint]?.post, endpoint).toBeDefined()
    expect(get('/oauth/auth')).toBeDefined()
    expect(get('/health').security).toBeUndefined()
    expect(get('/').security, 'the start page is public').toBeUndefined()
    expect(Object.keys(get('/').responses['200']?.content ?? {})).toEqual(['text/html'])
    expect(get('/metrics').security).toEqual([{ metricsToken: [] }])
  })
})
