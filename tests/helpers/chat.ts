import { ProbeError } from "../../src/core/probe-error.js";
import { describeFailure, throttleVerdict, type Failure } from "../../src/runtime/runner.js";
import { ThrottleGate } from "../../src/runtime/throttle.js";
import type { ProbeRun } from "./run-probe.js";

/** The failure of a run as the runner would record it (class, code, phase, Retry-After). */
export function failureOf(run: ProbeRun): Failure {
  if (!(run.error instanceof ProbeError)) throw new Error(`expected a ProbeError, got ${String(run.error)}`);
  return describeFailure(run.error, false, undefined);
}

/** How long (ms from now) the scheduler's throttle gate holds `scope` after this failed run; undefined: not held. */
export function heldForMs(run: ProbeRun, scope: string): number | undefined {
  const now = Date.now();
  const gate = new ThrottleGate(() => now);
  const failure = failureOf(run);
  gate.record(scope, throttleVerdict({ failure } as Parameters<typeof throttleVerdict>[0]));
  const until = gate.heldUntil(scope);
  return until === undefined ? undefined : until - now;
}
