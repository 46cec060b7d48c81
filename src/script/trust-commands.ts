import { DelegationService, readIshareJson as jsonFile } from '../trust/delegation-service.js'
import { TrustService } from '../trust/trust-service.js'
import { admin, type CommandSpec, changed, define, type SessionState } from './command-kit.js'

const delegationOf = (state: SessionState) => new DelegationService(state.custodian)
const trustOf = (state: SessionState) => new TrustService(state.custodian, delegationOf(state))
const words = (text: string) => text.split(/\s+/).filter(Boolean)

/** Delegation and trust-decision commands of the script language (and CLI verbs). */
export const trustCommands: Record<string, CommandSpec> = {
  store_delegation_policy: define(
    'store_delegation_policy <evidence.json>',
    "stores a data owner's delegation evidence (only its issuer, or an administrator, may)",
    1,
    1,
    async (s, [file]) => {
      return changed(await delegationOf(s).putPolicy(admin(s), jsonFile(file)))
    },
  ),
  add_association: define(
    'add_association <id>[, <parent>[, <own_logic_allowed: yes|no>]]',
    'adds an association to the trust network (without a parent: a root network)',
    1,
    3,
    async (s, [id, parent, own]) =>
      changed(
        await trustOf(s).putAssociation(admin(s), {
          id,
          ...(parent ? { parent } : {}),
          ownLogicAllowed: own === 'yes',
        }),
      ),
  ),
  record_party: define(
    'record_party <id>, <associations>[, <assurance>[, <reputation_level>[, <reputation_source>]]]',
    "records a party's active memberships (ids separated by spaces), level of assurance and reputation",
    2,
    5,
    async (s, [id, associations, assurance, level, source]) =>
      changed(
        await trustOf(s).putParty(admin(s), {
          id,
          memberships: words(associations).map((association) => ({ association })),
          ...(assurance ? { assurance } : {}),
          ...(level ? { reputation: { level, source: source || 'script' } } : {}),
        }),
      ),
  ),
  classify_service: define(
    'classify_service <id>, <association>, <classification>[, <data_owner>[, <resource_type>]]',
    'classifies a data service for trust decisions',
    3,
    5,
    async (s, [id, association, classification, owner, resourceType]) =>
      changed(
        await trustOf(s).putService(admin(s), {
          id,
          association,
          classification,
          ...(owner ? { owner } : {}),
          ...(resourceType ? { resourceType } : {}),
        }),
      ),
  ),
  decide_trust: define(
    'decide_trust <party>, <service>[, <action>]',
    'the BDI trust decision for a party and a data service, input by input',
    2,
    3,
    async (s, [party, service, action]) => {
      const decision = await trustOf(s).decide(admin(s), { party, service, ...(action ? { action } : {}) })
      return { message: `${decision.allowed ? 'allowed' : 'denied'}: ${decision.reason}`, result: decision }
    },
  ),
}
