import { createHash } from 'node:crypto'
import { hash, verify } from '@node-rs/argon2'

// argon2id with the library's defaults (m=19 MiB, t=2, p=1), OWASP's minimum recommendation.
export const hashPassword = (password: string) => hash(password)

export const verifyPassword = (phc: string, password: string) => verify(phc, password).catch(() => false)

/**
 * A voice print is looked up, never read back: the store keeps a domain-separated SHA-256 of it, which is
 * also the lookup key. (A real voice template would be matched by a recogniser; the seed simulates it.)
 */
export const digestVoicePrint = (voicePrint: string) =>
  createHash('sha256').update('custodian/voice-print\0').update(voicePrint).digest('hex')

// A PHC string to verify against when the user is unknown, so that timing does not reveal which users exist.
let decoy: Promise<string> | undefined
export const decoyPasswordHash = () => {
  decoy ??= hashPassword('custodian decoy password')
  return decoy
}
