/**
 * Where a Green Button file puts a resource, read from its href: `.../UsagePoint/5446AF3F/MeterReading/01`
 * belongs to the file's usage point 5446AF3F at `MeterReading/01`; `.../ReadingType/07` belongs to no usage
 * point until something links to it. Files write these as absolute or relative URLs, under RetailCustomer
 * or Subscription; only the part from the resource names on matters. Pure.
 */
export interface Place {
  /** The file's id of the usage point, if the href names one. */
  usagePoint?: string
  /** The file's id of the retail customer whose usage point it is, if the href names one. */
  customer?: string
  /** The path after the usage point (or after `resource/` for shared resources); '' for the usage point. */
  path: string
}

export function placeOf(href: string): Place | undefined {
  const path = href.replace(/[?#].*$/, '').replace(/\/+$/, '')
  const parts = path.split('/').filter(Boolean)
  const at = parts.lastIndexOf('UsagePoint')
  if (at >= 0) {
    const usagePoint = parts[at + 1]
    if (!usagePoint) return undefined
    const customer = parts[at - 2] === 'RetailCustomer' ? parts[at - 1] : undefined
    return {
      usagePoint: decodeURIComponent(usagePoint),
      ...(customer ? { customer: decodeURIComponent(customer) } : {}),
      path: parts.slice(at + 2).join('/'),
    }
  }
  const resource = parts.lastIndexOf('resource')
  const tail = parts.slice(resource + 1)
  return tail.length >= 2 ? { path: tail.slice(-2).join('/') } : undefined
}

/** `MeterReading/01/IntervalBlock/173` → `MeterReading/01`: the meter reading a block belongs to. */
export function meterReadingOf(path: string): string | undefined {
  const match = /^(MeterReading\/[^/]+)\/IntervalBlock(\/|$)/.exec(path)
  return match?.[1]
}
