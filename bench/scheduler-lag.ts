/**
 * How late do runs start, and how spread are they, with many checks on one interval?
 * Runs N no-op checks on a 1 s interval through the real Scheduler for a few seconds and prints the start lag
 * distribution and how many distinct milliseconds the first round of starts used. Asserts nothing: figures only.
 *
 *   npm run build && node dist/bench/scheduler-lag.js [checks=1000] [seconds=10]
 */
import { pino } from "pino";
import { z } from "zod";
import type { CheckConfig } from "../src/config/model.js";
import { defineKind } from "../src/core/probe.js";
import type { RunOutcome } from "../src/runtime/runner.js";
import { Scheduler } from "../src/runtime/scheduler.js";

const checks = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 10);
const noop = defineKind({
  id: "noop",
  title: "does nothing",
  settingsSchema: z.strictObject({}),
  isSettingsOptional: true,
  phases: [],
  facts: [],
  target: { type: "none", label: () => "none" },
  run: () => Promise.resolve(),
});

const configs: CheckConfig[] = Array.from({ length: checks }, (_, i) => ({
  name: `check-${i}`,
  kind: noop,
  settings: {},
  target: { type: "none", label: "none" },
  plan: { type: "interval", everyMs: 1000 },
  timeoutMs: 500,
  labels: {},
  throttleScope: undefined,
  fingerprint: String(i),
}));

const lags: number[] = [];
const starts: number[] = [];
let skipped = 0;
const scheduler = new Scheduler({
  logger: pino({ level: "silent" }),
  run: (check) => {
    starts.push(Date.now());
    const now = new Date();
    const outcome: RunOutcome = {
      check: check.name,
      kind: "noop",
      target: "none",
      status: "success",
      durationSeconds: 0,
      phases: {},
      facts: new Map(),
      startedAt: now,
      endedAt: now,
    };
    return Promise.resolve(outcome);
  },
  onOutcome: () => undefined,
  onSkip: () => skipped++,
  onLag: (s) => lags.push(s * 1000),
});

const begun = Date.now();
scheduler.apply(configs);
scheduler.start();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
await scheduler.stop();

lags.sort((a, b) => a - b);
const pick = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? 0;
const firstSecond = new Set(starts.filter((t) => t < begun + 1000).map((t) => t));
console.log(`checks=${checks} interval=1s duration=${seconds}s node=${process.version}`);
console.log(`runs=${lags.length} (expected ~${checks * seconds}) skipped=${skipped}`);
console.log(
  `start lag ms: p50=${pick(0.5).toFixed(1)} p90=${pick(0.9).toFixed(1)} p99=${pick(0.99).toFixed(1)} max=${(lags.at(-1) ?? 0).toFixed(1)}`,
);
console.log(`first second: ${firstSecond.size} distinct start milliseconds for ${checks} checks`);
