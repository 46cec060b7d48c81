import { html } from '../web/html.js'
import { summaryOf } from './consent-pages.js'
import { usagePointPath } from './customer-pages.js'
import type { ConsoleContext, ConsoleRoutes } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * The outbox in the console: the notices to third parties and emails to customers not yet delivered, each
 * with the usage points it names, its attempts and every error they met, when it is tried next, and
 * "retry now" (retry_outbox_message), which the outbox worker acts on at its next poll.
 */

interface Message {
  id: string
  channel: 'email' | 'http'
  target: string
  subject: string
  state: string
  attempts: number
  created_at: string
  next_attempt_at: string | null
  usage_points: string[]
  errors: { attempt: number; at: string; error: string }[]
}

const STATES: Record<string, string> = {
  pending: 'Pending',
  failed: 'Failed, retried later',
  parked: 'Parked (no more attempts)',
  superseded: 'Replaced by a newer notice',
  held: 'Held until its import is published',
}
const RETRYABLE = new Set(['pending', 'failed', 'parked'])
const when = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`

async function outboxPage(c: ConsoleContext, message?: Notice) {
  const { items } = (await c.run('list_outbox')) as { items: Message[] }
  const point = (id: string) => c.custodian.consent.usagePoints.get(id)
  return {
    title: 'Outbox',
    body: html`${notice(message)}
<p>${items.length === 0 ? 'Every message has been delivered.' : `${items.length} message(s) not delivered yet, oldest first. Failed ones are retried, backing off, until parked; “Retry now” makes one due at once.`}</p>
${
  items.length === 0
    ? ''
    : html`<table><caption class="visually-hidden">Undelivered messages</caption><thead><tr><th scope="col">Message</th><th scope="col">To</th><th scope="col">Usage points named</th><th scope="col">State</th><th scope="col">Attempts and errors</th><th scope="col">Next attempt</th><th scope="col">Retry</th></tr></thead>
<tbody>${items.map(
        (
          m,
        ) => html`<tr data-testid="outbox-${m.id}"><td>${m.subject}<br><small>queued ${when(m.created_at)}</small></td>
<td>${m.channel === 'email' ? 'Email to ' : 'POST to '}<code>${m.target}</code></td>
<td>${m.usage_points.length === 0 ? '—' : html`<ul class="plain">${m.usage_points.map((id) => html`<li><a href="${usagePointPath(id)}">${point(id)?.description || id}</a></li>`)}</ul>`}</td>
<td>${STATES[m.state] ?? m.state}</td>
<td>${m.attempts}${m.errors.length === 0 ? '' : html`<ol class="errors">${m.errors.map((e) => html`<li>${when(e.at)}: ${e.error}</li>`)}</ol>`}</td>
<td>${m.next_attempt_at ? when(m.next_attempt_at) : '—'}</td>
<td>${RETRYABLE.has(m.state) ? html`<form method="post" action="/console/outbox/${encodeURIComponent(m.id)}/retry" class="row">${csrfField(c.csrf)}<button type="submit" aria-label="Retry now: ${m.subject} to ${m.target}">Retry now</button></form>` : ''}</td></tr>`,
      )}</tbody></table>`
}`,
  }
}

export function outboxPages(routes: ConsoleRoutes) {
  routes.page(
    '/console/outbox',
    'outbox',
    'The outbox: undelivered notices and emails, their errors and next attempts',
    outboxPage,
  )
  routes.action(
    '/console/outbox/:id/retry',
    'outbox',
    'Retries an undelivered message now (retry_outbox_message)',
    {},
    async (c) => summaryOf(await c.run('retry_outbox_message', { id: c.params.id })),
    outboxPage,
  )
}
