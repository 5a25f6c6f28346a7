import cron from "node-cron";
import type { Plan } from "../config/model.js";

/** Most a cron run is delayed past its cron time: the splay spans the gap between cron times up to this. */
export const CRON_SPLAY_MAX_MS = 60 * 60_000;

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

/**
 * The first time at or after `nowMs` whose position within the interval is the check's splay. Like Prometheus's
 * scrape offsets: the phase is a hash of the name over the whole interval, counted from the Unix epoch, so N checks on
 * interval I start at a steady N/I per second, and each keeps its phase across restarts and reloads.
 */
export function firstSlotMs(name: string, everyMs: number, nowMs: number): number {
  const every = Math.max(1, Math.floor(everyMs));
  const phase = splayMs(name, every);
  const wait = (((phase - nowMs) % every) + every) % every;
  return nowMs + wait;
}

/** A planner for an interval or cron plan, with the check's splay. */
export function createPlanner(name: string, plan: Plan): Planner {
  if (plan.type === "interval") {
    const every = plan.everyMs;
    return {
      first: (now) => firstSlotMs(name, every, now),
      next: (previous, now) => {
        // Fixed steps from the first plan, so starts do not drift; missed slots (a blocked loop) are skipped.
        const steps = Math.max(1, Math.ceil((now - previous) / every));
        return previous + steps * every;
      },
      close: () => undefined,
    };
  }
  const task = cron.createTask(plan.expression, () => undefined);
  // Spread over the gap between two cron times (a minute for "* * * * *"), so checks sharing a schedule run at a
  // steady rate rather than in a burst after each cron time; capped so an hourly or daily cron stays near its time.
  const [a, b] = task.getNextRuns(2).map((d) => d.getTime());
  const gap = a === undefined || b === undefined ? 0 : b - a;
  const offset = splayMs(name, Math.min(gap, CRON_SPLAY_MAX_MS));
  const upcoming = (after: number): number => {
    // getNextRuns counts from now; ask for a few and take the first strictly after `after`.
    const next = task.getNextRuns(3).map((d) => d.getTime());
    // The cron time before the next one may still be due once the splay is added (regular schedules).
    const before = next[0] !== undefined && gap > 0 ? [next[0] - gap] : [];
    const runs = [...before, ...next].map((t) => t + offset);
    return runs.find((t) => t > after) ?? (runs.at(-1) ?? after) + 60_000;
  };
  return {
    first: (now) => upcoming(now),
    next: (_previous, now) => upcoming(now),
    close: () => void task.destroy(),
  };
}
