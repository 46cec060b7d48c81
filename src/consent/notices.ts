import type { OutboxMessage } from '../store/outbox.js'
import type { AuthorizationRow, CustomerRow, ThirdPartyRow } from '../store/schema.js'
import { xmlText } from '../xml/xml-text.js'
import { accessEnds, EMAIL_LOCALE } from './end-of-access.js'
import { describeScopeText, scopeSentence } from './scope-wording.js'

export type AuthorizationChange = 'granted' | 'extended' | 'terminated'

/** The ESPI notification body: a BatchList naming the changed resources. */
export function batchList(uris: readonly string[]): string {
  const resources = uris.map((u) => `<resources>${xmlText(u)}</resources>`).join('')
  return `<?xml version="1.0" encoding="UTF-8"?>\n<BatchList xmlns="http://naesb.org/espi">${resources}</BatchList>\n`
}

/** What a change did, in the words the email and the account page both use. */
export function changeSentence(
  change: AuthorizationChange,
  partyName: string,
  row: Pick<AuthorizationRow, 'period_end' | 'usage_point_ids'>,
  locale: string,
  /** Set when the utility's administrator terminated it: the customer is told why. */
  administratorReason?: string,
): string {
  const ends = accessEnds(row.period_end, locale)
  return {
    granted: `You authorized ${partyName} to receive the energy data of ${(JSON.parse(row.usage_point_ids) as string[]).length} of your meter(s): ${ends}.`,
    extended: `You changed ${partyName}'s access to your energy data: ${ends}.`,
    terminated:
      administratorReason === undefined
        ? `You ended ${partyName}'s access to your energy data: ${ends}. It may read data up to and including that day, and nothing after.`
        : `We ended ${partyName}'s access to your energy data, for this reason: ${administratorReason}. ${ends[0]?.toUpperCase()}${ends.slice(1)}: it may read data up to and including that day, and nothing after.`,
  }[change]
}

/**
 * What an authorization change sends: an email to the customer (the seed's "trusted channel"), and a
 * BatchList POSTed to the third party naming the Authorization resource, which holds opaque ids only.
 */
export function authorizationNotices(
  change: AuthorizationChange,
  customer: CustomerRow,
  party: ThirdPartyRow,
  row: AuthorizationRow,
  baseUrl: string,
  /** Set when the utility's administrator terminated it: the customer is told why. */
  administratorReason?: string,
): OutboxMessage[] {
  const what = changeSentence(change, party.name, row, EMAIL_LOCALE, administratorReason)
  const text = [
    `Dear ${customer.name},`,
    '',
    what,
    `What it receives: ${scopeSentence(describeScopeText(row.scope))}`,
    '',
    'You can review or change every authorization on the "3rd Party Access" page of your account.',
    'If you did not make this change, end the authorization there and contact us.',
  ].join('\n')
  return [
    {
      channel: 'email',
      target: customer.email,
      subject: `Your data sharing with ${party.name} was ${change}`,
      body: text,
      contentType: 'text/plain',
    },
    {
      channel: 'http',
      target: party.notify_uri,
      subject: `authorization ${change}`,
      body: batchList([`${baseUrl}/espi/1_1/resource/Authorization/${row.id}`]),
      contentType: 'application/xml',
    },
  ]
}
