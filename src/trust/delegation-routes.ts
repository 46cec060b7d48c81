import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { OperationHost } from '../kernel/operations.js'
import { AnyObject } from '../kernel/schemas.js'
import { bearer, bearerToken } from '../openapi/bearer-auth.js'
import { body, documented, ProblemSchema } from '../openapi/route-docs.js'
import { trustServicesOf } from './operations.js'

const tags = ['delegation']

/**
 * The iSHARE Authorization Register's protocol routes (issue 7): a delegation request in, signed evidence
 * out, and the certificates that verify it. Its policies are operations (operations.ts).
 */
export const delegationRoutes: FastifyPluginAsyncTypebox<{ custodian: OperationHost }> = async (
  app,
  { custodian },
) => {
  const { delegation } = trustServicesOf(custodian)
  app.post(
    '/delegation',
    {
      schema: {
        summary:
          'iSHARE delegation request: the register’s evidence for the mask, as a JWT (RS256, x5c, 30 s) in both the 2.x and 3.0 spellings',
        tags,
        security: bearer,
        body: Type.Object(
          {
            delegationRequest: AnyObject,
            // The links of a chain held elsewhere: answerThroughChain follows at most 5.
            previous_steps: Type.Optional(Type.Array(Type.String(), { maxItems: 5 })),
            previousSteps: Type.Optional(Type.Array(Type.String(), { maxItems: 5 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ delegation_token: Type.String(), delegationToken: Type.String() }),
          '4xx': ProblemSchema,
        },
      },
    },
    async (request) => {
      const answer = await delegation.answer(
        bearerToken(request),
        { delegationRequest: request.body.delegationRequest },
        request.body.previousSteps ?? request.body.previous_steps ?? [],
      )
      await custodian.flushAudit()
      return { delegation_token: answer.token, delegationToken: answer.token }
    },
  )
  // Unauthenticated: certificates are public, and service providers need this chain to trust the evidence.
  app.get(
    '/delegation/certificates',
    documented({
      summary:
        'The certificate chain that signs delegation tokens and evidence (PEM), for service providers to verify them',
      tags,
      response: { 200: body('The certificates, PEM-encoded', 'application/x-pem-file') },
    }),
    async (_request, reply) =>
      reply.type('application/x-pem-file').send((await delegation.material()).chain.join('')),
  )
}
