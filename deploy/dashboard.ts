/** The suiteprobe Grafana dashboard, built with the Grafana Foundation SDK; panels per service come from services.ts. */
import type { Builder, Dataquery } from "@grafana/grafana-foundation-sdk/cog";
import { GraphDrawStyle, StackingMode } from "@grafana/grafana-foundation-sdk/common";
import {
  CustomVariableBuilder,
  DashboardBuilder,
  QueryVariableBuilder,
  RowBuilder,
  type Dashboard,
  type Panel,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { PanelBuilder as HeatmapPanel } from "@grafana/grafana-foundation-sdk/heatmap";
import { DataqueryBuilder, PromQueryFormat } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanel } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as StateTimelinePanel } from "@grafana/grafana-foundation-sdk/statetimeline";
import { PanelBuilder as TimeseriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";
import { ALERTS } from "./alerts.js";
import { JOB, failureRatio, sel } from "./promql.js";
import { SERVICES, kindMatcher, windowOf } from "./services.js";

/** The data source every panel uses (provisioned under this UID by deploy/compose). */
const DATASOURCE = { type: "prometheus", uid: "prometheus" };

/** Matchers the dashboard variables apply to probe series. */
const PICKED = 'location=~"$location", kind=~"${service:pipe}", check=~"$check"';

const q = (expr: string, legend = "") => {
  const b = new DataqueryBuilder().expr(expr).datasource(DATASOURCE);
  return legend === "" ? b : b.legendFormat(legend);
};

function timeseries(title: string, unit: string, targets: Builder<Dataquery>[], bars = false) {
  const panel = new TimeseriesPanel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(12);
  if (bars) panel.drawStyle(GraphDrawStyle.Bars).stacking({ build: () => ({ mode: StackingMode.Normal }) });
  for (const t of targets) panel.withTarget(t);
  return panel;
}

function heatmap(title: string, metric: string, description: string) {
  return new HeatmapPanel()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit("s")
    .calculate(false)
    .height(8)
    .span(12)
    .withTarget(
      q(`sum by (le) (increase(${metric}_bucket{${PICKED}}[$__rate_interval]))`, "{{le}}").format(
        PromQueryFormat.Heatmap,
      ),
    );
}

/** Success ratio of a service's checks per location over the dashboard's time range. */
function serviceOverview(service: (typeof SERVICES)[number]) {
  const m = sel(kindMatcher(service), 'location=~"$location"');
  return new StatPanel()
    .title(`${service.title}: success by location`)
    .description(`Share of successful runs of ${service.kinds.join(", ")} checks over the time range.`)
    .datasource(DATASOURCE)
    .unit("percentunit")
    .min(0)
    .max(1)
    .height(5)
    .span(Math.max(4, Math.floor(24 / SERVICES.length)))
    .withTarget(
      q(
        `sum by (location) (increase(probe_runs_total{${sel(m, 'result="success"')}}[$__range])) / ` +
          `sum by (location) (increase(probe_runs_total{${m}}[$__range]))`,
        "{{location}}",
      ).instant(),
    );
}

const suiteWide = ALERTS.find((a) => a.name === "SuiteprobeSuiteWideProviderIncident")!;

/** Our own detection per provider and service: the highest failure ratio among the service's checks. */
const ourDetections =
  "max by (provider, service) (" +
  SERVICES.map(
    (s) =>
      `label_replace(${failureRatio(sel(kindMatcher(s), 'provider!=""'), windowOf(s))}, "service", "${s.id}", "", "")`,
  ).join(" or ") +
  ")";

/** The dashboard model. */
export function dashboard(): Dashboard {
  const services = SERVICES.map((s) => `${s.id} : ${s.kinds.join("|")}`).join(",");
  const builder = new DashboardBuilder("suiteprobe")
    .uid("suiteprobe")
    .description("Synthetic checks of mail, sign-in, search and chat: what fails, where, whose side. Generated.")
    .tags(["suiteprobe", "synthetic-monitoring"])
    .refresh("1m")
    .time({ from: "now-6h", to: "now" })
    .timezone("browser")
    .withVariable(
      new QueryVariableBuilder("location")
        .label("Location")
        .datasource(DATASOURCE)
        .query("label_values(probe_runs_total, location)")
        .multi(true)
        .includeAll(true)
        .allValue(".*"),
    )
    .withVariable(
      new CustomVariableBuilder("service")
        .label("Service")
        .values(services)
        .multi(true)
        .includeAll(true)
        .allValue(SERVICES.flatMap((s) => s.kinds).join("|")),
    )
    .withVariable(
      new QueryVariableBuilder("check")
        .label("Check")
        .datasource(DATASOURCE)
        .query('label_values(probe_runs_total{location=~"$location", kind=~"${service:pipe}"}, check)')
        .multi(true)
        .includeAll(true)
        .allValue(".*"),
    )
    .withRow(new RowBuilder("Overview: service × location"));
  for (const s of SERVICES) builder.withPanel(serviceOverview(s));
  builder
    .withPanel(
      new StatPanel()
        .title("Services failing together (suite-wide incident when ≥ 2)")
        .datasource(DATASOURCE)
        .height(5)
        .span(24)
        .withTarget(q(suiteWide.value, "{{provider}} @ {{location}}").instant()),
    )
    .withRow(new RowBuilder("Checks"))
    .withPanel(
      timeseries("Success ratio per check", "percentunit", [
        q(
          `sum by (check, location) (rate(probe_runs_total{${PICKED}, result="success"}[$__rate_interval])) / ` +
            `sum by (check, location) (rate(probe_runs_total{${PICKED}}[$__rate_interval]))`,
          "{{check}} @ {{location}}",
        ),
      ]),
    )
    .withPanel(
      timeseries(
        "Failures by class and code",
        "short",
        [q(`sum by (class, code) (increase(probe_errors_total{${PICKED}}[$__rate_interval]))`, "{{class}} {{code}}")],
        true,
      ),
    )
    .withPanel(
      timeseries(
        "Failures by side (provider, network, config)",
        "short",
        [q(`sum by (side) (increase(probe_errors_total{${PICKED}}[$__rate_interval]))`, "{{side}}")],
        true,
      ),
    )
    .withPanel(
      timeseries(
        "Phase breakdown of the last run",
        "s",
        [q(`avg by (phase) (probe_phase_duration_seconds{${PICKED}})`, "{{phase}}")],
        true,
      ),
    )
    .withRow(new RowBuilder("Latency"))
    .withPanel(
      heatmap(
        "Run duration",
        "probe_run_duration_seconds",
        "All runs of the selected checks (exported with agent.metrics.run_duration_histogram: true).",
      ),
    )
    .withPanel(
      heatmap("Mail delivery (round trip)", "probe_mail_delivery_seconds", "Submission accepted → visible in mailbox."),
    )
    .withPanel(heatmap("Chat delivery", "probe_chat_delivery_seconds", "Message posted → visible to the reader."))
    .withPanel(
      timeseries("Search visibility (index lag)", "s", [
        q(`max by (check, location) (probe_search_index_lag_seconds{${PICKED}})`, "{{check}} @ {{location}}"),
      ]),
    )
    .withPanel(
      timeseries(
        "Mail late, junked and uncertain sends",
        "short",
        [
          q(`sum by (check) (increase(probe_mail_late_total{${PICKED}}[$__rate_interval]))`, "late {{check}}"),
          q(`sum by (check) (increase(probe_mail_junked_total{${PICKED}}[$__rate_interval]))`, "junked {{check}}"),
          q(
            `sum by (check) (increase(probe_mail_uncertain_sends_total{${PICKED}}[$__rate_interval]))`,
            "uncertain {{check}}",
          ),
        ],
        true,
      ),
    )
    .withRow(new RowBuilder("Provider: what they report next to what we see"))
    .withPanel(
      timeseries("Provider-reported open incidents", "short", [
        q("sum by (provider, service, classification) (provider_open_incidents)", "{{provider}} {{service}}"),
      ]),
    )
    .withPanel(
      timeseries("Our detections: worst failure ratio", "percentunit", [q(ourDetections, "{{provider}} {{service}}")]),
    )
    .withPanel(
      new StateTimelinePanel()
        .title("Provider service status")
        .datasource(DATASOURCE)
        .height(8)
        .span(24)
        .withTarget(
          q("max by (provider, service, status) (provider_service_status) > 0", "{{provider}} {{service}} {{status}}"),
        ),
    )
    .withRow(new RowBuilder("Agents"))
    .withPanel(
      timeseries("Throttled checks and skipped runs", "short", [
        q(`max by (check, location) (probe_throttled{${PICKED}})`, "held {{check}} @ {{location}}"),
        // A check's overlap-skip series appears with its first skip (an overloaded agent): 0 until then.
        q(
          `sum by (check, reason) (increase(suiteprobe_runs_skipped_total{check=~"$check"}[$__rate_interval])) or vector(0)`,
          "skipped {{check}} ({{reason}})",
        ),
      ]),
    )
    .withPanel(
      timeseries("Certificate expiry", "s", [
        q(`min by (target) (probe_ssl_earliest_cert_expiry{${PICKED}}) - time()`, "{{target}}"),
      ]),
    )
    .withPanel(
      timeseries("Agents up, config reload, checks by kind", "short", [
        q(`up{job="${JOB}"}`, "up {{instance}}"),
        q("min by (instance) (suiteprobe_config_last_reload_successful)", "reload ok {{instance}}"),
        q("sum by (kind) (suiteprobe_checks)", "checks {{kind}}"),
      ]),
    )
    .withPanel(
      timeseries("Scheduler lag p99", "s", [
        q(
          "histogram_quantile(0.99, sum by (le, instance) (rate(suiteprobe_scheduler_lag_seconds_bucket[$__rate_interval])))",
          "{{instance}}",
        ),
      ]),
    );
  return builder.build();
}

/** The dashboard as plain JSON (what Grafana's file provisioning loads). */
export function dashboardJson(): unknown {
  return JSON.parse(JSON.stringify(dashboard()));
}

/** Every panel (rows flattened) with its PromQL expressions. */
export function dashboardQueries(): { panel: string; expr: string }[] {
  const json = dashboardJson() as { panels: (Panel & { panels?: Panel[] })[] };
  const panels = json.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title ?? "", expr: (t as { expr?: string }).expr ?? "" })),
  );
}
