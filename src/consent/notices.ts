import type { OutboxMessage } from '../store/outbox.js'
import type { AuthorizationRow, CustomerRow, ThirdPartyRow } from '../store/schema.js'
import { xmlText } from '../xml/xml-text.js'

export type AuthorizationChange = 'granted' | 'extended' | 'terminated'

/** The ESPI notification body: a BatchList naming the changed resources. */
export function batchList(uris: readonly string[]): string {
  const resources = uris.map((u) => `<resources>${xmlText(u)}</resources>`).join('')
  return `<?xml version="1.0" encoding="UTF-8"?>\n<BatchList xmlns="http://naesb.org/espi">${resources}</BatchList>\n`
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
  const ends = row.period_end.slice(0, 10)
  const lastDay = new Date(Date.parse(row.period_end) - 1).toISOString().slice(0, 10)
  const what = {
    granted: `You authorized ${party.name} to receive the energy data of ${(JSON.parse(row.usage_point_ids) as string[]).length} of your meter(s) until ${ends}.`,
    extended: `You changed ${party.name}'s access to your energy data: it now ends on ${ends}.`,
    terminated:
      administratorReason === undefined
        ? `You ended ${party.name}'s access to your energy data: it may read data up to and including ${lastDay}, and nothing after.`
        : `We ended ${party.name}'s access to your energy data, for this reason: ${administratorReason}. It may read data up to and including ${lastDay}, and nothing after.`,
  }[change]
  const text = [
    `Dear ${customer.name},`,
    '',
    what,
    `Data requested: ${row.scope}`,
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
