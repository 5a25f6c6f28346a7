import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import type { SMTPServerOptions } from "smtp-server";
import { beforeAll, describe, expect, it } from "vitest";
import { smtpKind } from "../../probes/smtp.js";
import { runSmtpSession } from "../../probes/wire/smtp/session.js";
import { smtpSettingsSchema } from "../../probes/wire/smtp/settings.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { testCerts, type TestCerts } from "../helpers/certs.js";
import { runProbe, type ProbeRun, sessionIo } from "../helpers/run-probe.js";
import { startSmtpServer, type TestSmtpServer } from "../helpers/smtp-test-server.js";
import { closeAfterEach } from "../helpers/lifecycle.js";

const PASSWORD = "Corr3ct-H0rse-Battery-Staple!";
const TOKEN = "ya29.a0AfH6SMBx-test-bearer-token";
let certs: TestCerts;
let passwordRef: string;
let tokenRef: string;
const keep = closeAfterEach();

beforeAll(async () => {
  certs = await testCerts();
  const dir = mkdtempSync(join(tmpdir(), "suiteprobe-smtp-secrets-"));
  writeFileSync(join(dir, "password"), `${PASSWORD}\n`);
  writeFileSync(join(dir, "token"), TOKEN);
  passwordRef = `\${file:${join(dir, "password")}}`;
  tokenRef = `\${file:${join(dir, "token")}}`;
});

async function server(options: SMTPServerOptions = {}): Promise<TestSmtpServer> {
  return keep(await startSmtpServer(options));
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

function failure(run: ProbeRun): ProbeError {
  expect(run.error).toBeInstanceOf(ProbeError);
  return run.error as ProbeError;
}

describe("smtp: successful sessions", () => {
  it("runs every phase with STARTTLS, AUTH PLAIN and send: true; the server gets the id header", async () => {
    const mx = await server();
    const run = await runProbe(
      smtpKind,
      {
        ca_file: certs.ca.certPath,
        auth: { mechanism: "plain", user: "probe@example.test", password: passwordRef },
        mail_from: "probe@example.test",
        rcpt_to: "inbox@example.test",
        send: true,
      },
      { port: mx.port },
    );
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual([
      "connect",
      "banner",
      "ehlo",
      "starttls",
      "auth",
      "mail",
      "rcpt",
      "data",
      "quit",
    ]);
    expect(run.facts.smtp_reply_code).toBe(221);
    expect(mx.auths).toEqual([{ method: "PLAIN", username: "probe@example.test", password: PASSWORD }]);
    expect(mx.messages).toHaveLength(1);
    const message = mx.messages[0]!;
    expect(message.from).toBe("probe@example.test");
    expect(message.to).toEqual(["inbox@example.test"]);
    const id = /^X-Suiteprobe-Id: ([0-9a-f-]{36})\r$/m.exec(message.raw)?.[1];
    expect(id).toBeDefined();
    expect(message.raw).toMatch(new RegExp(`^Subject: .*${id}`, "m"));
    expect(message.raw).toMatch(new RegExp(`^Message-ID: <${id}@example\\.test>`, "m"));
    expect(message.raw).toMatch(/^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r$/m);
    expect(message.raw).not.toMatch(/[^\r]\n/); // CRLF only
  });

  it("authenticates with AUTH LOGIN over implicit TLS and RSETs instead of sending", async () => {
    const mx = await server({ secure: true });
    const run = await runProbe(
      smtpKind,
      {
        tls: "implicit",
        ca_file: certs.ca.certPath,
        auth: { mechanism: "login", user: "probe", password: passwordRef },
        mail_from: "probe@example.test",
        rcpt_to: "inbox@example.test",
      },
      { port: mx.port },
    );
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual(["connect", "tls", "banner", "ehlo", "auth", "mail", "rcpt", "quit"]);
    expect(mx.auths).toEqual([{ method: "LOGIN", username: "probe", password: PASSWORD }]);
    expect(mx.messages).toHaveLength(0);
  });

  it("authenticates with XOAUTH2", async () => {
    const mx = await server({ authMethods: ["XOAUTH2"] });
    const run = await runProbe(
      smtpKind,
      { ca_file: certs.ca.certPath, auth: { mechanism: "xoauth2", user: "probe@example.test", token: tokenRef } },
      { port: mx.port },
    );
    expect(run.error).toBeUndefined();
    expect(mx.auths).toEqual([
      { method: "XOAUTH2", username: "probe@example.test", password: undefined, token: TOKEN },
    ]);
  });

  it("stops after EHLO without mail_from: a credential-free front-door check", async () => {
    const mx = await server({ name: "mx.test.local", disabledCommands: ["STARTTLS"] });
    const run = await runProbe(smtpKind, { tls: "none", expect_banner: "^220 mx\\.test\\.local " }, { port: mx.port });
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual(["connect", "banner", "ehlo", "quit"]);
    expect(run.facts.smtp_reply_code).toBe(221);
  });

  it("sends a caller's message through runSmtpSession and reports when it was accepted", async () => {
    const mx = await server({ disabledCommands: ["STARTTLS"] });
    const settings = smtpSettingsSchema.parse({ tls: "none", mail_from: "", rcpt_to: "inbox@example.test" });
    const io = sessionIo(smtpKind);
    const before = Date.now();
    const result = await runSmtpSession({
      ...io,
      settings,
      host: "127.0.0.1",
      port: mx.port,
      signal: new AbortController().signal,
      message: {
        id: "rt-0001",
        subject: "Round trip rt-0001 ✓",
        headers: { "X-Extra": "yes" },
        body: ".leading dot\nnon-ASCII: grüße\n",
      },
    });
    expect(result.id).toBe("rt-0001");
    expect(result.acceptedAtMs).toBeGreaterThanOrEqual(before);
    const raw = mx.messages[0]?.raw ?? "";
    expect(mx.messages[0]?.from).toBe("");
    expect(raw).toMatch(/^X-Suiteprobe-Id: rt-0001\r$/m);
    expect(raw).toMatch(/^X-Extra: yes\r$/m);
    expect(raw).toMatch(/^Subject: =\?UTF-8\?B\?/m);
    const body = raw.slice(raw.indexOf("\r\n\r\n") + 4).replace(/\r\n/g, "");
    expect(Buffer.from(body, "base64").toString("utf8")).toBe(".leading dot\nnon-ASCII: grüße\n");
  });
});

describe("smtp: refusals carry the reply as facts", () => {
  it("451 4.3.2 at RCPT", async () => {
    const mx = await server({
      onRcptTo: (_address, _session, callback) => callback(smtpError(451, "4.3.2 Temporary server issue")),
    });
    const run = await runProbe(
      smtpKind,
      { tls: "none", mail_from: "a@example.test", rcpt_to: "b@example.test" },
      { port: mx.port },
    );
    const error = failure(run);
    expect(error.phase).toBe("rcpt");
    expect(error.facts).toEqual({
      protocol: "smtp",
      input: { stage: "rcpt", reply: "451 4.3.2 Temporary server issue" },
    });
    expect(run.facts.smtp_reply_code).toBe(451);
    expect(error.message).toContain("451 4.3.2 Temporary server issue");
  });

  it("421 at the banner, then the server closes", async () => {
    const mx = await server({
      onConnect: (_session, callback) => callback(smtpError(421, "4.3.2 Service not available, closing channel")),
    });
    const run = await runProbe(smtpKind, {}, { port: mx.port });
    const error = failure(run);
    expect(error.phase).toBe("banner");
    expect(error.facts).toEqual({
      protocol: "smtp",
      input: { stage: "banner", reply: "421 4.3.2 Service not available, closing channel" },
    });
    expect(run.facts.smtp_reply_code).toBe(421);
  });

  it("535 5.7.8 at AUTH", async () => {
    const mx = await server({
      allowInsecureAuth: true,
      onAuth: (_auth, _session, callback) => callback(smtpError(535, "5.7.8 Authentication credentials invalid")),
    });
    const run = await runProbe(
      smtpKind,
      { tls: "none", allow_plaintext_auth: true, auth: { mechanism: "plain", user: "probe", password: passwordRef } },
      { port: mx.port },
    );
    const error = failure(run);
    expect(error.phase).toBe("auth");
    expect(error.facts).toEqual({
      protocol: "smtp",
      input: { stage: "auth", reply: "535 5.7.8 Authentication credentials invalid" },
    });
    expect(run.facts.smtp_reply_code).toBe(535);
  });

  it("XOAUTH2 error challenge: answers the 334 with an empty line and reports the final 535", async () => {
    const mx = await server({
      authMethods: ["XOAUTH2"],
      onAuth: (_auth, _session, callback) =>
        callback(null, { data: { status: "401", schemes: "bearer", scope: "https://mail.google.com/" } }),
    });
    const run = await runProbe(
      smtpKind,
      { ca_file: certs.ca.certPath, auth: { mechanism: "xoauth2", user: "probe@example.test", token: tokenRef } },
      { port: mx.port },
    );
    const error = failure(run);
    expect(error.phase).toBe("auth");
    expect(error.facts).toEqual({
      protocol: "smtp",
      input: { stage: "auth", reply: "535 Error: Username and Password not accepted" },
    });
    expect(error.message).toContain('\\"status\\":\\"401\\"');
    expect(run.facts.smtp_reply_code).toBe(535);
  });

  it("expect_banner mismatch is an assertion failure in the banner phase", async () => {
    const mx = await server({ name: "mx.test.local" });
    const run = await runProbe(smtpKind, { expect_banner: "^220 other\\.example " }, { port: mx.port });
    const error = failure(run);
    expect(error.phase).toBe("banner");
    expect(error.facts).toEqual({ protocol: "probe", input: { class: "assertion" } });
    expect(run.facts.smtp_reply_code).toBe(220);
  });

  it("never puts the password into messages, facts or inspect output, even when the server echoes it", async () => {
    const mx = await server({
      allowInsecureAuth: true,
      onAuth: (auth, _session, callback) =>
        callback(
          smtpError(
            535,
            `5.7.8 bad credentials ${auth.password ?? ""} ${Buffer.from(auth.password ?? "").toString("base64")}`,
          ),
        ),
    });
    const run = await runProbe(
      smtpKind,
      { tls: "none", allow_plaintext_auth: true, auth: { mechanism: "plain", user: "probe", password: passwordRef } },
      { port: mx.port },
    );
    const error = failure(run);
    expect(mx.auths[0]?.password).toBe(PASSWORD); // the server did get it, so the check below can fail
    const reply = error.facts?.protocol === "smtp" ? error.facts.input.reply : "";
    expect(reply).toBe("535 5.7.8 bad credentials <secret> <secret>");
    const everything = [
      JSON.stringify({ message: error.message, facts: error.facts, run: run.facts }),
      inspect(error, { depth: null }),
      String(error),
    ].join("\n");
    for (const leak of [
      PASSWORD,
      Buffer.from(PASSWORD).toString("base64"),
      Buffer.from(`\0probe\0${PASSWORD}`).toString("base64"),
    ]) {
      expect(everything).not.toContain(leak);
    }
  });
});
