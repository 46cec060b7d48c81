import { Readable } from 'node:stream'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { authorizationAccess } from '../consent/rules.js'
import { describeScopeText, meterLabel, scopeSentence } from '../consent/scope-wording.js'
import { isCustodianError } from '../errors.js'
import { dataWindow } from '../greenbutton/data-window.js'
import { visibleResources } from '../greenbutton/espi-feeds.js'
import { ESPI_RESOURCE_PATH } from '../greenbutton/namespaces.js'
import type { Node } from '../kernel/node.js'
import { documented, empty, htmlBody } from '../openapi/route-docs.js'
import type { EspiFetchRow } from '../store/espi-fetch-row.js'
import type { AuthorizationRow, CustomerRow } from '../store/schema.js'
import {
  downloadRequest,
  downloadWindow,
  MAX_DOWNLOAD_DAYS,
  myDataCsv,
  myDataXml,
} from './account-data-export.js'
import { dayOf, kindLabel, periodLabel, sizeLabel, timeLabel } from './account-data-view.js'
import type { AccountSession } from './account-session.js'
import { html, type Markup } from './html.js'

export interface AccountDataOptions {
  custodian: Node
  session: (request: FastifyRequest) => AccountSession | undefined
  signIn: (error?: string) => Markup
  /** The account pages' own page: the utility's look and who is signed in. */
  send: (
    reply: FastifyReply,
    title: string,
    body: Markup,
    status?: number,
    who?: AccountSession,
  ) => FastifyReply
}

/** The fetches shown: the newest, across every third party. */
const HISTORY_ROWS = 500
const DAY_MS = 86_400_000

const tags = ['pages']
const docs = {
  data: documented({
    summary:
      'Your data: what each third party can see now, what each fetched and when (access history), and Green Button Download My Data',
    tags,
    response: { 200: htmlBody('The page, or the sign-in form without a session') },
  }),
  download: documented({
    summary:
      'Green Button Download My Data: the signed-in customer’s own usage for a period, as an ESPI Atom feed (the one third parties get) or CSV',
    tags,
    querystring: {
      type: 'object',
      properties: {
        format: { type: 'string', enum: ['xml', 'csv'], default: 'xml' },
        from: { type: 'string', format: 'date', description: 'The first day (UTC)' },
        to: {
          type: 'string',
          format: 'date',
          description: `The last day (UTC), at most ${MAX_DOWNLOAD_DAYS} days on`,
        },
      },
    },
    response: {
      200: {
        description: 'The file (Content-Disposition: attachment)',
        content: {
          'application/atom+xml': { schema: Type.String() },
          'text/csv': { schema: Type.String() },
        },
      },
      400: htmlBody('A bad date or format, or too long a period: a page naming it'),
      401: htmlBody('Not signed in: the sign-in form'),
      403: empty('The signed-in user is not a customer'),
    },
  }),
}

/**
 * The customer's own data (issue 17): what each third party can see now, its access history from the ESPI
 * fetch log, and Download My Data. Authenticated by the account pages' session; a customer only ever sees
 * their own rows (the fetch log is read by their customer id).
 */
export const accountDataRoutes: FastifyPluginAsync<AccountDataOptions> = async (
  app,
  { custodian, session, signIn, send },
) => {
  const store = custodian.store.usage
  const nameOf = (clientId: string) => custodian.consent.thirdParties.get(clientId)?.name ?? clientId

  /** What one Authorization lets its third party see right now, and the earliest published reading in it. */
  const seenNow = async (row: AuthorizationRow) => {
    const window = dataWindow(row, custodian.now())
    const meterReadings = visibleResources(window, await store.resources([...window.usagePointIds])).filter(
      (r) => r.kind === 'MeterReading' && window.functionBlocks.has(4),
    )
    let earliest: number | undefined
    for (const mr of meterReadings) {
      const [first] = await store.readings(mr.id, window.from, window.to, 1)
      if (first && (earliest === undefined || first.start < earliest)) earliest = first.start
    }
    const meters = [...window.usagePointIds].flatMap((id) => {
      const point = custodian.consent.usagePoints.get(id)
      return point ? [meterLabel(point)] : []
    })
    const since = window.from === Number.MIN_SAFE_INTEGER ? 'from any time' : `from ${dayOf(window.from)}`
    return html`<section aria-labelledby="now-${row.id}"><h3 id="now-${row.id}">${nameOf(row.client_id)}</h3>
<p>Meters: ${meters.join('; ')}. ${scopeSentence(describeScopeText(row.scope))} Readings ${since} up to and including ${dayOf(window.to - 1)}.</p>
<p>${
      earliest === undefined
        ? 'None of your published readings falls within this, so it sees no readings yet.'
        : `It can see your readings from ${dayOf(earliest)} on.`
    }</p></section>`
  }

  const history = (rows: readonly EspiFetchRow[]) => {
    const byParty = new Map<string, EspiFetchRow[]>()
    for (const row of rows) byParty.set(row.client_id, [...(byParty.get(row.client_id) ?? []), row])
    if (byParty.size === 0) return html`<p>No third party has fetched your data yet.</p>`
    return [...byParty].map(
      ([clientId, fetches]) => html`<table><caption>${nameOf(clientId)}</caption>
<thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Readings covered</th><th scope="col">Size</th></tr></thead>
<tbody>${fetches.map((f) => html`<tr><td>${timeLabel(f.at)}</td><td>${kindLabel(f.kind)}</td><td>${periodLabel(f.period_start, f.period_end)}</td><td>${sizeLabel(f.bytes)}</td></tr>`)}</tbody></table>`,
    )
  }

  const dataPage = async (customer: CustomerRow) => {
    const now = custodian.now()
    const inForce = custodian.consent
      .authorizationsOf({ customerId: customer.id })
      .filter((a) => authorizationAccess(custodian.consent, a.id, a.client_id, now).allowed)
    const today = dayOf(now / 1000)
    const twoWeeksAgo = dayOf((now - 13 * DAY_MS) / 1000)
    return html`<p>Signed in as ${customer.name}. <a href="/account/access">3rd Party Access</a></p>
<section aria-labelledby="h-now"><h2 id="h-now">What each third party can see now</h2>
${inForce.length === 0 ? html`<p>No third party can see your data now.</p>` : await Promise.all(inForce.map(seenNow))}
</section>
<section aria-labelledby="h-history"><h2 id="h-history">Access history</h2>
<p>Each time a third party fetched your data: when, what, the days its readings cover, and how much (times in UTC).</p>
${history(await store.fetches.ofCustomer(customer.id, HISTORY_ROWS))}
</section>
<section aria-labelledby="h-download"><h2 id="h-download">Download My Data</h2>
<p>Your own usage as a Green Button file, the same data third parties receive (days in UTC, up to ${MAX_DOWNLOAD_DAYS} days).</p>
<form method="get" action="/account/download">
<label for="dl-from">From</label><input type="date" id="dl-from" name="from" value="${twoWeeksAgo}" max="${today}" required>
<label for="dl-to">To (included)</label><input type="date" id="dl-to" name="to" value="${today}" required>
<fieldset><legend>Format</legend>
<div><input type="radio" id="dl-xml" name="format" value="xml" checked><label for="dl-xml" style="display:inline">Green Button XML</label></div>
<div><input type="radio" id="dl-csv" name="format" value="csv"><label for="dl-csv" style="display:inline">CSV (spreadsheet)</label></div>
</fieldset>
<button type="submit">Download</button>
</form></section>`
  }

  /** The signed-in customer, or the page that says why there is none. */
  const customerOf = (request: FastifyRequest, reply: FastifyReply) => {
    const s = session(request)
    if (!s) send(reply, 'Sign in to your account', signIn(), 401)
    else if (!s.customer) reply.code(403).send()
    return s?.customer ? { ...s, customer: s.customer } : undefined
  }

  // Authenticated by the account session cookie (or the sign-in form), as the other account pages.
  app.get('/account/data', docs.data, async (request, reply) => {
    const s = customerOf(request, reply)
    if (!s) return reply
    return send(reply, 'Your data', await dataPage(s.customer), 200, s)
  })

  app.get('/account/download', docs.download, async (request, reply) => {
    const s = customerOf(request, reply)
    if (!s) return reply
    let asked: ReturnType<typeof downloadRequest>
    try {
      asked = downloadRequest(request.query as Record<string, unknown>)
    } catch (error) {
      if (!isCustodianError(error)) throw error
      return send(
        reply,
        'Download My Data',
        html`<p class="error" role="alert">${error.message}</p><p><a href="/account/data">Back to your data</a></p>`,
        400,
        s,
      )
    }
    const points = custodian.consent.usagePointsOf(s.customer.id).map((p) => p.id)
    const window = downloadWindow(points, asked.from, asked.to)
    custodian.audit({
      actor: s.userId,
      action: 'account.download',
      resource: `${asked.fromDay}..${asked.toDay}`,
      outcome: 'ok',
      reason: asked.format,
    })
    const base = `${custodian.publicUrl}${ESPI_RESOURCE_PATH}`
    const body =
      asked.format === 'csv'
        ? myDataCsv(store, window)
        : myDataXml(store, base, s.customer.id, window, custodian.now())
    return reply
      .headers({
        'content-type': asked.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/atom+xml',
        'content-disposition': `attachment; filename="my-energy-data-${asked.fromDay}-${asked.toDay}.${asked.format}"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      })
      .send(Readable.from(body))
  })
}
