import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { AgentConfig, CheckConfig } from "../../src/config/model.js";
import { Metrics } from "../../src/metrics/metrics.js";
import { isInShard, NO_SHARD, parseShard, selectShard } from "../../src/runtime/shard.js";
import { fakeKind } from "../helpers/fake-kind.js";

describe("shards", () => {
  it("parses i/n and refuses anything else with the reason", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    expect(parseShard(" 0/1 ")).toEqual({ index: 0, count: 1 });
    for (const bad of ["3/3", "1/0", "-1/3", "1", "a/b", "1/1001", "1/3/4"]) {
      expect(parseShard(bad)).toEqual({ error: expect.stringContaining("is not i/n") });
    }
  });

  it("puts every check in exactly one of n shards, spread evenly, and stably", () => {
    const names = Array.from({ length: 3000 }, (_, i) => `check-${i}`);
    for (const count of [1, 2, 3, 7]) {
      const sizes = Array.from(
        { length: count },
        (_, index) => names.filter((n) => isInShard(n, { index, count })).length,
      );
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(names.length);
      for (const name of names) {
        const owners = Array.from({ length: count }, (_, index) => index).filter((index) =>
          isInShard(name, { index, count }),
        );
        expect(owners).toHaveLength(1);
      }
      for (const size of sizes)
        expect(Math.abs(size - names.length / count)).toBeLessThan((names.length / count) * 0.15);
    }
    expect(isInShard("mail-eu", { index: 1, count: 3 })).toBe(isInShard("mail-eu", { index: 1, count: 3 }));
  });

  it("selects this shard's checks and leaves the rest of the config alone", () => {
    const check = (name: string): CheckConfig => ({
      name,
      kind: fakeKind,
      settings: {},
      target: { type: "none", label: "t" },
      plan: { type: "interval", everyMs: 1000 },
      timeoutMs: 500,
      labels: {},
      throttleScope: undefined,
      fingerprint: name,
    });
    const config: AgentConfig = {
      credentials: new Map(),
      metrics: { runDurationHistogram: false, lastSuccessTimestamp: false },
      listen: { host: "127.0.0.1", port: 1 },
      location: "lab",
      labels: {},
      logLevel: "info",
      checks: ["a", "b", "c", "d", "e", "f"].map(check),
    };
    expect(selectShard(config, NO_SHARD)).toBe(config);
    const parts = [0, 1, 2].map((index) => selectShard(config, { index, count: 3 }).checks.map((c) => c.name));
    expect(parts.flat().sort()).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(selectShard(config, { index: 1, count: 3 }).location).toBe("lab");
  });

  it("exports which shard the agent runs", async () => {
    const metrics = new Metrics(new Registry(), { version: "t", nodeVersion: "t" }, []);
    expect(await metrics.registry.metrics()).toContain('suiteprobe_shard_info{shard="0",shards="1"} 1');
    metrics.setShard({ index: 2, count: 3 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('suiteprobe_shard_info{shard="2",shards="3"} 1');
    expect(text).not.toContain('shards="1"');
  });
});
