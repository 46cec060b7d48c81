import type { Kysely } from 'kysely'
import type { Database, OidcPayloadRow } from './schema.js'

/** What the OAuth adapter needs of the store (see oauth/adapter.ts). */
export interface OidcPayloadStore {
  upsert(row: OidcPayloadRow): Promise<void>
  find(model: string, id: string, nowMs: number): Promise<OidcPayloadRow | undefined>
  findByUid(model: string, uid: string, nowMs: number): Promise<OidcPayloadRow | undefined>
  /** Marks a row consumed; false when it already was (a reuse, or a lost race). */
  consume(model: string, id: string, nowMs: number): Promise<boolean>
  destroy(model: string, id: string): Promise<void>
  /** Deletes the rows of a grant: of one model, or (model undefined) of every model and the grant itself. */
  revokeByGrantId(model: string | undefined, grantId: string): Promise<void>
  deleteExpired(nowMs: number): Promise<number>
}

/** oidc-provider's records in one table keyed by (model, id), outside the change log. */
export function oidcPayloadStore(db: Kysely<Database>): OidcPayloadStore {
  /** A payload of the model by its id or uid, unless it has expired; its times as numbers. */
  async function unexpiredRow(
    model: string,
    column: 'id' | 'uid',
    value: string,
    nowMs: number,
  ): Promise<OidcPayloadRow | undefined> {
    const row = await db
      .selectFrom('oidc_payloads')
      .selectAll()
      .where('model', '=', model)
      .where(column, '=', value)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', nowMs)]))
      .executeTakeFirst()
    if (!row) return undefined
    return {
      ...row,
      expires_at: row.expires_at === null ? null : Number(row.expires_at),
      consumed_at: row.consumed_at === null ? null : Number(row.consumed_at),
    }
  }

  return {
    upsert: async (row) => {
      const { model, id, ...rest } = row
      await db
        .insertInto('oidc_payloads')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(rest))
        .execute()
    },
    find: (model, id, nowMs) => unexpiredRow(model, 'id', id, nowMs),
    findByUid: (model, uid, nowMs) => unexpiredRow(model, 'uid', uid, nowMs),
    consume: async (model, id, nowMs) => {
      const result = await db
        .updateTable('oidc_payloads')
        .set({ consumed_at: nowMs })
        .where('model', '=', model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    destroy: async (model, id) => {
      await db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id).execute()
    },
    revokeByGrantId: async (model, grantId) => {
      let query = db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId)
      if (model !== undefined) query = query.where('model', '=', model)
      await query.execute()
      if (model === undefined) {
        await db.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('id', '=', grantId).execute()
      }
    },
    deleteExpired: async (nowMs) => {
      const result = await db.deleteFrom('oidc_payloads').where('expires_at', '<', nowMs).executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
