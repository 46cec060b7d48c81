import { escapeHtml, html, type Markup } from '../web/html.js'
import type { Area } from './areas.js'

/**
 * The console's page frame: a header with who is signed in and the sign-out, the navigation of the areas the
 * administrator may use (and only those), and one main landmark. Wider than the customer's pages: tables.
 */

const STYLE = `*{box-sizing:border-box}body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{display:flex;justify-content:space-between;align-items:center;padding:.5rem 1.5rem;background:#1f3a5f;color:#fff}
header a{color:#fff}header form{margin:0}.brand{font-weight:600;font-size:1.1rem}
.frame{display:flex;min-height:calc(100vh - 3rem)}nav{width:13rem;flex:none;padding:1rem;background:#eef1f5;border-right:1px solid #c8ced6}
nav ul{list-style:none;margin:0;padding:0}nav li{margin:.25rem 0}nav a{color:#1f3a5f;text-decoration:none;display:block;padding:.3rem .5rem;border-radius:4px}
nav a[aria-current=page]{background:#1f3a5f;color:#fff}main{flex:1;padding:1rem 2rem;max-width:72rem;overflow-x:auto}
h1{font-size:1.5rem;margin:.25rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;background:#fff}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d5dc;vertical-align:top}
th{background:#eef1f5}label{display:block;margin:.5rem 0 .2rem;font-weight:500}
input,select,textarea{font:inherit;padding:.3rem;max-width:22rem;width:100%}button{font:inherit;padding:.35rem .9rem;margin:.4rem .4rem 0 0;cursor:pointer}
.inline{display:flex;gap:.75rem;align-items:flex-end;flex-wrap:wrap}.inline label{margin-top:0}.inline div{min-width:10rem}
.error{color:#8b0000;border-left:4px solid #8b0000;padding:.25rem .5rem;background:#fff}.status{border-left:4px solid #1f6f3a;padding:.25rem .5rem;background:#fff}
.secret{font-family:monospace;font-size:1rem;padding:.5rem;background:#fff7d6;border:1px solid #b38f00;word-break:break-all}
.allowed{color:#1f6f3a;font-weight:600}.denied{color:#8b0000;font-weight:600}code{word-break:break-all}
form.row{display:inline}section{margin-bottom:1.5rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
input[type=checkbox]{width:auto;margin-right:.4rem}ul.tree li{margin:.2rem 0}
ul.plain{list-style:none;margin:0;padding:0}ol.errors{margin:.25rem 0 0;padding-left:1.2rem;font-size:.9em}progress{width:100%;max-width:22rem;height:1.2rem}
textarea.code{max-width:100%;font-family:monospace}input.check{width:auto;margin-right:.4rem}
pre{background:#fff;border:1px solid #d0d5dc;padding:.5rem;overflow-x:auto}mark{background:#fff7d6;color:#1b1b1b}`

/** A message shown above a page's content: the outcome of what the administrator just did. */
export interface Notice {
  text: string
  error: boolean
}

export const notice = (n: Notice | undefined) =>
  n
    ? html`<p class="${n.error ? 'error' : 'status'}" role="${n.error ? 'alert' : 'status'}">${n.text}</p>`
    : ''

/** The hidden field every console form carries (routes.ts checks it on every POST). */
export const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`

export interface Frame {
  userId: string
  areas: readonly Area[]
  csrf: string
  /** The path of the area shown, marked in the navigation. */
  current: string
}

/** A whole console page. Without a frame (signed out) there is no navigation and no sign-out. */
export function consolePage(title: string, body: Markup, frame?: Frame): string {
  const top = frame
    ? html`<span>Signed in as <strong>${frame.userId}</strong></span>
<form method="post" action="/console/logout">${csrfField(frame.csrf)}<button type="submit">Sign out</button></form>`
    : ''
  const nav = frame
    ? html`<nav aria-label="Console areas"><ul><li><a href="/console"${frame.current === '/console' ? html` aria-current="page"` : ''}>Overview</a></li>
${frame.areas.map((a) => html`<li><a href="${a.path}"${frame.current === a.path ? html` aria-current="page"` : ''}>${a.label}</a></li>`)}</ul></nav>`
    : ''
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · Custodian console</title><style>${STYLE}</style></head><body><header><span class="brand">Custodian console</span>${top.toString()}</header><div class="frame">${nav.toString()}<main><h1>${escapeHtml(title)}</h1>${body.text}</main></div></body></html>`
}
