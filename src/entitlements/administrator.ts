import { ADMIN_PERMISSION } from './permissions.js'

/**
 * The administrator rule, written once: `admin` held on every resource (through a plain role or permission;
 * a resource role that holds `admin` makes no administrator). Administrators may do anything. Apart from
 * rules.ts so that the Index, which counts administrators, and the rules, which read the Index, both use it.
 */
export const holdsAdmin = (held: { readonly global: ReadonlySet<string> }): boolean =>
  held.global.has(ADMIN_PERMISSION)
