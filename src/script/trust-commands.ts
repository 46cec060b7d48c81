import { readIshareJson as jsonFile } from '../trust/delegation-service.js'
import { trustOperations } from '../trust/operations.js'
import { type CommandSpec, define, words } from './command-kit.js'
import { operationCommands, runChange } from './operation-commands.js'

const ops = trustOperations

/** Delegation and trust-decision commands of the script language (and CLI verbs). */
export const trustCommands: Record<string, CommandSpec> = {
  store_delegation_policy: define(
    'store_delegation_policy <evidence.json>',
    "stores a data owner's delegation evidence (only its issuer, or an administrator, may)",
    1,
    1,
    async (s, [file]) => runChange(ops.putPolicy, s, jsonFile(file) as Record<string, unknown>),
  ),
  add_association: define(
    'add_association <id>[, <parent>[, <own_logic_allowed: yes|no>]]',
    'adds an association to the trust network (without a parent: a root network)',
    1,
    3,
    async (s, [id, parent, own]) => {
      const input = { id, ...(parent ? { parent } : {}), own_logic_allowed: own === 'yes' }
      return runChange(ops.putAssociation, s, input)
    },
  ),
  record_party: define(
    'record_party <id>, <associations>[, <assurance>[, <reputation_level>[, <reputation_source>]]]',
    "records a party's active memberships (ids separated by spaces), level of assurance and reputation",
    2,
    5,
    async (s, [id, associations, assurance, level, source]) => {
      const input = {
        id,
        memberships: words(associations).map((association) => ({ association })),
        ...(assurance ? { assurance } : {}),
        ...(level ? { reputation: { level, source: source || 'script' } } : {}),
      }
      return runChange(ops.putParty, s, input)
    },
  ),
  ...operationCommands([[ops.putService, ops.decide]]),
}
