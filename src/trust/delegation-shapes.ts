/**
 * iSHARE delegation evidence and delegation requests: their shapes, and reading them from JSON, naming the
 * field of any fault. Pure.
 */

export interface ResourceTarget {
  type?: string
  identifiers?: string[]
  attributes?: string[]
}

export interface PolicyTarget {
  resource: ResourceTarget
  actions?: string[]
  environment?: { serviceProviders?: string[] }
}

export type Effect = 'Permit' | 'Deny'

export interface Rule {
  effect: Effect
  target?: { resource?: ResourceTarget; actions?: string[]; environment?: { serviceProviders?: string[] } }
}

export interface Policy {
  target: PolicyTarget
  rules: Rule[]
}

export interface PolicySet {
  maxDelegationDepth?: number
  target?: { environment?: { licenses?: string[] } }
  policies: Policy[]
}

export interface DelegationEvidence {
  notBefore: number
  notOnOrAfter: number
  policyIssuer: string
  target: { accessSubject: string }
  policySets: PolicySet[]
}

export interface DelegationRequest {
  policyIssuer: string
  target: { accessSubject: string }
  policySets: { target?: { environment?: { licenses?: string[] } }; policies: { target: PolicyTarget }[] }[]
}

export class ShapeError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`)
  }
}

type Json = Record<string, unknown>

const object = (value: unknown, path: string): Json => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ShapeError(path, 'must be an object')
  return value as Json
}
const text = (value: unknown, path: string): string => {
  if (typeof value !== 'string' || value === '') throw new ShapeError(path, 'must be a non-empty string')
  return value
}
const seconds = (value: unknown, path: string): number => {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw new ShapeError(path, 'must be a whole number of seconds since 1970')
  return value as number
}
const texts = (value: unknown, path: string): string[] | undefined => {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0)
    throw new ShapeError(path, 'must be a non-empty array of strings')
  return value.map((v, i) => text(v, `${path}[${i}]`))
}
const list = (value: unknown, path: string): unknown[] => {
  if (!Array.isArray(value) || value.length === 0) throw new ShapeError(path, 'must be a non-empty array')
  return value
}
/** Copies only the fields that are there, so that a target reads back as it was written. */
export const defined = <T extends Json>(fields: T): T => {
  const out: Json = {}
  for (const key in fields) if (fields[key] !== undefined) out[key] = fields[key]
  return out as T
}

function resourceTarget(value: unknown, path: string): ResourceTarget {
  const r = object(value, path)
  return defined({
    type: r.type === undefined ? undefined : text(r.type, `${path}.type`),
    identifiers: texts(r.identifiers, `${path}.identifiers`),
    attributes: texts(r.attributes, `${path}.attributes`),
  })
}

function environment(value: unknown, path: string, key: 'serviceProviders' | 'licenses') {
  if (value === undefined) return undefined
  const e = object(value, path)
  return defined({ [key]: texts(e[key], `${path}.${key}`) })
}

function policyTarget(value: unknown, path: string, resourceRequired = true): PolicyTarget {
  const t = object(value, path)
  if (resourceRequired && t.resource === undefined) throw new ShapeError(`${path}.resource`, 'is required')
  return defined({
    resource: t.resource === undefined ? {} : resourceTarget(t.resource, `${path}.resource`),
    actions: texts(t.actions, `${path}.actions`),
    environment: environment(
      t.environment,
      `${path}.environment`,
      'serviceProviders',
    ) as PolicyTarget['environment'],
  })
}

function rule(value: unknown, path: string, first: boolean, only: boolean): Rule {
  const r = object(value, path)
  if (r.effect !== 'Permit' && r.effect !== 'Deny')
    throw new ShapeError(`${path}.effect`, 'must be "Permit" or "Deny"')
  // A policy is a Permit and the Deny rules carved out of it; a register's answer is one rule, either effect.
  if (first && !only && r.effect !== 'Permit')
    throw new ShapeError(`${path}.effect`, 'the first rule of a policy with Deny rules is its Permit')
  if (!first && r.effect !== 'Deny')
    throw new ShapeError(`${path}.effect`, 'rules after the first are Deny rules')
  return defined<Rule & Json>({
    effect: r.effect as Effect,
    target: r.target === undefined ? undefined : policyTarget(r.target, `${path}.target`, false),
  })
}

function licences(value: unknown, path: string) {
  if (value === undefined) return undefined
  const t = object(value, path)
  return defined({
    environment: environment(t.environment, `${path}.environment`, 'licenses'),
  }) as PolicySet['target']
}

/** The document under `key` in `json` (or `json` itself), and the path that names it. */
function documentIn(json: unknown, key: 'delegationEvidence' | 'delegationRequest'): [Json, string] {
  const outer = object(json, '$')
  const at = outer[key] ? key : '$'
  return [object(outer[key] ?? outer, at), at]
}

/**
 * What evidence and a request share: the issuer, the subject, and the policy sets with their licences and
 * policies. `setFields` reads a set's own further fields, `policy` each policy.
 */
function issued<S extends Json, P>(
  d: Json,
  at: string,
  setFields: (set: Json, path: string) => S,
  policy: (policy: Json, path: string) => P,
) {
  return {
    policyIssuer: text(d.policyIssuer, `${at}.policyIssuer`),
    target: {
      accessSubject: text(object(d.target, `${at}.target`).accessSubject, `${at}.target.accessSubject`),
    },
    policySets: list(d.policySets, `${at}.policySets`).map((value, i) => {
      const path = `${at}.policySets[${i}]`
      const s = object(value, path)
      return defined({
        ...setFields(s, path),
        target: licences(s.target, `${path}.target`),
        policies: list(s.policies, `${path}.policies`).map((p, j) =>
          policy(object(p, `${path}.policies[${j}]`), `${path}.policies[${j}]`),
        ),
      })
    }),
  }
}

/** Reads `{delegationEvidence: ...}` (or the evidence itself), naming the field of any fault. */
export function parseEvidence(json: unknown): DelegationEvidence {
  const [e, at] = documentIn(json, 'delegationEvidence')
  const notBefore = seconds(e.notBefore, `${at}.notBefore`)
  const notOnOrAfter = seconds(e.notOnOrAfter, `${at}.notOnOrAfter`)
  if (notOnOrAfter <= notBefore) throw new ShapeError(`${at}.notOnOrAfter`, 'must be after notBefore')
  return {
    notBefore,
    notOnOrAfter,
    ...issued(
      e,
      at,
      (s, path) => {
        const depth = s.maxDelegationDepth
        if (depth !== undefined && (!Number.isSafeInteger(depth) || (depth as number) < 0))
          throw new ShapeError(`${path}.maxDelegationDepth`, 'must be a whole number, 0 or more')
        return { maxDelegationDepth: depth as number | undefined }
      },
      (policy, path) => ({
        target: policyTarget(policy.target, `${path}.target`),
        rules: list(policy.rules, `${path}.rules`).map((r, k, all) =>
          rule(r, `${path}.rules[${k}]`, k === 0, all.length === 1),
        ),
      }),
    ),
  }
}

/** Reads `{delegationRequest: ...}` (or the request itself). */
export function parseRequest(json: unknown): DelegationRequest {
  const [r, at] = documentIn(json, 'delegationRequest')
  return issued(
    r,
    at,
    () => ({}),
    (policy, path) => ({ target: policyTarget(policy.target, `${path}.target`) }),
  )
}

/** The JSON of the files iSHARE registers exchange: `//` comment lines before the document are allowed. */
export const withoutComments = (source: string) => source.replace(/^\s*\/\/.*$/gm, '')
