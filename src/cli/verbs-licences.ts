import { existsSync } from 'node:fs'
import type { Config } from '../config.js'
import { isCustodianError } from '../errors.js'
import { CatalogService } from '../licences/catalog-service.js'
import { type Flags, many, open, tokenOf, UsageError } from './verb-context.js'
import { command } from './verbs-script.js'

// The verbs of the licences domain: `catalog`, `participant` and `access check`.

export async function catalogVerb(config: Config, flags: Flags, rest: string[], out: NodeJS.WritableStream) {
  const [what, location] = rest
  if (what === 'export') {
    const custodian = await open(config)
    try {
      out.write(new CatalogService(custodian).export(tokenOf(flags)))
      return 0
    } finally {
      await custodian.close()
    }
  }
  if (what !== 'load' || !location || rest.length !== 2)
    throw new UsageError('catalog takes: load FILE.ttl|URL, or export')
  // As for every other file the command is given: a usage error (exit 2), not a refusal of the document.
  if (!location.includes('://') && !existsSync(location))
    throw new UsageError(`catalog file ${location} does not exist`)
  try {
    return await command(config, flags, 'load_catalog', [location], out)
  } catch (error) {
    // A bad document is reported as compilers do, so that editors can jump to it.
    if (!isCustodianError(error) || error.code !== 'Validation') throw error
    process.stderr.write(`${error.message}\n`)
    return 1
  }
}

export async function participantVerb(
  config: Config,
  flags: Flags,
  rest: string[],
  out: NodeJS.WritableStream,
) {
  const [what, id] = rest
  if (what === 'remove' && id && rest.length === 2)
    return command(config, flags, 'remove_participant', [id], out)
  if (what !== 'add' || !id || rest.length !== 2)
    throw new UsageError(
      'participant takes: add ID --role ROLE_URL... [--understands OBLIGATION_URL...], or remove ID',
    )
  const roles = many(flags.role)
  if (roles.length === 0) throw new UsageError('participant add needs at least one --role ROLE_URL')
  const name = typeof flags.name === 'string' ? flags.name : ''
  return command(
    config,
    flags,
    'add_participant',
    [id, roles.join(' '), many(flags.understands).join(' '), name],
    out,
  )
}

export async function accessCheck(config: Config, flags: Flags, rest: string[], out: NodeJS.WritableStream) {
  const { participant, service } = flags
  if (
    rest[0] !== 'check' ||
    rest.length !== 1 ||
    typeof participant !== 'string' ||
    typeof service !== 'string'
  )
    throw new UsageError('access takes: check --participant ID --service URL [--json]')
  const custodian = await open(config)
  try {
    const decision = new CatalogService(custodian).check(tokenOf(flags), participant, service)
    if (flags.json) out.write(`${JSON.stringify(decision)}\n`)
    else if (decision.allowed) {
      out.write(`allowed: ${decision.reason}\n`)
      out.write(`licence: ${decision.licence} (legal text ${decision.legalText})\n`)
      out.write(`grants: ${decision.grants.join(' ') || 'none listed'}\n`)
      out.write(`obligations: ${decision.obligations.join(' ') || 'none'}\n`)
    } else out.write(`denied: ${decision.reason}\n`)
    return decision.allowed ? 0 : 1
  } finally {
    await custodian.close()
  }
}
