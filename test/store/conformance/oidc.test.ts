import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { backends, type OidcPayloadRow, race, StoreAdapter, storeFixture } from './backends.js'

const row = (model: string, id: string, grant: string | null, expires: number | null): OidcPayloadRow => ({
  model,
  id,
  payload: JSON.stringify({ id }),
  grant_id: grant,
  uid: model === 'Session' ? `uid-${id}` : null,
  client_id: 'c1',
  expires_at: expires,
  consumed_at: null,
})

describe.each(backends)('the OAuth adapter store on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('keeps OAuth records: consume once only, revoke by grant, drop the expired', async () => {
    const { store } = fixture
    const now = Date.now()
    await store.oidc.upsert(row('AuthorizationCode', 'code1', 'g1', now + 60_000))
    await store.oidc.upsert(row('AccessToken', 'at1', 'g1', now + 60_000))
    await store.oidc.upsert(row('AccessToken', 'at2', 'g2', now + 60_000))
    await store.oidc.upsert(row('Session', 's1', null, now - 1))
    expect(await store.oidc.consume('AuthorizationCode', 'code1', now)).toBe(true)
    expect(await store.oidc.consume('AuthorizationCode', 'code1', now)).toBe(false)
    expect((await store.oidc.find('AuthorizationCode', 'code1', now))?.consumed_at).toBe(now)
    expect(await store.oidc.findByUid('Session', 'uid-s1', now)).toBeUndefined() // expired
    await store.oidc.revokeByGrantId(undefined, 'g1')
    expect(await store.oidc.find('AccessToken', 'at1', now)).toBeUndefined()
    expect(await store.oidc.find('AuthorizationCode', 'code1', now)).toBeUndefined()
    expect(await store.oidc.find('AccessToken', 'at2', now)).toMatchObject({
      grant_id: 'g2',
      expires_at: now + 60_000,
    })
    expect(await store.oidc.deleteExpired(now)).toBe(1)
  })

  it('finds a record by id and by uid, whole, and an upsert replaces it', async () => {
    const { store } = fixture
    const now = Date.now()
    const session = row('Session', 's2', null, now + 60_000)
    await store.oidc.upsert(session)
    expect(await store.oidc.find('Session', 's2', now)).toEqual(session)
    expect(await store.oidc.findByUid('Session', 'uid-s2', now)).toEqual(session)
    expect(await store.oidc.find('Grant', 's2', now)).toBeUndefined() // another model
    const replaced = { ...session, payload: '{"id":"s2","v":2}', expires_at: null }
    await store.oidc.upsert(replaced)
    expect(await store.oidc.find('Session', 's2', now + 10 ** 9)).toEqual(replaced) // no expiry: kept
  })

  it('destroys one record, and revokes by grant one model or the whole grant', async () => {
    const { store } = fixture
    const now = Date.now()
    await store.oidc.upsert(row('Grant', 'g3', null, now + 60_000))
    await store.oidc.upsert(row('AccessToken', 'at3', 'g3', now + 60_000))
    await store.oidc.upsert(row('RefreshToken', 'rt3', 'g3', now + 60_000))
    await store.oidc.revokeByGrantId('AccessToken', 'g3')
    expect(await store.oidc.find('AccessToken', 'at3', now)).toBeUndefined()
    expect((await store.oidc.find('RefreshToken', 'rt3', now))?.id).toBe('rt3')
    expect((await store.oidc.find('Grant', 'g3', now))?.id).toBe('g3')
    await store.oidc.destroy('RefreshToken', 'rt3')
    expect(await store.oidc.find('RefreshToken', 'rt3', now)).toBeUndefined()
    expect((await store.oidc.find('Grant', 'g3', now))?.id).toBe('g3')
    await store.oidc.revokeByGrantId(undefined, 'g3')
    expect(await store.oidc.find('Grant', 'g3', now)).toBeUndefined()
  })

  it('lets exactly one of many simultaneous consumes on two nodes win', async () => {
    const { store } = fixture
    const other = await fixture.node()
    const now = Date.now()
    await store.oidc.upsert(row('AuthorizationCode', 'raced', 'g4', now + 60_000))
    const wins = await race([store, other], 8, (node) => node.oidc.consume('AuthorizationCode', 'raced', now))
    expect(wins.filter(Boolean)).toHaveLength(1)
  })

  describe('under oidc-provider’s adapter', () => {
    it('keys a secret model by the hash of its id, and gives the id back as jti', async () => {
      const { store } = fixture
      const adapter = new StoreAdapter('AccessToken', store.oidc)
      await adapter.upsert('token-value', { grantId: 'g5', clientId: 'c1', accountId: 'alice' }, 60)
      const key = createHash('sha256').update('token-value').digest('base64url')
      const stored = await store.oidc.find('AccessToken', key, Date.now())
      expect(stored).toMatchObject({ grant_id: 'g5', client_id: 'c1', consumed_at: null })
      expect(JSON.parse(stored?.payload ?? '')).toEqual({ grantId: 'g5', clientId: 'c1', accountId: 'alice' })
      expect(await store.oidc.find('AccessToken', 'token-value', Date.now())).toBeUndefined()
      expect(await adapter.find('token-value')).toEqual({
        grantId: 'g5',
        clientId: 'c1',
        accountId: 'alice',
        jti: 'token-value',
      })
    })

    it('keys other models by their id, and finds a session by uid', async () => {
      const adapter = new StoreAdapter('Session', fixture.store.oidc)
      await adapter.upsert('sess-1', { uid: 'u-1', accountId: 'alice' }, 60)
      expect(await adapter.find('sess-1')).toEqual({ uid: 'u-1', accountId: 'alice' })
      expect(await adapter.findByUid('u-1')).toEqual({ uid: 'u-1', accountId: 'alice' })
      await adapter.destroy('sess-1')
      expect(await adapter.find('sess-1')).toBeUndefined()
    })

    it('marks a consumed code, and answers a second consume as a reuse that revokes the grant', async () => {
      const { store } = fixture
      const codes = new StoreAdapter('AuthorizationCode', store.oidc)
      const tokens = new StoreAdapter('AccessToken', store.oidc)
      await codes.upsert('code-6', { grantId: 'g6' }, 60)
      await tokens.upsert('token-6', { grantId: 'g6' }, 60)
      const before = Math.floor(Date.now() / 1000)
      await codes.consume('code-6')
      const consumed = await codes.find('code-6')
      expect(consumed?.consumed).toBeGreaterThanOrEqual(before)
      expect(consumed?.consumed).toBeLessThanOrEqual(Math.floor(Date.now() / 1000))
      await expect(codes.consume('code-6')).rejects.toMatchObject({
        error: 'invalid_grant',
        error_detail: 'AuthorizationCode was already used',
      })
      expect(await codes.find('code-6')).toBeUndefined()
      expect(await tokens.find('token-6')).toBeUndefined()
    })

    it('revokes the rows of one model of a grant', async () => {
      const tokens = new StoreAdapter('AccessToken', fixture.store.oidc)
      const refresh = new StoreAdapter('RefreshToken', fixture.store.oidc)
      await tokens.upsert('token-7', { grantId: 'g7' }, 60)
      await refresh.upsert('refresh-7', { grantId: 'g7' }, 60)
      await tokens.revokeByGrantId('g7')
      expect(await tokens.find('token-7')).toBeUndefined()
      expect(await refresh.find('refresh-7')).toEqual({ grantId: 'g7', jti: 'refresh-7' })
    })
  })
})
