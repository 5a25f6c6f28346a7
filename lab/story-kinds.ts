// The probe kinds as the lab's agent sees them. A kind's minimum interval protects a real provider's budget (Teams
// as a log, Graph's service-health quota) and its minimum timeout leaves room for a real service's latency; against
// the simulator both are story-time floors, so at speed N they shrink N times, like the drill's rule durations. The
// floors keep their real ratio to the alert windows: a 5-minute Teams check still runs 3 times per 15-minute window.
import type { AnyProbeKind } from "../src/core/probe.js";

type Floor = { ms: number; why: string } | undefined;

/** `kinds` with every minimum interval and minimum timeout divided by `speed` (at least 1 ms). */
export function storyTimeKinds(kinds: readonly AnyProbeKind[], speed: number): AnyProbeKind[] {
  if (speed <= 1) return [...kinds];
  const scaled = (floor: Floor): Floor =>
    floor && {
      ms: Math.max(1, Math.round(floor.ms / speed)),
      why: `${floor.why}; in the lab, on the story clock at speed ${speed}`,
    };
  return kinds.map((kind) => ({
    ...kind,
    ...(kind.minIntervalMs && { minIntervalMs: (settings: unknown) => scaled(kind.minIntervalMs?.(settings)) }),
    ...(kind.minTimeoutMs && { minTimeoutMs: (settings: unknown) => scaled(kind.minTimeoutMs?.(settings)) }),
  }));
}
