/** How large delegation evidence or a delegation request may be, counted before anything else reads it. Pure. */

import type { Config } from '../config.js'
import { tooLarge } from '../errors.js'

type Json = Record<string, unknown>

/** How large evidence or a request may be (see the settings of the same names in config.ts). */
export interface DelegationLimits {
  /** Policy sets in one document. */
  policySets: number
  /** Policies in one document, all its policy sets together. */
  policies: number
  /** Rules in one document, all its policies together. */
  rules: number
  /** Identifiers, attributes, actions, service providers and licences in one document, all together. */
  values: number
}

export const delegationLimits = (
  config: Pick<Config, 'maxPolicySets' | 'maxPolicies' | 'maxRules' | 'maxTargetValues'>,
): DelegationLimits => ({
  policySets: config.maxPolicySets,
  policies: config.maxPolicies,
  rules: config.maxRules,
  values: config.maxTargetValues,
})

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const lengthOf = (value: unknown) => (Array.isArray(value) ? value.length : 0)
const field = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), value)

/** The values a target names: its identifiers, attributes, actions and service providers. */
const valuesOf = (target: unknown) =>
  lengthOf(field(target, 'resource', 'identifiers')) +
  lengthOf(field(target, 'resource', 'attributes')) +
  lengthOf(field(target, 'actions')) +
  lengthOf(field(target, 'environment', 'serviceProviders'))

/**
 * Refuses (413, naming the limit and its setting) delegation evidence or a delegation request larger than
 * `limits`, by counting its arrays before anything else reads it. Its shape is not judged here: whatever is
 * not where it belongs is not counted, and parseEvidence or parseRequest names it afterwards.
 */
export function checkDelegationSize(json: unknown, limits: DelegationLimits): void {
  const [at, document] = isObject(json)
    ? isObject(json.delegationEvidence)
      ? ['delegationEvidence', json.delegationEvidence]
      : isObject(json.delegationRequest)
        ? ['delegationRequest', json.delegationRequest]
        : ['$', json]
    : ['$', json]
  const refuse = (count: number, what: string, limit: number, setting: string, flag: string): never => {
    throw tooLarge(
      `${at} has ${count} ${what}, more than the ${limit} allowed (the limit ${setting}, --${flag})`,
    )
  }
  const sets = field(document, 'policySets')
  if (!Array.isArray(sets)) return
  if (sets.length > limits.policySets)
    refuse(sets.length, 'policy sets', limits.policySets, 'maxPolicySets', 'max-policy-sets')
  let policies = 0
  let rules = 0
  let values = 0
  for (const set of sets) {
    values += lengthOf(field(set, 'target', 'environment', 'licenses'))
    const inSet = field(set, 'policies')
    if (!Array.isArray(inSet)) continue
    policies += inSet.length
    for (const policy of inSet) {
      values += valuesOf(field(policy, 'target'))
      const ofPolicy = field(policy, 'rules')
      if (!Array.isArray(ofPolicy)) continue
      rules += ofPolicy.length
      for (const rule of ofPolicy) values += valuesOf(field(rule, 'target'))
    }
  }
  if (policies > limits.policies) refuse(policies, 'policies', limits.policies, 'maxPolicies', 'max-policies')
  if (rules > limits.rules) refuse(rules, 'rules', limits.rules, 'maxRules', 'max-rules')
  if (values > limits.values)
    refuse(
      values,
      'identifiers, attributes, actions, service providers and licences',
      limits.values,
      'maxTargetValues',
      'max-target-values',
    )
}
