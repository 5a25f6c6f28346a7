// Simulated Microsoft 365 service health: healthOverviews and issues.
// https://learn.microsoft.com/graph/api/serviceannouncement-list-healthoverviews
// https://learn.microsoft.com/graph/api/serviceannouncement-list-issues
// https://learn.microsoft.com/graph/api/resources/servicehealthissue ; statuses: https://learn.microsoft.com/graph/api/resources/servicehealth
import type { ServiceHealthIssue, SimCore } from "./core.js";
import { authorize } from "./graph-auth.js";
import { json, type SimRoute } from "./http.js";

/** The documented serviceHealthStatus values (without unknownFutureValue). */
export const SERVICE_HEALTH_STATUSES = [
  "serviceOperational",
  "investigating",
  "restoringService",
  "verifyingService",
  "serviceRestored",
  "postIncidentReviewPublished",
  "serviceDegradation",
  "serviceInterruption",
  "extendedRecovery",
  "falsePositive",
  "investigationSuspended",
  "resolved",
  "mitigatedExternal",
  "mitigated",
  "resolvedExternal",
  "confirmed",
  "reported",
] as const;
/** One serviceHealthStatus. */
export type ServiceHealthStatus = (typeof SERVICE_HEALTH_STATUSES)[number];

/** What a caller supplies to open an issue; the rest of the serviceHealthIssue is filled in. */
export interface NewIssue {
  id: string;
  service: string;
  title: string;
  status?: ServiceHealthStatus;
  classification?: "advisory" | "incident";
  feature?: string;
  featureGroup?: string;
  impactDescription?: string;
  /** Start time in Unix ms; default now. */
  startedAt?: number;
}

/** Opens (or replaces) an issue in the wire shape Graph returns. */
export function openIssue(core: SimCore, issue: NewIssue): ServiceHealthIssue {
  const now = new Date(core.now()).toISOString();
  const start = new Date(issue.startedAt ?? core.now()).toISOString();
  const stored: ServiceHealthIssue = {
    startDateTime: start,
    endDateTime: null,
    lastModifiedDateTime: now,
    title: issue.title,
    id: issue.id,
    impactDescription: issue.impactDescription ?? issue.title,
    classification: issue.classification ?? "incident",
    origin: "microsoft",
    status: issue.status ?? "investigating",
    service: issue.service,
    feature: issue.feature ?? null,
    featureGroup: issue.featureGroup ?? null,
    isResolved: false,
    highImpact: null,
    details: [],
    posts: [
      {
        createdDateTime: now,
        postType: "regular",
        description: { contentType: "html", content: `Title: ${issue.title}` },
      },
    ],
  };
  core.issues.set(issue.id, stored);
  return stored;
}

/** Marks an issue resolved (status serviceRestored); false when there is no such issue. */
export function resolveIssue(core: SimCore, id: string): boolean {
  const issue = core.issues.get(id);
  if (issue === undefined) return false;
  const now = new Date(core.now()).toISOString();
  Object.assign(issue, { isResolved: true, status: "serviceRestored", endDateTime: now, lastModifiedDateTime: now });
  return true;
}

/** Sets the status a service reports in healthOverviews (adds the service if new). */
export function setServiceStatus(core: SimCore, service: string, status: ServiceHealthStatus): void {
  const entry = core.world.health.find((h) => h.service === service || h.id === service);
  if (entry === undefined) core.world.health.push({ id: service.replaceAll(" ", ""), service, status });
  else entry.status = status;
}

const HEALTH = { delegated: ["ServiceHealth.Read.All"], application: ["ServiceHealth.Read.All"] } as const;

/** Service health routes. */
export const healthRoutes: SimRoute[] = [
  {
    method: "GET",
    pattern: /^\/v1\.0\/admin\/serviceAnnouncement\/healthOverviews$/,
    endpoint: "graph.health.overviews",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, HEALTH);
      if (!auth.isAllowed) return auth.reply;
      return json(200, {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#admin/serviceAnnouncement/healthOverviews",
        value: ctx.core.world.health.map((h) => ({ service: h.service, status: h.status, id: h.id })),
      });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\.0\/admin\/serviceAnnouncement\/issues$/,
    endpoint: "graph.health.issues",
    family: "graph",
    handle(req, ctx) {
      const auth = authorize(req, ctx, HEALTH);
      if (!auth.isAllowed) return auth.reply;
      return json(200, {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#admin/serviceAnnouncement/issues",
        value: [...ctx.core.issues.values()],
      });
    },
  },
];
