import { randomUUID } from 'node:crypto'
import type { Kysely, Transaction } from 'kysely'
import type { Database, GbResourceRow } from './schema.js'

export interface ResourceInput {
  usagePointId: string
  kind: string
  source: string
  title: string
  content: string
  linkId?: string | null
  intervalLength?: number | null
}

type ResourceState = GbResourceRow & { dirty: boolean; isNew: boolean }

/**
 * The resources an import adds or revises (a few per usage point), held until it commits (staged-import.ts):
 * read from the store once, then kept here, so that the import sees its own changes and no reader sees them
 * before it commits.
 */
export class PendingResources {
  readonly #byPlace = new Map<string, ResourceState>()
  readonly #byId = new Map<string, ResourceState>()
  /** Whether any resource is new or changed. */
  changed = false

  constructor(readonly db: Kysely<Database>) {}

  #keep(state: ResourceState): ResourceState {
    this.#byPlace.set(`${state.usage_point_id}\u0000${state.kind}\u0000${state.source}`, state)
    this.#byId.set(state.id, state)
    return state
  }

  /**
   * Adds a resource, or revises the one from the same place (usage point, kind, source); `updated` moves
   * only when something changed. `placeholder` adds it only if it is missing.
   */
  async put(
    input: ResourceInput,
    at: number,
    placeholder = false,
  ): Promise<{ id: string; changed: boolean }> {
    let existing = this.#byPlace.get(`${input.usagePointId}\u0000${input.kind}\u0000${input.source}`)
    if (!existing) {
      const row = await this.db
        .selectFrom('gb_resources')
        .selectAll()
        .where('usage_point_id', '=', input.usagePointId)
        .where('kind', '=', input.kind)
        .where('source', '=', input.source)
        .executeTakeFirst()
      if (row) existing = this.#keep({ ...row, dirty: false, isNew: false })
    }
    const fields = {
      title: input.title,
      content: input.content,
      link_id: input.linkId ?? existing?.link_id ?? null,
      interval_length: input.intervalLength ?? existing?.interval_length ?? null,
    }
    if (!existing) {
      const state = this.#keep({
        id: randomUUID(),
        usage_point_id: input.usagePointId,
        kind: input.kind,
        source: input.source,
        ...fields,
        published: at,
        updated: at,
        dirty: true,
        isNew: true,
      })
      this.changed = true
      return { id: state.id, changed: true }
    }
    const changed =
      !placeholder &&
      (existing.title !== fields.title ||
        existing.content !== fields.content ||
        existing.link_id !== fields.link_id ||
        existing.interval_length !== fields.interval_length)
    if (changed) {
      Object.assign(existing, fields, { updated: at, dirty: true })
      this.changed = true
    }
    return { id: existing.id, changed }
  }

  /** A resource by its id, as this import has it so far. */
  async get(id: string): Promise<GbResourceRow | undefined> {
    const state = await this.#stateOf(id)
    if (!state) return undefined
    const { dirty: _dirty, isNew: _isNew, ...row } = state
    return row
  }

  async #stateOf(id: string): Promise<ResourceState | undefined> {
    const state = this.#byId.get(id)
    if (state) return state
    const row = await this.db.selectFrom('gb_resources').selectAll().where('id', '=', id).executeTakeFirst()
    return row && this.#keep({ ...row, dirty: false, isNew: false })
  }

  /** Links a resource to another (a MeterReading to its ReadingType, a UsagePoint to its local time). */
  async link(id: string, linkId: string, intervalLength: number | null, at: number): Promise<void> {
    const state = await this.#stateOf(id)
    if (!state) return
    if (state.link_id !== linkId || state.interval_length !== intervalLength) {
      Object.assign(state, { link_id: linkId, interval_length: intervalLength, updated: at, dirty: true })
    }
  }

  /** Writes what was added or changed, in the import's commit. */
  async write(trx: Transaction<Database>): Promise<void> {
    for (const state of this.#byPlace.values()) {
      if (!state.dirty) continue
      const { dirty: _dirty, isNew, ...row } = state
      if (isNew) await trx.insertInto('gb_resources').values(row).execute()
      else await trx.updateTable('gb_resources').set(row).where('id', '=', row.id).execute()
    }
  }
}
