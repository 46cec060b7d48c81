import { describe, expect, it } from 'vitest'
import { meterReadingOf, placeOf } from './hrefs.js'

describe('where a file puts a resource', () => {
  it('finds the usage point and the path under it, absolute or relative', () => {
    expect(placeOf('/espi/1_1/resource/RetailCustomer/9B6C7066/UsagePoint/5446AF3F')).toEqual({
      usagePoint: '5446AF3F',
      customer: '9B6C7066',
      path: '',
    })
    expect(
      placeOf(
        'https://dc.example/espi/1_1/resource/Subscription/s1/UsagePoint/up-1/MeterReading/01/IntervalBlock/173',
      ),
    ).toEqual({ usagePoint: 'up-1', path: 'MeterReading/01/IntervalBlock/173' })
  })

  it('places shared resources by kind and id', () => {
    expect(placeOf('/espi/1_1/resource/ReadingType/07')).toEqual({ path: 'ReadingType/07' })
    expect(placeOf('https://x.example/espi/1_1/resource/LocalTimeParameters/01/')).toEqual({
      path: 'LocalTimeParameters/01',
    })
  })

  it('refuses hrefs that name nothing', () => {
    expect(placeOf('/espi/1_1/resource/UsagePoint')).toBeUndefined()
    expect(placeOf('/espi/1_1/resource')).toBeUndefined()
  })

  it('names the meter reading of a block', () => {
    expect(meterReadingOf('MeterReading/01/IntervalBlock/173')).toBe('MeterReading/01')
    expect(meterReadingOf('MeterReading/01/IntervalBlock')).toBe('MeterReading/01')
    expect(meterReadingOf('ElectricPowerUsageSummary/1')).toBeUndefined()
  })
})
