import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { Agent, resultChange } from "../../src/agent.js";
import { loadConfigFile } from "../../src/config/load.js";
import { Metrics } from "../../src/metrics/metrics.js";
import type { RunOutcome } from "../../src/runtime/runner.js";
import { fakeKinds } from "../helpers/fake-kind.js";

function outcome(status: "success" | "failure", cls?: "timeout" | "throttled"): RunOutcome {
  const now = new Date();
  return {
    check: "c",
    kind: "fake",
    target: "t",
    status,
    durationSeconds: 0,
    phases: {},
    facts: new Map(),
    startedAt: now,
    endedAt: now,
    ...(cls && {
      failure: { class: cls, code: "none", phase: "none", retryable: true, side: "network", message: cls },
    }),
  };
}

describe("resultChange", () => {
  it.each([
    [undefined, outcome("success"), "first"],
    [undefined, outcome("failure", "timeout"), "first"],
    [outcome("success"), outcome("success"), undefined],
    [outcome("success"), outcome("failure", "timeout"), "failing"],
    [outcome("failure", "timeout"), outcome("failure", "timeout"), undefined],
    [outcome("failure", "timeout"), outcome("failure", "throttled"), "class_changed"],
    [outcome("failure", "timeout"), outcome("success"), "recovered"],
  ] as const)("%# %o → %o", (previous, next, expected) => {
    expect(resultChange(previous, next)).toBe(expected);
  });
});

/** Runs an agent with one healthy and one failing check on a 40 ms interval and returns its log lines. */
async function logLines(level: "info" | "debug"): Promise<{ msg: string; check?: string; level: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), "suiteprobe-log-"));
  const path = join(dir, "config.yaml");
  writeFileSync(
    path,
    `agent: { log_level: ${level} }\ndefaults: { interval: 40ms, timeout: 30ms }\nchecks:\n` +
      `  - { name: ok, kind: fake, target: 127.0.0.1 }\n` +
      `  - { name: bad, kind: fake, target: 127.0.0.1, fake: { mode: fail } }\n`,
  );
  const lines: { msg: string; check?: string; level: number }[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[0]) });
  const metrics = new Metrics(new Registry(), { version: "t", nodeVersion: process.version }, []);
  const agent = new Agent({ kinds: fakeKinds, configPath: path, logger, metrics });
  const loaded = await loadConfigFile(path, fakeKinds);
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  await agent.start(loaded.config);
  await new Promise((resolve) => setTimeout(resolve, 400));
  await agent.stop();
  return lines;
}

describe("result logging", () => {
  it("logs a healthy check's first result at info and its later successes only at debug; every failure at info", async () => {
    const info = await logLines("info");
    const results = (check: string) => info.filter((l) => l.check === check && l.msg.startsWith("check "));
    expect(results("ok").map((l) => [l.msg, l.level])).toEqual([["check success", 30]]);
    expect(results("bad").length).toBeGreaterThanOrEqual(3);
    expect(results("bad").every((l) => l.msg === "check failure" && l.level === 30)).toBe(true);

    const debug = await logLines("debug");
    const okAtDebug = debug.filter((l) => l.check === "ok" && l.msg === "check success");
    expect(okAtDebug.length).toBeGreaterThanOrEqual(3);
    expect(okAtDebug.filter((l) => l.level === 20).length).toBe(okAtDebug.length - 1);
  });
});
