import { type TSchema, Type } from '@sinclair/typebox'

/**
 * What the protocol surfaces (OAuth, ESPI Atom, web pages, the demo third party) put in their route schemas
 * so /openapi.json describes them. Leaf module: it knows no domain, so any surface may import it.
 */

/** RFC 9457 problem details: how every refusal of the API and of the ESPI resources is sent. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
)

/**
 * The route options of a route whose schema only documents it. These handlers check their own input (naming
 * each bad value their own way) and send their own bytes (Atom, HTML, PEM, oidc-provider's answers), so no
 * validator and no serializer is compiled from the schema: describing a route never changes what it answers.
 */
export const documented = (schema: Record<string, unknown>) => ({
  validatorCompiler: () => () => true,
  serializerCompiler: () => (data: unknown) => JSON.stringify(data),
  schema,
})

/** The security requirement of an ESPI resource: an access token from the OAuth server under /oauth. */
export const espiToken = [{ espiOAuth: [] }]

/** The client authentication of oidc-provider's back-channel endpoints: HTTP Basic, or the secret in the form. */
export const clientAuthentication = [{ clientSecretBasic: [] }, {}]

const ATOM = 'application/atom+xml'
const PROBLEM = 'application/problem+json'

/** A response whose body is `schema` in `type`. */
export const body = (description: string, type: string, schema: TSchema = Type.String()) => ({
  description,
  content: { [type]: { schema } },
})

/** A response without a body (a redirect says where in its Location header). */
export const empty = (description: string) => Type.Null({ description })

export const htmlBody = (description: string) => body(description, 'text/html')
export const atomBody = (description: string) => body(description, ATOM)
export const problemBody = (description: string) => body(description, PROBLEM, ProblemSchema)
export const jsonBody = (description: string) =>
  body(description, 'application/json', Type.Object({}, { additionalProperties: true }))

/** The refusals every ESPI resource may answer, as problem documents. */
export const espiRefusals = {
  400: problemBody('A query parameter is malformed; the detail names it'),
  401: problemBody(
    'The access token is missing, unknown, expired, or its authorization has ended (WWW-Authenticate: Bearer error="invalid_token")',
  ),
  403: problemBody('The token may not read this resource (a customer grant asking for Batch/Bulk, say)'),
  404: problemBody('The resource does not exist or is not within this authorization'),
}

/** ESPI's query parameters (REQ.21): time windows over published and updated times, paging and depth. */
export const EspiQuery = Type.Object({
  'published-min': Type.Optional(
    Type.String({ format: 'date-time', description: 'Entries published at or after (RFC 3339)' }),
  ),
  'published-max': Type.Optional(
    Type.String({ format: 'date-time', description: 'Entries published at or before (RFC 3339)' }),
  ),
  'updated-min': Type.Optional(
    Type.String({ format: 'date-time', description: 'Entries updated at or after (RFC 3339)' }),
  ),
  'updated-max': Type.Optional(
    Type.String({ format: 'date-time', description: 'Entries updated at or before (RFC 3339)' }),
  ),
  'start-index': Type.Optional(
    Type.Integer({ minimum: 1, default: 1, description: 'The first entry to answer, counting from 1' }),
  ),
  'max-results': Type.Optional(Type.Integer({ minimum: 1, description: 'At most this many entries' })),
  depth: Type.Optional(
    Type.Integer({ minimum: 1, default: 3, description: 'How many levels below each entry to include' }),
  ),
})

/** Path parameters, each a string described by `descriptions`. */
export const params = (descriptions: Record<string, string>) =>
  Type.Object(
    Object.fromEntries(
      Object.entries(descriptions).map(([name, description]) => [name, Type.String({ description })]),
    ),
  )

/** A web form's fields, as the browser posts them. */
export const formBody = (fields: Record<string, string>) => ({
  content: {
    'application/x-www-form-urlencoded': {
      schema: Type.Object(
        Object.fromEntries(
          Object.entries(fields).map(([name, description]) => [
            name,
            Type.Optional(Type.String({ description })),
          ]),
        ),
      ),
    },
  },
})
