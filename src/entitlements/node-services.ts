import type { Access } from './access.js'
import type { LoginResult, Sessions, VoicePrintContext } from './sessions.js'

// What the entitlements domain adds to the Node every domain's service is handed (see kernel/node.ts), by
// declaration merging: token checks, administrators' authorization, sessions. custodian.ts implements it.
declare module '../kernel/node.js' {
  interface Node
    extends Pick<
        Access,
        | 'change'
        | 'writeAs'
        | 'changeAs'
        | 'checkAccess'
        | 'checkAccessAny'
        | 'assertAccess'
        | 'assertAccessAny'
        | 'authenticate'
        | 'authorizeController'
        | 'authorizeAdminAction'
        | 'identify'
      >,
      Pick<Sessions, 'login' | 'verifyPassword' | 'serviceSession' | 'partySession' | 'logout' | 'whoHolds'> {
    /** Relayed by the in-process House Mate controller unless `context.controller` names another. */
    loginVoicePrint(voicePrint: string, context?: VoicePrintContext): Promise<LoginResult>
  }
}
