import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { CheckConfig } from "../../src/config/model.js";
import { createPlanner, firstSlotMs, splayMs, stableHash } from "../../src/runtime/plan.js";
import type { RunOutcome } from "../../src/runtime/runner.js";
import { Scheduler } from "../../src/runtime/scheduler.js";
import { fakeKind } from "../helpers/fake-kind.js";

const silent = pino({ level: "silent" });

function check(name: string, everyMs: number, fingerprint = name): CheckConfig {
  return {
    name,
    kind: fakeKind,
    settings: {},
    target: { type: "socket", host: "127.0.0.1", port: 1, label: "127.0.0.1:1" },
    plan: { type: "interval", everyMs },
    timeoutMs: everyMs / 2,
    labels: {},
    throttleScope: undefined,
    fingerprint,
  };
}

function outcome(name: string): RunOutcome {
  const now = new Date();
  return {
    check: name,
    kind: "fake",
    target: "t",
    status: "success",
    durationSeconds: 0,
    phases: {},
    facts: new Map(),
    startedAt: now,
    endedAt: now,
  };
}

describe("splay", () => {
  it("stableHash is 32-bit FNV-1a: the published test vectors", () => {
    // From the FNV reference (draft-eastlake-fnv), not from this code: a changed hash would move every check's splay.
    expect(stableHash("")).toBe(0x811c9dc5);
    expect(stableHash("a")).toBe(0xe40c292c);
    expect(stableHash("foobar")).toBe(0xbf9cf968);
  });

  it("is deterministic per name and spreads 1,000 checks over the interval", () => {
    // 0x189c9cf3 = FNV-1a("mail-eu"), computed independently; 412916979 % 60000 = 56979.
    expect(splayMs("mail-eu", 60_000)).toBe(56_979);
    expect(splayMs("mail-eu", 0)).toBe(0);
    const offsets = Array.from({ length: 1000 }, (_, i) => splayMs(`check-${i}`, 60_000));
    expect(Math.max(...offsets)).toBeLessThan(60_000);
    // 1,000 checks must not land in a handful of milliseconds: most offsets are distinct.
    expect(new Set(offsets).size).toBeGreaterThan(950);
    const perTenSeconds = Array.from(
      { length: 6 },
      (_, k) => offsets.filter((o) => Math.floor(o / 10_000) === k).length,
    );
    for (const n of perTenSeconds) expect(n).toBeGreaterThan(100);
  });

  it("plans interval runs in fixed steps and skips slots already past", () => {
    const planner = createPlanner("a", { type: "interval", everyMs: 1000 });
    const first = planner.first(10_000);
    expect(first - 10_000).toBe(splayMs("a", 1000));
    expect(planner.next(first, first)).toBe(first + 1000);
    expect(planner.next(first, first + 3500)).toBe(first + 4000);
  });

  it("plans cron runs at the cron time plus a splay over the gap between cron times", () => {
    const planner = createPlanner("c", { type: "cron", expression: "*/10 * * * * *" });
    const now = Date.now();
    const first = planner.first(now);
    const second = planner.next(first, first);
    planner.close();
    expect(first).toBeGreaterThan(now);
    // The earliest slot: never a full period after now, even when the splay pushes the previous cron time past now.
    expect(first - now).toBeLessThanOrEqual(10_000);
    expect((first - splayMs("c", 10_000)) % 10_000).toBe(0);
    expect(second - first).toBe(10_000);
  });

  it("spreads 10,000 checks on a 60 s interval over the whole minute: a steady rate, not a burst", () => {
    const now = 1_700_000_012_345;
    const firsts = Array.from({ length: 10_000 }, (_, i) => firstSlotMs(`smtp-${i}`, 60_000, now));
    const perSecond = new Array<number>(60).fill(0);
    for (const t of firsts) {
      expect(t).toBeGreaterThanOrEqual(now);
      expect(t).toBeLessThan(now + 60_000);
      perSecond[Math.floor((t - now) / 1000)]! += 1;
    }
    // 10,000 / 60 ≈ 167 per second; a cap of 15 s (the old splay) would put ~667 in each of the first 15 seconds.
    expect(Math.max(...perSecond)).toBeLessThan(230);
    expect(Math.min(...perSecond)).toBeGreaterThan(110);
  });

  it("keeps each check's phase within the interval whenever the agent starts", () => {
    const phase = (t: number) => t % 60_000;
    const a = firstSlotMs("mail-eu", 60_000, 1_000_000);
    const b = firstSlotMs("mail-eu", 60_000, 1_000_000 + 37_123);
    const c = firstSlotMs("mail-eu", 60_000, 5_000_000_017);
    expect(phase(a)).toBe(splayMs("mail-eu", 60_000));
    expect(phase(b)).toBe(phase(a));
    expect(phase(c)).toBe(phase(a));
    expect(firstSlotMs("x", 60_000, 120_000 + splayMs("x", 60_000))).toBe(120_000 + splayMs("x", 60_000));
  });
});

describe("Scheduler", () => {
  it("never runs one check twice at once; a due run is skipped and counted", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const skips: string[] = [];
    const scheduler = new Scheduler({
      logger: silent,
      run: async (c) => {
        active++;
        runs++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 120)); // longer than the 40 ms interval
        active--;
        return outcome(c.name);
      },
      onOutcome: () => undefined,
      onSkip: (c) => skips.push(c.name),
      onLag: () => undefined,
    });
    scheduler.apply([check("slow", 40)]);
    scheduler.start();
    await new Promise((r) => setTimeout(r, 500));
    await scheduler.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(maxActive).toBe(1);
    expect(skips.length).toBeGreaterThanOrEqual(2);
    expect(new Set(skips)).toEqual(new Set(["slow"]));
  });

  it("keeps unchanged checks on reload, restarts changed ones and drops removed ones", () => {
    const scheduler = new Scheduler({
      logger: silent,
      run: (c) => Promise.resolve(outcome(c.name)),
      onOutcome: () => undefined,
      onSkip: () => undefined,
      onLag: () => undefined,
    });
    expect(scheduler.apply([check("a", 1000), check("b", 1000), check("c", 1000)])).toEqual({
      removed: [],
      added: ["a", "b", "c"],
    });
    expect(scheduler.apply([check("a", 1000), check("b", 1000, "b2"), check("d", 1000)])).toEqual({
      removed: ["b", "c"],
      added: ["b", "d"],
    });
    return scheduler.stop();
  });

  it("stop aborts runs in flight and waits for them", async () => {
    let sawAbort = false;
    const scheduler = new Scheduler({
      logger: silent,
      run: (c, _state, cancel) =>
        new Promise((resolve) => {
          cancel.addEventListener("abort", () => {
            sawAbort = true;
            resolve({ ...outcome(c.name), status: "cancelled" });
          });
        }),
      onOutcome: () => undefined,
      onSkip: () => undefined,
      onLag: () => undefined,
    });
    scheduler.apply([check("hang", 20)]);
    scheduler.start();
    await new Promise((r) => setTimeout(r, 60));
    await scheduler.stop();
    expect(sawAbort).toBe(true);
    expect(scheduler.isRunning).toBe(false);
  });

  it("records how late runs start", async () => {
    const lags: number[] = [];
    const scheduler = new Scheduler({
      logger: silent,
      run: (c) => Promise.resolve(outcome(c.name)),
      onOutcome: () => undefined,
      onSkip: () => undefined,
      onLag: (s) => lags.push(s),
    });
    scheduler.apply([check("lag", 30)]);
    scheduler.start();
    await new Promise((r) => setTimeout(r, 100));
    // Block the event loop past a planned start: the next run must report that lateness.
    const until = Date.now() + 80;
    while (Date.now() < until) {
      /* busy */
    }
    await new Promise((r) => setTimeout(r, 50));
    await scheduler.stop();
    expect(lags.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...lags)).toBeGreaterThanOrEqual(0.03);
    expect(lags.every((s) => s >= 0)).toBe(true);
  });
});
