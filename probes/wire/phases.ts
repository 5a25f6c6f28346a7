import type { PhaseClock, SessionIo } from "../../src/core/probe.js";
import { ProbeError } from "../../src/core/probe-error.js";

/**
 * A session used inside a larger kind, with every phase label prefixed (`rcpt` → `submit_rcpt`, `auth` →
 * `mailbox_auth`) for timing and for failures alike: a failure leaving a prefixed phase carries the prefixed label, so
 * "451 at RCPT" and "login refused by the mailbox" stay apart while the kind's phase set stays fixed.
 */
export function withPhasePrefix<T extends SessionIo>(io: T, prefix: string): T {
  const clock = io.phases;
  const phases: PhaseClock = {
    async time(phase, fn) {
      try {
        return await clock.time(`${prefix}${phase}`, fn);
      } catch (error) {
        throw prefixedFailure(error, prefix, phase);
      }
    },
    get current() {
      return clock.current;
    },
    snapshot: () => clock.snapshot(),
  };
  return { ...io, phases };
}

/** The failure with its phase prefixed once; an error that is not a ProbeError is wrapped, its cause kept. */
export function prefixedFailure(error: unknown, prefix: string, phase: string): ProbeError {
  if (!(error instanceof ProbeError)) {
    const message = error instanceof Error ? error.message : "failed";
    return new ProbeError(message, { phase: `${prefix}${phase}` }, { cause: error });
  }
  const own = error.phase ?? phase;
  return own.startsWith(prefix) ? error : error.relabel(`${prefix}${own}`);
}

/** A clock that times nothing: the caller's one phase covers the whole call (a token request is `auth`, an API call
 * is the kind's step), while the call's own sub-phases still label its failures. */
export function detachedClock(): PhaseClock {
  const stack: string[] = [];
  return {
    async time<T>(phase: string, fn: () => Promise<T>): Promise<T> {
      stack.push(phase);
      try {
        return await fn();
      } finally {
        stack.pop();
      }
    },
    get current() {
      return stack.at(-1);
    },
    snapshot: () => ({}),
  };
}
