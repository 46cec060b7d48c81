import { Type } from '@sinclair/typebox'
import { type Operation, operation } from '../kernel/operations.js'
import { RegistrationService } from './registration-service.js'

const ACTION = 'third_party.registration_token'

/** The utility's side of third parties registering themselves (RFC 7591): the tokens that let them. */
export const registrationOperations = {
  issueRegistrationToken: operation({
    name: 'issue_registration_token',
    summary:
      'Issue an initial access token with which one third party may register itself (RFC 7591); shown once, kept as a hash (administrators)',
    tags: ['consent'],
    permission: 'admin',
    action: ACTION,
    checkedByService: true,
    input: Type.Object(
      {
        valid_for: Type.Optional(
          Type.String({ minLength: 2, maxLength: 10, description: '<n>h or <n>d, at most 90d; default 7d' }),
        ),
      },
      { additionalProperties: false },
    ),
    output: Type.Object({
      initial_access_token: Type.String(),
      id: Type.String({ description: 'names the token in the audit log' }),
      expires_at: Type.String(),
      registration_endpoint: Type.String(),
    }),
    http: {
      method: 'POST',
      path: '/v1/third-parties/registration-tokens',
      status: 201,
      headers: { 'cache-control': 'no-store' },
    },
    script: {
      usage: 'issue_registration_token [<valid for: 12h, 7d>]',
      help: 'issues a token with which one third party may register itself (RFC 7591); shown once',
      args: ['valid_for'],
      optional: 1,
      present: (issued) => ({
        message: `initial access token ${issued.id} (shown once; one registration at ${issued.registration_endpoint} until ${issued.expires_at}): ${issued.initial_access_token}`,
        result: issued,
      }),
    },
    run: (context, { valid_for }) => {
      const issuedBy = context.custodian.authorizeAdminAction(context.token, ACTION)
      return new RegistrationService(context.custodian).issueInitialToken(issuedBy, valid_for)
    },
  }),
} satisfies Record<string, Operation>
