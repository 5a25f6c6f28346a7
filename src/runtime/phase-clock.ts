import type { PhaseClock } from "../core/probe.js";

/** A PhaseClock on the monotonic clock. */
export function createPhaseClock(now: () => number = () => performance.now()): PhaseClock {
  const durations = new Map<string, number>();
  const stack: string[] = [];
  return {
    async time<T>(phase: string, fn: () => Promise<T>): Promise<T> {
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
