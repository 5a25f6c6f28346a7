import type { Logger } from "pino";
import type { CheckConfig } from "../config/model.js";
import { classifyFailure } from "../core/classify.js";
import type { RunFacts } from "../core/probe.js";
import { ProbeError } from "../core/probe-error.js";
import { redactorForSettings, type Redactor } from "../core/redactor.js";
import type { ErrorClass, Side } from "../core/taxonomy.js";
import { createPhaseClock } from "./phase-clock.js";

/** A classified failure, as metrics, logs, the status page and `once --json` report it. */
export interface Failure {
  class: ErrorClass;
  code: string;
  phase: string;
  retryable: boolean;
  side: Side;
  /** Short, one line, no secrets. */
  message: string;
}

/** The result of one run of one check. */
export interface RunOutcome {
  check: string;
  kind: string;
  target: string;
  /** `cancelled`: stopped by shutdown or reload; not a result, not recorded. */
  status: "success" | "failure" | "cancelled";
  durationSeconds: number;
  phases: Record<string, number>;
  facts: RunFacts;
  startedAt: Date;
  endedAt: Date;
  failure?: Failure;
}

/** A failure's fields as logs and `once --json` print them; empty for a success. */
export function failureFields(failure: Failure | undefined): Partial<Failure> {
  return failure === undefined ? {} : { ...failure };
}

/** Distinguishes our deadline from other aborts. */
class DeadlineExceeded extends Error {
  override readonly name = "TimeoutError";
}

const MESSAGE_LIMIT = 240;

/** Runs one check once: deadline, phases, catch, classify. Never throws. */
export async function runCheck(
  check: CheckConfig,
  deps: { logger: Logger; state: Map<string, unknown>; cancel?: AbortSignal },
): Promise<RunOutcome> {
  const controller = new AbortController();
  const phases = createPhaseClock();
  const facts: RunFacts = {};
  const startedAt = new Date();
  const started = performance.now();
  const deadline = Date.now() + check.timeoutMs;
  let phaseAtAbort: string | undefined;

  const abort = (reason: unknown) => {
    if (controller.signal.aborted) return;
    phaseAtAbort = phases.current;
    controller.abort(reason);
  };
  const timer = setTimeout(
    () => abort(new DeadlineExceeded(`deadline of ${check.timeoutMs} ms passed`)),
    check.timeoutMs,
  );
  const onCancel = () => abort(deps.cancel?.reason ?? new Error("cancelled"));
  deps.cancel?.addEventListener("abort", onCancel, { once: true });
  if (deps.cancel?.aborted === true) onCancel();

  let error: unknown;
  let isSuccess = false;
  try {
    const run = check.kind.run({
      check: check.name,
      settings: check.settings,
      target: check.target,
      signal: controller.signal,
      deadline,
      phases,
      facts,
      logger: deps.logger,
      state: deps.state,
    });
    // A probe that ignores its signal still loses the race at the deadline; its promise is left to settle alone.
    run.catch(() => undefined);
    await Promise.race([run, abortedPromise(controller.signal)]);
    isSuccess = true;
  } catch (caught) {
    error = caught;
  } finally {
    clearTimeout(timer);
    deps.cancel?.removeEventListener("abort", onCancel);
  }

  const endedAt = new Date();
  const base = {
    check: check.name,
    kind: check.kind.id,
    target: check.target.label,
    durationSeconds: (performance.now() - started) / 1000,
    phases: phases.snapshot(),
    facts,
    startedAt,
    endedAt,
  };
  const reason: unknown = controller.signal.reason;
  if (controller.signal.aborted && !(reason instanceof DeadlineExceeded)) return { ...base, status: "cancelled" };
  if (isSuccess && !controller.signal.aborted) return { ...base, status: "success" };

  // Sessions redact what they show; this is the net under every kind, new ones included.
  const redactor = redactorForSettings(check.settings);
  const failure = describeFailure(error ?? reason, controller.signal.aborted, phaseAtAbort ?? phases.current, redactor);
  if (failure.class === "unknown") {
    deps.logger.warn({ err: error, phase: failure.phase }, "unclassified failure: raw facts for the rule table");
  }
  return { ...base, status: "failure", failure };
}

function abortedPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = () => reject(signal.reason as Error);
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}

/** Classifies a failure; a run cut off at its deadline is a timeout in the phase it was in. */
export function describeFailure(
  error: unknown,
  isDeadline: boolean,
  currentPhase: string | undefined,
  redactor?: Redactor,
): Failure {
  const phase = (error instanceof ProbeError ? error.phase : undefined) ?? currentPhase ?? "none";
  const verdict = isDeadline
    ? classifyFailure(new ProbeError("deadline", { phase, facts: { protocol: "probe", input: { class: "timeout" } } }))
    : classifyFailure(error);
  const cls: ErrorClass = verdict.class === "ok" ? "unknown" : verdict.class;
  const side: Side = isDeadline
    ? deadlineSide(currentPhase ?? phase)
    : verdict.side === "none"
      ? "unknown"
      : verdict.side;
  return {
    class: cls,
    code: verdict.code,
    phase: isDeadline ? (currentPhase ?? phase) : phase,
    retryable: verdict.retryable,
    side,
    message: shortMessage(error, redactor),
  };
}

/**
 * Whose side a run cut off at its deadline is on: the network's while the connection is being set up (a phase named
 * `connect` or `…_connect`, or no phase yet), the provider's once a peer has accepted it and then stalls.
 */
function deadlineSide(phase: string | undefined): Side {
  return phase === undefined || phase === "none" || phase === "connect" || phase.endsWith("_connect")
    ? "network"
    : "provider";
}

/** The error and its causes' messages on one line, bounded. */
function shortMessage(error: unknown, redactor: Redactor | undefined): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    // A wrapper often repeats its cause's message ("connect: getaddrinfo ENOTFOUND x"): say it once.
    const message = current.message;
    if (message !== "" && !parts.some((p) => p.includes(message))) parts.push(message);
    current = current.cause;
  }
  if (parts.length === 0) parts.push(typeof error === "string" ? error : "failed");
  // Redact before shortening: the cut must not leave a piece of a credential behind.
  const joined = parts.join(": ").replace(/\s+/g, " ").trim();
  const line = redactor === undefined ? joined : redactor.redact(joined);
  return line.length > MESSAGE_LIMIT ? `${line.slice(0, MESSAGE_LIMIT - 1)}…` : line;
}
