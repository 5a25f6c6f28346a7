/** Grafana-managed alert rules, contact points and notification policies (file provisioning), built with the SDK. */
import {
  ContactPointBuilder,
  NotificationPolicyBuilder,
  QueryBuilder,
  RuleBuilder,
  type Rule,
} from "@grafana/grafana-foundation-sdk/alerting";
import { TypeThresholdBuilder } from "@grafana/grafana-foundation-sdk/expr";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { ALERTS } from "../alerts.js";
import type { AlertDefinition, Route } from "../alert-model.js";
import { annotations, staticLabels } from "./prometheus.js";

/** UID of the Prometheus data source the provisioning expects (deploy/compose provisions it under this UID). */
export const DATASOURCE_UID = "prometheus";
/** Folder the rules are provisioned into. */
export const FOLDER = "suiteprobe";

/** Grafana rule UID (at most 40 characters): `sp-` plus the alert name in kebab case without the prefix. */
export function ruleUid(alert: AlertDefinition): string {
  const kebab = alert.name
    .replace(/^Suiteprobe/, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase();
  return `sp-${kebab}`.slice(0, 40);
}

function grafanaRule(alert: AlertDefinition): Rule {
  const query = new DataqueryBuilder()
    .expr(alert.value)
    .instant()
    .refId("A")
    .datasource({ type: "prometheus", uid: DATASOURCE_UID });
  const threshold = new TypeThresholdBuilder()
    .expression("A")
    .refId("B")
    .conditions([{ evaluator: { type: alert.op === ">" ? "gt" : "lt", params: [alert.threshold] } }]);
  const builder = new RuleBuilder(alert.name)
    .uid(ruleUid(alert))
    .withQuery(new QueryBuilder("A").datasourceUid(DATASOURCE_UID).relativeTimeRange({ from: 600, to: 0 }).model(query))
    .withQuery(new QueryBuilder("B").datasourceUid("__expr__").relativeTimeRange({ from: 0, to: 0 }).model(threshold))
    .condition("B")
    .forDuration(alert.for)
    .noDataState("OK")
    .execErrState("Error")
    .labels(staticLabels(alert))
    .annotations(annotations(alert, "grafana"));
  if (alert.keepFiringFor !== undefined) builder.keepFiringFor(alert.keepFiringFor);
  return builder.build();
}

/** The PromQL of every Grafana rule query (what the query test evaluates). */
export function grafanaRuleQueries(): { rule: string; expr: string }[] {
  return ALERTS.map((a) => ({ rule: a.name, expr: a.value }));
}

/** deploy/grafana/provisioning/alerting/suiteprobe-rules.yaml as an object. */
export function grafanaRulesFile(): object {
  const names = [...new Set(ALERTS.map((a) => a.group))];
  return {
    apiVersion: 1,
    groups: names.map((name) => ({
      orgId: 1,
      name,
      folder: FOLDER,
      interval: "1m",
      rules: ALERTS.filter((a) => a.group === name).map((a) => {
        // The SDK models the HTTP API's rule; file provisioning takes the same fields minus the API-only ones.
        const { folderUID: _f, ruleGroup: _g, orgID: _o, ...rule } = grafanaRule(a);
        return {
          ...rule,
          data: rule.data.map((q) => ({ ...q, model: JSON.parse(JSON.stringify(q.model)) as unknown })),
        };
      }),
    })),
  };
}

const ROUTES: { route: Route; receiver: string; repeat: string }[] = [
  { route: "owner", receiver: "suiteprobe-owning-team", repeat: "4h" },
  { route: "provider", receiver: "suiteprobe-provider-ticket", repeat: "12h" },
  { route: "network", receiver: "suiteprobe-network-team", repeat: "4h" },
];

/** Example contact points (one per route) and the policy tree that sends each `route` to its receiver. */
export function grafanaNotificationFile(): object {
  const contactPoints = ROUTES.map(({ route, receiver }) =>
    new ContactPointBuilder()
      .uid(receiver)
      .name(receiver)
      .type("webhook")
      .settings({ url: `http://alert-receiver.example.invalid/suiteprobe/${route}` })
      .build(),
  );
  const policy = new NotificationPolicyBuilder()
    .receiver("suiteprobe-owning-team")
    .groupBy(["alertname", "provider", "location"])
    .groupWait("30s")
    .groupInterval("5m")
    .repeatInterval("4h")
    .routes(
      ROUTES.map(({ route, receiver, repeat }) =>
        new NotificationPolicyBuilder()
          .receiver(receiver)
          .objectMatchers([["route", "=", route]])
          .repeatInterval(repeat),
      ),
    )
    .build();
  return {
    apiVersion: 1,
    contactPoints: contactPoints.map(({ uid, name, type, settings }) => ({
      orgId: 1,
      name,
      receivers: [{ uid, type, settings: settings as unknown }],
    })),
    policies: [{ orgId: 1, ...policy }],
  };
}
