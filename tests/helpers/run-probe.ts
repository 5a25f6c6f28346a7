import { pino } from "pino";
import type { ProbeContext, ProbeKind, RunFacts } from "../../src/core/probe.js";
import { createPhaseClock } from "../../src/runtime/phase-clock.js";

/** What one probe run did, as the runner would see it. */
export interface ProbeRun {
  /** The thrown error, undefined on success. */
  error: unknown;
  facts: RunFacts;
  phases: Record<string, number>;
  elapsedMs: number;
}

/**
 * Runs `kind` once against host:port with `settings` parsed by the kind's schema, aborting the signal after
 * `timeoutMs` the way the runner does at the deadline.
 */
export async function runProbe(
  kind: ProbeKind<unknown>,
  settings: unknown,
  target: { host?: string; port: number },
  timeoutMs = 3000,
): Promise<ProbeRun> {
  const host = target.host ?? "127.0.0.1";
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("probe deadline exceeded", "TimeoutError")),
    timeoutMs,
  );
  const phases = createPhaseClock();
  const facts: RunFacts = {};
  const ctx: ProbeContext<unknown> = {
    check: "test",
    settings: kind.settingsSchema.parse(settings),
    target: { type: "socket", host, port: target.port, label: `${host}:${target.port}` },
    signal: controller.signal,
    deadline: Date.now() + timeoutMs,
    phases,
    facts,
    logger: pino({ level: "silent" }),
    state: new Map(),
  };
  const started = performance.now();
  let error: unknown;
  try {
    await kind.run(ctx);
  } catch (caught) {
    error = caught;
  } finally {
    clearTimeout(timer);
  }
  return { error, facts, phases: phases.snapshot(), elapsedMs: performance.now() - started };
}
