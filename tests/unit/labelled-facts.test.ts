import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createFactRecorder, gaugeFact, labelledFactRecord, labelledGaugeFact } from "../../src/core/facts.js";
import { Metrics } from "../../src/metrics/metrics.js";

const STATE = labelledGaugeFact("widget_state", "1 for the state each configured widget is in.", [
  { name: "widget", valuesFrom: (s) => (s as { widgets: string[] }).widgets },
  { name: "state", values: ["up", "down"] },
]);
const settings = { widgets: ["a", "b"] };

function record(metrics: Metrics, labels: Record<string, string>, series: [string, string][]) {
  const { recorder, values, labelled } = createFactRecorder([STATE], settings);
  for (const [widget, state] of series) recorder.setLabelled(STATE, { widget, state }, 1);
  metrics.recordRun(labels, {
    success: true,
    durationSeconds: 0.1,
    phases: {},
    facts: values(),
    labelledFacts: labelled(),
    declaredFacts: [STATE],
    endedAtSeconds: 1,
  });
}

async function lines(metrics: Metrics): Promise<string[]> {
  return (await metrics.registry.metrics())
    .split("\n")
    .filter((l) => l.startsWith("widget_state{"))
    .sort();
}

describe("labelled facts", () => {
  it("declarations: a prefix of the kind's domain, no engine or reserved label names, no suiteprobe_ names", () => {
    expect(STATE.key).toBe("widget_state");
    expect(() => labelledGaugeFact("suiteprobe_x", "h", [{ name: "a", values: [] }])).toThrow(/must match/);
    expect(() => labelledGaugeFact("widget_x", "h", [{ name: "check", values: [] }])).toThrow(/not allowed/);
    expect(() => labelledGaugeFact("widget_x", "h", [{ name: "value", values: [] }])).toThrow(/not allowed/);
    expect(() => labelledGaugeFact("widget_x", "h", [])).toThrow(/distinct label names/);
  });

  it("the recorder refuses values outside the declared set or the check's settings, and set() on it", () => {
    const { recorder, labelled } = createFactRecorder([STATE], settings);
    expect(() => recorder.setLabelled(STATE, { widget: "c", state: "up" }, 1)).toThrow(/widget="c"/);
    expect(() => recorder.setLabelled(STATE, { widget: "a", state: "sideways" }, 1)).toThrow(/state="sideways"/);
    expect(() => recorder.setLabelled(STATE, { widget: "a" }, 1)).toThrow(/needs labels widget, state/);
    expect(() => recorder.set(STATE, 1)).toThrow(/use setLabelled/);
    expect(() => recorder.setLabelled(gaugeFact("probe_x", "h"), {}, 1)).toThrow(/not declared/);
    recorder.setLabelled(STATE, { state: "up", widget: "a" }, 1);
    expect(labelledFactRecord(labelled())).toEqual({ widget_state: [{ widget: "a", state: "up", value: 1 }] });
  });

  it("metrics: a changed state removes the old series; a run reporting none removes them all", async () => {
    const metrics = new Metrics(new Registry(), { version: "t", nodeVersion: "t" }, [STATE]);
    const labels = { check: "w", kind: "k", target: "t", location: "l" };
    record(metrics, labels, [
      ["a", "up"],
      ["b", "up"],
    ]);
    record(metrics, labels, [
      ["a", "down"],
      ["b", "up"],
    ]);
    expect(await lines(metrics)).toEqual([
      'widget_state{check="w",kind="k",target="t",location="l",widget="a",state="down"} 1',
      'widget_state{check="w",kind="k",target="t",location="l",widget="b",state="up"} 1',
    ]);
    record(metrics, labels, []);
    expect(await lines(metrics)).toEqual([]);
  });

  it("a fact label takes the place of a configured label of the same name; removeCheck drops its series", async () => {
    const metrics = new Metrics(new Registry(), { version: "t", nodeVersion: "t" }, [STATE]);
    metrics.setExtraLabels(["state", "team"]);
    const labels = { check: "w", kind: "k", target: "t", location: "l", state: "configured", team: "x" };
    record(metrics, labels, [["a", "up"]]);
    expect(await lines(metrics)).toEqual([
      'widget_state{check="w",kind="k",target="t",location="l",team="x",widget="a",state="up"} 1',
    ]);
    metrics.removeCheck("w");
    expect(await lines(metrics)).toEqual([]);
  });
});
