import type { World } from '../custodian.js'
import type { Plan } from '../entitlements/plans.js'
import { AccessDeniedError, notFound } from '../errors.js'
import { ADMIN_PERMISSION } from '../store/migrations.js'
import type { DelegationEvidence } from './delegation.js'

/**
 * Only the policy issuer writes its policies, or an administrator of this register (`userId` undefined: an
 * administrator the caller has already authorized).
 */
function requireIssuer({ index }: World, userId: string | undefined, issuer: string): void {
  if (userId === undefined || userId === issuer || index.effective(userId).global.has(ADMIN_PERMISSION))
    return
  throw new AccessDeniedError(`${userId} may not write the policies of ${issuer}: only the policy issuer may`)
}

export function putPolicy(
  world: World,
  userId: string | undefined,
  evidence: DelegationEvidence,
  now: string,
): Plan {
  requireIssuer(world, userId, evidence.policyIssuer)
  const existing = world.register.policy(evidence.policyIssuer, evidence.target.accessSubject)
  return {
    changes: [
      {
        tbl: 'ishare_policies',
        op: 'put',
        row: {
          policy_issuer: evidence.policyIssuer,
          access_subject: evidence.target.accessSubject,
          evidence: JSON.stringify(evidence),
          updated_at: now,
        },
      },
    ],
    summary: `${existing ? 'replaced' : 'stored'} the delegation evidence of ${evidence.policyIssuer} for ${evidence.target.accessSubject}`,
  }
}

export function removePolicy(
  world: World,
  userId: string | undefined,
  issuer: string,
  subject: string,
): Plan {
  requireIssuer(world, userId, issuer)
  if (!world.register.policy(issuer, subject))
    throw notFound(`${issuer} has no delegation evidence for ${subject}`)
  return {
    changes: [
      { tbl: 'ishare_policies', op: 'delete', row: { policy_issuer: issuer, access_subject: subject } },
    ],
    summary: `removed the delegation evidence of ${issuer} for ${subject}`,
  }
}
