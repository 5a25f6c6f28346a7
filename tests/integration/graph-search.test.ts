import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { PROBE_KINDS } from "../../probes/index.js";
import { throttleVerdict } from "../../src/runtime/runner.js";
import { checkHash } from "../../probes/wire/roundtrip/probe-id.js";
import { checkRunner, loadSimConfig, simConfigText } from "../helpers/graph-checks.js";
import { appToken, graph, simulators } from "../helpers/sim.js";
import type { Simulator } from "../../lab/sim/index.js";

const startSim = simulators();

function searchCheck(sim: Simulator, extra = "", timeout = "5s"): string {
  return `  - name: search
    kind: graph_search
    timeout: ${timeout}
    graph_search:
      credential: m365
      graph_url: ${sim.url}
      query: suiteprobe-canary
      region: NAM
      expect: { min_hits: 1, file_name: suiteprobe-canary.docx }
${extra}`;
}

async function once(sim: Simulator, extra = "", timeout?: string) {
  const runner = checkRunner(loadSimConfig(simConfigText(sim, searchCheck(sim, extra, timeout))));
  return { runner, outcome: await runner.run() };
}

function facts(outcome: { facts: ReadonlyMap<{ key: string }, number> }): Record<string, number> {
  return Object.fromEntries([...outcome.facts].map(([f, v]) => [f.key, v]));
}

describe("graph_search against the simulator", () => {
  it("finds the seeded document: hits, rank, phases auth and query", async () => {
    const sim = await startSim();
    const { outcome } = await once(sim);
    expect(outcome.failure).toBeUndefined();
    expect(outcome.status).toBe("success");
    expect(facts(outcome)).toMatchObject({ search_hits: 1, search_rank: 1, http_status_code: 200 });
    expect(Object.keys(outcome.phases)).toEqual(["auth", "query"]);
    const body = sim.requests("graph.search")[0];
    expect(body?.status).toBe(200);
    expect(sim.leftovers().files).toEqual([]);
  });

  it("refuses an app-only credential without region at config load", async () => {
    const sim = await startSim();
    const text = simConfigText(sim, searchCheck(sim).replace("      region: NAM\n", ""));
    const loaded = parseConfigText(text, PROBE_KINDS);
    expect(loaded.ok).toBe(false);
    expect(loaded.ok ? [] : loaded.errors).toEqual([
      'checks[0].graph_search.region: is required: credential "m365" signs in app-only (entra_client_secret), ' +
        "and Graph search with application permissions needs the tenant's region (NAM, EUR, APC, …)",
    ]);
  });

  it("reports Graph's 400 when region is missing anyway", async () => {
    const sim = await startSim();
    const config = loadSimConfig(simConfigText(sim, searchCheck(sim)));
    const check = config.checks[0]!;
    const { region: _region, ...settings } = check.settings as Record<string, unknown>;
    const runner = checkRunner({ ...config, checks: [{ ...check, settings }] });
    const outcome = await runner.run();
    expect(outcome.failure).toMatchObject({ class: "protocol", code: "400", phase: "query", side: "config" });
    expect(outcome.failure?.message).toContain("HTTP 400 BadRequest");
    expect(sim.requests("graph.search").map((r) => r.status)).toEqual([400]);
  });

  it("fails an assertion when search finds nothing, with 0 hits and no rank", async () => {
    const sim = await startSim();
    sim.setFault("graph.search", { type: "noHits" });
    const { outcome } = await once(sim);
    expect(outcome.failure).toMatchObject({ class: "assertion", phase: "query" });
    expect(facts(outcome)).toMatchObject({ search_hits: 0 });
    expect(facts(outcome)).not.toHaveProperty("search_rank");
  });

  it("fails an assertion when the named file is not among the hits", async () => {
    const sim = await startSim();
    const { outcome } = await once(sim);
    expect(outcome.status).toBe("success");
    const config = loadSimConfig(
      simConfigText(sim, searchCheck(sim).replace("suiteprobe-canary.docx", "missing.docx")),
    );
    const missing = await checkRunner(config).run();
    expect(missing.failure).toMatchObject({ class: "assertion", phase: "query" });
    expect(missing.failure?.message).toContain('"missing.docx" is not among the 1 hits read');
  });

  it("429 with Retry-After: throttled, and the verdict holds the app's scope on that host", async () => {
    const sim = await startSim();
    sim.setFault("graph.search", { type: "status", status: 429, retryAfter: 30 });
    const { runner, outcome } = await once(sim);
    expect(outcome.failure).toMatchObject({ class: "throttled", code: "429", phase: "query", retryAfterSeconds: 30 });
    expect(throttleVerdict(outcome)).toEqual({ isThrottled: true, retryAfterSeconds: 30 });
    expect(runner.credentials).toBeDefined();
    const config = loadSimConfig(simConfigText(sim, searchCheck(sim)));
    expect(config.checks[0]?.throttleScope).toBe(`m365@${new URL(sim.url).host}`);
  });

  it.each([
    [503, "serviceNotAvailable", "unavailable"],
    [504, "UnknownError", "unavailable"],
  ])("%i %s → a provider-side failure in phase query", async (status, code, cls) => {
    const sim = await startSim();
    sim.setFault("graph.search", { type: "status", status, code });
    const { outcome } = await once(sim);
    expect(outcome.failure).toMatchObject({ class: cls, phase: "query", side: "provider", retryable: true });
    expect(facts(outcome)).toMatchObject({ http_status_code: status });
  });

  it("a first byte later than the deadline is a timeout in phase query", async () => {
    const sim = await startSim();
    sim.setFault("graph.search", { type: "delay", ms: 3000 });
    const { outcome } = await once(sim, "", "1s");
    expect(outcome.failure).toMatchObject({ class: "timeout", phase: "query" });
    expect(outcome.durationSeconds).toBeLessThan(2.5);
  });

  it("an expired token is auth in phase query, and the next run signs in again", async () => {
    const sim = await startSim();
    const { runner } = await once(sim);
    sim.setFault("graph.search", { type: "expiredToken", times: 1 });
    const expired = await runner.run();
    expect(expired.failure).toMatchObject({ class: "auth", code: "401", phase: "query" });
    expect(sim.count("entra.token")).toBe(1);
    const again = await runner.run();
    expect(again.status).toBe("success");
    expect(sim.count("entra.token")).toBe(2);
  });

  it("a refused sign-in is auth in phase auth, Graph is not called", async () => {
    const sim = await startSim();
    sim.setFault("entra.token", { type: "aadsts", code: 7000215 });
    const { outcome } = await once(sim);
    expect(outcome.failure).toMatchObject({ class: "auth", code: "AADSTS7000215", phase: "auth" });
    expect(sim.count("graph.search")).toBe(0);
  });
});

describe("graph_search index-lag mode", () => {
  const lag = `      index_lag: { drive_id: "b!sim-drive-0001", max_lag: 3s, poll_interval: 100ms }\n`;

  it("measures the lag of a new file and deletes it", async () => {
    const sim = await startSim();
    sim.setFault("graph.search", { type: "indexLag", seconds: 0.5 });
    const { outcome } = await once(sim, lag, "9s");
    expect(outcome.failure).toBeUndefined();
    const seconds = facts(outcome)["search_index_lag_seconds"];
    expect(seconds).toBeGreaterThanOrEqual(0.5);
    expect(seconds).toBeLessThan(2);
    expect(Object.keys(outcome.phases)).toEqual(["auth", "query", "upload", "lag_query", "cleanup"]);
    expect(sim.count("graph.drive.upload")).toBe(1);
    expect(sim.leftovers().files).toEqual([]);
  });

  it("a file never indexed in time is no failure and no figure; it is deleted all the same", async () => {
    const sim = await startSim();
    sim.setFault("graph.search", { type: "indexLag", seconds: 60 });
    const { outcome } = await once(sim, lag, "9s");
    expect(outcome.status).toBe("success");
    expect(facts(outcome)).not.toHaveProperty("search_index_lag_seconds");
    expect(sim.leftovers().files).toEqual([]);
  });

  it("a refused delete leaves the file to the next run, which deletes it", async () => {
    const sim = await startSim();
    sim.setFault("graph.drive.delete", { type: "status", status: 403, code: "accessDenied", times: 1 });
    const { runner, outcome } = await once(sim, lag, "9s");
    expect(outcome.status).toBe("success");
    expect(sim.leftovers().files).toHaveLength(1);
    const next = await runner.run();
    expect(next.status).toBe("success");
    expect(sim.leftovers().files).toEqual([]);
  });

  it("after a restart, deletes an old file of its own check by exact probe id and no one else's", async () => {
    const sim = await startSim();
    const token = await appToken(sim);
    const old = `sp-${checkHash("search")}-${(Date.now() - 3_600_000).toString(36)}-0123456789ab.txt`;
    const foreign = `sp-${checkHash("other")}-${(Date.now() - 3_600_000).toString(36)}-0123456789ab.txt`;
    for (const name of [old, foreign]) {
      const res = await graph(
        sim,
        token,
        "PUT",
        `/v1.0/drives/b!sim-drive-0001/items/root:/suiteprobe-index-lag/${name}:/content`,
        "x",
      );
      expect(res.status).toBe(201);
    }
    const { outcome } = await once(sim, lag, "9s");
    expect(outcome.status).toBe("success");
    expect(sim.leftovers().files.map((f) => (f as { name: string }).name)).toEqual([foreign]);
  });

  it("an upload refused by permissions leaves search healthy and reports no lag", async () => {
    const sim = await startSim();
    sim.setFault("graph.drive.upload", { type: "status", status: 403, code: "accessDenied" });
    const { outcome } = await once(sim, lag, "9s");
    expect(outcome.status).toBe("success");
    expect(facts(outcome)).toMatchObject({ search_hits: 1, search_rank: 1 });
    expect(facts(outcome)).not.toHaveProperty("search_index_lag_seconds");
  });

  it("refuses a timeout shorter than max_lag allows", async () => {
    const sim = await startSim();
    const loaded = parseConfigText(simConfigText(sim, searchCheck(sim, lag, "2s")), PROBE_KINDS);
    expect(loaded.ok ? [] : loaded.errors).toEqual([
      "checks[0].timeout: 2s is too short for graph_search: at least 8s (index_lag.max_lag plus time to upload and delete)",
    ]);
  });
});
