import type { Logger } from "pino";
import type { CheckConfig } from "../config/model.js";
import { createPlanner, type Planner } from "./plan.js";
import type { RunOutcome } from "./runner.js";

/** setTimeout's largest delay; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the scheduler needs from the rest of the agent. */
export interface SchedulerDeps {
  logger: Logger;
  /** Runs one check once; must not throw. */
  run(check: CheckConfig, state: unknown, cancel: AbortSignal): Promise<RunOutcome>;
  /** Called with every finished run (cancelled ones included). */
  onOutcome(outcome: RunOutcome, check: CheckConfig): void;
  /** A run was due while the previous one was still going. */
  onSkip(check: CheckConfig): void;
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
  #isRunning = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
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
    if (entry.running !== undefined) {
      this.#deps.onSkip(entry.check);
      this.#deps.logger.warn({ check: entry.check.name }, "run skipped: previous run still going");
    } else {
      this.#deps.onLag(Math.max(0, now - entry.plannedMs) / 1000);
      entry.running = this.#deps
        .run(entry.check, entry.state, entry.cancel.signal)
        .then((outcome) => this.#deps.onOutcome(outcome, entry.check))
        .catch((error: unknown) => this.#deps.logger.error({ err: error, check: entry.check.name }, "run crashed"))
        .finally(() => {
          entry.running = undefined;
        });
    }
    this.#arm(entry, entry.planner.next(entry.plannedMs, now));
  }
}
