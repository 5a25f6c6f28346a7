import { pino } from "pino";
import { resolveTarget } from "../../src/config/load.js";
import { createFactRecorder, factRecord } from "../../src/core/facts.js";
import type { AnyProbeKind, ProbeContext, SessionIo, Target } from "../../src/core/probe.js";
import type { CredentialSet } from "../../src/runtime/credentials.js";
import { createPhaseClock } from "../../src/runtime/phase-clock.js";

/** What one probe run did, as the runner would see it. */
export interface ProbeRun {
  /** The thrown error, undefined on success. */
  error: unknown;
  /** Facts under their `once` keys (`smtp_reply_code`, `mail_late`, …). */
  facts: Record<string, number>;
  phases: Record<string, number>;
  elapsedMs: number;
}

/**
 * Runs `kind` once against host:port (or, for kinds whose block names the endpoints, `target` undefined) with
 * `settings` parsed by the kind's schema, aborting the signal after `timeoutMs` the way the runner does at the
 * deadline. `options.state` carries state between runs of one check, as the scheduler does (default: a fresh one).
 * Unlike runCheck, it returns the thrown error itself, so tests can look at its facts and cause.
 */
export async function runProbe(
  kind: AnyProbeKind,
  settings: unknown,
  target: { host?: string; port: number } | undefined,
  timeoutMs = 3000,
  options: { check?: string; state?: unknown; credentials?: CredentialSet; url?: URL } = {},
): Promise<ProbeRun> {
  const parsed = kind.settingsSchema.parse(settings);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("probe deadline exceeded", "TimeoutError")),
    timeoutMs,
  );
  const phases = createPhaseClock(kind.phases);
  const facts = createFactRecorder(kind.facts, parsed);
  const ctx: ProbeContext<unknown, unknown> = {
    check: options.check ?? "test",
    settings: parsed,
    target: targetOf(kind, parsed, target, options.url),
    signal: controller.signal,
    deadline: Date.now() + timeoutMs,
    phases,
    facts: facts.recorder,
    logger: pino({ level: "silent" }),
    state: "state" in options ? options.state : kind.createState?.(),
    credential: (name) => {
      if (options.credentials === undefined) throw new Error("runProbe was given no credentials");
      return options.credentials.get(name);
    },
    proxyFor: (url) => options.credentials?.proxyFor(url),
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
  return {
    error,
    facts: factRecord(facts.values()),
    phases: phases.snapshot(),
    elapsedMs: performance.now() - started,
  };
}

function targetOf(
  kind: AnyProbeKind,
  settings: unknown,
  target: { host?: string; port: number } | undefined,
  url?: URL,
): Target {
  const text = url?.href ?? (target === undefined ? undefined : `${target.host ?? "127.0.0.1"}:${target.port}`);
  const errors: string[] = [];
  const resolved = resolveTarget(kind, text, settings, "target", errors);
  if (resolved === undefined) throw new Error(`kind ${kind.id}: ${errors.join("; ")}`);
  return resolved;
}

/** The run-borrowed parts of a session (clock, facts, silent logger) for calling a protocol session directly, as
 * `kind` would; `facts()` reads what the session reported under the `once` keys. */
export function sessionIo(kind: AnyProbeKind): Omit<SessionIo, "signal"> & { reported(): Record<string, number> } {
  const recorder = createFactRecorder(kind.facts);
  return {
    phases: createPhaseClock(kind.phases),
    facts: recorder.recorder,
    logger: pino({ level: "silent" }),
    reported: () => factRecord(recorder.values()),
  };
}
