import { CustodianError, invalid, isCustodianError } from '../errors.js'
import type { Node } from '../kernel/node.js'
import { EspiReadError } from './espi-reader.js'
import { type FeedDefaults, feedDefaults } from './feed-defaults.js'
import { importIntervalCsv } from './import-usage-csv.js'
import { importGreenButtonXml } from './import-usage-data.js'
import { publicationNotices } from './publication-notices.js'
import type { ImportReport, UsagePointMapping } from './usage-publication.js'

export type UsageFormat = 'xml' | 'csv'

/** When a refused upload may try again: imports of a few MB end within seconds. */
const RETRY_AFTER_SECONDS = 5

/** A file's format by its name: CSV for `.csv`, Green Button XML otherwise. */
export const formatOf = (name: string): UsageFormat => (/\.csv$/i.test(name) ? 'csv' : 'xml')

export interface UsageImport {
  /** The file's name, for messages and the audit log. */
  name: string
  format: UsageFormat
  chunks: AsyncIterable<string | Buffer>
  mapping: UsagePointMapping
  progress?: (bytes: number) => void
}

/**
 * Publication at the edge (seed: ADE Publication, steps 1-3): administrators hand over the back office's
 * files; each is imported whole or not at all, audited, and the third parties it concerns are notified.
 */
export class UsageDataService {
  readonly #custodian: Node
  readonly #defaults: FeedDefaults
  /** Imports running now: each holds an upload open, a staged publication and (XML) a parsing thread. */
  #running = 0

  constructor(custodian: Node) {
    this.#custodian = custodian
    // Checked here, so that a server or CLI with a wrong setting stops at once, naming it.
    this.#defaults = feedDefaults(custodian.config)
  }

  async import(token: string | undefined, input: UsageImport): Promise<ImportReport> {
    const custodian = this.#custodian
    const action = 'greenbutton.import'
    const actor = custodian.authorizeAdminAction(token, action)
    const at = custodian.now()
    const context = {
      store: custodian.store.usage,
      usagePointKind: (id: string) => custodian.consent.usagePoints.get(id)?.service_kind,
      mapping: input.mapping,
      at,
      notices: (published: ReadonlyMap<string, string>) =>
        publicationNotices(custodian.consent, published, custodian.publicUrl, at),
      defaults: this.#defaults,
      ...(input.progress ? { progress: input.progress } : {}),
      maxTextLength: custodian.config.maxTextLength,
    }
    const limit = custodian.config.maxConcurrentImports
    let admitted = false
    try {
      if (this.#running >= limit) {
        throw new CustodianError(
          'Unavailable',
          `${limit} usage data import(s) are running on this server, its limit (maxConcurrentImports, --max-concurrent-imports): send ${input.name} again once one has ended`,
          { retryAfterSeconds: RETRY_AFTER_SECONDS },
        )
      }
      this.#running += 1
      admitted = true
      const report = await (input.format === 'csv' ? importIntervalCsv : importGreenButtonXml)(
        context,
        input.chunks,
      )
      custodian.audit({
        actor,
        action,
        resource: input.name,
        outcome: 'ok',
        reason: `${report.readings} readings (${report.changedReadings} new or revised) for ${report.usagePoints.length} usage point(s); ${report.warnings.length} warning(s); ${report.notified} third-party notification(s)`,
      })
      custodian.metrics.imported(true, report.readings)
      return report
    } catch (error) {
      const refusal =
        error instanceof EspiReadError
          ? invalid(`${input.name}:${error.position.line}:${error.position.column}: ${error.reason}`)
          : error
      custodian.audit({
        actor,
        action,
        resource: input.name,
        outcome: isCustodianError(refusal) ? refusal.code : 'error',
        reason: refusal instanceof Error ? refusal.message : String(refusal),
      })
      custodian.metrics.imported(false)
      throw refusal
    } finally {
      if (admitted) this.#running -= 1
    }
  }
}
