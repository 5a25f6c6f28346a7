import type { PhaseSample } from "./agent-host.js";
import type { Child } from "./lib/children.js";
import { sleep } from "./lib/children.js";
import { measure, startAgent, writeConfig } from "./lib/agent-run.js";
import { quantile, round } from "./lib/proc.js";
import type { SmtpResponderStats } from "./responders/smtp-responder.js";

/** Delays the fidelity responder profile injects, ms. */
export const INJECTED = { banner: 200, rcpt: 50 } as const;

/** One row of the fidelity table: reported phase minus injected delay. */
export interface FidelityRow {
  condition: string;
  background_rate_per_s: number;
  samples: number;
  phase: string;
  injected_ms: number;
  error_p50_ms: number;
  error_p99_ms: number;
  error_max_ms: number;
  /** The connect phase, which must not contain the banner wait. */
  connect_p99_ms: number;
  responder_timer_late_p99_ms: number;
  load1: number;
}

/** Fidelity settings. */
export interface FidelityOptions {
  dir: string;
  fidelityChecks: number;
  /** Background SMTP checks at `backgroundIntervalMs` (rate = count / interval) for the "under load" condition. */
  backgroundChecks: number;
  backgroundIntervalMs: number;
  warmSeconds: number;
  measureSeconds: number;
  scrapeEveryMs: number;
}

function rows(condition: string, rate: number, samples: PhaseSample[], late: number, load: number): FidelityRow[] {
  const connect = samples.map((s) => (s.phases.connect ?? 0) * 1000);
  return (Object.keys(INJECTED) as (keyof typeof INJECTED)[]).map((phase) => {
    const errors = samples.filter((s) => s.success).map((s) => (s.phases[phase] ?? 0) * 1000 - INJECTED[phase]);
    return {
      condition,
      background_rate_per_s: rate,
      samples: errors.length,
      phase,
      injected_ms: INJECTED[phase],
      error_p50_ms: round(quantile(errors, 0.5), 2),
      error_p99_ms: round(quantile(errors, 0.99), 2),
      error_max_ms: round(Math.max(0, ...errors), 2),
      connect_p99_ms: round(quantile(connect, 0.99), 2),
      responder_timer_late_p99_ms: round(late, 2),
      load1: load,
    };
  });
}

/**
 * Fidelity checks (names `fid-*`, 1 s interval) against a responder that delays the banner by 200 ms and the RCPT
 * reply by 50 ms: alone, then beside background checks at the given rate with /metrics scraped, split by whether a
 * scrape was being served while the run went on.
 */
export async function runFidelity(
  responder: Child,
  ports: { ok: number; delay: number },
  options: FidelityOptions,
): Promise<FidelityRow[]> {
  const result: FidelityRow[] = [];
  const fid = { prefix: "fid", count: options.fidelityChecks, port: ports.delay, intervalMs: 1000, timeoutMs: 900 };
  for (const condition of ["idle", "load"] as const) {
    const groups =
      condition === "idle"
        ? [fid]
        : [
            fid,
            {
              prefix: "bg",
              count: options.backgroundChecks,
              port: ports.ok,
              intervalMs: options.backgroundIntervalMs,
              timeoutMs: Math.min(5000, options.backgroundIntervalMs - 1),
            },
          ];
    const agent = await startAgent(writeConfig(options.dir, `fidelity-${condition}`, groups));
    try {
      await sleep(options.warmSeconds * 1000);
      const scrapeEvery = condition === "idle" ? options.measureSeconds * 10_000 : options.scrapeEveryMs;
      const w = await measure(agent, responder, options.measureSeconds, scrapeEvery);
      const late = (await responder.ask<{ stats: SmtpResponderStats }>("stats")).stats.timerLateMs.p99;
      const rate = round(w.runs / w.seconds, 1);
      const samples = w.stats.phaseSamples;
      const overlaps = (s: PhaseSample) => w.stats.scrapes.some((x) => x.startMs < s.endMs && x.endMs > s.startMs);
      if (condition === "idle") result.push(...rows("idle", rate, samples, late, w.load1));
      else {
        result.push(
          ...rows(
            "load, no scrape in flight",
            rate,
            samples.filter((s) => !overlaps(s)),
            late,
            w.load1,
          ),
        );
        result.push(...rows("load, during a scrape", rate, samples.filter(overlaps), late, w.load1));
      }
    } finally {
      await agent.host.stop();
    }
  }
  return result;
}
