/**
 * THE map from probe kinds to the services a user sees, and from metrics to the kinds that export them. Alert rules,
 * the dashboard and the runbook are generated from this file; tests fail when a registered kind is missing here.
 */
import { RATIO_WINDOW } from "./promql.js";

/** The services suiteprobe groups its kinds into (the `service` alert label and the dashboard's service variable). */
export const SERVICES = [
  {
    id: "mail",
    title: "Mail",
    kinds: ["smtp", "imap", "mail_roundtrip"],
    isUserFacing: true,
    severity: "critical",
    alert: "SuiteprobeMailFailing",
  },
  {
    id: "signin",
    title: "Sign-in",
    kinds: ["entra_signin"],
    isUserFacing: true,
    severity: "critical",
    alert: "SuiteprobeSigninFailing",
  },
  {
    id: "search",
    title: "File search",
    kinds: ["graph_search", "drive_search"],
    isUserFacing: true,
    severity: "warning",
    alert: "SuiteprobeSearchDegraded",
  },
  {
    id: "chat",
    title: "Chat",
    kinds: ["teams_chat", "slack_chat"],
    isUserFacing: true,
    severity: "warning",
    alert: "SuiteprobeChatDegraded",
    // Teams chat runs at most every 5 minutes: 15 minutes would hold 3 runs, and "at least 3 failed" would need
    // every one of them to fail.
    window: "30m",
  },
  {
    id: "provider_health",
    title: "Provider health API",
    kinds: ["m365_service_health", "slack_status"],
    isUserFacing: false,
    severity: "warning",
    alert: "SuiteprobeProviderHealthProbeFailing",
    // Graph service health runs at most every 5 minutes (its request budget), as Teams chat does.
    window: "30m",
  },
  { id: "web", title: "Web", kinds: ["http"], isUserFacing: false, severity: "warning", alert: "SuiteprobeWebFailing" },
] as const satisfies readonly Service[];

/** One service: the kinds it covers and how its persistent-failure alert is named and rated. */
export interface Service {
  readonly id: string;
  readonly title: string;
  readonly kinds: readonly string[];
  /** Counts towards the suite-wide incident (a user would notice it). */
  readonly isUserFacing: boolean;
  readonly severity: "critical" | "warning";
  readonly alert: string;
  /** The failure-ratio window when longer than the default 15m: a kind held to a 5-minute minimum interval needs
   * more than 3 runs in the window for "at least 3 failed runs" to be a ratio. */
  readonly window?: string;
}

/** A service id. */
export type ServiceId = (typeof SERVICES)[number]["id"];

/** Metrics every kind exports (the engine's, from src/metrics/metrics.ts); `up` is Prometheus's own. */
export const ENGINE_METRICS = [
  "up",
  "probe_success",
  "probe_duration_seconds",
  "probe_phase_duration_seconds",
  "probe_runs_total",
  "probe_errors_total",
  "probe_run_duration_seconds",
  "probe_last_run_timestamp_seconds",
  "probe_last_success_timestamp_seconds",
  "suiteprobe_runs_skipped_total",
  "suiteprobe_config_last_reload_successful",
  "suiteprobe_checks",
  "suiteprobe_scheduler_lag_seconds",
  "suiteprobe_build_info",
] as const;

const API_KINDS = ["entra_signin", "graph_search", "drive_search", "teams_chat", "slack_chat"] as const;
const HEALTH_KINDS = ["m365_service_health", "slack_status"] as const;

/**
 * Metrics that only some kinds export, with those kinds. A query over such a metric must return data once one of
 * the kinds is registered (the dashboard query test derives its expectations from this and the registry).
 * `probe_throttled` is exported by kinds that talk to rate-limited APIs (issues 9/10).
 */
export const KIND_METRICS: Readonly<Record<string, readonly string[]>> = {
  probe_smtp_reply_code: ["smtp", "mail_roundtrip"],
  probe_ssl_earliest_cert_expiry: ["smtp", "imap", "mail_roundtrip", "http"],
  probe_mail_delivery_seconds: ["mail_roundtrip"],
  probe_mail_late_total: ["mail_roundtrip"],
  probe_mail_uncertain_sends_total: ["mail_roundtrip"],
  probe_mail_junked_total: ["mail_roundtrip"],
  probe_http_status_code: ["http", ...API_KINDS, ...HEALTH_KINDS],
  probe_search_hits: ["graph_search", "drive_search"],
  probe_search_rank: ["graph_search", "drive_search"],
  probe_search_index_lag_seconds: ["graph_search", "drive_search"],
  probe_chat_delivery_seconds: ["teams_chat", "slack_chat"],
  probe_throttled: [...API_KINDS, ...HEALTH_KINDS],
  provider_service_status: HEALTH_KINDS,
  provider_open_incidents: HEALTH_KINDS,
  provider_incident_last_update_timestamp_seconds: HEALTH_KINDS,
};

/** Every kind named in the service map. */
export const MAPPED_KINDS: readonly string[] = SERVICES.flatMap((s) => s.kinds);

/** The service a kind belongs to, or undefined when the map does not know it. */
export function serviceOfKind(kind: string): Service | undefined {
  return SERVICES.find((s) => (s.kinds as readonly string[]).includes(kind));
}

/** The window a service's failure ratio is computed over. */
export function windowOf(service: Service): string {
  return service.window ?? RATIO_WINDOW;
}

/** `kind=~"a|b"`: the label matcher selecting a service's kinds. */
export function kindMatcher(service: Service): string {
  return `kind=~"${service.kinds.join("|")}"`;
}
