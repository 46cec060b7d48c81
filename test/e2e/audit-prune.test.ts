import { afterAll, describe, expect, it } from 'vitest'
import { auditEntry, openStore } from '../store/conformance/backends.js'
import { cliOn } from '../support/cli.js'
import { tempSqlite } from '../support/temp-store.js'

describe('custodian audit prune', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())
  const cli = cliOn(temp)

  it('refuses to prune without a retention, and then says where verification starts', async () => {
    const store = await openStore(temp.target)
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString()
    await store.write(0, () => ({
      changes: [],
      audit: [
        auditEntry('old1', old),
        auditEntry('old2', old),
        auditEntry('recent', new Date().toISOString()),
      ],
      result: null,
    }))
    await store.close()

    const refused = cli.run('audit', 'prune')
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain('audit prune needs the retention in days')

    expect(cli.run('audit', 'verify').stdout).toBe(
      'audit log intact: 3 record(s), hash chain verified from genesis\n',
    )
    const pruned = cli.run('audit', 'prune', '--audit-retention-days', '30', '--json')
    expect(pruned.status).toBe(0)
    const outcome = JSON.parse(pruned.stdout)
    expect(outcome).toMatchObject({ pruned: 2, checkpoint: { seq: 2, at: old } })

    const verified = cli.run('audit', 'verify')
    expect(verified.status).toBe(0)
    // The recent record and the pruning's own record.
    expect(verified.stdout).toBe(
      `audit log intact: 2 record(s), hash chain verified from checkpoint seq 2 (pruned at ${outcome.checkpoint.prunedAt})\n`,
    )
    expect(cli.run('audit', 'list', '--json').stdout).toContain('"action":"audit.prune"')
  })
})
