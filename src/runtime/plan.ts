import cron from "node-cron";
import type { Plan } from "../config/model.js";

/** Most a cron run is delayed past its cron time to spread checks sharing a schedule. */
export const CRON_SPLAY_MAX_MS = 5_000;
/** Most the first run of an interval check waits after start. */
export const FIRST_RUN_SPLAY_MAX_MS = 15_000;

/** FNV-1a, 32 bit: a stable hash of a check name, the same on every start and machine. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The deterministic offset of a check within `spanMs`. */
export function splayMs(name: string, spanMs: number): number {
  return spanMs <= 0 ? 0 : stableHash(name) % Math.floor(spanMs);
}

/** Computes planned start times for one check. */
export interface Planner {
  /** The first planned start after `nowMs`. */
  first(nowMs: number): number;
  /** The planned start after `previousMs`, skipping slots that are already past at `nowMs`. */
  next(previousMs: number, nowMs: number): number;
  /** Releases resources (cron task). */
  close(): void;
}

/** A planner for an interval or cron plan, with the check's splay. */
export function createPlanner(name: string, plan: Plan): Planner {
  if (plan.type === "interval") {
    const every = plan.everyMs;
    return {
      first: (now) => now + splayMs(name, Math.min(every, FIRST_RUN_SPLAY_MAX_MS)),
      next: (previous, now) => {
        // Fixed steps from the first plan, so starts do not drift; missed slots (a blocked loop) are skipped.
        const steps = Math.max(1, Math.ceil((now - previous) / every));
        return previous + steps * every;
      },
      close: () => undefined,
    };
  }
  const task = cron.createTask(plan.expression, () => undefined);
  const offset = splayMs(name, CRON_SPLAY_MAX_MS);
  const upcoming = (after: number): number => {
    // getNextRuns counts from now; ask for a few and take the first strictly after `after`.
    const runs = task.getNextRuns(3).map((d) => d.getTime() + offset);
    return runs.find((t) => t > after) ?? (runs.at(-1) ?? after) + 60_000;
  };
  return {
    first: (now) => upcoming(now),
    next: (_previous, now) => upcoming(now),
    close: () => void task.destroy(),
  };
}
