import type { Child } from "./lib/children.js";
import { sleep } from "./lib/children.js";
import { measure, scrape, startAgent, writeConfig } from "./lib/agent-run.js";
import { quantile, round } from "./lib/proc.js";

/** One row of the scale table. */
export interface ScaleRow {
  checks: number;
  interval_s: number;
  rate_per_s: number;
  cpu_pct: number;
  cpu_ms_per_probe: number;
  rss_mb_max: number;
  heap_used_mb: number;
  lag_p50_ms: number;
  lag_p99_ms: number;
  skipped: number;
  scrapes: number;
  scrape_ms_median: number;
  scrape_ms_max: number;
  metrics_mb: number;
  metrics_gzip_mb: number;
  series_per_check: number;
  event_loop_delay_p99_ms: number;
  event_loop_delay_max_ms: number;
  responder_cpu_pct: number;
  load1: number;
}

/** Scale settings: check counts, interval, warm-up and measuring time, scrape period. */
export interface ScaleOptions {
  counts: number[];
  intervalMs: number;
  warmSeconds: number;
  measureSeconds: number;
  scrapeEveryMs: number;
  dir: string;
}

/** Runs the agent with each number of SMTP checks against the fast responder and measures one window. */
export async function runScale(responder: Child, okPort: number, options: ScaleOptions): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const count of options.counts) {
    const config = writeConfig(options.dir, `scale-${count}`, [
      {
        prefix: "s",
        count,
        port: okPort,
        intervalMs: options.intervalMs,
        timeoutMs: Math.min(5000, options.intervalMs - 1),
      },
    ]);
    const agent = await startAgent(config);
    try {
      await sleep(options.warmSeconds * 1000);
      const w = await measure(agent, responder, options.measureSeconds, options.scrapeEveryMs);
      const times = w.scrapes.map((s) => s.ms);
      const last = w.scrapes.at(-1);
      rows.push({
        checks: count,
        interval_s: options.intervalMs / 1000,
        rate_per_s: round(w.runs / w.seconds, 1),
        cpu_pct: round((w.cpuSeconds / w.seconds) * 100, 1),
        cpu_ms_per_probe: w.runs === 0 ? 0 : round((w.cpuSeconds * 1000) / w.runs, 3),
        rss_mb_max: round(w.rssMaxBytes / 2 ** 20, 1),
        heap_used_mb: round(w.stats.memory.heapUsed / 2 ** 20, 1),
        lag_p50_ms: round(w.stats.lagMs.p50, 2),
        lag_p99_ms: round(w.stats.lagMs.p99, 2),
        skipped: w.stats.skipped,
        scrapes: w.scrapes.length,
        scrape_ms_median: round(quantile(times, 0.5), 1),
        scrape_ms_max: round(Math.max(0, ...times), 1),
        metrics_mb: round((last?.bytes ?? 0) / 2 ** 20, 2),
        metrics_gzip_mb: round((last?.gzipBytes ?? 0) / 2 ** 20, 2),
        series_per_check: 0,
        event_loop_delay_p99_ms: w.stats.eventLoopDelayMs.p99,
        event_loop_delay_max_ms: w.stats.eventLoopDelayMs.max,
        responder_cpu_pct: round((w.responderCpuSeconds / w.seconds) * 100, 1),
        load1: w.load1,
      });
      // Series of one check, from a last scrape (the agent's own series excluded).
      const { text } = await scrape(agent.port);
      const row = rows.at(-1);
      if (row !== undefined) row.series_per_check = text.split("\n").filter((l) => l.includes('check="s-0"')).length;
    } finally {
      await agent.host.stop();
    }
  }
  return rows;
}
