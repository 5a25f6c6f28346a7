// A 429 with Retry-After is the API asking the probe to slow down: the run counts as result="throttled" (its error
// is still counted, class throttled), never as result="failure", so the failure-ratio alerts cannot read throttling
// as an outage. A 503 with Retry-After is an outage that also asks to wait: it stays a failure.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { PROBE_KINDS } from "../../probes/index.js";
import { Agent } from "../../src/agent.js";
import { collectFacts } from "../../src/core/facts.js";
import { Metrics } from "../../src/metrics/metrics.js";
import { eventually } from "../helpers/cli.js";
import { loadSimConfig, simConfigText } from "../helpers/graph-checks.js";
import { parseExposition } from "../helpers/prometheus-text.js";
import { simulators } from "../helpers/sim.js";

const startSim = simulators();
const agents: Agent[] = [];
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});

async function agentAgainst(fault: Parameters<Awaited<ReturnType<typeof startSim>>["setFault"]>[1]) {
  const sim = await startSim();
  sim.setFault("graph.search", fault);
  const text = simConfigText(
    sim,
    `  - name: search
    kind: graph_search
    interval: 1s
    timeout: 900ms
    graph_search: { credential: m365, graph_url: ${sim.url}, query: suiteprobe-canary, region: NAM }
`,
  );
  const path = join(mkdtempSync(join(tmpdir(), "suiteprobe-throttled-")), "config.yaml");
  writeFileSync(path, text);
  const config = loadSimConfig(text);
  const registry = new Registry();
  const metrics = new Metrics(registry, { version: "t", nodeVersion: process.version }, collectFacts(PROBE_KINDS));
  const agent = new Agent({ kinds: PROBE_KINDS, configPath: path, logger: pino({ level: "silent" }), metrics });
  agents.push(agent);
  await agent.start(config);
  const runs = async (result: string) => valueOf(await registry.metrics(), "probe_runs_total", `result="${result}"`);
  return { registry, runs };
}

/** The value of the one series of `name` whose labels contain `part`; undefined when there is none. */
function valueOf(text: string, name: string, part = ""): number | undefined {
  const found = [...parseExposition(text)].filter(([key]) => key.startsWith(`${name}{`) && key.includes(part));
  expect(found.length, `${name} ${part}: ${JSON.stringify(found)}`).toBeLessThanOrEqual(1);
  return found[0]?.[1];
}

describe("throttled runs", () => {
  it("a 429 + Retry-After run is result=throttled, not failure; its error and the hold are visible", async () => {
    const { registry, runs } = await agentAgainst({ type: "status", status: 429, retryAfter: 30, times: 1 });
    await eventually(async () => ((await runs("throttled")) === 1 ? true : undefined), 5_000);
    expect(await runs("failure")).toBe(0);
    expect(await runs("success")).toBe(0);
    const text = await registry.metrics();
    expect(valueOf(text, "probe_throttled")).toBe(1);
    expect(valueOf(text, "probe_errors_total", 'class="throttled"')).toBe(1);
    expect(valueOf(text, "probe_errors_total")).toBe(1);
  });

  it("a 503 + Retry-After run is a failure (an outage that asks to wait), though the check is held too", async () => {
    const { registry, runs } = await agentAgainst({
      type: "status",
      status: 503,
      code: "serviceNotAvailable",
      retryAfter: 30,
      times: 1,
    });
    await eventually(async () => ((await runs("failure")) === 1 ? true : undefined), 5_000);
    expect(await runs("throttled")).toBe(0);
    expect(valueOf(await registry.metrics(), "probe_throttled")).toBe(1);
  });
});
