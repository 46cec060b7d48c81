import { performance } from 'node:perf_hooks'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { StatsStore } from '../store/stats-store.js'

/**
 * One node's metrics, in a registry of its own (not prom-client's global one), so that several nodes in one
 * process (the tests) do not count into each other. The domains report events by method; the gauges about
 * the node and its store are read when scraped. docs/operations.md lists every metric and its labels.
 */

/** Who decides: an entitlement check, a licence (catalog) check, a BDI trust decision, an iSHARE delegation. */
export type DecisionKind = 'entitlement' | 'licence' | 'trust' | 'delegation'
/** `invalid_token`: refused before deciding, for the caller's credential. */
export type DecisionOutcome = 'allowed' | 'denied' | 'invalid_token'

const DECISION_KINDS: readonly DecisionKind[] = ['entitlement', 'licence', 'trust', 'delegation']
const DECISION_OUTCOMES: readonly DecisionOutcome[] = ['allowed', 'denied', 'invalid_token']

/** Decisions take microseconds from the Index; the upper buckets catch a remote register's answer. */
const DECISION_BUCKETS = [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.25, 1, 5]

/** Request durations: most answers take milliseconds; an import or a remote register may take seconds. */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

/** What the scrape-time gauges read: the node (kernel/kernel.ts) and its store. */
export interface Watched {
  readonly revision: number
  readonly staleness: number
  readonly store: { readonly stats: StatsStore }
}

/** The start of a decision, for `decided`'s latency. */
export const started = (): number => performance.now()

export class Metrics {
  readonly registry = new Registry()
  /** Counter and histogram children bound once per kind and outcome: the hot path builds no label key. */
  readonly #decisions: Record<DecisionKind, Record<DecisionOutcome, (n?: number) => void>>
  readonly #latency: Record<DecisionKind, Histogram.Internal<'kind'>>
  readonly #logins: Counter<'method' | 'outcome'>
  readonly #lockouts: Counter<'action'>
  readonly #deliveries: Counter<'channel' | 'outcome'>
  readonly #imports: Counter<'outcome'>
  readonly #readings: Counter
  #requests: Histogram<'method' | 'route' | 'status'> | undefined

  constructor() {
    const registers = [this.registry]
    const decisions = new Counter({
      name: 'custodian_decisions_total',
      help: 'Access decisions taken by this node, by kind and outcome',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    })
    const latency = new Histogram({
      name: 'custodian_decision_duration_seconds',
      help: 'Time to take an access decision, by kind',
      labelNames: ['kind'] as const,
      buckets: DECISION_BUCKETS,
      registers,
    })
    const bind = <T>(make: (kind: DecisionKind) => T) =>
      Object.fromEntries(DECISION_KINDS.map((kind) => [kind, make(kind)])) as Record<DecisionKind, T>
    this.#latency = bind((kind) => latency.labels(kind))
    this.#decisions = bind((kind) => {
      const byOutcome = Object.fromEntries(
        DECISION_OUTCOMES.map((outcome) => {
          const child = decisions.labels(kind, outcome)
          // Zero from the start, so that a rate over a series that has not moved yet is 0, not absent.
          child.inc(0)
          return [outcome, (n = 1) => child.inc(n)]
        }),
      )
      return byOutcome as Record<DecisionOutcome, (n?: number) => void>
    })
    this.#logins = new Counter({
      name: 'custodian_logins_total',
      help: 'Login attempts checked by this node: ok, or failed (unknown user, wrong password or voice print)',
      labelNames: ['method', 'outcome'] as const,
      registers,
    })
    this.#lockouts = new Counter({
      name: 'custodian_login_lockouts_total',
      help: 'Attempts refused unchecked because their user, address or controller was locked out',
      labelNames: ['action'] as const,
      registers,
    })
    this.#deliveries = new Counter({
      name: 'custodian_outbox_deliveries_total',
      help: 'Outbox delivery attempts by this node, by channel (email, http) and outcome (delivered, failed)',
      labelNames: ['channel', 'outcome'] as const,
      registers,
    })
    this.#imports = new Counter({
      name: 'custodian_greenbutton_imports_total',
      help: 'Green Button files (XML or CSV) imported through this node, by outcome (ok, refused)',
      labelNames: ['outcome'] as const,
      registers,
    })
    this.#readings = new Counter({
      name: 'custodian_greenbutton_readings_imported_total',
      help: 'Interval readings in the Green Button files this node imported',
      registers,
    })
  }

  /** A decision of `kind`, begun at `since` (from `started()`). */
  decided(kind: DecisionKind, outcome: DecisionOutcome, since: number): void {
    this.#decisions[kind][outcome]()
    this.#latency[kind].observe((performance.now() - since) / 1000)
  }

  /** Decisions of `kind` taken together from `since`: each counted, the batch's time spread over them. */
  decidedMany(kind: DecisionKind, decisions: readonly { allowed: boolean }[], since: number): void {
    const each = (performance.now() - since) / 1000 / decisions.length
    let allowed = 0
    for (const d of decisions) {
      if (d.allowed) allowed += 1
      this.#latency[kind].observe(each)
    }
    if (allowed > 0) this.#decisions[kind].allowed(allowed)
    if (allowed < decisions.length) this.#decisions[kind].denied(decisions.length - allowed)
  }

  loggedIn(method: 'password' | 'voice_print', ok: boolean): void {
    this.#logins.inc({ method, outcome: ok ? 'ok' : 'failed' })
  }

  /** An attempt refused by a lock-out; `action` as audited (login.password, customer.register...). */
  lockedOut(action: string): void {
    this.#lockouts.inc({ action })
  }

  delivered(channel: string, ok: boolean): void {
    this.#deliveries.inc({ channel, outcome: ok ? 'delivered' : 'failed' })
  }

  /** A Green Button file imported (or refused); `readings`: the interval readings it held. */
  imported(ok: boolean, readings = 0): void {
    this.#imports.inc({ outcome: ok ? 'ok' : 'refused' })
    if (readings > 0) this.#readings.inc(readings)
  }

  /**
   * For a node that serves HTTP (once, however many apps are built on it): the process's own metrics (CPU,
   * memory, event loop: custodian_process_* and custodian_nodejs_*) and the request histogram the app observes.
   */
  serving(): Histogram<'method' | 'route' | 'status'> {
    if (this.#requests) return this.#requests
    collectDefaultMetrics({ register: this.registry, prefix: 'custodian_' })
    this.#requests = new Histogram({
      name: 'custodian_http_request_duration_seconds',
      help: 'HTTP requests answered by this node, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: HTTP_BUCKETS,
      registers: [this.registry],
    })
    return this.#requests
  }

  /** The gauges read at each scrape: how far this node is behind the change log, and the outbox's depth. */
  watch(node: Watched): void {
    const registers = [this.registry]
    new Gauge({
      name: 'custodian_revision',
      help: "The change-log revision this node's Index has reached",
      registers,
      collect() {
        this.set(node.revision)
      },
    })
    new Gauge({
      name: 'custodian_change_log_lag_revisions',
      help: 'Revisions committed to the store that this node has not applied yet',
      registers,
      async collect() {
        this.set(Math.max(0, (await node.store.stats.headRevision()) - node.revision))
      },
    })
    new Gauge({
      name: 'custodian_staleness_seconds',
      help: 'Seconds since this node last read or wrote its store (above maxStaleness it answers 503)',
      registers,
      collect() {
        this.set(node.staleness / 1000)
      },
    })
    new Gauge({
      name: 'custodian_outbox_messages',
      help: 'Undelivered outbox messages, by state: due (retrying included), retrying, held, parked',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const depth = await node.store.stats.outboxDepth()
        for (const [state, count] of Object.entries(depth)) this.set({ state }, count)
      },
    })
  }
}
