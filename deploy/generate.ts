/** Every file generated from deploy/*.ts, as repository-relative path → text. The drift test compares them. */
import { incidentReplayTest } from "./incident-replay.js";
import { grafanaNotificationFile, grafanaRulesFile } from "./outputs/grafana-alerting.js";
import { prometheusGroups, prometheusRuleFile, prometheusRuleResource } from "./outputs/prometheus.js";
import { runbookMarkdown } from "./outputs/runbook.js";
import { pretty, yamlText } from "./outputs/yaml-text.js";
import { dashboardJson } from "./dashboard.js";
import { KUBERNETES_MANIFESTS } from "./kubernetes.js";

/** Generated files by repository-relative path. */
export async function generatedFiles(): Promise<Record<string, string>> {
  const files: Record<string, () => Promise<string>> = {
    "deploy/prometheus/alerts.yml": () => yamlText("alerts.yml", prometheusRuleFile()),
    // promtool compares annotations exactly and they render $value, so unit tests load the same rules without them.
    "deploy/prometheus/tests/rules.yml": () =>
      yamlText("rules.yml", {
        groups: prometheusGroups().map((g) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }) => r) })),
      }),
    "deploy/prometheus/tests/incident-2026-01-22.test.yml": () =>
      yamlText("incident-2026-01-22.test.yml", incidentReplayTest()),
    "deploy/kubernetes/prometheus-rule.yaml": () => yamlText("prometheus-rule.yaml", prometheusRuleResource()),
    "deploy/grafana/provisioning/alerting/suiteprobe-rules.yaml": () =>
      yamlText("suiteprobe-rules.yaml", grafanaRulesFile()),
    "deploy/grafana/provisioning/alerting/suiteprobe-notifications.yaml": () =>
      yamlText("suiteprobe-notifications.yaml", grafanaNotificationFile()),
    "deploy/grafana/dashboards/suiteprobe.json": () => pretty("suiteprobe.json", JSON.stringify(dashboardJson())),
    "docs/runbook.md": () => pretty("runbook.md", runbookMarkdown()),
  };
  for (const [file, manifest] of Object.entries(KUBERNETES_MANIFESTS)) {
    files[`deploy/kubernetes/${file}`] = () => yamlText(file, manifest);
  }
  const out: Record<string, string> = {};
  for (const [path, make] of Object.entries(files)) out[path] = await make();
  return out;
}
