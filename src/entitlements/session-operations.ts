import { Type } from '@sinclair/typebox'
import { InvalidAccessTokenError } from '../errors.js'
import { type Operation, type OperationContext, operation } from '../kernel/operations.js'
import { Changed, Id, Revision, Secret } from '../kernel/schemas.js'

/**
 * Sessions and access checks on the operations table: where tokens come from, go, and are judged. The
 * administration of users, roles, permissions and resources is in operations.ts.
 */
/** The House Mate controller that sends this call, by its own token; else 401 or 403. */
export function controllerOf({ custodian, token }: OperationContext, action: string): string {
  if (!token)
    throw new InvalidAccessTokenError(
      `${action} needs the access token of a House Mate controller: send Authorization: Bearer <token>`,
    )
  return custodian.authorizeController(token, action)
}

/** One question of a batch check; `user` asks about another user than the token's (administrators only). */
const Question = Type.Object(
  { permission: Id, resource: Id, user: Type.Optional(Id) },
  { additionalProperties: false },
)

/**
 * check_access for many questions at once, answered in order, the batch one audit record committed before the
 * answer. The script form is written in script/commands.ts: a question a field.
 */
export const checkAccessBatch = operation({
  name: 'check_access_batch',
  summary: 'check_access for many questions at once, answered in order',
  description:
    "Each question is answered {allowed, user, reason, revision}, a refusal as allowed: false; all of them are in the audit log before the answer, as one record (action check batch) listing each question and its decision in order. Without user a question is about the bearer token's user; naming another user needs the admin permission (else 403, nothing decided). An invalid token is 401; more than maxBatchChecks questions is 413. min_revision makes the answers at least as fresh as a write that returned that revision.",
  tags: ['check'],
  permission: 'token',
  input: Type.Object(
    { questions: Type.Array(Question), min_revision: Type.Optional(Revision) },
    { additionalProperties: false },
  ),
  output: Type.Object({
    answers: Type.Array(
      Type.Object({
        allowed: Type.Boolean(),
        user: Type.String(),
        reason: Type.String(),
        revision: Revision,
      }),
    ),
    revision: Revision,
  }),
  http: { method: 'POST', path: '/v1/checks' },
  async run({ custodian, token }, { questions, min_revision }) {
    if (min_revision !== undefined) await custodian.atLeast(min_revision)
    try {
      const answers = custodian.checkAccessBatch(token, questions).map((d) => ({
        allowed: d.allowed,
        user: d.userId as string,
        reason: d.reason,
        revision: d.revision,
      }))
      return { answers, revision: custodian.index.revision }
    } finally {
      await custodian.flushAudit() // every decision is in the audit log before the caller hears any
    }
  },
})

/** Sessions and the access check: where tokens come from, go, and are judged. */
export const sessionOperations: Operation[] = [
  // Every attempt is counted in the store before it is checked: per user at an address, per address, and
  // (slowing only) per user. The script's `login` keeps its own grammar (script/commands.ts).
  operation({
    name: 'login',
    summary: 'Log in with a password or a voice print; answers an access token',
    description:
      'A voice print is accepted only with the bearer token of a House Mate controller (a user holding housemate_controller); its token lives minutes.',
    tags: ['sessions'],
    permission: 'public',
    input: Type.Union([
      Type.Object({ user: Id, password: Secret }, { additionalProperties: false }),
      Type.Object({ voice_print: Secret }, { additionalProperties: false }),
    ]),
    output: Type.Object({
      token: Type.String(),
      token_id: Type.String(),
      user: Type.String(),
      expires_at: Type.String(),
      idle_timeout_seconds: Type.Integer(),
    }),
    http: { method: 'POST', path: '/v1/sessions', status: 201, headers: { 'cache-control': 'no-store' } },
    async run(context, input) {
      const { custodian, address } = context
      const login =
        'voice_print' in input
          ? await custodian.loginVoicePrint(input.voice_print, {
              address,
              controller: controllerOf(context, 'log in by voice print'),
            })
          : await custodian.login(input.user, input.password, { address })
      return {
        token: login.token,
        token_id: login.tokenId,
        user: login.userId,
        expires_at: login.expiresAt,
        idle_timeout_seconds: login.idleTimeoutSeconds,
      }
    },
  }),
  operation({
    name: 'logout',
    summary: 'Log out: the bearer token is refused from now on',
    tags: ['sessions'],
    permission: 'token',
    input: Type.Object({}),
    output: Changed,
    http: { method: 'DELETE', path: '/v1/sessions/current' },
    run: ({ custodian, token }) => custodian.logout(token ?? ''),
  }),
  operation({
    name: 'check_access',
    summary: "check_access: may the bearer token's user use this permission on this resource?",
    description:
      'Answers 200 when allowed, 403 AccessDenied or 401 InvalidAccessToken otherwise, always with the reason. ' +
      'min_revision makes the answer at least as fresh as a write that returned that revision.',
    tags: ['check'],
    permission: 'token',
    input: Type.Object(
      { permission: Id, resource: Id, min_revision: Type.Optional(Revision) },
      { additionalProperties: false },
    ),
    output: Type.Object({
      allowed: Type.Literal(true),
      user: Type.String(),
      reason: Type.String(),
      revision: Revision,
    }),
    http: { method: 'POST', path: '/v1/check' },
    script: {
      usage: 'check_access <token_ref>, <permission_id>, <resource_id>',
      help: 'checks that the token holder may use the permission on the resource',
      tokenArg: true,
      args: ['permission', 'resource'],
      present: (answer) => ({ message: `allowed: ${answer.reason}`, result: answer }),
    },
    async run({ custodian, token }, { permission, resource, min_revision }) {
      if (min_revision !== undefined) await custodian.atLeast(min_revision)
      try {
        const decision = custodian.assertAccess(token, permission, resource)
        return {
          allowed: true as const,
          user: decision.userId as string,
          reason: decision.reason,
          revision: decision.revision,
        }
      } finally {
        await custodian.flushAudit() // the decision is in the audit log before the caller hears it
      }
    },
  }),
  checkAccessBatch,
]
