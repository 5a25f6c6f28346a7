import { describe, expect, it } from "vitest";
import type { Simulator } from "../../lab/sim/index.js";
import type { RunOutcome } from "../../src/runtime/runner.js";
import { checkRunner, loadSimConfig, simConfigText } from "../helpers/graph-checks.js";
import { appToken, graph, simulators } from "../helpers/sim.js";

const startSim = simulators();

function driveCheck(sim: Simulator, extra = "", timeout = "5s"): string {
  return `  - name: drive
    kind: drive_search
    timeout: ${timeout}
    drive_search:
      credential: m365
      graph_url: ${sim.url}
      drive_id: "b!sim-drive-0001"
      query: suiteprobe-canary
      expect: { min_hits: 1, file_name: suiteprobe-canary.docx }
${extra}`;
}

async function once(sim: Simulator, extra = "", timeout?: string) {
  const runner = checkRunner(loadSimConfig(simConfigText(sim, driveCheck(sim, extra, timeout))));
  return { runner, outcome: await runner.run() };
}

function facts(outcome: RunOutcome): Record<string, number> {
  return Object.fromEntries([...outcome.facts].map(([f, v]) => [f.key, v]));
}

describe("drive_search against the simulator", () => {
  it("finds the seeded document app-only without a region", async () => {
    const sim = await startSim();
    const { outcome } = await once(sim);
    expect(outcome.failure).toBeUndefined();
    expect(facts(outcome)).toMatchObject({ search_hits: 1, search_rank: 1, http_status_code: 200 });
    expect(Object.keys(outcome.phases)).toEqual(["auth", "query"]);
  });

  it("ranks the seeded file among the items read; beyond `top` it is an assertion failure", async () => {
    const sim = await startSim();
    const token = await appToken(sim);
    for (const n of [1, 2, 3]) {
      const path = `/v1.0/drives/b!sim-drive-0001/items/root:/other/suiteprobe-canary-${n}.txt:/content`;
      expect((await graph(sim, token, "PUT", path, "x")).status).toBe(201);
    }
    const { outcome } = await once(sim, "      top: 3\n");
    expect(outcome.failure).toMatchObject({ class: "assertion", phase: "query" });
    const paged = await once(sim, "");
    expect(paged.outcome.status).toBe("success");
    expect(facts(paged.outcome)).toMatchObject({ search_hits: 4, search_rank: 4 });
  });

  it.each([
    [{ type: "noHits" } as const, "assertion"],
    [{ type: "status", status: 503, code: "serviceNotAvailable" } as const, "unavailable"],
    [{ type: "status", status: 429, retryAfter: 10 } as const, "throttled"],
    [{ type: "expiredToken" } as const, "auth"],
  ])("fault %j → %s in phase query", async (fault, cls) => {
    const sim = await startSim();
    sim.setFault("graph.drive.search", fault);
    const { outcome } = await once(sim);
    expect(outcome.failure).toMatchObject({ class: cls, phase: "query" });
  });

  it("index-lag mode in the same drive: measured, and the file deleted after a refused delete", async () => {
    const sim = await startSim();
    sim.setFault("graph.drive.search", { type: "indexLag", seconds: 0.3 });
    sim.setFault("graph.drive.delete", { type: "status", status: 503, times: 1 });
    const lag = "      index_lag: { max_lag: 2s, poll_interval: 100ms }\n";
    const { runner, outcome } = await once(sim, lag, "8s");
    expect(outcome.status).toBe("success");
    expect(facts(outcome)["search_index_lag_seconds"]).toBeGreaterThanOrEqual(0.3);
    expect(sim.leftovers().files).toHaveLength(1);
    await runner.run();
    expect(sim.leftovers().files).toEqual([]);
  });
});
