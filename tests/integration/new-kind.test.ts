/**
 * Adding a kind needs no edit in src/: a kind that declares a new gauge and a new histogram, registered beside the real
 * ones, shows both in /metrics (through the real runner, agent and server), in `once --json` facts and in the README's
 * generated metric table.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { PROBE_KINDS } from "../../probes/index.js";
import { Agent } from "../../src/agent.js";
import { loadConfigFile } from "../../src/config/load.js";
import { collectFacts, gaugeFact, histogramFact } from "../../src/core/facts.js";
import { defineKind } from "../../src/core/probe.js";
import { metricReference } from "../../src/docs/reference.js";
import { Metrics } from "../../src/metrics/metrics.js";
import { outcomeJson, runOnce } from "../../src/once.js";
import { createHttpServer, listen } from "../../src/server/server.js";

const QUEUE_DEPTH = gaugeFact("probe_widget_queue_depth", "Widgets waiting in the queue at the last run.");
const SPIN_UP = histogramFact("probe_widget_spin_up_seconds", "How long a widget took to spin up.", [0.1, 1, 10]);

/** A kind as a contributor would write it in probes/widget.ts: settings, phases, facts, run. */
const widgetKind = defineKind<{ depth: number }, { runs: number }>({
  id: "widget",
  title: "Spins up a widget and reads its queue depth",
  settingsSchema: z.strictObject({ depth: z.number().int().default(7).describe("Queue depth to report.") }),
  isSettingsOptional: true,
  phases: ["spin_up"] as const,
  facts: [QUEUE_DEPTH, SPIN_UP],
  createState: () => ({ runs: 0 }),
  target: { type: "none", label: () => "widget" },
  async run(ctx) {
    ctx.state.runs += 1;
    await ctx.phases.time("spin_up", () => Promise.resolve());
    ctx.facts.set(QUEUE_DEPTH, ctx.settings.depth + ctx.state.runs);
    ctx.facts.observe(SPIN_UP, 0.25);
  },
});

const kinds = [...PROBE_KINDS, widgetKind];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function configFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "suiteprobe-widget-"));
  const path = join(dir, "config.yaml");
  await writeFile(
    path,
    "checks:\n  - { name: w1, kind: widget, interval: 1s, timeout: 500ms, widget: { depth: 40 } }\n",
  );
  return path;
}

describe("a new kind with new facts, and no edit in src/", () => {
  it("reaches /metrics through the real runner, agent and server, with its state kept between runs", async () => {
    const path = await configFile();
    const loaded = await loadConfigFile(path, kinds);
    if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
    const registry = new Registry();
    const logger = pino({ level: "silent" });
    const metrics = new Metrics(registry, { version: "t", nodeVersion: "t" }, collectFacts(kinds));
    const agent = new Agent({ kinds, configPath: path, logger, metrics });
    const server = createHttpServer({ agent, registry, logger, version: "t" });
    closers.push(async () => {
      await agent.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = await listen(server, "127.0.0.1", 0);
    await agent.start(loaded.config);

    const labels = 'check="w1",kind="widget",target="widget",location="local"';
    let text = "";
    for (let i = 0; i < 50 && !text.includes(`probe_widget_queue_depth{${labels}} 42`); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    }
    // 40 + 2: the second run saw the state the first one left.
    expect(text).toContain(`probe_widget_queue_depth{${labels}} 42`);
    expect(text).toContain("# TYPE probe_widget_spin_up_seconds histogram");
    expect(text).toContain(`probe_widget_spin_up_seconds_bucket{le="1",${labels}} 2`);
    expect(text).toContain(`probe_phase_duration_seconds{${labels},phase="spin_up"}`);
  });

  it("shows its facts in once --json and its metrics in the generated README table", async () => {
    const loaded = await loadConfigFile(await configFile(), kinds);
    if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
    const [outcome] = await runOnce(loaded.config.checks, pino({ level: "silent" }));
    expect(outcome?.status).toBe("success");
    expect(outcomeJson(outcome!, loaded.config).facts).toEqual({
      widget_queue_depth: 41,
      widget_spin_up_seconds: 0.25,
    });

    const table = metricReference(kinds);
    expect(table).toContain(
      "| `probe_widget_queue_depth` | gauge | `check`, `kind`, `target`, `location` | Widgets waiting in the queue at the last run. Reported by `widget`. |",
    );
    expect(table).toContain("| `probe_widget_spin_up_seconds` | histogram |");
  });

  it("refuses a fact or a phase the kind did not declare, as a classified failure of that run", async () => {
    const stray = gaugeFact("probe_widget_stray", "Not declared.");
    const sloppy = defineKind({
      ...widgetKind,
      id: "sloppy",
      async run(ctx) {
        await ctx.phases.time("spin_up", () => Promise.resolve());
        ctx.facts.set(stray, 1);
      },
    });
    const path = await configFile();
    const text = "checks:\n  - { name: s1, kind: sloppy, interval: 1s, timeout: 500ms }\n";
    await writeFile(path, text);
    const loaded = await loadConfigFile(path, [sloppy]);
    if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
    const [outcome] = await runOnce(loaded.config.checks, pino({ level: "silent" }));
    expect(outcome?.status).toBe("failure");
    expect(outcome?.failure?.message).toContain("fact probe_widget_stray is not declared by this kind");
  });
});
