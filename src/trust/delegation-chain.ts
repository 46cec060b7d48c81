/** The register's answer through a chain of delegations, A to B to the subject, within the depth each allows. Pure. */

import { answerDelegation, type DelegationAnswer } from './delegation-evaluation.js'
import type { DelegationEvidence, DelegationRequest, Effect, PolicySet } from './delegation-shapes.js'

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
