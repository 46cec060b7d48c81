import { html, type Markup } from '../web/html.js'

export interface DailyUse {
  /** `YYYY-MM-DD` (UTC). */
  day: string
  wh: number
}

/** Hourly (or any) readings summed by UTC day, in day order. Pure. */
export function dailyUse(readings: readonly { start: number; value: number }[]): DailyUse[] {
  const days = new Map<string, number>()
  for (const r of readings) {
    const day = new Date(r.start * 1000).toISOString().slice(0, 10)
    days.set(day, (days.get(day) ?? 0) + r.value)
  }
  return [...days].sort(([a], [b]) => a.localeCompare(b)).map(([day, wh]) => ({ day, wh }))
}

const kWh = (wh: number) => (wh / 1000).toFixed(1)

/**
 * A bar chart of daily use as inline SVG (no script: the pages' CSP allows none), with the numbers as its
 * text alternative.
 */
export function usageChart(days: readonly DailyUse[]): Markup {
  const width = 560
  const height = 180
  const bar = width / Math.max(days.length, 1)
  const top = Math.max(...days.map((d) => d.wh), 1)
  const described = days.map((d) => `${d.day}: ${kWh(d.wh)} kWh`).join('; ')
  return html`<svg role="img" aria-labelledby="usage-chart-title" viewBox="0 0 ${width} ${height + 20}" width="100%" style="max-width:${width}px">
<title id="usage-chart-title">Daily electricity use, kWh. ${described}</title>
${days.map((d, i) => {
  const h = Math.round((d.wh / top) * height)
  return html`<rect x="${(i * bar + 2).toFixed(1)}" y="${height - h}" width="${(bar - 4).toFixed(1)}" height="${h}" fill="#2b6cb0"></rect>
<text x="${(i * bar + bar / 2).toFixed(1)}" y="${height + 14}" font-size="10" text-anchor="middle">${d.day.slice(8)}</text>`
})}
</svg>`
}
