import { Type } from '@sinclair/typebox'
import { listing, type Operation, type OperationContext, operation } from '../kernel/operations.js'
import { Changed, Created, Id, Revision, Text } from '../kernel/schemas.js'
import { ConsentService } from './consent-service.js'
import { registrationOperations } from './registration-operations.js'

const tags = ['consent']
/** The consent service holds no state of its own: one per call. */
const serviceOf = (context: OperationContext) => new ConsentService(context.custodian)
const EndOfAccess = Type.String({
  minLength: 1,
  maxLength: 40,
  description:
    'the last day of access, YYYY-MM-DD (data of that whole day stays readable); an ISO time (access ends then); or +<n>d',
})

/**
 * Green Button / ESPI consent: customers, usage points, third parties and Authorizations. The script's
 * commands that take other shapes (space-separated lists, an authorization named by its third party) run
 * these operations too (script/consent-commands.ts).
 */
export const consentOperations = {
  createCustomer: operation({
    name: 'create_customer',
    summary:
      'Register a retail customer, who logs in with the username and password; without a password, the customer creates the online account when first asked to sign in (administrators)',
    tags,
    permission: 'admin',
    checkedByService: true,
    input: Type.Object(
      {
        username: Id,
        name: Text,
        email: Type.String({ minLength: 3, maxLength: 320 }),
        account_number: Type.String({ minLength: 1, maxLength: 100 }),
        password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
      },
      { additionalProperties: false },
    ),
    output: Created,
    http: { method: 'POST', path: '/v1/customers', status: 201 },
    script: {
      usage: 'create_customer <username>, <name>, <email>, <account_number>, <password>',
      help: 'registers a retail customer (who logs in with that username and password)',
      args: ['username', 'name', 'email', 'account_number', 'password'],
    },
    run: (context, { account_number, ...rest }) =>
      serviceOf(context).createCustomer(context.token, { ...rest, accountNumber: account_number }),
  }),
  createUsagePoint: operation({
    name: 'create_usage_point',
    summary: 'Add a usage point (meter) to a customer; its id is opaque (administrators)',
    tags,
    permission: 'admin',
    checkedByService: true,
    input: Type.Object(
      {
        customer: Id,
        description: Type.String({ maxLength: 500 }),
        kind: Type.Union([Type.Literal('electricity'), Type.Literal('gas'), Type.Literal('water')]),
        id: Type.Optional(Id),
      },
      { additionalProperties: false },
    ),
    output: Created,
    http: { method: 'POST', path: '/v1/customers/:customer/usage-points', status: 201 },
    script: {
      usage: 'create_usage_point <customer>, <description>, <electricity|gas|water>[, <id>]',
      help: 'adds a usage point (meter) to a customer; the id is opaque and random unless given (never put personal data in it)',
      args: ['customer', 'description', 'kind', 'id'],
      optional: 1,
    },
    run: (context, input) => serviceOf(context).createUsagePoint(context.token, input),
  }),
  registerThirdParty: operation({
    name: 'register_third_party',
    summary: 'Register a third party as an OAuth client (administrators); the client secret is answered once',
    tags,
    permission: 'admin',
    checkedByService: true,
    input: Type.Object(
      {
        client_id: Type.Optional(Id),
        name: Type.String({ minLength: 1, maxLength: 200 }),
        description: Type.Optional(Text),
        redirect_uris: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), {
          minItems: 1,
          maxItems: 20,
        }),
        notify_uri: Type.String({ minLength: 1, maxLength: 2000 }),
        scope: Type.String({
          minLength: 1,
          maxLength: 1000,
          description: 'the widest ESPI scope it may ask for',
        }),
        scope_selection_uri: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 2000,
            description: 'where customers starting at the utility are sent on to',
          }),
        ),
      },
      { additionalProperties: false },
    ),
    output: Type.Object({ revision: Revision, client_id: Type.String(), client_secret: Type.String() }),
    http: {
      method: 'POST',
      path: '/v1/third-parties',
      status: 201,
      headers: { 'cache-control': 'no-store' },
    },
    async run(context, b) {
      const party = await serviceOf(context).registerThirdParty(context.token, {
        ...(b.client_id ? { clientId: b.client_id } : {}),
        name: b.name,
        description: b.description ?? '',
        redirectUris: b.redirect_uris,
        notifyUri: b.notify_uri,
        scope: b.scope,
        ...(b.scope_selection_uri ? { scopeSelectionUri: b.scope_selection_uri } : {}),
      })
      return { revision: party.revision, client_id: party.clientId, client_secret: party.clientSecret }
    },
  }),
  setStanding: operation({
    name: 'set_third_party_standing',
    summary: 'Suspend, revoke or reinstate a third party (administrators)',
    tags,
    permission: 'admin',
    checkedByService: true,
    input: Type.Object(
      {
        client_id: Id,
        standing: Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('revoked')]),
      },
      { additionalProperties: false },
    ),
    output: Changed,
    http: { method: 'PUT', path: '/v1/third-parties/:client_id/standing' },
    script: {
      usage: 'set_third_party_standing <client_id>, <active|suspended|revoked>',
      help: 'suspends, revokes or reinstates a third party',
      args: ['client_id', 'standing'],
    },
    run: (context, { client_id, standing }) =>
      serviceOf(context).setStanding(context.token, client_id, standing),
  }),
  rotateSecret: operation({
    name: 'rotate_client_secret',
    summary:
      'Give a third party a new client secret, answered once; the old one is refused at once (administrators)',
    tags,
    permission: 'admin',
    checkedByService: true,
    input: Type.Object({ client_id: Id }, { additionalProperties: false }),
    output: Type.Object({ revision: Revision, client_id: Type.String(), client_secret: Type.String() }),
    http: {
      method: 'POST',
      path: '/v1/third-parties/:client_id/secret',
      headers: { 'cache-control': 'no-store' },
    },
    script: {
      usage: 'rotate_client_secret <client_id>',
      help: 'gives a third party a new client secret, shown once; the old one stops working at once',
      args: ['client_id'],
      present: (r) => ({
        message: `third party ${r.client_id} has a new client secret (shown once): ${r.client_secret}`,
        result: r,
      }),
    },
    async run(context, { client_id }) {
      const rotated = await serviceOf(context).rotateSecret(context.token, client_id)
      return { revision: rotated.revision, client_id, client_secret: rotated.clientSecret }
    },
  }),
  listCustomers: listing({
    name: 'list_customers',
    summary: 'Every retail customer with its usage points (administrators)',
    tags,
    permission: 'admin',
    checkedByService: true,
    path: '/v1/customers',
    items: (context) => serviceOf(context).customersWithUsagePoints(context.token),
  }),
  // Public by design: the seed asks for a public list so customers can check a third party's standing.
  listThirdParties: listing({
    name: 'list_third_parties',
    summary: 'The third parties in good standing or suspended (public)',
    tags,
    permission: 'public',
    path: '/v1/third-parties',
    items: (context) => serviceOf(context).publicThirdParties(),
  }),
  // The service checks the admin permission itself, naming the listing in the refusal.
  listAuthorizations: listing({
    name: 'list_authorizations',
    summary: 'Every Authorization (administrators)',
    tags,
    permission: 'admin',
    checkedByService: true,
    path: '/v1/authorizations',
    items: (context) => serviceOf(context).allAuthorizations(context.token, context.baseUrl),
  }),
  terminateAsAdministrator: operation({
    name: 'terminate_authorization_as_administrator',
    summary:
      'An administrator terminates an Authorization at once, with a reason the customer is emailed (administrators)',
    tags,
    permission: 'admin',
    checkedByService: true,
    input: Type.Object(
      { id: Id, reason: Type.String({ minLength: 1, maxLength: 500 }) },
      { additionalProperties: false },
    ),
    output: Changed,
    http: { method: 'POST', path: '/v1/authorizations/:id/termination' },
    script: {
      usage: 'terminate_authorization_as_administrator <authorization_id>, <reason>',
      help: 'terminates an authorization at once; the customer is emailed the reason',
      args: ['id', 'reason'],
    },
    run: (context, { id, reason }) => serviceOf(context).terminateAsAdministrator(context.token, id, reason),
  }),
  myAuthorizations: listing({
    name: 'my_authorizations',
    summary: "The customer's own Authorizations, with third party names and usage point descriptions",
    tags,
    permission: 'token',
    path: '/v1/me/authorizations',
    items: (context) => serviceOf(context).customerAuthorizations(context.token, context.baseUrl),
  }),
  authorize: operation({
    name: 'authorize',
    summary: "A customer authorizes a third party for some of the customer's usage points",
    tags,
    permission: 'token',
    input: Type.Object(
      {
        client_id: Id,
        usage_point_ids: Type.Array(Id, { minItems: 1, maxItems: 1000 }),
        scope: Type.String({ minLength: 1, maxLength: 1000 }),
        period_end: EndOfAccess,
      },
      { additionalProperties: false },
    ),
    output: Created,
    http: { method: 'POST', path: '/v1/me/authorizations', status: 201 },
    run: (context, b) =>
      serviceOf(context).grant(context.token, {
        clientId: b.client_id,
        usagePointIds: b.usage_point_ids,
        scope: b.scope,
        periodEnd: b.period_end,
      }),
  }),
  extend: operation({
    name: 'extend_authorization',
    summary: 'A customer changes when an Authorization ends; existing tokens follow at once',
    tags,
    permission: 'token',
    input: Type.Object({ id: Id, period_end: EndOfAccess }, { additionalProperties: false }),
    output: Changed,
    http: { method: 'PUT', path: '/v1/me/authorizations/:id/period-end' },
    run: (context, { id, period_end }) => serviceOf(context).extend(context.token, id, period_end),
  }),
  terminate: operation({
    name: 'terminate_authorization',
    summary:
      "A customer terminates an Authorization after a date (today or later); that day's data stays available",
    tags,
    permission: 'token',
    input: Type.Object(
      {
        id: Id,
        date: Type.String({ minLength: 1, maxLength: 20, description: 'YYYY-MM-DD, today or +<n>d' }),
      },
      { additionalProperties: false },
    ),
    output: Changed,
    http: { method: 'POST', path: '/v1/me/authorizations/:id/termination' },
    run: (context, { id, date }) => serviceOf(context).terminate(context.token, id, date),
  }),
  ...registrationOperations,
} satisfies Record<string, Operation>
