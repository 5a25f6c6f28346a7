import { z } from "zod";
import { gaugeFact, histogramFact } from "../../src/core/facts.js";
import { defineKind, type ProbeContext } from "../../src/core/probe.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { secretRef } from "../../src/core/secret.js";

const fakeSettings = z.strictObject({
  mode: z.enum(["ok", "fail", "throw", "hang", "ignore_signal", "slow"]).default("ok").describe("What the run does."),
  port: z.number().int().default(1000).describe("Default port."),
  delay_ms: z.number().int().default(0).describe("How long a slow run takes."),
  password: secretRef.optional(),
});
type FakeSettings = z.output<typeof fakeSettings>;

/** The fake kind's facts: a gauge and a histogram no real kind has, to show new facts need no edit in src/. */
export const FAKE_FACTS = {
  level: gaugeFact("probe_fake_level", "A level the fake kind reports (451 when it fails)."),
  wait: histogramFact("probe_fake_wait_seconds", "How long the fake kind waited.", [0.01, 0.1, 1]),
} as const;

/** Calls of the fake kind, for assertions. */
export const fakeCalls: { check: string; signal: AbortSignal }[] = [];

/** A probe kind with no protocol, driven by its settings; for engine tests. */
export const fakeKind = defineKind<FakeSettings>({
  id: "fake",
  title: "A test kind that succeeds, fails, throws or hangs on demand.",
  settingsSchema: fakeSettings,
  isSettingsOptional: true,
  phases: ["first", "second"],
  facts: Object.values(FAKE_FACTS),
  target: { type: "socket", defaultPort: (s) => s.port },
  async run(ctx: ProbeContext<FakeSettings>) {
    fakeCalls.push({ check: ctx.check, signal: ctx.signal });
    const wait = (ms: number, honour: boolean) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        if (honour) {
          ctx.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(new Error("aborted", { cause: ctx.signal.reason }));
          });
        }
      });
    await ctx.phases.time("first", () => wait(1, true));
    switch (ctx.settings.mode) {
      case "ok":
        return;
      case "slow":
        await ctx.phases.time("second", () => wait(ctx.settings.delay_ms, true));
        ctx.facts.observe(FAKE_FACTS.wait, ctx.settings.delay_ms / 1000);
        return;
      case "fail":
        ctx.facts.set(FAKE_FACTS.level, 451);
        throw new ProbeError("451 at second", {
          phase: "second",
          facts: { protocol: "smtp", input: { stage: "rcpt", reply: "451 4.3.2 Temporary server issue" } },
        });
      case "throw":
        throw new TypeError("a bug in a probe");
      case "hang":
        await ctx.phases.time("second", () => wait(60_000, true));
        return;
      case "ignore_signal":
        await ctx.phases.time("second", () => wait(3_000, false));
        return;
    }
  },
});

/** The kind list for engine tests. */
export const fakeKinds = [fakeKind];
