import { Registry } from "prom-client";
import { configJsonSchema } from "../config/json-schema.js";
import { collectFacts } from "../core/facts.js";
import type { AnyProbeKind } from "../core/probe.js";
import { Metrics } from "../metrics/metrics.js";

type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
};

interface Row {
  path: string;
  types: Set<string>;
  isRequired: boolean;
  default?: unknown;
  description: string;
}

function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum !== undefined) return schema.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants !== undefined) return [...new Set(variants.map(typeOf))].join(" \\| ");
  if (schema.type === "object" && schema.properties === undefined && schema.additionalProperties !== undefined) {
    return "map of string";
  }
  if (schema.type === "array") return `list`;
  return Array.isArray(schema.type) ? schema.type.join(" \\| ") : (schema.type ?? "any");
}

function addRow(rows: Map<string, Row>, path: string, schema: JsonSchema, isRequired: boolean): void {
  const row = rows.get(path) ?? { path, types: new Set<string>(), isRequired, description: "" };
  row.types.add(typeOf(schema));
  row.isRequired &&= isRequired;
  if (row.default === undefined && schema.default !== undefined) row.default = schema.default;
  if (row.description === "" && schema.description !== undefined) row.description = schema.description;
  rows.set(path, row);
}

/** Adds a row for every field below `path`; union variants (one per kind) merge into the same rows. */
function walkChildren(schema: JsonSchema, path: string, rows: Map<string, Row>): void {
  for (const variant of schema.anyOf ?? schema.oneOf ?? []) walkChildren(variant, path, rows);
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const child = path === "" ? key : `${path}.${key}`;
    addRow(rows, child, sub, (schema.required ?? []).includes(key));
    walkChildren(sub, child, rows);
  }
  if (schema.items !== undefined) walkChildren(schema.items, `${path}[]`, rows);
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The config reference as a Markdown table, generated from the zod schema's `.describe()` texts. */
export function configReference(kinds: readonly AnyProbeKind[]): string {
  const rows = new Map<string, Row>();
  walkChildren(configJsonSchema(kinds), "", rows);
  const lines = ["| field | type | required | default | description |", "| --- | --- | --- | --- | --- |"];
  for (const row of rows.values()) {
    const types = [...row.types].join(" \\| ").replace(/\\\| \\\|/g, "\\|");
    const fallback = row.default === undefined ? "" : `\`${cell(JSON.stringify(row.default))}\``;
    lines.push(
      `| \`${row.path}\` | ${types} | ${row.isRequired && row.default === undefined ? "yes" : ""} | ${fallback} | ${cell(row.description)} |`,
    );
  }
  return lines.join("\n");
}

/** The metric reference as a Markdown table, read from a fresh registry so it lists exactly what is exposed; each
 * kind's facts are listed with the kinds that report them. */
export function metricReference(kinds: readonly AnyProbeKind[]): string {
  const registry = new Registry();
  const metrics = new Metrics(registry, { version: "", nodeVersion: "" }, collectFacts(kinds));
  metrics.setExtraLabels([]);
  // The reference lists the optional families too; their help says how to turn them on.
  metrics.setOptions({ runDurationHistogram: true, lastSuccessTimestamp: true });
  const lines = ["| metric | type | labels | meaning |", "| --- | --- | --- | --- |"];
  for (const metric of registry.getMetricsAsArray()) {
    const { name, help, labelNames } = metric as unknown as { name: string; help: string; labelNames: string[] };
    const type = (metric as unknown as { type: string }).type;
    if (/^(process_|nodejs_)/.test(name)) continue;
    const names = labelNames.map((l) => `\`${l}\``).join(", ");
    const reporters = kinds.filter((k) => k.facts.some((f) => f.metric === name)).map((k) => `\`${k.id}\``);
    const meaning = reporters.length === 0 ? help : `${help} Reported by ${reporters.join(", ")}.`;
    lines.push(`| \`${name}\` | ${type} | ${names} | ${cell(meaning)} |`);
  }
  lines.push(
    "| `process_*`, `nodejs_*` | various | | prom-client's default process metrics (CPU, memory, event loop, GC). |",
  );
  return lines.join("\n");
}

/** The table of probe kinds, from the registry. */
export function kindTable(kinds: readonly AnyProbeKind[]): string {
  const lines = ["| kind | what it does | phases | target |", "| --- | --- | --- | --- |"];
  for (const kind of kinds) {
    const target =
      kind.target.type === "socket"
        ? "`host[:port]`"
        : kind.target.type === "url"
          ? "URL"
          : kind.target.type === "endpoints"
            ? `endpoints in its block (label: \`${kind.target.labelFrom}\`)`
            : "named in its block";
    lines.push(
      `| \`${kind.id}\` | ${cell(kind.title)} | ${kind.phases.map((p) => `\`${p}\``).join(", ")} | ${target} |`,
    );
  }
  return lines.join("\n");
}

/** Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export function replaceSection(document: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README has no ${start} … ${end} section`);
  return `${document.slice(0, from + start.length)}\n${body}\n${document.slice(to)}`;
}
