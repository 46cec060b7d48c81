import * as querystring from 'node:querystring'
import type { FastifyPluginAsync } from 'fastify'
import type { Custodian } from '../custodian.js'
import { ADMINISTRATION, ADMINISTRATIVE_PERMISSIONS } from '../entitlements/permissions.js'
import { html } from '../web/html.js'
import { auditPages } from './audit-pages.js'
import { catalogPages } from './catalog-pages.js'
import { consentPages } from './consent-pages.js'
import { customerPages } from './customer-pages.js'
import { entitlementPages } from './entitlement-pages.js'
import { consoleFrame } from './frame.js'
import { homePages } from './home-pages.js'
import { outboxPages } from './outbox-pages.js'
import { publicationPages } from './publication-pages.js'
import { resourcePages } from './resource-pages.js'
import { rolePages } from './role-pages.js'
import { trustPages } from './trust-pages.js'

/**
 * The administrator's console at /console: server-rendered pages over the operations the API exposes. Its
 * routes authenticate by the console's own session cookie (frame.ts), not by a bearer token, so the API's
 * bearer rule does not apply to them; each page and form checks the session, its area and (forms) the CSRF
 * token, and every action is an operation, checked and audited as the API's.
 */
export const consoleRoutes: FastifyPluginAsync<{ custodian: Custodian }> = async (app, { custodian }) => {
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => done(null, querystring.parse(body as string)),
    )
    const routes = await consoleFrame(scope, custodian)
    routes.page('/console', 'overview', 'The console overview: what the administrator may do', async (c) => ({
      title: 'Overview',
      body: html`<p>You hold ${c.areas.length === 0 ? 'no administrative permission' : 'these administrative permissions'}:</p>
<ul>${heldPermissions(c.custodian, c.userId).map((p) => html`<li><strong>${p}</strong>: ${p === 'admin' ? 'every administrative operation' : ADMINISTRATION[p as keyof typeof ADMINISTRATION].description}</li>`)}</ul>
<p>The areas you may use:</p><ul>${c.areas.map((a) => html`<li><a href="${a.path}">${a.label}</a></li>`)}</ul>
<p>Every action taken here is an operation of the API, checked and recorded in the audit log as if it came over HTTP.</p>`,
    }))
    entitlementPages(routes)
    rolePages(routes)
    resourcePages(routes)
    homePages(routes)
    consentPages(routes)
    customerPages(routes)
    outboxPages(routes)
    publicationPages(routes, scope)
    auditPages(routes)
    catalogPages(routes)
    trustPages(routes)
  })
}

/** The administrative permissions the user holds on every resource (the ones the table counts). */
const heldPermissions = (custodian: Custodian, userId: string) => {
  const global = custodian.index.held(userId)?.global ?? new Set<string>()
  return [...ADMINISTRATIVE_PERMISSIONS].filter((p) => global.has(p))
}
