import { describe, expect, it } from 'vitest'
import { dailyUse, usageChart } from './demo-chart.js'
import { DEMO_DAYS, demoReading, demoReadingsCsv } from './demo-readings.js'

describe('the demo’s readings', () => {
  it('publishes the last days hourly, up to the last whole hour, the same value for the same hour', () => {
    const now = Date.parse('2026-12-01T09:30:00Z')
    const lines = demoReadingsCsv(['up_1', 'up_2'], now).trim().split('\n')
    expect(lines[0]).toBe('usage_point,start,duration,value')
    expect(lines).toHaveLength(1 + 2 * DEMO_DAYS * 24)
    const last = Date.parse('2026-12-01T08:00:00Z') / 1000
    expect(lines[DEMO_DAYS * 24]).toBe(`up_1,${last},3600,${demoReading('up_1', last)}`)
    expect(demoReadingsCsv(['up_1'], now + 10 * 60_000)).toBe(demoReadingsCsv(['up_1'], now))
  })

  it('sums readings by day and draws a bar a day, with the numbers as its text', () => {
    const day = Date.parse('2026-11-30T00:00:00Z') / 1000
    const days = dailyUse([
      { start: day + 86_400, value: 500 },
      { start: day, value: 1000 },
      { start: day + 3600, value: 1500 },
    ])
    expect(days).toEqual([
      { day: '2026-11-30', wh: 2500 },
      { day: '2026-12-01', wh: 500 },
    ])
    const svg = usageChart(days).text
    expect(svg.match(/<rect /g)).toHaveLength(2)
    expect(svg).toContain('2026-11-30: 2.5 kWh; 2026-12-01: 0.5 kWh')
  })
})
