/**
 * Server-rendered HTML with every interpolated value escaped. Markup built by `html` itself (or marked with
 * `raw`) is inserted as is; anything else is text.
 */
export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

export const raw = (text: string) => new Markup(text)

export const escapeHtml = (value: unknown): string =>
  String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

const render = (value: unknown): string => {
  if (value instanceof Markup) return value.text
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === false || value === null || value === undefined) return ''
  return escapeHtml(value)
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '')
  })
  return new Markup(out)
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b}
.utility{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.75rem 1rem;background:var(--brand);color:var(--on-brand)}
.utility img{max-height:2.5rem;max-width:10rem}.utility .name{font-weight:600;font-size:1.15rem}.utility .who{margin:0 0 0 auto}
.utility .who button{margin:0 0 0 .5rem;padding:.2rem .6rem}
main{max-width:40rem;margin:1.5rem auto;padding:0 1rem}
label{display:block;margin:.75rem 0 .25rem}input[type=text],input[type=password],input[type=date]{font:inherit;padding:.4rem;width:100%;max-width:20rem}
fieldset{border:1px solid #888;margin:1rem 0}button{font:inherit;padding:.4rem 1rem;margin:.5rem .5rem 0 0;border:2px solid #555;border-radius:4px;background:#fff;color:#1b1b1b;cursor:pointer}
button.primary{background:var(--brand);color:var(--on-brand);border-color:var(--brand);font-weight:600}
section{border-top:1px solid #ccc;margin-top:1.5rem}dt{font-weight:600}dd{margin:0 0 .5rem 0}
.error{color:#8b0000;border-left:4px solid #8b0000;padding-left:.5rem}[role=status]{border-left:4px solid var(--brand);padding-left:.5rem}code{word-break:break-all}`

/** What surrounds every customer page: the utility's name and look, and who is signed in. */
export interface PageChrome {
  utility: { name: string; logoUrl: string; colour: string; onColour: string }
  /** "Signed in as …" and a way out; absent on the pages before signing in. */
  signedIn?: Markup
}

const NO_CHROME: PageChrome = {
  utility: { name: '', logoUrl: '', colour: '#0b5394', onColour: '#ffffff' },
}

/** A whole page: language, viewport, the utility's banner, one main landmark, and the title as its heading. */
export function page(title: string, body: Markup, chrome: PageChrome = NO_CHROME): string {
  const { utility, signedIn } = chrome
  const banner =
    utility.name || signedIn
      ? html`<header class="utility">${utility.logoUrl ? html`<img src="${utility.logoUrl}" alt="">` : ''}<span class="name">${utility.name}</span>${signedIn ? html`<div class="who">${signedIn}</div>` : ''}</header>`
      : ''
  const style = `:root{--brand:${utility.colour};--on-brand:${utility.onColour}}${STYLE}`
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(utility.name ? `${title} – ${utility.name}` : title)}</title><style>${style}</style></head><body>${banner}<main><h1>${escapeHtml(title)}</h1>${body.text}</main></body></html>`
}

/** Headers for every page: no caching, no framing, no referrer leaking ids to other sites. */
export const pageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
}
