import { xmlText } from '../greenbutton/xml.js'
import type { AuthorizationRow, CustomerRow, ThirdPartyRow } from '../store/schema.js'
import type { OutboxMessage } from '../store/store.js'
import type { ConsentModel } from './consent-model.js'
import { authorizationAccess } from './rules.js'

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
): OutboxMessage[] {
  const ends = row.period_end.slice(0, 10)
  const what = {
    granted: `You authorized ${party.name} to receive the energy data of ${(JSON.parse(row.usage_point_ids) as string[]).length} of your meter(s) until ${ends}.`,
    extended: `You changed ${party.name}'s access to your energy data: it now ends on ${ends}.`,
    terminated: `You ended ${party.name}'s access to your energy data: it may read data up to and including ${new Date(Date.parse(row.period_end) - 1).toISOString().slice(0, 10)}, and nothing after.`,
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

/** The subject of publication notices: a newer one supersedes an undelivered older one (see the outbox). */
export const PUBLICATION_SUBJECT = 'data published'

/**
 * What a publication sends: one BatchList to each third party with an authorization in force over the
 * usage points that got new data, naming each such usage point in each of its subscriptions.
 */
export function publicationNotices(
  consent: ConsentModel,
  published: ReadonlyMap<string, string>,
  baseUrl: string,
  nowMs: number,
): OutboxMessage[] {
  const uris = new Map<string, string[]>()
  for (const row of consent.authorizations.values()) {
    if (!authorizationAccess(consent, row.id, row.client_id, nowMs).allowed) continue
    for (const usagePoint of JSON.parse(row.usage_point_ids) as string[]) {
      const resource = published.get(usagePoint)
      if (!resource) continue
      const list = uris.get(row.client_id) ?? []
      list.push(
        `${baseUrl}/espi/1_1/resource/Batch/Subscription/${row.subscription_id}/UsagePoint/${resource}`,
      )
      uris.set(row.client_id, list)
    }
  }
  return [...uris].flatMap(([clientId, list]) => {
    const party = consent.thirdParties.get(clientId)
    return party
      ? [
          {
            channel: 'http' as const,
            target: party.notify_uri,
            subject: PUBLICATION_SUBJECT,
            body: batchList(list),
            contentType: 'application/xml',
          },
        ]
      : []
  })
}
