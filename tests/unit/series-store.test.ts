import { Registry, type RegistryContentType } from "prom-client";
import { describe, expect, it } from "vitest";
import { counterFact, gaugeFact, histogramFact, labelledGaugeFact, type Fact } from "../../src/core/facts.js";
import { renderExposition } from "../../src/metrics/exposition.js";
import { Metrics, type RunRecord } from "../../src/metrics/metrics.js";

const GAUGE = gaugeFact("widget_level", "Level.", { isClearedWhenUnreported: true });
const COUNTER = counterFact("widget_spins_total", "Spins.");
const HISTOGRAM = histogramFact("widget_delay_seconds", "Delay.", [0.1, 1, 10]);
// `team` is also a configured label below: the fact's own value takes its place.
const LABELLED = labelledGaugeFact("widget_state", "State.", [
  { name: "team", values: ["red", "blue"] },
  { name: "state", values: ["up", "down"] },
]);
const FACTS: readonly Fact[] = [GAUGE, COUNTER, HISTOGRAM, LABELLED];

function run(over: Partial<RunRecord>): RunRecord {
  return {
    success: true,
    durationSeconds: 0.2,
    phases: { connect: 0.01, banner: 0.19 },
    facts: new Map(),
    declaredFacts: FACTS,
    endedAtSeconds: 1_800_000_000,
    ...over,
  };
}

/** The same runs on a fresh Metrics each call, so the store's renderer and prom-client's formatter see equal input. */
function scenario(contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE): Metrics {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(contentType);
  const metrics = new Metrics(registry as Registry, { version: "t", nodeVersion: "v24" }, FACTS);
  metrics.setExtraLabels(["team"]);
  metrics.setOptions({ runDurationHistogram: true, lastSuccessTimestamp: true });
  for (let i = 0; i < 40; i++) {
    const labels = { check: `c${i}`, kind: "widget", target: 'q"uote\\back\nline', location: "lab", team: "ops" };
    metrics.initCheck(labels, i % 3 === 0);
    metrics.recordRun(
      labels,
      run({
        facts: new Map<Fact, number>([
          [GAUGE, i],
          [COUNTER, 2],
          [HISTOGRAM, i / 10],
        ]),
        labelledFacts: new Map([
          [
            LABELLED,
            [
              { labels: { team: "red", state: "up" }, value: 1 },
              { labels: { team: "blue", state: "down" }, value: 0 },
            ],
          ],
        ]),
      }),
    );
    metrics.recordRun(
      labels,
      run({
        success: false,
        phases: { connect: 0.02 },
        facts: new Map<Fact, number>([[COUNTER, 1]]),
        labelledFacts: new Map([[LABELLED, [{ labels: { team: "blue", state: "up" }, value: 1 }]]]),
        failure: { class: "unavailable", code: "4.3.2", phase: "rcpt", side: "provider" },
      }),
    );
    if (i % 4 === 0) metrics.setThrottled(labels, true);
  }
  metrics.recordSkip("c1", "overlap");
  metrics.recordSkip("not-yet-initialised", "overlap");
  return metrics;
}

/** The exposition without the process and Node.js families, whose values move between two calls. */
function own(text: string): string {
  return text
    .split("\n")
    .filter((l) => !/^(# (HELP|TYPE) )?(process_|nodejs_)/.test(l))
    .join("\n");
}

describe("the series store", () => {
  it("renders exactly what prom-client's formatter renders from the same families (text)", async () => {
    const text = own((await renderExposition(scenario().registry, "text", 0)).toString());
    expect(text).toBe(own(await scenario().registry.metrics()));
    expect(text).toContain('target="q\\"uote\\\\back\\nline"');
    expect(text).toContain(
      'probe_run_duration_seconds_bucket{le="0.25",check="c0",kind="widget",target="q\\"uote\\\\back\\nline",location="lab",team="ops"} 2\n',
    );
    expect(text).toContain('suiteprobe_runs_skipped_total{check="not-yet-initialised",reason="overlap"} 1\n');
  });

  it("renders exactly what prom-client renders in OpenMetrics (counter families without _total, # EOF once)", async () => {
    const text = own((await renderExposition(scenario().registry, "openmetrics", 0)).toString());
    expect(text).toBe(own(await scenario(Registry.OPENMETRICS_CONTENT_TYPE).registry.metrics()));
    expect(text).toContain("# TYPE widget_spins counter\n");
    expect(text).toContain('widget_spins_total{check="c0"');
    expect(text.match(/# EOF/g)).toHaveLength(1);
  });

  it("keeps the latest run's state: stale phases, unreported gauges and labelled combinations go", async () => {
    const text = (await renderExposition(scenario().registry)).toString();
    const c0 = text.split("\n").filter((l) => l.includes('check="c0"'));
    expect(c0.filter((l) => l.startsWith("probe_phase_duration_seconds{"))).toEqual([
      'probe_phase_duration_seconds{check="c0",kind="widget",target="q\\"uote\\\\back\\nline",location="lab",team="ops",phase="connect"} 0.02',
    ]);
    expect(c0.some((l) => l.startsWith("widget_level{"))).toBe(false);
    expect(c0.filter((l) => l.startsWith("widget_state{"))).toEqual([
      'widget_state{check="c0",kind="widget",target="q\\"uote\\\\back\\nline",location="lab",team="blue",state="up"} 1',
    ]);
    expect(c0).toContain(
      'widget_spins_total{check="c0",kind="widget",target="q\\"uote\\\\back\\nline",location="lab",team="ops"} 3',
    );
  });

  it("drops a removed check's series; other labels for a check name replace its series", async () => {
    const metrics = scenario();
    metrics.removeCheck("c0");
    metrics.initCheck({ check: "c1", kind: "widget", target: "elsewhere", location: "lab", team: "ops" });
    const text = (await renderExposition(metrics.registry)).toString();
    expect(text).not.toContain('check="c0"');
    expect(text).not.toMatch(/check="c1",kind="widget",target="q/);
    expect(text).toContain(
      'probe_runs_total{check="c1",kind="widget",target="elsewhere",location="lab",team="ops",result="failure"} 0',
    );
    expect(text).toContain('probe_runs_total{check="c2",');
  });

  it("a scrape in flight when the families are re-created renders none of the new checks under the old names", async () => {
    const metrics = scenario();
    // sliceMs 0: the render yields at its first family, before the re-creation below.
    const rendering = renderExposition(metrics.registry, "text", 0);
    metrics.setOptions({ runDurationHistogram: false, lastSuccessTimestamp: false });
    const labels = { check: "after", kind: "widget", target: "t", location: "lab", team: "ops" };
    metrics.initCheck(labels);
    metrics.recordRun(labels, run({ facts: new Map<Fact, number>([[GAUGE, 7]]) }));
    expect((await rendering).toString()).not.toContain('check="after"');
    expect((await renderExposition(metrics.registry)).toString()).toContain(
      'widget_level{check="after",kind="widget",target="t",location="lab",team="ops"} 7',
    );
  });
});
