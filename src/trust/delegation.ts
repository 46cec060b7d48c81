/**
 * iSHARE delegation evidence: the shapes, and the Authorization Register's answer to a delegation request
 * (mask) under a data owner's policy. Pure.
 *
 * Evaluation: policy sets and the policies in them combine permit-overrides; the rules of one policy combine
 * deny-overrides, its first rule being the Permit and later ones Deny rules with their own targets (a field a
 * Deny rule leaves out is the policy's). A policy applies to a requested target when it covers all of it:
 * the same resource type, every identifier and attribute (a policy's `*` covers any; a request for `*` needs
 * a policy's `*`), every action, and the service providers when the policy names them. A Deny rule bites when
 * its target overlaps the request at all. Outside [notBefore, notOnOrAfter) everything is denied.
 */

import type { Config } from '../config.js'
import { tooLarge } from '../errors.js'

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

// --- limits ---------------------------------------------------------------------------------------------

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

// --- reading the JSON ----------------------------------------------------------------------------------

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
const defined = <T extends Json>(fields: T): T => {
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

/** Reads `{delegationEvidence: ...}` (or the evidence itself), naming the field of any fault. */
export function parseEvidence(json: unknown): DelegationEvidence {
  const outer = object(json, '$')
  const e = object(outer.delegationEvidence ?? outer, outer.delegationEvidence ? 'delegationEvidence' : '$')
  const at = outer.delegationEvidence ? 'delegationEvidence' : '$'
  const notBefore = seconds(e.notBefore, `${at}.notBefore`)
  const notOnOrAfter = seconds(e.notOnOrAfter, `${at}.notOnOrAfter`)
  if (notOnOrAfter <= notBefore) throw new ShapeError(`${at}.notOnOrAfter`, 'must be after notBefore')
  return {
    notBefore,
    notOnOrAfter,
    policyIssuer: text(e.policyIssuer, `${at}.policyIssuer`),
    target: {
      accessSubject: text(object(e.target, `${at}.target`).accessSubject, `${at}.target.accessSubject`),
    },
    policySets: list(e.policySets, `${at}.policySets`).map((value, i) => {
      const path = `${at}.policySets[${i}]`
      const s = object(value, path)
      const depth = s.maxDelegationDepth
      if (depth !== undefined && (!Number.isSafeInteger(depth) || (depth as number) < 0))
        throw new ShapeError(`${path}.maxDelegationDepth`, 'must be a whole number, 0 or more')
      return defined({
        maxDelegationDepth: depth as number | undefined,
        target: licences(s.target, `${path}.target`),
        policies: list(s.policies, `${path}.policies`).map((p, j) => {
          const pp = `${path}.policies[${j}]`
          const policy = object(p, pp)
          return {
            target: policyTarget(policy.target, `${pp}.target`),
            rules: list(policy.rules, `${pp}.rules`).map((r, k, all) =>
              rule(r, `${pp}.rules[${k}]`, k === 0, all.length === 1),
            ),
          }
        }),
      })
    }),
  }
}

/** Reads `{delegationRequest: ...}` (or the request itself). */
export function parseRequest(json: unknown): DelegationRequest {
  const outer = object(json, '$')
  const at = outer.delegationRequest ? 'delegationRequest' : '$'
  const r = object(outer.delegationRequest ?? outer, at)
  return {
    policyIssuer: text(r.policyIssuer, `${at}.policyIssuer`),
    target: {
      accessSubject: text(object(r.target, `${at}.target`).accessSubject, `${at}.target.accessSubject`),
    },
    policySets: list(r.policySets, `${at}.policySets`).map((value, i) => {
      const path = `${at}.policySets[${i}]`
      const s = object(value, path)
      return defined({
        target: licences(s.target, `${path}.target`),
        policies: list(s.policies, `${path}.policies`).map((p, j) => ({
          target: policyTarget(object(p, `${path}.policies[${j}]`).target, `${path}.policies[${j}].target`),
        })),
      })
    }),
  }
}

// --- evaluation ----------------------------------------------------------------------------------------

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

export interface DelegationAnswer {
  /** The evidence the register returns: the request's targets, each with a single Permit or Deny rule. */
  evidence: DelegationEvidence
  /** Why, per requested policy, in the request's order. */
  reasons: string[]
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

/** The JSON of the files iSHARE registers exchange: `//` comment lines before the document are allowed. */
export const withoutComments = (source: string) => source.replace(/^\s*\/\/.*$/gm, '')

/** Where the register finds evidence: one issuer's for one subject, and everything an issuer has issued. */
export interface EvidenceSource {
  find(issuer: string, subject: string): DelegationEvidence | undefined
  issuedBy(issuer: string): DelegationEvidence[]
  /** The subjects of issuedBy(issuer), in its order, where they are known without reading the evidence. */
  subjectsOf?(issuer: string): string[]
}

const subjectsOf = (source: EvidenceSource, issuer: string): string[] =>
  source.subjectsOf?.(issuer) ?? source.issuedBy(issuer).map((e) => e.target.accessSubject)

/** An issuer's links: each subject, with its evidence read only when asked for. */
const linksOf = (source: EvidenceSource, issuer: string): [string, () => DelegationEvidence | undefined][] =>
  source.subjectsOf
    ? source.subjectsOf(issuer).map((via) => [via, () => source.find(issuer, via)])
    : source.issuedBy(issuer).map((e) => [e.target.accessSubject, () => e])

const permitted = (answer: DelegationAnswer) => answer.reasons.every((r) => r === 'permitted')
const depthOf = (answer: DelegationAnswer) =>
  Math.min(...answer.evidence.policySets.map((s) => s.maxDelegationDepth ?? 0))

/**
 * The answer through a chain of delegations when the issuer has none for the subject directly: A delegated
 * to B with a maxDelegationDepth of at least 1, and B (within what is left of that depth) to the subject.
 * The evidence is A's for the subject: valid while every link is, with the depth that is left. Without a
 * direct policy or any link that starts a chain, undefined. At most `hops` links.
 */
export function answerThroughChain(
  source: EvidenceSource,
  request: DelegationRequest,
  at: number,
  hops = 5,
  seen: ReadonlySet<string> = new Set([request.policyIssuer]),
  /** How many more delegations the links before this one allow. */
  allowed = Number.POSITIVE_INFINITY,
  /** Issuers known to lead nowhere near the subject within so many links (see leadsTo). */
  deadEnds: Map<string, number> = new Map(),
): DelegationAnswer | undefined {
  const direct = source.find(request.policyIssuer, request.target.accessSubject)
  if (direct) return answerDelegation(direct, request, at)
  if (hops <= 1) return undefined
  let refused: DelegationAnswer | undefined
  for (const [via, read] of linksOf(source, request.policyIssuer)) {
    if (seen.has(via)) continue
    // Only links on a way to the subject are read and evaluated: an issuer's other links cost a look-up each.
    if (!leadsTo(source, via, request.target.accessSubject, hops - 1, deadEnds)) continue
    const link = read()
    if (!link) continue
    const first = answerDelegation(link, { ...request, target: { accessSubject: via } }, at)
    const left = Math.min(allowed, depthOf(first))
    const rest = answerThroughChain(
      source,
      { ...request, policyIssuer: via },
      at,
      hops - 1,
      new Set([...seen, via]),
      Math.max(left - 1, 0),
      deadEnds,
    )
    // A link that leads nowhere near the subject says nothing about this request.
    if (!rest) continue
    if (!permitted(first)) {
      refused ??= {
        evidence: { ...first.evidence, target: request.target },
        reasons: first.reasons.map((r) => `the delegation to ${via}: ${r}`),
      }
      continue
    }
    if (left < 1) {
      refused ??= {
        evidence: {
          ...first.evidence,
          target: request.target,
          policySets: denyAll(first.evidence.policySets),
        },
        reasons: first.reasons.map(() => `${via} may not delegate further: maxDelegationDepth is ${left}`),
      }
      continue
    }
    const window = {
      notBefore: Math.max(first.evidence.notBefore, rest.evidence.notBefore),
      notOnOrAfter: Math.min(first.evidence.notOnOrAfter, rest.evidence.notOnOrAfter),
    }
    const answer: DelegationAnswer = {
      evidence: {
        ...window,
        policyIssuer: request.policyIssuer,
        target: { accessSubject: request.target.accessSubject },
        policySets: rest.evidence.policySets.map((s) => ({
          ...s,
          maxDelegationDepth: Math.min(s.maxDelegationDepth ?? 0, left - 1),
        })),
      },
      reasons: rest.reasons.map((r) => (r === 'permitted' ? 'permitted' : `through ${via}: ${r}`)),
    }
    if (permitted(answer)) return answer
    refused ??= answer
  }
  return refused
}

/**
 * Whether evidence leads from `issuer` to `subject` in at most `hops` links, whatever it permits: the issuer's
 * own for the subject, or a link to a party it leads from in one link fewer. `deadEnds` remembers, per
 * issuer, the most links known to lead nowhere, so each issuer's links are looked at once per length.
 */
function leadsTo(
  source: EvidenceSource,
  issuer: string,
  subject: string,
  hops: number,
  deadEnds: Map<string, number>,
): boolean {
  if (source.find(issuer, subject)) return true
  if (hops <= 1 || (deadEnds.get(issuer) ?? 0) >= hops) return false
  for (const via of subjectsOf(source, issuer))
    if (leadsTo(source, via, subject, hops - 1, deadEnds)) return true
  deadEnds.set(issuer, hops)
  return false
}

const denyAll = (sets: PolicySet[]): PolicySet[] =>
  sets.map((s) => ({
    ...s,
    policies: s.policies.map((p) => ({ ...p, rules: [{ effect: 'Deny' as Effect }] })),
  }))
