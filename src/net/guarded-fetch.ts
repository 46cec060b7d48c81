import { lookup as dnsLookup } from 'node:dns/promises'
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { invalid } from '../errors.js'
import type { Logger } from '../logger.js'
import { type AllowList, parseAllowList, refusal } from './address-policy.js'

/**
 * The one HTTP client for every request the server makes on its own (catalog fetches, information sources,
 * the remote register, notifications). It connects only to addresses the address policy allows, checked on
 * the address actually connected to (every address a name resolves to, then that very address: no DNS
 * rebinding window); follows at most 5 redirects, each checked the same way; stops reading a body at its
 * limit; and gives up after a timeout for the whole request. Every failure reads the same, so that a caller
 * cannot probe the network through the messages; the cause goes to the log.
 */

export const MAX_REDIRECTS = 5

/** The limit for a JSON answer (an information source, a remote register): small documents; more is an attack. */
export const MAX_JSON_ANSWER = 1024 * 1024

/** The one refusal for every failure to fetch: an address refused, a closed port, a timeout, a status, a size. */
export class OutboundError extends Error {
  constructor(
    message: string,
    /** What really happened, for the server log only. */
    readonly detail: string,
  ) {
    super(message)
    this.name = 'OutboundError'
  }
}

export interface OutboundRequest {
  /** What is fetched, for the message: "the catalog document", "the reputation source". */
  what: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Bytes of response body read at most; a longer body is a failure. */
  maxBytes: number
  /** Milliseconds for the whole request: lookups, connections, redirects and the body. */
  timeoutMs: number
  /** Statuses answered as a response rather than a failure, besides 2xx (404 for "none", say). */
  accept?: readonly number[]
  /**
   * The one text for every failure, when not "`what` could not be fetched from `url`" ("sent to" for a POST):
   * for an operator's URL (an information source, the remote register) whose failure is told to whoever
   * asked a decision, who need not learn where it lives.
   */
  failure?: string
}

export interface OutboundResponse {
  status: number
  /** Where the answer came from, after redirects. */
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

/** Resolves a name to every address it has (dns.lookup); replaceable for tests. */
export type Resolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

class Failure extends Error {}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

export class OutboundClient {
  readonly #allow: () => string
  readonly #log: Pick<Logger, 'warn'>
  readonly #resolve: Resolver

  /** `allow` is the `outboundAllow` setting (read on each request, so that a changed setting applies). */
  constructor(options: { allow: string | (() => string); log: Pick<Logger, 'warn'>; resolve?: Resolver }) {
    const { allow } = options
    // A setting that does not parse is refused now, not at the first request.
    parseAllowList(typeof allow === 'function' ? allow() : allow)
    this.#allow = typeof allow === 'function' ? allow : () => allow
    this.#log = options.log
    this.#resolve = options.resolve ?? systemResolver
  }

  /** The request, or an OutboundError reading "`what` could not be fetched from `url`" (or "sent to"). */
  async fetch(url: string, request: OutboundRequest): Promise<OutboundResponse> {
    const signal = AbortSignal.timeout(request.timeoutMs)
    try {
      return await this.#follow(url, request, signal)
    } catch (error) {
      const detail = signal.aborted
        ? `no complete answer within ${request.timeoutMs} ms`
        : error instanceof Failure
          ? error.message
          : `${(error as Error).message}${(error as NodeJS.ErrnoException).code ? ` (${(error as NodeJS.ErrnoException).code})` : ''}`
      this.#log.warn({ url, what: request.what, cause: detail }, `outbound request failed: ${detail}`)
      const how = (request.method ?? 'GET') === 'GET' ? 'fetched from' : 'sent to'
      throw new OutboundError(request.failure ?? `${request.what} could not be ${how} ${url}`, detail)
    }
  }

  async #follow(start: string, request: OutboundRequest, signal: AbortSignal): Promise<OutboundResponse> {
    const allow = parseAllowList(this.#allow())
    let url = parseUrl(start)
    let method = request.method ?? 'GET'
    let body = request.body
    let headers = { ...request.headers }
    for (let hop = 0; ; hop += 1) {
      const answer = await this.#once(url, method, headers, body, request, allow, signal)
      if ('body' in answer) return answer
      if (hop >= MAX_REDIRECTS) throw new Failure(`more than ${MAX_REDIRECTS} redirects`)
      const next = parseUrl(answer.location, url)
      // A 303, or a 301/302 after a POST, continues as a GET without the body (as browsers do).
      if (answer.status === 303 || (method === 'POST' && answer.status !== 307 && answer.status !== 308)) {
        method = 'GET'
        body = undefined
        headers = withoutHeaders(headers, ['content-type', 'content-length'])
      }
      // Credentials are for the origin they were given for.
      if (next.origin !== url.origin) headers = withoutHeaders(headers, ['authorization', 'cookie'])
      url = next
    }
  }

  /** One request to one checked address: the response, or where it redirects to. */
  async #once(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    request: OutboundRequest,
    allow: AllowList,
    signal: AbortSignal,
  ): Promise<OutboundResponse | { status: number; location: string }> {
    const address = await this.#checkedAddress(url, allow, signal)
    // The connection goes to the address just checked, never to a second lookup's answer.
    const lookup: LookupFunction = (_hostname, options, callback) => {
      if (options.all) callback(null, [address])
      else callback(null, address.address, address.family)
    }
    const client = url.protocol === 'https:' ? https : http
    const outgoing = client.request(url, {
      method,
      headers:
        body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      agent: false,
      lookup,
      signal,
    })
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      outgoing.once('response', resolve)
      outgoing.once('error', reject)
      outgoing.end(body)
    })
    // An abort while the body is read also ends the request; its error is the body's to report.
    outgoing.on('error', () => {})
    const status = response.statusCode ?? 0
    const location = response.headers.location
    if (REDIRECTS.has(status) && location) {
      response.destroy()
      return { status, location }
    }
    if (!((status >= 200 && status < 300) || request.accept?.includes(status))) {
      response.destroy()
      throw new Failure(`${url.href} answered HTTP ${status}`)
    }
    const declared = Number(response.headers['content-length'] ?? 0)
    if (declared > request.maxBytes) {
      response.destroy()
      throw new Failure(`${url.href} announced ${declared} bytes, more than ${request.maxBytes}`)
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > request.maxBytes) {
        response.destroy()
        throw new Failure(`${url.href} sent more than ${request.maxBytes} bytes`)
      }
      chunks.push(chunk)
    }
    return { status, url: url.href, headers: response.headers, body: Buffer.concat(chunks) }
  }

  /** The address to connect to for `url`: every address of its host must be allowed. */
  async #checkedAddress(
    url: URL,
    allow: AllowList,
    signal: AbortSignal,
  ): Promise<{ address: string; family: number }> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    const family = isIP(host)
    const addresses = family ? [{ address: host, family }] : await abortable(this.#resolve(host), signal)
    if (addresses.length === 0) throw new Failure(`${host} has no address`)
    for (const { address } of addresses) {
      const why = refusal(host, address, allow)
      if (why) throw new Failure(`${host} is ${address}, which is ${why}; not allowed by outboundAllow`)
    }
    return addresses[0] as { address: string; family: number }
  }
}

function parseUrl(text: string, base?: URL): URL {
  let url: URL
  try {
    url = new URL(text, base)
  } catch {
    throw new Failure(`"${text}" is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Failure(`${url.protocol} URLs are not fetched, only http: and https:`)
  return url
}

function withoutHeaders(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())))
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason)
    signal.addEventListener('abort', abort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}

/** The client for a Custodian: its `outboundAllow` setting and its log. */
export function outboundClient(custodian: {
  config: { outboundAllow: string }
  log: Pick<Logger, 'warn'>
}): OutboundClient {
  try {
    return new OutboundClient({ allow: () => custodian.config.outboundAllow, log: custodian.log })
  } catch (error) {
    throw invalid((error as Error).message)
  }
}
