import type { AuditRow } from '../audit/chain.js'
import { html } from '../web/html.js'
import { type ConsoleContext, type ConsoleRoutes, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * The audit log in the console: the newest records first, filtered by actor, action and outcome, and
 * "verify the chain" with its result. Every console action is in it, as the API's are.
 */

/** How many of the newest records a page searches (read_audit's largest page), and how many it shows. */
const SEARCHED = 1000
const SHOWN = 200

interface Verification {
  ok: boolean
  records: number
  from: string
  problems: { seq: number; problem: string }[]
}

async function auditPage(c: ConsoleContext, message?: Notice, verification?: Verification) {
  const filters = {
    actor: field(c.query, 'actor').trim(),
    action: field(c.query, 'action').trim(),
    outcome: field(c.query, 'outcome').trim(),
  }
  // read_audit reads forward from a sequence number: start where the newest SEARCHED records begin.
  const head = await c.custodian.store.auditHead()
  const { items } = (await c.run('read_audit', {
    after: Math.max(0, head.seq - SEARCHED),
    limit: SEARCHED,
  })) as { items: AuditRow[] }
  const matches = (value: string, wanted: string) =>
    !wanted || value.toLowerCase().includes(wanted.toLowerCase())
  const shown = items
    .filter((r) => matches(r.actor, filters.actor) && matches(r.action, filters.action))
    .filter((r) => !filters.outcome || r.outcome === filters.outcome)
    .reverse()
    .slice(0, SHOWN)
  return {
    title: 'Audit log',
    body: html`${notice(message)}
<section aria-labelledby="h-verify"><h2 id="h-verify">The hash chain</h2>
${
  verification
    ? html`<p class="${verification.ok ? 'status' : 'error'}" role="${verification.ok ? 'status' : 'alert'}" data-testid="verification">${
        verification.ok
          ? `Chain intact: ${verification.records} record(s) verified from ${verification.from}.`
          : `Chain damaged: ${verification.problems.length} problem(s) in ${verification.records} record(s) verified from ${verification.from}.`
      }</p>${verification.problems.length > 0 ? html`<ul>${verification.problems.map((p) => html`<li>Record ${p.seq}: ${p.problem}</li>`)}</ul>` : ''}`
    : ''
}
<form method="post" action="/console/audit/verify">${csrfField(c.csrf)}<button type="submit">Verify the chain</button></form></section>
<form method="get" action="/console/audit" role="search" class="inline">
<div><label for="a-actor">Actor</label><input type="text" id="a-actor" name="actor" value="${filters.actor}"></div>
<div><label for="a-action">Action</label><input type="text" id="a-action" name="action" value="${filters.action}"></div>
<div><label for="a-outcome">Outcome</label><input type="text" id="a-outcome" name="outcome" value="${filters.outcome}" list="outcomes">
<datalist id="outcomes"><option value="ok"></option><option value="allowed"></option><option value="denied"></option><option value="AccessDenied"></option><option value="InvalidAccessToken"></option></datalist></div>
<button type="submit">Filter</button></form>
<p>The newest ${shown.length} matching record(s) of the last ${items.length}, newest first.</p>
<table><thead><tr><th scope="col">Seq</th><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Outcome</th><th scope="col">Reason</th></tr></thead>
<tbody>${shown.map((r) => html`<tr><td>${r.seq}</td><td>${r.at.slice(0, 19).replace('T', ' ')}</td><td>${r.actor}</td><td>${r.action}</td><td>${r.resource}</td><td>${r.outcome}</td><td>${r.reason}</td></tr>`)}</tbody></table>`,
  }
}

export function auditPages(routes: ConsoleRoutes) {
  routes.page('/console/audit', 'audit', 'The audit log, newest first, filtered', (c) => auditPage(c), {
    actor: 'Part of the actor',
    action: 'Part of the action',
    outcome: 'The outcome',
  })
  routes.action(
    '/console/audit/verify',
    'audit',
    "Verifies the audit log's hash chain (verify_audit)",
    {},
    async (c) => auditPage(c, undefined, (await c.run('verify_audit')) as Verification),
    auditPage,
  )
}
