/**
 * A compact store for the per-check probe families. prom-client keeps a hash string and a labels object per series
 * and builds sample objects on every scrape: at 10,000 checks that is most of the agent's heap and of a scrape's
 * time. Here a check renders its label block once (when it is added or its labels change), each family keeps plain
 * numbers per check, and /metrics concatenates prefix and value. A family still registers in prom-client's Registry,
 * with the `get()` prom-client calls, so `registry.metrics()` and the metric reference see it like any other.
 */
import { escapeLabelValue, valueText, type SampleSink } from "./exposition.js";

/** The kinds of family the store holds. */
export type StoreFamilyType = "gauge" | "counter" | "histogram";

/** Label values beyond the check's (a phase, a result, a fact's own labels), interned per family and rendered once. */
export interface OwnLabels {
  /** `,name="value"…`, or "" when there are none. */
  readonly text: string;
  readonly labels: Readonly<Record<string, string>>;
}

const NO_OWN: OwnLabels = Object.freeze({ text: "", labels: Object.freeze({}) });

interface ScalarSeries {
  readonly own: OwnLabels;
  value: number;
}

interface HistogramSeries {
  /** Per bucket, not cumulative; the +Inf bucket is `count`. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A family's data for one check: the value itself when the family has no labels of its own (most have none), else
 * its series in an array of exact length (replaced, never grown: a grown array keeps 16 spare slots, which at ten
 * series families a check was most of the store's memory). */
type FamilyData = number | readonly ScalarSeries[] | HistogramSeries;

/** One check's series identity and values: its label block, rendered once, and one slot per family. */
export class CheckSeries {
  readonly name: string;
  /** The probe labels; undefined for a check known only by name (a skip recorded before its first init). */
  labels: Readonly<Record<string, string>> | undefined;
  /** `check="…",kind="…",…` of `labels`. */
  text = "";
  /** `check="…"`, for families labelled by check alone. */
  readonly checkText: string;
  readonly data: (FamilyData | undefined)[];

  /** `slots`: how many families the store has, so `data` is allocated once at its size. */
  constructor(name: string, labels: Readonly<Record<string, string>> | undefined, slots = 0) {
    this.name = name;
    this.data = new Array<FamilyData | undefined>(slots).fill(undefined);
    this.checkText = `check="${escapeLabelValue(name)}"`;
    if (labels !== undefined) this.setLabels(labels);
  }

  /** Sets the probe labels (and renders them). */
  setLabels(labels: Readonly<Record<string, string>>): void {
    this.labels = labels;
    this.text = renderPairs(labels);
  }
}

/** Which labels a family's series carry before their own. */
export type FamilyBase =
  /** The check's probe labels. */
  | { readonly type: "probe" }
  /** The check label alone. */
  | { readonly type: "check" }
  /** The probe labels without the named ones (a labelled fact's own label takes the place of a configured one). */
  | { readonly type: "probe-without"; readonly names: ReadonlySet<string> };

/** What a family is declared with. */
export interface StoreFamilyOptions {
  readonly name: string;
  readonly help: string;
  readonly type: StoreFamilyType;
  /** The label names, in exposition order (for the metric reference). */
  readonly labelNames: readonly string[];
  readonly base: FamilyBase;
  readonly buckets?: readonly number[];
}

/** How often (in checks) rendering asks whether to yield. */
const YIELD_EVERY = 128;

/**
 * One metric family over every check of `checks`; its slot in each check's `data` is `index`. Writers are
 * synchronous; once a check's series exist they allocate at most a number.
 */
export class StoreFamily {
  /** Writable: prom-client's OpenMetrics `registry.metrics()` renames counter families in place. */
  name: string;
  readonly help: string;
  readonly type: StoreFamilyType;
  readonly labelNames: readonly string[];
  readonly aggregator = "sum";
  readonly #base: FamilyBase;
  readonly #buckets: readonly number[];
  readonly #bucketText: readonly string[];
  readonly #index: number;
  readonly #checks: ReadonlyMap<string, CheckSeries>;
  readonly #own = new Map<string, OwnLabels>();
  /** The base label block of a check under a `probe-without` base, by check (they differ from `text` only there). */
  readonly #withoutText = new WeakMap<CheckSeries, string>();

  constructor(options: StoreFamilyOptions, index: number, checks: ReadonlyMap<string, CheckSeries>) {
    this.name = options.name;
    this.help = options.help;
    this.type = options.type;
    this.labelNames = options.labelNames;
    this.#base = options.base;
    this.#buckets = options.buckets ?? [];
    this.#bucketText = this.#buckets.map((b) => `le="${valueText(b)}",`);
    this.#index = index;
    this.#checks = checks;
  }

  /** The interned own labels for `names`/`values` (same order each call). */
  own(names: readonly string[], values: readonly string[]): OwnLabels {
    if (names.length === 0) return NO_OWN;
    const key = values.length === 1 ? (values[0] ?? "") : values.join("\u0000");
    let own = this.#own.get(key);
    if (own === undefined) {
      const labels = Object.fromEntries(names.map((n, i) => [n, values[i] ?? ""]));
      own = Object.freeze({ text: `,${renderPairs(labels)}`, labels: Object.freeze(labels) });
      this.#own.set(key, own);
    }
    return own;
  }

  /** Sets a gauge series (created if missing, keeping its place otherwise). */
  set(check: CheckSeries, own: OwnLabels, value: number): void {
    if (own === NO_OWN) {
      check.data[this.#index] = value;
      return;
    }
    const series = this.#scalars(check);
    for (const s of series) {
      if (s.own === own) {
        s.value = value;
        return;
      }
    }
    check.data[this.#index] = [...series, { own, value }];
  }

  /** Adds to a counter series (adding 0 creates it). */
  inc(check: CheckSeries, own: OwnLabels, amount: number): void {
    if (own === NO_OWN) {
      const before = check.data[this.#index];
      check.data[this.#index] = (typeof before === "number" ? before : 0) + amount;
      return;
    }
    const series = this.#scalars(check);
    for (const s of series) {
      if (s.own === own) {
        s.value += amount;
        return;
      }
    }
    check.data[this.#index] = [...series, { own, value: amount }];
  }

  /** Removes one series of a check. */
  remove(check: CheckSeries, own: OwnLabels): void {
    this.retain(check, (o) => o !== own);
  }

  /** Removes the series of a check whose own labels `keep` refuses. */
  retain(check: CheckSeries, keep: (own: OwnLabels) => boolean): void {
    const data = check.data[this.#index];
    if (typeof data === "number") {
      if (!keep(NO_OWN)) check.data[this.#index] = undefined;
      return;
    }
    if (!isScalars(data) || data.every((s) => keep(s.own))) return;
    check.data[this.#index] = data.filter((s) => keep(s.own));
  }

  /** Records one value in a histogram. */
  observe(check: CheckSeries, value: number): void {
    let h = check.data[this.#index];
    if (h === undefined || typeof h === "number" || isScalars(h)) {
      h = { counts: new Float64Array(this.#buckets.length), sum: 0, count: 0 };
      check.data[this.#index] = h;
    }
    const at = this.#buckets.findIndex((b) => value <= b);
    if (at >= 0) h.counts[at] = (h.counts[at] ?? 0) + 1;
    h.sum += value;
    h.count++;
  }

  /** Drops every series of every check (prom-client's `reset`). */
  reset(): void {
    for (const check of this.#checks.values()) check.data[this.#index] = undefined;
  }

  /** Writes the family's samples, one line each, yielding through `maybeYield` every few checks. */
  async renderSamples(out: SampleSink, sampleName: string, maybeYield: () => Promise<void>): Promise<void> {
    let n = 0;
    for (const check of this.#checks.values()) {
      if ((++n & (YIELD_EVERY - 1)) === 0) await maybeYield();
      const data = check.data[this.#index];
      if (data === undefined) continue;
      const base = this.#baseText(check);
      if (base === undefined) continue;
      if (typeof data === "number") {
        out.write(`${sampleName}{${base}} ${valueText(data)}\n`);
        continue;
      }
      if (isScalars(data)) {
        for (const s of data) out.write(`${sampleName}{${base}${s.own.text}} ${valueText(s.value)}\n`);
        continue;
      }
      let cumulative = 0;
      for (let i = 0; i < this.#bucketText.length; i++) {
        cumulative += data.counts[i] ?? 0;
        out.write(`${this.name}_bucket{${this.#bucketText[i] ?? ""}${base}} ${valueText(cumulative)}\n`);
      }
      out.write(`${this.name}_bucket{le="+Inf",${base}} ${valueText(data.count)}\n`);
      out.write(`${this.name}_sum{${base}} ${valueText(data.sum)}\n`);
      out.write(`${this.name}_count{${base}} ${valueText(data.count)}\n`);
    }
  }

  /** prom-client's view of the family (samples as objects): for `registry.metrics()` and tests, not /metrics. */
  get(): Promise<{ name: string; help: string; type: string; values: unknown[]; aggregator: string }> {
    const values: unknown[] = [];
    for (const check of this.#checks.values()) {
      const data = check.data[this.#index];
      const base = this.#baseLabels(check);
      if (data === undefined || base === undefined) continue;
      if (typeof data === "number") {
        values.push({ labels: { ...base }, value: data });
        continue;
      }
      if (isScalars(data)) {
        for (const s of data) values.push({ labels: { ...base, ...s.own.labels }, value: s.value });
        continue;
      }
      let cumulative = 0;
      const bucket = (le: number | string, value: number) => ({
        labels: { le },
        sharedLabels: base,
        value,
        metricName: `${this.name}_bucket`,
      });
      this.#buckets.forEach((b, i) => values.push(bucket(b, (cumulative += data.counts[i] ?? 0))));
      values.push(bucket("+Inf", data.count));
      values.push({ labels: {}, sharedLabels: base, value: data.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: base, value: data.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  #scalars(check: CheckSeries): readonly ScalarSeries[] {
    const data = check.data[this.#index];
    return isScalars(data) ? data : [];
  }

  #baseText(check: CheckSeries): string | undefined {
    const base = this.#base;
    if (base.type === "check") return check.checkText;
    if (check.labels === undefined) return undefined;
    if (base.type === "probe") return check.text;
    let text = this.#withoutText.get(check);
    if (text === undefined) {
      text = renderPairs(this.#baseLabels(check) ?? {});
      this.#withoutText.set(check, text);
    }
    return text;
  }

  #baseLabels(check: CheckSeries): Readonly<Record<string, string>> | undefined {
    const base = this.#base;
    if (base.type === "check") return { check: check.name };
    if (check.labels === undefined || base.type === "probe") return check.labels;
    return Object.fromEntries(Object.entries(check.labels).filter(([name]) => !base.names.has(name)));
  }
}

function isScalars(data: FamilyData | undefined): data is readonly ScalarSeries[] {
  return Array.isArray(data);
}

/** `a="x",b="y"` of a labels object, in its key order. */
export function renderPairs(labels: Readonly<Record<string, string>>): string {
  // join() makes one flat string: the block is kept for the check's life and copied into every line.
  return Object.entries(labels)
    .map(([key, value]) => `${key}="${escapeLabelValue(value)}"`)
    .join(",");
}
