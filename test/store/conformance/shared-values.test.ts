import { describe, expect, it, vi } from 'vitest'
import { backends, race, storeFixture } from './backends.js'

describe.each(backends)('shared secrets and values on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('makes a shared secret once', async () => {
    const { store } = fixture
    const first = await store.sharedSecret('test')
    expect(first).toMatch(/^[\w-]{40,}$/)
    expect(await store.sharedSecret('test')).toBe(first)
    expect(await store.sharedSecret('another')).not.toBe(first)
  })

  it('makes a value once per store, and a reopened store keeps it', async () => {
    const make = vi.fn(() => 'made once')
    expect(await fixture.store.sharedValue('key', make)).toBe('made once')
    expect(await fixture.store.sharedValue('key', () => 'made twice')).toBe('made once')
    const other = await fixture.node()
    expect(await other.sharedValue('key', () => 'made on another node')).toBe('made once')
    expect(await other.sharedSecret('test')).toBe(await fixture.store.sharedSecret('test'))
    expect(make).toHaveBeenCalledTimes(1)
  })

  it('agrees on one value when two nodes make it at the same moment', async () => {
    const other = await fixture.node()
    const values = await race([fixture.store, other], 8, (node, i) =>
      node.sharedValue('raced', async () => `candidate ${i}`),
    )
    expect(new Set(values).size).toBe(1)
    expect(values[0]).toMatch(/^candidate [0-7]$/)
    const secrets = await race([fixture.store, other], 8, (node) => node.sharedSecret('raced'))
    expect(new Set(secrets).size).toBe(1)
  })
})
