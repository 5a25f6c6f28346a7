import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from "prom-client";
import { describe, expect, it } from "vitest";
import { renderExposition } from "../../src/metrics/exposition.js";

/** The same metrics and values on a fresh registry each call, so prom-client's renderer and ours see equal input. */
function populated(
  series = 3,
  contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE,
): Registry<RegistryContentType> {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(contentType);
  const registers = [registry];
  const labelNames = ["check", "kind", "target", "location"];
  const gauge = new Gauge({
    name: "probe_success",
    help: "Help with a \\ backslash\nand a newline.",
    labelNames,
    registers,
  });
  const phase = new Gauge({
    name: "probe_phase_duration_seconds",
    help: "h",
    labelNames: [...labelNames, "phase"],
    registers,
  });
  const runs = new Counter({
    name: "probe_runs_total",
    help: "Runs.",
    labelNames: [...labelNames, "result"],
    registers,
  });
  const hist = new Histogram({
    name: "probe_run_duration_seconds",
    help: "d",
    labelNames,
    buckets: [0.1, 1],
    registers,
  });
  new Gauge({ name: "suiteprobe_empty", help: "No series.", registers });
  new Counter({ name: "suiteprobe_plain_total", help: "No labels.", registers }).inc(3);
  for (let i = 0; i < series; i++) {
    const labels = { check: `c${i}`, kind: "smtp", target: 'q"uote\\back\nline', location: "lab" };
    gauge.set(labels, i % 2);
    phase.set({ ...labels, phase: "banner" }, 0.25 + i);
    runs.inc({ ...labels, result: "success" }, i);
    hist.observe(labels, 0.5);
    hist.observe(labels, 5);
  }
  gauge.set({ check: "inf", kind: "k", target: "t", location: "l" }, Number.POSITIVE_INFINITY);
  return registry;
}

describe("renderExposition", () => {
  it("renders exactly what prom-client renders, in the text format", async () => {
    expect((await renderExposition(populated())).toString()).toBe(await populated().metrics());
  });

  it("renders exactly what prom-client renders, in OpenMetrics (counter families without _total, # EOF)", async () => {
    const oracle = populated(3, Registry.OPENMETRICS_CONTENT_TYPE);
    const text = (await renderExposition(populated(), "openmetrics")).toString();
    expect(text).toBe(await oracle.metrics());
    expect(text).toContain("# TYPE probe_runs counter\n");
    expect(text.endsWith("# EOF\n")).toBe(true);
  });

  it("is the same whether the size hint fits the body (one buffer) or not (chunks)", async () => {
    const expected = await populated(3000).metrics();
    expect(Buffer.byteLength(expected)).toBeGreaterThan(1 << 20);
    for (const hint of [0, 4 << 20]) {
      expect((await renderExposition(populated(3000), "text", 4, new WeakMap(), hint)).toString()).toBe(expected);
    }
  });

  it("is the same when it yields inside families (large registries)", async () => {
    expect((await renderExposition(populated(3000), "text", 0)).toString()).toBe(await populated(3000).metrics());
  });

  it("lets timers run while it renders a large registry; prom-client's metrics() does not", async () => {
    const registry = populated(6000);
    const ticksDuring = async (render: () => Promise<unknown>): Promise<number> => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      ticks = 0;
      await render();
      clearInterval(timer);
      return ticks;
    };
    expect(await ticksDuring(() => registry.metrics())).toBe(0);
    expect(await ticksDuring(() => renderExposition(registry, "text", 2))).toBeGreaterThan(3);
  });
});
