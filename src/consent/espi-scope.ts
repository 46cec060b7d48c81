/**
 * ESPI (NAESB REQ.21) OAuth scopes: one space-free token of `Name=Value` terms joined by `;`, for example
 * `FB=4_5_15;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13`. Term names are matched without
 * regard to case (deployed custodians send `historyLength`). Pure.
 *
 * HistoryLength counts BlockDuration blocks when a BlockDuration is given (13 monthly blocks), and seconds
 * otherwise (`FB=1_3_4;HistoryLength=34128000`), which covers both forms seen in the field.
 */
export const BLOCK_DURATIONS = [
  'hourly',
  'daily',
  'weekly',
  'monthly',
  'billing',
  'seasonal',
  'yearly',
] as const
export type BlockDuration = (typeof BLOCK_DURATIONS)[number]

const BLOCK_SECONDS: Record<BlockDuration, number> = {
  hourly: 3_600,
  daily: 86_400,
  weekly: 7 * 86_400,
  monthly: 31 * 86_400,
  billing: 31 * 86_400,
  seasonal: 92 * 86_400,
  yearly: 366 * 86_400,
}

export interface EspiScope {
  /** Function blocks, ascending, each once. */
  functionBlocks: number[]
  /** Interval lengths in seconds the third party may read, ascending; empty means any. */
  intervalDurations: number[]
  blockDuration?: BlockDuration
  historyLength?: number
  /** How far back data may be read, in seconds; undefined means no limit. */
  historySeconds?: number
  subscriptionFrequency?: number
  accountCollection?: number
  /** Bulk request id (`BR=`), for client-credentials bulk access. */
  bulkId?: string
  /** The canonical text: terms in a fixed order, names in their standard spelling. */
  text: string
}

export type ScopeParse = { ok: true; scope: EspiScope } | { ok: false; part: string; reason: string }

const TERMS: Record<string, string> = {
  fb: 'FB',
  intervalduration: 'IntervalDuration',
  blockduration: 'BlockDuration',
  historylength: 'HistoryLength',
  subscriptionfrequency: 'SubscriptionFrequency',
  accountcollection: 'AccountCollection',
  br: 'BR',
}

const positive = (text: string) => /^[1-9]\d{0,9}$/.test(text)

export function parseEspiScope(text: string): ScopeParse {
  const fail = (part: string, reason: string): ScopeParse => ({ ok: false, part, reason })
  if (text.length === 0) return fail('', 'the scope is empty')
  if (text.length > 1_000) return fail(text.slice(0, 40), 'the scope is longer than 1000 characters')
  if (/\s/.test(text)) return fail(text, 'an ESPI scope is one token without spaces')
  const seen = new Map<string, string>()
  for (const part of text.replace(/;$/, '').split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) return fail(part, 'expected Name=Value')
    const name = TERMS[part.slice(0, eq).toLowerCase()]
    if (!name)
      return fail(part, `unknown term "${part.slice(0, eq)}" (known: ${Object.values(TERMS).join(', ')})`)
    if (seen.has(name)) return fail(part, `${name} is given twice`)
    seen.set(name, part.slice(eq + 1))
  }
  const fb = seen.get('FB')
  if (fb === undefined) return fail(text, 'FB (the function blocks) is required')
  const blocks = fb.split('_')
  if (blocks.some((b) => !/^[1-9]\d?$/.test(b)))
    return fail(`FB=${fb}`, 'function blocks are numbers 1-99 joined by _')
  const functionBlocks = [...new Set(blocks.map(Number))].sort((a, b) => a - b)
  const scope: EspiScope = { functionBlocks, intervalDurations: [], text: '' }

  const interval = seen.get('IntervalDuration')
  if (interval !== undefined) {
    const parts = interval.split('_')
    if (parts.some((p) => !positive(p)))
      return fail(
        `IntervalDuration=${interval}`,
        'interval durations are seconds (whole numbers > 0) joined by _',
      )
    scope.intervalDurations = [...new Set(parts.map(Number))].sort((a, b) => a - b)
  }
  const block = seen.get('BlockDuration')
  if (block !== undefined) {
    const normal = block.toLowerCase() as BlockDuration
    if (!BLOCK_DURATIONS.includes(normal))
      return fail(`BlockDuration=${block}`, `expected one of ${BLOCK_DURATIONS.join(', ')}`)
    scope.blockDuration = normal
  }
  const history = seen.get('HistoryLength')
  if (history !== undefined) {
    if (!positive(history)) return fail(`HistoryLength=${history}`, 'a whole number > 0 is expected')
    scope.historyLength = Number(history)
    scope.historySeconds = scope.blockDuration
      ? scope.historyLength * BLOCK_SECONDS[scope.blockDuration]
      : scope.historyLength
  }
  for (const [name, key] of [
    ['SubscriptionFrequency', 'subscriptionFrequency'],
    ['AccountCollection', 'accountCollection'],
  ] as const) {
    const value = seen.get(name)
    if (value === undefined) continue
    if (!positive(value)) return fail(`${name}=${value}`, 'a whole number > 0 is expected')
    scope[key] = Number(value)
  }
  const bulk = seen.get('BR')
  if (bulk !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(bulk))
      return fail(`BR=${bulk}`, 'a bulk id of letters, digits, _ . -')
    scope.bulkId = bulk
  }
  scope.text = formatEspiScope(scope)
  return { ok: true, scope }
}

export function formatEspiScope(scope: Omit<EspiScope, 'text'>): string {
  const terms = [`FB=${scope.functionBlocks.join('_')}`]
  if (scope.intervalDurations.length > 0) terms.push(`IntervalDuration=${scope.intervalDurations.join('_')}`)
  if (scope.blockDuration) terms.push(`BlockDuration=${scope.blockDuration}`)
  if (scope.historyLength !== undefined) terms.push(`HistoryLength=${scope.historyLength}`)
  if (scope.subscriptionFrequency !== undefined)
    terms.push(`SubscriptionFrequency=${scope.subscriptionFrequency}`)
  if (scope.accountCollection !== undefined) terms.push(`AccountCollection=${scope.accountCollection}`)
  if (scope.bulkId !== undefined) terms.push(`BR=${scope.bulkId}`)
  return terms.join(';')
}

/**
 * Is `requested` within what a third party is allowed to ask for? Every function block must be allowed,
 * every interval duration it names too, and any history it names no longer. A term it leaves out means
 * "as allowed" (see completeScope).
 */
export function scopeWithin(
  requested: EspiScope,
  allowed: EspiScope,
): { ok: true } | { ok: false; reason: string } {
  const extraBlocks = requested.functionBlocks.filter((b) => !allowed.functionBlocks.includes(b))
  if (extraBlocks.length > 0) {
    return {
      ok: false,
      reason: `function block(s) ${extraBlocks.join(', ')} are not among those allowed (${allowed.functionBlocks.join('_')})`,
    }
  }
  if (allowed.intervalDurations.length > 0) {
    const extra = requested.intervalDurations.filter((d) => !allowed.intervalDurations.includes(d))
    if (extra.length > 0) {
      return {
        ok: false,
        reason: `IntervalDuration ${extra.join('_')} is not allowed (allowed: ${allowed.intervalDurations.join('_')})`,
      }
    }
  }
  if (
    allowed.historySeconds !== undefined &&
    requested.historySeconds !== undefined &&
    requested.historySeconds > allowed.historySeconds
  ) {
    return {
      ok: false,
      reason: `the history asked for is longer than the ${allowed.historySeconds} s allowed`,
    }
  }
  return { ok: true }
}

/** The scope an Authorization records: what was asked, with every term left out taken from the allowance. */
export function completeScope(requested: EspiScope, allowed: EspiScope): EspiScope {
  const complete: Omit<EspiScope, 'text'> = {
    ...allowed,
    ...requested,
    intervalDurations:
      requested.intervalDurations.length > 0 ? requested.intervalDurations : allowed.intervalDurations,
  }
  if (requested.historyLength === undefined && allowed.historyLength !== undefined) {
    complete.historyLength = allowed.historyLength
    complete.historySeconds = allowed.historySeconds
    if (allowed.blockDuration) complete.blockDuration = allowed.blockDuration
    else delete complete.blockDuration
  }
  for (const key of ['subscriptionFrequency', 'accountCollection', 'bulkId'] as const) {
    if (requested[key] === undefined) delete complete[key]
  }
  return { ...complete, text: formatEspiScope(complete) }
}
