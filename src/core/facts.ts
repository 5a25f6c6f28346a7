/**
 * Facts: what a run reports besides success and phases (a reply code, a delivery time, a hit count). A kind declares
 * the facts it reports; the engine derives metrics, `once` output and the README's metric table from the declarations,
 * so a new kind with new numbers needs no edit in src/.
 */

/** How a fact becomes a metric. */
export const FACT_TYPES = ["gauge", "counter", "histogram"] as const;
/** One fact type. */
export type FactType = (typeof FACT_TYPES)[number];

/**
 * An extra label of a labelled gauge and the values it may take: a closed set, or values the check's settings name
 * (e.g. the services a check is configured to watch). Either way the series stay few and come from code or config.
 */
export type FactLabel =
  | { readonly name: string; readonly values: readonly string[] }
  | { readonly name: string; valuesFrom(settings: unknown): readonly string[] };

/** A declared fact; the object itself is the typed handle a probe writes through. */
export interface Fact<T extends FactType = FactType> {
  /** Metric name, `probe_` (or another prefix of the kind's domain) first and Prometheus suffixes last. */
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
  /** Labelled gauges: extra labels after the probe labels; a run reports one value per label combination, and the
   * combinations it did not report are removed (a status that changed leaves no stale series at 1). */
  readonly labels?: readonly FactLabel[];
}

// `suiteprobe_` names are the agent's own metrics; a fact names what a probe observed.
const METRIC_NAME = /^(?!suiteprobe_)[a-z][a-z0-9]*_[a-z0-9_]+$/;
const LABEL_NAME = /^[a-z][a-z0-9_]*$/;
/** Label names a labelled fact may not use: the engine's own, and `value` (the `once` output's key for the number). */
const RESERVED_FACT_LABELS = ["check", "kind", "target", "location", "phase", "le", "quantile", "value"];

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

/**
 * Declares a labelled gauge: a run reports a value per combination of `labels` (`ctx.facts.setLabelled`); series of
 * combinations the latest run did not report are removed. Label values are bounded by the declaration.
 */
export function labelledGaugeFact(metric: string, help: string, labels: readonly FactLabel[]): Fact<"gauge"> {
  const names = labels.map((l) => l.name);
  for (const name of names) {
    if (!LABEL_NAME.test(name) || RESERVED_FACT_LABELS.includes(name)) {
      throw new TypeError(`fact ${metric}: label ${name} is not allowed`);
    }
  }
  if (names.length === 0 || new Set(names).size !== names.length) {
    throw new TypeError(`fact ${metric} needs distinct label names`);
  }
  return fact(metric, "gauge", help, { labels: Object.freeze([...labels]) });
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
  /** Sets a labelled gauge for one combination of its declared labels (every label, each a declared value). */
  setLabelled(fact: Fact<"gauge">, labels: Readonly<Record<string, string>>, value: number): void;
}

/** The facts one run reported, in the order first reported. */
export type FactValues = ReadonlyMap<Fact, number>;

/** One reported series of a labelled fact. */
export interface LabelledValue {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The labelled facts one run reported, each with its series in the order first reported. */
export type LabelledFactValues = ReadonlyMap<Fact, readonly LabelledValue[]>;

/** The values each label of a labelled fact may take for a check with `settings`. */
function allowedLabelValues(f: Fact, settings: unknown): Map<string, Set<string>> {
  return new Map(
    (f.labels ?? []).map((l) => [l.name, new Set("values" in l ? l.values : l.valuesFrom(settings))] as const),
  );
}

/** A recorder for one run of a kind that declared `declared`, and a way to read what it recorded. `settings` are
 * the check's, for labels whose values come from them. */
export function createFactRecorder(
  declared: readonly Fact[],
  settings?: unknown,
): { recorder: FactRecorder; values: () => FactValues; labelled: () => LabelledFactValues } {
  const allowed = new Set(declared);
  const values = new Map<Fact, number>();
  const labelled = new Map<Fact, Map<string, LabelledValue>>();
  const labelBounds = new Map<Fact, Map<string, Set<string>>>();
  const check = (f: Fact, value: number): void => {
    // A fact the kind did not declare has no metric: a programming error, found by the kind's own tests.
    if (!allowed.has(f)) throw new TypeError(`fact ${f.metric} is not declared by this kind`);
    if (!Number.isFinite(value)) throw new TypeError(`fact ${f.metric} got ${value}`);
  };
  const checkUnlabelled = (f: Fact): void => {
    if (f.labels !== undefined) throw new TypeError(`fact ${f.metric} has labels: use setLabelled`);
  };
  const recorder: FactRecorder = {
    set(f, value) {
      check(f, value);
      checkUnlabelled(f);
      const before = values.get(f);
      values.set(f, f.merge === "min" && before !== undefined ? Math.min(before, value) : value);
    },
    add(f, amount = 1) {
      check(f, amount);
      checkUnlabelled(f);
      if (amount < 0) throw new TypeError(`counter ${f.metric} cannot decrease`);
      values.set(f, (values.get(f) ?? 0) + amount);
    },
    observe(f, value) {
      check(f, value);
      checkUnlabelled(f);
      values.set(f, value);
    },
    get: (f) => values.get(f),
    setLabelled(f, labels, value) {
      check(f, value);
      if (f.labels === undefined) throw new TypeError(`fact ${f.metric} has no labels: use set`);
      let bounds = labelBounds.get(f);
      if (bounds === undefined) {
        bounds = allowedLabelValues(f, settings);
        labelBounds.set(f, bounds);
      }
      const names = Object.keys(labels);
      if (names.length !== bounds.size)
        throw new TypeError(`fact ${f.metric} needs labels ${[...bounds.keys()].join(", ")}`);
      for (const [name, valuesOf] of bounds) {
        const given = labels[name];
        // An unbounded value would be a new series per run: refused like an undeclared fact.
        if (given === undefined || !valuesOf.has(given)) {
          throw new TypeError(`fact ${f.metric}: label ${name}="${given}" is not a declared value`);
        }
      }
      const ordered = Object.fromEntries([...bounds.keys()].map((name) => [name, labels[name] ?? ""]));
      const series = labelled.get(f) ?? new Map<string, LabelledValue>();
      series.set(JSON.stringify(ordered), { labels: ordered, value });
      labelled.set(f, series);
    },
  };
  return {
    recorder,
    values: () => new Map(values),
    labelled: () => new Map([...labelled].map(([f, series]) => [f, [...series.values()]])),
  };
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

/** A run's labelled facts under their `once` keys: one object per series, its labels and `value`. */
export function labelledFactRecord(values: LabelledFactValues): Record<string, Record<string, string | number>[]> {
  return Object.fromEntries(
    [...values].map(([f, series]) => [f.key, series.map((s) => ({ ...s.labels, value: s.value }))]),
  );
}
