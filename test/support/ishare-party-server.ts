import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeJwt, type JWTPayload } from 'jose'

/**
 * A stand-in for another iSHARE party's server: its `/connect/token` gives `token` to any client assertion
 * (kept, decoded, in `assertions`, to check who asked for whom); every other request needs that token, and
 * `answer` answers it (status and JSON).
 */
export function partyServer(
  token: string,
  answer: (url: URL) => Promise<{ status: number; body: object }> | { status: number; body: object },
): { server: Server; assertions: JWTPayload[]; listen: () => Promise<string> } {
  const assertions: JWTPayload[] = []
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://party')
    const json = ({ status, body }: { status: number; body: object }) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (url.pathname === '/connect/token') {
      let form = ''
      for await (const chunk of request) form += chunk
      assertions.push(decodeJwt(new URLSearchParams(form).get('client_assertion') ?? ''))
      return json({ status: 200, body: { access_token: token, token_type: 'Bearer', expires_in: 3600 } })
    }
    if (request.headers.authorization !== `Bearer ${token}`)
      return json({ status: 401, body: { error: 'invalid_token' } })
    json(await answer(url))
  })
  /** Listens on a free loopback port; its base URL. */
  const listen = async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }
  return { server, assertions, listen }
}
