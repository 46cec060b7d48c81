/**
 * The Authorization Register's answer to a delegation request (mask) under a data owner's policy. Pure.
 *
 * Evaluation: policy sets and the policies in them combine permit-overrides; the rules of one policy combine
 * deny-overrides, its first rule being the Permit and later ones Deny rules with their own targets (a field a
 * Deny rule leaves out is the policy's). A policy applies to a requested target when it covers all of it:
 * the same resource type, every identifier and attribute (a policy's `*` covers any; a request for `*` needs
 * a policy's `*`), every action, and the service providers when the policy names them. A Deny rule bites when
 * its target overlaps the request at all. Outside [notBefore, notOnOrAfter) everything is denied.
 */

import {
  type DelegationEvidence,
  type DelegationRequest,
  defined,
  type Effect,
  type Policy,
  type PolicySet,
  type PolicyTarget,
  type Rule,
} from './delegation-shapes.js'

export interface DelegationAnswer {
  /** The evidence the register returns: the request's targets, each with a single Permit or Deny rule. */
  evidence: DelegationEvidence
  /** Why, per requested policy, in the request's order. */
  reasons: string[]
}

const ANY = '*'
/** Whether `granted` covers every one of `asked`: `*` covers anything, and only `*` covers `*`. */
const coversAll = (granted: readonly string[] | undefined, asked: readonly string[] | undefined) =>
  !asked || (granted !== undefined && (granted.includes(ANY) || asked.every((a) => granted.includes(a))))

function covers(policy: PolicyTarget, asked: PolicyTarget): string | undefined {
  if (policy.resource.type !== asked.resource.type)
    return `resource type ${asked.resource.type ?? '(none)'} is not ${policy.resource.type ?? '(none)'}`
  if (!coversAll(policy.resource.identifiers, asked.resource.identifiers ?? [ANY]))
    return `identifiers ${(asked.resource.identifiers ?? [ANY]).join(', ')} are not all within ${policy.resource.identifiers?.join(', ')}`
  if (!coversAll(policy.resource.attributes, asked.resource.attributes ?? [ANY]))
    return `attributes ${(asked.resource.attributes ?? [ANY]).join(', ')} are not all within ${policy.resource.attributes?.join(', ')}`
  if (!coversAll(policy.actions, asked.actions))
    return `actions ${asked.actions?.join(', ')} are not all within ${policy.actions?.join(', ')}`
  const providers = policy.environment?.serviceProviders
  if (providers && !coversAll(providers, asked.environment?.serviceProviders ?? [ANY]))
    return `the policy is for service providers ${providers.join(', ')} only`
  return undefined
}

// Evaluation reads each list of values as a Set, made once per evidence (kept as long as the evidence is)
// and once per requested policy: a request's cost grows with its size times the evidence's policies and
// rules, never with the product of their lists.

/** A list of values as evaluation reads it: in order, as a Set, and whether it names `*`. */
interface ValueList {
  list: readonly string[]
  set: ReadonlySet<string>
  any: boolean
}
type Values = ValueList | undefined
const valueSet = (values: readonly string[] | undefined): Values =>
  values && { list: values, set: new Set(values), any: values.includes(ANY) }

/** Whether `granted` covers every one of `asked`: `*` covers anything, and only `*` covers `*`. */
const coversAllSet = (granted: Values, asked: Values) => {
  if (!asked) return true
  if (!granted) return false
  if (granted.any) return true
  const { list } = asked
  for (let i = 0; i < list.length; i++) if (!granted.set.has(list[i] as string)) return false
  return true
}
const overlapSet = (a: Values, b: Values) => {
  if (!a || !b || a.any || b.any) return true
  const small = a.list.length <= b.list.length ? a : b
  const { set } = small === a ? b : a
  const { list } = small
  for (let i = 0; i < list.length; i++) if (set.has(list[i] as string)) return true
  return false
}

interface TargetSets {
  type: string | undefined
  identifiers: Values
  attributes: Values
  actions: Values
  serviceProviders: Values
}

const targetSets = (t: Rule['target'] | undefined): TargetSets => ({
  type: t?.resource?.type,
  identifiers: valueSet(t?.resource?.identifiers),
  attributes: valueSet(t?.resource?.attributes),
  actions: valueSet(t?.actions),
  serviceProviders: valueSet(t?.environment?.serviceProviders),
})

interface CompiledPolicy {
  policy: Policy
  target: TargetSets
  /**
   * The Deny rules after the first, with their own targets, by the resource type they bite on (theirs or
   * the policy's) and in order: only the rules of the requested type are looked at.
   */
  denyRules: ReadonlyMap<string | undefined, { index: number; target: TargetSets }[]>
}

function denyRulesOf(policy: Policy, target: TargetSets): CompiledPolicy['denyRules'] {
  const byType = new Map<string | undefined, { index: number; target: TargetSets }[]>()
  policy.rules.forEach((rule, index) => {
    if (index === 0 || rule.effect !== 'Deny') return
    const sets = targetSets(rule.target)
    const type = sets.type ?? target.type
    const list = byType.get(type)
    if (list) list.push({ index, target: sets })
    else byType.set(type, [{ index, target: sets }])
  })
  return byType
}

interface CompiledSet {
  set: PolicySet
  licences: Values
  policies: CompiledPolicy[]
}

const compiled = new WeakMap<DelegationEvidence, CompiledSet[]>()

/** The evidence's policy sets as evaluation reads them: made once per evidence object. */
function compile(evidence: DelegationEvidence): CompiledSet[] {
  let sets = compiled.get(evidence)
  if (!sets) {
    sets = evidence.policySets.map((set) => ({
      set,
      licences: valueSet(set.target?.environment?.licenses),
      policies: set.policies.map((policy) => {
        const target = targetSets(policy.target)
        return { policy, target, denyRules: denyRulesOf(policy, target) }
      }),
    }))
    compiled.set(evidence, sets)
  }
  return sets
}

const ANY_ONLY: ValueList = { list: [ANY], set: new Set([ANY]), any: true }

/** Whether `policy` covers all of `asked` (see covers, which says why not). */
function coversSets(policy: TargetSets, asked: TargetSets): boolean {
  return (
    policy.type === asked.type &&
    coversAllSet(policy.identifiers, asked.identifiers ?? ANY_ONLY) &&
    coversAllSet(policy.attributes, asked.attributes ?? ANY_ONLY) &&
    coversAllSet(policy.actions, asked.actions) &&
    (!policy.serviceProviders || coversAllSet(policy.serviceProviders, asked.serviceProviders ?? ANY_ONLY))
  )
}

/** Whether a Deny rule bites: what it names, the policy's target for what it leaves out, overlaps `asked`. */
function deniesSets(rule: TargetSets, policy: TargetSets, asked: TargetSets): boolean {
  return (
    (rule.type ?? policy.type) === asked.type &&
    overlapSet(rule.identifiers ?? policy.identifiers, asked.identifiers) &&
    overlapSet(rule.attributes ?? policy.attributes, asked.attributes) &&
    overlapSet(rule.actions ?? policy.actions, asked.actions) &&
    overlapSet(rule.serviceProviders ?? policy.serviceProviders, asked.serviceProviders)
  )
}

/** The register's answer to `request` under the data owner's `policy`, at `at` (seconds since 1970). */
export function answerDelegation(
  policy: DelegationEvidence,
  request: DelegationRequest,
  at: number,
): DelegationAnswer {
  const reasons: string[] = []
  const general =
    request.policyIssuer !== policy.policyIssuer
      ? `the policy is issued by ${policy.policyIssuer}, not ${request.policyIssuer}`
      : request.target.accessSubject !== policy.target.accessSubject
        ? `the policy is for ${policy.target.accessSubject}, not ${request.target.accessSubject}`
        : at < policy.notBefore
          ? `the policy is not valid before ${policy.notBefore}`
          : at >= policy.notOnOrAfter
            ? `the policy expired at ${policy.notOnOrAfter}`
            : undefined
  const sets = compile(policy)
  const policySets = request.policySets.map((askedSet) => {
    const asked = askedSet.target?.environment?.licenses
    const askedLicences = valueSet(asked)
    const candidates = sets.filter((s) => coversAllSet(s.licences, askedLicences))
    let chosen = candidates[0] ?? sets[0]
    const policies = askedSet.policies.map(({ target }) => {
      if (general) {
        reasons.push(general)
        return { target, rules: [{ effect: 'Deny' as Effect }] }
      }
      const wanted = targetSets(target)
      let why = candidates.length === 0 ? `licences ${asked?.join(', ')} are not all granted` : ''
      for (const set of candidates) {
        for (const p of set.policies) {
          if (!coversSets(p.target, wanted)) {
            // Said in words only for the first policy that does not apply, the only one the reason names.
            why ||= covers(p.policy.target, target) ?? 'no policy applies'
            continue
          }
          if (p.policy.rules[0]?.effect !== 'Permit') {
            why = 'the policy that applies says Deny'
            continue
          }
          const deny = p.denyRules.get(wanted.type)?.find((r) => deniesSets(r.target, p.target, wanted))
          if (deny) {
            why = `a Deny rule (rule ${deny.index + 1}) overrides the Permit`
            chosen = set
            continue
          }
          // Permit overrides: one applicable policy without a biting Deny rule is enough.
          chosen = set
          reasons.push('permitted')
          return { target, rules: [{ effect: 'Permit' as Effect }] }
        }
      }
      reasons.push(why || 'no policy applies')
      return { target, rules: [{ effect: 'Deny' as Effect }] }
    })
    const chosenSet = chosen?.set
    return defined({
      maxDelegationDepth: chosenSet?.maxDelegationDepth ?? 0,
      target: chosenSet?.target,
      policies,
    }) as PolicySet
  })
  return {
    evidence: {
      notBefore: policy.notBefore,
      notOnOrAfter: policy.notOnOrAfter,
      policyIssuer: policy.policyIssuer,
      target: { accessSubject: policy.target.accessSubject },
      policySets,
    },
    reasons,
  }
}
