import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers and processes; two cores: two test files at a time.
    maxWorkers: 2,
    reporters: ['default', './test/summaryReporter.ts']
  }
})
