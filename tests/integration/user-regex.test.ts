import { monitorEventLoopDelay } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { smtpKind } from "../../probes/smtp.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { closeAfterEach } from "../helpers/lifecycle.js";
import { runProbe } from "../helpers/run-probe.js";
import { startScriptedServer } from "../helpers/smtp-test-server.js";

const keep = closeAfterEach();

/** Runs `fn` and answers the longest event-loop stall seen meanwhile, in ms. */
async function maxStallMs(fn: () => Promise<unknown>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  try {
    await fn();
  } finally {
    histogram.disable();
  }
  return histogram.max / 1e6;
}

describe("expect_banner runs in bounded time (catastrophic backtracking is impossible)", () => {
  // 26 a's already take a backtracking engine seconds; 8,000 would take longer than the universe has left.
  for (const count of [26, 8000]) {
    it(`"(a+)+$" against a banner of ${count} a's and "!" fails as assertion without stalling the event loop`, async () => {
      const server = keep(await startScriptedServer(`220 ${"a".repeat(count)}!`, () => "221 bye"));
      let run: Awaited<ReturnType<typeof runProbe>> | undefined;
      const stall = await maxStallMs(async () => {
        run = await runProbe(smtpKind, { tls: "none", expect_banner: "(a+)+$" }, { port: server.port });
      });
      expect(run?.error).toBeInstanceOf(ProbeError);
      expect((run?.error as ProbeError).facts).toEqual({ protocol: "probe", input: { class: "assertion" } });
      expect(stall).toBeLessThan(100);
    });
  }
});
