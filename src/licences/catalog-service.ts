import { readFile } from 'node:fs/promises'
import { CustodianError, invalid } from '../errors.js'
import { started } from '../kernel/metrics.js'
import type { Node } from '../kernel/node.js'
import type { ChangeResult } from '../kernel/write-plan.js'
import {
  type OutboundClient,
  OutboundError,
  type OutboundResponse,
  outboundClient,
} from '../net/guarded-fetch.js'
import { catalogTurtle } from './catalog-export.js'
import { parseCatalogTurtle, RdfError } from './catalog-rdf.js'
import * as plans from './changes.js'
import { decideServiceAccess, type ServiceAccessDecision } from './rules.js'

/** Registry documents are small; a larger one is a mistake or an attack. */
const MAX_DOCUMENT = 5 * 1024 * 1024
const FETCH_TIMEOUT_MS = 10_000

/**
 * The trust-framework catalog at the edge: loading Turtle from text, a file or a URL (all or nothing), the
 * export, participants, and the access decision with its audit record.
 */
export class CatalogService {
  readonly #custodian: Node
  readonly #outbound: OutboundClient

  constructor(custodian: Node) {
    this.#custodian = custodian
    this.#outbound = outboundClient(custodian)
  }

  /** Loads a Turtle document; a refusal reads `SOURCE:LINE:COLUMN: reason` and stores nothing. */
  async load(
    token: string | undefined,
    text: string,
    source: string,
    baseIri?: string,
  ): Promise<ChangeResult> {
    const custodian = this.#custodian
    let doc: ReturnType<typeof parseCatalogTurtle>
    try {
      doc = parseCatalogTurtle(text, baseIri)
    } catch (error) {
      if (!(error instanceof RdfError)) throw error
      // Only someone allowed to load learns what is wrong with the document; the refusal is audited.
      const actor = custodian.authorizeAdminAction(token, 'catalog.load')
      const { line, column } = error.position
      // The position also as fields, for a caller that shows the document (the console marks the spot).
      const refusal = new CustodianError('Validation', `${source}:${line}:${column}: ${error.reason}`, {
        line,
        column,
      })
      custodian.audit({
        actor,
        action: 'catalog.load',
        resource: source,
        outcome: 'Validation',
        reason: refusal.message,
      })
      throw refusal
    }
    return custodian.change(token, 'catalog.load', source, (_world, now) =>
      plans.loadCatalog(doc, source, now),
    )
  }

  /**
   * Loads from a file path or an http(s) URL (administrators). Who asks is decided before the file is read
   * or any connection is made; the URL is fetched through the guarded client (see net/guarded-fetch.ts).
   */
  async loadFrom(token: string | undefined, location: string): Promise<ChangeResult> {
    this.#custodian.authorizeAdminAction(token, 'catalog.load')
    if (!/^https?:\/\//i.test(location)) {
      const text = await readFile(location, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw invalid(`${location}: cannot read it (${error.code ?? error.message})`)
      })
      return this.load(token, text, location)
    }
    let fetched: OutboundResponse
    try {
      fetched = await this.#outbound.fetch(location, {
        what: 'the catalog document',
        headers: { accept: 'text/turtle' },
        maxBytes: MAX_DOCUMENT,
        timeoutMs: FETCH_TIMEOUT_MS,
      })
    } catch (error) {
      if (error instanceof OutboundError) throw invalid(error.message)
      throw error
    }
    // Relative IRIs in a fetched document resolve against where it came from.
    return this.load(token, fetched.body.toString('utf8'), location, fetched.url)
  }

  /** The catalog and the licence interpretations as Turtle (administrators). */
  export(token: string | undefined): string {
    this.#custodian.authorizeAdminAction(token, 'catalog.export')
    return catalogTurtle(this.#custodian.catalog)
  }

  putParticipant(
    token: string | undefined,
    input: { id: string; name?: string; roles: readonly string[]; understands: readonly string[] },
  ): Promise<ChangeResult> {
    return this.#custodian.change(token, 'participant.put', input.id, (world, now) =>
      plans.putParticipant(world, { ...input, now }),
    )
  }

  removeParticipant(token: string | undefined, id: string): Promise<ChangeResult> {
    return this.#custodian.change(token, 'participant.remove', id, (world) =>
      plans.removeParticipant(world, id),
    )
  }

  removeService(token: string | undefined, url: string): Promise<ChangeResult> {
    return this.#custodian.change(token, 'catalog.remove', url, (world) => plans.removeService(world, url))
  }

  /**
   * May `participant` access `service`? Asked with any valid token (a data provider's gateway, say), or by an
   * administrator; every answer is audited.
   */
  check(token: string | undefined, participant: string, service: string): ServiceAccessDecision {
    const custodian = this.#custodian
    const action = 'catalog.check'
    const actor = custodian.identify(token, action, service)
    const since = started()
    const decision = decideServiceAccess(custodian.catalog, participant, service)
    custodian.audit({
      actor,
      action,
      resource: `${participant} -> ${service}`,
      outcome: decision.allowed ? 'allowed' : 'denied',
      reason: decision.reason,
    })
    custodian.metrics.decided('licence', decision.allowed ? 'allowed' : 'denied', since)
    return decision
  }
}
