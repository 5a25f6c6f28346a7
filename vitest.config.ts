import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Integration suites start real servers (Dovecot, Prometheus) on fixed loopback ports; two cores is the budget.
    maxWorkers: 2,
  },
});
