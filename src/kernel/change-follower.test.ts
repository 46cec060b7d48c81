import { describe, expect, it } from 'vitest'
import { createLogger } from '../logger.js'
import type { Store } from '../store/store.js'
import { ChangeFollower } from './change-follower.js'

/** A store whose LISTEN connections open when the test says, each one counted until it is ended. */
function listeningStore() {
  const opening: (() => void)[] = []
  let open = 0
  const store = {
    subscribe: () =>
      new Promise<() => Promise<void>>((resolve) => {
        opening.push(() => {
          open += 1
          resolve(async () => {
            open -= 1
          })
        })
      }),
  } as unknown as Store
  return { store, opening, open: () => open }
}

const follower = (store: Store) =>
  new ChangeFollower({
    store,
    log: createLogger('silent'),
    pollMs: 60_000,
    catchUp: async () => {},
  })

describe('ChangeFollower', () => {
  it('ends the connection it listens on when stopped', async () => {
    const { store, opening, open } = listeningStore()
    const following = follower(store)
    const started = following.start()
    opening.shift()?.()
    await started
    expect(open()).toBe(1)
    await following.stop()
    expect(open()).toBe(0)
  })

  it('leaves no connection listening when stopped while it connects, and its stop waits for that', async () => {
    // A node told to stop while it listened again after a database restart kept the new connection open,
    // and the process never exited.
    const { store, opening, open } = listeningStore()
    const following = follower(store)
    void following.start()
    let stopped = false
    const stopping = following.stop().then(() => {
      stopped = true
    })
    await Promise.resolve()
    expect(stopped).toBe(false)
    opening.shift()?.()
    await stopping
    expect(open()).toBe(0)
  })
})
