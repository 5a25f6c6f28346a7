// Plays a scenario against a running lab: each step at its offset divided by the speed, in order.
import type { Lab, LabService } from "../lab.js";
import { isLabService, LAB_SERVICES } from "../lab.js";
import { offsetOf, type Scenario, type ScenarioMark, type ScenarioStep } from "./schema.js";

/** What the timeline reports as it goes. */
export interface TimelineEvents {
  onStep?(step: ScenarioStep, index: number, atMs: number): void;
  onEnd?(atMs: number): void;
}

/** A scenario being played; times are real Unix milliseconds. */
export class Timeline {
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #marks = new Map<ScenarioMark, number>();
  #startedAt = 0;
  #stepIndex = -1;

  constructor(
    readonly scenario: Scenario,
    private readonly lab: Lab,
    readonly speed: number,
    private readonly events: TimelineEvents = {},
  ) {}

  /** Starts playing now; steps at offset 0 are applied before this returns. */
  start(now = Date.now()): void {
    this.#startedAt = now;
    this.scenario.steps.forEach((step, index) => {
      const delay = offsetOf(step) / this.speed;
      if (delay === 0) this.#apply(step, index);
      else this.#later(delay, () => this.#apply(step, index));
    });
    this.#later(this.scenario.duration / this.speed, () => this.events.onEnd?.(Date.now()));
  }

  /** Stops playing (the lab keeps its current faults). */
  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** When play started (real ms). */
  get startedAt(): number {
    return this.#startedAt;
  }
  /** Index of the step in force, -1 before the first. */
  get stepIndex(): number {
    return this.#stepIndex;
  }
  /** Real time a mark's step was applied, once it was. */
  markTime(mark: ScenarioMark): number | undefined {
    return this.#marks.get(mark);
  }
  /** Real time at which a mark's step is planned (whether applied yet or not). */
  plannedMarkTime(mark: ScenarioMark): number | undefined {
    const step = this.scenario.steps.find((s) => s.mark === mark);
    return step === undefined ? undefined : this.#startedAt + offsetOf(step) / this.speed;
  }
  /** Real time at which the scenario ends. */
  get endsAt(): number {
    return this.#startedAt + this.scenario.duration / this.speed;
  }
  /** Scenario time elapsed at real time `now`, ms. */
  scenarioMs(now = Date.now()): number {
    return Math.max(0, (now - this.#startedAt) * this.speed);
  }
  /** The story's clock at real time `now`: "14:02" with a `clock`, else elapsed "+01:07" (hours:minutes). */
  clockAt(now = Date.now()): string {
    return storyClock(this.scenario.clock, this.scenarioMs(now));
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #apply(step: ScenarioStep, index: number): void {
    const { lab } = this;
    if (step.clear === "all") lab.clearFaults();
    else for (const service of step.clear ?? []) if (isLabService(service)) lab.clearFaults(service);
    for (const [service, faults] of Object.entries(step.set ?? {})) {
      if (!isLabService(service)) continue;
      if (faults.length === 0) lab.clearFaults(service);
      else lab.setFaults(service, faults);
    }
    for (const h of step.sim?.health ?? []) lab.sim.setServiceStatus(h.service, h.status);
    for (const issue of step.sim?.open_issues ?? []) {
      lab.sim.openIssue({
        id: issue.id,
        service: issue.service,
        title: issue.title,
        ...(issue.status === undefined ? {} : { status: issue.status }),
        ...(issue.classification === undefined ? {} : { classification: issue.classification }),
      });
    }
    for (const id of step.sim?.resolve_issues ?? []) lab.sim.resolveIssue(id);
    this.#stepIndex = index;
    const now = Date.now();
    if (step.mark !== undefined) this.#marks.set(step.mark, now);
    this.events.onStep?.(step, index, now);
  }
}

/** "14:02" from a story clock and elapsed scenario ms; "+01:07" without a clock. */
export function storyClock(clock: string | undefined, elapsedMs: number): string {
  const minutes = Math.floor(elapsedMs / 60_000);
  const pad = (n: number): string => String(n).padStart(2, "0");
  if (clock === undefined) return `+${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
  const [h = 0, m = 0] = clock.split(":").map(Number);
  const total = (h * 60 + m + minutes) % (24 * 60);
  return `${pad(Math.floor(total / 60))}:${pad(total % 60)}`;
}

/** The (service, fault type) pairs a scenario uses, to pre-initialise `lab_fault_active`. */
export function faultPairs(scenario: Scenario): [LabService, string][] {
  const pairs = new Map<string, [LabService, string]>();
  for (const step of scenario.steps) {
    for (const [service, faults] of Object.entries(step.set ?? {})) {
      if (!isLabService(service)) continue;
      for (const fault of faults as { type: string }[]) pairs.set(`${service}/${fault.type}`, [service, fault.type]);
    }
  }
  return [...pairs.values()].sort((a, b) => LAB_SERVICES.indexOf(a[0]) - LAB_SERVICES.indexOf(b[0]));
}
