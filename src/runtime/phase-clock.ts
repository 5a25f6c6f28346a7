import type { PhaseClock } from "../core/probe.js";

/** A PhaseClock on the monotonic clock that times only the kind's declared phases (they are label values). */
export function createPhaseClock(allowed: readonly string[], now: () => number = () => performance.now()): PhaseClock {
  const isAllowed = new Set(allowed);
  const durations = new Map<string, number>();
  const stack: { phase: string; started: number }[] = [];
  return {
    async time<T>(phase: string, fn: () => Promise<T>): Promise<T> {
      if (!isAllowed.has(phase)) throw new TypeError(`phase ${phase} is not declared by this kind`);
      const entry = { phase, started: now() };
      stack.push(entry);
      try {
        return await fn();
      } finally {
        stack.splice(stack.lastIndexOf(entry), 1);
        durations.set(phase, (durations.get(phase) ?? 0) + (now() - entry.started) / 1000);
      }
    },
    get current() {
      return stack.at(-1)?.phase;
    },
    snapshot() {
      // Phases still open count up to now: a run cut off at its deadline reports how long the stuck phase took.
      const out = new Map(durations);
      const at = now();
      for (const { phase, started } of stack) out.set(phase, (out.get(phase) ?? 0) + (at - started) / 1000);
      return Object.fromEntries(out);
    },
  };
}
