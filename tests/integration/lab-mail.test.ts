import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab } from "../../lab/lab.js";
import { LabMetrics } from "../../lab/metrics.js";
import { runCli, writeConfig } from "../helpers/cli.js";

// The lab's SMTP and IMAP servers driven by the real smtp, imap and mail_roundtrip kinds (through `once --json`).
let lab: Lab;

beforeAll(async () => {
  lab = await Lab.start({ account: { user: "probe@lab.test", password: "pw" } });
});
afterAll(async () => {
  await lab.close();
});

function config(): string {
  const auth = `allow_plaintext_auth: true, auth: { mechanism: login, user: probe@lab.test, password: "\${env:LAB_PW}" }`;
  return writeConfig(`
defaults: { interval: 30s, timeout: 5s }
checks:
  - name: submission
    kind: smtp
    target: 127.0.0.1:${lab.smtp.port}
    smtp: { tls: none, starttls_required: false, mail_from: probe@lab.test, rcpt_to: probe@lab.test }
  - name: mailbox
    kind: imap
    target: 127.0.0.1:${lab.imap.port}
    imap: { tls: none, ${auth}, search: { header: { name: X-Suiteprobe-Id, value: sp- } } }
  - name: roundtrip
    kind: mail_roundtrip
    interval: 60s
    timeout: 15s
    mail_roundtrip:
      submit: { target: "127.0.0.1:${lab.smtp.port}", tls: none, starttls_required: false, mail_from: probe@lab.test, rcpt_to: probe@lab.test }
      mailbox: { target: "127.0.0.1:${lab.imap.port}", tls: none, ${auth} }
      max_delivery: 2s
      poll_interval: 100ms
`);
}

/** The fields of a `once --json` line the assertions read. */
interface Outcome {
  check: string;
  success: boolean;
  class?: string;
  code?: string;
  phase?: string;
  facts: Record<string, number>;
  phases: Record<string, number>;
}

async function once(): Promise<Record<string, Outcome>> {
  const result = await runCli(["once", "--config", config(), "--json"], { env: { LAB_PW: "pw" }, timeoutMs: 20_000 });
  const lines = result.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Outcome);
  return Object.fromEntries(lines.map((l) => [l.check, l]));
}

describe("lab mail services against the real kinds", () => {
  it("healthy: submission, mailbox and the round trip succeed; the round trip cleans up after itself", async () => {
    lab.clearFaults();
    const before = lab.mailbox.size;
    const r = await once();
    expect([r.submission?.success, r.mailbox?.success, r.roundtrip?.success]).toEqual([true, true, true]);
    expect(r.roundtrip?.facts.mail_delivery_seconds).toBeLessThan(2);
    // The smtp check stops after RCPT (send: false); the round trip deleted its own message.
    expect(lab.mailbox.size).toBe(before);
  });

  it("451 4.3.2 at RCPT is classified unavailable, provider-side, transient, in the submit phase of the round trip", async () => {
    lab.setFaults("smtp", [
      { type: "reply", stage: "rcpt", code: 451, enhanced: "4.3.2", message: "Temporary server issue" },
    ]);
    const r = await once();
    expect(r.submission).toMatchObject({
      success: false,
      class: "unavailable",
      code: "4.3.2",
      phase: "rcpt",
      side: "provider",
      retryable: true,
    });
    expect(r.submission?.facts.smtp_reply_code).toBe(451);
    expect(r.roundtrip).toMatchObject({ success: false, class: "unavailable", phase: "submit_rcpt" });
    expect(r.mailbox?.success).toBe(true);
  });

  it("every: 4 refuses exactly one RCPT in four", async () => {
    lab.setFaults("smtp", [{ type: "reply", stage: "rcpt", code: 451, enhanced: "4.3.2", every: 4 }]);
    let refused = 0;
    for (let i = 0; i < 8; i++) {
      const r = await once();
      refused += [r.submission, r.roundtrip].filter((c) => c?.success === false && c.code === "4.3.2").length;
    }
    // Two RCPTs per run (the smtp check and the round trip's submission): 16 RCPTs, exactly 4 refused.
    expect(refused).toBe(4);
  }, 40_000);

  it("IMAP login failing and the service unavailable are told apart", async () => {
    lab.clearFaults();
    lab.setFaults("imap", [{ type: "login", code: "AUTHENTICATIONFAILED" }]);
    let r = await once();
    expect(r.mailbox).toMatchObject({ success: false, class: "auth", code: "AUTHENTICATIONFAILED", phase: "auth" });
    expect(r.submission?.success).toBe(true);
    lab.setFaults("imap", [{ type: "unavailable" }]);
    r = await once();
    expect(r.mailbox).toMatchObject({ success: false, class: "unavailable", side: "provider", phase: "greeting" });
  });

  it("an SMTP tarpit times out; latency shows in the banner phase", async () => {
    lab.clearFaults();
    lab.setFaults("smtp", [{ type: "delay", stage: "connect", ms: 700 }]);
    let r = await once();
    expect(r.submission?.success).toBe(true);
    expect(r.submission?.phases.banner).toBeGreaterThanOrEqual(0.7);
    lab.setFaults("smtp", [{ type: "tarpit" }]);
    r = await once();
    expect(r.submission).toMatchObject({ success: false, class: "timeout" });
  }, 30_000);

  it("lab_fault_active follows the fault table", async () => {
    lab.clearFaults();
    const metrics = new LabMetrics();
    metrics.declare([["smtp", "reply"]]);
    metrics.update(lab.faults());
    expect(await metrics.registry.metrics()).toContain('lab_fault_active{service="smtp",fault="reply"} 0');
    lab.setFaults("graph.search", [{ type: "delay", ms: 100, probability: 0.5 }]);
    metrics.update(lab.faults());
    const text = await metrics.registry.metrics();
    expect(text).toContain('lab_fault_active{service="graph.search",fault="delay"} 1');
    expect(text).toContain('lab_fault_probability_ratio{service="graph.search",fault="delay"} 0.5');
    lab.clearFaults();
  });
});
