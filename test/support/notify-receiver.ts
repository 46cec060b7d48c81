import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A third party's notify endpoint on loopback: while `refusing`, it answers 503 and records `refused <body>`;
 * otherwise 200 and the body. `received` holds both, in order.
 */
export async function notifyReceiver() {
  const received: string[] = []
  const state = { refusing: true }
  const server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      received.push(state.refusing ? `refused ${body}` : body)
      response.writeHead(state.refusing ? 503 : 200).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`,
    received,
    /** Accept from now on. */
    accept: () => {
      state.refusing = false
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}
