import { CatalogService } from '../licences/catalog-service.js'
import { admin, type CommandSpec, changed, define, resolveToken, type SessionState } from './command-kit.js'

const catalogOf = (state: SessionState) => new CatalogService(state.custodian)
const urls = (text: string) => text.split(/\s+/).filter(Boolean)

/** Trust-framework catalog commands of the script language (and CLI verbs). */
export const catalogCommands: Record<string, CommandSpec> = {
  load_catalog: define(
    'load_catalog <file_or_url>',
    'loads catalog entries and licence interpretations from Turtle, all or nothing',
    1,
    1,
    async (s, [location]) => changed(await catalogOf(s).loadFrom(admin(s), location)),
  ),
  add_participant: define(
    'add_participant <id>, <role_urls>[, <understood_obligation_urls>[, <name>]]',
    'adds a participant with its roles (URLs separated by spaces), or replaces them, with the obligations it understands',
    2,
    4,
    async (s, [id, roles, understands, name]) =>
      changed(
        await catalogOf(s).putParticipant(admin(s), {
          id,
          roles: urls(roles),
          understands: urls(understands),
          ...(name ? { name } : {}),
        }),
      ),
  ),
  remove_participant: define('remove_participant <id>', 'removes a participant', 1, 1, async (s, [id]) =>
    changed(await catalogOf(s).removeParticipant(admin(s), id)),
  ),
  remove_data_service: define(
    'remove_data_service <url>',
    'removes a data service from the catalog',
    1,
    1,
    async (s, [url]) => changed(await catalogOf(s).removeService(admin(s), url)),
  ),
  check_data_access: define(
    'check_data_access <participant>, <service_url>[, <token_ref>]',
    'decides whether the participant may access the data service, and under which licence',
    2,
    3,
    async (s, [participant, service, ref]) => {
      const decision = catalogOf(s).check(ref ? resolveToken(s, ref) : admin(s), participant, service)
      return {
        message: decision.allowed
          ? `allowed under ${decision.licence}: ${decision.reason}`
          : `denied: ${decision.reason}`,
        result: decision,
      }
    },
  ),
}
