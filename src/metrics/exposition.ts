import type { Registry } from "prom-client";

/** The exposition formats /metrics speaks. */
export const EXPOSITION_FORMATS = ["text", "openmetrics"] as const;
/** One of EXPOSITION_FORMATS. */
export type ExpositionFormat = (typeof EXPOSITION_FORMATS)[number];

/** The content type of each format (prom-client's constants, spelled out so this module needs no value import). */
export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  text: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/** How long one slice of rendering may hold the event loop before it yields, ms. */
export const DEFAULT_SLICE_MS = 4;

/** What the renderer reads of a prom-client metric. */
interface Sample {
  value: number;
  labels?: Record<string, string | number | undefined>;
  sharedLabels?: Record<string, string | number | undefined>;
  metricName?: string;
}
interface Family {
  name: string;
  help: string;
  type: string;
  values?: Sample[];
}
interface Collectable {
  get(): Promise<Family>;
  getForPromString?(): Promise<Family>;
  /** A family that writes its own sample lines (src/metrics/series-store.ts); its name, help and type are read as
   * they are, without building a Family of sample objects. */
  renderSamples?(out: SampleSink, sampleName: string, maybeYield: () => Promise<void>): Promise<void>;
  name?: string;
  help?: string;
  type?: string;
}

/** Where sample lines go. */
export interface SampleSink {
  write(text: string): void;
}

/** Bytes of one output chunk: the text is written into buffers outside the JS heap as it is made. */
const CHUNK_BYTES = 1 << 20;
/** Characters gathered before they are copied into the chunk: one native write per batch, not per line (a call per
 * line was most of a scrape's time at 10,000 checks). */
const BATCH_CHARS = 1 << 16;

/** Collects UTF-8 text into off-heap buffers, so a large exposition leaves no mass of strings for the GC. */
class ChunkWriter implements SampleSink {
  readonly #chunks: Buffer[] = [];
  #buffer: Buffer;
  #position = 0;
  #pending = "";

  /** `firstBytes`: the size of the first buffer; when the text fits, finish() returns it without a copy. */
  constructor(firstBytes = 0) {
    this.#buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, firstBytes));
  }

  write(text: string): void {
    this.#pending += text;
    if (this.#pending.length >= BATCH_CHARS) this.#drain();
  }

  finish(): Buffer {
    this.#drain();
    if (this.#chunks.length === 0) return this.#buffer.subarray(0, this.#position);
    this.#flush();
    return Buffer.concat(this.#chunks);
  }

  #drain(): void {
    const text = this.#pending;
    this.#pending = "";
    const most = text.length * 3;
    if (this.#position + most > this.#buffer.length) this.#flush();
    if (most > this.#buffer.length) {
      this.#chunks.push(Buffer.from(text, "utf8"));
      return;
    }
    this.#position += this.#buffer.write(text, this.#position, "utf8");
  }

  #flush(): void {
    if (this.#position > 0) this.#chunks.push(this.#buffer.subarray(0, this.#position));
    this.#buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    this.#position = 0;
  }
}

/** Rendered label pairs of a labels object. The agent's prom-client metrics keep few labels objects, so a cache
 * kept across scrapes formats most series once in their life, not on every scrape; entries go with their objects. */
export type LabelCache = WeakMap<object, string>;

/**
 * Renders a registry like `registry.metrics()` does, but in slices: it yields to the event loop (setImmediate)
 * whenever a slice has run `sliceMs`, between and inside metric families, so probes and their timers wait for at most
 * one slice however many series there are. prom-client's own `metrics()` formats everything in one go (about a second
 * of blocked event loop at 10,000 checks). Families of the series store write their own lines. Values may move between
 * slices, as they may between two scrapes. `sizeHint` (bytes, e.g. the last body's) sizes the output buffer, so a
 * body of about that size is written once and not copied.
 */
export async function renderExposition(
  registry: Pick<Registry, "getMetricsAsArray">,
  format: ExpositionFormat = "text",
  sliceMs = DEFAULT_SLICE_MS,
  cache: LabelCache = new WeakMap(),
  sizeHint = 0,
): Promise<Buffer> {
  const isOpenMetrics = format === "openmetrics";
  const out = new ChunkWriter(sizeHint);
  let sliceStart = performance.now();
  const maybeYield = async (): Promise<void> => {
    if (performance.now() - sliceStart < sliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  };
  let isFirst = true;
  for (const metric of registry.getMetricsAsArray() as unknown as Collectable[]) {
    await maybeYield();
    const fast = metric.renderSamples !== undefined;
    const family: Family = fast
      ? { name: metric.name ?? "", help: metric.help ?? "", type: metric.type ?? "untyped" }
      : await (metric.getForPromString?.() ?? metric.get());
    const isCounter = family.type === "counter";
    // OpenMetrics names a counter family without `_total` and its samples with it.
    const familyName = isOpenMetrics && isCounter ? family.name.replace(/_total$/, "") : family.name;
    // The text format separates families by a blank line; OpenMetrics does not.
    if (!isFirst && !isOpenMetrics) out.write("\n");
    isFirst = false;
    out.write(`# HELP ${familyName} ${escapeHelp(family.help)}\n# TYPE ${familyName} ${family.type}\n`);
    if (fast) {
      await metric.renderSamples?.(out, isOpenMetrics && isCounter ? `${familyName}_total` : family.name, maybeYield);
      continue;
    }
    const values = family.values ?? [];
    for (let i = 0; i < values.length; i++) {
      const sample = values[i];
      if (sample === undefined) continue;
      const name = isOpenMetrics && isCounter ? `${familyName}_total` : (sample.metricName ?? family.name);
      out.write(`${name}${labelText(sample.labels, sample.sharedLabels, cache)} ${valueText(sample.value)}\n`);
      if ((i & 255) === 255) await maybeYield();
    }
  }
  if (isOpenMetrics) out.write("# EOF\n");
  return out.finish();
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** A label value escaped for the exposition formats (backslash, newline, double quote). */
export function escapeLabelValue(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"') : value;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelText(
  labels: Record<string, string | number | undefined> | undefined,
  shared: Record<string, string | number | undefined> | undefined,
  cache: LabelCache,
): string {
  // A histogram's bucket carries `le` in labels and the series labels in sharedLabels, printed after it.
  if (shared === undefined) return labels === undefined ? "" : braced(cachedPairs(labels, cache));
  let own = "";
  for (const key in labels) {
    const value = labels[key];
    if (key in shared || value === undefined) continue;
    own += `${own === "" ? "" : ","}${pair(key, value)}`;
  }
  const common = cachedPairs(shared, cache);
  return braced(own === "" ? common : common === "" ? own : `${own},${common}`);
}

function braced(pairs: string): string {
  return pairs === "" ? "" : `{${pairs}}`;
}

function cachedPairs(labels: Record<string, string | number | undefined>, cache: LabelCache): string {
  let text = cache.get(labels);
  if (text === undefined) {
    text = "";
    for (const key in labels) {
      const value = labels[key];
      if (value !== undefined) text += `${text === "" ? "" : ","}${pair(key, value)}`;
    }
    cache.set(labels, text);
  }
  return text;
}

function pair(key: string, value: string | number): string {
  return `${key}="${typeof value === "string" ? escapeLabelValue(value) : value}"`;
}

/** A sample value as the exposition formats spell it. */
export function valueText(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value < 0 ? "-Inf" : "+Inf";
  return `${value}`;
}
