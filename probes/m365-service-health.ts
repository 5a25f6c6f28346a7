/**
 * Kind `m365_service_health`: Microsoft 365 service health from Graph (`GET /v1.0/admin/serviceAnnouncement/
 * healthOverviews` and `/issues`, permission ServiceHealth.Read.All) as metrics. When the API itself fails, the check
 * fails: an unreadable status is not "all services healthy".
 * https://learn.microsoft.com/graph/api/serviceannouncement-list-healthoverviews
 * https://learn.microsoft.com/graph/api/serviceannouncement-list-issues
 */
import { z } from "zod";
import { defineKind, type ProbeContext } from "../src/core/probe.js";
import { ProbeError } from "../src/core/probe-error.js";
import { HTTP_CREDENTIALS } from "./wire/entra/credential.js";
import { graphCall, graphFields, graphTarget, graphThrottleScope } from "./wire/graph/settings.js";
import { HTTP_FACTS, jsonObject } from "./wire/http/api.js";
import {
  epochSeconds,
  M365_STATUSES,
  normalise,
  PROVIDER_FACTS,
  recordReports,
  servicesField,
  type ServiceReport,
} from "./wire/health/provider-facts.js";

const DEFAULT_SERVICES = [
  "Exchange Online",
  "SharePoint Online",
  "OneDrive for Business",
  "Microsoft Teams",
  "Microsoft 365 suite",
];
const CLASSIFICATIONS = ["advisory", "incident"];
/** Pages of issues read at most (Graph pages with @odata.nextLink); a bound against an endless pager. */
const MAX_ISSUE_PAGES = 10;
/** Graph's service communications budget is 240 requests/min and 800/hour per app per tenant; two per run. */
const MIN_INTERVAL_MS = 5 * 60_000;

const settingsSchema = z.strictObject({
  ...graphFields,
  services: servicesField(
    DEFAULT_SERVICES,
    'Graph names them (`service`, e.g. "Exchange Online") or their ids (`id`, e.g. "Exchange"), any case',
  ),
});

type Settings = z.output<typeof settingsSchema>;
type Json = Record<string, unknown>;

function list(body: Json): Json[] {
  return Array.isArray(body["value"]) ? (body["value"] as Json[]) : [];
}

/** Every issue, following @odata.nextLink within the Graph host. */
async function readIssues(ctx: ProbeContext<Settings>): Promise<Json[]> {
  const issues: Json[] = [];
  let path: string | undefined = "/v1.0/admin/serviceAnnouncement/issues";
  for (let page = 0; path !== undefined && page < MAX_ISSUE_PAGES; page++) {
    const body = jsonObject(await graphCall(ctx, "issues", { path }), "issues response", "issues");
    issues.push(...list(body));
    const next = body["@odata.nextLink"];
    // Only a link on our own Graph host is followed: a token must not be sent anywhere else.
    path =
      typeof next === "string" && next.startsWith(`${ctx.settings.graph_url}/`)
        ? next.slice(ctx.settings.graph_url.length)
        : undefined;
  }
  return issues;
}

async function run(ctx: ProbeContext<Settings>): Promise<void> {
  const overviews = list(
    jsonObject(
      await graphCall(ctx, "overviews", { path: "/v1.0/admin/serviceAnnouncement/healthOverviews" }),
      "healthOverviews response",
      "overviews",
    ),
  );
  const issues = await readIssues(ctx);
  const reports: ServiceReport[] = [];
  const missing: string[] = [];
  for (const wanted of ctx.settings.services) {
    const key = wanted.toLowerCase();
    const overview = overviews.find(
      (o) => String(o["service"]).toLowerCase() === key || String(o["id"]).toLowerCase() === key,
    );
    if (overview === undefined) {
      missing.push(wanted);
      continue;
    }
    const names = new Set([String(overview["service"]).toLowerCase(), String(overview["id"]).toLowerCase()]);
    const mine = issues.filter((i) => names.has(String(i["service"]).toLowerCase()));
    const open: Record<string, number> = Object.fromEntries(CLASSIFICATIONS.map((c) => [c, 0]));
    for (const issue of mine.filter((i) => i["isResolved"] !== true)) {
      const c = normalise(issue["classification"], CLASSIFICATIONS);
      open[c] = (open[c] ?? 0) + 1;
    }
    const updates = mine.map((i) => epochSeconds(i["lastModifiedDateTime"])).filter((t) => t !== undefined);
    reports.push({
      service: wanted,
      status: normalise(overview["status"], M365_STATUSES),
      open,
      ...(updates.length === 0 ? {} : { lastUpdate: Math.max(...updates) }),
    });
  }
  recordReports(ctx.facts, "microsoft365", reports);
  if (missing.length > 0) {
    const known = overviews.map((o) => String(o["service"])).join(", ");
    throw new ProbeError(`services not in the tenant's health overviews: ${missing.join(", ")} (there are: ${known})`, {
      phase: "overviews",
      facts: { protocol: "probe", input: { class: "config" } },
    });
  }
}

/** The `m365_service_health` probe kind. */
export const m365ServiceHealthKind = defineKind<Settings>({
  id: "m365_service_health",
  title: "Microsoft 365 service health (Graph healthOverviews and issues) as metrics",
  settingsSchema,
  isSettingsOptional: false,
  phases: ["auth", "overviews", "issues"],
  facts: [...PROVIDER_FACTS, ...HTTP_FACTS],
  target: { type: "none", label: graphTarget },
  credentials: HTTP_CREDENTIALS,
  credentialOf: (s) => s.credential,
  throttleScope: graphThrottleScope,
  minIntervalMs: () => ({
    ms: MIN_INTERVAL_MS,
    why: "Graph service health allows 800 requests/hour per app and tenant, shared with every other tool",
  }),
  run,
});
