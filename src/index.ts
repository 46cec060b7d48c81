/** Custodian as a library: open a node on a store and use the engine in-process. */
export { type Config, defaultConfig, loadConfig, settings } from './config.js'
export {
  type AccessCheck,
  type CallContext,
  type ChangeResult,
  Custodian,
  type CustodianOptions,
  type LoginResult,
  openCustodian,
} from './custodian.js'
export type { Decision } from './decision/decision.js'
export { EntitlementIndex } from './entitlements/entitlement-index.js'
export { ADMIN_PERMISSION } from './entitlements/permissions.js'
export { decideAccess, decideAdministrator, explainDenial } from './entitlements/rules.js'
export {
  AccessDeniedError,
  AuthenticationError,
  CustodianError,
  type ErrorCode,
  InvalidAccessTokenError,
} from './errors.js'
export { commands as scriptCommands } from './script/commands.js'
export { parseLine } from './script/parse-line.js'
export { type LineReport, runScript, runScriptFile } from './script/run-script.js'
export type { Change, PlannedChange, Store } from './store/store.js'
export { openStore } from './store/store.js'
