import type { Kernel, Planner } from './kernel.js'
import type { Index } from './projections.js'
import type { ChangeResult } from './write-plan.js'

/**
 * What a domain's service is handed: the kernel's services, every projection of the Index as a member
 * (`node.consent`), and what other domains add to it by declaration merging (entitlements adds its token
 * checks and sessions). custodian.ts's Custodian implements it.
 */
export interface Node
  extends Index,
    Pick<
      Kernel,
      | 'config'
      | 'log'
      | 'metrics'
      | 'store'
      | 'projections'
      | 'publicUrl'
      | 'revision'
      | 'staleness'
      | 'fresh'
      | 'catchingUp'
      | 'now'
      | 'audit'
      | 'flush'
      | 'flushAudit'
      | 'catchUp'
      | 'atLeast'
    > {
  /**
   * A change by a user whom the caller has authenticated another way (the OAuth interaction's session):
   * in-process only, never reachable with a bare user id from outside.
   */
  writeFor(userId: string, action: string, resource: string, plan: Planner): Promise<ChangeResult>
}
