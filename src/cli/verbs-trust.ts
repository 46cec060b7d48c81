import type { Config } from '../config.js'
import { isCustodianError } from '../errors.js'
import { answerDelegation } from '../trust/delegation-evaluation.js'
import { DelegationService, readIshareJson } from '../trust/delegation-service.js'
import { parseEvidence, parseRequest, ShapeError } from '../trust/delegation-shapes.js'
import { TrustService } from '../trust/trust-service.js'
import { type Flags, open, tokenOf, UsageError } from './verb-context.js'

// The verbs of the trust domain: `delegation answer|sync` and `trust decide`.

/** A delegation file for the CLI: a fault names the file (and the field), as a usage error. */
function delegationFile<T>(path: string, read: (json: unknown) => T): T {
  try {
    return read(readIshareJson(path))
  } catch (error) {
    if (error instanceof ShapeError) throw new UsageError(`${path}: ${error.message}`)
    if (isCustodianError(error)) throw new UsageError(error.message)
    throw error
  }
}

export function delegationAnswer(flags: Flags, rest: string[], out: NodeJS.WritableStream): number {
  const { policy, mask, at } = flags
  if (rest[0] !== 'answer' || rest.length !== 1 || typeof policy !== 'string' || typeof mask !== 'string')
    throw new UsageError(
      'delegation takes: answer --policy POLICY.json --mask MASK.json [--at UNIX_SECONDS] [--json]',
    )
  if (at !== undefined && !(typeof at === 'string' && /^\d{1,12}$/.test(at)))
    throw new UsageError(`--at must be a time in seconds since 1970, got "${String(at)}"`)
  const moment = at === undefined ? Math.floor(Date.now() / 1000) : Number(at)
  const answer = answerDelegation(
    delegationFile(policy, parseEvidence),
    delegationFile(mask, parseRequest),
    moment,
  )
  // Exit 1 on any Deny, as `access check` and `trust decide` do on a denial.
  const status = answer.reasons.every((r) => r === 'permitted') ? 0 : 1
  if (flags.json) {
    out.write(`${JSON.stringify({ delegationEvidence: answer.evidence }, null, 2)}\n`)
    return status
  }
  const e = answer.evidence
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString()
  out.write(
    `${e.policyIssuer} -> ${e.target.accessSubject}, valid ${iso(e.notBefore)} to ${iso(e.notOnOrAfter)}\n` +
      `evaluated at ${iso(moment)} (${at === undefined ? 'now: no --at given' : `--at ${at}`})\n`,
  )
  let i = 0
  for (const set of e.policySets)
    for (const p of set.policies) {
      const r = p.target.resource
      out.write(
        `${p.rules[0]?.effect}: ${p.target.actions?.join(',') ?? '(any action)'} on ${r.type} ${r.identifiers?.join(',') ?? '*'} [${r.attributes?.join(',') ?? '*'}]: ${answer.reasons[i++]}\n`,
      )
    }
  return status
}

export async function delegationSync(
  config: Config,
  flags: Flags,
  rest: string[],
  out: NodeJS.WritableStream,
) {
  if (rest.length !== 1 || typeof flags.issuer !== 'string')
    throw new UsageError('delegation sync takes: --issuer ID (and the --remote-register settings)')
  const custodian = await open(config)
  try {
    const result = await new DelegationService(custodian).syncFrom(tokenOf(flags), flags.issuer)
    out.write(
      flags.json ? `${JSON.stringify(result)}\n` : `${result.summary} (revision ${result.revision})\n`,
    )
    return 0
  } finally {
    await custodian.close()
  }
}

export async function trustDecide(config: Config, flags: Flags, rest: string[], out: NodeJS.WritableStream) {
  const { party, service, action, evidence } = flags
  if (rest[0] !== 'decide' || rest.length !== 1 || typeof party !== 'string' || typeof service !== 'string')
    throw new UsageError('trust takes: decide --party ID --service ID [--action A] [--evidence JWT] [--json]')
  const custodian = await open(config)
  try {
    const decision = await new TrustService(custodian, new DelegationService(custodian)).decide(
      tokenOf(flags),
      {
        party,
        service,
        ...(typeof action === 'string' ? { action } : {}),
        ...(typeof evidence === 'string' ? { evidence } : {}),
      },
    )
    if (flags.json) out.write(`${JSON.stringify(decision)}\n`)
    else {
      out.write(`${decision.allowed ? 'allowed' : 'denied'}: ${decision.reason}\n`)
      for (const f of decision.findings)
        out.write(`  ${f.satisfied ? 'ok  ' : 'FAIL'} ${f.input}: required ${f.required}; found ${f.found}\n`)
    }
    return decision.allowed ? 0 : 1
  } finally {
    await custodian.close()
  }
}
