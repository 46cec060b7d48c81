import { BlockList, isIP } from 'node:net'

/**
 * Which network addresses the server may connect to on its own initiative (catalog fetches, information
 * sources, the remote register, notifications): public unicast ones, and the special ones an operator
 * allows by name, address or range (the `outboundAllow` setting). Pure: no DNS, no sockets.
 */

type Range = readonly [network: string, prefix: number, why: string]

/** IPv4 ranges that are not public unicast (IANA special-purpose registry), most specific first. */
const SPECIAL_V4: readonly Range[] = [
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'reserved for IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.31.196.0', 24, 'reserved (AS112)'],
  ['192.52.193.0', 24, 'reserved (AMT)'],
  ['192.88.99.0', 24, 'reserved (6to4 relay anycast)'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['192.175.48.0', 24, 'reserved (AS112)'],
  ['198.18.0.0', 15, 'reserved for benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
]

/** IPv6 ranges that are not public unicast; anything outside 2000::/3 is refused as well. */
const SPECIAL_V6: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'reserved (local-use NAT64)'],
  ['100::', 64, 'reserved (discard-only)'],
  ['2001::', 23, 'reserved for IETF protocol assignments (Teredo and others)'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, 'reserved (6to4)'],
  ['3fff::', 20, 'documentation'],
  ['fc00::', 7, 'private (unique local)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'reserved (site-local)'],
  ['ff00::', 8, 'multicast'],
]

const listOf = (ranges: readonly Range[], family: 'ipv4' | 'ipv6') =>
  ranges.map(([network, prefix, why]) => {
    const list = new BlockList()
    list.addSubnet(network, prefix, family)
    return { list, why: `${why}, in ${network}/${prefix}` }
  })
const V4 = listOf(SPECIAL_V4, 'ipv4')
const V6 = listOf(SPECIAL_V6, 'ipv6')
const GLOBAL_UNICAST_V6 = new BlockList()
GLOBAL_UNICAST_V6.addSubnet('2000::', 3, 'ipv6')

/** The 16 bytes of an IPv6 address (dotted-quad tail allowed), or undefined when it is not one. */
function ipv6Bytes(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined
  let text = address.replace(/%.*$/, '')
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const groups = (part: string | undefined) => (part ? part.split(':') : [])
  const left = groups(head)
  const right = groups(tail)
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0')
  return [...left, ...fill, ...right].flatMap((group) => {
    const value = Number.parseInt(group, 16)
    return [value >> 8, value & 0xff]
  })
}

/** The IPv4 address an IPv6 one carries: IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96). */
export function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address)
  if (!bytes) return undefined
  const prefix = bytes.slice(0, 12).join(',')
  const mapped = '0,0,0,0,0,0,0,0,0,0,255,255'
  const nat64 = '0,100,255,155,0,0,0,0,0,0,0,0'
  return prefix === mapped || prefix === nat64 ? bytes.slice(12).join('.') : undefined
}

/**
 * Why `address` is not a public unicast address (loopback, private, link-local ...), or undefined when it
 * is one. Something that is not an IP address at all is refused too.
 */
export function specialAddress(address: string): string | undefined {
  const family = isIP(address)
  if (family === 4) return V4.find(({ list }) => list.check(address, 'ipv4'))?.why
  if (family !== 6) return 'not an IP address'
  const inner = embeddedIpv4(address)
  if (inner !== undefined) {
    const why = specialAddress(inner)
    return why && `${why} (as ${address.startsWith('64:') ? 'NAT64' : 'IPv4-mapped'} IPv6)`
  }
  const plain = address.replace(/%.*$/, '')
  const found = V6.find(({ list }) => list.check(plain, 'ipv6'))?.why
  if (found) return found
  return GLOBAL_UNICAST_V6.check(plain, 'ipv6') ? undefined : 'reserved (outside 2000::/3)'
}

/** The operator's exceptions: host names, and addresses or ranges (CIDR), that may be reached though special. */
export interface AllowList {
  readonly names: ReadonlySet<string>
  readonly addresses: BlockList
}

const normalName = (host: string) => host.toLowerCase().replace(/\.$/, '')

/** Parses `outboundAllow`: comma-separated host names, IP addresses and CIDR ranges; a bad range throws. */
export function parseAllowList(text: string): AllowList {
  const names = new Set<string>()
  const addresses = new BlockList()
  for (const raw of text.split(',')) {
    const entry = raw.trim().replace(/^\[(.*)\]$/, '$1')
    if (!entry) continue
    const [network = '', prefixText] = entry.split('/')
    const family = isIP(network)
    if (family === 0) {
      if (prefixText !== undefined) throw new Error(`outboundAllow: "${entry}" is not an address range`)
      names.add(normalName(entry))
      continue
    }
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (prefixText === undefined) {
      addresses.addAddress(network, type)
      continue
    }
    const prefix = Number(prefixText)
    if (!/^\d+$/.test(prefixText) || prefix > (family === 4 ? 32 : 128))
      throw new Error(`outboundAllow: "${entry}" has a bad prefix length`)
    addresses.addSubnet(network, prefix, type)
  }
  return { names, addresses }
}

/** Is `address` (IPv4 or IPv6, or the IPv4 inside an IPv6 one) in the allowed addresses? */
function allowedAddress(address: string, allow: AllowList): boolean {
  const family = isIP(address)
  if (family === 0) return false
  const plain = address.replace(/%.*$/, '')
  if (allow.addresses.check(plain, family === 4 ? 'ipv4' : 'ipv6')) return true
  const inner = family === 6 ? embeddedIpv4(plain) : undefined
  return inner !== undefined && allow.addresses.check(inner, 'ipv4')
}

/**
 * Why the server may not connect to `address`, which `host` (the URL's host name, or the address itself)
 * resolved to; undefined when it may: a public address, an allowed one, or any address of an allowed name.
 */
export function refusal(host: string, address: string, allow: AllowList): string | undefined {
  if (allow.names.has(normalName(host.replace(/^\[(.*)\]$/, '$1')))) return undefined
  if (allowedAddress(address, allow)) return undefined
  return specialAddress(address)
}
