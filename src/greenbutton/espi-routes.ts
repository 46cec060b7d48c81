import { randomUUID } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { authorizationResource, type ConsentService } from '../consent/consent-service.js'
import { authorizationAccess } from '../consent/rules.js'
import type { Custodian } from '../custodian.js'
import { enforce } from '../decision/enforce.js'
import { isCustodianError, notFound } from '../errors.js'
import type { AuthorizationRow, GbResourceRow } from '../store/schema.js'
import {
  applicationInformationContent,
  authorizationContent,
  entry,
  feedEnd,
  feedStart,
} from './atom-writer.js'
import { type DataWindow, dataWindow } from './data-window.js'
import { espiRouteDocs } from './espi-docs.js'
import {
  blockEntries,
  derivedUuid,
  type FeedContext,
  resourceEntry,
  resourceFeed,
  SUMMARY_KINDS,
  USAGE_SUMMARY_KINDS,
  UsagePointUris,
  usagePointTree,
  visibleResources,
} from './espi-feeds.js'
import { EspiFetchLog, fetchRows, resourceKindOf, type Served, servedReadings } from './espi-fetch-log.js'
import { type Query, queryOf } from './espi-query.js'
import { ESPI_RESOURCE_PATH } from './namespaces.js'
import {
  decideBulk,
  decideBulkToken,
  decideFunctionBlock,
  decideSubscriptionRead,
  type TokenGrant,
} from './rules.js'

/** Who the bearer token of a request speaks for. */
export type BearerGrant = (request: FastifyRequest) => Promise<TokenGrant>

const ATOM = 'application/atom+xml'

/** State of one request, for the request log. */
interface Logged extends Served {
  clientId?: string
  bytes: number
  error?: string
}
const logged = new WeakMap<FastifyRequest, Logged>()

/**
 * The ESPI resources a third party reads (seed: ADE Publication): Atom feeds and entries, streamed, limited to
 * what the token's Authorization covers. Every request is recorded in the audit log with the client's
 * address, the third party, the resource, the bytes sent and the error, if any (seed step 6).
 */
export const espiResourceRoutes: FastifyPluginAsync<{
  custodian: Custodian
  consent: ConsentService
  bearer: BearerGrant
}> = async (app, { custodian, consent, bearer }) => {
  const base = () => `${custodian.publicUrl}${ESPI_RESOURCE_PATH}`
  // Each customer's data served, for their access history; written before the store closes.
  const fetchLog = new EspiFetchLog(custodian.store.usage.fetches, {
    flushMs: custodian.config.auditFlushMs,
    now: () => custodian.now(),
    log: custodian.log,
  })
  app.addHook('onClose', () => fetchLog.flush())
  const reading = (request: FastifyRequest, rows: readonly AuthorizationRow[]) => {
    for (const row of rows) logged.get(request)?.authorizations.set(row.id, row)
  }

  const who = async (request: FastifyRequest) => {
    const grant = await bearer(request)
    const state = logged.get(request)
    if (state) state.clientId = grant.clientId
    return grant
  }

  /** The window of the Authorization behind a subscription, for the token that holds it. */
  const subscriptionWindow = async (request: FastifyRequest, subscription: string): Promise<DataWindow> => {
    const now = custodian.now()
    const decision = decideSubscriptionRead(consent.model, await who(request), subscription, now)
    enforce(decision)
    reading(request, [decision.authorization])
    return dataWindow(decision.authorization, now)
  }

  /** The window of a subscription, for a kind of resource its scope's function blocks must include. */
  const windowFor = async (request: FastifyRequest, subscription: string, kind: string) => {
    const window = await subscriptionWindow(request, subscription)
    enforce(decideFunctionBlock(consent.model, window, kind))
    return window
  }

  /** A grant's token reaches its own Authorization; client credentials all of the third party's. */
  const ownAuthorizations = async (request: FastifyRequest) => {
    const { clientId, grantId } = await who(request)
    return {
      clientId,
      rows: consent.model.authorizationsOf({ clientId }).filter((a) => !grantId || a.id === grantId),
    }
  }

  /** Every window the token reaches, among the Authorizations in force. */
  const tokenWindows = async (request: FastifyRequest): Promise<DataWindow[]> => {
    const { clientId, rows } = await ownAuthorizations(request)
    const now = custodian.now()
    const inForce = rows.filter((a) => authorizationAccess(consent.model, a.id, clientId, now).allowed)
    reading(request, inForce)
    return inForce.map((a) => dataWindow(a, now))
  }

  const context = (request: FastifyRequest) => {
    const q = queryOf(request.query as Query)
    const state = logged.get(request)
    const feed: FeedContext = {
      store: custodian.store.usage,
      base: base(),
      filter: q.filter,
      depth: q.depth,
      ...(state ? { served: (start: number, end: number) => servedReadings(state, start, end) } : {}),
    }
    return { feed, ...q }
  }

  /** Streams a feed of the entries, paged by start-index and max-results. */
  const sendFeed = (
    reply: FastifyReply,
    request: FastifyRequest,
    { startIndex, maxResults }: { startIndex: number; maxResults?: number },
    title: string,
    entries: AsyncIterable<string> | Iterable<string>,
  ) => {
    async function* feed() {
      yield feedStart({
        id: `urn:uuid:${randomUUID()}`,
        title,
        updated: custodian.now(),
        self: `${custodian.publicUrl}${request.url}`,
      })
      let index = 0
      let sent = 0
      // Entries made but not sent (paged past) leave the period served as it was.
      const state = logged.get(request)
      let period = state?.period
      for await (const text of entries) {
        const skipped = text === '' || ++index < startIndex
        if (skipped || (maxResults !== undefined && sent >= maxResults)) {
          if (state) state.period = period
          if (skipped) continue
          break
        }
        sent++
        period = state?.period
        yield text
      }
      yield feedEnd()
    }
    return reply.type(ATOM).send(Readable.from(feed()))
  }

  const sendEntry = (reply: FastifyReply, text: string | undefined, what: string) => {
    if (!text) throw notFound(`${what} is not there, or not within this authorization`)
    return reply.type(ATOM).send(text)
  }

  /** The usage point (by its resource id) within a window, with everything of it the window shows. */
  const usagePointOf = async (window: DataWindow, id: string, subscription: string) => {
    const point = await custodian.store.usage.resource(id)
    if (point?.kind !== 'UsagePoint' || !window.usagePointIds.has(point.usage_point_id))
      throw notFound(`usage point ${id} is not within subscription ${subscription}`)
    const rows = visibleResources(window, await custodian.store.usage.resources([point.usage_point_id]))
    return { point, rows, uris: new UsagePointUris(base(), `${base()}/Subscription/${subscription}`, id) }
  }

  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request) => {
      logged.set(request, { bytes: 0, authorizations: new Map() })
    })
    // Bytes are counted as they leave, streamed or not.
    scope.addHook('onSend', async (request, _reply, payload) => {
      const state = logged.get(request)
      if (!state) return payload
      if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
        state.bytes += Buffer.byteLength(payload)
        return payload
      }
      if (payload instanceof Readable) {
        const counted = new PassThrough()
        counted.on('data', (chunk: Buffer) => {
          state.bytes += chunk.length
        })
        payload.on('error', (error) => counted.destroy(error))
        return payload.pipe(counted)
      }
      return payload
    })
    scope.addHook('onResponse', async (request, reply) => {
      const state = logged.get(request)
      const failed = reply.statusCode >= 400
      custodian.audit({
        actor: state?.clientId ?? 'anonymous',
        action: 'espi.request',
        resource: `${request.method} ${request.url}`,
        outcome: failed ? `http ${reply.statusCode}` : 'ok',
        reason: JSON.stringify({
          address: request.ip,
          bytes: state?.bytes ?? 0,
          status: reply.statusCode,
          ...(failed ? { error: state?.error ?? 'refused' } : {}),
        }),
      })
      if (state?.clientId && !failed) {
        const kind = resourceKindOf(request.routeOptions.url ?? '')
        fetchLog.add(fetchRows(state, state.clientId, kind, state.bytes, custodian.now()))
      }
    })
    scope.addHook('onError', async (request, _reply, error) => {
      const state = logged.get(request)
      if (state) state.error = isCustodianError(error) ? error.message : 'internal error'
    })

    // Each route's OpenAPI description (espi-docs.ts).
    const {
      batch,
      batchPoint,
      bulk,
      points,
      point,
      feedOf,
      entryOf,
      blocks,
      block,
      shared,
      sharedFeed,
      auths,
      auth,
      appInfo,
      appInfos,
    } = espiRouteDocs
    type P = Record<string, string>

    scope.get(`${ESPI_RESOURCE_PATH}/Batch/Subscription/:sub`, batch, async (request, reply) => {
      const { sub } = request.params as P
      const window = await subscriptionWindow(request, sub as string)
      const { feed, ...page } = context(request)
      const subscription = `${base()}/Subscription/${sub}`
      async function* all() {
        for (const id of window.usagePointIds) yield* usagePointTree(feed, window, subscription, id)
      }
      return sendFeed(reply, request, page, 'Green Button Subscription Feed', all())
    })

    scope.get(
      `${ESPI_RESOURCE_PATH}/Batch/Subscription/:sub/UsagePoint/:up`,
      batchPoint,
      async (request, reply) => {
        const { sub, up } = request.params as P
        const window = await subscriptionWindow(request, sub as string)
        const { point } = await usagePointOf(window, up as string, sub as string)
        const { feed, ...page } = context(request)
        return sendFeed(
          reply,
          request,
          page,
          'Green Button Usage Point Feed',
          usagePointTree(feed, window, `${base()}/Subscription/${sub}`, point.usage_point_id),
        )
      },
    )

    scope.get(`${ESPI_RESOURCE_PATH}/Batch/Bulk/:id`, bulk, async (request, reply) => {
      const { id } = request.params as P
      const grant = await who(request)
      enforce(decideBulkToken(consent.model, grant))
      enforce(decideBulk(consent.model, grant.clientId, id as string), { as: 'not-found' })
      const windows = await tokenWindows(request)
      const { feed, ...page } = context(request)
      async function* all() {
        for (const window of windows) {
          const subscription = `${base()}/Subscription/${window.authorization.subscription_id}`
          for (const up of window.usagePointIds) yield* usagePointTree(feed, window, subscription, up)
        }
      }
      return sendFeed(reply, request, page, 'Green Button Bulk Feed', all())
    })

    scope.get(`${ESPI_RESOURCE_PATH}/Subscription/:sub/UsagePoint`, points, async (request, reply) => {
      const { sub } = request.params as P
      const window = await subscriptionWindow(request, sub as string)
      const { feed, ...page } = context(request)
      async function* points() {
        for (const id of window.usagePointIds) {
          yield* usagePointTree({ ...feed, depth: 1 }, window, `${base()}/Subscription/${sub}`, id)
        }
      }
      return sendFeed(reply, request, page, 'UsagePoint', points())
    })

    scope.get(`${ESPI_RESOURCE_PATH}/Subscription/:sub/UsagePoint/:up`, point, async (request, reply) => {
      const { sub, up } = request.params as P
      const window = await subscriptionWindow(request, sub as string)
      const { point, uris } = await usagePointOf(window, up as string, sub as string)
      return sendEntry(reply, resourceEntry(point, uris, true), `usage point ${up}`)
    })

    // MeterReading and the summaries: a feed of one kind under a usage point, or one of them. The usage
    // summaries answer under either name; their links name ElectricPowerUsageSummary.
    for (const kind of ['MeterReading', ...SUMMARY_KINDS]) {
      const kinds = USAGE_SUMMARY_KINDS.includes(kind) ? USAGE_SUMMARY_KINDS : [kind]
      scope.get(
        `${ESPI_RESOURCE_PATH}/Subscription/:sub/UsagePoint/:up/${kind}`,
        feedOf(kind),
        async (request, reply) => {
          const { sub, up } = request.params as P
          const window = await windowFor(request, sub as string, kind)
          const { rows, uris } = await usagePointOf(window, up as string, sub as string)
          const { feed, ...page } = context(request)
          const of = rows.filter((r) => kinds.includes(r.kind))
          return sendFeed(reply, request, page, kind, resourceFeed(feed, of, uris))
        },
      )
      scope.get(
        `${ESPI_RESOURCE_PATH}/Subscription/:sub/UsagePoint/:up/${kind}/:id`,
        entryOf(kind),
        async (request, reply) => {
          const { sub, up, id } = request.params as P
          const window = await windowFor(request, sub as string, kind)
          const { rows, uris } = await usagePointOf(window, up as string, sub as string)
          const row = rows.find((r) => r.id === id && kinds.includes(r.kind))
          return sendEntry(reply, row && resourceEntry(row, uris, true), `${kind} ${id}`)
        },
      )
    }

    const meterReadingOf = async (request: FastifyRequest) => {
      const { sub, up, mr } = request.params as P
      const window = await windowFor(request, sub as string, 'IntervalBlock')
      const { rows, uris } = await usagePointOf(window, up as string, sub as string)
      const meterReading = rows.find((r) => r.id === mr && r.kind === 'MeterReading')
      if (!meterReading) throw notFound(`meter reading ${mr} is not within this authorization`)
      return { window, uris, meterReading }
    }
    const blocksPath = `${ESPI_RESOURCE_PATH}/Subscription/:sub/UsagePoint/:up/MeterReading/:mr/IntervalBlock`
    scope.get(blocksPath, blocks, async (request, reply) => {
      const { window, uris, meterReading } = await meterReadingOf(request)
      const { feed, ...page } = context(request)
      return sendFeed(reply, request, page, 'IntervalBlock', blockEntries(feed, window, meterReading, uris))
    })
    scope.get(`${blocksPath}/:start`, block, async (request, reply) => {
      const { start } = request.params as P
      if (!/^-?\d{1,12}$/.test(start ?? '')) throw notFound(`interval block ${start} does not exist`)
      const { window, uris, meterReading } = await meterReadingOf(request)
      const { feed } = context(request)
      let found: string | undefined
      for await (const text of blockEntries(feed, window, meterReading, uris, Number(start), true))
        found = text
      return sendEntry(reply, found, `interval block ${start}`)
    })

    // Shared resources, reached through any usage point the token can see: all of them, or one.
    for (const kind of ['ReadingType', 'LocalTimeParameters']) {
      scope.get(`${ESPI_RESOURCE_PATH}/${kind}`, sharedFeed(kind), async (request, reply) => {
        const usagePoints = new Set((await tokenWindows(request)).flatMap((w) => [...w.usagePointIds]))
        const rows = await custodian.store.usage.resources([...usagePoints])
        const ofKind = [...new Map(rows.filter((r) => r.kind === kind).map((r) => [r.id, r])).values()]
        const { feed, ...page } = context(request)
        // Shared resources are placed under the resource root, whatever the subscription.
        return sendFeed(
          reply,
          request,
          page,
          kind,
          resourceFeed(feed, ofKind, new UsagePointUris(base(), '', '')),
        )
      })
      scope.get(`${ESPI_RESOURCE_PATH}/${kind}/:id`, shared(kind), async (request, reply) => {
        const { id } = request.params as P
        const windows = await tokenWindows(request)
        const row: GbResourceRow | undefined = await custodian.store.usage.resource(id as string)
        const window = windows.find((w) => row && w.usagePointIds.has(row.usage_point_id))
        if (!row || row.kind !== kind || !window)
          throw notFound(`${kind} ${id} is not within this authorization`)
        const uris = new UsagePointUris(
          base(),
          `${base()}/Subscription/${window.authorization.subscription_id}`,
          '',
        )
        return sendEntry(reply, resourceEntry(row, uris, true), `${kind} ${id}`)
      })
    }

    const authorizationEntry = (row: AuthorizationRow, standalone: boolean) => {
      const resource = authorizationResource(row, custodian.publicUrl, custodian.now())
      return entry(
        {
          id: `urn:uuid:${derivedUuid(`Authorization/${row.id}`)}`,
          self: resource.authorizationURI,
          up: `${base()}/Authorization`,
          title: 'Authorization',
          published: Date.parse(row.created_at),
          updated: Date.parse(row.updated_at),
          content: authorizationContent({
            authorizedPeriod: resource.authorizedPeriod,
            // Access lasts until the end of the period, a termination's included: ESPI has no code for an
            // Authorization that is ending, so it stays Active (1) until then.
            status: custodian.now() < Date.parse(row.period_end) ? 'active' : resource.status,
            grantType: 'authorization_code',
            scope: row.scope,
            resourceURI: resource.resourceURI,
            authorizationURI: resource.authorizationURI,
          }),
        },
        standalone,
      )
    }
    scope.get(`${ESPI_RESOURCE_PATH}/Authorization`, auths, async (request, reply) => {
      const { rows } = await ownAuthorizations(request)
      return sendFeed(
        reply,
        request,
        context(request),
        'Authorization',
        rows.map((row) => authorizationEntry(row, false)),
      )
    })
    scope.get(`${ESPI_RESOURCE_PATH}/Authorization/:id`, auth, async (request, reply) => {
      const { id } = request.params as P
      const row = (await ownAuthorizations(request)).rows.find((a) => a.id === id)
      return sendEntry(reply, row && authorizationEntry(row, true), `authorization ${id}`)
    })

    /** The third party's own registration, as ESPI's ApplicationInformation. */
    const applicationEntry = (clientId: string, standalone: boolean) => {
      const party = consent.model.thirdParties.get(clientId)
      if (!party) return undefined
      const self = `${base()}/ApplicationInformation/${clientId}`
      const oauth = `${custodian.publicUrl}/oauth`
      return entry(
        {
          id: `urn:uuid:${derivedUuid(`ApplicationInformation/${clientId}`)}`,
          self,
          up: `${base()}/ApplicationInformation`,
          title: party.name,
          published: Date.parse(party.created_at),
          updated: Date.parse(party.updated_at),
          content: applicationInformationContent({
            clientId,
            name: party.name,
            description: party.description,
            notifyUri: party.notify_uri,
            redirectUris: JSON.parse(party.redirect_uris) as string[],
            scope: [party.scope],
            ...(party.scope_selection_uri
              ? { thirdPartyScopeSelectionScreenURI: party.scope_selection_uri }
              : {}),
            standing: party.standing,
            dataCustodianId: new URL(custodian.publicUrl).host,
            dataCustodianBulkRequestURI: `${base()}/Batch/Bulk`,
            dataCustodianResourceEndpoint: base(),
            authorizationServerAuthorizationEndpoint: `${oauth}/auth`,
            authorizationServerTokenEndpoint: `${oauth}/token`,
            registrationClientUri: self,
            clientIdIssuedAt: Math.floor(Date.parse(party.created_at) / 1000),
          }),
        },
        standalone,
      )
    }
    scope.get(`${ESPI_RESOURCE_PATH}/ApplicationInformation`, appInfos, async (request, reply) => {
      const { clientId } = await who(request)
      const own = applicationEntry(clientId, false)
      return sendFeed(reply, request, context(request), 'ApplicationInformation', own ? [own] : [])
    })
    scope.get(`${ESPI_RESOURCE_PATH}/ApplicationInformation/:id`, appInfo, async (request, reply) => {
      const { id } = request.params as P
      const { clientId } = await who(request)
      const own = id === clientId ? applicationEntry(clientId, true) : undefined
      if (!own) throw notFound(`application ${id} is not this third party's`)
      return sendEntry(reply, own, `application ${id}`)
    })
  })
}
