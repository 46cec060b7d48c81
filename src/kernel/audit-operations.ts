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
      await custodian.flushAudit() // every record made so far, including this request's own check
      return { items: await custodian.store.readAudit(after, limit) }
    },
  }),
  // The CLI's `custodian audit verify` checks the same chain on the store directly, without a token.
  operation({
    name: 'verify_audit',
    action: 'verify the audit log',
    summary: "Verify the audit log's hash chain, from genesis or the pruning checkpoint",
    tags: ['audit'],
    permission: 'admin',
    input: Type.Object({}),
    output: Type.Object({
      ok: Type.Boolean(),
      records: Type.Integer(),
      from: Type.String({ description: '`genesis`, or the checkpoint the chain is verified from' }),
      problems: Type.Array(Type.Object({ seq: Type.Integer(), problem: Type.String() })),
    }),
    http: { method: 'POST', path: '/v1/audit/verification' },
    async run({ custodian }) {
      await custodian.flushAudit()
      const { count, problems, from } = await custodian.verifyAudit()
      return {
        ok: problems.length === 0,
        records: count,
        from: from ? `checkpoint seq ${from.seq} (pruned at ${from.prunedAt})` : 'genesis',
        problems: problems.map(({ seq, problem }) => ({ seq, problem })),
      }
    },
  }),
]
