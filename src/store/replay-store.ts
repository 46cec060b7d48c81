import type { Kysely } from 'kysely'
import type { Database } from './schema.js'

/** The JWT ids already accepted, shared by every node, so that signed evidence is accepted once. */
export interface ReplayStore {
  /**
   * Records `jti` of `issuer` as used until `expiresAtMs`: true when this call recorded it, false when it was
   * already recorded (a replay, or another node's use of the same token). Rows expired at `nowMs` are pruned.
   */
  claimJti(issuer: string, jti: string, expiresAtMs: number, nowMs: number): Promise<boolean>
}

export function replayStore(db: Kysely<Database>): ReplayStore {
  return {
    async claimJti(issuer, jti, expiresAtMs, nowMs) {
      // Pruned first, so that an expired row never stands in the way of its key being claimed again.
      await db.deleteFrom('evidence_replay').where('expires_at', '<', nowMs).execute()
      // One statement decides between racing nodes: the primary key lets exactly one insert through.
      const result = await db
        .insertInto('evidence_replay')
        .values({ issuer, jti, expires_at: expiresAtMs })
        .onConflict((oc) => oc.columns(['issuer', 'jti']).doNothing())
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
    },
  }
}
