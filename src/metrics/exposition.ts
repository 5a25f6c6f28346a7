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
}

/**
 * Renders a registry like `registry.metrics()` does, but in slices: it yields to the event loop (setImmediate)
 * whenever a slice has run `sliceMs`, between and inside metric families, so probes and their timers wait for at most
 * one slice however many series there are. prom-client's own `metrics()` formats everything in one go (about a second
 * of blocked event loop at 10,000 checks). Values may move between slices, as they may between two scrapes.
 */
export async function renderExposition(
  registry: Pick<Registry, "getMetricsAsArray">,
  format: ExpositionFormat = "text",
  sliceMs = DEFAULT_SLICE_MS,
): Promise<string> {
  const isOpenMetrics = format === "openmetrics";
  const parts: string[] = [];
  let sliceStart = performance.now();
  const maybeYield = async (): Promise<void> => {
    if (performance.now() - sliceStart < sliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  };
  for (const metric of registry.getMetricsAsArray() as unknown as Collectable[]) {
    await maybeYield();
    const family = await (metric.getForPromString?.() ?? metric.get());
    const isCounter = family.type === "counter";
    // OpenMetrics names a counter family without `_total` and its samples with it.
    const familyName = isOpenMetrics && isCounter ? family.name.replace(/_total$/, "") : family.name;
    const lines: string[] = [`# HELP ${familyName} ${escapeHelp(family.help)}`, `# TYPE ${familyName} ${family.type}`];
    const values = family.values ?? [];
    for (let i = 0; i < values.length; i++) {
      const sample = values[i];
      if (sample === undefined) continue;
      const name = isOpenMetrics && isCounter ? `${familyName}_total` : (sample.metricName ?? family.name);
      lines.push(`${name}${labelText(sample.labels, sample.sharedLabels)} ${valueText(sample.value)}`);
      if ((i & 255) === 255) {
        parts.push(lines.join("\n"));
        lines.length = 0;
        await maybeYield();
      }
    }
    if (lines.length > 0) parts.push(lines.join("\n"));
    if (!isOpenMetrics) parts.push("");
  }
  // The text format separates families by a blank line; OpenMetrics does not, and ends with `# EOF`.
  if (isOpenMetrics) return `${parts.join("\n")}\n# EOF\n`;
  if (parts.at(-1) === "") parts.pop();
  return `${parts.join("\n")}\n`;
}

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabelValue(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"') : value;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function labelText(
  labels: Record<string, string | number | undefined> | undefined,
  shared: Record<string, string | number | undefined> | undefined,
): string {
  let text = "";
  // A histogram's bucket carries `le` in labels and the series labels in sharedLabels, printed after it.
  for (const source of [labels, shared]) {
    if (source === undefined) continue;
    for (const key in source) {
      if (source === labels && shared !== undefined && key in shared) continue;
      const value = source[key];
      if (value === undefined) continue;
      text += `${text === "" ? "" : ","}${key}="${typeof value === "string" ? escapeLabelValue(value) : value}"`;
    }
  }
  return text === "" ? "" : `{${text}}`;
}

function valueText(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value < 0 ? "-Inf" : "+Inf";
  return `${value}`;
}
