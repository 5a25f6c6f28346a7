/**
 * The agent under test, as the CLI composes it (src/cli.ts `run`), in a child process of the bench with a few taps:
 * start lag samples, event-loop delay (perf_hooks), phases of the fidelity checks, when /metrics
 * scrapes were being served, and run counts. The parent talks over IPC: `reset`, `stats`, `heap`, `stop`.
 *
 *   node dist/bench/agent-host.js <config.yaml>
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";
import { Registry } from "prom-client";
import { PROBE_KINDS } from "../probes/index.js";
import { Agent } from "../src/agent.js";
import { loadConfigFile } from "../src/config/load.js";
import { collectFacts } from "../src/core/facts.js";
import { createLogger } from "../src/logging.js";
import { Metrics, type RunRecord, type SeriesLabels } from "../src/metrics/metrics.js";
import { createHttpServer, listen } from "../src/server/server.js";

/** One fidelity check's run: phases in seconds, and when it ran (epoch ms). */
export interface PhaseSample {
  check: string;
  phases: Record<string, number>;
  startMs: number;
  endMs: number;
  success: boolean;
}

/** What the host answers to `stats`. */
export interface HostStats {
  lagMs: { p50: number; p99: number; max: number; n: number };
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  memory: NodeJS.MemoryUsage;
  handles: number;
  starts: number;
  recorded: number;
  skipped: number;
  phaseSamples: PhaseSample[];
  scrapes: { startMs: number; endMs: number }[];
}

const configPath = process.argv[2];
if (configPath === undefined) throw new Error("usage: agent-host <config.yaml>");
const loaded = await loadConfigFile(configPath, PROBE_KINDS);
if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
const config = loaded.config;

const logger = createLogger(config.logLevel);
const registry = new Registry();
const metrics = new Metrics(registry, { version: "bench", nodeVersion: process.version }, collectFacts(PROBE_KINDS));
const agent = new Agent({ kinds: PROBE_KINDS, configPath, logger, metrics });
const server = createHttpServer({ agent, registry, logger, version: "bench" });

const LAG_RING = 100_000;
const lags = new Float64Array(LAG_RING);
let lagCount = 0;
let starts = 0;
let recorded = 0;
let skipped = 0;
let phaseSamples: PhaseSample[] = [];
let scrapes: { startMs: number; endMs: number }[] = [];
// 10 ms sampling: a 1 ms timer would itself cost the agent a few per cent of a core at low probe rates.
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

// Taps on the agent's metrics object: the bench reads raw values where /metrics only has buckets.
const observeLag = metrics.lag.observe.bind(metrics.lag);
metrics.lag.observe = ((seconds: number) => {
  lags[lagCount++ % LAG_RING] = seconds * 1000;
  starts++;
  observeLag(seconds);
}) as typeof metrics.lag.observe;
const recordRun = metrics.recordRun.bind(metrics);
metrics.recordRun = (labels: SeriesLabels, run: RunRecord) => {
  recorded++;
  const check = labels.check ?? "";
  if (check.startsWith("fid-") && phaseSamples.length < 50_000) {
    const endMs = run.endedAtSeconds * 1000;
    phaseSamples.push({
      check,
      phases: run.phases,
      startMs: endMs - run.durationSeconds * 1000,
      endMs,
      success: run.success,
    });
  }
  recordRun(labels, run);
};
const recordSkip = metrics.recordSkip.bind(metrics);
metrics.recordSkip = (check, reason) => {
  skipped++;
  recordSkip(check, reason);
};
server.on("request", (req, res) => {
  if (!req.url?.startsWith("/metrics")) return;
  const startMs = Date.now();
  res.on("finish", () => {
    if (scrapes.length < 10_000) scrapes.push({ startMs, endMs: Date.now() });
  });
});

const ms = (ns: number) => Math.round(ns / 1e4) / 100;
function stats(): HostStats {
  const n = Math.min(lagCount, LAG_RING);
  const sorted = Array.from(lags.subarray(0, n)).sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] ?? 0;
  const result: HostStats = {
    lagMs: { p50: pick(0.5), p99: pick(0.99), max: sorted.at(-1) ?? 0, n },
    eventLoopDelayMs: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) },
    memory: process.memoryUsage(),
    handles: process.getActiveResourcesInfo().length,
    starts,
    recorded,
    skipped,
    phaseSamples,
    scrapes,
  };
  phaseSamples = [];
  scrapes = [];
  return result;
}

process.on("message", (message: { type: string }) => {
  if (message.type === "reset") {
    lagCount = 0;
    eld.reset();
    phaseSamples = [];
    scrapes = [];
    process.send?.({ type: "reset" });
  } else if (message.type === "stats") {
    process.send?.({ type: "stats", stats: stats() });
  } else if (message.type === "heap") {
    // A heap snapshot for bench/profile.ts (writes Heap.*.heapsnapshot in the working directory; blocks for seconds).
    process.send?.({ type: "heap", path: writeHeapSnapshot() });
  } else if (message.type === "stop") {
    void agent.stop().then(() => process.send?.({ type: "stopped", stats: stats() }));
  }
});
process.on("disconnect", () => process.exit(0));
// An orderly exit, so that --cpu-prof and --heap-prof write their files.
process.on("SIGTERM", () => process.exit(0));

const address = await listen(server, "127.0.0.1", 0);
await agent.start(config);
process.send?.({ type: "ready", port: address.port });
