import { Type } from '@sinclair/typebox'
import {
  listing,
  type Operation,
  type OperationContext,
  operation,
  perCustodian,
} from '../kernel/operations.js'
import { AnyObject, Changed, Id } from '../kernel/schemas.js'
import { DelegationService } from './delegation-service.js'
import { matrixFor } from './rules.js'
import { TrustService } from './trust-service.js'

/** The delegation register and the trust service: one per Custodian, so the signing material is loaded once. */
export const trustServicesOf = perCustodian((custodian) => {
  const delegation = new DelegationService(custodian)
  return { delegation, trust: new TrustService(custodian, delegation) }
})
const delegationOf = (context: OperationContext) => trustServicesOf(context.custodian).delegation
const trustOf = (context: OperationContext) => trustServicesOf(context.custodian).trust

const Evidence = Type.Object({ delegationEvidence: AnyObject }, { additionalProperties: false })
const Party = Type.String({ minLength: 1, maxLength: 200 })
const PolicyKey = Type.Object({ issuer: Party, subject: Party }, { additionalProperties: false })
const Matrix = Type.Optional(AnyObject)
const Level = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')])
const ServiceId = Type.String({ minLength: 1, maxLength: 2000 })
const delegationTags = ['delegation']
const trustTags = ['trust']
/** The services decide who may write: the policy issuer or an administrator, checked in the write. */
const delegationChange = { tags: delegationTags, output: Changed }
const trustChange = {
  tags: trustTags,
  permission: 'admin' as const,
  checkedByService: true as const,
  output: Changed,
}

/**
 * The iSHARE Authorization Register's policies and the BDI trust decisions. The iSHARE `POST /delegation`
 * endpoint is a protocol route (delegation-routes.ts); the script's commands that read files or
 * space-separated lists run these operations (script/trust-commands.ts).
 */
export const trustOperations = {
  putPolicy: operation({
    ...delegationChange,
    name: 'store_delegation_policy',
    summary:
      "Store a data owner's delegation evidence for one access subject, replacing what was there (the policy issuer, or administrators)",
    permission: 'token',
    input: Evidence,
    http: { method: 'PUT', path: '/v1/delegation-policies' },
    run: (context, evidence) => delegationOf(context).putPolicy(context.token, evidence),
  }),
  listPolicies: operation({
    name: 'list_delegation_policies',
    summary:
      "An issuer's stored delegation evidence, as a register copy synchronises it (the issuer, its delegates, or administrators)",
    tags: delegationTags,
    permission: 'token',
    input: Type.Object({ issuer: Party }, { additionalProperties: false }),
    output: Type.Object({ items: Type.Array(Evidence) }),
    http: { method: 'GET', path: '/v1/delegation-policies' },
    run: async (context, { issuer }) => ({
      items: (await delegationOf(context).policiesOf(context.token, issuer)).map((delegationEvidence) => ({
        delegationEvidence,
      })),
    }),
  }),
  readPolicy: operation({
    name: 'read_delegation_policy',
    summary:
      'The stored delegation evidence of an issuer for a subject (the policy issuer, or administrators)',
    tags: delegationTags,
    permission: 'token',
    input: PolicyKey,
    output: Evidence,
    http: { method: 'GET', path: '/v1/delegation-policies/:issuer/:subject' },
    async run({ custodian, token }, { issuer, subject }) {
      const { delegation } = trustServicesOf(custodian)
      await delegation.parties.checkToken(token, 'delegation.policy.read', `${issuer} -> ${subject}`)
      const userId = custodian.authenticate(token, 'delegation.policy.read', `${issuer} -> ${subject}`)
      if (userId !== issuer)
        custodian.authorizeAdminAction(token, `read the delegation evidence of ${issuer}`)
      return { delegationEvidence: delegation.policy(issuer, subject) }
    },
  }),
  removePolicy: operation({
    ...delegationChange,
    name: 'remove_delegation_policy',
    summary: 'Remove delegation evidence (the policy issuer, or administrators)',
    permission: 'token',
    input: PolicyKey,
    http: { method: 'DELETE', path: '/v1/delegation-policies/:issuer/:subject' },
    run: (context, { issuer, subject }) => delegationOf(context).removePolicy(context.token, issuer, subject),
  }),
  verifyEvidence: operation({
    name: 'verify_delegation_evidence',
    summary:
      'Verify signed delegation evidence a data request carried (signature, chain, issuer, audience, time, content); answers the evidence',
    tags: delegationTags,
    permission: 'token',
    input: Type.Object(
      {
        token: Type.String({ minLength: 1, maxLength: 100_000 }),
        issuers: Type.Optional(Type.Array(Party, { maxItems: 20 })),
      },
      { additionalProperties: false },
    ),
    output: Evidence,
    http: { method: 'POST', path: '/v1/delegation-evidence/verifications' },
    async run(context, input) {
      // The evidence must be addressed to whoever asks: a service provider checks evidence meant for it.
      await delegationOf(context).parties.checkToken(context.token, 'delegation.verify', '-')
      const audience = context.custodian.authenticate(context.token, 'delegation.verify', '-')
      return {
        delegationEvidence: await delegationOf(context).verify(input.token, audience, input.issuers ?? []),
      }
    },
  }),
  putAssociation: operation({
    ...trustChange,
    name: 'add_association',
    summary:
      'Add or change an association (no parent: a root network), its trust decision matrix and whether its services may set their own (administrators)',
    input: Type.Object(
      { id: Id, parent: Type.Optional(Id), matrix: Matrix, own_logic_allowed: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
    http: { method: 'PUT', path: '/v1/trust/associations/:id' },
    run: (context, b) =>
      trustOf(context).putAssociation(context.token, {
        id: b.id,
        ...(b.parent ? { parent: b.parent } : {}),
        ...(b.matrix ? { matrix: b.matrix } : {}),
        ownLogicAllowed: b.own_logic_allowed ?? false,
      }),
  }),
  putParty: operation({
    ...trustChange,
    name: 'record_party',
    summary:
      "Record a party's memberships, level of assurance and reputation, as its information sources report them (administrators)",
    input: Type.Object(
      {
        id: Id,
        assurance: Type.Optional(
          Type.Union([Type.Literal('low'), Type.Literal('substantial'), Type.Literal('high')]),
        ),
        reputation: Type.Optional(
          Type.Object(
            {
              level: Type.Optional(Level),
              score: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
              source: Type.String({ minLength: 1, maxLength: 500 }),
              at: Type.Optional(Type.Integer({ minimum: 0 })),
            },
            { additionalProperties: false },
          ),
        ),
        memberships: Type.Array(
          Type.Object(
            {
              association: Id,
              status: Type.Optional(
                Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('revoked')]),
              ),
              valid_from: Type.Optional(Type.Integer({ minimum: 0 })),
              valid_until: Type.Optional(Type.Integer({ minimum: 0 })),
            },
            { additionalProperties: false },
          ),
          { maxItems: 100 },
        ),
      },
      { additionalProperties: false },
    ),
    http: { method: 'PUT', path: '/v1/trust/parties/:id' },
    run: (context, b) =>
      trustOf(context).putParty(context.token, {
        id: b.id,
        ...(b.assurance ? { assurance: b.assurance } : {}),
        ...(b.reputation ? { reputation: b.reputation } : {}),
        memberships: b.memberships.map((m) => ({
          association: m.association,
          ...(m.status ? { status: m.status } : {}),
          ...(m.valid_from === undefined ? {} : { validFrom: m.valid_from }),
          ...(m.valid_until === undefined ? {} : { validUntil: m.valid_until }),
        })),
      }),
  }),
  putService: operation({
    ...trustChange,
    name: 'classify_service',
    summary:
      'Classify a data service in an association, with the data owner whose delegation evidence it may ask for (administrators)',
    input: Type.Object(
      {
        id: ServiceId,
        association: Id,
        classification: Type.String({ minLength: 1, maxLength: 100 }),
        matrix: Matrix,
        owner: Type.Optional(Id),
        resource_type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      },
      { additionalProperties: false },
    ),
    http: { method: 'PUT', path: '/v1/trust/services/:id' },
    script: {
      usage: 'classify_service <id>, <association>, <classification>[, <data_owner>[, <resource_type>]]',
      help: 'classifies a data service for trust decisions',
      args: ['id', 'association', 'classification', 'owner', 'resource_type'],
      optional: 2,
    },
    run: (context, b) =>
      trustOf(context).putService(context.token, {
        id: b.id,
        association: b.association,
        classification: b.classification,
        ...(b.matrix ? { matrix: b.matrix } : {}),
        ...(b.owner ? { owner: b.owner } : {}),
        ...(b.resource_type ? { resourceType: b.resource_type } : {}),
      }),
  }),
  listIssuers: listing({
    name: 'list_delegation_issuers',
    summary:
      'Every policy issuer with delegation evidence in this register, and its access subjects (administrators)',
    tags: delegationTags,
    permission: 'admin',
    path: '/v1/delegation-issuers',
    items: ({ custodian }) => {
      const subjects = new Map<string, string[]>()
      for (const row of custodian.register.policiesOf())
        subjects.set(row.policy_issuer, [...(subjects.get(row.policy_issuer) ?? []), row.access_subject])
      return [...subjects].map(([issuer, of]) => ({ issuer, subjects: of.sort() }))
    },
  }),
  listAssociations: listing({
    name: 'list_trust_associations',
    summary:
      'Every association of the trust network: its parent, its own matrix, and the matrix in effect for its services (administrators)',
    tags: trustTags,
    permission: 'admin',
    path: '/v1/trust/associations',
    items: ({ custodian }) => {
      const { associations } = custodian.register.network
      return [...associations.values()].map((a) => {
        // A service of the association with no matrix of its own: what decisions on it go by.
        const inEffect = matrixFor({
          associations,
          service: { id: a.id, association: a.id, classification: '' },
        })
        return {
          id: a.id,
          ...(a.parent ? { parent: a.parent } : {}),
          ...(a.matrix ? { matrix: a.matrix } : {}),
          own_logic_allowed: a.ownLogicAllowed,
          matrix_in_effect: { of: inEffect.of, matrix: inEffect.matrix },
        }
      })
    },
  }),
  listParties: listing({
    name: 'list_trust_parties',
    summary:
      'Every recorded party: its memberships, level of assurance and reputation, as recorded (administrators)',
    tags: trustTags,
    permission: 'admin',
    path: '/v1/trust/parties',
    items: ({ custodian }) => {
      const { parties, network } = custodian.register
      return [...parties.values()].map((p) => ({
        id: p.id,
        ...(p.assurance ? { assurance: p.assurance } : {}),
        ...(p.reputation ? { reputation: JSON.parse(p.reputation) as unknown } : {}),
        // As record_party takes them.
        memberships: (network.memberships.get(p.id) ?? []).map((m) => ({
          association: m.association,
          status: m.status,
          ...(m.validFrom === undefined ? {} : { valid_from: m.validFrom }),
          ...(m.validUntil === undefined ? {} : { valid_until: m.validUntil }),
        })),
      }))
    },
  }),
  listServices: listing({
    name: 'list_trust_services',
    summary:
      'Every classified data service: its association, classification, data owner and resource type (administrators)',
    tags: trustTags,
    permission: 'admin',
    path: '/v1/trust/services',
    items: ({ custodian }) =>
      [...custodian.register.services.values()].map((s) => ({
        id: s.id,
        association: s.association,
        classification: s.classification,
        ...(s.matrix ? { matrix: JSON.parse(s.matrix) as unknown } : {}),
        ...(s.owner ? { owner: s.owner } : {}),
        ...(s.resource_type ? { resource_type: s.resource_type } : {}),
      })),
  }),
  decide: operation({
    name: 'decide_trust',
    summary:
      'May this party access this data service for this action? Answers each input (association, reputation, assurance, authorization) and whether it held (any valid token; audited)',
    tags: trustTags,
    permission: 'token',
    input: Type.Object(
      {
        party: Id,
        service: ServiceId,
        action: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        identifiers: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 })),
        attributes: Type.Optional(Type.Array(Type.String({ maxLength: 500 }), { maxItems: 100 })),
        evidence: Type.Optional(Type.String({ minLength: 1, maxLength: 100_000 })),
      },
      { additionalProperties: false },
    ),
    output: Type.Object({ allowed: Type.Boolean(), reason: Type.String() }, { additionalProperties: true }),
    http: { method: 'POST', path: '/v1/trust/decisions' },
    script: {
      usage: 'decide_trust <party>, <service>[, <action>]',
      help: 'the BDI trust decision for a party and a data service, input by input',
      args: ['party', 'service', 'action'],
      optional: 1,
      present: (decision) => ({
        message: `${decision.allowed ? 'allowed' : 'denied'}: ${decision.reason}`,
        result: decision,
      }),
    },
    async run(context, input) {
      const decision = await trustOf(context).decide(context.token, input)
      await context.custodian.flushAudit() // the decision is in the audit log before the caller hears it
      return decision
    },
  }),
} satisfies Record<string, Operation>
