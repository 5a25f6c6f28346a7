import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { HostStats } from "../agent-host.js";
import type { SmtpResponderStats } from "../responders/smtp-responder.js";
import { Child, httpGet, sleep } from "./children.js";
import { CpuMeter, load1, rssBytes } from "./proc.js";

/** A group of SMTP checks of one config. */
export interface CheckGroup {
  prefix: string;
  count: number;
  port: number;
  intervalMs: number;
  timeoutMs: number;
}

/** Writes an agent config with the given check groups; MAIL and RCPT over plain text, then RSET and QUIT. */
export function writeConfig(dir: string, name: string, groups: readonly CheckGroup[], histogram = false): string {
  const lines = [
    `agent: { listen: "127.0.0.1:0", location: bench, log_level: info, metrics: { run_duration_histogram: ${histogram} } }`,
    "checks:",
  ];
  for (const g of groups) {
    for (let i = 0; i < g.count; i++) {
      lines.push(
        `  - { name: ${g.prefix}-${i}, kind: smtp, target: "127.0.0.1:${g.port}", interval: ${g.intervalMs}ms, ` +
          `timeout: ${g.timeoutMs}ms, smtp: { tls: none, mail_from: probe@bench.local, rcpt_to: user@bench.local } }`,
      );
    }
  }
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** One /metrics scrape as Prometheus makes it (gzip accepted). */
export interface Scrape {
  ms: number;
  bytes: number;
  gzipBytes: number;
  series: number;
}

/** Scrapes /metrics with gzip and counts the series. */
export async function scrape(port: number): Promise<Scrape & { text: string }> {
  const reply = await httpGet(`http://127.0.0.1:${port}/metrics`, { "accept-encoding": "gzip" });
  const text = reply.headers["content-encoding"] === "gzip" ? gunzipSync(reply.body).toString() : reply.body.toString();
  const series = text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
  return { ms: reply.ms, bytes: Buffer.byteLength(text), gzipBytes: reply.body.length, series, text };
}

/** The Node flags the image starts the agent with (Dockerfile ENTRYPOINT): the bench measures the agent as shipped. */
export const AGENT_NODE_FLAGS = ["--max-semi-space-size=4"] as const;

/** The agent host running one config, with meters. */
export interface RunningAgent {
  host: Child;
  port: number;
  cpu: CpuMeter;
}

/** Starts the agent host on a config and waits until it listens. */
export async function startAgent(configPath: string): Promise<RunningAgent> {
  const host = new Child("agent-host.js", [configPath], AGENT_NODE_FLAGS);
  const { port } = await host.next<{ port: number }>("ready");
  return { host, port, cpu: new CpuMeter(host.pid) };
}

/** What one measuring window of a running agent gives. */
export interface Window {
  seconds: number;
  runs: number;
  cpuSeconds: number;
  rssMaxBytes: number;
  rssEndBytes: number;
  stats: HostStats;
  scrapes: Scrape[];
  responderCpuSeconds: number;
  load1: number;
}

/**
 * Measures a running agent for `seconds`: resets its taps, scrapes every `scrapeEveryMs` (as Prometheus would), samples
 * RSS every second, and reads CPU from /proc. Bounded: it ends after `seconds` whatever happens.
 */
export async function measure(
  agent: RunningAgent,
  responder: Child,
  seconds: number,
  scrapeEveryMs: number,
): Promise<Window> {
  await agent.host.ask("reset");
  const before = await agent.host.ask<{ stats: HostStats }>("stats");
  const responderBefore = await responder.ask<{ stats: SmtpResponderStats }>("stats");
  agent.cpu.reset();
  const scrapes: Scrape[] = [];
  let rssMax = 0;
  const endAt = performance.now() + seconds * 1000;
  let nextScrape = performance.now() + Math.min(scrapeEveryMs, (seconds * 1000) / 2);
  while (performance.now() < endAt) {
    rssMax = Math.max(rssMax, rssBytes(agent.host.pid));
    if (performance.now() >= nextScrape) {
      const { text: _text, ...s } = await scrape(agent.port);
      scrapes.push(s);
      nextScrape += scrapeEveryMs;
    }
    await sleep(Math.min(1000, Math.max(0, endAt - performance.now())));
  }
  const { cpuSeconds, wallSeconds } = agent.cpu.read();
  const after = await agent.host.ask<{ stats: HostStats }>("stats");
  const responderAfter = await responder.ask<{ stats: SmtpResponderStats }>("stats");
  return {
    seconds: wallSeconds,
    runs: after.stats.starts - before.stats.starts,
    cpuSeconds,
    rssMaxBytes: rssMax,
    rssEndBytes: rssBytes(agent.host.pid),
    stats: after.stats,
    scrapes,
    responderCpuSeconds: responderAfter.stats.cpuSeconds - responderBefore.stats.cpuSeconds,
    load1: load1(),
  };
}
