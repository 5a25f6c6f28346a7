import { describe, expect, it } from "vitest";
import type { CheckStatus } from "../../src/agent.js";
import { escapeHtml, renderStatusPage } from "../../src/server/status-page.js";
import { fakeKind } from "../helpers/fake-kind.js";

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

describe("status page", () => {
  it("escapes text that comes from peers", () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;",
    );
    const status: CheckStatus = {
      check,
      last: {
        check: "mail",
        kind: "fake",
        target: "h:1",
        status: "failure",
        durationSeconds: 0.012,
        phases: {},
        facts: new Map(),
        startedAt: new Date(0),
        endedAt: new Date(1000),
        failure: {
          class: "protocol",
          code: "none",
          phase: "banner",
          retryable: false,
          side: "provider",
          message: "<img src=x onerror=alert(1)>",
        },
      },
    };
    const html = renderStatusPage([status], { version: "1", location: "lab" });
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("<td>protocol</td><td>none</td><td>banner</td><td>12 ms</td>");
  });

  it("shows a check that has not run yet as pending", () => {
    const html = renderStatusPage([{ check }], { version: "1", location: "lab" });
    expect(html).toMatch(/<tr class="pending"><td>mail<\/td><td>fake<\/td><td>h:1<\/td><td>pending<\/td>/);
  });
});
