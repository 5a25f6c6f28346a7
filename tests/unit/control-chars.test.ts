import { describe, expect, it } from "vitest";
import { resultLogFields } from "../../src/agent.js";
import { renderStatusPage } from "../../src/server/status-page.js";
import { outcomeTable } from "../../src/once.js";
import type { RunOutcome } from "../../src/runtime/runner.js";
import { fakeKind } from "../helpers/fake-kind.js";

/** ESC-based colour and title sequences, a C1 CSI, a bidi override, BEL, CR and a NUL, as a hostile server sends. */
const HOSTILE = "421 \u001b[31mred\u001b[0m \u001b]0;pwned\u0007 \u009b2J \u202Eevil\r\n\u0000end";
// eslint-disable-next-line no-control-regex -- the characters a hostile server sends
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const outcome: RunOutcome = {
  check: "mail",
  kind: "fake",
  target: "h:1",
  status: "failure",
  durationSeconds: 0.01,
  phases: { banner: 0.01 },
  facts: new Map(),
  startedAt: new Date(0),
  endedAt: new Date(1000),
  failure: { class: "protocol", code: "none", phase: "banner", retryable: false, side: "provider", message: HOSTILE },
};

describe("terminal escapes from server text", () => {
  it("once's table shows control characters escaped, never raw", () => {
    const table = outcomeTable([outcome]);
    expect(table).not.toMatch(RAW);
    expect(table).toContain("421 \\x1b[31mred\\x1b[0m \\x1b]0;pwned\\x07 \\x9b2J \\u202eevil\\r\\n\\x00end");
  });

  it("the result log line carries no raw control characters, even those JSON leaves alone", () => {
    const line = JSON.stringify(resultLogFields(outcome));
    expect(line).not.toMatch(RAW);
    expect(resultLogFields(outcome).message).toBe(
      "421 \\x1b[31mred\\x1b[0m \\x1b]0;pwned\\x07 \\x9b2J \\u202eevil\\r\\n\\x00end",
    );
  });

  it("the status page shows them escaped", () => {
    const check = {
      name: "mail",
      kind: fakeKind,
      settings: {},
      target: { type: "socket" as const, host: "h", port: 1, label: "h:1" },
      plan: { type: "interval" as const, everyMs: 1000 },
      timeoutMs: 500,
      labels: {},
      throttleScope: undefined,
      fingerprint: "x",
    };
    const html = renderStatusPage([{ check, last: outcome }], { version: "1", location: "lab" });
    expect(html).not.toMatch(RAW);
    expect(html).toContain("\\x1b[31mred");
  });
});
