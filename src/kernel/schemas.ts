import { Type } from '@sinclair/typebox'

/** The shapes the operations tables share. */
export const Id = Type.String({ minLength: 1, maxLength: 200 })
export const Text = Type.String({ maxLength: 2000 })
/** A password or a voice print as given: never stored, only its hash. */
export const Secret = Type.String({ minLength: 1, maxLength: 1024 })
export const Revision = Type.Integer({ minimum: 0, description: 'Store revision after the write' })
/**
 * The output of a change (`run` answers a ChangeResult): over HTTP its details are fields of the body, which
 * has a `custodian-revision` header.
 */
export const Changed = Type.Object({ revision: Revision, summary: Type.String() })
/** A change that made something: the new id. */
export const Created = Type.Object({
  revision: Revision,
  summary: Type.String(),
  id: Type.Optional(Type.String()),
})
/** The name of an uploaded file, given in the query string: for messages and the audit log. */
export const FileName = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'the file name, for messages and the audit log',
})
export const Items = Type.Object({ items: Type.Array(Type.Unknown()) })
export const AnyObject = Type.Object({}, { additionalProperties: true })
