import { pino } from "pino";
import { factRecord } from "../../src/core/facts.js";
import { describe, expect, it } from "vitest";
import type { CheckConfig } from "../../src/config/model.js";
import { describeFailure, runCheck } from "../../src/runtime/runner.js";
import { fakeKind } from "../helpers/fake-kind.js";

const silent = pino({ level: "silent" });

function check(settings: Record<string, unknown>, timeoutMs = 200): CheckConfig {
  return {
    name: "t",
    kind: fakeKind,
    settings: { port: 1, delay_ms: 0, ...settings },
    target: { type: "socket", host: "127.0.0.1", port: 1, label: "127.0.0.1:1" },
    plan: { type: "interval", everyMs: 1000 },
    timeoutMs,
    labels: {},
    throttleScope: undefined,
    fingerprint: "t",
  };
}

describe("runCheck", () => {
  it("reports success with the phases the probe timed", async () => {
    const outcome = await runCheck(check({ mode: "slow", delay_ms: 20 }), { logger: silent });
    expect(outcome.status).toBe("success");
    expect(outcome.failure).toBeUndefined();
    expect(Object.keys(outcome.phases)).toEqual(["first", "second"]);
    expect(outcome.phases.second).toBeGreaterThanOrEqual(0.019);
  });

  it("classifies a probe failure through the classifier: 451 4.3.2 is unavailable, retryable, provider side", async () => {
    const outcome = await runCheck(check({ mode: "fail" }), { logger: silent });
    expect(outcome.status).toBe("failure");
    expect(outcome.failure).toMatchObject({
      class: "unavailable",
      code: "4.3.2",
      phase: "second",
      retryable: true,
      side: "provider",
    });
    expect(factRecord(outcome.facts)).toEqual({ fake_level: 451 });
  });

  it("turns a probe that throws a plain error into a classified failure, never a crash", async () => {
    const outcome = await runCheck(check({ mode: "throw" }), { logger: silent });
    expect(outcome.status).toBe("failure");
    expect(outcome.failure?.class).toBe("unknown");
    expect(outcome.failure?.message).toBe("a bug in a probe");
  });

  it("cuts a hanging probe off at its deadline as a timeout in the phase it was in, and aborts its signal", async () => {
    const started = performance.now();
    const outcome = await runCheck(check({ mode: "hang" }, 150), { logger: silent });
    const elapsed = performance.now() - started;
    expect(outcome.failure).toMatchObject({ class: "timeout", phase: "second", retryable: true });
    expect(elapsed).toBeLessThan(150 + 200);
    expect(elapsed).toBeGreaterThanOrEqual(145);
  });

  it("returns at the deadline even when the probe ignores its signal", async () => {
    const started = performance.now();
    const outcome = await runCheck(check({ mode: "ignore_signal" }, 100), { logger: silent });
    expect(outcome.failure?.class).toBe("timeout");
    expect(performance.now() - started).toBeLessThan(100 + 200);
  });

  it("reports a run stopped by shutdown as cancelled, not as a failure", async () => {
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(new Error("shutdown")), 30);
    const outcome = await runCheck(check({ mode: "hang" }, 5000), {
      logger: silent,
      cancel: cancel.signal,
    });
    expect(outcome.status).toBe("cancelled");
    expect(outcome.failure).toBeUndefined();
  });
});

describe("failure messages", () => {
  it("say a cause's message once when the wrapper already repeats it", () => {
    const cause = new Error("getaddrinfo ENOTFOUND smtp.example.test");
    const error = new Error("connect: getaddrinfo ENOTFOUND smtp.example.test", { cause });
    expect(describeFailure(error, false, "connect").message).toBe("connect: getaddrinfo ENOTFOUND smtp.example.test");
    const wrapped = new Error("submission failed", { cause });
    expect(describeFailure(wrapped, false, "connect").message).toBe(
      "submission failed: getaddrinfo ENOTFOUND smtp.example.test",
    );
  });
});
