// The simulator's own control endpoint under /_sim/ (for `suiteprobe lab` and for tests in other processes):
// the same operations as the typed Simulator API, with bodies validated by zod.
import { z } from "zod";
import { faultSchema, SIM_ENDPOINTS } from "./faults.js";
import { SERVICE_HEALTH_STATUSES, type NewIssue } from "./graph-health.js";
import { json, parseJson, type SimReply, type SimRequest } from "./http.js";
import type { Simulator } from "./server.js";
import type { NewSlackIncident } from "./slack.js";

const faultBody = z.object({
  endpoint: z.enum(SIM_ENDPOINTS),
  fault: z.union([faultSchema, z.array(faultSchema)]),
});
const healthBody = z.object({ service: z.string().min(1), status: z.enum(SERVICE_HEALTH_STATUSES) });
const issueBody = z.object({
  id: z.string().min(1),
  service: z.string().min(1),
  title: z.string().min(1),
  status: z.enum(SERVICE_HEALTH_STATUSES).optional(),
  classification: z.enum(["advisory", "incident"]).optional(),
  feature: z.string().optional(),
  featureGroup: z.string().optional(),
  impactDescription: z.string().optional(),
});
const slackIncidentBody = z.object({
  id: z.number().int(),
  title: z.string().min(1),
  type: z.enum(["incident", "notice", "outage"]).optional(),
  services: z.array(z.string()).optional(),
});

function parse<T>(schema: z.ZodType<T>, req: SimRequest): { value: T } | { reply: SimReply } {
  const result = schema.safeParse(parseJson(req.body.toString("utf8")));
  if (result.success) return { value: result.data };
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
  return { reply: json(400, { error: "invalid_body", problems }) };
}

const done: SimReply = { status: 204 };

/** Answers a /_sim/ request. */
export function handleControl(sim: Simulator, req: SimRequest, path: string): SimReply {
  const route = `${req.method} ${path}`;
  if (route === "GET /_sim/state") return json(200, sim.state());
  if (route === "POST /_sim/faults") {
    const body = parse(faultBody, req);
    if ("reply" in body) return body.reply;
    sim.setFault(body.value.endpoint, body.value.fault);
    return done;
  }
  if (route === "DELETE /_sim/faults") {
    const endpoint = req.url.searchParams.get("endpoint");
    const parsed = z
      .enum(SIM_ENDPOINTS)
      .optional()
      .safeParse(endpoint ?? undefined);
    if (!parsed.success) return json(400, { error: "invalid_endpoint", problems: [`endpoint: ${endpoint}`] });
    sim.clearFaults(parsed.data);
    return done;
  }
  if (route === "POST /_sim/health") {
    const body = parse(healthBody, req);
    if ("reply" in body) return body.reply;
    sim.setServiceStatus(body.value.service, body.value.status);
    return done;
  }
  if (route === "POST /_sim/issues") {
    const body = parse(issueBody, req);
    if ("reply" in body) return body.reply;
    return json(201, sim.openIssue(stripUndefined<NewIssue>(body.value)));
  }
  const resolve = /^POST \/_sim\/issues\/([^/]+)\/resolve$/.exec(route);
  if (resolve !== null) return sim.resolveIssue(resolve[1] ?? "") ? done : json(404, { error: "no_such_issue" });
  if (route === "POST /_sim/slack-incidents") {
    const body = parse(slackIncidentBody, req);
    if ("reply" in body) return body.reply;
    return json(201, sim.setSlackIncident(stripUndefined<NewSlackIncident>(body.value)));
  }
  const resolveSlack = /^DELETE \/_sim\/slack-incidents\/(\d+)$/.exec(route);
  if (resolveSlack !== null) {
    return sim.resolveSlackIncident(Number(resolveSlack[1])) ? done : json(404, { error: "no_such_incident" });
  }
  if (route === "POST /_sim/expire-tokens") {
    sim.expireTokens();
    return done;
  }
  if (route === "POST /_sim/reset-log") {
    sim.resetRequestLog();
    return done;
  }
  return json(404, { error: "unknown_control_route", route });
}

/** zod yields `key: undefined` for absent optionals; exactOptionalPropertyTypes wants them absent. */
function stripUndefined<R>(value: object): R {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as R;
}
