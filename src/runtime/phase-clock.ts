import type { PhaseClock } from "../core/probe.js";

/** A PhaseClock on the monotonic clock that times only the kind's declared phases (they are label values). */
export function createPhaseClock(allowed: readonly string[], now: () => number = () => performance.now()): PhaseClock {
  const isAllowed = new Set(allowed);
  const durations = new Map<string, number>();
  const stack: string[] = [];
  return {
    async time<T>(phase: string, fn: () => Promise<T>): Promise<T> {
      if (!isAllowed.has(phase)) throw new TypeError(`phase ${phase} is not declared by this kind`);
      const started = now();
      stack.push(phase);
      try {
        return await fn();
      } finally {
        stack.pop();
        durations.set(phase, (durations.get(phase) ?? 0) + (now() - started) / 1000);
      }
    },
    get current() {
      return stack.at(-1);
    },
    snapshot() {
      return Object.fromEntries(durations);
    },
  };
}
