import type { Decision } from '../../../src/decision/decision.js'
import type { PlannedChange } from '../../../src/store/store.js'

/** A question of a table, with its keys as the file writes them (the loader takes the expectations out). */
export type Question = Readonly<Record<string, unknown>>

/** What a domain answers: a decision, or something shaped like one (allowed, reason), with its own facts. */
export type Answer =
  | Decision
  | { allowed: boolean; reason: string; revision?: number; [fact: string]: unknown }

/**
 * What the loader needs of a domain: its state built from a file's `model`, a case's `given` and `remove`
 * applied to it, and a question answered through the domain's pure functions. The adapter maps the file's
 * vocabulary onto those calls and nothing more.
 */
export interface DomainAdapter<State> {
  build(model: unknown): State
  given?(state: State, fragment: unknown, op: 'put' | 'delete'): void
  ask(state: State, question: Question): Answer
  /** The revision a decision on this state must report, where the domain keeps one. */
  revision?(state: State): number
}

const AT = '2026-11-23T10:00:00.000Z'

/** Applies planned changes to a projection with revisions following its current one, as the write path does. */
export function applyAll<
  P extends {
    readonly revision: number
    apply(changes: readonly (PlannedChange & { revision: number; at: string })[]): void
  },
>(projection: P, changes: readonly PlannedChange[]): P {
  const start = projection.revision
  projection.apply(changes.map((change, i) => ({ ...change, revision: start + i + 1, at: AT })))
  return projection
}

/** A field of a table that must be there, with a clear error naming it when it is not. */
export function field<T>(of: Question, name: string, kind: 'string' | 'number' | 'boolean' | 'object'): T {
  const value = of[name]
  if (typeof value !== kind || value === null)
    throw new Error(`${name}: expected a ${kind}, found ${JSON.stringify(value)} in ${JSON.stringify(of)}`)
  return value as T
}

export const optional = <T>(of: Question, name: string, kind: 'string' | 'number' | 'boolean' | 'object') =>
  of[name] === undefined ? undefined : field<T>(of, name, kind)

export const strings = (of: Question, name: string): string[] => {
  const value = of[name] ?? []
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new Error(`${name}: expected a list of strings, found ${JSON.stringify(value)}`)
  return value as string[]
}
