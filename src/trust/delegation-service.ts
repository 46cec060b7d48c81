import { readFileSync } from 'node:fs'
import { enforce } from '../decision/enforce.js'
import { CustodianError, invalid, isCustodianError, notFound } from '../errors.js'
import { started } from '../kernel/metrics.js'
import type { Node } from '../kernel/node.js'
import type { Index } from '../kernel/projections.js'
import type { ChangeResult, Plan } from '../kernel/write-plan.js'
import {
  MAX_JSON_ANSWER,
  OutboundError,
  type OutboundResponse,
  outboundClient,
} from '../net/guarded-fetch.js'
import * as plans from './changes.js'
import { answerThroughChain } from './delegation-chain.js'
import type { DelegationAnswer } from './delegation-evaluation.js'
import { checkDelegationSize, delegationLimits } from './delegation-limits.js'
import {
  type DelegationEvidence,
  type DelegationRequest,
  parseEvidence,
  parseRequest,
  ShapeError,
  withoutComments,
} from './delegation-shapes.js'
import {
  certificatesOf,
  developmentMaterial,
  EvidenceRefused,
  type SigningMaterial,
  signEvidence,
  signingParties,
  type VerifyOptions,
  verifyEvidence,
} from './evidence-token.js'
import type { PartyJwtOptions } from './ishare-jwt.js'
import { PartyClient } from './party-client.js'
import { Parties } from './party-standing.js'
import { decideReader } from './rules.js'

/** A JSON file as iSHARE registers exchange them (`//` comment lines allowed); a fault names the file. */
export function readIshareJson(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw invalid(
      `${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    )
  }
  try {
    return JSON.parse(withoutComments(text))
  } catch (error) {
    throw invalid(`${path}: not JSON: ${(error as Error).message}`)
  }
}

/** A JSON document whose shape is wrong is bad input: named by field. */
function shaped<T>(read: (json: unknown) => T, json: unknown): T {
  try {
    return read(json)
  } catch (error) {
    if (error instanceof ShapeError) throw invalid(error.message)
    throw error
  }
}

export interface SignedAnswer extends DelegationAnswer {
  /** The evidence as a JWT (RS256, x5c, 30 s), for the asker. */
  token: string
}

/**
 * The iSHARE Authorization Register at the edge: data owners write their delegation evidence; service
 * providers ask with a mask and get signed evidence back; evidence a request carries is verified here too.
 */
export class DelegationService {
  readonly #custodian: Node
  #material: Promise<SigningMaterial> | undefined
  #roots: Promise<string[]> | undefined
  /** This server as an iSHARE client of other parties, signing its client assertions as registerId. */
  readonly client: PartyClient
  /** The participant register: asked of parties' tokens and of the parties evidence names. */
  readonly parties: Parties

  constructor(custodian: Node) {
    this.#custodian = custodian
    this.client = new PartyClient({
      clientId: custodian.config.registerId,
      material: () => this.material(),
      client: outboundClient(custodian),
      timeoutMs: custodian.config.sourceTimeoutMs,
      now: () => custodian.now(),
    })
    this.parties = new Parties(custodian, () => this.addressedHere(), this.client)
  }

  /** What a party's JWT addressed to this server is verified against: the trusted roots, this party id, now. */
  async addressedHere(): Promise<Omit<PartyJwtOptions, 'maxLifetime'>> {
    const { registerId, clockSkewSeconds } = this.#custodian.config
    return {
      trustedRoots: await this.trustedRoots(),
      audience: registerId,
      nowSeconds: Math.floor(this.#custodian.now() / 1000),
      clockSkewSeconds,
    }
  }

  /**
   * How this server authenticates at the remote register: the token configured; else, its party id given, an
   * access token got there with this server's client assertion; else not at all.
   */
  async #remoteAuthorization(): Promise<{ authorization?: string }> {
    const { remoteRegister, remoteRegisterToken, remoteRegisterId } = this.#custodian.config
    if (remoteRegisterToken) return { authorization: `Bearer ${remoteRegisterToken}` }
    if (!remoteRegisterId) return {}
    return { authorization: `Bearer ${await this.client.accessToken(remoteRegister, remoteRegisterId)}` }
  }

  /** The signing key and chain: configured files, or a development chain made once per store. */
  material(): Promise<SigningMaterial> {
    const { config, store } = this.#custodian
    this.#material ??= config.delegationKey
      ? Promise.resolve(this.#configuredMaterial())
      : store
          .sharedValue('delegation-signing', async () =>
            JSON.stringify(await developmentMaterial(config.registerId)),
          )
          .then((json) => JSON.parse(json) as SigningMaterial)
    return this.#material
  }

  /** The configured key and chain, whose certificate must name this register: else its evidence is refused. */
  #configuredMaterial(): SigningMaterial {
    const { delegationKey, delegationCertificates, registerId } = this.#custodian.config
    const file = delegationCertificates || delegationKey
    const chain = certificatesOf(readFileSync(file, 'utf8'))
    const named = chain[0] ? signingParties(chain[0]) : []
    if (named.length !== 1 || named[0] !== registerId)
      throw invalid(
        `${file}: the signing certificate names ${named.join(' and ') || 'no party'} (its subject's serialNumber), not ${registerId} (registerId): evidence signed with it would be refused`,
      )
    return { key: readFileSync(delegationKey, 'utf8'), chain }
  }

  /** The roots evidence is verified against: the configured ones, and this register's own. */
  trustedRoots(): Promise<string[]> {
    // Read once per node, like the signing material: not a file read on every verification.
    this.#roots ??= this.material().then((material) => {
      const { config } = this.#custodian
      const own = material.chain.at(-1)
      const configured = config.trustedRoots ? certificatesOf(readFileSync(config.trustedRoots, 'utf8')) : []
      return [...configured, ...(own ? [own] : [])]
    })
    return this.#roots
  }

  /** The data owner (or an administrator) stores its evidence for one access subject. */
  async putPolicy(token: string | undefined, json: unknown): Promise<ChangeResult> {
    this.#sized(json)
    const evidence = shaped(parseEvidence, json)
    const resource = `${evidence.policyIssuer} -> ${evidence.target.accessSubject}`
    await this.parties.checkToken(token, 'delegation.policy.put', resource)
    return this.#write(token, 'delegation.policy.put', resource, (world, now, userId) =>
      plans.putPolicy(world, userId, evidence, now),
    )
  }

  async removePolicy(token: string | undefined, issuer: string, subject: string): Promise<ChangeResult> {
    const action = 'delegation.policy.remove'
    await this.parties.checkToken(token, action, `${issuer} -> ${subject}`)
    return this.#write(token, action, `${issuer} -> ${subject}`, (world, _now, userId) =>
      plans.removePolicy(world, userId, issuer, subject),
    )
  }

  /** Without a token, only an administrator's session (or bootstrap) writes; with one, its user. */
  #write(
    token: string | undefined,
    action: string,
    resource: string,
    plan: (world: Index, now: string, userId: string | undefined) => Plan,
  ): Promise<ChangeResult> {
    const custodian = this.#custodian
    return token === undefined
      ? custodian.change(token, action, resource, (world, now) => plan(world, now, undefined))
      : custodian.writeAs(token, action, resource, plan)
  }

  /** An issuer's stored evidence, for the issuer, its delegates, its readers or an administrator. */
  async policiesOf(token: string | undefined, issuer: string): Promise<DelegationEvidence[]> {
    const custodian = this.#custodian
    const action = 'delegation.policy.list'
    await this.parties.checkToken(token, action, issuer)
    // Without a token, only an administrator's session (or bootstrap); with one, whoever it belongs to.
    if (token === undefined) custodian.authorizeAdminAction(token, action)
    const userId = token === undefined ? undefined : custodian.authenticate(token, action, issuer)
    enforce(decideReader(custodian.index, userId, issuer))
    return custodian.register.evidence.issuedBy(issuer)
  }

  /**
   * Evidence pattern 1: a local copy of an issuer's policies kept in step with the remote register (run it
   * on a schedule, such as `custodian delegation sync` from cron).
   */
  async syncFrom(token: string | undefined, issuer: string): Promise<ChangeResult> {
    const { remoteRegister, sourceTimeoutMs } = this.#custodian.config
    if (!remoteRegister) throw invalid('no remote register is configured (--remote-register)')
    // Who asks is known before any connection is made; the write below decides what they may copy.
    await this.parties.checkToken(token, 'delegation.policy.sync', issuer)
    this.#custodian.identify(token, 'delegation.policy.sync', issuer)
    const url = `${remoteRegister.replace(/\/$/, '')}/v1/delegation-policies?issuer=${encodeURIComponent(issuer)}`
    let response: OutboundResponse
    try {
      response = await outboundClient(this.#custodian).fetch(url, {
        what: `the remote register's policies of ${issuer}`,
        headers: { ...(await this.#remoteAuthorization()), accept: 'application/json' },
        maxBytes: MAX_JSON_ANSWER,
        timeoutMs: sourceTimeoutMs,
      })
    } catch (error) {
      if (error instanceof OutboundError) throw invalid(error.message)
      throw error
    }
    let items: unknown
    try {
      ;({ items } = JSON.parse(response.body.toString('utf8')) as { items?: unknown })
    } catch {
      items = undefined
    }
    if (!Array.isArray(items)) throw invalid('the remote register answered without a list of policies')
    const remote = items.map((item, i) => {
      try {
        this.#sized(item)
        return parseEvidence(item)
      } catch (error) {
        if (error instanceof ShapeError) throw invalid(`remote policy ${i}: ${error.message}`)
        if (isCustodianError(error))
          throw new CustodianError(error.code, `remote policy ${i}: ${error.message}`)
        throw error
      }
    })
    return this.#write(token, 'delegation.policy.sync', issuer, (world, now, userId) =>
      plans.mirrorPolicies(world, userId, issuer, remote, now),
    )
  }

  /** The stored evidence, for its issuer or an administrator. */
  policy(issuer: string, subject: string): DelegationEvidence {
    const row = this.#custodian.register.policy(issuer, subject)
    if (!row) throw notFound(`${issuer} has no delegation evidence for ${subject}`)
    return JSON.parse(row.evidence) as DelegationEvidence
  }

  /**
   * Answers a delegation request (mask) from the service provider holding `token` (or, without a token, an
   * administrator): the register's evidence for it, signed for the asker. Audited.
   */
  async answer(
    token: string | undefined,
    json: unknown,
    previousSteps: readonly string[] = [],
  ): Promise<SignedAnswer> {
    const custodian = this.#custodian
    const action = 'delegation.request'
    this.#sized(json)
    const request = shaped(parseRequest, json)
    const resource = `${request.policyIssuer} -> ${request.target.accessSubject}`
    await this.parties.checkToken(token, action, resource)
    const asker = custodian.identify(token, action, resource)
    const since = started()
    const now = Math.floor(custodian.now() / 1000)
    // Earlier links of a chain held by other registers come as their signed evidence, for the asker.
    // Each link speaks for its policy issuer only if that issuer signed it, or a trusted register did.
    const steps: DelegationEvidence[] = []
    for (const [i, step] of previousSteps.entries()) {
      try {
        steps.push(await this.#verified(step, await this.#verifying(asker)))
      } catch (error) {
        if (error instanceof EvidenceRefused) throw invalid(`previous step ${i} refused: ${error.message}`)
        throw error
      }
    }
    const stored = custodian.register.evidence
    const source =
      steps.length === 0
        ? stored
        : {
            find: (issuer: string, subject: string) =>
              stored.find(issuer, subject) ??
              steps.find((e) => e.policyIssuer === issuer && e.target.accessSubject === subject),
            issuedBy: (issuer: string) => [
              ...stored.issuedBy(issuer),
              ...steps.filter((e) => e.policyIssuer === issuer),
            ],
          }
    // Directly, or through a chain of delegations the evidence allows (maxDelegationDepth).
    const answer = answerThroughChain(source, request, now)
    if (!answer) {
      custodian.audit({
        actor: asker,
        action,
        resource,
        outcome: 'NotFound',
        reason: 'no delegation evidence',
      })
      custodian.metrics.decided('delegation', 'denied', since)
      throw notFound(`${request.policyIssuer} has no delegation evidence for ${request.target.accessSubject}`)
    }
    const permitted = answer.reasons.every((r) => r === 'permitted')
    custodian.audit({
      actor: asker,
      action,
      resource,
      outcome: permitted ? 'allowed' : 'denied',
      reason: answer.reasons.join('; '),
    })
    custodian.metrics.decided('delegation', permitted ? 'allowed' : 'denied', since)
    const tokenText = await signEvidence(
      await this.material(),
      custodian.config.registerId,
      asker,
      answer.evidence,
      now,
    )
    return { ...answer, token: tokenText }
  }

  /**
   * Asks the configured remote register (evidence pattern 3: polling the register at request time), and
   * verifies what it signed for this server. Undefined when it holds no evidence for the request.
   */
  async askRemote(request: DelegationRequest): Promise<DelegationEvidence | undefined> {
    const { remoteRegister, remoteRegisterParty, registerId, sourceTimeoutMs } = this.#custodian.config
    const authorization = await this.#remoteAuthorization()
    let response: OutboundResponse
    try {
      response = await outboundClient(this.#custodian).fetch(
        `${remoteRegister.replace(/\/$/, '')}/delegation`,
        {
          what: 'the remote register',
          // Told to whoever asked the decision: what failed, not where the register lives.
          failure: 'the remote register could not be asked',
          method: 'POST',
          headers: { ...authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ delegationRequest: request }),
          maxBytes: MAX_JSON_ANSWER,
          timeoutMs: sourceTimeoutMs,
          accept: [404],
        },
      )
    } catch (error) {
      // One text for every failure to ask (see net/guarded-fetch.ts); the cause is in the log.
      if (error instanceof OutboundError) throw invalid(error.message)
      throw error
    }
    if (response.status === 404) return undefined
    let body: { delegationToken?: string; delegation_token?: string } = {}
    try {
      body = (JSON.parse(response.body.toString('utf8')) ?? {}) as typeof body
    } catch {}
    const token = body.delegationToken ?? body.delegation_token
    if (!token) throw invalid('the remote register answered without a delegation token')
    try {
      // The owner's evidence asked for, for this server as the remote register knows it: signed by the
      // owner, or by a trusted register (the remote register is one only when trustedRegisters names it).
      return await this.#verified(token, {
        ...(await this.#verifying(remoteRegisterParty || registerId)),
        policyIssuers: [request.policyIssuer],
      })
    } catch (error) {
      if (error instanceof EvidenceRefused)
        throw invalid(`the remote register's evidence was refused: ${error.message}`)
      throw error
    }
  }

  /** Evidence or a request larger than the settings allow is refused (413) before anything reads it. */
  #sized(json: unknown): void {
    checkDelegationSize(json, delegationLimits(this.#custodian.config))
  }

  /** Evidence verified (evidence-token.ts), then the parties it names asked of the participant register. */
  async #verified(token: string, options: VerifyOptions): Promise<DelegationEvidence> {
    const { evidence, signer } = await verifyEvidence(token, options)
    await this.parties.checkEvidence(signer, evidence.policyIssuer)
    return evidence
  }

  /** What every verification here holds evidence to, for `audience`; its jti claimed in the shared store. */
  async #verifying(audience: string): Promise<VerifyOptions> {
    const custodian = this.#custodian
    const { registerId, trustedRegisters, clockSkewSeconds } = custodian.config
    return {
      trustedRoots: await this.trustedRoots(),
      audience,
      // This register, and the ones configured, may sign evidence of other policy issuers.
      trustedRegisters: [registerId, ...trustedRegisters.split(',').map((id) => id.trim())].filter(Boolean),
      nowSeconds: Math.floor(custodian.now() / 1000),
      clockSkewSeconds,
      limits: delegationLimits(custodian.config),
      claimJti: (issuer, jti, expiresAtMs) =>
        custodian.store.replay.claimJti(issuer, jti, expiresAtMs, custodian.now()),
    }
  }

  /**
   * Verifies evidence a data request carries, addressed to `audience` (see evidence-token.ts): evidence of
   * one of `policyIssuers`, signed by it or by a trusted register; none named, only a trusted register's
   * signature counts (nobody else speaks for data without an owner).
   */
  async verify(
    token: string,
    audience: string,
    policyIssuers: readonly string[],
  ): Promise<DelegationEvidence> {
    try {
      return await this.#verified(token, {
        ...(await this.#verifying(audience)),
        ...(policyIssuers.length > 0 ? { policyIssuers } : { registersOnly: true }),
      })
    } catch (error) {
      if (error instanceof EvidenceRefused) throw invalid(`delegation evidence refused: ${error.message}`)
      throw error
    }
  }
}
