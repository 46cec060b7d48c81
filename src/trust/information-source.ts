/**
 * An information source asked at decision time over HTTP (a reputation model, say): a URL template with
 * `{id}`, a timeout, and a cache, so that a slow or absent source delays a decision by at most the timeout
 * and a busy one is asked once per party per cache period. Failures are answers too: "unavailable, because".
 */
export type SourceAnswer<T> = { ok: true; value: T; cached: boolean } | { ok: false; reason: string }

export class HttpSource<T> {
  readonly #cache = new Map<string, { value: T; until: number }>()

  constructor(
    readonly name: string,
    readonly template: string,
    readonly read: (json: unknown) => T,
    readonly options: { timeoutMs: number; cacheMs: number; now: () => number },
  ) {}

  async get(id: string): Promise<SourceAnswer<T>> {
    const now = this.options.now()
    const hit = this.#cache.get(id)
    if (hit && now < hit.until) return { ok: true, value: hit.value, cached: true }
    const url = this.template.replaceAll('{id}', encodeURIComponent(id))
    let json: unknown
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      })
      if (!response.ok) return { ok: false, reason: `${this.name} answered HTTP ${response.status}` }
      json = await response.json()
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError'
      return {
        ok: false,
        reason: timedOut
          ? `${this.name} did not answer within ${this.options.timeoutMs} ms`
          : `${this.name} could not be asked: ${(error as Error).message}`,
      }
    }
    try {
      const value = this.read(json)
      this.#cache.set(id, { value, until: now + this.options.cacheMs })
      return { ok: true, value, cached: false }
    } catch (error) {
      return { ok: false, reason: `${this.name} answered something unreadable: ${(error as Error).message}` }
    }
  }
}
