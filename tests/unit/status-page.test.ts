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
    expect(html).toContain(
      "<td>protocol</td><td>none</td><td>banner</td><td>false</td><td>provider</td><td>12 ms</td>",
    );
  });

  it("shows a check that has not run yet as pending", () => {
    const html = renderStatusPage([{ check }], { version: "1", location: "lab" });
    expect(html).toMatch(/<tr class="pending"><td>mail<\/td><td>fake<\/td><td>h:1<\/td><td>pending<\/td>/);
  });
});

describe("status page for operators", () => {
  const failure = (at: number) => ({
    check: "mail",
    kind: "fake",
    target: "h:1",
    status: "failure" as const,
    durationSeconds: 0.012,
    phases: {},
    facts: new Map(),
    startedAt: new Date(at - 12),
    endedAt: new Date(at),
    failure: {
      class: "unavailable" as const,
      code: "4.3.2",
      phase: "rcpt",
      retryable: true,
      side: "provider" as const,
      message: "451",
    },
  });

  it("shows retryable and side, how long a check has been failing, and keeps timestamps on one line", () => {
    const now = new Date("2026-01-22T15:00:00Z");
    const since = new Date("2026-01-22T14:55:30Z");
    const html = renderStatusPage([{ check, last: failure(now.getTime() - 1000), failingSince: since }], {
      version: "1",
      location: "lab",
      now,
    });
    expect(html).toContain("<th>retryable</th><th>side</th>");
    expect(html).toContain("<td>unavailable</td><td>4.3.2</td><td>rcpt</td><td>true</td><td>provider</td>");
    expect(html).toContain("<td>2026-01-22T14:55:30Z (4m 30s)</td>");
    expect(html).toMatch(/td\{[^}]*white-space:nowrap/);
  });

  it("groups rows by kind and location", () => {
    const other = { ...check, name: "other", kind: { ...fakeKind, id: "zzz" } };
    const html = renderStatusPage([{ check }, { check: other }, { check: { ...check, name: "mail2" } }], {
      version: "1",
      location: "lab",
    });
    const at = (text: string) => html.indexOf(text);
    // Kinds in first-seen order; a kind's checks together under its heading although not adjacent in config.
    const order = [
      '<th colspan="15">fake · lab</th>',
      "<td>mail</td>",
      "<td>mail2</td>",
      ">zzz · lab<",
      "<td>other</td>",
    ];
    expect(order.map(at).every((index) => index > 0)).toBe(true);
    expect([...order].sort((a, b) => at(a) - at(b))).toEqual(order);
  });

  it("says when the last reload failed", () => {
    const html = renderStatusPage([{ check }], {
      version: "1",
      location: "lab",
      reloadFailure: { at: new Date("2026-01-22T15:00:00Z"), problems: 3 },
    });
    expect(html).toContain(
      '<p class="alert">The last config reload failed at 2026-01-22T15:00:00Z with 3 problem(s); the previous config keeps running. See the agent log.</p>',
    );
  });
});
