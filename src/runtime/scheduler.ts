import type { Logger } from "pino";
import type { CheckConfig } from "../config/model.js";
import { createPlanner, type Planner } from "./plan.js";
import { throttleVerdict, type RunOutcome } from "./runner.js";
import { ThrottleGate } from "./throttle.js";

/** Why a due run was not started. */
export type SkipReason = "overlap" | "throttled";

/** setTimeout's largest delay; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the scheduler needs from the rest of the agent. */
export interface SchedulerDeps {
  logger: Logger;
  /** Runs one check once; must not throw. */
  run(check: CheckConfig, state: unknown, cancel: AbortSignal): Promise<RunOutcome>;
  /** Called with every finished run (cancelled ones included). */
  onOutcome(outcome: RunOutcome, check: CheckConfig): void;
  /** A run was due and not started: the previous one was still going, or its throttle scope is held. */
  onSkip(check: CheckConfig, reason: SkipReason): void;
  /** How late a run started against its plan, seconds. */
  onLag(seconds: number): void;
  now?: () => number;
}

interface Entry {
  check: CheckConfig;
  planner: Planner;
  timer: NodeJS.Timeout | undefined;
  plannedMs: number;
  running: Promise<void> | undefined;
  cancel: AbortController;
  /** The kind's state for this check, kept while the check is unchanged. */
  state: unknown;
}

/** Runs each check on its plan; never two runs of one check at once. */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #throttle: ThrottleGate;
  #isRunning = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#throttle = new ThrottleGate(this.#now);
  }

  /** Epoch ms until which the check's throttle scope is held; undefined when it may run. */
  heldUntil(check: CheckConfig): number | undefined {
    return this.#throttle.heldUntil(check.throttleScope);
  }

  /** True between start and stop. */
  get isRunning(): boolean {
    return this.#isRunning;
  }

  /** Starts scheduling. */
  start(): void {
    this.#isRunning = true;
    for (const entry of this.#entries.values()) this.#arm(entry, entry.planner.first(this.#now()));
  }

  /** Replaces the set of checks: unchanged ones (same fingerprint) keep running; returns names removed or changed. */
  apply(checks: readonly CheckConfig[]): { removed: string[]; added: string[] } {
    const wanted = new Map(checks.map((c) => [c.name, c]));
    const removed: string[] = [];
    const added: string[] = [];
    for (const [name, entry] of this.#entries) {
      const next = wanted.get(name);
      if (next?.fingerprint === entry.check.fingerprint) continue;
      this.#drop(entry);
      this.#entries.delete(name);
      removed.push(name);
    }
    for (const check of checks) {
      if (this.#entries.has(check.name)) continue;
      const entry: Entry = {
        check,
        planner: createPlanner(check.name, check.plan),
        timer: undefined,
        plannedMs: 0,
        running: undefined,
        cancel: new AbortController(),
        state: check.kind.createState?.(),
      };
      this.#entries.set(check.name, entry);
      added.push(check.name);
      if (this.#isRunning) this.#arm(entry, entry.planner.first(this.#now()));
    }
    this.#throttle.retain(new Set(checks.flatMap((c) => (c.throttleScope === undefined ? [] : [c.throttleScope]))));
    return { removed, added };
  }

  /** Stops timers, aborts runs in flight and waits for them to settle. */
  async stop(): Promise<void> {
    this.#isRunning = false;
    const inFlight: Promise<void>[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.running !== undefined) inFlight.push(entry.running);
      this.#drop(entry);
    }
    await Promise.allSettled(inFlight);
  }

  /** The planned next start of each check, epoch ms. */
  nextRuns(): Map<string, number> {
    return new Map([...this.#entries].map(([name, e]) => [name, e.plannedMs]));
  }

  #drop(entry: Entry): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.cancel.abort(new Error("check stopped"));
    entry.planner.close();
  }

  #arm(entry: Entry, plannedMs: number): void {
    entry.plannedMs = plannedMs;
    const wait = () => {
      const delay = entry.plannedMs - this.#now();
      entry.timer =
        delay > MAX_TIMER_MS ? setTimeout(wait, MAX_TIMER_MS) : setTimeout(() => this.#fire(entry), Math.max(0, delay));
    };
    wait();
  }

  #fire(entry: Entry): void {
    if (!this.#isRunning || entry.cancel.signal.aborted) return;
    const now = this.#now();
    const heldUntil = this.#throttle.heldUntil(entry.check.throttleScope);
    if (entry.running !== undefined) {
      this.#deps.onSkip(entry.check, "overlap");
      this.#deps.logger.warn({ check: entry.check.name }, "run skipped: previous run still going");
    } else if (heldUntil !== undefined) {
      // The API asked this credential to back off: sending now would only prolong it.
      this.#deps.onSkip(entry.check, "throttled");
      this.#deps.logger.info(
        { check: entry.check.name, held_until: new Date(heldUntil).toISOString() },
        "run held: throttled",
      );
    } else {
      this.#deps.onLag(Math.max(0, now - entry.plannedMs) / 1000);
      entry.running = this.#deps
        .run(entry.check, entry.state, entry.cancel.signal)
        .then((outcome) => {
          if (outcome.status !== "cancelled")
            this.#throttle.record(entry.check.throttleScope, throttleVerdict(outcome));
          this.#deps.onOutcome(outcome, entry.check);
        })
        .catch((error: unknown) => this.#deps.logger.error({ err: error, check: entry.check.name }, "run crashed"))
        .finally(() => {
          entry.running = undefined;
        });
    }
    this.#arm(entry, entry.planner.next(entry.plannedMs, now));
  }
}
