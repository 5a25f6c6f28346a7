/** PromQL building blocks the alert definitions share; each returns an expression string. */

/** One check's identity from one location: `provider` is a configured label (see docs/runbook.md). */
export const CHECK_LABELS = ["check", "kind", "target", "location", "provider"] as const;

/** The window failure ratios are computed over, unless a service sets a longer one (deploy/services.ts). */
export const RATIO_WINDOW = "15m";

/** Fewer failed runs than this in the window never fire a ratio alert (one failed run is not an incident). */
export const MIN_FAILED_RUNS = 3;

/** Share of runs in the window that must fail for a check to count as failing. */
export const FAILING_RATIO = 0.25;

/** The scrape job of the agents (compose, Kubernetes ServiceMonitor and the examples use it). */
export const JOB = "suiteprobe";

const by = (labels: readonly string[]) => `by (${labels.join(", ")})`;
const L = by(CHECK_LABELS);
const ON_L = `on (${CHECK_LABELS.join(", ")})`;

/** Joins matchers into a selector body, dropping empty ones. */
export function sel(...matchers: string[]): string {
  return matchers.filter((m) => m !== "").join(", ");
}

/** Runs per check in the window. */
export function runs(matchers: string, window = RATIO_WINDOW): string {
  return `sum ${L} (increase(probe_runs_total{${matchers}}[${window}]))`;
}

/** Failed runs per check in the window. */
export function failedRuns(matchers: string, window = RATIO_WINDOW): string {
  return `sum ${L} (increase(probe_runs_total{${sel(matchers, 'result="failure"')}}[${window}]))`;
}

/** `expr`, or 0 for every check that ran but has no such series (errors are counted from the first failure on). */
export function orZero(expr: string, matchers: string): string {
  return `(${expr} or ${ON_L} ${runs(matchers)} * 0)`;
}

/**
 * Failure ratio per check over the window, forced to 0 while fewer than MIN_FAILED_RUNS runs failed, so it is defined
 * (and returns a series) for every check that ran.
 */
export function failureRatio(matchers: string, window = RATIO_WINDOW): string {
  const failed = failedRuns(matchers, window);
  return `(${failed} / ${runs(matchers, window)} * (${failed} >= bool ${MIN_FAILED_RUNS}))`;
}

/**
 * Share of runs per check that failed with an error matching any of `errorMatchers` (each a selector body; 0 when
 * none did), forced to 0 below MIN_FAILED_RUNS such errors.
 */
export function errorRatio(matchers: string, ...errorMatchers: string[]): string {
  const increases = errorMatchers.map((e) => `increase(probe_errors_total{${sel(matchers, e)}}[${RATIO_WINDOW}])`);
  const errors = `sum ${L} (${increases.join(" or ")})`;
  return `(${orZero(errors, matchers)} / ${runs(matchers)} * (${orZero(errors, matchers)} >= bool ${MIN_FAILED_RUNS}))`;
}

/**
 * One series per check, value 1, with `side` = the side of more than half its failed runs in the window (`mixed`
 * when no side has a majority, `none` without failures) and `route` = who acts: `provider`, `network` or `owner`.
 */
export function routeOf(matchers: string, window = RATIO_WINDOW): string {
  const errors = (extra: string) =>
    `sum ${by([...CHECK_LABELS, ...extra.split(",").filter(Boolean)])} (increase(probe_errors_total{${matchers}}[${window}]))`;
  const majority = `(${errors("side")} / ${ON_L} group_left () ${errors("")} > 0.5)`;
  const mixed = `label_replace(${errors("")} > 0, "side", "mixed", "", "")`;
  const none = `label_replace(${runs(matchers, window)}, "side", "none", "", "")`;
  const side = `(${majority} or ${ON_L} ${mixed} or ${ON_L} ${none})`;
  const owner = `label_replace(${side} * 0 + 1, "route", "owner", "", "")`;
  return `label_replace(label_replace(${owner}, "route", "provider", "side", "provider"), "route", "network", "side", "network")`;
}

/** `value` per check, carrying the `side` and `route` labels of routeOf(). */
export function withRoute(value: string, matchers: string, window = RATIO_WINDOW): string {
  return `${value} * ${ON_L} group_left (side, route) ${routeOf(matchers, window)}`;
}

/** 90th percentile of a histogram per check over `window` (NaN for a check without observations). */
export function p90(metric: string, matchers: string, window: string): string {
  return `histogram_quantile(0.9, sum ${by([...CHECK_LABELS, "le"])} (rate(${metric}_bucket{${matchers}}[${window}])))`;
}

/** 1 for a check failing by the ratio rule at a location, else 0. */
export function isFailing(matchers: string, window = RATIO_WINDOW): string {
  return `(${failureRatio(matchers, window)} > bool ${FAILING_RATIO})`;
}
