import { invalid } from '../errors.js'
import { words } from '../script/command-kit.js'
import { withoutComments } from '../trust/delegation-shapes.js'
import type { InputFinding, Requirement } from '../trust/rules.js'
import { html, type Markup } from '../web/html.js'
import { summaryOf } from './catalog-pages.js'
import { type ConsoleContext, type ConsolePage, type ConsoleRoutes, type Form, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * Trust in the console (BDI, iSHARE): the delegation evidence each issuer has stored here (list, read, store,
 * remove); the association network with the trust matrix in effect for each association, the parties with
 * their memberships, assurance and reputation, and the classified data services; and the trust decision,
 * shown with every input it took and what was found for each. All through the trust operations.
 */

interface Issuer {
  issuer: string
  subjects: string[]
}
interface Evidence {
  notBefore?: number
  notOnOrAfter?: number
  policyIssuer?: string
  target?: { accessSubject?: string }
  policySets?: unknown[]
}
type Matrix = Record<string, Requirement>
interface Association {
  id: string
  parent?: string
  matrix?: Matrix
  own_logic_allowed: boolean
  matrix_in_effect: { of: string; matrix: Matrix }
}
interface Party {
  id: string
  assurance?: string
  reputation?: { level: string; source: string; at: number }
  memberships: { association: string; status: string; valid_from?: number; valid_until?: number }[]
}
interface Service {
  id: string
  association: string
  classification: string
  owner?: string
  resource_type?: string
}
interface TrustDecision {
  allowed: boolean
  reason: string
  classification: string
  matrixOf: string
  findings: InputFinding[]
  revision: number
}

const items = async <T>(c: ConsoleContext, listing: string, input?: Record<string, unknown>) =>
  ((await c.run(listing, input)) as { items: T[] }).items

/** Epoch seconds as an operator reads them (UTC). */
const when = (seconds: number | undefined) =>
  seconds === undefined ? '' : new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')

/** A JSON field of a form; not JSON is bad input naming the field. */
function jsonField(form: Form, name: string, label: string): unknown {
  const text = withoutComments(field(form, name)).trim()
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch (error) {
    throw invalid(`${label}: not JSON: ${(error as Error).message}`)
  }
}

/** A matrix requirement in words: "association ≥ medium and reputation ≥ medium". */
function requirementText(r: Requirement): string {
  if ('all' in r)
    return r.all.map((x) => ('any' in x ? `(${requirementText(x)})` : requirementText(x))).join(' and ')
  if ('any' in r)
    return r.any.map((x) => ('all' in x ? `(${requirementText(x)})` : requirementText(x))).join(' or ')
  if ('authorization' in r) return 'a granular authorization'
  const [input, level] = Object.entries(r)[0] as [string, string]
  return `${input} ≥ ${level}`
}

const options = (values: readonly string[], chosen = '') =>
  values.map((v) => html`<option${v === chosen ? html` selected` : ''}>${v}</option>`)
const datalist = (id: string, values: readonly string[]) =>
  html`<datalist id="${id}">${values.map((v) => html`<option value="${v}"></option>`)}</datalist>`

async function delegationPage(c: ConsoleContext, message?: Notice): Promise<ConsolePage> {
  const issuer = field(c.query, 'issuer').trim()
  const subject = field(c.query, 'subject').trim()
  const issuers = await items<Issuer>(c, 'list_delegation_issuers')
  const policies = issuer
    ? (await items<{ delegationEvidence: Evidence }>(c, 'list_delegation_policies', { issuer })).map(
        (p) => p.delegationEvidence,
      )
    : []
  const shown =
    issuer && subject
      ? ((await c.run('read_delegation_policy', { issuer, subject })) as { delegationEvidence: Evidence })
      : undefined
  const link = (i: string, s?: string) =>
    `/console/delegation-policies?${new URLSearchParams({ issuer: i, ...(s ? { subject: s } : {}) })}`
  return {
    title: 'Delegation policies',
    body: html`${notice(message)}
<section aria-labelledby="h-issuers"><h2 id="h-issuers">Policy issuers</h2>
<table><thead><tr><th scope="col">Issuer</th><th scope="col">Access subjects</th></tr></thead>
<tbody>${issuers.map((i) => html`<tr><td><a href="${link(i.issuer)}">${i.issuer}</a></td><td>${i.subjects.join(', ')}</td></tr>`)}</tbody></table>
<form method="get" action="/console/delegation-policies" role="search" class="inline">
<div><label for="d-issuer">Issuer</label><input type="text" id="d-issuer" name="issuer" value="${issuer}" list="d-issuers" required>${datalist(
      'd-issuers',
      issuers.map((i) => i.issuer),
    )}</div>
<button type="submit">Show policies</button></form></section>
${
  issuer
    ? html`<section aria-labelledby="h-policies"><h2 id="h-policies">Policies of ${issuer}</h2>
<table><thead><tr><th scope="col">Access subject</th><th scope="col">Not before (UTC)</th><th scope="col">Not on or after (UTC)</th><th scope="col">Policy sets</th><th scope="col">Actions</th></tr></thead>
<tbody>${policies.map((p) => {
        const s = p.target?.accessSubject ?? ''
        return html`<tr><td><a href="${link(issuer, s)}">${s}</a></td><td>${when(p.notBefore)}</td><td>${when(p.notOnOrAfter)}</td><td>${p.policySets?.length ?? 0}</td>
<td><form method="post" action="/console/delegation-policies/remove" class="row">${csrfField(c.csrf)}<input type="hidden" name="issuer" value="${issuer}"><input type="hidden" name="subject" value="${s}"><button type="submit" aria-label="Remove the policy of ${issuer} for ${s}">Remove</button></form></td></tr>`
      })}</tbody></table></section>`
    : ''
}
${
  shown
    ? html`<section aria-labelledby="h-evidence"><h2 id="h-evidence">Evidence of ${issuer} for ${subject}</h2><pre data-testid="evidence" tabindex="0">${JSON.stringify(shown, null, 2)}</pre></section>`
    : ''
}
<section aria-labelledby="h-store"><h2 id="h-store">Store delegation evidence</h2>
<p>iSHARE delegation evidence, <code>{"delegationEvidence": {…}}</code>: it replaces what its issuer stored for its access subject.</p>
<form method="post" action="/console/delegation-policies">${csrfField(c.csrf)}
<label for="d-evidence">Delegation evidence (JSON)</label><textarea id="d-evidence" name="evidence" rows="12" cols="90" class="code" required spellcheck="false"></textarea>
<button type="submit">Store evidence</button></form></section>`,
  }
}

/** The trust matrix: for each association, what each classification requires, and whose matrix that is. */
const matrixTable = (associations: readonly Association[]) => html`<table>
<thead><tr><th scope="col">Association</th><th scope="col">Matrix of</th><th scope="col">Classification</th><th scope="col">Requires</th></tr></thead>
<tbody>${associations.flatMap((a) =>
  Object.entries(a.matrix_in_effect.matrix).map(
    ([classification, requirement]) =>
      html`<tr><td>${a.id}</td><td>${a.matrix_in_effect.of}</td><td>${classification}</td><td>${requirementText(requirement)}</td></tr>`,
  ),
)}</tbody></table>`

const membershipText = (m: Party['memberships'][number]) =>
  `${m.association} (${m.status}${m.valid_from === undefined ? '' : `, from ${when(m.valid_from)}`}${m.valid_until === undefined ? '' : `, until ${when(m.valid_until)}`})`

async function trustPage(c: ConsoleContext, message?: Notice): Promise<ConsolePage> {
  const [associations, parties, services] = await Promise.all([
    items<Association>(c, 'list_trust_associations'),
    items<Party>(c, 'list_trust_parties'),
    items<Service>(c, 'list_trust_services'),
  ])
  const ids = associations.map((a) => a.id)
  return {
    title: 'Trust network',
    body: html`${notice(message)}
<p><a href="/console/trust/decision">Ask a trust decision</a></p>
<section aria-labelledby="h-associations"><h2 id="h-associations">Associations</h2>
<table><thead><tr><th scope="col">Association</th><th scope="col">Parent</th><th scope="col">Own matrix</th><th scope="col">Services may set their own</th></tr></thead>
<tbody>${associations.map((a) => html`<tr><td>${a.id}</td><td>${a.parent ?? html`<em>root network</em>`}</td><td>${a.matrix ? 'yes' : 'no'}</td><td>${a.own_logic_allowed ? 'yes' : 'no'}</td></tr>`)}</tbody></table>
<h3>Trust matrix</h3>
<p>What each classification of data requires of a party, for a service of each association (the association's own matrix, else its nearest parent's, else the BDI default).</p>
${matrixTable(associations)}
<form method="post" action="/console/trust/associations">${csrfField(c.csrf)}
<h3>Add or change an association</h3>
<label for="a-id">Association id</label><input type="text" id="a-id" name="id" required>
<label for="a-parent">Parent association (empty: a root network)</label><input type="text" id="a-parent" name="parent" list="a-ids">${datalist('a-ids', ids)}
<label for="a-matrix">Its own matrix (JSON, optional), such as <code>{"low": {"association": "medium"}}</code></label><textarea id="a-matrix" name="matrix" rows="3" cols="80" class="code" spellcheck="false"></textarea>
<label><input type="checkbox" name="own_logic_allowed" value="yes" class="check"> Its data services may set their own matrix</label>
<button type="submit">Save association</button></form></section>
<section aria-labelledby="h-parties"><h2 id="h-parties">Parties</h2>
<table><thead><tr><th scope="col">Party</th><th scope="col">Memberships</th><th scope="col">Assurance</th><th scope="col">Reputation</th></tr></thead>
<tbody>${parties.map((p) => html`<tr><td>${p.id}</td><td>${p.memberships.map(membershipText).join('; ')}</td><td>${p.assurance ?? ''}</td><td>${p.reputation ? `${p.reputation.level} (${p.reputation.source}, ${when(p.reputation.at)})` : ''}</td></tr>`)}</tbody></table>
<form method="post" action="/console/trust/parties">${csrfField(c.csrf)}
<h3>Record a party</h3>
<label for="r-id">Party id</label><input type="text" id="r-id" name="id" required>
<label for="r-memberships">Active memberships (association ids, separated by spaces)</label><input type="text" id="r-memberships" name="memberships" list="a-ids">
<label for="r-assurance">Level of assurance</label><select id="r-assurance" name="assurance"><option value="">not known</option>${options(['low', 'substantial', 'high'])}</select>
<label for="r-reputation">Reputation</label><select id="r-reputation" name="reputation"><option value="">not known</option>${options(['low', 'medium', 'high'])}</select>
<label for="r-source">Source of the reputation</label><input type="text" id="r-source" name="reputation_source" value="the console">
<button type="submit">Record party</button></form></section>
<section aria-labelledby="h-services"><h2 id="h-services">Classified data services</h2>
<table><thead><tr><th scope="col">Data service</th><th scope="col">Association</th><th scope="col">Classification</th><th scope="col">Data owner</th><th scope="col">Resource type</th></tr></thead>
<tbody>${services.map((s) => html`<tr><td>${s.id}</td><td>${s.association}</td><td>${s.classification}</td><td>${s.owner ?? ''}</td><td>${s.resource_type ?? ''}</td></tr>`)}</tbody></table>
<form method="post" action="/console/trust/services">${csrfField(c.csrf)}
<h3>Classify a data service</h3>
<label for="s-id">Data service id</label><input type="text" id="s-id" name="id" required>
<label for="s-association">Its association</label><input type="text" id="s-association" name="association" list="a-ids" required>
<label for="s-classification">Classification</label><input type="text" id="s-classification" name="classification" list="s-levels" required>${datalist('s-levels', ['low', 'medium', 'high'])}
<label for="s-owner">Data owner whose delegation evidence it asks for (optional)</label><input type="text" id="s-owner" name="owner">
<label for="s-type">Resource type (optional)</label><input type="text" id="s-type" name="resource_type">
<button type="submit">Classify service</button></form></section>`,
  }
}

interface Question {
  party: string
  service: string
  action: string
  identifiers: string[]
  attributes: string[]
  evidence: string
}

const NO_QUESTION: Question = {
  party: '',
  service: '',
  action: '',
  identifiers: [],
  attributes: [],
  evidence: '',
}

/** The question asked and every input the decision took, then the decision and its reason. */
function answerOf(c: ConsoleContext, q: Question, d: TrustDecision): Markup {
  const asked: [string, string][] = [
    ['Party', q.party],
    ['Data service', q.service],
    ['Classification of the service', d.classification],
    ['Matrix applied', `the matrix of ${d.matrixOf}`],
    ['Action', q.action || 'ISHARE.READ'],
    ['Identifiers', q.identifiers.join(' ') || 'all (*)'],
    ['Attributes', q.attributes.join(' ') || 'all (*)'],
    ['Signed evidence carried', q.evidence ? 'yes' : 'no'],
    ['Service provider asking', c.userId],
  ]
  return html`<section aria-labelledby="h-answer"><h2 id="h-answer">Decision</h2>
<p><span class="${d.allowed ? 'allowed' : 'denied'}" data-testid="trust-outcome">${d.allowed ? 'Allowed' : 'Denied'}</span>: may ${q.party} access ${q.service}?</p>
<p>Why: <span data-testid="trust-reason">${d.reason}</span></p>
<h3>The question</h3>
<table><tbody>${asked.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>
<h3>Each input</h3>
${
  d.findings.length === 0
    ? html`<p>No input was weighed: ${d.reason}.</p>`
    : html`<table data-testid="findings"><thead><tr><th scope="col">Input</th><th scope="col">Required</th><th scope="col">Found</th><th scope="col">Held</th></tr></thead>
<tbody>${d.findings.map((f) => html`<tr><th scope="row">${f.input}</th><td>${f.required}</td><td>${f.found}</td><td><span class="${f.satisfied ? 'allowed' : 'denied'}">${f.satisfied ? 'yes' : 'no'}</span></td></tr>`)}</tbody></table>`
}<p>At revision ${d.revision}.</p></section>`
}

async function decisionPage(
  c: ConsoleContext,
  message?: Notice,
  answer?: { question: Question; decision: TrustDecision },
): Promise<ConsolePage> {
  const [parties, services] = await Promise.all([
    items<Party>(c, 'list_trust_parties'),
    items<Service>(c, 'list_trust_services'),
  ])
  const q = answer?.question ?? NO_QUESTION
  return {
    title: 'Trust decision',
    body: html`${notice(message)}
<p>May a party access a classified data service? Asked as the service provider you are signed in as (decide_trust); the answer is recorded in the audit log. <a href="/console/trust">Back to the trust network</a></p>
<form method="post" action="/console/trust/decision">${csrfField(c.csrf)}
<div class="inline"><div><label for="t-party">Party</label><input type="text" id="t-party" name="party" value="${q.party}" list="t-parties" required>${datalist(
      't-parties',
      parties.map((p) => p.id),
    )}</div>
<div><label for="t-service">Data service</label><select id="t-service" name="service" required>${services.map((s) => html`<option value="${s.id}"${s.id === q.service ? html` selected` : ''}>${s.id} (${s.classification})</option>`)}</select></div>
<div><label for="t-action">Action</label><input type="text" id="t-action" name="action" value="${q.action}" placeholder="ISHARE.READ"></div></div>
<div class="inline"><div><label for="t-identifiers">Identifiers (separated by spaces)</label><input type="text" id="t-identifiers" name="identifiers" value="${q.identifiers.join(' ')}"></div>
<div><label for="t-attributes">Attributes (separated by spaces)</label><input type="text" id="t-attributes" name="attributes" value="${q.attributes.join(' ')}"></div></div>
<label for="t-evidence">Signed delegation evidence the request carried (optional)</label><textarea id="t-evidence" name="evidence" rows="2" cols="80" class="code" spellcheck="false">${q.evidence}</textarea>
<button type="submit">Decide</button></form>
${answer ? answerOf(c, answer.question, answer.decision) : ''}`,
  }
}

export function trustPages(routes: ConsoleRoutes) {
  routes.page(
    '/console/delegation-policies',
    'delegation',
    'Delegation evidence by issuer: list, read, store, remove',
    delegationPage,
    { issuer: 'The policy issuer', subject: 'An access subject of its policies, to read its evidence' },
  )
  routes.action(
    '/console/delegation-policies',
    'delegation',
    'Stores delegation evidence (store_delegation_policy)',
    { evidence: 'The evidence as JSON' },
    async (c, form) => {
      const evidence = jsonField(form, 'evidence', 'the delegation evidence')
      return summaryOf(await c.run('store_delegation_policy', (evidence ?? {}) as Record<string, unknown>))
    },
    delegationPage,
  )
  routes.action(
    '/console/delegation-policies/remove',
    'delegation',
    'Removes delegation evidence (remove_delegation_policy)',
    { issuer: 'The policy issuer', subject: 'The access subject' },
    async (c, form) =>
      summaryOf(
        await c.run('remove_delegation_policy', {
          issuer: field(form, 'issuer'),
          subject: field(form, 'subject'),
        }),
      ),
    delegationPage,
  )
  routes.page(
    '/console/trust',
    'trust',
    'Associations, the trust matrix, parties and classified services',
    (c) => trustPage(c),
  )
  routes.action(
    '/console/trust/associations',
    'trust',
    'Adds or changes an association (add_association)',
    {
      id: 'The association',
      parent: 'Its parent',
      matrix: 'Its own matrix (JSON)',
      own_logic_allowed: 'yes',
    },
    async (c, form) => {
      const matrix = jsonField(form, 'matrix', 'the matrix')
      return summaryOf(
        await c.run('add_association', {
          id: field(form, 'id').trim(),
          ...(field(form, 'parent').trim() ? { parent: field(form, 'parent').trim() } : {}),
          ...(matrix === undefined ? {} : { matrix }),
          own_logic_allowed: field(form, 'own_logic_allowed') === 'yes',
        }),
      )
    },
    trustPage,
  )
  routes.action(
    '/console/trust/parties',
    'trust',
    "Records a party's memberships, assurance and reputation (record_party)",
    {
      id: 'The party',
      memberships: 'Association ids',
      assurance: 'low, substantial or high',
      reputation: 'low, medium or high',
      reputation_source: 'Where the reputation comes from',
    },
    async (c, form) => {
      const level = field(form, 'reputation')
      return summaryOf(
        await c.run('record_party', {
          id: field(form, 'id').trim(),
          memberships: words(field(form, 'memberships')).map((association) => ({ association })),
          ...(field(form, 'assurance') ? { assurance: field(form, 'assurance') } : {}),
          ...(level
            ? { reputation: { level, source: field(form, 'reputation_source').trim() || 'the console' } }
            : {}),
        }),
      )
    },
    trustPage,
  )
  routes.action(
    '/console/trust/services',
    'trust',
    'Classifies a data service (classify_service)',
    {
      id: 'The data service',
      association: 'Its association',
      classification: 'Its classification',
      owner: 'The data owner',
      resource_type: 'The resource type',
    },
    async (c, form) => {
      const optional = (name: string) =>
        field(form, name).trim() ? { [name]: field(form, name).trim() } : {}
      return summaryOf(
        await c.run('classify_service', {
          id: field(form, 'id').trim(),
          association: field(form, 'association').trim(),
          classification: field(form, 'classification').trim(),
          ...optional('owner'),
          ...optional('resource_type'),
        }),
      )
    },
    trustPage,
  )
  routes.page('/console/trust/decision', 'trust', 'The trust decision form', (c) => decisionPage(c))
  routes.action(
    '/console/trust/decision',
    'trust',
    'Decides whether a party may access a data service, input by input (decide_trust)',
    {
      party: 'The party',
      service: 'The classified data service',
      action: 'The iSHARE action',
      identifiers: 'Resource identifiers',
      attributes: 'Resource attributes',
      evidence: 'Signed delegation evidence',
    },
    async (c, form) => {
      const question: Question = {
        party: field(form, 'party').trim(),
        service: field(form, 'service'),
        action: field(form, 'action').trim(),
        identifiers: words(field(form, 'identifiers')),
        attributes: words(field(form, 'attributes')),
        evidence: field(form, 'evidence').trim(),
      }
      const decision = (await c.run('decide_trust', {
        party: question.party,
        service: question.service,
        ...(question.action ? { action: question.action } : {}),
        ...(question.identifiers.length > 0 ? { identifiers: question.identifiers } : {}),
        ...(question.attributes.length > 0 ? { attributes: question.attributes } : {}),
        ...(question.evidence ? { evidence: question.evidence } : {}),
      })) as TrustDecision
      return decisionPage(c, undefined, { question, decision })
    },
    (c, message) => decisionPage(c, message),
  )
}
