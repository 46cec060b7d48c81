import { DataFactory, Writer } from 'n3'
import { type CatalogModel, list } from './catalog-model.js'
import { DCAT, DCTERMS, IB1, RDF_TYPE } from './vocabulary.js'

const { namedNode, literal, quad } = DataFactory

/** The catalog and the licence interpretations as Turtle, in a stable order, so that a load round-trips. */
export function catalogTurtle(catalog: CatalogModel): string {
  const writer = new Writer({ prefixes: { dcat: DCAT, dcterms: DCTERMS, ib1: IB1 } })
  const add = (subject: string, predicate: string, object: ReturnType<typeof namedNode | typeof literal>) =>
    writer.addQuad(quad(namedNode(subject), namedNode(predicate), object))
  const byKey = <T>(map: ReadonlyMap<string, T>) => [...map].sort(([a], [b]) => a.localeCompare(b))
  for (const [url, service] of byKey(catalog.services)) {
    add(url, RDF_TYPE, namedNode(`${DCAT}DataService`))
    if (service.title) add(url, `${DCTERMS}title`, literal(service.title))
    for (const role of list(service.roles)) add(url, `${IB1}roleRequiredToAccess`, namedNode(role))
    add(url, `${DCTERMS}license`, namedNode(service.licence))
  }
  for (const [url, licence] of byKey(catalog.licences)) {
    add(url, RDF_TYPE, namedNode(`${IB1}LicenceInterpretation`))
    add(url, `${DCTERMS}license`, namedNode(licence.legal_text))
    for (const grant of list(licence.grants)) add(url, `${IB1}grant`, namedNode(grant))
    for (const obligation of list(licence.obligations)) add(url, `${IB1}obligation`, namedNode(obligation))
  }
  let out = ''
  writer.end((error, result: string) => {
    if (error) throw error
    out = result
  })
  return out
}
