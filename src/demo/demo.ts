import { createHash, randomBytes } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { ConsentService } from '../consent/consent-service.js'
import { accessEnds } from '../consent/end-of-access.js'
import { type EspiEntry, readEspi } from '../greenbutton/espi-reader.js'
import { UsageDataService } from '../greenbutton/usage-data-service.js'
import type { Node } from '../kernel/node.js'
import { html, type Markup, page, pageHeaders } from '../web/html.js'
import { dailyUse, usageChart } from './demo-chart.js'
import { demoDocs } from './demo-docs.js'
import { demoReadingsCsv } from './demo-readings.js'

/**
 * `custodian demo`: a utility with two customers and their meters, and a sample third party whose own site
 * is served here under /demo/third-party, so a person can walk the whole consent flow in a browser.
 * Nothing here is used outside the demo.
 */
export const DEMO_CUSTOMERS = [
  {
    username: 'alice',
    name: 'Alice Demo',
    email: 'alice@demo.invalid',
    password: 'alice-demo-password',
    meters: ['Home, electricity', 'Home, gas'],
  },
  {
    username: 'bob',
    name: 'Bob Demo',
    email: 'bob@demo.invalid',
    password: 'bob-demo-password',
    meters: ['Flat 2, electricity'],
  },
] as const

export const DEMO_CLIENT_ID = 'demo-third-party'
const DEMO_SCOPE = 'FB=1_4_5_15;IntervalDuration=900_3600;BlockDuration=monthly;HistoryLength=13'

export interface DemoThirdParty {
  clientId: string
  clientSecret: string
}

/**
 * Seeds the demo utility (once), publishes the last DEMO_DAYS of hourly readings for its meters (every start:
 * the same hours get the same values), and registers the sample third party with a fresh secret.
 */
export async function seedDemo(custodian: Node, consent: ConsentService): Promise<DemoThirdParty> {
  const { token } = await custodian.serviceSession('demo-seeder', 'Demo data loader')
  for (const c of DEMO_CUSTOMERS) {
    if (custodian.consent.customerOfUser(c.username)) continue
    await consent.createCustomer(token, {
      username: c.username,
      name: c.name,
      email: c.email,
      accountNumber: `DEMO-${c.username}`,
      password: c.password,
    })
    for (const description of c.meters) {
      await consent.createUsagePoint(token, {
        customer: c.username,
        description,
        kind: description.endsWith('gas') ? 'gas' : 'electricity',
      })
    }
  }
  const usagePoints = DEMO_CUSTOMERS.flatMap((c) => {
    const customer = custodian.consent.customerOfUser(c.username)
    return customer ? custodian.consent.usagePointsOf(customer.id).map((p) => p.id) : []
  })
  const csv = demoReadingsCsv(usagePoints, custodian.now())
  await new UsageDataService(custodian).import(token, {
    name: 'demo-readings.csv',
    format: 'csv',
    chunks: (async function* () {
      yield csv
    })(),
    mapping: {},
  })
  // A new client id per start keeps the secret, which is shown nowhere, in this process only.
  const clientId = `${DEMO_CLIENT_ID}-${randomBytes(3).toString('hex')}`
  const party = await consent.registerThirdParty(token, {
    clientId,
    name: 'Demo Energy Advisor',
    description: 'A sample third party, served by this demo at /demo/third-party',
    redirectUris: [`${custodian.publicUrl}/demo/third-party/callback`],
    notifyUri: `${custodian.publicUrl}/demo/third-party/notify`,
    scope: DEMO_SCOPE,
    scopeSelectionUri: `${custodian.publicUrl}/demo/third-party/connect`,
  })
  await custodian.logout(token)
  return { clientId: party.clientId, clientSecret: party.clientSecret }
}

/** The interval readings of a feed's IntervalBlock entries. */
const intervalReadings = (entries: readonly EspiEntry[]) =>
  entries.flatMap((e) =>
    e.content.kind === 'IntervalBlock' && 'readings' in e.content
      ? e.content.readings.map((r) => ({ start: r.start, value: r.value }))
      : [],
  )

/** The sample third party's own pages: a "connect" button, the OAuth callback, and its notify endpoint. */
export const demoThirdPartyRoutes: FastifyPluginAsync<{
  custodian: Node
  partyOf: () => DemoThirdParty | undefined
}> = async (app, { custodian, partyOf }) => {
  const pending = new Map<string, { verifier: string; at: number }>()
  const notifications: string[] = []
  const base = () => custodian.publicUrl
  const send = (reply: FastifyReply, title: string, body: Markup, status = 200) =>
    reply.code(status).headers(pageHeaders).send(page(title, body))
  const party = () => {
    const p = partyOf()
    if (!p) throw new Error('the demo third party is registered once the server listens')
    return p
  }

  // Demo pages of a pretend third party: public by nature, and never mounted outside `custodian demo`.
  app.get('/demo/third-party', demoDocs.home, async (_request, reply) =>
    send(
      reply,
      'Demo Energy Advisor',
      html`<p>This page stands for a third party's web site. It asks your utility (this Custodian) for your energy data.</p>
<p>Sign in at the utility as <code>alice</code> / <code>alice-demo-password</code> (or <code>bob</code> / <code>bob-demo-password</code>).</p>
<form method="post" action="/demo/third-party/start"><button type="submit">Connect my utility account</button></form>
<p>Notifications received from the utility: ${notifications.length}</p>`,
    ),
  )
  app.get('/demo/third-party/callback', demoDocs.callback, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    const flow = query.state ? pending.get(query.state) : undefined
    if (query.error || !query.code || !flow) {
      return send(
        reply,
        'Not connected',
        html`<p>The utility answered: ${query.error ?? 'no code'} ${query.error_description ?? ''}</p><p><a href="/demo/third-party">Back</a></p>`,
        400,
      )
    }
    pending.delete(query.state as string)
    const basic = Buffer.from(
      `${encodeURIComponent(party().clientId)}:${encodeURIComponent(party().clientSecret)}`,
    ).toString('base64')
    const exchange = await fetch(`${base()}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: query.code,
        redirect_uri: `${base()}/demo/third-party/callback`,
        code_verifier: flow.verifier,
      }),
    })
    const tokens = (await exchange.json()) as {
      access_token?: string
      scope?: string
      error_description?: string
    }
    if (!tokens.access_token)
      return send(
        reply,
        'Not connected',
        html`<p>${tokens.error_description ?? 'The token exchange failed.'}</p>`,
        502,
      )
    const seen = await fetch(`${base()}/espi/1_1/resource/Authorization`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    // What the third party learns: the Authorization entries (Atom), read as any Green Button client would.
    const { entries } = await readEspi([await seen.text()])
    const items = entries.map((e) => {
      const fields = (e.content as { fields?: Record<string, unknown> }).fields ?? {}
      const period = fields.authorizedPeriod as { start: number; duration: number }
      return {
        id: e.self?.split('/').at(-1) ?? '',
        scope: String(fields.scope),
        status: fields.status === 1 ? 'active' : 'ended',
        // In the words the customer's pages and emails use for the same end (consent/end-of-access.ts).
        ends: accessEnds(new Date((period.start + period.duration) * 1000).toISOString(), 'en-GB'),
        resource: String(fields.resourceURI),
      }
    })
    // What a third party is there for: the customer's usage, read from the Batch/Subscription resource.
    const readings: { start: number; value: number }[] = []
    for (const a of items.filter((i) => i.status === 'active')) {
      const batch = await fetch(a.resource, { headers: { authorization: `Bearer ${tokens.access_token}` } })
      if (batch.ok) readings.push(...intervalReadings((await readEspi([await batch.text()])).entries))
    }
    const days = dailyUse(readings)
    return send(
      reply,
      'Connected',
      html`<p>Demo Energy Advisor now holds an access token for your data. This is all it knows about you: opaque ids, no name, no email.</p>
${items.map((a) => html`<p>Authorization <code>${a.id}</code>, ${a.status}, scope <code>${a.scope}</code>, ${a.ends}.</p>`)}
<h2>Your electricity use</h2>
${
  days.length === 0
    ? html`<p>Your utility has published no readings within this authorization yet.</p>`
    : html`<p>${readings.length} hourly readings received, ${days[0]?.day} to ${days.at(-1)?.day}, in total ${(readings.reduce((sum, r) => sum + r.value, 0) / 1000).toFixed(1)} kWh.</p>${usageChart(days)}`
}
<p>Change or end it on your utility's <a href="/account/access">3rd Party Access</a> page; the email the utility sent you is in the mailbox folder.</p>`,
    )
  })
  /** Starts the code flow with PKCE, as a third party's site does. */
  const begin = (reply: FastifyReply) => {
    const state = randomBytes(16).toString('base64url')
    const verifier = randomBytes(32).toString('base64url')
    pending.set(state, { verifier, at: Date.now() })
    for (const [key, value] of pending) if (Date.now() - value.at > 15 * 60_000) pending.delete(key)
    const url = new URL(`${base()}/oauth/auth`)
    url.search = new URLSearchParams({
      client_id: party().clientId,
      response_type: 'code',
      redirect_uri: `${base()}/demo/third-party/callback`,
      scope: 'FB=4_5;IntervalDuration=3600',
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString()
    return reply.redirect(url.href, 303)
  }
  // A customer sent on from the utility's 3rd Party Access page lands here (ESPI scope selection screen).
  app.get('/demo/third-party/connect', demoDocs.connect, async (_request, reply) => begin(reply))
  await app.register(async (scope) => {
    // The button's form has no fields; it only starts the flow.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, _body, done) => done(null, {}),
    )
    scope.post('/demo/third-party/start', demoDocs.start, async (_request, reply) => begin(reply))
    scope.addContentTypeParser('application/xml', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    )
    scope.post('/demo/third-party/notify', demoDocs.notify, async (request, reply) => {
      notifications.push(String(request.body ?? ''))
      return reply.code(202).send()
    })
  })
}
