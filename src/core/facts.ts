/**
 * Facts: what a run reports besides success and phases (a reply code, a delivery time, a hit count). A kind declares
 * the facts it reports; the engine derives metrics, `once` output and the README's metric table from the declarations,
 * so a new kind with new numbers needs no edit in src/.
 */

/** How a fact becomes a metric. */
export const FACT_TYPES = ["gauge", "counter", "histogram"] as const;
/** One fact type. */
export type FactType = (typeof FACT_TYPES)[number];

/** A declared fact; the object itself is the typed handle a probe writes through. */
export interface Fact<T extends FactType = FactType> {
  /** Metric name, `probe_` first and Prometheus suffixes (`_seconds`, `_total`, `_timestamp_seconds`) last. */
  readonly metric: string;
  readonly type: T;
  /** The metric's HELP text: one sentence. */
  readonly help: string;
  /** `once` output key: the metric name without `probe_` and `_total`. */
  readonly key: string;
  /** Histograms: bucket upper bounds, ascending. */
  readonly buckets?: readonly number[];
  /** Gauges: how several reports in one run combine (`min`: e.g. the earliest certificate expiry of two sessions). */
  readonly merge?: "last" | "min";
  /** Gauges: drop the series when a run does not report the fact (no TLS this run → no certificate expiry). */
  readonly isClearedWhenUnreported?: boolean;
}

const METRIC_NAME = /^probe_[a-z][a-z0-9_]*$/;

function fact<T extends FactType>(metric: string, type: T, help: string, extra: Partial<Fact<T>> = {}): Fact<T> {
  if (!METRIC_NAME.test(metric)) throw new TypeError(`fact metric ${metric} must match ${METRIC_NAME.source}`);
  if (type === "counter" && !metric.endsWith("_total")) throw new TypeError(`counter ${metric} must end in _total`);
  if (type !== "counter" && metric.endsWith("_total")) throw new TypeError(`${type} ${metric} must not end in _total`);
  const key = metric.replace(/^probe_/, "").replace(/_total$/, "");
  return Object.freeze({ metric, type, help, key, ...extra });
}

/** Declares a gauge: the last value of a run (or the smallest, with `merge: "min"`). */
export function gaugeFact(
  metric: string,
  help: string,
  options: { merge?: "last" | "min"; isClearedWhenUnreported?: boolean } = {},
): Fact<"gauge"> {
  return fact(metric, "gauge", help, options);
}

/** Declares a counter: a run adds to it (adding 0 creates the series). */
export function counterFact(metric: string, help: string): Fact<"counter"> {
  return fact(metric, "counter", help);
}

/** Declares a histogram: a run observes at most one value. */
export function histogramFact(metric: string, help: string, buckets: readonly number[]): Fact<"histogram"> {
  if (buckets.length === 0 || buckets.some((b, i) => i > 0 && b <= (buckets[i - 1] ?? b))) {
    throw new TypeError(`histogram ${metric} needs ascending buckets`);
  }
  return fact(metric, "histogram", help, { buckets: Object.freeze([...buckets]) });
}

/** Writes a run's facts; only facts the kind declared are accepted. */
export interface FactRecorder {
  set(fact: Fact<"gauge">, value: number): void;
  add(fact: Fact<"counter">, amount?: number): void;
  observe(fact: Fact<"histogram">, value: number): void;
  /** The value reported so far for `fact` in this run. */
  get(fact: Fact): number | undefined;
}

/** The facts one run reported, in the order first reported. */
export type FactValues = ReadonlyMap<Fact, number>;

/** A recorder for one run of a kind that declared `declared`, and a way to read what it recorded. */
export function createFactRecorder(declared: readonly Fact[]): { recorder: FactRecorder; values(): FactValues } {
  const allowed = new Set(declared);
  const values = new Map<Fact, number>();
  const check = (f: Fact, value: number): void => {
    // A fact the kind did not declare has no metric: a programming error, found by the kind's own tests.
    if (!allowed.has(f)) throw new TypeError(`fact ${f.metric} is not declared by this kind`);
    if (!Number.isFinite(value)) throw new TypeError(`fact ${f.metric} got ${value}`);
  };
  const recorder: FactRecorder = {
    set(f, value) {
      check(f, value);
      const before = values.get(f);
      values.set(f, f.merge === "min" && before !== undefined ? Math.min(before, value) : value);
    },
    add(f, amount = 1) {
      check(f, amount);
      if (amount < 0) throw new TypeError(`counter ${f.metric} cannot decrease`);
      values.set(f, (values.get(f) ?? 0) + amount);
    },
    observe(f, value) {
      check(f, value);
      values.set(f, value);
    },
    get: (f) => values.get(f),
  };
  return { recorder, values: () => new Map(values) };
}

/** Every distinct fact of the kinds, in registry and declaration order; one metric name means one declaration. */
export function collectFacts(kinds: readonly { id: string; facts: readonly Fact[] }[]): Fact[] {
  const byMetric = new Map<string, Fact>();
  for (const kind of kinds) {
    for (const f of kind.facts) {
      const seen = byMetric.get(f.metric);
      if (seen === undefined) byMetric.set(f.metric, f);
      else if (seen !== f) throw new TypeError(`fact ${f.metric} of kind ${kind.id} is declared twice, differently`);
    }
  }
  return [...byMetric.values()];
}

/** A run's facts under their `once` keys. */
export function factRecord(values: FactValues): Record<string, number> {
  return Object.fromEntries([...values].map(([f, value]) => [f.key, value]));
}
