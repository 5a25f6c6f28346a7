import { pino } from "pino";
import type { ProbeContext, ProbeKind, RunFacts, Target } from "../../src/core/probe.js";
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
 * Runs `kind` once against host:port (or, for kinds whose block names the endpoints, `target` undefined) with
 * `settings` parsed by the kind's schema, aborting the signal after `timeoutMs` the way the runner does at the
 * deadline. `options.state` carries state between runs of one check, as the scheduler does.
 */
export async function runProbe(
  kind: ProbeKind<unknown>,
  settings: unknown,
  target: { host?: string; port: number } | undefined,
  timeoutMs = 3000,
  options: { check?: string; state?: Map<string, unknown> } = {},
): Promise<ProbeRun> {
  const parsed = kind.settingsSchema.parse(settings);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("probe deadline exceeded", "TimeoutError")),
    timeoutMs,
  );
  const phases = createPhaseClock();
  const facts: RunFacts = {};
  const ctx: ProbeContext<unknown> = {
    check: options.check ?? "test",
    settings: parsed,
    target: targetOf(kind, parsed, target),
    signal: controller.signal,
    deadline: Date.now() + timeoutMs,
    phases,
    facts,
    logger: pino({ level: "silent" }),
    state: options.state ?? new Map(),
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

function targetOf(
  kind: ProbeKind<unknown>,
  settings: unknown,
  target: { host?: string; port: number } | undefined,
): Target {
  if (kind.target.type === "none") return { type: "none", label: kind.target.label(settings) };
  if (target === undefined) throw new Error(`kind ${kind.id} needs a host:port target`);
  const host = target.host ?? "127.0.0.1";
  return { type: "socket", host, port: target.port, label: `${host}:${target.port}` };
}
