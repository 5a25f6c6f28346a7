import { Gauge, Histogram, collectDefaultMetrics, type Registry } from "prom-client";
import type { Fact, FactValues, LabelledFactValues } from "../core/facts.js";
import { CheckSeries, StoreFamily, renderPairs, type StoreFamilyOptions } from "./series-store.js";

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
const ERROR_LABELS = ["class", "code", "phase", "side"] as const;

/** Optional metric families; the defaults keep a check at about a dozen series. */
export interface MetricsOptions {
  /** `probe_run_duration_seconds`: 17 series per check (14 buckets, +Inf, sum, count), so off unless asked for. */
  runDurationHistogram: boolean;
  /** `probe_last_success_timestamp_seconds`: while a check succeeds it equals the last-run timestamp, and no rule or
   * panel reads it, so it is a series per check only when asked for. */
  lastSuccessTimestamp: boolean;
}

/** The defaults of `agent.metrics`. */
export const DEFAULT_METRICS_OPTIONS: MetricsOptions = { runDurationHistogram: false, lastSuccessTimestamp: false };

type AddFamily = (options: StoreFamilyOptions) => StoreFamily;

/** One family per declared fact, with the probe labels; a labelled fact's own labels come last and take the place
 * of a configured label of the same name (the fact knows its value better than a constant would). */
function factFamily(f: Fact, probeLabelNames: readonly string[], add: AddFamily): StoreFamily {
  const own = (f.labels ?? []).map((l) => l.name);
  const replaced = new Set(probeLabelNames.filter((n) => own.includes(n)));
  return add({
    name: f.metric,
    help: f.help,
    type: f.type,
    labelNames: [...probeLabelNames.filter((n) => !replaced.has(n)), ...own],
    base: replaced.size === 0 ? { type: "probe" } : { type: "probe-without", names: replaced },
    ...(f.buckets !== undefined && { buckets: f.buckets }),
  });
}

function probeFamilies(add: AddFamily, extra: readonly string[], facts: readonly Fact[], options: MetricsOptions) {
  const labelNames = [...PROBE_LABELS, ...extra];
  const probe = { type: "probe" } as const;
  const gauge = (name: string, help: string, own: readonly string[] = []) =>
    add({ name, help, type: "gauge", labelNames: [...labelNames, ...own], base: probe });
  const counter = (name: string, help: string, own: readonly string[]) =>
    add({ name, help, type: "counter", labelNames: [...labelNames, ...own], base: probe });
  return {
    success: gauge("probe_success", "1 if the last run succeeded, 0 if it failed."),
    duration: gauge("probe_duration_seconds", "Duration of the last run."),
    phaseDuration: gauge("probe_phase_duration_seconds", "Duration of each phase of the last run.", ["phase"]),
    runs: counter(
      "probe_runs_total",
      "Runs by result (success, failure; throttled: the API asked to back off, not counted as a failure).",
      ["result"],
    ),
    errors: counter(
      "probe_errors_total",
      "Failed runs by error class, code (enhanced status, reply or HTTP code, or none), failing phase and side (provider, network, config, unknown; derived from class and code).",
      ERROR_LABELS,
    ),
    runDuration: options.runDurationHistogram
      ? add({
          name: "probe_run_duration_seconds",
          help: "Duration of runs (only with agent.metrics.run_duration_histogram: true).",
          type: "histogram",
          labelNames,
          base: probe,
          buckets: RUN_BUCKETS,
        })
      : undefined,
    lastRun: gauge("probe_last_run_timestamp_seconds", "Unix time the last run ended."),
    lastSuccess: options.lastSuccessTimestamp
      ? gauge(
          "probe_last_success_timestamp_seconds",
          "Unix time the last successful run ended (only with agent.metrics.last_success_timestamp: true).",
        )
      : undefined,
    // Created here so the exposition keeps its order: run metrics, the kinds' facts, then agent counters.
    facts: new Map(facts.map((f) => [f, factFamily(f, labelNames, add)])),
    throttled: gauge(
      "probe_throttled",
      "1 while the check's runs are held because its API asked to back off (429, or 503 with Retry-After).",
    ),
    skipped: add({
      name: "suiteprobe_runs_skipped_total",
      help: "Runs not started, by reason (overlap: the previous run was still going; throttled: the API asked to back off).",
      type: "counter",
      labelNames: ["check", "reason"],
      base: { type: "check" },
    }),
  };
}

type ProbeFamilies = ReturnType<typeof probeFamilies>;

/**
 * Every metric suiteprobe exposes, on one explicit registry. The agent's own metrics are prom-client's; the per-check
 * probe families live in a compact series store (series-store.ts) registered on the same registry.
 */
export class Metrics {
  readonly registry: Registry;
  readonly lag: Histogram;
  readonly reloadSuccessful: Gauge;
  readonly reloadTimestamp: Gauge;
  readonly checksByKind: Gauge;
  readonly #shardInfo: Gauge;
  /** Each check's series by check name, in the order checks were first seen (the order of their lines). */
  #checks = new Map<string, CheckSeries>();
  #families: StoreFamily[] = [];
  #probe: ProbeFamilies;
  readonly #facts: readonly Fact[];
  #extraLabels: readonly string[] = [];
  #options: MetricsOptions = DEFAULT_METRICS_OPTIONS;
  #generation = 0;

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
    this.#probe = this.#build([]);
  }

  /** Changes with every re-creation of the probe metrics: their series start over and checks must be initialised. */
  get generation(): number {
    return this.#generation;
  }

  /** Sets the optional families; if they change, probe metrics are re-created (their series start over). */
  setOptions(options: MetricsOptions): void {
    const o = this.#options;
    if (
      options.runDurationHistogram === o.runDurationHistogram &&
      options.lastSuccessTimestamp === o.lastSuccessTimestamp
    ) {
      return;
    }
    this.#options = { ...options };
    this.#rebuild(this.#extraLabels);
  }

  /** Sets the configured label names; if they change, probe metrics are re-created (their series start over). */
  setExtraLabels(names: readonly string[]): void {
    const sorted = [...new Set(names)].sort();
    if (sorted.join(",") === this.#extraLabels.join(",")) return;
    this.#rebuild(sorted);
  }

  #build(extraLabels: readonly string[]): ProbeFamilies {
    const families: StoreFamily[] = [];
    const add: AddFamily = (options) => {
      const family = new StoreFamily(options, families.length, this.#checks);
      families.push(family);
      // The registry renders families in the order they were registered; prom-client's formatter and the metric
      // reference read them through the same get()/name/help/type as its own metrics.
      this.registry.registerMetric(family as unknown as Gauge);
      return family;
    };
    const probe = probeFamilies(add, extraLabels, this.#facts, this.#options);
    this.#families = families;
    return probe;
  }

  #rebuild(extraLabels: readonly string[]): void {
    for (const family of this.#families) this.registry.removeSingleMetric(family.name);
    // A scrape in flight may still hold the old families: they keep the old (emptied) map, so they render nothing
    // rather than reading new checks' slots, which may belong to other families now.
    this.#checks.clear();
    this.#checks = new Map();
    this.#probe = this.#build(extraLabels);
    this.#extraLabels = extraLabels;
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

  /** The series of the check `labels` name. The agent passes one labels object per check and config, so the usual
   * case is one map lookup; other labels for the same check name are a new identity: its old series go. */
  #check(labels: SeriesLabels): CheckSeries {
    const name = labels.check ?? "";
    let check = this.#checks.get(name);
    if (check?.labels === labels) return check;
    if (check === undefined) {
      check = new CheckSeries(name, labels, this.#families.length);
      this.#checks.set(name, check);
    } else if (check.labels === undefined || renderPairs(labels) === check.text) {
      check.setLabels(labels);
    } else {
      // Delete first, so the check's lines move to the end like prom-client's re-created series.
      this.#checks.delete(name);
      check = new CheckSeries(name, labels, this.#families.length);
      this.#checks.set(name, check);
    }
    return check;
  }

  /** Creates a check's series that must exist before its first run (run counters at 0); a check that can be
   * throttled also gets its throttle series. An overlap skip has no series until the first one: a run's timeout is
   * shorter than its interval, so only a starved agent skips for overlap, and then it skips many runs. */
  initCheck(labels: SeriesLabels, canBeThrottled = false): void {
    const m = this.#probe;
    const check = this.#check(labels);
    m.runs.inc(check, m.runs.own(["result"], ["success"]), 0);
    m.runs.inc(check, m.runs.own(["result"], ["failure"]), 0);
    if (canBeThrottled) {
      m.runs.inc(check, m.runs.own(["result"], ["throttled"]), 0);
      m.skipped.inc(check, m.skipped.own(["reason"], ["throttled"]), 0);
      m.throttled.set(check, m.throttled.own([], []), 0);
    }
  }

  /** Whether the check's runs are being held by a throttle. */
  setThrottled(labels: SeriesLabels, isHeld: boolean): void {
    const m = this.#probe;
    m.throttled.set(this.#check(labels), m.throttled.own([], []), isHeld ? 1 : 0);
  }

  /** Records one finished run. */
  recordRun(labels: SeriesLabels, run: RunRecord): void {
    const m = this.#probe;
    const check = this.#check(labels);
    const none = m.success.own([], []);
    m.success.set(check, none, run.success ? 1 : 0);
    m.duration.set(check, none, run.durationSeconds);
    m.runDuration?.observe(check, run.durationSeconds);
    const result = run.success ? "success" : run.isThrottled === true ? "throttled" : "failure";
    m.runs.inc(check, m.runs.own(["result"], [result]), 1);
    m.lastRun.set(check, none, run.endedAtSeconds);
    if (run.success) m.lastSuccess?.set(check, none, run.endedAtSeconds);
    if (run.failure !== undefined) {
      const { class: cls, code, phase, side } = run.failure;
      m.errors.inc(check, m.errors.own(ERROR_LABELS, [cls, code, phase, side]), 1);
    }

    // A shorter run leaves no stale phase series.
    m.phaseDuration.retain(check, (own) => (own.labels.phase ?? "") in run.phases);
    for (const phase in run.phases) {
      m.phaseDuration.set(check, m.phaseDuration.own(["phase"], [phase]), run.phases[phase] ?? 0);
    }

    for (const f of run.declaredFacts) {
      const family = m.facts.get(f);
      if (family === undefined) continue;
      if (f.labels !== undefined) {
        this.#recordLabelled(check, f, family, run);
        continue;
      }
      const value = run.facts.get(f);
      if (value === undefined) {
        if (f.isClearedWhenUnreported === true) family.remove(check, none);
        continue;
      }
      if (f.type === "gauge") family.set(check, none, value);
      else if (f.type === "counter") family.inc(check, none, value);
      else family.observe(check, value);
    }
  }

  /** A labelled fact's series are exactly the combinations the run reported: the others are removed. */
  #recordLabelled(check: CheckSeries, f: Fact, family: StoreFamily, run: RunRecord): void {
    const names = (f.labels ?? []).map((l) => l.name);
    const series = run.labelledFacts?.get(f) ?? [];
    const owns = series.map((s) =>
      family.own(
        names,
        names.map((n) => s.labels[n] ?? ""),
      ),
    );
    const reported = new Set(owns);
    family.retain(check, (own) => reported.has(own));
    series.forEach((s, i) => {
      const own = owns[i];
      if (own !== undefined) family.set(check, own, s.value);
    });
  }

  /** Counts a run that was not started. */
  recordSkip(name: string, reason: "overlap" | "throttled"): void {
    let check = this.#checks.get(name);
    if (check === undefined) {
      check = new CheckSeries(name, undefined, this.#families.length);
      this.#checks.set(name, check);
    }
    const skipped = this.#probe.skipped;
    skipped.inc(check, skipped.own(["reason"], [reason]), 1);
  }

  /** Removes every series of a check (it left the config or changed identity). */
  removeCheck(name: string): void {
    this.#checks.delete(name);
  }
}
