import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import { documented, htmlBody } from '../openapi/route-docs.js'
import { html, page, pageHeaders } from '../web/html.js'

/**
 * The server's front door, public by nature (they describe the server, never its data): the start page at
 * `/`, and at `/docs` the OpenAPI document browsable in Swagger UI (@fastify/swagger-ui, which reads the
 * same document as /openapi.json; its own routes are hidden from it).
 */
export const docsRoutes: FastifyPluginAsync<{ demo: boolean }> = async (app, { demo }) => {
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // Its own content security policy, not the pages' stricter one: scripts of its bundle only; inline styles,
    // which Swagger UI sets as it renders.
    staticCSP:
      "default-src 'self'; base-uri 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
    // Areas folded: Swagger UI 5 stops rendering the list unfolded at the operations tagged both oauth and
    // pages. No validator badge: it would send the document's URL to validator.swagger.io.
    uiConfig: { docExpansion: 'none', deepLinking: true, validatorUrl: null },
  })
  app.get(
    '/',
    documented({
      summary: 'The start page: links to the API documentation, the account pages and health',
      tags: ['pages'],
      response: { 200: htmlBody('The start page') },
    }),
    async (_request, reply) => reply.headers(pageHeaders).send(startPage(demo)),
  )
}

function startPage(demo: boolean): string {
  return page(
    'Custodian',
    html`<p>An authorization server for consented data sharing: entitlements, Green Button (ESPI) consent, and
the IB1 and BDI trust frameworks.</p>
<h2>For customers</h2>
<ul>
<li><a href="/account/access">Your 3rd Party Access</a>: who may read your energy data, and ending their access</li>
${demo ? html`<li><a href="/demo/third-party">The demo third party</a>: try the consent flow</li>` : ''}
</ul>
<h2>For developers and operators</h2>
<ul>
<li><a href="/docs">API documentation</a> (browsable), and <a href="/openapi.json">the OpenAPI document</a></li>
<li><a href="/health">Health</a>, and <a href="/health/ready">readiness</a> for load balancers</li>
</ul>
<p>Metrics are at <code>/metrics</code> for a Prometheus scraper holding the metrics token.</p>`,
  )
}
