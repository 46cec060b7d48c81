import { Type } from '@sinclair/typebox'
import { listing, type Operation, type OperationContext, operation } from '../kernel/operations.js'
import { Changed, Id, Revision, Text } from '../kernel/schemas.js'
import { list } from './catalog-model.js'
import { CatalogService } from './catalog-service.js'

const tags = ['trust framework']
/** The catalog service holds no state of its own: one per call. */
const serviceOf = (context: OperationContext) => new CatalogService(context.custodian)
const Url = Type.String({ minLength: 1, maxLength: 2000 })
const change = { tags, permission: 'admin' as const, checkedByService: true as const, output: Changed }

/**
 * The trust-framework catalog: data services, licence interpretations, participants and the access decision.
 * Loading Turtle from a request body stays a route of its own (it takes a text/turtle body); the script's
 * commands that take space-separated lists run these operations (script/catalog-commands.ts).
 */
export const catalogOperations = {
  fetchCatalog: operation({
    ...change,
    name: 'fetch_catalog',
    summary:
      'Load a Turtle document from a URL, such as the Registry’s licence interpretations (administrators)',
    input: Type.Object(
      { url: Type.String({ pattern: '^https?://', maxLength: 2000 }) },
      { additionalProperties: false },
    ),
    http: { method: 'POST', path: '/v1/catalog/fetches' },
    run: (context, { url }) => serviceOf(context).loadFrom(context.token, url),
  }),
  removeService: operation({
    ...change,
    name: 'remove_data_service',
    summary: 'Remove a data service from the catalog (administrators)',
    input: Type.Object({ url: Url }, { additionalProperties: false }),
    http: { method: 'DELETE', path: '/v1/catalog/services' },
    script: {
      usage: 'remove_data_service <url>',
      help: 'removes a data service from the catalog',
      args: ['url'],
    },
    run: (context, { url }) => serviceOf(context).removeService(context.token, url),
  }),
  putParticipant: operation({
    ...change,
    name: 'put_participant',
    summary:
      'Add a participant with its roles and the obligations it understands, or replace them (administrators)',
    input: Type.Object(
      {
        id: Id,
        name: Type.Optional(Text),
        roles: Type.Array(Type.String({ maxLength: 2000 }), { minItems: 1, maxItems: 100 }),
        understands: Type.Optional(Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 100 })),
      },
      { additionalProperties: false },
    ),
    http: { method: 'PUT', path: '/v1/participants/:id' },
    run: (context, { id, name, roles, understands }) =>
      serviceOf(context).putParticipant(context.token, {
        id,
        roles,
        understands: understands ?? [],
        ...(name ? { name } : {}),
      }),
  }),
  removeParticipant: operation({
    ...change,
    name: 'remove_participant',
    summary: 'Remove a participant (administrators)',
    input: Type.Object({ id: Id }, { additionalProperties: false }),
    http: { method: 'DELETE', path: '/v1/participants/:id' },
    script: { usage: 'remove_participant <id>', help: 'removes a participant', args: ['id'] },
    run: (context, { id }) => serviceOf(context).removeParticipant(context.token, id),
  }),
  listParticipants: listing({
    name: 'list_participants',
    summary: 'Every participant with its roles and understood obligations (administrators)',
    tags,
    permission: 'admin',
    path: '/v1/participants',
    items: ({ custodian }) =>
      [...custodian.catalog.participants.values()].map((p) => ({
        id: p.id,
        name: p.name,
        roles: list(p.roles),
        understands: list(p.understands),
      })),
  }),
  listServices: listing({
    name: 'list_data_services',
    summary:
      'Every data service of the catalog, the roles any one of which gives access, and its licence (administrators)',
    tags,
    permission: 'admin',
    path: '/v1/catalog/services',
    items: ({ custodian }) =>
      [...custodian.catalog.services.values()].map((s) => ({
        url: s.url,
        title: s.title,
        roles: list(s.roles),
        licence: s.licence,
      })),
  }),
  listLicences: listing({
    name: 'list_licence_interpretations',
    summary:
      'Every licence interpretation: its legal text, what it grants and the obligations it imposes (administrators)',
    tags,
    permission: 'admin',
    path: '/v1/catalog/licences',
    items: ({ custodian }) =>
      [...custodian.catalog.licences.values()].map((l) => ({
        url: l.url,
        legal_text: l.legal_text,
        grants: list(l.grants),
        obligations: list(l.obligations),
      })),
  }),
  checkDataAccess: operation({
    name: 'check_data_access',
    summary:
      'May this participant access this data service, and under which licence, grants and obligations? (any valid token; audited)',
    tags,
    permission: 'token',
    input: Type.Object({ participant: Id, service: Url }, { additionalProperties: false }),
    output: Type.Object(
      {
        allowed: Type.Boolean(),
        reason: Type.String(),
        licence: Type.Optional(Type.String()),
        legalText: Type.Optional(Type.String()),
        grants: Type.Array(Type.String()),
        obligations: Type.Array(Type.String()),
        revision: Revision,
      },
      { additionalProperties: false },
    ),
    http: { method: 'POST', path: '/v1/catalog/decisions' },
    async run(context, { participant, service }) {
      const decision = serviceOf(context).check(context.token, participant, service)
      // The answer waits for its audit record, as for every access decision.
      await context.custodian.flushAudit()
      return { ...decision, grants: [...decision.grants], obligations: [...decision.obligations] }
    },
  }),
} satisfies Record<string, Operation>
