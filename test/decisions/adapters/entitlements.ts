import { expect } from 'vitest'
import { EntitlementIndex } from '../../../src/entitlements/entitlement-index.js'
import { decideAccess, decideAccessAny, explainDenial } from '../../../src/entitlements/rules.js'
import type { GrantKind } from '../../../src/store/schema.js'
import type { PlannedChange } from '../../../src/store/store.js'
import { applyAll, type DomainAdapter, field, optional, type Question, strings } from './adapter.js'

/**
 * House Mate entitlements. A model (and a case's `given`/`remove`) names rows by kind:
 *   permissions: [p, ...]            builtin: [admin]
 *   roles: {role: [permission, role:nested, ...]}
 *   resources: {id: parent or ~}     resource_roles: {id: {role, on}}
 *   users: {id: [role:r, permission:p, resource_role:rr, ...]}
 * Under `remove`, a user or role with entries loses those entries; with none (~ or []) it is itself removed.
 * A question: {user, permission | any: [...], resource}; `explanation` is also compared with explainDenial.
 */
const GRANT_KINDS: readonly GrantKind[] = ['role', 'permission', 'resource_role']

const entry = (text: string) => {
  const at = text.indexOf(':')
  return at < 0 ? { kind: '', id: text } : { kind: text.slice(0, at), id: text.slice(at + 1) }
}

const record = (of: Question, name: string) => (optional<Question>(of, name, 'object') ?? {}) as Question

/** The rows a model fragment names, as the write path would plan them. */
export function entitlementRows(fragment: unknown, op: 'put' | 'delete' = 'put'): PlannedChange[] {
  const of = (fragment ?? {}) as Question
  const put = op === 'put'
  const changes: PlannedChange[] = []
  const permission = (id: string, builtin: number): PlannedChange => ({
    tbl: 'permissions',
    op,
    row: { id, name: id, description: id, builtin },
  })
  changes.push(...strings(of, 'builtin').map((id) => permission(id, 1)))
  changes.push(...strings(of, 'permissions').map((id) => permission(id, 0)))
  for (const [role, held] of Object.entries(record(of, 'roles'))) {
    const entries = strings({ [role]: held }, role)
    if (put || entries.length === 0)
      changes.push({ tbl: 'roles', op, row: { id: role, name: role, description: role } })
    for (const text of entries) {
      const { kind, id } = entry(text)
      if (kind !== '' && kind !== 'role')
        throw new Error(`roles.${role}: "${text}" is neither a permission nor role:<id>`)
      changes.push({
        tbl: 'role_entitlements',
        op,
        row: { role_id: role, entitlement_kind: kind === 'role' ? 'role' : 'permission', entitlement_id: id },
      })
    }
  }
  for (const [id, parent] of Object.entries(record(of, 'resources')))
    changes.push({
      tbl: 'resources',
      op,
      row: { id, description: id, parent_id: (parent as string | null) ?? null },
    })
  for (const [id, binding] of Object.entries(record(of, 'resource_roles'))) {
    const b = binding as Question
    changes.push({
      tbl: 'resource_roles',
      op,
      row: { id, role_id: field<string>(b, 'role', 'string'), resource_id: field<string>(b, 'on', 'string') },
    })
  }
  for (const [user, grants] of Object.entries(record(of, 'users'))) {
    const entries = strings({ [user]: grants }, user)
    if (put || entries.length === 0) changes.push({ tbl: 'users', op, row: { id: user, name: user } })
    for (const text of entries) {
      const { kind, id } = entry(text)
      if (!GRANT_KINDS.includes(kind as GrantKind))
        throw new Error(`users.${user}: "${text}" must be role:<id>, permission:<id> or resource_role:<id>`)
      changes.push({
        tbl: 'user_grants',
        op,
        row: { user_id: user, grant_kind: kind as GrantKind, target_id: id },
      })
    }
  }
  return changes
}

export const entitlements: DomainAdapter<EntitlementIndex> = {
  build: (model) => applyAll(new EntitlementIndex(), entitlementRows(model)),
  given(index, fragment, op) {
    applyAll(index, entitlementRows(fragment, op))
  },
  ask(index, q) {
    const user = field<string>(q, 'user', 'string')
    const resource = field<string>(q, 'resource', 'string')
    const any = q.any === undefined ? undefined : strings(q, 'any')
    const permission = any ? undefined : field<string>(q, 'permission', 'string')
    const decision = any
      ? decideAccessAny(index, user, any, resource)
      : decideAccess(index, user, permission as string, resource)
    const explanation = optional<string>(q, 'explanation', 'string')
    if (explanation !== undefined && permission !== undefined)
      expect(explainDenial(index, user, permission, resource), 'explainDenial').toBe(explanation)
    return decision
  },
  revision: (index) => index.revision,
}
