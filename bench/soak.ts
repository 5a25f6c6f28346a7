import type { HostStats } from "./agent-host.js";
import { scrape, startAgent, writeConfig } from "./lib/agent-run.js";
import { sleep, type Child } from "./lib/children.js";
import { load1, round, rssBytes } from "./lib/proc.js";
import type { SmtpResponderStats } from "./responders/smtp-responder.js";

/** One sample of the soak. */
export interface SoakSample {
  minute: number;
  rss_mb: number;
  heap_used_mb: number;
  handles: number;
  runs: number;
  load1: number;
}

/** The soak's verdict: memory and handles over time, and the agent's counters against what the responder sent. */
export interface SoakResult {
  checks: number;
  interval_s: number;
  minutes: number;
  samples: SoakSample[];
  rss_first_mb: number;
  rss_last_mb: number;
  rss_max_mb: number;
  handles_first: number;
  handles_last: number;
  responder: { ok: number; failed: number; byReply: Record<string, number> };
  agent: { success: number; failure: number; in_flight_at_stop: number };
  /** Responder counts minus agent counts must lie in [0, runs in flight at stop] for both results. */
  counters_exact: boolean;
}

/** Soak settings. */
export interface SoakOptions {
  dir: string;
  checks: number;
  intervalMs: number;
  minutes: number;
  sampleEveryMs: number;
}

function sumRuns(text: string, result: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("probe_runs_total{") && line.includes(`result="${result}"`)) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

/**
 * Half the checks against the OK responder, half against one that fails in rotating ways (451 at RCPT, 550 at RCPT,
 * 421 at the banner, a reset), scraped every 15 s; samples RSS, heap and handles; at the end stops the agent and
 * compares its run counters with the decisive replies the responder sent (each responder profile counts only its own).
 */
export async function runSoak(
  responder: Child,
  ports: { soakOk: number; soakRotate: number },
  options: SoakOptions,
): Promise<SoakResult> {
  const half = Math.floor(options.checks / 2);
  const timeoutMs = Math.min(5000, options.intervalMs - 1);
  const config = writeConfig(options.dir, "soak", [
    { prefix: "ok", count: options.checks - half, port: ports.soakOk, intervalMs: options.intervalMs, timeoutMs },
    { prefix: "bad", count: half, port: ports.soakRotate, intervalMs: options.intervalMs, timeoutMs },
  ]);
  const before = (await responder.ask<{ stats: SmtpResponderStats }>("stats")).stats.counts;
  const agent = await startAgent(config);
  const samples: SoakSample[] = [];
  const started = performance.now();
  const endAt = started + options.minutes * 60_000;
  let nextScrape = started + 15_000;
  try {
    while (performance.now() < endAt) {
      await sleep(Math.min(options.sampleEveryMs, Math.max(0, endAt - performance.now())));
      if (performance.now() >= nextScrape) {
        await scrape(agent.port);
        nextScrape += 15_000;
      }
      const { stats } = await agent.host.ask<{ stats: HostStats }>("stats");
      samples.push({
        minute: round((performance.now() - started) / 60_000, 2),
        rss_mb: round(rssBytes(agent.host.pid) / 2 ** 20, 1),
        heap_used_mb: round(stats.memory.heapUsed / 2 ** 20, 1),
        handles: stats.handles,
        runs: stats.recorded,
        load1: load1(),
      });
    }
    const { stats } = await agent.host.ask<{ stats: HostStats }>("stop", "stopped", 60_000);
    const text = (await scrape(agent.port)).text;
    const after = (await responder.ask<{ stats: SmtpResponderStats }>("stats")).stats.counts;
    const delta = (profile: string): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(after[profile] ?? {})) out[k] = v - (before[profile]?.[k] ?? 0);
      return out;
    };
    const okReplies = delta("soak_ok");
    const badReplies = delta("soak_rotate");
    const responderOk = Object.values(okReplies).reduce((a, b) => a + b, 0);
    const responderFailed = Object.values(badReplies).reduce((a, b) => a + b, 0);
    const success = sumRuns(text, "success");
    const failure = sumRuns(text, "failure");
    const inFlight = stats.starts - stats.recorded;
    const within = (sent: number, counted: number) => sent - counted >= 0 && sent - counted <= inFlight;
    const rss = samples.map((s) => s.rss_mb);
    return {
      checks: options.checks,
      interval_s: options.intervalMs / 1000,
      minutes: options.minutes,
      samples,
      rss_first_mb: rss[0] ?? 0,
      rss_last_mb: rss.at(-1) ?? 0,
      rss_max_mb: Math.max(0, ...rss),
      handles_first: samples[0]?.handles ?? 0,
      handles_last: samples.at(-1)?.handles ?? 0,
      responder: { ok: responderOk, failed: responderFailed, byReply: { ...okReplies, ...badReplies } },
      agent: { success, failure, in_flight_at_stop: inFlight },
      counters_exact: within(responderOk, success) && within(responderFailed, failure),
    };
  } finally {
    await agent.host.stop();
  }
}
