// Types of greenbutton-file.js, for the tests that generate files with it.
export interface GeneratedReading {
  start: number
  value: number
  cost: number
  quality: number
}
export const INTERVAL: number
export function readingsEvery(interval: number, days: number, shift?: number): GeneratedReading[]
export function fifteenMinuteReadings(days: number, shift?: number): GeneratedReading[]
export function greenButtonFile(
  readings: readonly GeneratedReading[],
  options?: { interval?: number; block?: number },
): string
