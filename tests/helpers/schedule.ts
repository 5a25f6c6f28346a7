import { firstSlotMs } from "../../src/runtime/plan.js";

/**
 * A check name whose first run, on an interval of `everyMs`, falls within `withinMs` from now: checks start at a
 * hashed phase of their whole interval (like Prometheus's scrape offsets), so a test that needs a 5-minute check's first
 * run soon picks its name rather than waiting up to five minutes.
 */
export function nameStartingSoon(prefix: string, everyMs: number, withinMs = 4000, startupMs = 1500): string {
  const now = Date.now() + startupMs;
  for (let i = 0; i < 100_000; i++) {
    const name = `${prefix}-${i}`;
    if (firstSlotMs(name, everyMs, now) - now <= withinMs) return name;
  }
  throw new Error(`no name starting within ${withinMs} ms for an interval of ${everyMs} ms`);
}
