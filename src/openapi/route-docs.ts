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

/** A response whose body is `schema` in `type`. */
export const body = (description: string, type: string, schema: TSchema = Type.String()) => ({
  description,
  content: { [type]: { schema } },
})

/** A response without a body (a redirect says where in its Location header). */
export const empty = (description: string) => Type.Null({ description })

export const htmlBody = (description: string) => body(description, 'text/html')
export const atomBody = (description: string) => body(description, 'application/atom+xml')
export const problemBody = (description: string) =>
  body(description, 'application/problem+json', ProblemSchema)
export const jsonBody = (description: string) =>
  body(description, 'application/json', Type.Object({}, { additionalProperties: true }))

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
