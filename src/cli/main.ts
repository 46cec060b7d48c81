import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { Presets, SingleBar } from 'cli-progress'
import { type Config, describeSettings, loadConfig, settings } from '../config.js'
import { ConsentService } from '../consent/consent-service.js'
import { importCustomersCsv } from '../consent/customer-csv-import.js'
import { Custodian } from '../custodian.js'
import { DEMO_CUSTOMERS, type DemoThirdParty, seedDemo } from '../demo/demo.js'
import { type EntityKind, entityViews, listEntities } from '../entitlements/views.js'
import { isCustodianError } from '../errors.js'
import type { UsagePointMapping } from '../greenbutton/import-usage-data.js'
import { formatOf, UsageDataService } from '../greenbutton/usage-data-service.js'
import { CatalogService } from '../licences/catalog-service.js'
import { createLogger } from '../logger.js'
import { createMailer } from '../notify/mailer.js'
import { OutboxWorker } from '../notify/outbox-worker.js'
import { commands, runCommand } from '../script/commands.js'
import type { Field } from '../script/parse-line.js'
import { formatReport, jsonReport, runScriptFile } from '../script/run-script.js'
import { answerDelegation } from '../trust/delegation-evaluation.js'
import { DelegationService, readIshareJson } from '../trust/delegation-service.js'
import { parseEvidence, parseRequest, ShapeError } from '../trust/delegation-shapes.js'
import { TrustService } from '../trust/trust-service.js'

const usage = `custodian: authorization server for consented data sharing

usage:
  custodian serve                      serve the HTTP API (prints its URL; first start prints an admin password)
  custodian demo                       serve with a sample utility and third party, to try the consent flow
  custodian script FILE [--json]       run a command script (FILE or - for stdin); exit 1 if any line failed
  custodian audit verify               check the audit log's hash chain
  custodian audit list [--after N] [--limit N] [--json]
  custodian import customers FILE.csv  customers (and usage points) from CSV, all or nothing, with progress
  custodian import greenbutton FILE [--usage-point ID | --map MAP.json]
                                       publish usage data: Green Button XML, or CSV of interval readings
                                       (usage_point,start,duration,value[,cost][,quality]); one transaction
  custodian catalog load FILE.ttl|URL  catalog entries and licence interpretations (Turtle), all or nothing;
                                       exit 1 with FILE:LINE:COLUMN: reason on a bad document
  custodian catalog export             the catalog and licence interpretations as Turtle
  custodian participant add ID --role ROLE_URL... [--understands OBLIGATION_URL...] [--name NAME]
  custodian participant remove ID
  custodian access check --participant ID --service URL [--json]
                                       may the participant use the data service, under which licence;
                                       exit 0 allowed, 1 denied
  custodian delegation answer --policy POLICY.json --mask MASK.json [--at UNIX_SECONDS] [--json]
                                       the iSHARE delegation evidence a register returns for the mask
  custodian delegation sync --issuer ID
                                       copy an issuer's policies from the --remote-register (run on a schedule)
  custodian trust decide --party ID --service ID [--action A] [--evidence JWT] [--json]
                                       the BDI trust decision, input by input; exit 0 allowed, 1 denied
  custodian login --user ID            log in (password on stdin or in CUSTODIAN_PASSWORD); prints a token
  custodian login --voice-print VP     log in by voice print; prints a token
  custodian logout --token T           end a session
  custodian unlock USER                clear a user's login locks and failure counts, at every address
                                       (administrators: --token T)
  custodian show KIND [ID] [--json]    KIND: ${Object.keys(entityViews).join(', ')}
  custodian show configuration|energy-use [TARGET] / show sensor|appliance ADDRESS   (House Mate)
  custodian COMMAND ARG...             any script command, one argument per field, for example
                                         custodian define_permission control_oven "Control Oven" "Full control"
                                       administrative commands take --token T (or CUSTODIAN_TOKEN)
  custodian help                       this text, the script commands and every setting

Every command takes --db (file path or postgres:// URL; default data/custodian.db under the current
directory) and --config FILE (JSON settings).`

const cliOptions = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  token: { type: 'string' },
  user: { type: 'string' },
  'voice-print': { type: 'string' },
  after: { type: 'string' },
  limit: { type: 'string' },
  config: { type: 'string' },
  'usage-point': { type: 'string' },
  role: { type: 'string', multiple: true },
  understands: { type: 'string', multiple: true },
  name: { type: 'string' },
  participant: { type: 'string' },
  issuer: { type: 'string' },
  policy: { type: 'string' },
  mask: { type: 'string' },
  at: { type: 'string' },
  party: { type: 'string' },
  action: { type: 'string' },
  evidence: { type: 'string' },
  service: { type: 'string' },
  map: { type: 'string' },
  ...Object.fromEntries(Object.values(settings).map((s) => [s.flag, { type: 'string' }])),
} as const

class UsageError extends Error {}

type Flags = Record<string, string | string[] | boolean | undefined>

function integerFlag(flags: Flags, name: string, fallback: number): number {
  const raw = flags[name]
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0)
    throw new UsageError(`--${name} must be a whole number, got "${String(raw)}"`)
  return value
}

async function open(config: Config, follow = false): Promise<Custodian> {
  return Custodian.open({
    config,
    follow,
    logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel),
  })
}

async function readSecretFromStdin(): Promise<string> {
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) return line
  return ''
}

async function serve(config: Config, out: NodeJS.WritableStream, demo = false): Promise<number> {
  const logger = createLogger(config.logLevel)
  const custodian = await Custodian.open({ config, logger })
  const admin = await custodian.ensureAdmin()
  // Loaded here only: the HTTP app brings oidc-provider, which warns on import under Node 20.
  const { buildApp } = await import('../http/app.js')
  let party: DemoThirdParty | undefined
  const app = await buildApp(custodian, { logger, ...(demo ? { demo: () => party } : {}) })
  const address = await app.listen({ port: config.port, host: config.host })
  const url = address.replace('[::1]', 'localhost')
  if (!config.publicUrl) custodian.config.publicUrl = url
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, mailbox: config.mailbox })
  // The demo's third party is served here, so its notices go to this very server: allowed for the demo only.
  const outboundAllow = demo
    ? [config.outboundAllow, new URL(custodian.publicUrl).hostname].filter(Boolean).join(',')
    : config.outboundAllow
  const outbox = new OutboxWorker(custodian.store, mailer, logger, {
    pollMs: config.outboxPollMs,
    outboundAllow,
  })
  outbox.start()
  if (demo) party = await seedDemo(custodian, new ConsentService(custodian))
  // One write, so that a reader of the pipe gets the whole banner at once.
  let banner = `Custodian is serving at ${url} (store: ${custodian.store.location}, revision ${custodian.revision})\n`
  banner += `  API description: ${url}/openapi.json\n`
  banner += `  Customer emails go to the ${mailer.describe}\n`
  if (admin) {
    banner += `  First administrator created: user "${admin.userId}", password "${admin.password}"\n`
    banner += '  This password is shown only once. Log in with POST /v1/sessions or `custodian login`.\n'
  }
  if (demo) {
    banner += `\n  Demo: open ${url}/demo/third-party and press "Connect my utility account".\n`
    banner += `  Customers: ${DEMO_CUSTOMERS.map((c) => `${c.username} / ${c.password}`).join(', ')}\n`
    banner += `  Their 3rd Party Access page: ${url}/account/access\n`
  }
  out.write(banner)
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await outbox.stop()
  await app.close()
  await custodian.close()
  return 0
}

async function script(
  config: Config,
  flags: Flags,
  file: string | undefined,
  out: NodeJS.WritableStream,
): Promise<number> {
  if (!file) throw new UsageError('script needs a FILE (or - for standard input)')
  if (file !== '-' && (!existsSync(file) || !statSync(file).isFile()))
    throw new UsageError(`script file ${file} does not exist`)
  const custodian = await open(config)
  try {
    const summary = await runScriptFile(custodian, file, (entry) =>
      out.write(`${flags.json ? jsonReport(entry) : formatReport(file, entry)}\n`),
    )
    if (!flags.json) {
      process.stderr.write(
        `${summary.commands} command(s), ${summary.failed} failed; store at revision ${custodian.revision}\n`,
      )
    }
    return summary.failed > 0 ? 1 : 0
  } finally {
    await custodian.close()
  }
}

async function audit(
  config: Config,
  flags: Flags,
  action: string | undefined,
  out: NodeJS.WritableStream,
): Promise<number> {
  const custodian = await open(config)
  try {
    if (action === 'verify') {
      const { count, problems } = await custodian.verifyAudit()
      if (flags.json)
        out.write(`${JSON.stringify({ ok: problems.length === 0, records: count, problems })}\n`)
      else if (problems.length === 0) out.write(`audit log intact: ${count} record(s), hash chain verified\n`)
      else {
        for (const p of problems) out.write(`record ${p.seq}: ${p.problem}\n`)
        out.write(`audit log damaged: ${problems.length} problem(s) in ${count} record(s)\n`)
      }
      return problems.length === 0 ? 0 : 1
    }
    if (action === 'list') {
      const rows = await custodian.store.readAudit(
        integerFlag(flags, 'after', 0),
        integerFlag(flags, 'limit', 100),
      )
      for (const r of rows) {
        out.write(
          flags.json
            ? `${JSON.stringify(r)}\n`
            : `${r.seq} ${r.at} ${r.actor} ${r.action} ${r.resource} ${r.outcome}: ${r.reason}\n`,
        )
      }
      return 0
    }
    throw new UsageError('audit takes verify or list')
  } finally {
    await custodian.close()
  }
}

async function importFile(
  config: Config,
  flags: Flags,
  kind: string | undefined,
  file: string | undefined,
  out: NodeJS.WritableStream,
) {
  if (kind !== 'customers' && kind !== 'greenbutton')
    throw new UsageError('import takes: customers FILE.csv, or greenbutton FILE')
  if (!file || !existsSync(file) || !statSync(file).isFile())
    throw new UsageError(`import file ${file ?? '(none given)'} does not exist`)
  if (kind === 'greenbutton') return importUsageData(config, flags, file, out)
  const custodian = await open(config)
  const bar = process.stderr.isTTY
    ? new SingleBar(
        { format: '{phase} [{bar}] {percentage}% {value}/{total}', hideCursor: true },
        Presets.shades_classic,
      )
    : undefined
  let phase = ''
  try {
    const outcome = await importCustomersCsv(custodian, tokenOf(flags), file, (now, done, total) => {
      if (!bar) return
      if (now !== phase) {
        if (phase) bar.stop()
        phase = now
        bar.start(total, 0, { phase: now === 'reading' ? 'reading ' : 'hashing ' })
      }
      bar.update(done)
    })
    bar?.stop()
    if (!outcome.ok) {
      for (const p of outcome.problems)
        out.write(`${file}:${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}\n`)
      process.stderr.write(`nothing imported: ${outcome.problems.length} problem(s)\n`)
      return 1
    }
    out.write(
      flags.json
        ? `${JSON.stringify(outcome.result)}\n`
        : `${outcome.result.summary} (revision ${outcome.result.revision})\n`,
    )
    return 0
  } finally {
    bar?.stop()
    await custodian.close()
  }
}

/** The --map file: a JSON object from the file's usage point ids to Custodian's. */
function mappingOf(flags: Flags): UsagePointMapping {
  const usagePoint = typeof flags['usage-point'] === 'string' ? flags['usage-point'] : undefined
  if (typeof flags.map !== 'string') return usagePoint ? { usagePoint } : {}
  let map: unknown
  try {
    map = JSON.parse(readFileSync(flags.map, 'utf8'))
  } catch (error) {
    throw new UsageError(`--map ${flags.map}: ${(error as Error).message}`)
  }
  const entries = map && typeof map === 'object' && !Array.isArray(map) ? Object.entries(map) : []
  const bad = entries.find(([, v]) => typeof v !== 'string')
  if (entries.length === 0 || bad)
    throw new UsageError(
      `--map ${flags.map}: expected a JSON object of file usage point id → Custodian usage point id${bad ? `; "${bad[0]}" is not a string` : ''}`,
    )
  return { map: Object.fromEntries(entries) as Record<string, string>, ...(usagePoint ? { usagePoint } : {}) }
}

async function importUsageData(config: Config, flags: Flags, file: string, out: NodeJS.WritableStream) {
  const mapping = mappingOf(flags)
  const custodian = await open(config)
  const bar = process.stderr.isTTY
    ? new SingleBar(
        { format: 'importing [{bar}] {percentage}% {value}/{total} bytes', hideCursor: true },
        Presets.shades_classic,
      )
    : undefined
  bar?.start(statSync(file).size, 0)
  try {
    const report = await new UsageDataService(custodian).import(tokenOf(flags), {
      name: file,
      format: formatOf(file),
      chunks: createReadStream(file),
      mapping,
      progress: (bytes) => bar?.update(bytes),
    })
    bar?.stop()
    for (const w of report.warnings)
      out.write(`${file}:${w.position.line}:${w.position.column}: warning: ${w.message}\n`)
    out.write(
      flags.json
        ? `${JSON.stringify(report)}\n`
        : `${report.readings} readings (${report.changedReadings} new or revised) for ${report.usagePoints.join(', ') || 'no usage point'}; ${report.notified} third-party notification(s) queued\n`,
    )
    return 0
  } finally {
    bar?.stop()
    await custodian.close()
  }
}

async function login(config: Config, flags: Flags, out: NodeJS.WritableStream): Promise<number> {
  const custodian = await open(config)
  try {
    const voicePrint = flags['voice-print']
    // Local, like scripts: relayed as by the in-process House Mate controller, and counted against it.
    const result =
      typeof voicePrint === 'string'
        ? await custodian.loginVoicePrint(voicePrint, { address: 'cli' })
        : typeof flags.user === 'string'
          ? await custodian.login(
              flags.user,
              process.env.CUSTODIAN_PASSWORD ?? (await readSecretFromStdin()),
              { address: 'cli' },
            )
          : undefined
    if (!result) throw new UsageError('login needs --user ID (password on stdin) or --voice-print VP')
    out.write(flags.json ? `${JSON.stringify(result)}\n` : `${result.token}\n`)
    return 0
  } finally {
    await custodian.close()
  }
}

async function show(
  config: Config,
  flags: Flags,
  kind: string | undefined,
  id: string | undefined,
  out: NodeJS.WritableStream,
) {
  if (!kind || !Object.hasOwn(entityViews, kind))
    throw new UsageError(`show takes one of: ${Object.keys(entityViews).join(', ')}`)
  const custodian = await open(config)
  try {
    custodian.authorizeAdminAction(tokenOf(flags), `show ${kind}`)
    const items = id
      ? [entityViews[kind as EntityKind].one(custodian.index, id)]
      : listEntities(custodian.index, kind as EntityKind)
    for (const item of items)
      out.write(flags.json ? `${JSON.stringify(item)}\n` : `${describe(item as Record<string, unknown>)}\n`)
    return 0
  } finally {
    await custodian.close()
  }
}

const describe = (item: Record<string, unknown>) =>
  Object.entries(item)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ')

const tokenOf = (flags: Flags) =>
  typeof flags.token === 'string' ? flags.token : process.env.CUSTODIAN_TOKEN

async function command(
  config: Config,
  flags: Flags,
  name: string,
  args: string[],
  out: NodeJS.WritableStream,
) {
  const custodian = await open(config)
  try {
    // Each argument is one word, as a quoted value is in a script.
    const fields: Field[] = args.map((text, i) => ({ text, words: [text], column: i + 1 }))
    const token = tokenOf(flags)
    const state = {
      custodian,
      logins: new Map<string, string>(),
      address: 'cli',
      ...(token ? { adminToken: token } : {}),
    }
    const outcome = await runCommand(state, name, fields)
    out.write(
      flags.json
        ? `${JSON.stringify({ command: name, ok: true, result: outcome.result })}\n`
        : `${outcome.message}\n`,
    )
    return 0
  } finally {
    await custodian.close()
  }
}

const many = (value: Flags[string]) =>
  Array.isArray(value) ? value : typeof value === 'string' ? [value] : []

async function catalogVerb(config: Config, flags: Flags, rest: string[], out: NodeJS.WritableStream) {
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
  try {
    return await command(config, flags, 'load_catalog', [location], out)
  } catch (error) {
    // A bad document is reported as compilers do, so that editors can jump to it.
    if (!isCustodianError(error) || error.code !== 'Validation') throw error
    process.stderr.write(`${error.message}\n`)
    return 1
  }
}

async function participantVerb(config: Config, flags: Flags, rest: string[], out: NodeJS.WritableStream) {
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

async function accessCheck(config: Config, flags: Flags, rest: string[], out: NodeJS.WritableStream) {
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

function delegationAnswer(flags: Flags, rest: string[], out: NodeJS.WritableStream): number {
  const { policy, mask, at } = flags
  if (rest[0] !== 'answer' || rest.length !== 1 || typeof policy !== 'string' || typeof mask !== 'string')
    throw new UsageError(
      'delegation takes: answer --policy POLICY.json --mask MASK.json [--at UNIX_SECONDS] [--json]',
    )
  if (at !== undefined && !(typeof at === 'string' && /^\d{1,12}$/.test(at)))
    throw new UsageError(`--at must be a time in seconds since 1970, got "${String(at)}"`)
  const answer = answerDelegation(
    delegationFile(policy, parseEvidence),
    delegationFile(mask, parseRequest),
    at === undefined ? Math.floor(Date.now() / 1000) : Number(at),
  )
  if (flags.json) {
    out.write(`${JSON.stringify({ delegationEvidence: answer.evidence }, null, 2)}\n`)
    return 0
  }
  const e = answer.evidence
  out.write(
    `${e.policyIssuer} -> ${e.target.accessSubject}, valid ${new Date(e.notBefore * 1000).toISOString()} to ${new Date(e.notOnOrAfter * 1000).toISOString()}\n`,
  )
  let i = 0
  for (const set of e.policySets)
    for (const p of set.policies) {
      const r = p.target.resource
      out.write(
        `${p.rules[0]?.effect}: ${p.target.actions?.join(',') ?? '(any action)'} on ${r.type} ${r.identifiers?.join(',') ?? '*'} [${r.attributes?.join(',') ?? '*'}]: ${answer.reasons[i++]}\n`,
      )
    }
  return 0
}

async function delegationSync(config: Config, flags: Flags, rest: string[], out: NodeJS.WritableStream) {
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

async function trustDecide(config: Config, flags: Flags, rest: string[], out: NodeJS.WritableStream) {
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

function help(out: NodeJS.WritableStream): number {
  out.write(`${usage}\n\nscript commands:\n`)
  for (const spec of Object.values(commands)) out.write(`  ${spec.usage}\n      ${spec.help}\n`)
  out.write(`\nsettings (flag, environment variable, default):\n${describeSettings()}\n`)
  return 0
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: cliOptions,
      allowPositionals: true,
      strict: true,
    })
    const flags = values as Flags
    const [verb, ...rest] = positionals
    if (!verb || verb === 'help' || flags.help) return help(out)
    const config = loadConfig({ flags })
    switch (verb) {
      case 'serve':
        return await serve(config, out)
      case 'demo':
        return await serve(config, out, true)
      case 'script':
        return await script(config, flags, rest[0], out)
      case 'audit':
        return await audit(config, flags, rest[0], out)
      case 'login':
        return await login(config, flags, out)
      case 'logout': {
        const token = tokenOf(flags)
        if (!token) throw new UsageError('logout needs --token T (or CUSTODIAN_TOKEN)')
        return await command(config, flags, 'logout', [token], out)
      }
      case 'import':
        return await importFile(config, flags, rest[0], rest[1], out)
      case 'catalog':
        return await catalogVerb(config, flags, rest, out)
      case 'participant':
        return await participantVerb(config, flags, rest, out)
      case 'access':
        return await accessCheck(config, flags, rest, out)
      case 'delegation':
        if (rest[0] === 'sync') return await delegationSync(config, flags, rest, out)
        return delegationAnswer(flags, rest, out)
      case 'trust':
        return await trustDecide(config, flags, rest, out)
      case 'show':
        // `show users` lists entitlement entities; `show sensor ...` and the like are House Mate commands.
        if (rest[0] && Object.hasOwn(entityViews, rest[0]))
          return await show(config, flags, rest[0], rest[1], out)
        return await command(config, flags, verb, rest, out)
      default:
        if (!Object.hasOwn(commands, verb))
          throw new UsageError(`unknown command "${verb}"; run custodian help`)
        return await command(config, flags, verb, rest, out)
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`custodian: ${(error as Error).message}\n`)
      return 2
    }
    if (isCustodianError(error)) {
      process.stderr.write(`custodian: ${error.code}: ${error.message}\n`)
      return 1
    }
    throw error
  }
}
