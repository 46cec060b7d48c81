import type { Metrics } from '../kernel/metrics.js'
import type { Logger } from '../logger.js'
import { OutboundClient } from '../net/guarded-fetch.js'
import type { OutboxRow } from '../store/schema.js'
import type { Store } from '../store/store.js'
import type { Mailer } from './mailer.js'

/** What a notification's answer may hold: it is read and discarded, so little. */
const NOTIFY_ANSWER_BYTES = 64 * 1024

/** Attempts before a message is parked for an operator (about a day of backing off). */
export const MAX_ATTEMPTS = 20

/** When to try again after `attempts` failures: 5 s, 10 s, 20 s ... up to an hour; null once it is hopeless. */
export function nextAttemptAt(attempts: number, nowMs: number): string | null {
  if (attempts + 1 >= MAX_ATTEMPTS) return null
  return new Date(nowMs + Math.min(5_000 * 2 ** attempts, 3_600_000)).toISOString()
}

/**
 * Delivers the outbox: emails through the mailer, notifications by POST. Each node runs one; messages are
 * leased while in flight, so two nodes never send the same one at once, and undelivered ones survive a
 * restart because they are rows in the store.
 */
export class OutboxWorker {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<number> | undefined
  readonly #outbound: OutboundClient

  /**
   * `outboundAllow` (the setting of that name) lists the special addresses notifications may go to: a
   * notifyUri is registered by a third party, so it reaches only public addresses unless allowed.
   */
  constructor(
    private readonly store: Store,
    private readonly mailer: Mailer,
    private readonly log: Logger,
    private readonly options: {
      pollMs: number
      clock?: () => number
      timeoutMs?: number
      outboundAllow?: string
      /** The node's metrics, counting deliveries and failures. */
      metrics?: Metrics
    } = {
      pollMs: 1_000,
    },
  ) {
    this.#outbound = new OutboundClient({ allow: options.outboundAllow ?? '', log })
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.runOnce().catch((error) =>
        this.log.warn({ err: error }, 'delivering the outbox failed; will retry'),
      )
    }, this.options.pollMs)
    this.#timer.unref()
  }

  /** Delivers what is due now; resolves to how many were delivered. Overlapping calls share one run. */
  runOnce(): Promise<number> {
    this.#running ??= this.#deliverDue().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #deliverDue(): Promise<number> {
    const now = this.options.clock?.() ?? Date.now()
    const due = await this.store.claimOutbox(
      new Date(now).toISOString(),
      new Date(now + 60_000).toISOString(),
      50,
    )
    let delivered = 0
    for (const message of due) {
      try {
        await this.#deliver(message)
        await this.store.settleOutbox(message.id, {
          deliveredAt: new Date(this.options.clock?.() ?? Date.now()).toISOString(),
        })
        delivered += 1
        this.options.metrics?.delivered(message.channel, true)
      } catch (error) {
        this.options.metrics?.delivered(message.channel, false)
        const next = nextAttemptAt(message.attempts, this.options.clock?.() ?? Date.now())
        const reason = (error as Error).message
        this.log.warn(
          { channel: message.channel, attempts: message.attempts + 1, next },
          `delivery failed: ${reason}`,
        )
        await this.store.settleOutbox(message.id, { error: reason, nextAttemptAt: next })
      }
    }
    return delivered
  }

  async #deliver(message: OutboxRow): Promise<void> {
    if (message.channel === 'email') {
      await this.mailer.send({ to: message.target, subject: message.subject, text: message.body })
      return
    }
    // Through the guarded client: one text for every failure, recorded with the message; the cause is logged.
    await this.#outbound.fetch(message.target, {
      what: 'the notification',
      method: 'POST',
      headers: { 'content-type': message.content_type },
      body: message.body,
      maxBytes: NOTIFY_ANSWER_BYTES,
      timeoutMs: this.options.timeoutMs ?? 10_000,
    })
  }

  /** Stops polling and waits for a delivery in flight to be recorded, so that no lease outlives the node. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await this.#running?.catch(() => {})
  }
}
