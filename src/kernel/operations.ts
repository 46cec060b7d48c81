import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { invalid } from '../errors.js'
import { Changed, Created, Items } from './schemas.js'
import type { ChangeResult } from './write-plan.js'

/**
 * An operation is declared once, in its domain's table: its name (the script command and CLI verb), what
 * it needs, its input and output schemas and the function that does it. The HTTP routes, the script
 * commands, the CLI verbs and the OpenAPI entries are generated from the tables (http/operation-routes.ts,
 * script/operation-commands.ts).
 */

/**
 * What a caller must present:
 * - `admin`: administrative: the token of a user holding the permission the administration table names for
 *   the action (entitlements/permissions.ts: user_admin for users, say), or `admin`, which allows every one;
 *   without a token, bootstrap mode, before any administrator exists;
 * - `token`: any valid token; the operation's own access check decides, on the token's user;
 * - `public`: nothing (logging in is where a token comes from).
 */
export type Permission = 'admin' | 'token' | 'public'

/**
 * What operations run against: the node with every domain's services. The composition root (custodian.ts)
 * declares it to be the Custodian facade, so that the kernel imports no domain to name it.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging, as Index is
export interface OperationHost {}

export interface OperationContext {
  custodian: OperationHost
  /** The bearer token (HTTP), or the session's administrative token (script, CLI); undefined if none. */
  token: string | undefined
  /** Where the call comes from: the client's IP address, or `script` / `cli`. */
  address: string
  /** Where links in answers point: the configured public URL over HTTP; '' in scripts. */
  baseUrl: string
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE'

export interface Operation<I extends TSchema = TSchema, O extends TSchema = TSchema> {
  /** snake_case: the script command and CLI verb; the OpenAPI operationId. */
  name: string
  summary: string
  description?: string
  tags: string[]
  permission: Permission
  /**
   * `admin` is checked by the framework before `run`, naming this action in the refusal (default: the name
   * in words), unless `checkedByService`: the domain service checks it itself, a change under the store's
   * write lock against the very Index the change is planned on.
   */
  action?: string
  checkedByService?: true
  input: I
  output: O
  /** Path parameters are input fields by name; for GET and DELETE the other fields are the query, else the body. */
  http?: { method: HttpMethod; path: string; status?: number; headers?: Record<string, string> }
  script?: {
    /** Input fields in the order of the positional arguments; the last `optional` ones may be left out. */
    args: string[]
    optional?: number
    usage: string
    help: string
    /** The first argument is a token reference (`@<user>` or a token), which becomes the context's token. */
    tokenArg?: true
    /** The one line a person reads and the `--json` result; by default a change's summary, else the JSON. */
    present?: (output: Static<O>) => { message: string; result: unknown }
  }
  run(context: OperationContext, input: Static<I>): Promise<Static<O>> | Static<O>
}

/** Types one entry of a table against its own schemas; the table then lists entries of any schemas. */
export function operation<I extends TSchema, O extends TSchema>(op: Operation<I, O>): Operation {
  const { run, script } = op
  const present = script?.present
  return {
    ...op,
    // The generators validate the input against `op.input` before running.
    run: (context, input) => run(context, input as Static<I>),
    ...(script && {
      script: { ...script, ...(present && { present: (output) => present(output as Static<O>) }) },
    }),
  } as Operation
}

/** An operation that answers a list and takes no input: a GET of `path`, answering `{ items }`. */
export function listing({
  path,
  items,
  ...op
}: Pick<Operation, 'name' | 'summary' | 'tags' | 'permission' | 'action' | 'checkedByService'> & {
  path: string
  items: (context: OperationContext) => unknown[]
}): Operation {
  return operation({
    ...op,
    input: Type.Object({}),
    output: Items,
    http: { method: 'GET', path },
    run: (context) => ({ items: items(context) }),
  })
}

export const isChange = (op: Operation) => op.output === Changed || op.output === Created

/**
 * What the permission means, for people: the OpenAPI description. `needs` is the permission the
 * administration table names for an administrative operation (the kernel knows no domain to look it up).
 */
export function describePermission(op: Operation, needs = 'admin'): string {
  switch (op.permission) {
    case 'admin':
      return needs === 'admin'
        ? 'Needs the admin permission.'
        : `Needs the ${needs} permission (or admin, which allows every administrative operation).`
    case 'token':
      return 'Needs a valid access token; the access check decides on its user.'
    case 'public':
      return 'Needs no access token.'
  }
}

/** Validates the input against the operation's schema: a bad field is a Validation error that names it. */
export function checkInput(op: Operation, input: unknown): unknown {
  const converted = Value.Convert(op.input, Value.Default(op.input, input))
  const errors = [...Value.Errors(op.input, converted)]
  if (errors.length > 0) {
    throw invalid(
      errors
        .map((e) => `${e.path === '' ? 'input' : e.path.slice(1).replaceAll('/', '.')} ${e.message}`)
        .join('; '),
    )
  }
  return converted
}

/** Runs an operation on valid input: the framework's permission check first, unless the write path does it. */
export async function invoke(op: Operation, context: OperationContext, input: unknown): Promise<unknown> {
  if (op.permission === 'admin' && !op.checkedByService)
    context.custodian.authorizeAdminAction(context.token, op.action ?? op.name.replaceAll('_', ' '))
  return op.run(context, input)
}

/** The script and CLI form of a change: its summary, and the revision with any details. */
export const changeOutcome = (r: ChangeResult) => ({
  message: r.summary,
  result: { revision: r.revision, summary: r.summary, ...r.details },
})

/** A domain's services made once per Custodian, on first use, so every surface shares their state. */
export function perCustodian<T>(make: (custodian: OperationHost) => T): (custodian: OperationHost) => T {
  const made = new WeakMap<OperationHost, T>()
  return (custodian) => {
    let found = made.get(custodian)
    if (found === undefined) {
      found = make(custodian)
      made.set(custodian, found)
    }
    return found
  }
}
