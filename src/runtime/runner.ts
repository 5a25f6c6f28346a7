import type { Logger } from "pino";
import type { CheckConfig } from "../config/model.js";
import { classifyFailure } from "../core/classify.js";
import { createFactRecorder, type FactValues, type LabelledFactValues } from "../core/facts.js";
import { ProbeError } from "../core/probe-error.js";
import { retryAfterSeconds } from "../core/retry-after.js";
import { redactorForSettings, type Redactor } from "../core/redactor.js";
import type { ErrorClass, Side } from "../core/taxonomy.js";
import type { CredentialSet } from "./credentials.js";
import { createPhaseClock } from "./phase-clock.js";
import type { ThrottleVerdict } from "./throttle.js";

/** A classified failure, as metrics, logs, the status page and `once --json` report it. */
export interface Failure {
  class: ErrorClass;
  code: string;
  phase: string;
  retryable: boolean;
  side: Side;
  /** Short, one line, no secrets. */
  message: string;
  /** The API's Retry-After (seconds, capped) where the failure carried one. */
  retryAfterSeconds?: number;
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
  /** What the run reported, keyed by the kind's declared facts. */
  facts: FactValues;
  /** What the run reported of the kind's labelled facts (none when absent). */
  labelledFacts?: LabelledFactValues;
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
  deps: { logger: Logger; cancel?: AbortSignal; state?: unknown; credentials?: CredentialSet },
): Promise<RunOutcome> {
  const controller = new AbortController();
  const phases = createPhaseClock(check.kind.phases);
  const facts = createFactRecorder(check.kind.facts, check.settings);
  // The scheduler keeps a check's state across runs; a lone run (once, tests) gets a fresh one.
  const state = "state" in deps ? deps.state : check.kind.createState?.();
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
      facts: facts.recorder,
      logger: deps.logger,
      state,
      credential: (name) => {
        if (deps.credentials === undefined) throw new TypeError("this run was given no credentials");
        return deps.credentials.get(name);
      },
      proxyFor: (url) => deps.credentials?.proxyFor(url),
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
    facts: facts.values(),
    labelledFacts: facts.labelled(),
    startedAt,
    endedAt,
  };
  const reason: unknown = controller.signal.reason;
  if (controller.signal.aborted && !(reason instanceof DeadlineExceeded)) return { ...base, status: "cancelled" };
  if (isSuccess && !controller.signal.aborted) return { ...base, status: "success" };

  // Sessions redact what they show; this is the net under every kind, new ones included.
  const redactor = redactorForSettings(check.settings);
  const failure = describeFailure(error ?? reason, controller.signal.aborted, phaseAtAbort ?? phases.current, redactor);
  if (failure.phase !== "none" && !check.kind.phases.includes(failure.phase)) {
    // Phases are label values: an undeclared one (a probe bug) must not invent series.
    deps.logger.warn({ phase: failure.phase }, "failure in a phase the kind does not declare; reported as none");
    failure.phase = "none";
  }
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
  const retryAfter = isDeadline ? undefined : retryAfterOf(error);
  return {
    class: cls,
    code: verdict.code,
    phase: isDeadline ? (currentPhase ?? phase) : phase,
    retryable: verdict.retryable,
    side,
    message: shortMessage(error, redactor),
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  };
}

/** Retry-After of an HTTP-family failure's response, if it had one. */
function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof ProbeError) || error.facts === undefined || !("status" in error.facts.input)) return undefined;
  return retryAfterSeconds(error.facts.input.headers, Date.now());
}

/** What a finished run says about its throttle scope: a throttle, or a 5xx that asked to wait, holds the scope. */
export function throttleVerdict(outcome: RunOutcome): ThrottleVerdict {
  const failure = outcome.failure;
  if (failure === undefined || (failure.class !== "throttled" && failure.retryAfterSeconds === undefined)) {
    return { isThrottled: false };
  }
  return failure.retryAfterSeconds === undefined
    ? { isThrottled: true }
    : { isThrottled: true, retryAfterSeconds: failure.retryAfterSeconds };
}

/**
 * Whose side a run cut off at its deadline is on: the network's while the name is resolved or the connection is being
 * set up (a phase named `dns` or `connect`, alone or as `…_connect`, or no phase yet), the provider's once a peer has
 * accepted it and then stalls.
 */
function deadlineSide(phase: string | undefined): Side {
  return phase === undefined || phase === "none" || /(?:^|_)(?:connect|dns)$/.test(phase) ? "network" : "provider";
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
