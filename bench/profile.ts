/**
 * One scale point, for looking inside rather than for the table: the agent host with N SMTP checks against the fast
 * responder, a measuring window with scrapes, a few scrapes back to back, and optionally a heap snapshot. Prints JSON.
 *
 *   npm run build && node dist/bench/profile.js --checks=10000 --warm=70 --measure=60 [--heap]
 *   BENCH_CHILD_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof" node dist/bench/profile.js --checks=10000
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measure, scrape, startAgent, writeConfig } from "./lib/agent-run.js";
import { Child, sleep } from "./lib/children.js";
import { load1, quantile, round } from "./lib/proc.js";

function arg(name: string, fallback: number): number {
  const prefix = `--${name}=`;
  const given = process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
  return given === undefined ? fallback : Number(given);
}

const checks = arg("checks", 10_000);
const intervalMs = arg("interval-ms", 60_000);
const warmSeconds = arg("warm", 70);
const measureSeconds = arg("measure", 60);
const dir = mkdtempSync(join(tmpdir(), "suiteprobe-profile-"));
const smtp = new Child("responders/smtp-responder.js", [JSON.stringify([{ name: "ok", mode: "ok" }])]);
try {
  const { ports } = await smtp.next<{ ports: Record<string, number> }>("ready");
  const config = writeConfig(dir, "profile", [
    { prefix: "s", count: checks, port: ports.ok ?? 0, intervalMs, timeoutMs: Math.min(5000, intervalMs - 1) },
  ]);
  const agent = await startAgent(config);
  try {
    await sleep(warmSeconds * 1000);
    const w = await measure(agent, smtp, measureSeconds, 15_000);
    const backToBack: number[] = [];
    let last = await scrape(agent.port);
    for (let i = 0; i < 5; i++) {
      last = await scrape(agent.port);
      backToBack.push(last.ms);
    }
    const memory = w.stats.memory;
    const result = {
      checks,
      load1_before: w.load1,
      rate_per_s: round(w.runs / w.seconds, 1),
      cpu_ms_per_probe: w.runs === 0 ? 0 : round((w.cpuSeconds * 1000) / w.runs, 3),
      rss_mb_max: round(w.rssMaxBytes / 2 ** 20, 1),
      rss_mb_end: round(w.rssEndBytes / 2 ** 20, 1),
      heap_used_mb: round(memory.heapUsed / 2 ** 20, 1),
      heap_total_mb: round(memory.heapTotal / 2 ** 20, 1),
      external_mb: round(memory.external / 2 ** 20, 1),
      array_buffers_mb: round(memory.arrayBuffers / 2 ** 20, 1),
      lag_p99_ms: round(w.stats.lagMs.p99, 2),
      event_loop_delay_p99_ms: w.stats.eventLoopDelayMs.p99,
      event_loop_delay_max_ms: w.stats.eventLoopDelayMs.max,
      scrape_ms_window: w.scrapes.map((s) => round(s.ms, 1)),
      scrape_ms_back_to_back_median: round(quantile(backToBack, 0.5), 1),
      metrics_mb: round(last.bytes / 2 ** 20, 2),
      series_per_check: last.text.split("\n").filter((l) => l.includes('check="s-0"')).length,
      load1_after: load1(),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (process.argv.includes("--heap")) {
      const { path } = await agent.host.ask<{ path: string }>("heap", "heap", 300_000);
      process.stdout.write(`heap snapshot: ${path}\n`);
    }
  } finally {
    await agent.host.stop();
  }
} finally {
  await smtp.stop();
}
