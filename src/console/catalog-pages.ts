import { isCustodianError } from '../errors.js'
import { CatalogService } from '../licences/catalog-service.js'
import { shortName } from '../licences/vocabulary.js'
import { words } from '../script/command-kit.js'
import { html, type Markup } from '../web/html.js'
import { type ConsoleContext, type ConsolePage, type ConsoleRoutes, type Form, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * The trust-framework catalog in the console (IB1): Turtle loaded from pasted text (through the service the
 * HTTP route uses) or from a URL (fetch_catalog, through the guarded client), a refusal shown at its line and
 * column in the text; the data services and licence interpretations; participants and what they understand;
 * and the access check with its decision and reason.
 */

interface Service {
  url: string
  title: string
  roles: string[]
  licence: string
}
interface Licence {
  url: string
  legal_text: string
  grants: string[]
  obligations: string[]
}
interface Participant {
  id: string
  name: string
  roles: string[]
  understands: string[]
}
interface AccessDecision {
  allowed: boolean
  reason: string
  licence?: string
  legalText?: string
  grants: string[]
  obligations: string[]
  revision: number
}

/** A change's outcome as the notice above the page. */
export const summaryOf = (result: unknown): Notice => ({
  text: (result as { summary: string }).summary,
  error: false,
})

const items = async <T>(c: ConsoleContext, listing: string) =>
  ((await c.run(listing)) as { items: T[] }).items

const terms = (list: readonly string[]) =>
  list.length === 0
    ? html`<em>none</em>`
    : html`<ul>${list.map((t) => html`<li><code>${shortName(t)}</code></li>`)}</ul>`

/** What the administrator pasted and where the parser stopped, so the form can show both again. */
interface Refused {
  text: string
  source: string
  line: number
  column: number
}

/** The lines around the refused position, numbered, with the spot marked: what to fix, where. */
function excerpt(r: Refused): Markup {
  const lines = r.text.split(/\r?\n/)
  const first = Math.max(1, r.line - 2)
  const last = Math.min(lines.length, r.line + 1)
  const numbered = lines.slice(first - 1, last).map((text, i) => {
    const n = first + i
    const label = String(n).padStart(4, ' ')
    return n === r.line
      ? html`<mark>${label}  ${text}</mark>\n${' '.repeat(label.length + 2 + r.column - 1)}^ here\n`
      : html`${label}  ${text}\n`
  })
  return html`<figure><figcaption>Lines ${first} to ${last} of ${r.source}; the parser stopped at line ${r.line}, column ${r.column} (marked).</figcaption><pre data-testid="turtle-excerpt" tabindex="0">${numbered}</pre></figure>`
}

async function catalogPage(c: ConsoleContext, message?: Notice, refused?: Refused): Promise<ConsolePage> {
  const [services, licences] = await Promise.all([
    items<Service>(c, 'list_data_services'),
    items<Licence>(c, 'list_licence_interpretations'),
  ])
  return {
    title: 'Catalog',
    body: html`${notice(message)}${refused ? excerpt(refused) : ''}
<section aria-labelledby="h-services"><h2 id="h-services">Data services</h2>
<p>${services.length} data service(s). Holding any one of a service's roles gives access, under its licence.</p>
<table><thead><tr><th scope="col">Data service</th><th scope="col">Title</th><th scope="col">Roles (any one)</th><th scope="col">Licence</th><th scope="col">Remove</th></tr></thead>
<tbody>${services.map(
      (
        s,
      ) => html`<tr><td><code>${s.url}</code></td><td>${s.title}</td><td>${terms(s.roles)}</td><td><code>${s.licence}</code></td>
<td><form method="post" action="/console/catalog/services/remove" class="row">${csrfField(c.csrf)}<input type="hidden" name="url" value="${s.url}"><button type="submit" aria-label="Remove ${s.title || s.url}">Remove</button></form></td></tr>`,
    )}</tbody></table></section>
<section aria-labelledby="h-licences"><h2 id="h-licences">Licence interpretations</h2>
<table><thead><tr><th scope="col">Licence</th><th scope="col">Legal text</th><th scope="col">Grants</th><th scope="col">Obligations</th></tr></thead>
<tbody>${licences.map((l) => html`<tr><td><code>${l.url}</code></td><td><code>${l.legal_text}</code></td><td>${terms(l.grants)}</td><td>${terms(l.obligations)}</td></tr>`)}</tbody></table></section>
<section aria-labelledby="h-load"><h2 id="h-load">Load Turtle</h2>
<p>Data services (<code>dcat:DataService</code>) and licence interpretations (<code>ib1:LicenceInterpretation</code>), all or nothing: a document with an error stores nothing, and the error is shown at its line and column.</p>
<form method="post" action="/console/catalog/turtle">${csrfField(c.csrf)}
<label for="c-source">Name of the document (for messages and the audit log)</label><input type="text" id="c-source" name="source" value="${refused?.source ?? 'pasted Turtle'}" required maxlength="200">
<label for="c-turtle">Turtle</label><textarea id="c-turtle" name="turtle" rows="14" cols="90" required spellcheck="false" class="code">${refused?.text ?? ''}</textarea>
<button type="submit">Load Turtle</button></form>
<form method="post" action="/console/catalog/fetch">${csrfField(c.csrf)}
<label for="c-url">Or load from a URL (fetched by the server, which connects only to the addresses its outbound rules allow)</label><input type="url" id="c-url" name="url" required placeholder="https://registry.example/licences.ttl">
<button type="submit">Load from URL</button></form></section>`,
  }
}

/** Loads pasted Turtle as the HTTP route does; a refusal comes back with the text and the spot marked. */
async function loadTurtle(c: ConsoleContext, form: Form): Promise<Notice | ConsolePage> {
  const text = field(form, 'turtle')
  const source = field(form, 'source').trim().slice(0, 200) || 'pasted Turtle'
  try {
    return summaryOf(await new CatalogService(c.custodian).load(c.token, text, source))
  } catch (error) {
    const { line, column } = (isCustodianError(error) ? error.details : {}) as Partial<Refused>
    if (!isCustodianError(error) || typeof line !== 'number' || typeof column !== 'number') throw error
    const page = await catalogPage(c, { text: error.message, error: true }, { text, source, line, column })
    return { ...page, status: error.status }
  }
}

async function participantsPage(
  c: ConsoleContext,
  message?: Notice,
  answer?: { participant: string; service: string; decision: AccessDecision },
): Promise<ConsolePage> {
  const [participants, services] = await Promise.all([
    items<Participant>(c, 'list_participants'),
    items<Service>(c, 'list_data_services'),
  ])
  const asked = answer ?? { participant: '', service: '' }
  const d = answer?.decision
  return {
    title: 'Participants and access',
    body: html`${notice(message)}
<section aria-labelledby="h-check"><h2 id="h-check">Access check</h2>
<p>May a participant access a data service, and under which licence? The answer is the API's (check_data_access), and is recorded in the audit log.</p>
<form method="post" action="/console/participants/check" class="inline">${csrfField(c.csrf)}
<div><label for="k-participant">Participant</label><select id="k-participant" name="participant" required>${participants.map((p) => html`<option value="${p.id}"${p.id === asked.participant ? html` selected` : ''}>${p.name || p.id} (${p.id})</option>`)}</select></div>
<div><label for="k-service">Data service</label><select id="k-service" name="service" required>${services.map((s) => html`<option value="${s.url}"${s.url === asked.service ? html` selected` : ''}>${s.title || s.url}</option>`)}</select></div>
<button type="submit">Check access</button></form>
${
  d
    ? html`<h3>Decision</h3>
<p><span class="${d.allowed ? 'allowed' : 'denied'}" data-testid="access-outcome">${d.allowed ? 'Allowed' : 'Denied'}</span>: may ${asked.participant} access <code>${asked.service}</code>?</p>
<p>Why: <span data-testid="access-reason">${d.reason}</span></p>
${
  d.allowed
    ? html`<table><tbody><tr><th scope="row">Licence</th><td><code>${d.licence}</code></td></tr>
<tr><th scope="row">Legal text</th><td><code>${d.legalText}</code></td></tr>
<tr><th scope="row">Grants</th><td>${terms(d.grants)}</td></tr>
<tr><th scope="row">Obligations</th><td>${terms(d.obligations)}</td></tr></tbody></table>`
    : ''
}<p>At revision ${d.revision}.</p>`
    : ''
}</section>
<section aria-labelledby="h-participants"><h2 id="h-participants">Participants</h2>
<table><thead><tr><th scope="col">Participant</th><th scope="col">Name</th><th scope="col">Roles</th><th scope="col">Obligations it understands</th><th scope="col">Remove</th></tr></thead>
<tbody>${participants.map(
      (
        p,
      ) => html`<tr><td><code>${p.id}</code></td><td>${p.name}</td><td>${terms(p.roles)}</td><td>${terms(p.understands)}</td>
<td><form method="post" action="/console/participants/${encodeURIComponent(p.id)}/remove" class="row">${csrfField(c.csrf)}<button type="submit" aria-label="Remove ${p.id}">Remove</button></form></td></tr>`,
    )}</tbody></table></section>
<section aria-labelledby="h-participant"><h2 id="h-participant">Add or replace a participant</h2>
<form method="post" action="/console/participants">${csrfField(c.csrf)}
<label for="p-id">Participant id</label><input type="text" id="p-id" name="id" required>
<label for="p-name">Name</label><input type="text" id="p-name" name="name">
<label for="p-roles">Roles (URLs, one a line)</label><textarea id="p-roles" name="roles" rows="3" cols="80" required></textarea>
<label for="p-understands">Obligations it understands (URLs or <code>ib1:</code> names, one a line)</label><textarea id="p-understands" name="understands" rows="2" cols="80"></textarea>
<button type="submit">Save participant</button></form></section>`,
  }
}

export function catalogPages(routes: ConsoleRoutes) {
  routes.page('/console/catalog', 'catalog', 'The catalog: data services, licences, loading Turtle', (c) =>
    catalogPage(c),
  )
  routes.action(
    '/console/catalog/turtle',
    'catalog',
    'Loads pasted Turtle into the catalog, all or nothing; a refusal shows the text at its line and column',
    { source: 'The name of the document', turtle: 'The Turtle text' },
    loadTurtle,
    catalogPage,
  )
  routes.action(
    '/console/catalog/fetch',
    'catalog',
    'Loads Turtle from a URL (fetch_catalog)',
    { url: 'An http(s) URL' },
    async (c, form) => summaryOf(await c.run('fetch_catalog', { url: field(form, 'url').trim() })),
    catalogPage,
  )
  routes.action(
    '/console/catalog/services/remove',
    'catalog',
    'Removes a data service (remove_data_service)',
    { url: 'The data service URL' },
    async (c, form) => summaryOf(await c.run('remove_data_service', { url: field(form, 'url') })),
    catalogPage,
  )
  routes.page('/console/participants', 'participants', 'Participants and the access check', (c) =>
    participantsPage(c),
  )
  routes.action(
    '/console/participants',
    'participants',
    'Adds or replaces a participant (put_participant)',
    {
      id: 'The participant id',
      name: 'Its name',
      roles: 'Role URLs',
      understands: 'Obligations it understands',
    },
    async (c, form) =>
      summaryOf(
        await c.run('put_participant', {
          id: field(form, 'id').trim(),
          ...(field(form, 'name').trim() ? { name: field(form, 'name').trim() } : {}),
          roles: words(field(form, 'roles')),
          understands: words(field(form, 'understands')),
        }),
      ),
    participantsPage,
  )
  routes.action(
    '/console/participants/:id/remove',
    'participants',
    'Removes a participant (remove_participant)',
    {},
    async (c) => summaryOf(await c.run('remove_participant', { id: c.params.id })),
    participantsPage,
  )
  routes.action(
    '/console/participants/check',
    'participants',
    'May the participant access the data service? (check_data_access)',
    { participant: 'The participant id', service: 'The data service URL' },
    async (c, form) => {
      const asked = { participant: field(form, 'participant'), service: field(form, 'service') }
      const decision = (await c.run('check_data_access', asked)) as AccessDecision
      return participantsPage(c, undefined, { ...asked, decision })
    },
    participantsPage,
  )
}
