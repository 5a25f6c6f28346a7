import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { CheckConfig } from "../../src/config/model.js";
import { describeFailure, runCheck } from "../../src/runtime/runner.js";
import { createPhaseClock } from "../../src/runtime/phase-clock.js";
import { fakeKind } from "../helpers/fake-kind.js";

const silent = pino({ level: "silent" });

function hangingCheck(timeoutMs: number, mode = "hang"): CheckConfig {
  return {
    name: "t",
    kind: fakeKind,
    settings: { port: 1, delay_ms: 0, mode },
    target: { type: "socket", host: "127.0.0.1", port: 1, label: "127.0.0.1:1" },
    plan: { type: "interval", everyMs: 1000 },
    timeoutMs,
    labels: {},
    throttleScope: undefined,
    fingerprint: "t",
  };
}

describe("a run cut off at its deadline (issue 8, item 12)", () => {
  it("records the interrupted phase's elapsed time, even when the probe has not let go of it yet", async () => {
    // ignore_signal: the phase is still open when the runner reports (a session stuck in a write, say).
    const outcome = await runCheck(hangingCheck(150, "ignore_signal"), { logger: silent, state: new Map() });
    expect(outcome.failure).toMatchObject({ class: "timeout", phase: "second" });
    expect(outcome.phases.second).toBeGreaterThanOrEqual(0.13);
    expect(outcome.phases.second).toBeLessThan(1);
  });

  it("puts a peer that accepted the connection and then stalls on the provider's side", async () => {
    const outcome = await runCheck(hangingCheck(100), { logger: silent, state: new Map() });
    expect(outcome.failure).toMatchObject({ class: "timeout", phase: "second", side: "provider" });
  });

  const deadline = new DOMException("deadline", "TimeoutError");
  const cases: [string | undefined, string][] = [
    ["connect", "network"],
    ["mailbox_connect", "network"],
    ["submit_connect", "network"],
    [undefined, "network"],
    ["tls", "provider"],
    ["banner", "provider"],
    ["greeting", "provider"],
    ["mailbox_auth", "provider"],
  ];
  for (const [phase, side] of cases) {
    it(`a deadline in phase ${phase ?? "(none)"} is side ${side}`, () => {
      expect(describeFailure(deadline, true, phase)).toMatchObject({ class: "timeout", side });
    });
  }
});

describe("PhaseClock.snapshot", () => {
  it("includes phases still in progress, added to what they accumulated before", async () => {
    let now = 0;
    const clock = createPhaseClock(["a", "b"], () => now);
    await clock.time("a", () => {
      now += 1000;
      return Promise.resolve();
    });
    let release = (): void => undefined;
    const open = clock.time("a", () => new Promise<void>((resolve) => (release = resolve)));
    now += 500;
    expect(clock.snapshot()).toEqual({ a: 1.5 });
    release();
    await open;
    expect(clock.snapshot()).toEqual({ a: 1.5 });
  });
});
