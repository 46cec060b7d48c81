import { describe, expect, it } from 'vitest'
import { embeddedIpv4, parseAllowList, refusal, specialAddress } from './address-policy.js'

const none = parseAllowList('')

describe('the outbound address policy', () => {
  it.each([
    ['127.0.0.1', /^loopback/],
    ['127.255.0.9', /^loopback/],
    ['10.0.0.1', /^private \(RFC 1918\)/],
    ['172.16.5.4', /^private/],
    ['172.31.255.255', /^private/],
    ['192.168.1.1', /^private/],
    ['169.254.169.254', /^link-local/],
    ['100.64.0.1', /^shared address space \(CGNAT\)/],
    ['100.127.255.254', /^shared address space/],
    ['0.0.0.0', /^unspecified/],
    ['224.0.0.1', /^multicast/],
    ['239.255.255.250', /^multicast/],
    ['255.255.255.255', /^broadcast/],
    ['240.0.0.1', /^reserved/],
    ['192.0.2.10', /^documentation/],
    ['198.51.100.7', /^documentation/],
    ['203.0.113.99', /^documentation/],
    ['198.18.0.1', /^reserved for benchmarking/],
    ['192.0.0.8', /^reserved for IETF/],
    ['::1', /^loopback/],
    ['::', /^unspecified/],
    ['fc00::1', /^private \(unique local\)/],
    ['fd12:3456::1', /^private \(unique local\)/],
    ['fe80::1', /^link-local/],
    ['fe80::1%eth0', /^link-local/],
    ['ff02::1', /^multicast/],
    ['2001:db8::1', /^documentation/],
    ['2002:a00:1::', /^reserved \(6to4\)/],
    ['2001::1', /^reserved for IETF/],
    ['::ffff:127.0.0.1', /^loopback.*\(as IPv4-mapped IPv6\)$/],
    ['::ffff:7f00:1', /^loopback.*\(as IPv4-mapped IPv6\)$/],
    ['::ffff:a9fe:a9fe', /^link-local.*IPv4-mapped/],
    ['::ffff:10.1.2.3', /^private.*IPv4-mapped/],
    ['64:ff9b::a9fe:a9fe', /^link-local.*\(as NAT64 IPv6\)$/],
    ['::127.0.0.1', /^reserved \(outside 2000::\/3\)$/],
    ['not-an-address', /^not an IP address$/],
  ])('refuses %s as %s', (address, why) => {
    expect(specialAddress(address)).toMatch(why)
    expect(refusal(address, address, none)).toMatch(why)
  })

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '169.253.255.255',
    '2606:4700::1111',
    '2a00:1450:4001:81c::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('lets public %s through', (address) => {
    expect(specialAddress(address)).toBeUndefined()
  })

  it('finds the IPv4 address inside mapped and NAT64 addresses only', () => {
    expect(embeddedIpv4('::ffff:169.254.169.254')).toBe('169.254.169.254')
    expect(embeddedIpv4('::ffff:a9fe:a9fe')).toBe('169.254.169.254')
    expect(embeddedIpv4('64:ff9b::7f00:1')).toBe('127.0.0.1')
    expect(embeddedIpv4('2001:db8::1')).toBeUndefined()
    expect(embeddedIpv4('10.0.0.1')).toBeUndefined()
  })

  it('allows the special addresses, ranges and names the operator lists, and no others', () => {
    const allow = parseAllowList(' 127.0.0.1, 10.1.0.0/16 ,[::1], Registry.Internal. ')
    expect(refusal('127.0.0.1', '127.0.0.1', allow)).toBeUndefined()
    expect(refusal('::ffff:127.0.0.1', '::ffff:127.0.0.1', allow)).toBeUndefined()
    expect(refusal('127.0.0.2', '127.0.0.2', allow)).toMatch(/^loopback/)
    expect(refusal('10.1.200.3', '10.1.200.3', allow)).toBeUndefined()
    expect(refusal('10.2.0.1', '10.2.0.1', allow)).toMatch(/^private/)
    expect(refusal('::1', '::1', allow)).toBeUndefined()
    // A name allowed reaches whatever it resolves to; another name resolving there does not.
    expect(refusal('registry.internal', '10.9.9.9', allow)).toBeUndefined()
    expect(refusal('REGISTRY.internal.', '192.168.0.1', allow)).toBeUndefined()
    expect(refusal('evil.example', '169.254.169.254', allow)).toMatch(/^link-local/)
    expect(refusal('evil.example', '10.2.0.1', allow)).toMatch(/^private/)
  })

  it('refuses a malformed range in the setting', () => {
    expect(() => parseAllowList('10.0.0.0/40')).toThrow(/bad prefix length/)
    expect(() => parseAllowList('intranet/8')).toThrow(/not an address range/)
  })
})
