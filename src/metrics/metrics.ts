import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from "prom-client";
import type { Fact, FactValues, LabelledFactValues } from "../core/facts.js";

/** The labels every probe series carries, before configured ones. */
export const PROBE_LABELS = ["check", "kind", "target", "location"] as const;

/** Identity of one check's series: the probe labels plus configured labels (union over all checks, "" if unset). */
export type SeriesLabels = Record<string, string>;

/** What one finished run reports to the metrics. */
export interface RunRecord {
  success: boolean;
  durationSeconds: number;
  phases: Record<string, number>;
  facts: FactValues;
  /** Series of labelled facts; a combination reported last run and not this run is removed. */
  labelledFacts?: LabelledFactValues;
  /** The facts the check's kind declares: a gauge it did not report this run may need clearing. */
  declaredFacts: readonly Fact[];
  endedAtSeconds: number;
  failure?: { class: string; code: string; phase: string; side: string };
  /** The API answered "back off" (429, Slack ratelimited) and holds the check: counted as result="throttled", not
   * as a failure, so throttling never reads as an outage; its error is still counted. */
  isThrottled?: boolean;
}

const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type FactMetric = Gauge | Counter | Histogram;

/** One metric per declared fact, with the probe labels; a labelled fact's own labels come last and take the place
 * of a configured label of the same name (the fact knows its value better than a constant would). */
function factMetric(f: Fact, probeLabelNames: readonly string[], registry: Registry): FactMetric {
  const own = (f.labels ?? []).map((l) => l.name);
  const labelNames = [...probeLabelNames.filter((n) => !own.includes(n)), ...own];
  const common = { name: f.metric, help: f.help, labelNames, registers: [registry] };
  switch (f.type) {
    case "gauge":
      return new Gauge(common);
    case "counter":
      return new Counter(common);
    case "histogram":
      return new Histogram({ ...common, buckets: [...(f.buckets ?? [])] });
  }
}

/** Optional metric families; the defaults keep a check at about a dozen series. */
export interface MetricsOptions {
  /** `probe_run_duration_seconds`: 17 series per check (14 buckets, +Inf, sum, count), so off unless asked for. */
  runDurationHistogram: boolean;
}

/** The defaults of `agent.metrics`. */
export const DEFAULT_METRICS_OPTIONS: MetricsOptions = { runDurationHistogram: false };

function probeMetrics(registry: Registry, extra: readonly string[], facts: readonly Fact[], options: MetricsOptions) {
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
      help: "Runs by result (success, failure; throttled: the API asked to back off, not counted as a failure).",
      labelNames: [...labelNames, "result"],
      registers,
    }),
    errors: new Counter({
      name: "probe_errors_total",
      help: "Failed runs by error class, code (enhanced status, reply or HTTP code, or none), failing phase and side (provider, network, config, unknown; derived from class and code).",
      labelNames: [...labelNames, "class", "code", "phase", "side"],
      registers,
    }),
    runDuration: options.runDurationHistogram
      ? new Histogram({
          name: "probe_run_duration_seconds",
          help: "Duration of runs (only with agent.metrics.run_duration_histogram: true).",
          labelNames,
          buckets: RUN_BUCKETS,
          registers,
        })
      : undefined,
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
    // Created here so the exposition keeps its order: run metrics, the kinds' facts, then agent counters.
    facts: new Map(facts.map((f) => [f, factMetric(f, labelNames, registry)])),
    throttled: new Gauge({
      name: "probe_throttled",
      help: "1 while the check's runs are held because its API asked to back off (429, or 503 with Retry-After).",
      labelNames,
      registers,
    }),
    skipped: new Counter({
      name: "suiteprobe_runs_skipped_total",
      help: "Runs not started, by reason (overlap: the previous run was still going; throttled: the API asked to back off).",
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
  readonly #shardInfo: Gauge;
  #probe: ProbeMetricSet;
  readonly #facts: readonly Fact[];
  #extraLabels: readonly string[] = [];
  #options: MetricsOptions = DEFAULT_METRICS_OPTIONS;
  #generation = 0;
  /** One labels object per check labels object and extra label, so runs do not allocate a fresh one per series
   * (prom-client keeps the object it was given; the renderer formats each object once). */
  readonly #labelsWith = new WeakMap<SeriesLabels, Map<string, SeriesLabels>>();
  /** Phases each check reported last, so a shorter run does not leave stale phase series. */
  readonly #lastPhases = new Map<string, Set<string>>();
  /** Series each check's labelled facts had after its last run, so combinations no longer reported are removed. */
  readonly #lastLabelled = new Map<string, Map<Fact, SeriesLabels[]>>();

  constructor(registry: Registry, build: { version: string; nodeVersion: string }, facts: readonly Fact[]) {
    this.registry = registry;
    this.#facts = facts;
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
    this.#shardInfo = new Gauge({
      name: "suiteprobe_shard_info",
      help: "Always 1; labels tell which shard of the check list this agent runs (shard 0 of 1: all of it).",
      labelNames: ["shard", "shards"],
      registers,
    });
    this.#shardInfo.set({ shard: "0", shards: "1" }, 1);
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
    this.#probe = probeMetrics(registry, [], facts, this.#options);
  }

  /** Changes with every re-creation of the probe metrics: their series start over and checks must be initialised. */
  get generation(): number {
    return this.#generation;
  }

  /** Sets the optional families; if they change, probe metrics are re-created (their series start over). */
  setOptions(options: MetricsOptions): void {
    if (options.runDurationHistogram === this.#options.runDurationHistogram) return;
    this.#options = { ...options };
    this.#rebuild(this.#extraLabels);
  }

  /** Sets the configured label names; if they change, probe metrics are re-created (their series start over). */
  setExtraLabels(names: readonly string[]): void {
    const sorted = [...new Set(names)].sort();
    if (sorted.join(",") === this.#extraLabels.join(",")) return;
    this.#rebuild(sorted);
  }

  #rebuild(extraLabels: readonly string[]): void {
    // prom-client keeps `name` on every metric object; its typings omit it.
    for (const metric of this.#allProbeMetrics()) {
      this.registry.removeSingleMetric((metric as unknown as { name: string }).name);
    }
    this.#probe = probeMetrics(this.registry, extraLabels, this.#facts, this.#options);
    this.#extraLabels = extraLabels;
    this.#lastPhases.clear();
    this.#lastLabelled.clear();
    this.#generation++;
  }

  /** Which shard of the check list this agent runs (`--shard i/n`). */
  setShard(shard: { index: number; count: number }): void {
    this.#shardInfo.reset();
    this.#shardInfo.set({ shard: String(shard.index), shards: String(shard.count) }, 1);
  }

  /** The configured label names in use. */
  get extraLabels(): readonly string[] {
    return this.#extraLabels;
  }

  /** Creates a check's series that must exist before its first run (run counters at 0); a check that can be
   * throttled also gets its throttle series. */
  initCheck(labels: SeriesLabels, canBeThrottled = false): void {
    const m = this.#probe;
    m.runs.inc({ ...labels, result: "success" }, 0);
    m.runs.inc({ ...labels, result: "failure" }, 0);
    m.skipped.inc({ check: labels.check ?? "", reason: "overlap" }, 0);
    if (canBeThrottled) {
      m.runs.inc({ ...labels, result: "throttled" }, 0);
      m.skipped.inc({ check: labels.check ?? "", reason: "throttled" }, 0);
      m.throttled.set(labels, 0);
    }
  }

  /** Whether the check's runs are being held by a throttle. */
  setThrottled(labels: SeriesLabels, isHeld: boolean): void {
    this.#probe.throttled.set(labels, isHeld ? 1 : 0);
  }

  /** Records one finished run. */
  recordRun(labels: SeriesLabels, run: RunRecord): void {
    const m = this.#probe;
    m.success.set(labels, run.success ? 1 : 0);
    m.duration.set(labels, run.durationSeconds);
    m.runDuration?.observe(labels, run.durationSeconds);
    m.runs.inc(
      this.#with(labels, "result", run.success ? "success" : run.isThrottled === true ? "throttled" : "failure"),
    );
    m.lastRun.set(labels, run.endedAtSeconds);
    if (run.success) m.lastSuccess.set(labels, run.endedAtSeconds);
    if (run.failure !== undefined) m.errors.inc({ ...labels, ...run.failure });

    const key = labels.check ?? "";
    for (const phase of this.#lastPhases.get(key) ?? []) {
      if (!(phase in run.phases)) m.phaseDuration.remove({ ...labels, phase });
    }
    for (const [phase, seconds] of Object.entries(run.phases)) {
      m.phaseDuration.set(this.#with(labels, "phase", phase), seconds);
    }
    this.#lastPhases.set(key, new Set(Object.keys(run.phases)));

    for (const f of run.declaredFacts) {
      const metric = m.facts.get(f);
      const value = run.facts.get(f);
      if (metric === undefined) continue;
      if (value === undefined) {
        if (f.isClearedWhenUnreported === true) metric.remove(labels);
        continue;
      }
      if (metric instanceof Gauge) metric.set(labels, value);
      else if (metric instanceof Counter) metric.inc(labels, value);
      else metric.observe(labels, value);
    }
    this.#recordLabelled(labels, run);
  }

  #recordLabelled(labels: SeriesLabels, run: RunRecord): void {
    const key = labels.check ?? "";
    const before = this.#lastLabelled.get(key) ?? new Map<Fact, SeriesLabels[]>();
    const after = new Map<Fact, SeriesLabels[]>();
    for (const f of run.declaredFacts) {
      const metric = this.#probe.facts.get(f);
      if (f.labels === undefined || !(metric instanceof Gauge)) continue;
      // The fact's own labels replace configured ones of the same name and come last, as the metric declares them.
      const own = new Set((f.labels ?? []).map((l) => l.name));
      const base = Object.fromEntries(Object.entries(labels).filter(([name]) => !own.has(name)));
      const series = (run.labelledFacts?.get(f) ?? []).map((s) => ({
        labels: { ...base, ...s.labels },
        value: s.value,
      }));
      const now = new Set(series.map((s) => JSON.stringify(s.labels)));
      for (const old of before.get(f) ?? []) if (!now.has(JSON.stringify(old))) metric.remove(old);
      for (const s of series) metric.set(s.labels, s.value);
      after.set(
        f,
        series.map((s) => s.labels),
      );
    }
    this.#lastLabelled.set(key, after);
  }

  #with(labels: SeriesLabels, name: string, value: string): SeriesLabels {
    let byValue = this.#labelsWith.get(labels);
    if (byValue === undefined) {
      byValue = new Map();
      this.#labelsWith.set(labels, byValue);
    }
    const key = `${name}\u0000${value}`;
    let withLabel = byValue.get(key);
    if (withLabel === undefined) {
      withLabel = { ...labels, [name]: value };
      byValue.set(key, withLabel);
    }
    return withLabel;
  }

  /** Counts a run that was not started. */
  recordSkip(check: string, reason: "overlap" | "throttled"): void {
    this.#probe.skipped.inc({ check, reason });
  }

  /** Removes every series of a check (it left the config or changed identity). */
  async removeCheck(check: string): Promise<void> {
    this.#lastPhases.delete(check);
    this.#lastLabelled.delete(check);
    for (const metric of this.#allProbeMetrics()) {
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

  #allProbeMetrics(): FactMetric[] {
    const { facts, ...fixed } = this.#probe;
    return [...Object.values(fixed).filter((m) => m !== undefined), ...facts.values()];
  }
}
