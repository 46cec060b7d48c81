import { CatalogService } from '../licences/catalog-service.js'
import { catalogOperations } from '../licences/operations.js'
import { admin, type CommandSpec, changed, define, resolveToken, words } from './command-kit.js'
import { operationCommands, runChange, runOperation } from './operation-commands.js'

const ops = catalogOperations

/** Trust-framework catalog commands of the script language (and CLI verbs). */
export const catalogCommands: Record<string, CommandSpec> = {
  // A script may load a file as well as a URL.
  load_catalog: define(
    'load_catalog <file_or_url>',
    'loads catalog entries and licence interpretations from Turtle, all or nothing',
    1,
    1,
    async (s, [location]) => changed(await new CatalogService(s.custodian).loadFrom(admin(s), location)),
  ),
  add_participant: define(
    'add_participant <id>, <role_urls>[, <understood_obligation_urls>[, <name>]]',
    'adds a participant with its roles (URLs separated by spaces), or replaces them, with the obligations it understands',
    2,
    4,
    async (s, [id, roles, understands, name]) => {
      const input = { id, roles: words(roles), understands: words(understands), ...(name ? { name } : {}) }
      return runChange(ops.putParticipant, s, input)
    },
  ),
  ...operationCommands([[ops.removeParticipant, ops.removeService]]),
  check_data_access: define(
    'check_data_access <participant>, <service_url>[, <token_ref>]',
    'decides whether the participant may access the data service, and under which licence',
    2,
    3,
    async (s, [participant, service, ref]) => {
      const token = ref ? resolveToken(s, ref) : admin(s)
      const decision = (await runOperation(ops.checkDataAccess, s, { participant, service }, token)) as {
        allowed: boolean
        reason: string
        licence?: string
      }
      return {
        message: decision.allowed
          ? `allowed under ${decision.licence}: ${decision.reason}`
          : `denied: ${decision.reason}`,
        result: decision,
      }
    },
  ),
}
