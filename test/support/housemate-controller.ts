import { expect } from 'vitest'
import { call } from './server.js'

/**
 * Registers a House Mate controller on a running server, as an administrator does: a user of its own holding
 * `housemate_controller`, with a password it logs in with. Answers the controller's token, the one credential
 * with which voice prints are accepted over HTTP.
 */
export async function registerController(url: string, admin: string, id = 'hm-controller'): Promise<string> {
  const password = `${id} password`
  const steps: [string, string, unknown?][] = [
    [
      'POST',
      '/v1/permissions',
      { id: 'housemate_controller', name: 'House Mate controller', description: 'Relays voice prints' },
    ],
    ['POST', '/v1/users', { id, name: 'House Mate controller' }],
    ['PUT', `/v1/users/${id}/credentials/password`, { value: password }],
    ['PUT', `/v1/users/${id}/roles/housemate_controller`],
  ]
  for (const [method, path, body] of steps) {
    const response = await call(url, method, path, { token: admin, body })
    // The permission may be defined already (a second controller).
    expect([200, 201, 409], `${method} ${path}: ${JSON.stringify(response.body)}`).toContain(response.status)
  }
  const login = await call(url, 'POST', '/v1/sessions', { body: { user: id, password } })
  expect(login.status, JSON.stringify(login.body)).toBe(201)
  return login.body.token as string
}
