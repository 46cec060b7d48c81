import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { dailyUse, usageChart } from '../demo/demo-chart.js'
import { invalid, notFound } from '../errors.js'
import { formatOf, UsageDataService } from '../greenbutton/usage-data-service.js'
import type { ImportReport } from '../greenbutton/usage-publication.js'
import { documented } from '../openapi/route-docs.js'
import type { UsageDataStore } from '../store/usage-data-store.js'
import { timeLabel } from '../web/account-data-view.js'
import { html } from '../web/html.js'
import { usagePointPath } from './customer-pages.js'
import { type ConsoleContext, type ConsolePage, type ConsoleRoutes, type Form, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * Publication in the console: a Green Button XML or CSV file uploaded to the import POST /v1/usage-data runs
 * (UsageDataService), with a progress bar; the report, or the refusal with its line and column. Per usage
 * point, the span of the data held and its latest readings as a chart (the demo third party's).
 *
 * The page's script (PUBLICATION_SCRIPT) sends the file as the request's body, with the CSRF token in a
 * header; without scripts, the form posts the file's pasted text. Both reach the same action.
 */

const UPLOAD = '/console/publication'
const SCRIPT = '/console/publication.js'
const CSRF_HEADER = 'x-csrf-token'
const UPLOAD_TYPES = ['application/xml', 'application/atom+xml', 'text/xml', 'text/csv']
/** The body of a raw upload, by the form the content-type parser makes of its request. */
const uploads = new WeakMap<Form, AsyncIterable<Buffer>>()

const DAY = 86_400
const CHART_DAYS = 14
/** Keyset pages of IntervalBlocks read to find the latest. */
const BLOCK_PAGE = 1_000
const EVER = { from: Number.MIN_SAFE_INTEGER, to: Number.MAX_SAFE_INTEGER }
/** Enough readings for any block or chart: a day of 1-minute readings, times the days charted. */
const MAX_READINGS = 1_440 * CHART_DAYS

const at = (seconds: number) => timeLabel(seconds * 1000)

function reportOf(report: ImportReport, c: ConsoleContext) {
  const point = (id: string) => c.custodian.consent.usagePoints.get(id)
  return html`<table data-testid="import-report"><caption>What the import stored</caption>
<thead><tr><th scope="col">Usage point</th><th scope="col">Readings</th><th scope="col">New or revised</th><th scope="col">Interval blocks</th></tr></thead>
<tbody>${Object.entries(report.stored).map(([id, r]) => html`<tr><td><a href="${usagePointPath(id)}">${point(id)?.description || id}</a></td><td>${r.readings}</td><td>${r.changedReadings}</td><td>${r.intervalBlocks}</td></tr>`)}</tbody></table>
<p>${report.notified} third-party notification(s) queued.</p>
${report.warnings.length === 0 ? '' : html`<h3>Warnings</h3><ul>${report.warnings.map((w) => html`<li>Line ${w.position.line}, column ${w.position.column}: ${w.message}</li>`)}</ul>`}`
}

async function publicationPage(
  c: ConsoleContext,
  message?: Notice,
  report?: ImportReport,
): Promise<ConsolePage> {
  const { customers, usagePoints } = c.custodian.consent
  const points = [...usagePoints.values()]
  const owner = (id: string) => customers.get(id)?.name ?? id
  return {
    title: 'Publication',
    script: true,
    body: html`<section aria-labelledby="h-upload"><h2 id="h-upload">Upload usage data</h2>
<p>A Green Button (ESPI Atom) XML file, or a CSV of interval readings (<code>usage_point,start,duration,value[,cost][,quality]</code>). The file is imported whole or not at all; a refusal names its line.</p>
<form method="post" action="${UPLOAD}" id="upload-form" data-csrf-header="${CSRF_HEADER}">${csrfField(c.csrf)}
<label for="up-file">File (.xml or .csv)</label><input type="file" id="up-file" name="file" accept=".xml,.csv,application/xml,text/csv">
<noscript><label for="up-name">File name (.xml or .csv)</label><input type="text" id="up-name" name="name" value="upload.xml">
<label for="up-content">The file’s content</label><textarea id="up-content" name="content" rows="6" cols="60"></textarea></noscript>
<label for="up-point">Store every usage point of the file as</label><select id="up-point" name="usage_point"><option value="">The usage points the file names</option>${points.map((p) => html`<option value="${p.id}">${p.description || p.id} (${owner(p.customer_id)})</option>`)}</select>
<button type="submit">Upload</button></form>
<progress id="upload-progress" max="100" value="0" aria-label="Upload progress" hidden></progress>
<p id="upload-status" role="status"></p>
<div id="upload-result">${notice(message)}${report ? reportOf(report, c) : ''}</div></section>
<section aria-labelledby="h-points"><h2 id="h-points">Usage points</h2>
<table><caption class="visually-hidden">Usage points</caption><thead><tr><th scope="col">Usage point</th><th scope="col">Kind</th><th scope="col">Customer</th></tr></thead>
<tbody>${points.map((p) => html`<tr><td><a href="${usagePointPath(p.id)}">${p.description || p.id}</a></td><td>${p.service_kind}</td><td>${owner(p.customer_id)}</td></tr>`)}</tbody></table></section>
<script src="${SCRIPT}" defer></script>`,
  }
}

/** The upload: the raw body the script sent, or the text pasted into the form without scripts. */
async function uploaded(c: ConsoleContext, form: Form): Promise<ConsolePage> {
  const raw = uploads.get(form)
  const content = field(form, 'content')
  if (!raw && !content.trim()) throw invalid('choose a file to upload (or paste its content)')
  const name = field(form, 'name').trim() || 'upload.xml'
  const usagePoint = field(form, 'usage_point')
  const report = await new UsageDataService(c.custodian).import(c.token, {
    name,
    format: formatOf(name),
    chunks: raw ?? Readable.from([content]),
    mapping: usagePoint ? { usagePoint } : {},
  })
  const text = `${name}: ${report.readings} reading(s) for ${report.usagePoints.length} usage point(s) imported.`
  return publicationPage(c, { text, error: false }, report)
}

/** The first and last reading of one MeterReading, and its latest days of readings. */
async function heldBy(store: UsageDataStore, meterReadingId: string) {
  const [first] = await store.readings(meterReadingId, EVER.from, EVER.to, 1)
  let last: { start: number; duration: number } | undefined
  for (;;) {
    const page = await store.blocks({
      meterReadingId,
      ...EVER,
      limit: BLOCK_PAGE,
      ...(last ? { after: last.start } : {}),
    })
    last = page.at(-1) ?? last
    if (page.length < BLOCK_PAGE) break
  }
  const tail = last
    ? await store.readings(meterReadingId, last.start, last.start + last.duration, MAX_READINGS)
    : []
  const final = tail.at(-1)
  const end = final ? final.start + final.duration : undefined
  const latest =
    end === undefined ? [] : await store.readings(meterReadingId, end - CHART_DAYS * DAY, end, MAX_READINGS)
  return { first, final, latest }
}

async function usagePointPage(c: ConsoleContext): Promise<ConsolePage> {
  const id = c.params.id ?? ''
  const point = c.custodian.consent.usagePoints.get(id)
  if (!point) throw notFound(`usage point ${id} does not exist`)
  const store = c.custodian.store.usage
  const meterReadings = (await store.resources([id])).filter((r) => r.kind === 'MeterReading')
  const held = await Promise.all(meterReadings.map(async (mr) => ({ mr, ...(await heldBy(store, mr.id)) })))
  const charted = held.find((h) => h.latest.length > 0)
  const customer = c.custodian.consent.customers.get(point.customer_id)
  return {
    title: `Usage point ${point.description || id}`,
    body: html`<p><a href="/console/publication">Publication</a> · ${point.service_kind} · <code>${id}</code> · customer ${customer?.name ?? point.customer_id}</p>
<h2>Data held</h2>
${
  held.length === 0
    ? html`<p>No data is held for this usage point yet.</p>`
    : html`<table data-testid="span"><caption class="visually-hidden">The span of the readings held, by meter reading</caption><thead><tr><th scope="col">Meter reading</th><th scope="col">Interval</th><th scope="col">First reading</th><th scope="col">Last reading</th></tr></thead>
<tbody>${held.map(({ mr, first, final }) => html`<tr><td><code>${mr.source || mr.id}</code></td><td>${mr.interval_length ? `${mr.interval_length / 60} min` : '—'}</td><td>${first ? at(first.start) : '—'}</td><td>${final ? at(final.start) : '—'}</td></tr>`)}</tbody></table>`
}
<h2>Latest readings</h2>
${charted ? html`<p>The last ${CHART_DAYS} days of ${charted.mr.source || charted.mr.id} held, summed by day (UTC).</p>${usageChart(dailyUse(charted.latest))}` : html`<p>No readings to chart.</p>`}`,
  }
}

/**
 * Sends the chosen file as the request's body (the bytes as they are, no multipart), showing the upload's
 * progress, then puts the answer's result in place: the page works without it, by posting the form.
 */
const PUBLICATION_SCRIPT = `'use strict'
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('upload-form')
  const file = document.getElementById('up-file')
  const bar = document.getElementById('upload-progress')
  const status = document.getElementById('upload-status')
  const result = document.getElementById('upload-result')
  file.required = true
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const chosen = file.files[0]
    if (!chosen) return
    const query = new URLSearchParams({ name: chosen.name, usage_point: form.elements.usage_point.value })
    const xhr = new XMLHttpRequest()
    xhr.open('POST', form.action + '?' + query)
    xhr.setRequestHeader('content-type', /\\.csv$/i.test(chosen.name) ? 'text/csv' : 'application/xml')
    xhr.setRequestHeader(form.dataset.csrfHeader, form.elements.csrf.value)
    xhr.responseType = 'document'
    const show = (loaded, total) => {
      bar.value = total ? Math.round((loaded / total) * 100) : 100
      status.textContent = 'Uploading ' + chosen.name + ': ' + bar.value + '%'
    }
    xhr.upload.addEventListener('progress', (e) => show(e.loaded, e.lengthComputable ? e.total : 0))
    xhr.upload.addEventListener('load', () => {
      bar.value = 100
      status.textContent = 'Uploaded ' + chosen.name + ' (100%): importing…'
    })
    xhr.addEventListener('load', () => {
      bar.value = 100
      const answer = xhr.response && (xhr.response.getElementById('upload-result') || xhr.response.querySelector('main'))
      result.innerHTML = answer ? answer.innerHTML : '<p class="error" role="alert">No answer: try again.</p>'
      status.textContent = 'Uploaded ' + chosen.name + ' (100%): ' + (xhr.status < 300 ? 'imported.' : 'refused.')
    })
    xhr.addEventListener('error', () => {
      status.textContent = 'The upload of ' + chosen.name + ' failed: check the connection and try again.'
    })
    bar.hidden = false
    show(0, chosen.size)
    xhr.send(chosen)
  })
})
`

export function publicationPages(routes: ConsoleRoutes, app: FastifyInstance) {
  // A raw upload becomes the action's form: its CSRF token from the header, the file's name and mapping
  // from the query, its body handed over as a stream (files of hundreds of MB are read as they arrive).
  app.addContentTypeParser(UPLOAD_TYPES, { bodyLimit: 4 * 1024 ** 3 }, (request, payload, done) => {
    const query = (request.query ?? {}) as Form
    const form: Form = {
      csrf: field({ csrf: request.headers[CSRF_HEADER] }, 'csrf'),
      name: field(query, 'name'),
      usage_point: field(query, 'usage_point'),
    }
    uploads.set(form, payload as AsyncIterable<Buffer>)
    done(null, form)
  })
  app.get(
    SCRIPT,
    documented({
      summary: 'The publication page’s script: uploads a file with a progress bar',
      tags: ['console'],
      response: {
        200: { description: 'The script', content: { 'text/javascript': { schema: { type: 'string' } } } },
      },
    }),
    async (_request, reply) =>
      reply
        .headers({ 'content-type': 'text/javascript; charset=utf-8', 'x-content-type-options': 'nosniff' })
        .send(PUBLICATION_SCRIPT),
  )
  routes.page('/console/publication', 'publication', 'Publication: upload usage data; usage points', (c) =>
    publicationPage(c),
  )
  routes.action(
    UPLOAD,
    'publication',
    `Imports a Green Button XML or CSV file (as POST /v1/usage-data): the page's script sends it as the body (${UPLOAD_TYPES.join(', ')}) with the CSRF token in ${CSRF_HEADER} and name and usage_point in the query; without scripts, the form's pasted content`,
    {
      name: 'The file name (.xml or .csv)',
      content: 'The file’s content, pasted',
      usage_point: 'Optional: every usage point of the file is this one',
    },
    uploaded,
    publicationPage,
  )
  routes.page(
    '/console/publication/usage-points/:id',
    'publication',
    'A usage point: the span of the data held and its latest readings as a chart',
    usagePointPage,
  )
}
