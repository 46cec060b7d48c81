import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { CustodianError } from './errors.js'

/**
 * Every setting Custodian reads, with its default, its environment variable and its flag. This table is
 * the one documented place for defaults: the README points here and `custodian help` prints it.
 * Precedence, lowest first: default, config file (`--config` / CUSTODIAN_CONFIG, JSON), environment, flag.
 */
export const settings = {
  db: {
    env: 'CUSTODIAN_DB',
    flag: 'db',
    default: 'data/custodian.db',
    kind: 'string',
    help: 'SQLite file path (relative to the current directory) or postgres:// URL',
  },
  host: { env: 'HOST', flag: 'host', default: '127.0.0.1', kind: 'string', help: 'address to listen on' },
  port: {
    env: 'PORT',
    flag: 'port',
    default: 8080,
    kind: 'integer',
    help: 'port to listen on (0: any free port)',
  },
  logLevel: {
    env: 'LOG_LEVEL',
    flag: 'log-level',
    default: 'info',
    kind: 'string',
    help: 'pino level: fatal, error, warn, info, debug, trace, silent',
  },
  logFormat: {
    env: 'CUSTODIAN_LOG_FORMAT',
    flag: 'log-format',
    default: 'auto',
    kind: 'string',
    help: 'pretty (one readable line a message, pino-pretty), json (one JSON object a line), or auto: pretty on a terminal, json otherwise',
  },
  metricsToken: {
    env: 'CUSTODIAN_METRICS_TOKEN',
    flag: 'metrics-token',
    default: '',
    kind: 'string',
    help: 'the bearer token a Prometheus scraper sends to GET /metrics (empty: /metrics answers 404)',
  },
  tokenLifetimeSeconds: {
    env: 'CUSTODIAN_TOKEN_LIFETIME',
    flag: 'token-lifetime',
    default: 86_400,
    kind: 'integer',
    help: 'seconds an access token lives at most',
  },
  idleTimeoutSeconds: {
    env: 'CUSTODIAN_IDLE_TIMEOUT',
    flag: 'idle-timeout',
    default: 3_600,
    kind: 'integer',
    help: 'seconds of inactivity after which an access token is refused',
  },
  loginMaxFailuresPerUser: {
    env: 'CUSTODIAN_LOGIN_MAX_FAILURES_USER',
    flag: 'login-max-failures-user',
    default: 5,
    kind: 'integer',
    help: 'failed logins for one user from one address before that pair is locked (counted before checking)',
  },
  loginMaxFailuresPerAddress: {
    env: 'CUSTODIAN_LOGIN_MAX_FAILURES_ADDRESS',
    flag: 'login-max-failures-address',
    default: 20,
    kind: 'integer',
    help: 'failed logins from one address (across users), or voice prints of one controller, before it is locked',
  },
  loginLockoutSeconds: {
    env: 'CUSTODIAN_LOGIN_LOCKOUT',
    flag: 'login-lockout',
    default: 30,
    kind: 'integer',
    help: 'first lockout after too many failures; doubles on each further failure, up to the ceiling',
  },
  loginMaxLockoutSeconds: {
    env: 'CUSTODIAN_LOGIN_MAX_LOCKOUT',
    flag: 'login-max-lockout',
    default: 900,
    kind: 'integer',
    help: 'ceiling of a lockout; failures are also remembered this long from the first',
  },
  loginSlowAfterFailures: {
    env: 'CUSTODIAN_LOGIN_SLOW_AFTER_FAILURES',
    flag: 'login-slow-after-failures',
    default: 10,
    kind: 'integer',
    help: 'failed logins for one user across every address before its logins are slowed (never locked)',
  },
  loginSlowSeconds: {
    env: 'CUSTODIAN_LOGIN_SLOW',
    flag: 'login-slow',
    default: 5,
    kind: 'integer',
    help: 'a slowed user gets one login attempt per this many seconds, except from an address it logged in from in the last 30 days',
  },
  voiceTokenLifetimeSeconds: {
    env: 'CUSTODIAN_VOICE_TOKEN_LIFETIME',
    flag: 'voice-token-lifetime',
    default: 300,
    kind: 'integer',
    help: 'seconds a token from a voice-print login (through a House Mate controller) lives at most',
  },
  changePollMs: {
    env: 'CUSTODIAN_CHANGE_POLL_MS',
    flag: 'change-poll-ms',
    default: 250,
    kind: 'integer',
    help: 'how often a node reads the change log written by other processes (PostgreSQL also uses LISTEN)',
  },
  maxStaleness: {
    env: 'CUSTODIAN_MAX_STALENESS',
    flag: 'max-staleness',
    default: 5,
    kind: 'integer',
    help: 'seconds a node may go without reaching the store before it answers 503 instead of deciding from what it last read',
  },
  publicUrl: {
    env: 'CUSTODIAN_PUBLIC_URL',
    flag: 'public-url',
    default: '',
    kind: 'string',
    help: 'the URL third parties and customers reach this server at: every link, redirect, email and OAuth metadata is on it, whatever Host a request names (default: http://HOST:PORT, https:// with --tls-cert)',
  },
  tlsCert: {
    env: 'CUSTODIAN_TLS_CERT',
    flag: 'tls-cert',
    default: '',
    kind: 'string',
    help: 'PEM file of the certificate (its chain after it) to serve HTTPS with, TLS 1.2 or later, with HSTS; needs --tls-key (empty: plain HTTP)',
  },
  tlsKey: {
    env: 'CUSTODIAN_TLS_KEY',
    flag: 'tls-key',
    default: '',
    kind: 'string',
    help: "PEM file of that certificate's private key",
  },
  trustProxy: {
    env: 'CUSTODIAN_TRUST_PROXY',
    flag: 'trust-proxy',
    default: '',
    kind: 'string',
    help: 'comma-separated addresses and CIDR ranges of the TLS-terminating proxies in front: from them only, X-Forwarded-For gives the client address and X-Forwarded-Proto the scheme (needs --public-url; empty: no proxy is believed)',
  },
  smtpUrl: {
    env: 'CUSTODIAN_SMTP_URL',
    flag: 'smtp-url',
    default: '',
    kind: 'string',
    help: 'smtp(s)://user:pass@host:port to send customer emails; unset: they go to the mailbox folder',
  },
  mailFrom: {
    env: 'CUSTODIAN_MAIL_FROM',
    flag: 'mail-from',
    default: 'Custodian <no-reply@custodian.localhost>',
    kind: 'string',
    help: 'sender of customer emails',
  },
  mailbox: {
    env: 'CUSTODIAN_MAILBOX',
    flag: 'mailbox',
    default: 'data/mailbox',
    kind: 'string',
    help: 'folder where emails are written when no SMTP server is set',
  },
  outboxPollMs: {
    env: 'CUSTODIAN_OUTBOX_POLL_MS',
    flag: 'outbox-poll-ms',
    default: 1_000,
    kind: 'integer',
    help: 'how often undelivered notifications are looked for',
  },
  registerId: {
    env: 'CUSTODIAN_REGISTER_ID',
    flag: 'register-id',
    default: 'custodian',
    kind: 'string',
    help: 'the party id (an EORI, say) this server signs iSHARE delegation evidence as',
  },
  delegationKey: {
    env: 'CUSTODIAN_DELEGATION_KEY',
    flag: 'delegation-key',
    default: '',
    kind: 'string',
    help: 'PEM file of the RS256 key delegation evidence is signed with (empty: a development key and chain, made once per store)',
  },
  delegationCertificates: {
    env: 'CUSTODIAN_DELEGATION_CERTIFICATES',
    flag: 'delegation-certificates',
    default: '',
    kind: 'string',
    help: "PEM file of that key's certificate chain, its own certificate first (sent as x5c)",
  },
  trustedRoots: {
    env: 'CUSTODIAN_TRUSTED_ROOTS',
    flag: 'trusted-roots',
    default: '',
    kind: 'string',
    help: 'PEM file of the scheme root certificates (the iSHARE CA list) trusted for signed delegation evidence, client assertions and party tokens (the own root always is)',
  },
  trustedRegisters: {
    env: 'CUSTODIAN_TRUSTED_REGISTERS',
    flag: 'trusted-registers',
    default: '',
    kind: 'string',
    help: 'comma-separated party ids of the registers (a remote register, say) whose signed evidence may speak for another policy issuer; anyone else signs only its own (this server, registerId, always may)',
  },
  clockSkewSeconds: {
    env: 'CUSTODIAN_CLOCK_SKEW',
    flag: 'clock-skew',
    default: 10,
    kind: 'integer',
    help: "seconds a signed evidence token's iat may be ahead of this server's clock",
  },
  remoteRegister: {
    env: 'CUSTODIAN_REMOTE_REGISTER',
    flag: 'remote-register',
    default: '',
    kind: 'string',
    help: "base URL of an iSHARE Authorization Register asked at decision time when the owner's evidence is not held here (its POST /delegation)",
  },
  remoteRegisterToken: {
    env: 'CUSTODIAN_REMOTE_REGISTER_TOKEN',
    flag: 'remote-register-token',
    default: '',
    kind: 'string',
    help: 'the bearer token this server asks the remote register with',
  },
  remoteRegisterParty: {
    env: 'CUSTODIAN_REMOTE_REGISTER_PARTY',
    flag: 'remote-register-party',
    default: '',
    kind: 'string',
    help: 'who this server is at the remote register: the audience its evidence must be signed for (empty: registerId, the party its client assertion names)',
  },
  remoteRegisterId: {
    env: 'CUSTODIAN_REMOTE_REGISTER_ID',
    flag: 'remote-register-id',
    default: '',
    kind: 'string',
    help: "the remote register's party id: without a remote register token, this server gets one at its /connect/token with a client assertion addressed to this id (signed with the delegation key, as registerId)",
  },
  participantRegister: {
    env: 'CUSTODIAN_PARTICIPANT_REGISTER',
    flag: 'participant-register',
    default: '',
    kind: 'string',
    help: 'base URL of the iSHARE participant register (Satellite) asked whether a party is active before it gets an access token (its GET /parties, signed party_token; this server authenticates with a client assertion); empty: the parties recorded here (PUT /v1/trust/parties)',
  },
  participantRegisterId: {
    env: 'CUSTODIAN_PARTICIPANT_REGISTER_ID',
    flag: 'participant-register-id',
    default: '',
    kind: 'string',
    help: "the participant register's party id: the audience of this server's client assertion there, and the one who must sign its party tokens",
  },
  partySource: {
    env: 'CUSTODIAN_PARTY_SOURCE',
    flag: 'party-source',
    default: '',
    kind: 'string',
    help: 'URL asked for a party\'s memberships and level of assurance at decision time, {id} replaced by its id; it answers {"memberships": [{"association", "status"?, "validFrom"?, "validUntil"?}], "assurance"?} (empty: only what was recorded)',
  },
  reputationSource: {
    env: 'CUSTODIAN_REPUTATION_SOURCE',
    flag: 'reputation-source',
    default: '',
    kind: 'string',
    help: 'URL asked for a party\'s reputation at decision time, {id} replaced by its id; it answers {"level"|"score", "source"?, "at"?} (empty: only what was recorded)',
  },
  partySourceId: {
    env: 'CUSTODIAN_PARTY_SOURCE_ID',
    flag: 'party-source-id',
    default: '',
    kind: 'string',
    help: "the party source's iSHARE party id: when set, this server asks it with an access token got at its origin's /connect/token with this server's client assertion",
  },
  reputationSourceId: {
    env: 'CUSTODIAN_REPUTATION_SOURCE_ID',
    flag: 'reputation-source-id',
    default: '',
    kind: 'string',
    help: "the reputation source's iSHARE party id: when set, this server asks it with an access token got at its origin's /connect/token with this server's client assertion",
  },
  sourceTimeoutMs: {
    env: 'CUSTODIAN_SOURCE_TIMEOUT_MS',
    flag: 'source-timeout-ms',
    default: 2_000,
    kind: 'integer',
    help: 'how long a trust decision waits for an information source',
  },
  sourceCacheSeconds: {
    env: 'CUSTODIAN_SOURCE_CACHE_SECONDS',
    flag: 'source-cache-seconds',
    default: 300,
    kind: 'integer',
    help: "how long an information source's answer is reused",
  },
  outboundAllow: {
    env: 'CUSTODIAN_OUTBOUND_ALLOW',
    flag: 'outbound-allow',
    default: '',
    kind: 'string',
    help: 'comma-separated host names, IP addresses and CIDR ranges the server may connect to although they are loopback, private, link-local or otherwise special (catalog fetches, information sources, the remote register, notifications); empty: public addresses only',
  },
  auditFlushMs: {
    env: 'CUSTODIAN_AUDIT_FLUSH_MS',
    flag: 'audit-flush-ms',
    default: 50,
    kind: 'integer',
    help: 'longest time an access decision waits in memory before its audit record is written',
  },
  auditRetentionDays: {
    env: 'CUSTODIAN_AUDIT_RETENTION_DAYS',
    flag: 'audit-retention-days',
    default: 0,
    kind: 'integer',
    help: 'days audit records are kept; older ones are pruned hourly, the chain then verified from a recorded checkpoint (0: keep every record)',
  },
  maxJsonDepth: {
    env: 'CUSTODIAN_MAX_JSON_DEPTH',
    flag: 'max-json-depth',
    default: 64,
    kind: 'integer',
    help: 'deepest nesting of arrays and objects in a JSON body, and of requirements in a trust decision matrix (deeper: 400)',
  },
  maxPolicySets: {
    env: 'CUSTODIAN_MAX_POLICY_SETS',
    flag: 'max-policy-sets',
    default: 10,
    kind: 'integer',
    help: 'policy sets in one delegation evidence or delegation request (more: 413)',
  },
  maxPolicies: {
    env: 'CUSTODIAN_MAX_POLICIES',
    flag: 'max-policies',
    default: 100,
    kind: 'integer',
    help: 'policies in one delegation evidence or delegation request, all its policy sets together (more: 413)',
  },
  maxRules: {
    env: 'CUSTODIAN_MAX_RULES',
    flag: 'max-rules',
    default: 1_000,
    kind: 'integer',
    help: 'rules in one delegation evidence, all its policies together (more: 413)',
  },
  maxTargetValues: {
    env: 'CUSTODIAN_MAX_TARGET_VALUES',
    flag: 'max-target-values',
    default: 1_000,
    kind: 'integer',
    help: 'identifiers, attributes, actions, service providers and licences in one delegation evidence or delegation request, all together (more: 413)',
  },
  maxMatrixSize: {
    env: 'CUSTODIAN_MAX_MATRIX_SIZE',
    flag: 'max-matrix-size',
    default: 200,
    kind: 'integer',
    help: 'classifications and requirements in one trust decision matrix, all together (more: 413)',
  },
  maxBatchChecks: {
    env: 'CUSTODIAN_MAX_BATCH_CHECKS',
    flag: 'max-batch-checks',
    default: 500,
    kind: 'integer',
    help: 'questions in one batch access check, POST /v1/checks (more: 413)',
  },
  utilityName: {
    env: 'CUSTODIAN_UTILITY_NAME',
    flag: 'utility-name',
    default: 'Your utility',
    kind: 'string',
    help: "the utility's name, on every customer page",
  },
  utilityLogo: {
    env: 'CUSTODIAN_UTILITY_LOGO',
    flag: 'utility-logo',
    default: '',
    kind: 'string',
    help: "URL of the utility's logo (https:, http: or data:image/), on every customer page; empty: none",
  },
  utilityColour: {
    env: 'CUSTODIAN_UTILITY_COLOUR',
    flag: 'utility-colour',
    default: '#0b5394',
    kind: 'string',
    help: "the utility's primary colour (#rrggbb): the page header and the main button",
  },
  maxConcurrentImports: {
    env: 'CUSTODIAN_MAX_CONCURRENT_IMPORTS',
    flag: 'max-concurrent-imports',
    default: 2,
    kind: 'integer',
    help: 'usage data files (POST /v1/usage-data) one server imports at once, each read as it arrives and an XML one parsed in a thread of its own (more: 503 with Retry-After)',
  },
  maxTextLength: {
    env: 'CUSTODIAN_MAX_TEXT_LENGTH',
    flag: 'max-text-length',
    default: 10_000,
    kind: 'integer',
    help: 'longest line of a usage data CSV, and longest text of one element of a Green Button XML file, in characters (longer: refused)',
  },
  greenButtonTimeZone: {
    env: 'CUSTODIAN_GB_TIME_ZONE',
    flag: 'gb-time-zone',
    default: 'UTC',
    kind: 'string',
    help: 'IANA time zone of the LocalTimeParameters given to a usage point whose files hold none',
  },
  greenButtonReadingType: {
    env: 'CUSTODIAN_GB_READING_TYPE',
    flag: 'gb-reading-type',
    default:
      'accumulationBehaviour=4,commodity=1,dataQualifier=12,flowDirection=1,kind=12,phase=769,powerOfTenMultiplier=0,timeAttribute=0,uom=72',
    kind: 'string',
    help: 'ReadingType fields (field=code,…) given to a meter reading whose files hold none, and to CSV readings; intervalLength comes from the readings',
  },
} as const

export type SettingName = keyof typeof settings
type ValueOf<S> = S extends { kind: 'integer' } ? number : string
export type Config = { -readonly [K in SettingName]: ValueOf<(typeof settings)[K]> }

export const defaultConfig = (): Config =>
  Object.fromEntries(Object.entries(settings).map(([name, s]) => [name, s.default])) as Config

function coerce(name: SettingName, raw: unknown, source: string): string | number {
  const setting = settings[name]
  if (setting.kind === 'integer') {
    const text = String(raw).trim()
    const value = typeof raw === 'number' ? raw : text === '' ? Number.NaN : Number(text)
    if (!Number.isInteger(value) || value < 0) {
      throw new CustodianError(
        'Validation',
        `${source}: ${name} must be a whole number >= 0, got "${String(raw)}"`,
      )
    }
    return value
  }
  if (typeof raw !== 'string' || raw === '') {
    throw new CustodianError('Validation', `${source}: ${name} must be a non-empty string`)
  }
  return raw
}

export interface ConfigSources {
  flags?: Partial<Record<string, string | string[] | boolean | undefined>>
  env?: Record<string, string | undefined>
  /** Path of a JSON file whose keys are setting names; `flags.config` or CUSTODIAN_CONFIG name it otherwise. */
  file?: string
}

/** Builds the configuration from defaults, an optional JSON file, the environment and flags. */
export function loadConfig({ flags = {}, env = process.env, file }: ConfigSources = {}): Config {
  const config = defaultConfig() as Record<SettingName, string | number>
  const path = file ?? (typeof flags.config === 'string' ? flags.config : undefined) ?? env.CUSTODIAN_CONFIG
  if (path) {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(resolve(path), 'utf8'))
    } catch (error) {
      throw new CustodianError('Validation', `config file ${path}: ${(error as Error).message}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CustodianError('Validation', `config file ${path}: expected a JSON object of settings`)
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (!Object.hasOwn(settings, key)) {
        throw new CustodianError(
          'Validation',
          `config file ${path}: unknown setting "${key}" (known: ${Object.keys(settings).join(', ')})`,
        )
      }
      config[key as SettingName] = coerce(key as SettingName, value, `config file ${path}`)
    }
  }
  for (const name of Object.keys(settings) as SettingName[]) {
    const { env: envName, flag } = settings[name]
    const fromEnv = env[envName]
    if (fromEnv !== undefined && fromEnv !== '')
      config[name] = coerce(name, fromEnv, `environment ${envName}`)
    const fromFlag = flags[flag]
    if (fromFlag !== undefined && typeof fromFlag === 'string')
      config[name] = coerce(name, fromFlag, `--${flag}`)
  }
  return config as Config
}
