import type { Logger } from '../logger.js'
import type { Store } from '../store/store.js'

interface FollowerDeps {
  store: Store
  log: Logger
  pollMs: number
  /** Reads and applies what others committed since the node's revision. */
  catchUp: () => Promise<unknown>
}

/** The longest wait between two attempts to listen again. */
const MAX_RELISTEN_MS = 30_000

/**
 * Keeps a node following the change log others write: a poll every `pollMs`, and on PostgreSQL a wake-up on
 * each NOTIFY. When the LISTEN connection drops (a database restart), it is opened again with backoff, and a
 * catch-up from the node's revision follows, so nothing committed meanwhile is missed. A failing poll is
 * logged once when the store becomes unreachable and once when it is back, not four times a second.
 */
export class ChangeFollower {
  readonly #deps: FollowerDeps
  #poller: NodeJS.Timeout | undefined
  #relistenTimer: NodeJS.Timeout | undefined
  #unsubscribe: (() => Promise<void>) | undefined
  /** An attempt to listen in progress: `stop` waits for it, so that no connection opens after the stop. */
  #listening: Promise<void> | undefined
  #attempt = 0
  #failing = false
  #stopped = false

  constructor(deps: FollowerDeps) {
    this.#deps = deps
  }

  async start(): Promise<void> {
    this.#poller = setInterval(() => this.poll(), this.#deps.pollMs).unref()
    await this.#listenNow()
  }

  #listenNow(): Promise<void> {
    this.#listening = this.#listen().finally(() => {
      this.#listening = undefined
    })
    return this.#listening
  }

  /** Catches up now; a failure is retried by the next poll. */
  poll(): void {
    this.#deps.catchUp().then(
      () => {
        if (!this.#failing) return
        this.#failing = false
        this.#deps.log.info('reading the change log works again')
      },
      (error) => {
        if (this.#failing) return
        this.#failing = true
        this.#deps.log.warn({ err: error }, 'reading the change log failed; retrying until it works')
      },
    )
  }

  async #listen(): Promise<void> {
    if (this.#stopped) return
    let lost = false
    let unsubscribe: () => Promise<void>
    try {
      unsubscribe = await this.#deps.store.subscribe(
        () => this.poll(),
        (error) => {
          if (lost) return
          lost = true
          this.#deps.log.warn({ err: error }, 'change notifications lost; polling continues, listening again')
          this.#relisten()
        },
      )
    } catch (error) {
      if (this.#attempt === 0) this.#deps.log.warn({ err: error }, 'listening for changes failed; will retry')
      this.#relisten()
      return
    }
    // Stopped while connecting: a connection left listening would keep the process alive after its drain.
    if (this.#stopped) {
      await unsubscribe()
      return
    }
    this.#unsubscribe = unsubscribe
    if (this.#attempt > 0) {
      this.#deps.log.info('listening for change notifications again')
      this.poll() // what was committed while nobody listened
    }
    this.#attempt = 0
  }

  #relisten(): void {
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    unsubscribe?.().catch(() => {})
    if (this.#stopped) return
    const delay = Math.min(MAX_RELISTEN_MS, 250 * 2 ** this.#attempt)
    this.#attempt += 1
    this.#relistenTimer = setTimeout(() => void this.#listenNow(), delay)
    this.#relistenTimer.unref()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#poller)
    clearTimeout(this.#relistenTimer)
    await this.#listening
    await this.#unsubscribe?.()
  }
}
