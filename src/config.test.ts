import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultConfig, loadConfig, settings } from './config.js'
import { CustodianError } from './errors.js'

const dir = mkdtempSync(join(tmpdir(), 'custodian-config-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

let files = 0
/** Writes `content` (JSON-encoded unless it is a string) to a new file in the temp directory. */
function configFile(content: unknown): string {
  files += 1
  const path = join(dir, `config-${files}.json`)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

/** The Validation error `run` throws; fails the test when it throws nothing or something else. */
function validationError(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (!(error instanceof CustodianError)) throw error
    expect(error.code).toBe('Validation')
    return error.message
  }
  throw new Error('expected a Validation error, but nothing was thrown')
}

describe('loadConfig', () => {
  it('gives the documented defaults with no file, environment or flags', () => {
    const config = loadConfig({ env: {}, flags: {} })
    expect(config).toEqual(defaultConfig())
    expect(config).toMatchObject({
      db: 'data/custodian.db',
      host: '127.0.0.1',
      port: 8080,
      logLevel: 'info',
      tokenLifetimeSeconds: 86_400,
      idleTimeoutSeconds: 3_600,
      loginMaxFailuresPerUser: 5,
      loginMaxFailuresPerAddress: 20,
      loginLockoutSeconds: 30,
      changePollMs: 250,
      auditFlushMs: 50,
    })
    expect(Object.keys(config).sort()).toEqual(Object.keys(settings).sort())
  })

  it('does not read process.env when an environment is given', () => {
    const saved = process.env.PORT
    process.env.PORT = '1234'
    try {
      expect(loadConfig({ env: {} }).port).toBe(8080)
    } finally {
      if (saved === undefined) delete process.env.PORT
      else process.env.PORT = saved
    }
  })

  it('lets the file override defaults, the environment override the file, and a flag override both', () => {
    const file = configFile({ port: 9000, host: '0.0.0.0', logLevel: 'debug', changePollMs: 100 })
    const config = loadConfig({
      file,
      env: { PORT: '9100', HOST: '10.0.0.1' },
      flags: { port: '9200' },
    })
    expect(config.port).toBe(9200)
    expect(config.host).toBe('10.0.0.1')
    expect(config.logLevel).toBe('debug')
    expect(config.changePollMs).toBe(100)
    expect(config.auditFlushMs).toBe(50)
  })

  it('reads each setting from its own environment variable and flag', () => {
    const env = Object.fromEntries(
      Object.values(settings).map((s) => [s.env, s.kind === 'integer' ? '7' : 'from-env']),
    )
    const fromEnv = loadConfig({ env })
    const flags = Object.fromEntries(
      Object.values(settings).map((s) => [s.flag, s.kind === 'integer' ? '8' : 'from-flag']),
    )
    const fromFlags = loadConfig({ env, flags })
    for (const [name, s] of Object.entries(settings)) {
      const key = name as keyof typeof settings
      expect(fromEnv[key]).toBe(s.kind === 'integer' ? 7 : 'from-env')
      expect(fromFlags[key]).toBe(s.kind === 'integer' ? 8 : 'from-flag')
    }
  })

  it('skips an empty environment variable and a boolean flag', () => {
    const config = loadConfig({ env: { PORT: '', CUSTODIAN_DB: '' }, flags: { port: true } })
    expect(config.port).toBe(8080)
    expect(config.db).toBe('data/custodian.db')
  })

  it('accepts an integer written as a string in the file, and surrounding spaces in the environment', () => {
    expect(loadConfig({ env: {}, file: configFile({ port: '9000' }) }).port).toBe(9000)
    expect(loadConfig({ env: { PORT: ' 9001 ' } }).port).toBe(9001)
    expect(loadConfig({ env: { PORT: '0' } }).port).toBe(0)
  })

  it('finds the file through flags.config or CUSTODIAN_CONFIG, an explicit file first', () => {
    const a = configFile({ port: 1001 })
    const b = configFile({ port: 1002 })
    const c = configFile({ port: 1003 })
    expect(loadConfig({ env: { CUSTODIAN_CONFIG: a } }).port).toBe(1001)
    expect(loadConfig({ env: { CUSTODIAN_CONFIG: a }, flags: { config: b } }).port).toBe(1002)
    expect(loadConfig({ env: { CUSTODIAN_CONFIG: a }, flags: { config: b }, file: c }).port).toBe(1003)
  })

  it.each([
    ['abc', '"abc"'],
    ['-1', '"-1"'],
    ['1.5', '"1.5"'],
    ['80 80', '"80 80"'],
  ])('refuses the integer %j from a flag, naming the flag', (raw, shown) => {
    const message = validationError(() => loadConfig({ env: {}, flags: { port: raw } }))
    expect(message).toBe(`--port: port must be a whole number >= 0, got ${shown}`)
  })

  it('refuses a bad integer from the environment, naming the variable', () => {
    const message = validationError(() => loadConfig({ env: { CUSTODIAN_IDLE_TIMEOUT: 'soon' } }))
    expect(message).toBe(
      'environment CUSTODIAN_IDLE_TIMEOUT: idleTimeoutSeconds must be a whole number >= 0, got "soon"',
    )
  })

  it('refuses a bad integer from the file, naming the file', () => {
    const file = configFile({ loginLockoutSeconds: 2.5 })
    const message = validationError(() => loadConfig({ env: {}, file }))
    expect(message).toBe(`config file ${file}: loginLockoutSeconds must be a whole number >= 0, got "2.5"`)
    for (const value of [true, null, 'x']) {
      const other = configFile({ port: value })
      expect(validationError(() => loadConfig({ env: {}, file: other }))).toMatch(
        new RegExp(`^config file .*: port must be a whole number >= 0, got "${String(value)}"$`),
      )
    }
  })

  it('refuses an empty integer flag rather than reading it as 0', () => {
    expect(validationError(() => loadConfig({ env: {}, flags: { port: '' } }))).toBe(
      '--port: port must be a whole number >= 0, got ""',
    )
  })

  it('refuses a whitespace-only integer environment variable rather than reading it as 0', () => {
    expect(validationError(() => loadConfig({ env: { PORT: '   ' } }))).toBe(
      'environment PORT: port must be a whole number >= 0, got "   "',
    )
  })

  it('refuses an empty integer string in the file rather than reading it as 0', () => {
    const file = configFile({ port: '' })
    expect(validationError(() => loadConfig({ env: {}, file }))).toBe(
      `config file ${file}: port must be a whole number >= 0, got ""`,
    )
  })

  it('refuses an empty or non-string value for a string setting', () => {
    const empty = configFile({ host: '' })
    expect(validationError(() => loadConfig({ env: {}, file: empty }))).toBe(
      `config file ${empty}: host must be a non-empty string`,
    )
    const number = configFile({ db: 42 })
    expect(validationError(() => loadConfig({ env: {}, file: number }))).toBe(
      `config file ${number}: db must be a non-empty string`,
    )
    expect(validationError(() => loadConfig({ env: {}, flags: { host: '' } }))).toBe(
      '--host: host must be a non-empty string',
    )
  })

  it('refuses an unknown setting in the file, naming it and the file', () => {
    const file = configFile({ port: 1, colour: 'blue' })
    const message = validationError(() => loadConfig({ env: {}, file }))
    expect(message).toMatch(new RegExp(`^config file ${escapeRe(file)}: unknown setting "colour"`))
    expect(message).toContain('known: db, host, port')
  })

  it.each([
    'toString',
    'constructor',
    'hasOwnProperty',
  ])('refuses the inherited name %j as an unknown setting', (key) => {
    const file = configFile(`{"${key}": "x"}`)
    expect(validationError(() => loadConfig({ env: {}, file }))).toContain(`unknown setting "${key}"`)
  })

  it('refuses a file that is missing, not JSON, or not an object, naming the file', () => {
    const missing = join(dir, 'missing.json')
    expect(validationError(() => loadConfig({ env: {}, file: missing }))).toMatch(
      new RegExp(`^config file ${escapeRe(missing)}: .*ENOENT`),
    )
    const broken = configFile('{ "port": ')
    expect(validationError(() => loadConfig({ env: {}, file: broken }))).toMatch(
      new RegExp(`^config file ${escapeRe(broken)}: `),
    )
    for (const content of ['[1, 2]', '42', 'null']) {
      const file = configFile(content)
      expect(validationError(() => loadConfig({ env: {}, file }))).toBe(
        `config file ${file}: expected a JSON object of settings`,
      )
    }
  })
})
