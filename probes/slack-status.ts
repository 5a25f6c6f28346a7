/**
 * Kind `slack_status`: Slack's public status API (v2.0.0 `current`, unauthenticated) as metrics: per configured
 * service the worst type of the active incidents naming it (`outage` > `incident` > `notice`), else `ok`. When the
 * status API itself fails (22 January 2026: the status page did not load), the check fails; it never reads as "ok".
 * https://docs.slack.dev/reference/slack-status-api
 */
import { z } from "zod";
import { defineKind, type ProbeContext } from "../src/core/probe.js";
import { HTTP_PHASES } from "./wire/http/connector.js";
import { apiRequest, HTTP_FACTS, jsonObject } from "./wire/http/api.js";
import {
  epochSeconds,
  normalise,
  PROVIDER_FACTS,
  recordReports,
  servicesField,
  SLACK_STATUSES,
  type ServiceReport,
} from "./wire/health/provider-facts.js";
import { ProbeError } from "../src/core/probe-error.js";
import { tlsFields } from "./wire/transport/tls.js";

const DEFAULT_SERVICES = [
  "Login/SSO",
  "Messaging",
  "Notifications",
  "Search",
  "Files",
  "Calls",
  "Apps/Integrations/APIs",
];
const TYPES = ["notice", "incident", "outage"];

const settingsSchema = z.strictObject({
  status_url: z
    .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
    .transform((url) => url.replace(/\/+$/, ""))
    .default("https://slack-status.com/api/v2.0.0")
    .describe("Base URL of the Slack Status API v2.0.0 (`/current` is appended); a proxy or a simulator otherwise."),
  services: servicesField(DEFAULT_SERVICES, 'the status API names them in `services` (e.g. "Messaging"), any case'),
  ...tlsFields,
});

type Settings = z.output<typeof settingsSchema>;
type Json = Record<string, unknown>;

async function run(ctx: ProbeContext<Settings>): Promise<void> {
  const { settings } = ctx;
  const response = await apiRequest(ctx, {
    url: `${settings.status_url}/current`,
    protocol: "http",
    tls: settings,
  });
  const body = jsonObject(response, "status response", "transfer");
  if (typeof body["status"] !== "string" || !Array.isArray(body["active_incidents"])) {
    // A 200 that is not the documented shape (a captive portal, a changed API) says nothing about Slack's health.
    throw new ProbeError("status response lacks status or active_incidents", {
      phase: "transfer",
      facts: { protocol: "probe", input: { class: "protocol" } },
    });
  }
  const incidents = (body["active_incidents"] as Json[]).filter((i) => i["status"] !== "resolved");
  const reports: ServiceReport[] = settings.services.map((service) => {
    const key = service.toLowerCase();
    const mine = incidents.filter(
      (i) => Array.isArray(i["services"]) && (i["services"] as unknown[]).some((s) => String(s).toLowerCase() === key),
    );
    const open: Record<string, number> = Object.fromEntries(TYPES.map((t) => [t, 0]));
    for (const incident of mine) {
      const type = normalise(incident["type"], TYPES);
      open[type] = (open[type] ?? 0) + 1;
    }
    const worst = [...TYPES].reverse().find((t) => (open[t] ?? 0) > 0);
    const status = worst ?? (mine.length > 0 ? "other" : "ok");
    const updates = mine.map((i) => epochSeconds(i["date_updated"])).filter((t) => t !== undefined);
    return {
      service,
      status: normalise(status, [...SLACK_STATUSES, "other"]),
      open,
      ...(updates.length === 0 ? {} : { lastUpdate: Math.max(...updates) }),
    };
  });
  recordReports(ctx.facts, "slack", reports);
}

/** The `slack_status` probe kind. */
export const slackStatusKind = defineKind<Settings>({
  id: "slack_status",
  title: "Slack status API (v2.0.0 current) as metrics: per-service status and active incidents",
  settingsSchema,
  isSettingsOptional: true,
  phases: HTTP_PHASES,
  facts: [...PROVIDER_FACTS, ...HTTP_FACTS],
  target: { type: "none", label: (s) => new URL(s.status_url).host },
  throttleScope: (s) => `status@${new URL(s.status_url).host}`,
  run,
});
