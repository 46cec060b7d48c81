import { Type } from '@sinclair/typebox'
import { type Operation, operation } from './operations.js'
import { Items } from './schemas.js'

/** Reading the audit log (the CLI's `custodian audit list` reads the store directly, with its own flags). */
export const auditOperations: Operation[] = [
  operation({
    name: 'read_audit',
    action: 'read the audit log',
    summary: 'Read the audit log, oldest first, after a sequence number',
    tags: ['audit'],
    permission: 'admin',
    input: Type.Object({
      after: Type.Integer({ minimum: 0, default: 0 }),
      limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    }),
    output: Items,
    http: { method: 'GET', path: '/v1/audit' },
    async run({ custodian }, { after, limit }) {
      await custodian.flush() // every record made so far, including this request's own check
      return { items: await custodian.store.readAudit(after, limit) }
    },
  }),
]
