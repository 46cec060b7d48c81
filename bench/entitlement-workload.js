// The entitlement workload of the million-user benchmarks (admin-writes, serve-start), in one place so that
// both build the same store. Each user has a password and 10 grants (4 roles of 20, 3 permissions of 30,
// 3 resource roles of 100); roles hold 3 permissions and some nest another role; 10 administrators hold
// `admin` through the role `admins`.

export const ROLES = 20
export const PERMISSIONS = 30
export const RESOURCE_ROLES = 100
export const ADMINS = 10

/** The rows defining permissions, roles, resources and resource roles, as [table, row]. */
export function* definitions() {
  yield ['permissions', { id: 'admin', name: 'admin', description: '', builtin: 1 }]
  for (let p = 0; p < PERMISSIONS; p++)
    yield ['permissions', { id: `p${p}`, name: `p${p}`, description: '', builtin: 0 }]
  yield ['roles', { id: 'admins', name: 'admins', description: '' }]
  yield ['role_entitlements', { role_id: 'admins', entitlement_kind: 'permission', entitlement_id: 'admin' }]
  for (let r = 0; r < ROLES; r++) {
    yield ['roles', { id: `r${r}`, name: `r${r}`, description: '' }]
    for (let k = 0; k < 3; k++) {
      const permission = `p${(r * 3 + k) % PERMISSIONS}`
      yield [
        'role_entitlements',
        { role_id: `r${r}`, entitlement_kind: 'permission', entitlement_id: permission },
      ]
    }
    if (r % 4 === 1)
      yield ['role_entitlements', { role_id: `r${r}`, entitlement_kind: 'role', entitlement_id: `r${r - 1}` }]
  }
  for (let i = 0; i < RESOURCE_ROLES; i++) {
    yield ['resources', { id: `res${i}`, description: '', parent_id: null }]
    yield ['resource_roles', { id: `rr${i}`, role_id: `r${i % ROLES}`, resource_id: `res${i}` }]
  }
}

/** The grants of user number `i`, as [grant kind, target]; the first ADMINS users also hold `admins`. */
export function grantsOf(i) {
  const grants = []
  for (let k = 0; k < 4; k++) grants.push(['role', `r${(i + k * 5) % ROLES}`])
  for (let k = 0; k < 3; k++) grants.push(['permission', `p${(i + k * 7) % PERMISSIONS}`])
  for (let k = 0; k < 3; k++) grants.push(['resource_role', `rr${(i + k * 31) % RESOURCE_ROLES}`])
  if (i < ADMINS) grants.push(['role', 'admins'])
  return grants
}
