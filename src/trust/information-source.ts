import { isCustodianError } from '../errors.js'
import { MAX_JSON_ANSWER, type OutboundClient, OutboundError } from '../net/guarded-fetch.js'

/**
 * An information source asked at decision time over HTTP (a reputation model, say): a URL template with
 * `{id}`, a timeout, and a cache, so that a slow or absent source delays a decision by at most the timeout
 * and a busy one is asked once per party per cache period. It is asked through the guarded client (see
 * net/guarded-fetch.ts). Failures are answers too: "unavailable, because".
 */
export type SourceAnswer<T> = { ok: true; value: T; cached: boolean } | { ok: false; reason: string }

export class HttpSource<T> {
  readonly #cache = new Map<string, { value: T; until: number }>()

  constructor(
    readonly name: string,
    readonly template: string,
    /** The answer read, for the party `id` it was asked about; throws when it cannot be. */
    readonly read: (json: unknown, id: string) => T | Promise<T>,
    readonly options: {
      timeoutMs: number
      cacheMs: number
      now: () => number
      client: OutboundClient
      /** Headers to ask with, made per request (an access token got with a client assertion, say). */
      headers?: () => Promise<Record<string, string>>
    },
  ) {}

  async get(id: string): Promise<SourceAnswer<T>> {
    const now = this.options.now()
    const hit = this.#cache.get(id)
    if (hit && now < hit.until) return { ok: true, value: hit.value, cached: true }
    const url = this.template.replaceAll('{id}', encodeURIComponent(id))
    let headers: Record<string, string> = {}
    try {
      headers = (await this.options.headers?.()) ?? {}
    } catch (error) {
      if (isCustodianError(error)) return { ok: false, reason: error.message }
      throw error
    }
    let json: unknown
    try {
      const response = await this.options.client.fetch(url, {
        what: this.name,
        // Told to whoever asked the decision: what failed, not where the source lives.
        failure: `${this.name} could not be asked`,
        headers: { ...headers, accept: 'application/json' },
        maxBytes: MAX_JSON_ANSWER,
        timeoutMs: this.options.timeoutMs,
      })
      json = JSON.parse(response.body.toString('utf8'))
    } catch (error) {
      // Every failure to fetch reads the same (see net/guarded-fetch.ts); the log has the cause.
      if (error instanceof OutboundError) return { ok: false, reason: error.message }
      return { ok: false, reason: `${this.name} answered something unreadable: ${(error as Error).message}` }
    }
    try {
      const value = await this.read(json, id)
      this.#cache.set(id, { value, until: now + this.options.cacheMs })
      return { ok: true, value, cached: false }
    } catch (error) {
      return { ok: false, reason: `${this.name} answered something unreadable: ${(error as Error).message}` }
    }
  }
}
