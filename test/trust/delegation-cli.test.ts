import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { currentPolicy, ISHARE, ishareCases, ishareJson } from '../support/ishare.js'
import { scriptLines } from '../support/script-output.js'
import { CLI } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const CASES = join(ISHARE, 'cases')
const cases = ishareCases
const json = (file: string) => ishareJson(`cases/${file}`)
const answer = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, 'delegation', 'answer', ...args], { encoding: 'utf8' })

describe('custodian delegation answer', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it.each(cases)('prints for $mask the evidence the register returns ($evidence)', ({
    mask,
    policy,
    evidence,
  }) => {
    const notBefore = (json(policy) as { delegationEvidence: { notBefore: number } }).delegationEvidence
      .notBefore
    const result = answer(
      '--policy',
      join(CASES, policy),
      '--mask',
      join(CASES, mask),
      '--at',
      String(notBefore),
      '--json',
    )
    expect(result.stderr).toBe('')
    const expected = json(evidence) as {
      delegationEvidence: { policySets: { policies: { rules: { effect: string }[] }[] }[] }
    }
    const permitted = expected.delegationEvidence.policySets.every((set) =>
      set.policies.every((p) => p.rules[0]?.effect === 'Permit'),
    )
    // Exit 0 when every policy asked for is permitted, 1 on a Deny, as `access check` and `trust decide`.
    expect(result.status).toBe(permitted ? 0 : 1)
    expect(JSON.parse(result.stdout)).toEqual(expected)
  })

  it('says in words what it decided and why', () => {
    const result = answer(
      '--policy',
      join(CASES, 'case2_policy.json'),
      '--mask',
      join(CASES, 'case2_mask1.json'),
      '--at',
      '1529574873',
    )
    expect(result.stdout).toBe(
      'EU.EORI.NL000000003 -> EU.EORI.NL000000001, valid 2018-06-21T09:54:33.000Z to 2018-10-15T03:41:13.000Z\n' +
        'evaluated at 2018-06-21T09:54:33.000Z (--at 1529574873)\n' +
        'Deny: ISHARE.READ on CONTAINER.DATA 180621.ABC123 [CONTAINER.DATA.ATTRIBUTE.ETA]: a Deny rule (rule 2) overrides the Permit\n',
    )
    expect(result.status).toBe(1)
  })

  it('evaluates at the present moment without --at, says so, and exits 1 on the Deny that follows', () => {
    const before = Date.now()
    const result = answer(
      '--policy',
      join(CASES, 'case1_policy.json'),
      '--mask',
      join(CASES, 'case1_mask.json'),
    )
    const moment = /^evaluated at (\S+) \(now: no --at given\)$/m.exec(result.stdout)?.[1]
    expect(Date.parse(moment ?? '')).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
    expect(result.stdout).toMatch(/^Deny: .*: the policy expired at 1539574873$/m)
    expect(result.status).toBe(1)
    const permitted = answer(
      '--policy',
      join(CASES, 'case1_policy.json'),
      '--mask',
      join(CASES, 'case1_mask.json'),
      '--at',
      '1539574872',
    )
    expect(permitted.stdout).toMatch(/^Permit: /m)
    expect(permitted.status).toBe(0)
  })

  it('tells in its help which moment it evaluates at, and how it exits', () => {
    const help = spawnSync(process.execPath, [CLI, 'help'], { encoding: 'utf8' }).stdout
    expect(help).toMatch(
      /delegation answer --policy POLICY\.json --mask MASK\.json \[--at UNIX_SECONDS\] \[--json\]\n.*\n.*at --at, else now.*\n.*exit 0 all permitted, 1 any denied/,
    )
  })

  it('names the file and the field of a bad document', () => {
    const bad = join(temp.dir, 'bad-policy.json')
    writeFileSync(
      bad,
      '// a policy without an issuer\n{"delegationEvidence": {"notBefore": 1, "notOnOrAfter": 2, "target": {"accessSubject": "x"}, "policySets": []}}',
    )
    const result = answer('--policy', bad, '--mask', join(CASES, 'case1_mask.json'))
    expect(result.status).toBe(2)
    expect(result.stderr).toBe(
      `custodian: ${bad}: delegationEvidence.policyIssuer: must be a non-empty string\n`,
    )
  })
})

/** Case 1's policy made current (valid from a minute ago for an hour), written to a file in `dir`. */
function currentPolicyFile(dir: string): string {
  const path = join(dir, 'policy.json')
  writeFileSync(path, JSON.stringify(currentPolicy('case1_policy.json', 3600)))
  return path
}

describe('trust and delegation by command script', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('stores a policy, builds the network, and decides, a refused line named by its number', () => {
    const policy = currentPolicyFile(temp.dir)
    const script = join(temp.dir, 'trust.script')
    writeFileSync(
      script,
      [
        `store_delegation_policy ${policy}`,
        'add_association bdi',
        'add_association port, bdi',
        'record_party EU.EORI.NL000000001, port, high, high',
        'classify_service eta, port, high, EU.EORI.NL000000003, CONTAINER.DATA',
        'decide_trust EU.EORI.NL000000001, eta',
        'classify_service contents, port, medium',
        'decide_trust EU.EORI.NL000000001, contents',
        'record_party stranger, nowhere',
      ].join('\n'),
    )
    const run = spawnSync(process.execPath, [CLI, 'script', script, '--json', '--db', temp.target], {
      encoding: 'utf8',
    })
    expect(run.status).toBe(1)
    const lines = scriptLines(run.stdout)
    expect(lines.map((l) => [l.line, l.ok])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, true],
      [5, true],
      [6, true],
      [7, true],
      [8, true],
      [9, false],
    ])
    // Asked for every attribute, while the owner allows the ETA only: the high-classified data stays shut.
    expect(lines[5]?.result).toMatchObject({ allowed: false, classification: 'high' })
    expect(JSON.stringify(lines[5]?.result)).toContain(
      'attributes * are not all within CONTAINER.DATA.ATTRIBUTE.ETA',
    )
    expect(lines[7]?.result).toMatchObject({ allowed: true, classification: 'medium' })
    expect(lines[8]?.error?.message).toBe('memberships[0].association: nowhere does not exist')
  })
})

describe('a delegate of a policy issuer', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('writes the issuer’s policies once granted manage_delegations on delegations:<issuer>, and no one else does', () => {
    const policy = currentPolicyFile(temp.dir)
    const script = join(temp.dir, 'delegate.script')
    writeFileSync(
      script,
      [
        // A bootstrap administrator sets the engine up, then a real one takes over.
        'create_user admin, Administrator',
        'add_user_credential admin, password, "admin password"',
        'define_role admins, Administrators, "hold admin"',
        'add_entitlement_to_role admins, admin',
        'add_role_to_user admin, admins',
        'login user admin, password "admin password"',
        'define_permission manage_delegations, "Manage delegations", "writes a policy issuer’s delegation evidence"',
        'define_role delegation_managers, "Delegation managers", "act for a policy issuer in the register"',
        'add_entitlement_to_role delegation_managers, manage_delegations',
        'create_resource_role w13_delegates, delegation_managers, delegations:EU.EORI.NL000000003',
        'create_user agent, "Warehouse 13’s agent"',
        'add_user_credential agent, password, "agent password"',
        'add_resource_role_to_user agent, w13_delegates',
        'create_user meddler, Meddler',
        'add_user_credential meddler, password, "meddler password"',
        'login user meddler, password "meddler password"',
        `store_delegation_policy ${policy}`,
        'login user agent, password "agent password"',
        `store_delegation_policy ${policy}`,
      ].join('\n'),
    )
    const run = spawnSync(process.execPath, [CLI, 'script', script, '--json', '--db', temp.target], {
      encoding: 'utf8',
    })
    const lines = scriptLines(run.stdout)
    expect(lines.filter((l) => !l.ok).map((l) => [l.line, l.error?.message])).toEqual([
      [
        17,
        'meddler may not write the policies of EU.EORI.NL000000003: only the policy issuer may, or a delegate holding manage_delegations on delegations:EU.EORI.NL000000003',
      ],
    ])
    expect(lines.at(-1)?.result).toMatchObject({
      summary: 'stored the delegation evidence of EU.EORI.NL000000003 for EU.EORI.NL000000001',
    })
  })
})
