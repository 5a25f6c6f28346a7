/** The shape of one alert definition; Prometheus rules, Grafana rules, the PrometheusRule and the runbook derive from it. */

/** Who acts on an alert: the team owning the check, the provider (open a ticket) or the location's network team. */
export type Route = "owner" | "provider" | "network";

/** How `{{VALUE}}` is rendered in summaries and descriptions. */
export type ValueFormat = "percent" | "duration" | "number";

/** One alert. `value` returns one series per alert instance; the alert fires while `value op threshold` holds. */
export interface AlertDefinition {
  readonly name: string;
  readonly group: "suiteprobe-agent" | "suiteprobe-services" | "suiteprobe-incidents";
  readonly value: string;
  readonly op: ">" | "<";
  readonly threshold: number;
  /** Prometheus duration the condition must hold before the alert fires. */
  readonly for: string;
  /** Keeps firing this long after the condition clears, so a slow uneven recovery does not flap. */
  readonly keepFiringFor?: string;
  readonly severity: "critical" | "warning" | "info";
  /** A fixed route; without it the value carries `route` (and `side`) from routeOf(). */
  readonly route?: Route;
  readonly labels?: Readonly<Record<string, string>>;
  readonly valueFormat: ValueFormat;
  /** One line; `{{ $labels.x }}` and `{{VALUE}}` allowed. */
  readonly summary: string;
  readonly description: string;
  readonly runbook: {
    /** What it means for the on-call person. */
    readonly meaning: string;
    /** Why the threshold and durations are what they are. */
    readonly thresholds: string;
    readonly actions: readonly string[];
  };
  /** The kinds whose checks this alert watches ("*" for all). */
  readonly kinds: readonly string[] | "*";
}

/** The Prometheus expression of an alert. */
export function promExpr(alert: AlertDefinition): string {
  return `(${alert.value}) ${alert.op} ${alert.threshold}`;
}

/** Fills `{{VALUE}}` for Prometheus (`$value`) or Grafana (`$values.A.Value`). */
export function renderValue(text: string, format: ValueFormat, target: "prometheus" | "grafana"): string {
  const fn = { percent: "humanizePercentage", duration: "humanizeDuration", number: "humanize" }[format];
  const rendered = target === "prometheus" ? `{{ $value | ${fn} }}` : `{{ ${fn} $values.A.Value }}`;
  return text.replaceAll("{{VALUE}}", rendered);
}

/** Anchor of an alert's section in docs/runbook.md (GitHub's heading slug). */
export function runbookAnchor(alert: AlertDefinition): string {
  return alert.name.toLowerCase();
}

/** Where docs/runbook.md is published; change it when you fork (every runbook_url starts with it). */
export const RUNBOOK_BASE_URL = "https://github.com/suiteprobe/suiteprobe/blob/main/docs/runbook.md";
