import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The storage suite and the end-to-end tests open files, databases and servers: two at a time fit a
    // two-core machine.
    maxWorkers: 2,
  },
})
