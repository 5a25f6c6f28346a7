/**
 * Provider health as metrics, shared by `m365_service_health` and `slack_status`: the status each configured
 * service reports, its open incidents by classification and the time of the provider's latest update. Label values
 * are bounded: providers and statuses from the documented enums (unknown → `other`), services from the check's
 * `services:` list.
 */
import { z } from "zod";
import { labelledGaugeFact, type FactRecorder } from "../../../src/core/facts.js";

/** The `provider` label values. */
export const PROVIDERS = ["microsoft365", "slack"] as const;
/** One provider. */
export type Provider = (typeof PROVIDERS)[number];

/** Graph's serviceHealthStatus values (https://learn.microsoft.com/graph/api/resources/servicehealth), snake_case. */
export const M365_STATUSES = [
  "service_operational",
  "investigating",
  "restoring_service",
  "verifying_service",
  "service_restored",
  "post_incident_review_published",
  "service_degradation",
  "service_interruption",
  "extended_recovery",
  "false_positive",
  "investigation_suspended",
  "resolved",
  "mitigated_external",
  "mitigated",
  "resolved_external",
  "confirmed",
  "reported",
] as const;

/** Slack's per-service status, derived from the types of the active incidents naming the service. */
export const SLACK_STATUSES = ["ok", "notice", "incident", "outage"] as const;

const STATUSES = [...new Set([...M365_STATUSES, ...SLACK_STATUSES, "other"])];
/** Graph issue classifications and Slack incident types. */
const CLASSIFICATIONS = ["advisory", "incident", "notice", "outage", "other"] as const;

const services = {
  name: "service",
  valuesFrom: (settings: unknown) => (settings as { services: readonly string[] }).services,
};
const provider = { name: "provider", values: PROVIDERS };

/** 1 for the status a service reports now; the other statuses of that service have no series. */
export const SERVICE_STATUS_FACT = labelledGaugeFact(
  "provider_service_status",
  "1 for the status the provider's health API reports for the service now (statuses snake_case; unknown: other).",
  [provider, services, { name: "status", values: STATUSES }],
);
/** Open incidents per service and classification. */
export const OPEN_INCIDENTS_FACT = labelledGaugeFact(
  "provider_open_incidents",
  "Incidents or advisories the provider's health API lists as open for the service, by classification.",
  [provider, services, { name: "classification", values: CLASSIFICATIONS }],
);
/** When the provider last updated an incident it lists for the service. */
export const INCIDENT_UPDATE_FACT = labelledGaugeFact(
  "provider_incident_last_update_timestamp_seconds",
  "Unix time of the provider's latest update to an incident it lists for the service; absent when none is listed.",
  [provider, services],
);

/** The facts of a provider-health kind. */
export const PROVIDER_FACTS = [SERVICE_STATUS_FACT, OPEN_INCIDENTS_FACT, INCIDENT_UPDATE_FACT] as const;

/** The `services` field of a provider-health kind, with its default list. */
export function servicesField(defaults: readonly string[], what: string) {
  return z
    .array(z.string().min(1).max(100))
    .min(1)
    .max(50)
    .refine((list) => new Set(list.map((s) => s.toLowerCase())).size === list.length, {
      message: "must not name a service twice",
    })
    .default([...defaults])
    .describe(`Services to report, as ${what}; the \`service\` label, so the list bounds the series.`);
}

/** A provider's value matched case-insensitively against a closed list (examples use PascalCase); else `other`. */
export function normalise(value: unknown, known: readonly string[]): string {
  if (typeof value !== "string") return "other";
  const snake = value.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  return known.includes(snake) ? snake : "other";
}

/** What a provider says about one configured service. */
export interface ServiceReport {
  service: string;
  status: string;
  /** Open incidents by classification; classifications the provider uses are listed even at 0. */
  open: Record<string, number>;
  /** Unix seconds of the latest update of a listed incident. */
  lastUpdate?: number;
}

/** Records the reports of one run. */
export function recordReports(facts: FactRecorder, who: Provider, reports: readonly ServiceReport[]): void {
  for (const r of reports) {
    facts.setLabelled(SERVICE_STATUS_FACT, { provider: who, service: r.service, status: r.status }, 1);
    for (const [classification, count] of Object.entries(r.open)) {
      facts.setLabelled(OPEN_INCIDENTS_FACT, { provider: who, service: r.service, classification }, count);
    }
    if (r.lastUpdate !== undefined) {
      facts.setLabelled(INCIDENT_UPDATE_FACT, { provider: who, service: r.service }, r.lastUpdate);
    }
  }
}

/** Unix seconds of an ISO date, or undefined. */
export function epochSeconds(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}
