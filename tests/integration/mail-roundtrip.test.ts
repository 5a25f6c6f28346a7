import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MAIL_ROUNDTRIP_PHASES, mailRoundtripKind } from "../../probes/mail-roundtrip.js";
import { createRoundTripState, type RoundTripState } from "../../probes/wire/roundtrip/driver.js";
import { checkHash, newProbeId } from "../../probes/wire/roundtrip/probe-id.js";
import { stringify } from "yaml";
import { PROBE_KINDS } from "../../probes/index.js";
import { parseConfigText } from "../../src/config/load.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { startDovecot, type TestDovecot } from "../helpers/dovecot.js";
import { startMaildirSmtpServer, type MaildirSmtpServer } from "../helpers/maildir-smtp-server.js";
import { runProbe, type ProbeRun } from "../helpers/run-probe.js";
import { startScriptedServer, type RawServer } from "../helpers/smtp-test-server.js";

const CHECK = "roundtrip-test";
const HASH = checkHash(CHECK);
const OURS = new RegExp(`^X-Suiteprobe-Id: sp-${HASH}-[0-9a-z]{6,11}-[0-9a-f]{12}$`, "im");
let dovecot: TestDovecot;
let smtp: MaildirSmtpServer;
let passwordRef: string;
const extraServers: RawServer[] = [];

beforeAll(async () => {
  dovecot = await startDovecot();
  smtp = await startMaildirSmtpServer(dovecot.folderDir());
  await writeFile(join(dovecot.dir, "pw"), dovecot.password, { mode: 0o600 });
  passwordRef = `\${file:${join(dovecot.dir, "pw")}}`;
});

beforeEach(() => {
  smtp.behaviour = { folderDir: dovecot.folderDir(), delayMs: 0, isRcptRefused: false };
});

afterAll(async () => {
  try {
    if (dovecot !== undefined) {
      await smtp?.settled();
      // The suite must leave no probe message of its check behind, in any watched folder.
      const left = [...(await dovecot.messages()), ...(await dovecot.messages("Junk"))].filter((m) => OURS.test(m));
      expect(left).toEqual([]);
    }
  } finally {
    await Promise.all([smtp?.close(), dovecot?.dispose(), ...extraServers.map((s) => s.close())]);
  }
});

function settings(over: Record<string, unknown> = {}, submitPort?: number): unknown {
  return {
    submit: {
      target: `127.0.0.1:${submitPort ?? smtp.port}`,
      tls: "none",
      mail_from: "probe@example.test",
      rcpt_to: "probe@example.test",
    },
    mailbox: {
      target: `127.0.0.1:${dovecot.port}`,
      tls: "none",
      allow_plaintext_auth: true,
      auth: { mechanism: "login", user: dovecot.user, password: passwordRef },
    },
    max_delivery: "3s",
    poll_interval: "100ms",
    ...over,
  };
}

/** Runs the kind like the runner does: parsed settings, a deadline that aborts the signal, state kept by the caller. */
function roundtrip(raw: unknown, state: RoundTripState, timeoutMs = 20_000): Promise<ProbeRun> {
  return runProbe(mailRoundtripKind, raw, undefined, timeoutMs, { check: CHECK, state });
}

function errorOf(run: ProbeRun): ProbeError {
  expect(run.error).toBeInstanceOf(ProbeError);
  return run.error as ProbeError;
}

async function probeMessages(folder = "INBOX"): Promise<string[]> {
  return (await dovecot.messages(folder)).filter((m) => OURS.test(m));
}

const message = (headers: string) => `From: a@example.test\nTo: probe@example.test\n${headers}\n\nbody\n`;

describe("mail_roundtrip against smtp-server → Maildir → Dovecot", () => {
  it("delivers, records the delivery time, deletes the message and times every phase", async () => {
    const run = await roundtrip(settings(), createRoundTripState());
    expect(run.error).toBeUndefined();
    expect(run.facts.mail_delivery_seconds).toBeGreaterThanOrEqual(0);
    expect(run.facts.mail_delivery_seconds).toBeLessThan(3);
    expect(run.facts).toMatchObject({ mail_late: 0, mail_junked: 0, mail_uncertain_sends: 0, smtp_reply_code: 221 });
    for (const phase of ["mailbox_connect", "mailbox_auth", "mailbox_select", "submit_data", "delivery", "cleanup"]) {
      expect(run.phases).toHaveProperty(phase);
    }
    expect(Object.keys(run.phases).every((p) => MAIL_ROUNDTRIP_PHASES.includes(p))).toBe(true);
    expect(await probeMessages()).toEqual([]);
  });

  it("is woken by IDLE when new mail arrives instead of waiting out poll_interval", async () => {
    smtp.behaviour.delayMs = 400;
    const run = await roundtrip(settings({ max_delivery: "4s", poll_interval: "3s" }), createRoundTripState());
    expect(run.error).toBeUndefined();
    expect(run.facts.mail_delivery_seconds).toBeGreaterThanOrEqual(0.4);
    expect(run.facts.mail_delivery_seconds).toBeLessThan(1.5);
  });

  it("reports a 451 4.3.2 at RCPT as the SMTP failure in phase submit_rcpt, leaving nothing behind", async () => {
    smtp.behaviour.isRcptRefused = true;
    const accepted = smtp.accepted;
    const error = errorOf(await roundtrip(settings(), createRoundTripState()));
    expect(error.phase).toBe("submit_rcpt");
    expect(error.facts).toEqual({
      protocol: "smtp",
      input: { stage: "rcpt", reply: "451 4.3.2 System not accepting network messages" },
    });
    expect(error.message).toContain("451 4.3.2");
    expect(smtp.accepted).toBe(accepted);
    expect(await probeMessages()).toEqual([]);
  });

  it("fails with class delivery after max_delivery, then counts the message as late when it arrives", async () => {
    const state = createRoundTripState();
    smtp.behaviour.delayMs = 1500;
    const late = await roundtrip(settings({ max_delivery: "1s" }), state);
    const error = errorOf(late);
    expect(error.phase).toBe("delivery");
    expect(error.facts).toEqual({ protocol: "probe", input: { class: "delivery" } });
    expect(late.facts.mail_delivery_seconds).toBeUndefined();
    await smtp.settled();
    smtp.behaviour.delayMs = 0;
    const next = await roundtrip(settings({ max_delivery: "1s" }), state);
    expect(next.error).toBeUndefined();
    expect(next.facts.mail_late).toBe(1);
    expect(await probeMessages()).toEqual([]);
  });

  it("counts a delivery into Junk as delivered and junked", async () => {
    smtp.behaviour.folderDir = dovecot.folderDir("Junk");
    const run = await roundtrip(settings(), createRoundTripState());
    expect(run.error).toBeUndefined();
    expect(run.facts.mail_junked).toBe(1);
    expect(run.facts.mail_delivery_seconds).toBeLessThan(3);
    expect(await probeMessages("Junk")).toEqual([]);
  });

  it("cleans leftovers of a previous agent and never deletes anything else", async () => {
    const old = Date.now() - 3_600_000;
    const other = newProbeId("another-check", old);
    const fresh = newProbeId(CHECK, Date.now());
    await dovecot.deliver(message(`Subject: leftover\nX-Suiteprobe-Id: ${newProbeId(CHECK, old)}`));
    await dovecot.deliver(message(`Subject: leftover\nX-Suiteprobe-Id: ${newProbeId(CHECK, old - 1000)}`), "Junk");
    const keep = [
      message("Subject: a user's mail"),
      message(`Subject: other check\nX-Suiteprobe-Id: ${other}`),
      message(`Subject: suiteprobe round trip [sp-${HASH}-m0000000-000000000000]`),
      message(`Subject: malformed id\nX-Suiteprobe-Id: sp-${HASH}-not-an-id`),
      message(`Subject: in flight for another agent\nX-Suiteprobe-Id: ${fresh}`),
    ];
    for (const m of keep) await dovecot.deliver(m);
    const run = await roundtrip(settings(), createRoundTripState());
    expect(run.error).toBeUndefined();
    const inbox = await dovecot.messages();
    expect(inbox.filter((m) => m.includes("Subject: leftover"))).toEqual([]);
    expect(await dovecot.messages("Junk")).toEqual([]);
    for (const subject of ["a user's mail", "other check", "suiteprobe round trip", "malformed id", "in flight"]) {
      expect(inbox.filter((m) => m.includes(`Subject: ${subject}`))).toHaveLength(1);
    }
    // The in-flight one of "another agent" is younger than max_delivery + grace: left for its owner.
    expect((await probeMessages()).map((m) => m.includes(fresh))).toEqual([true]);
    expect(await dovecot.deleteWhere((m) => m.includes(fresh))).toBe(1);
  });

  it("keeps watching after an uncertain send and succeeds when the message arrives", async () => {
    let body: string[] | undefined;
    const server = await startScriptedServer("220 flaky ready", (line) => {
      if (body !== undefined) {
        if (line !== ".") {
          body.push(line);
          return undefined;
        }
        void dovecot.deliver(body.join("\n"));
        body = undefined;
        return { action: "reset" }; // connection lost after the body, before the reply
      }
      const verb = line.split(" ")[0]?.toUpperCase();
      if (verb === "EHLO") return "250 flaky";
      if (verb === "DATA") {
        body = [];
        return "354 go on";
      }
      return "250 ok";
    });
    extraServers.push(server);
    const run = await roundtrip(settings({}, server.port), createRoundTripState());
    expect(run.error).toBeUndefined();
    expect(run.facts.mail_uncertain_sends).toBe(1);
    expect(await probeMessages()).toEqual([]);
  });

  it("fails to connect (no crash) when Dovecot stops mid-run, then counts the message late once it is back", async () => {
    const state = createRoundTripState();
    // Written after the deadline, so only the mailbox outage can decide the run (Dovecot takes ~1.3s to stop).
    smtp.behaviour.delayMs = 3500;
    const accepted = smtp.accepted;
    const running = roundtrip(settings({ max_delivery: "3s" }), state);
    while (smtp.accepted === accepted) await new Promise((r) => setTimeout(r, 20));
    await dovecot.stop();
    const run = await running;
    const error = errorOf(run);
    expect(error.phase).toBe("mailbox_connect");
    expect((error.cause as { code?: string }).code).toBe("ECONNREFUSED");
    await smtp.settled();
    await dovecot.start();
    smtp.behaviour.delayMs = 0;
    const next = await roundtrip(settings({ max_delivery: "3s" }), state);
    expect(next.error).toBeUndefined();
    expect(next.facts.mail_late).toBe(1);
  });

  it("validates the block: required addresses, targets, poll_interval, strict keys, label", () => {
    const schema = mailRoundtripKind.settingsSchema;
    const issues = (over: Record<string, unknown>) =>
      (schema.safeParse({ ...(settings() as object), ...over }).error?.issues ?? []).map(
        (i) => `${i.path.join(".")}: ${i.message}`,
      );
    const base = settings() as { submit: object; mailbox: object };
    expect(issues({ submit: { ...base.submit, rcpt_to: undefined } })).toEqual([
      "submit.rcpt_to: mail_from and rcpt_to are required for a round trip",
    ]);
    expect(issues({ poll_interval: "5s" })).toEqual(["poll_interval: must be shorter than max_delivery"]);
    expect(issues({ mailbox: { ...base.mailbox, folder: "INBOX" } })[0]).toMatch(/^mailbox: Unrecognized key/);
    expect(issues({ submit: { ...base.submit, tsl: "none" } })[0]).toMatch(/^submit: Unrecognized key/);
    const parsed = schema.parse({
      ...(settings() as object),
      poll_interval: undefined,
      mailbox: { ...base.mailbox, target: "imap.example.test", tls: "implicit" },
    });
    expect(parsed).toMatchObject({ poll_interval: 2000, max_delivery: 3000 });
  });

  it("parses both endpoints once at config load: the mailbox gives the target label, a bad one is a config problem", () => {
    const check = (over: Record<string, unknown>) => {
      const base = settings() as { submit: object; mailbox: object };
      const block = { ...base, mailbox: { ...base.mailbox, ...over } };
      return parseConfigText(
        stringify({ checks: [{ name: "rt", kind: "mail_roundtrip", timeout: "15s", mail_roundtrip: block }] }),
        PROBE_KINDS,
      );
    };
    const good = check({ target: "imap.example.test", tls: "implicit" });
    expect(good.ok && good.config.checks[0]?.target).toEqual({
      type: "endpoints",
      label: "imap.example.test:993",
      endpoints: {
        submit: { host: "127.0.0.1", port: smtp.port, label: `127.0.0.1:${smtp.port}` },
        mailbox: { host: "imap.example.test", port: 993, label: "imap.example.test:993" },
      },
    });
    expect(check({ target: "a:b:c" })).toEqual({
      ok: false,
      errors: [
        'checks[0].mail_roundtrip.mailbox.target: "a:b:c" is not host or host:port (put IPv6 addresses in brackets: [::1]:587)',
      ],
    });
  });
});
