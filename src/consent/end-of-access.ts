/**
 * The one wording of when access ends. An Authorization's period_end is exclusive (the third party's
 * authorizedPeriod ends there); customers choose and read the last day data stays readable, inclusive:
 * period_end 2026-12-01T00:00:00Z is "access ends after 30 November 2026". Days are UTC days, as the data
 * window counts them (greenbutton/data-window.ts). Pure.
 */

/** Emails have no Accept-Language to follow: they use this locale. */
export const EMAIL_LOCALE = 'en-GB'

const FALLBACK_LOCALE = 'en-GB'

/** The last day (YYYY-MM-DD) an exclusive end leaves readable. */
export function lastDay(periodEnd: string): string {
  return new Date(Date.parse(periodEnd) - 1).toISOString().slice(0, 10)
}

/** A YYYY-MM-DD day as the customer writes dates: "30 November 2026", "30. November 2026". */
export function formatDay(day: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(
    new Date(`${day}T00:00:00.000Z`),
  )
}

/**
 * "access ends after 30 November 2026": the page, the email and the account page all say this ("access
 * ended after …" once `nowMs` is past the end).
 */
export function accessEnds(periodEnd: string, locale: string, nowMs?: number): string {
  const over = nowMs !== undefined && nowMs >= Date.parse(periodEnd)
  return `access ${over ? 'ended' : 'ends'} after ${formatDay(lastDay(periodEnd), locale)}`
}

/**
 * The customer's locale from an Accept-Language header: the first language tag, by preference, that
 * Intl formats dates in; en-GB when none (or no header).
 */
export function customerLocale(acceptLanguage: string | undefined): string {
  const tags = (acceptLanguage ?? '')
    .split(',')
    .map((part, order) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), order }
    })
    .filter(
      (t) => t.tag !== '' && t.tag !== '*' && t.q > 0 && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(t.tag),
    )
    .sort((a, b) => b.q - a.q || a.order - b.order)
  for (const { tag } of tags) {
    try {
      const [supported] = Intl.DateTimeFormat.supportedLocalesOf(tag)
      if (supported) return supported
    } catch {
      // A tag Intl rejects as malformed: try the next one.
    }
  }
  return FALLBACK_LOCALE
}
