import { describe, expect, it } from "vitest";
import { defaultWorld } from "../../lab/sim/index.js";
import { runCli, writeConfig } from "../helpers/cli.js";
import { secretFile, simConfigText } from "../helpers/graph-checks.js";
import { simulators } from "../helpers/sim.js";
import type { Simulator } from "../../lab/sim/index.js";

const startSim = simulators();
/** A client secret no output may ever contain, in any encoding. */
const SENTINEL = "SENTINEL-m365-s3cr3t-9f8e7d";

async function sentinelSim(): Promise<Simulator> {
  const world = defaultWorld();
  return startSim({ world: { apps: world.apps.map((app, i) => (i === 0 ? { ...app, secret: SENTINEL } : app)) } });
}

function config(sim: Simulator): string {
  return writeConfig(
    simConfigText(
      sim,
      `  - name: search
    kind: graph_search
    graph_search:
      credential: m365
      graph_url: ${sim.url}
      query: suiteprobe-canary
      region: NAM
      expect: { min_hits: 1, file_name: suiteprobe-canary.docx }
  - name: m365-health
    kind: m365_service_health
    m365_service_health: { credential: m365, graph_url: ${sim.url}, services: [Exchange Online] }
  - name: slack-health
    kind: slack_status
    slack_status: { status_url: "${sim.url}/api/v2.0.0", services: [Messaging] }
`,
      secretFile(SENTINEL),
    ),
  );
}

function assertNoSecret(text: string): void {
  for (const form of [SENTINEL, Buffer.from(SENTINEL).toString("base64"), encodeURIComponent(SENTINEL)]) {
    expect(text).not.toContain(form);
  }
  expect(text).not.toMatch(/Bearer [A-Za-z0-9]/);
}

describe("suiteprobe once with the Microsoft 365 and Slack health kinds against the simulator", () => {
  it("healthy: every check succeeds, --json carries facts and labelled facts, no secret anywhere", async () => {
    const sim = await sentinelSim();
    const result = await runCli(["once", "--config", config(sim), "--json"]);
    assertNoSecret(result.stdout + result.stderr);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l["check"], l["success"]])).toEqual([
      ["search", true],
      ["m365-health", true],
      ["slack-health", true],
    ]);
    expect(lines[0]?.["facts"]).toMatchObject({ search_hits: 1, search_rank: 1, http_status_code: 200 });
    expect((lines[1]?.["facts"] as Record<string, unknown>)["provider_service_status"]).toEqual([
      { provider: "microsoft365", service: "Exchange Online", status: "service_operational", value: 1 },
    ]);
    expect(sim.count("entra.token")).toBe(1);
    expect(sim.leftovers().files).toEqual([]);
  });

  it("the 22 January pattern: search stalls, the status API is unreachable, an incident is open", async () => {
    const sim = await sentinelSim();
    sim.setFault("graph.search", { type: "delay", ms: 15_000 });
    sim.setFault("slack.status", { type: "reset" });
    sim.openIssue({ id: "EX1", service: "Exchange Online", title: "Users cannot search", classification: "incident" });
    const result = await runCli(["once", "--config", config(sim), "--json"], { timeoutMs: 30_000 });
    assertNoSecret(result.stdout + result.stderr);
    expect(result.code).toBe(1);
    const [search, health, slack] = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(search).toMatchObject({ success: false, class: "timeout", phase: "query" });
    expect(health).toMatchObject({ success: true });
    expect((health?.["facts"] as Record<string, unknown>)["provider_open_incidents"]).toContainEqual({
      provider: "microsoft365",
      service: "Exchange Online",
      classification: "incident",
      value: 1,
    });
    // A reset connection reads as network-side (ECONNRESET); either way it is a failure, never "all ok".
    expect(slack).toMatchObject({ success: false, side: "network" });
    expect(slack?.["facts"]).not.toHaveProperty("provider_service_status");
  });

  it("the text table prints labelled facts readably", async () => {
    const sim = await sentinelSim();
    const result = await runCli(["once", "--config", config(sim), "--check", "slack-health"]);
    assertNoSecret(result.stdout + result.stderr);
    expect(result.stdout).toContain('provider_service_status{provider="slack",service="Messaging",status="ok"}=1');
  });
});
