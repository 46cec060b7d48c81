import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import type { Node } from '../kernel/node.js'
import { documented, jsonBody } from './route-docs.js'

/** The server's own routes: whether it is alive, and the description of its API (this document). */
export const healthRoutes: FastifyPluginAsync<{ custodian: Node }> = async (app, { custodian }) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness: answers ok and the store revision this node has read',
        tags: ['health'],
        response: {
          200: Type.Object(
            {
              status: Type.Literal('ok'),
              revision: Type.Integer({ minimum: 0, description: 'The store revision this node has read' }),
            },
            { description: 'Alive' },
          ),
        },
      },
    },
    async () => ({ status: 'ok' as const, revision: custodian.revision }),
  )
  app.get(
    '/openapi.json',
    documented({
      summary: 'This OpenAPI 3.1 document: every route the server answers',
      tags: ['health'],
      response: { 200: jsonBody('The OpenAPI document') },
    }),
    async () => app.swagger(),
  )
}
