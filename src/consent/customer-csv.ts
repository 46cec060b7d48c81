import type { Index } from '../kernel/projections.js'
import type { Plan } from '../kernel/write-plan.js'
import type { ServiceKind } from '../store/schema.js'
import type { PlannedChange } from '../store/store.js'
import { SERVICE_KINDS } from './changes.js'

/**
 * Bulk import of customers and their usage points from CSV rows, all or nothing: every row is checked
 * first, every problem is reported with its line and field, and only a clean file is written, in one
 * transaction. Pure: passwords arrive hashed and ids arrive made.
 *
 * Columns: username, name, email, account_number, password, and optionally usage_point_id,
 * usage_point_description, service_kind. A username that appears again adds only its usage point.
 */
export const CUSTOMER_COLUMNS = ['username', 'name', 'email', 'account_number', 'password'] as const
export const USAGE_POINT_COLUMNS = ['usage_point_id', 'usage_point_description', 'service_kind'] as const

export interface CustomerCsvRow {
  line: number
  fields: Record<string, string>
}

export interface ImportProblem {
  line: number
  field: string
  message: string
}

export interface CheckedImport {
  /** New customers, first row of each username. */
  customers: {
    line: number
    username: string
    name: string
    email: string
    accountNumber: string
    password: string
  }[]
  usagePoints: { line: number; username: string; id?: string; description: string; kind: ServiceKind }[]
  problems: ImportProblem[]
}

export function checkHeader(columns: readonly string[]): ImportProblem[] {
  const known = new Set<string>([...CUSTOMER_COLUMNS, ...USAGE_POINT_COLUMNS])
  const problems: ImportProblem[] = []
  for (const c of CUSTOMER_COLUMNS)
    if (!columns.includes(c)) problems.push({ line: 1, field: c, message: 'column is missing' })
  for (const c of columns)
    if (!known.has(c))
      problems.push({ line: 1, field: c, message: `unknown column (known: ${[...known].join(', ')})` })
  return problems
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,199}$/
const EMAIL = /^[^\s@]+@[^\s@]+$/
const USAGE_POINT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/

export function checkRows({ index, consent }: Index, rows: Iterable<CustomerCsvRow>): CheckedImport {
  const result: CheckedImport = { customers: [], usagePoints: [], problems: [] }
  const seen = new Set<string>()
  const pointIds = new Set<string>()
  for (const { line, fields } of rows) {
    const problem = (field: string, message: string) => result.problems.push({ line, field, message })
    const username = fields.username ?? ''
    if (!USERNAME.test(username)) {
      problem('username', `"${username}" is not a valid username`)
      continue
    }
    const known = seen.has(username) || consent.customerOfUser(username) !== undefined
    if (!known) {
      if (index.users.has(username)) problem('username', `${username} is already a user but not a customer`)
      const email = fields.email ?? ''
      if (!EMAIL.test(email)) problem('email', `"${email}" is not an email address`)
      if (!fields.name) problem('name', 'is empty')
      if (!fields.account_number) problem('account_number', 'is empty')
      const password = fields.password ?? ''
      if (password.length < 8 || password.length > 1024) problem('password', 'must be 8 to 1024 characters')
      seen.add(username)
      result.customers.push({
        line,
        username,
        name: fields.name ?? '',
        email,
        accountNumber: fields.account_number ?? '',
        password,
      })
    }
    const description = fields.usage_point_description ?? ''
    const kind = fields.service_kind ?? ''
    const id = fields.usage_point_id ?? ''
    if (!description && !kind && !id) continue
    if (!SERVICE_KINDS.includes(kind as ServiceKind))
      problem('service_kind', `must be one of ${SERVICE_KINDS.join(', ')}, not "${kind}"`)
    if (description.length > 500) problem('usage_point_description', 'is longer than 500 characters')
    if (id) {
      if (!USAGE_POINT_ID.test(id)) problem('usage_point_id', `"${id}" is not a valid id`)
      else if (pointIds.has(id) || consent.usagePoints.has(id))
        problem('usage_point_id', `${id} is used twice`)
      pointIds.add(id)
    }
    result.usagePoints.push({ line, username, ...(id ? { id } : {}), description, kind: kind as ServiceKind })
  }
  return result
}

/** The rows to write for a clean import. `ids` makes the opaque ids; `hashes` holds each new customer's password hash. */
export function importPlan(
  { consent }: Index,
  checked: CheckedImport,
  hashes: ReadonlyMap<string, string>,
  ids: (prefix: string) => string,
  now: string,
): Plan {
  const changes: PlannedChange[] = []
  const customerIds = new Map<string, string>()
  for (const c of checked.customers) {
    const id = ids('rc')
    customerIds.set(c.username, id)
    changes.push(
      { tbl: 'users', op: 'put', row: { id: c.username, name: c.name } },
      {
        tbl: 'credentials',
        op: 'put',
        row: { user_id: c.username, kind: 'password', secret_hash: hashes.get(c.username) as string },
      },
      {
        tbl: 'espi_customers',
        op: 'put',
        row: {
          id,
          user_id: c.username,
          name: c.name,
          email: c.email,
          account_number: c.accountNumber,
          created_at: now,
        },
      },
    )
  }
  for (const p of checked.usagePoints) {
    const customerId = customerIds.get(p.username) ?? (consent.customerOfUser(p.username)?.id as string)
    changes.push({
      tbl: 'espi_usage_points',
      op: 'put',
      row: {
        id: p.id ?? ids('up'),
        customer_id: customerId,
        description: p.description,
        service_kind: p.kind,
        created_at: now,
      },
    })
  }
  return {
    changes,
    summary: `imported ${checked.customers.length} customer(s) and ${checked.usagePoints.length} usage point(s)`,
    details: { customers: checked.customers.length, usagePoints: checked.usagePoints.length },
  }
}
