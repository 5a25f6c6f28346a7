import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from "prom-client";
import type { RunFacts } from "../core/probe.js";

/** The labels every probe series carries, before configured ones. */
export const PROBE_LABELS = ["check", "kind", "target", "location"] as const;

/** Identity of one check's series: the probe labels plus configured labels (union over all checks, "" if unset). */
export type SeriesLabels = Record<string, string>;

/** What one finished run reports to the metrics. */
export interface RunRecord {
  success: boolean;
  durationSeconds: number;
  phases: Record<string, number>;
  facts: RunFacts;
  endedAtSeconds: number;
  failure?: { class: string; code: string; phase: string; side: string };
}

const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];
const DELIVERY_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function probeMetrics(registry: Registry, extra: readonly string[]) {
  const labelNames = [...PROBE_LABELS, ...extra];
  const registers = [registry];
  return {
    success: new Gauge({
      name: "probe_success",
      help: "1 if the last run succeeded, 0 if it failed.",
      labelNames,
      registers,
    }),
    duration: new Gauge({ name: "probe_duration_seconds", help: "Duration of the last run.", labelNames, registers }),
    phaseDuration: new Gauge({
      name: "probe_phase_duration_seconds",
      help: "Duration of each phase of the last run.",
      labelNames: [...labelNames, "phase"],
      registers,
    }),
    runs: new Counter({
      name: "probe_runs_total",
      help: "Runs by result.",
      labelNames: [...labelNames, "result"],
      registers,
    }),
    errors: new Counter({
      name: "probe_errors_total",
      help: "Failed runs by error class, code (enhanced status, reply or HTTP code, or none), failing phase and side (provider, network, config, unknown; derived from class and code).",
      labelNames: [...labelNames, "class", "code", "phase", "side"],
      registers,
    }),
    runDuration: new Histogram({
      name: "probe_run_duration_seconds",
      help: "Duration of runs.",
      labelNames,
      buckets: RUN_BUCKETS,
      registers,
    }),
    lastRun: new Gauge({
      name: "probe_last_run_timestamp_seconds",
      help: "Unix time the last run ended.",
      labelNames,
      registers,
    }),
    lastSuccess: new Gauge({
      name: "probe_last_success_timestamp_seconds",
      help: "Unix time the last successful run ended.",
      labelNames,
      registers,
    }),
    smtpReplyCode: new Gauge({
      name: "probe_smtp_reply_code",
      help: "Last SMTP reply code seen in the last run (0 when none).",
      labelNames,
      registers,
    }),
    certExpiry: new Gauge({
      name: "probe_ssl_earliest_cert_expiry",
      help: "Unix time of the earliest certificate expiry in the chain of the last TLS handshake.",
      labelNames,
      registers,
    }),
    mailDelivery: new Histogram({
      name: "probe_mail_delivery_seconds",
      help: "Mail round trip: submission accepted to message visible in the mailbox (arrived in time).",
      labelNames,
      buckets: DELIVERY_BUCKETS,
      registers,
    }),
    mailLate: new Counter({
      name: "probe_mail_late_total",
      help: "Round-trip messages that arrived after their deadline.",
      labelNames,
      registers,
    }),
    mailUncertain: new Counter({
      name: "probe_mail_uncertain_sends_total",
      help: "Sends whose outcome is unknown: the connection was lost after DATA, before the reply.",
      labelNames,
      registers,
    }),
    mailJunked: new Counter({
      name: "probe_mail_junked_total",
      help: "Round-trip messages delivered into a Junk folder.",
      labelNames,
      registers,
    }),
    skipped: new Counter({
      name: "suiteprobe_runs_skipped_total",
      help: "Runs not started, by reason (overlap: the previous run was still going).",
      labelNames: ["check", "reason"],
      registers,
    }),
  };
}

type ProbeMetricSet = ReturnType<typeof probeMetrics>;

/** Every metric suiteprobe exposes, on one explicit registry. */
export class Metrics {
  readonly registry: Registry;
  readonly lag: Histogram;
  readonly reloadSuccessful: Gauge;
  readonly reloadTimestamp: Gauge;
  readonly checksByKind: Gauge;
  #probe: ProbeMetricSet;
  #extraLabels: readonly string[] = [];
  /** Phases each check reported last, so a shorter run does not leave stale phase series. */
  readonly #lastPhases = new Map<string, Set<string>>();

  constructor(registry: Registry, build: { version: string; nodeVersion: string }) {
    this.registry = registry;
    const registers = [registry];
    collectDefaultMetrics({ register: registry });
    // These three are gauges named `_total`, which breaks the naming rules (`promtool check metrics` flags them);
    // they are sums of `nodejs_active_handles` / `_requests` / `_resources` by type, which stay.
    for (const name of [
      "nodejs_active_handles_total",
      "nodejs_active_requests_total",
      "nodejs_active_resources_total",
    ]) {
      registry.removeSingleMetric(name);
    }
    new Gauge({
      name: "suiteprobe_build_info",
      help: "Always 1; labels tell the suiteprobe and Node.js versions.",
      labelNames: ["version", "node_version"],
      registers,
    }).set({ version: build.version, node_version: build.nodeVersion }, 1);
    this.checksByKind = new Gauge({
      name: "suiteprobe_checks",
      help: "Configured checks by kind.",
      labelNames: ["kind"],
      registers,
    });
    this.lag = new Histogram({
      name: "suiteprobe_scheduler_lag_seconds",
      help: "How late runs started against their plan.",
      buckets: LAG_BUCKETS,
      registers,
    });
    this.reloadSuccessful = new Gauge({
      name: "suiteprobe_config_last_reload_successful",
      help: "1 if the last config load or reload succeeded.",
      registers,
    });
    this.reloadTimestamp = new Gauge({
      name: "suiteprobe_config_last_reload_success_timestamp_seconds",
      help: "Unix time of the last successful config load or reload.",
      registers,
    });
    this.#probe = probeMetrics(registry, []);
  }

  /** Sets the configured label names; if they change, probe metrics are re-created (their series start over). */
  setExtraLabels(names: readonly string[]): void {
    const sorted = [...new Set(names)].sort();
    if (sorted.join(",") === this.#extraLabels.join(",")) return;
    // prom-client keeps `name` on every metric object; its typings omit it.
    for (const metric of Object.values(this.#probe)) {
      this.registry.removeSingleMetric((metric as unknown as { name: string }).name);
    }
    this.#probe = probeMetrics(this.registry, sorted);
    this.#extraLabels = sorted;
    this.#lastPhases.clear();
  }

  /** The configured label names in use. */
  get extraLabels(): readonly string[] {
    return this.#extraLabels;
  }

  /** Creates a check's series that must exist before its first run (run counters at 0). */
  initCheck(labels: SeriesLabels): void {
    const m = this.#probe;
    m.runs.inc({ ...labels, result: "success" }, 0);
    m.runs.inc({ ...labels, result: "failure" }, 0);
    m.skipped.inc({ check: labels.check ?? "", reason: "overlap" }, 0);
  }

  /** Records one finished run. */
  recordRun(labels: SeriesLabels, run: RunRecord): void {
    const m = this.#probe;
    m.success.set(labels, run.success ? 1 : 0);
    m.duration.set(labels, run.durationSeconds);
    m.runDuration.observe(labels, run.durationSeconds);
    m.runs.inc({ ...labels, result: run.success ? "success" : "failure" });
    m.lastRun.set(labels, run.endedAtSeconds);
    if (run.success) m.lastSuccess.set(labels, run.endedAtSeconds);
    if (run.failure !== undefined) m.errors.inc({ ...labels, ...run.failure });

    const key = labels.check ?? "";
    for (const phase of this.#lastPhases.get(key) ?? []) {
      if (!(phase in run.phases)) m.phaseDuration.remove({ ...labels, phase });
    }
    for (const [phase, seconds] of Object.entries(run.phases)) m.phaseDuration.set({ ...labels, phase }, seconds);
    this.#lastPhases.set(key, new Set(Object.keys(run.phases)));

    const facts = run.facts;
    if (facts.smtpReplyCode !== undefined) m.smtpReplyCode.set(labels, facts.smtpReplyCode);
    if (facts.sslEarliestCertExpiry !== undefined) m.certExpiry.set(labels, facts.sslEarliestCertExpiry);
    else m.certExpiry.remove(labels);
    if (facts.mailDeliverySeconds !== undefined) m.mailDelivery.observe(labels, facts.mailDeliverySeconds);
    if (facts.mailLate !== undefined) m.mailLate.inc(labels, facts.mailLate);
    if (facts.mailUncertainSends !== undefined) m.mailUncertain.inc(labels, facts.mailUncertainSends);
    if (facts.mailJunked !== undefined) m.mailJunked.inc(labels, facts.mailJunked);
  }

  /** Counts a run that was not started. */
  recordSkip(check: string, reason: "overlap"): void {
    this.#probe.skipped.inc({ check, reason });
  }

  /** Removes every series of a check (it left the config or changed identity). */
  async removeCheck(check: string): Promise<void> {
    this.#lastPhases.delete(check);
    for (const metric of Object.values(this.#probe)) {
      const { values } = await metric.get();
      const seen = new Set<string>();
      for (const { labels } of values) {
        if (labels.check !== check) continue;
        const { le, ...rest } = labels as Record<string, string | number>;
        const id = JSON.stringify(rest);
        if (seen.has(id)) continue;
        seen.add(id);
        metric.remove(rest as Record<string, string>);
      }
    }
  }
}
