import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { answerDelegation } from '../../src/trust/delegation-evaluation.js'
import { parseEvidence, parseRequest } from '../../src/trust/delegation-shapes.js'
import { ISHARE, ishareJson } from '../support/ishare.js'

const read = ishareJson
const ajv = new Ajv({ allErrors: true, strict: false })
const evidenceSchema = ajv.compile(read('schema/delegationEvidenceSchema.json') as object)
const maskSchema = ajv.compile(read('schema/delegationMaskSchema.json') as object)

/** What Custodian writes, checked against the iSHARE register's JSON schemas (of the evidence object itself). */
describe('iSHARE documents against the register’s JSON schemas', () => {
  it('reads back every seed policy as evidence the schema accepts', () => {
    for (const file of readdirSync(join(ISHARE, 'policies'))) {
      const evidence = parseEvidence(read(`policies/${file}`))
      expect(evidenceSchema(evidence), `${file}: ${ajv.errorsText(evidenceSchema.errors)}`).toBe(true)
    }
  })

  it('answers every case mask with evidence the schema accepts', () => {
    for (const mask of readdirSync(join(ISHARE, 'cases')).filter((f) => f.includes('_mask'))) {
      expect(maskSchema(read(`cases/${mask}`)), `${mask}: ${ajv.errorsText(maskSchema.errors)}`).toBe(true)
      const policy = parseEvidence(read(`cases/${mask.replace(/_mask\d*/, '_policy')}`))
      const { evidence } = answerDelegation(policy, parseRequest(read(`cases/${mask}`)), policy.notBefore)
      expect(evidenceSchema(evidence), `${mask}: ${ajv.errorsText(evidenceSchema.errors)}`).toBe(true)
    }
  })

  it('can fail: evidence without its policy issuer is rejected by the schema', () => {
    const policy = parseEvidence(read('cases/case1_policy.json'))
    const { policyIssuer: _, ...rest } = policy
    expect(evidenceSchema(policy)).toBe(true)
    expect(evidenceSchema(rest)).toBe(false)
  })
})
