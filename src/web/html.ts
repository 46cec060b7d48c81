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

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
label{display:block;margin:.75rem 0 .25rem}input[type=text],input[type=password],input[type=date]{font:inherit;padding:.4rem;width:100%;max-width:20rem}
fieldset{border:1px solid #888;margin:1rem 0}button{font:inherit;padding:.4rem 1rem;margin:.5rem .5rem 0 0}
.error{color:#8b0000;border-left:4px solid #8b0000;padding-left:.5rem}code{word-break:break-all}`

/** A whole page: language, viewport, one main landmark, and the title as its heading. */
export function page(title: string, body: Markup): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body.text}</main></body></html>`
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
