import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { CheckConfig } from "../../src/config/model.js";
import { describeFailure, throttleVerdict, type RunOutcome } from "../../src/runtime/runner.js";
import { Scheduler, type SkipReason } from "../../src/runtime/scheduler.js";
import { THROTTLE_BACKOFF, ThrottleGate } from "../../src/runtime/throttle.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { fakeKind } from "../helpers/fake-kind.js";

describe("ThrottleGate", () => {
  it("holds a scope for the API's Retry-After, then lets it run", () => {
    let now = 1_000_000;
    const gate = new ThrottleGate(() => now);
    gate.record("m365@graph", { isThrottled: true, retryAfterSeconds: 120 });
    expect(gate.heldUntil("m365@graph")).toBe(1_120_000);
    expect(gate.heldUntil("other@graph")).toBeUndefined();
    expect(gate.heldUntil(undefined)).toBeUndefined();
    now += 119_999;
    expect(gate.heldUntil("m365@graph")).toBe(1_120_000);
    now += 1;
    expect(gate.heldUntil("m365@graph")).toBeUndefined();
  });

  it("backs off exponentially without Retry-After, capped, and a normal answer ends the streak", () => {
    let now = 0;
    const gate = new ThrottleGate(() => now);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      gate.record("s", { isThrottled: true });
      const until = gate.heldUntil("s") ?? now;
      waits.push(until - now);
      now = until;
    }
    expect(waits).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]);
    expect(Math.max(...waits)).toBe(THROTTLE_BACKOFF.maxMs);
    gate.record("s", { isThrottled: false });
    gate.record("s", { isThrottled: true });
    expect(gate.heldUntil("s")).toBe(now + THROTTLE_BACKOFF.firstMs);
  });

  it("never shortens a hold another check of the scope got", () => {
    const gate = new ThrottleGate(() => 0);
    gate.record("s", { isThrottled: true, retryAfterSeconds: 600 });
    gate.record("s", { isThrottled: true, retryAfterSeconds: 5 });
    expect(gate.heldUntil("s")).toBe(600_000);
  });

  it("forgets scopes no check uses any more", () => {
    const gate = new ThrottleGate(() => 0);
    gate.record("gone", { isThrottled: true, retryAfterSeconds: 600 });
    gate.retain(new Set(["kept"]));
    expect(gate.heldUntil("gone")).toBeUndefined();
  });
});

describe("throttleVerdict", () => {
  const http = (status: number, headers: Record<string, string>) =>
    describeFailure(
      new ProbeError(`HTTP ${status}`, { phase: "second", facts: { protocol: "graph", input: { status, headers } } }),
      false,
      undefined,
    );
  const outcomeWith = (failure: ReturnType<typeof describeFailure>): RunOutcome => ({
    check: "c",
    kind: "fake",
    target: "t",
    status: "failure",
    durationSeconds: 0,
    phases: {},
    facts: new Map(),
    startedAt: new Date(),
    endedAt: new Date(),
    failure,
  });

  it("reads a 429 with Retry-After as a throttle of that length", () => {
    const failure = http(429, { "Retry-After": "30" });
    expect(failure).toMatchObject({ class: "throttled", retryAfterSeconds: 30 });
    expect(throttleVerdict(outcomeWith(failure))).toEqual({ isThrottled: true, retryAfterSeconds: 30 });
  });

  it("holds after a 503 that asked to wait, backs off after a bare 429, and never for a plain 503", () => {
    expect(throttleVerdict(outcomeWith(http(503, { "retry-after": "10" })))).toEqual({
      isThrottled: true,
      retryAfterSeconds: 10,
    });
    expect(throttleVerdict(outcomeWith(http(429, {})))).toEqual({ isThrottled: true });
    expect(throttleVerdict(outcomeWith(http(503, {})))).toEqual({ isThrottled: false });
  });
});

describe("Scheduler with a throttle scope", () => {
  function check(name: string): CheckConfig {
    return {
      name,
      kind: fakeKind,
      settings: {},
      target: { type: "none", label: "t" },
      plan: { type: "interval", everyMs: 60 },
      timeoutMs: 30,
      labels: {},
      throttleScope: "m365@graph.test",
      fingerprint: name,
    };
  }

  it("holds every check of the scope after one is throttled, counts the held runs, then resumes", async () => {
    const started: { name: string; at: number }[] = [];
    const skips: { name: string; reason: SkipReason; at: number }[] = [];
    let isThrottling = true;
    const t0 = Date.now();
    const scheduler = new Scheduler({
      logger: pino({ level: "silent" }),
      run: (c) => {
        started.push({ name: c.name, at: Date.now() - t0 });
        const base = {
          check: c.name,
          kind: "fake",
          target: "t",
          durationSeconds: 0,
          phases: {},
          facts: new Map(),
          startedAt: new Date(),
          endedAt: new Date(),
        };
        if (!isThrottling) return Promise.resolve({ ...base, status: "success" as const });
        isThrottling = false; // the API throttles once, with Retry-After: 1
        return Promise.resolve({
          ...base,
          status: "failure" as const,
          failure: { ...describeFailureStub(), retryAfterSeconds: 1 },
        });
      },
      onOutcome: () => undefined,
      onSkip: (c, reason) => skips.push({ name: c.name, reason, at: Date.now() - t0 }),
      onLag: () => undefined,
    });
    scheduler.apply([check("teams"), check("search")]);
    scheduler.start();
    await new Promise((r) => setTimeout(r, 1_600));
    await scheduler.stop();

    const throttledAt = started[0]?.at ?? 0;
    const held = skips.filter((s) => s.reason === "throttled");
    // Both checks of the scope were held, not just the one that saw the 429.
    expect(new Set(held.map((s) => s.name))).toEqual(new Set(["teams", "search"]));
    // Nothing was sent into the window the API asked for (1 s after the throttled run).
    const inWindow = started.slice(1).filter((s) => s.at > throttledAt && s.at < throttledAt + 1_000 - 5);
    expect(inWindow).toEqual([]);
    // And runs resumed afterwards.
    expect(started.filter((s) => s.at >= throttledAt + 1_000 - 5).length).toBeGreaterThan(0);
  });
});

function describeFailureStub(): NonNullable<RunOutcome["failure"]> {
  return {
    class: "throttled",
    code: "429",
    phase: "second",
    retryable: true,
    side: "provider",
    message: "HTTP 429",
  };
}
