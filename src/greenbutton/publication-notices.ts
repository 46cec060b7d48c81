import type { ConsentModel } from '../consent/consent-model.js'
import { batchList } from '../consent/notices.js'
import { authorizationAccess } from '../consent/rules.js'
import type { OutboxMessage } from '../store/outbox.js'
import { ESPI_RESOURCE_PATH } from './namespaces.js'

/** The subject of publication notices: a newer one absorbs an undelivered older one (see supersedeInto). */
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
        `${baseUrl}${ESPI_RESOURCE_PATH}/Batch/Subscription/${row.subscription_id}/UsagePoint/${resource}`,
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
            merge: { topics: list, compose: batchList },
          },
        ]
      : []
  })
}
