import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { PROBE_KINDS } from "../../probes/index.js";
import { parseConfigText } from "../../src/config/load.js";
import { collectFacts, labelledFactRecord } from "../../src/core/facts.js";
import { Metrics } from "../../src/metrics/metrics.js";
import type { RunOutcome } from "../../src/runtime/runner.js";
import type { CheckConfig } from "../../src/config/model.js";
import { checkRunner, loadSimConfig, simConfigText } from "../helpers/graph-checks.js";
import { simulators } from "../helpers/sim.js";
import type { Simulator } from "../../lab/sim/index.js";

const startSim = simulators();

function healthChecks(sim: Simulator): string {
  return `  - name: m365-health
    kind: m365_service_health
    m365_service_health: { credential: m365, graph_url: ${sim.url}, services: [Exchange Online, microsoftteams] }
  - name: slack-health
    kind: slack_status
    slack_status: { status_url: "${sim.url}/api/v2.0.0", services: [Messaging, Calls] }
`;
}

function labelled(outcome: RunOutcome) {
  return labelledFactRecord(outcome.labelledFacts ?? new Map());
}

/** The exposition lines of `metric` for one check, after recording the outcome as the agent does. */
async function exposition(metrics: Metrics, registry: Registry, check: CheckConfig, outcome: RunOutcome) {
  metrics.recordRun(
    { check: check.name, kind: check.kind.id, target: check.target.label, location: "lab" },
    {
      success: outcome.status === "success",
      durationSeconds: outcome.durationSeconds,
      phases: outcome.phases,
      facts: outcome.facts,
      ...(outcome.labelledFacts && { labelledFacts: outcome.labelledFacts }),
      declaredFacts: check.kind.facts,
      endedAtSeconds: 1,
    },
  );
  return (await registry.metrics()).split("\n").filter((l) => l.startsWith("provider_"));
}

describe("m365_service_health against the simulator", () => {
  it("reports each configured service's status and zero open incidents, phases auth, overviews, issues", async () => {
    const sim = await startSim();
    const runner = checkRunner(loadSimConfig(simConfigText(sim, healthChecks(sim))));
    const outcome = await runner.run("m365-health");
    expect(outcome.failure).toBeUndefined();
    expect(Object.keys(outcome.phases)).toEqual(["auth", "overviews", "issues"]);
    expect(labelled(outcome)).toEqual({
      provider_service_status: [
        { provider: "microsoft365", service: "Exchange Online", status: "service_operational", value: 1 },
        { provider: "microsoft365", service: "microsoftteams", status: "service_operational", value: 1 },
      ],
      provider_open_incidents: [
        { provider: "microsoft365", service: "Exchange Online", classification: "advisory", value: 0 },
        { provider: "microsoft365", service: "Exchange Online", classification: "incident", value: 0 },
        { provider: "microsoft365", service: "microsoftteams", classification: "advisory", value: 0 },
        { provider: "microsoft365", service: "microsoftteams", classification: "incident", value: 0 },
      ],
    });
  });

  it("an open incident: status, count and update time; a changed status leaves no stale series", async () => {
    let now = Date.parse("2026-01-22T14:37:00Z");
    const sim = await startSim({ now: () => now });
    const config = loadSimConfig(simConfigText(sim, healthChecks(sim)));
    const runner = checkRunner(config);
    const registry = new Registry();
    const metrics = new Metrics(registry, { version: "t", nodeVersion: "t" }, collectFacts(PROBE_KINDS));
    const check = config.checks[0]!;
    const first = await exposition(metrics, registry, check, await runner.run("m365-health"));
    expect(first.filter((l) => l.includes('status="service_operational"'))).toHaveLength(2);

    sim.setServiceStatus("Exchange Online", "serviceDegradation");
    sim.openIssue({ id: "EX1234", service: "Exchange Online", title: "Mail delayed", classification: "incident" });
    const outcome = await runner.run("m365-health");
    expect(outcome.status).toBe("success");
    const lines = await exposition(metrics, registry, check, outcome);
    const exchange = lines.filter((l) => l.includes('service="Exchange Online"'));
    expect(exchange.filter((l) => l.startsWith("provider_service_status"))).toEqual([
      `provider_service_status{check="m365-health",kind="m365_service_health",target="${check.target.label}",location="lab",provider="microsoft365",service="Exchange Online",status="service_degradation"} 1`,
    ]);
    expect(exchange).toContain(
      `provider_open_incidents{check="m365-health",kind="m365_service_health",target="${check.target.label}",location="lab",provider="microsoft365",service="Exchange Online",classification="incident"} 1`,
    );
    expect(exchange).toContain(
      `provider_incident_last_update_timestamp_seconds{check="m365-health",kind="m365_service_health",target="${check.target.label}",location="lab",provider="microsoft365",service="Exchange Online"} ${now / 1000}`,
    );
    now += 60_000;
    sim.resolveIssue("EX1234");
    sim.setServiceStatus("Exchange Online", "serviceOperational");
    const after = await exposition(metrics, registry, check, await runner.run("m365-health"));
    expect(after.filter((l) => l.includes("service_degradation"))).toEqual([]);
    expect(after.filter((l) => l.includes('classification="incident"') && l.includes("Exchange"))[0]).toMatch(/ 0$/);
  });

  it("an unreadable health API fails the check and leaves no status series (not 'all healthy')", async () => {
    const sim = await startSim();
    const config = loadSimConfig(simConfigText(sim, healthChecks(sim)));
    const runner = checkRunner(config);
    const registry = new Registry();
    const metrics = new Metrics(registry, { version: "t", nodeVersion: "t" }, collectFacts(PROBE_KINDS));
    await exposition(metrics, registry, config.checks[0]!, await runner.run("m365-health"));
    sim.setFault("graph.health.overviews", { type: "status", status: 503, code: "serviceNotAvailable" });
    const outcome = await runner.run("m365-health");
    expect(outcome.failure).toMatchObject({ class: "unavailable", phase: "overviews", side: "provider" });
    expect(await exposition(metrics, registry, config.checks[0]!, outcome)).toEqual([]);
  });

  it.each([
    [{ type: "status", status: 429, retryAfter: 120 } as const, "throttled", "issues"],
    [{ type: "status", status: 504, code: "UnknownError" } as const, "unavailable", "issues"],
    [{ type: "expiredToken" } as const, "auth", "issues"],
  ])("issues fault %j → %s in phase %s", async (fault, cls, phase) => {
    const sim = await startSim();
    sim.setFault("graph.health.issues", fault);
    const outcome = await checkRunner(loadSimConfig(simConfigText(sim, healthChecks(sim)))).run("m365-health");
    expect(outcome.failure).toMatchObject({ class: cls, phase });
  });

  it("a service the tenant does not list is a config failure naming it", async () => {
    const sim = await startSim();
    const text = simConfigText(sim, healthChecks(sim).replace("microsoftteams", "Yammer"));
    const outcome = await checkRunner(loadSimConfig(text)).run("m365-health");
    expect(outcome.failure).toMatchObject({ class: "config", phase: "overviews" });
    expect(outcome.failure?.message).toContain("services not in the tenant's health overviews: Yammer");
  });

  it("runs every 5 minutes by default, refuses a shorter interval, shares the app's throttle scope", async () => {
    const sim = await startSim();
    const config = loadSimConfig(simConfigText(sim, healthChecks(sim)));
    expect(config.checks[0]?.plan).toEqual({ type: "interval", everyMs: 300_000 });
    expect(config.checks[0]?.throttleScope).toBe(`m365@${new URL(sim.url).host}`);
    const text = simConfigText(
      sim,
      healthChecks(sim).replace("kind: m365_service_health", "kind: m365_service_health\n    interval: 1m"),
    );
    const loaded = parseConfigText(text, PROBE_KINDS);
    expect(loaded.ok ? [] : loaded.errors).toEqual([
      "checks[0].interval: runs every 60s, too often for m365_service_health: at least 300s (Graph service health " +
        "allows 800 requests/hour per app and tenant, shared with every other tool)",
    ]);
  });
});

describe("slack_status against the simulator", () => {
  it("all ok: status ok per configured service, zero incidents, HTTP phases", async () => {
    const sim = await startSim();
    const outcome = await checkRunner(loadSimConfig(simConfigText(sim, healthChecks(sim)))).run("slack-health");
    expect(outcome.failure).toBeUndefined();
    expect(Object.keys(outcome.phases)).toEqual(expect.arrayContaining(["connect", "ttfb", "transfer"]));
    expect(labelled(outcome)["provider_service_status"]).toEqual([
      { provider: "slack", service: "Messaging", status: "ok", value: 1 },
      { provider: "slack", service: "Calls", status: "ok", value: 1 },
    ]);
  });

  it("an active outage on Messaging: status outage, one open outage, its update time", async () => {
    const sim = await startSim({ now: () => Date.parse("2026-01-22T14:30:00Z") });
    sim.setSlackIncident({ id: 42, title: "Messages fail to send", type: "outage", services: ["Messaging"] });
    const outcome = await checkRunner(loadSimConfig(simConfigText(sim, healthChecks(sim)))).run("slack-health");
    const facts = labelled(outcome);
    expect(facts["provider_service_status"]).toEqual([
      { provider: "slack", service: "Messaging", status: "outage", value: 1 },
      { provider: "slack", service: "Calls", status: "ok", value: 1 },
    ]);
    expect(facts["provider_open_incidents"]).toContainEqual({
      provider: "slack",
      service: "Messaging",
      classification: "outage",
      value: 1,
    });
    expect(facts["provider_incident_last_update_timestamp_seconds"]).toEqual([
      { provider: "slack", service: "Messaging", value: Date.parse("2026-01-22T14:30:00Z") / 1000 },
    ]);
  });

  it("status API unreachable (reset) is a failure of the check, with no status reported", async () => {
    const sim = await startSim();
    sim.setFault("slack.status", { type: "reset" });
    const outcome = await checkRunner(loadSimConfig(simConfigText(sim, healthChecks(sim)))).run("slack-health");
    expect(outcome.status).toBe("failure");
    expect(outcome.failure?.side).not.toBe("config");
    expect(labelled(outcome)).toEqual({});
  });

  it.each([
    [{ type: "status", status: 503 } as const, "unavailable"],
    [{ type: "truncate", mode: "json" } as const, "protocol"],
  ])("fault %j → %s", async (fault, cls) => {
    const sim = await startSim();
    sim.setFault("slack.status", fault);
    const outcome = await checkRunner(loadSimConfig(simConfigText(sim, healthChecks(sim)))).run("slack-health");
    expect(outcome.failure).toMatchObject({ class: cls });
    expect(labelled(outcome)).toEqual({});
  });

  it("a slow first byte past the deadline is a timeout in phase ttfb", async () => {
    const sim = await startSim();
    sim.setFault("slack.status", { type: "delay", ms: 3000 });
    const text = simConfigText(
      sim,
      healthChecks(sim).replace("kind: slack_status", "kind: slack_status\n    timeout: 1s"),
    );
    const outcome = await checkRunner(loadSimConfig(text)).run("slack-health");
    expect(outcome.failure).toMatchObject({ class: "timeout", phase: "ttfb" });
  });
});
