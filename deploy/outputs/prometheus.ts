/** Prometheus rule groups and the Kubernetes PrometheusRule, from the alert definitions. */
import { ALERTS } from "../alerts.js";
import { promExpr, renderValue, runbookAnchor, RUNBOOK_BASE_URL, type AlertDefinition } from "../alert-model.js";

/** A Prometheus alerting rule as written in a rule file. */
export interface PrometheusRule {
  alert: string;
  expr: string;
  for: string;
  keep_firing_for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Static labels of an alert (severity, route when fixed, extra labels). */
export function staticLabels(alert: AlertDefinition): Record<string, string> {
  return {
    severity: alert.severity,
    ...(alert.route === undefined ? {} : { route: alert.route }),
    ...alert.labels,
  };
}

/** summary, description and runbook_url, rendered for one rule engine. */
export function annotations(alert: AlertDefinition, target: "prometheus" | "grafana"): Record<string, string> {
  return {
    summary: renderValue(alert.summary, alert.valueFormat, target),
    description: renderValue(alert.description, alert.valueFormat, target),
    runbook_url: `${RUNBOOK_BASE_URL}#${runbookAnchor(alert)}`,
  };
}

function rule(alert: AlertDefinition): PrometheusRule {
  return {
    alert: alert.name,
    expr: promExpr(alert),
    for: alert.for,
    ...(alert.keepFiringFor === undefined ? {} : { keep_firing_for: alert.keepFiringFor }),
    labels: staticLabels(alert),
    annotations: annotations(alert, "prometheus"),
  };
}

/** The rule groups, in definition order. */
export function prometheusGroups(): { name: string; interval: string; rules: PrometheusRule[] }[] {
  const names = [...new Set(ALERTS.map((a) => a.group))];
  return names.map((name) => ({ name, interval: "1m", rules: ALERTS.filter((a) => a.group === name).map(rule) }));
}

/** deploy/prometheus/alerts.yml as an object. */
export function prometheusRuleFile(): object {
  return { groups: prometheusGroups() };
}

/** The prometheus-operator PrometheusRule carrying the same groups. */
export function prometheusRuleResource(): object {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "suiteprobe", labels: { "app.kubernetes.io/name": "suiteprobe", release: "prometheus" } },
    spec: { groups: prometheusGroups() },
  };
}
