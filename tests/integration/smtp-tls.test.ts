import type { SMTPServerOptions } from "smtp-server";
import { beforeAll, describe, expect, it } from "vitest";
import { smtpKind } from "../../probes/smtp.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { testCerts, type TestCerts } from "../helpers/certs.js";
import { runProbe, type ProbeRun } from "../helpers/run-probe.js";
import { startScriptedServer, startSmtpServer, type TestSmtpServer } from "../helpers/smtp-test-server.js";
import { closeAfterEach } from "../helpers/lifecycle.js";

let certs: TestCerts;
const keep = closeAfterEach();

beforeAll(async () => {
  certs = await testCerts();
});

async function server(options: SMTPServerOptions = {}): Promise<TestSmtpServer> {
  return keep(await startSmtpServer(options));
}

function failure(run: ProbeRun): ProbeError {
  expect(run.error).toBeInstanceOf(ProbeError);
  return run.error as ProbeError;
}

function causeCode(error: ProbeError): unknown {
  return (error.cause as { code?: unknown } | undefined)?.code;
}

describe("smtp: STARTTLS", () => {
  it("upgrades with a CA-signed certificate and reports its notAfter", async () => {
    let secureSessions = 0;
    const mx = await server({
      onSecure: (_socket, _session, callback) => {
        secureSessions++;
        callback();
      },
    });
    const run = await runProbe(smtpKind, { ca_file: certs.ca.certPath }, { port: mx.port });
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual(["connect", "banner", "ehlo", "starttls", "quit"]);
    expect(secureSessions).toBe(1);
    expect(run.facts.ssl_earliest_cert_expiry).toBe(certs.leaf.notAfter);
    expect(run.facts.ssl_earliest_cert_expiry).toBeGreaterThan(Date.now() / 1000);
  });

  it("fails with tls facts when STARTTLS is not offered and starttls_required is true", async () => {
    const mx = await server({ disabledCommands: ["STARTTLS"] });
    const run = await runProbe(smtpKind, { ca_file: certs.ca.certPath }, { port: mx.port });
    const error = failure(run);
    expect(error.phase).toBe("starttls");
    expect(error.facts).toEqual({
      protocol: "tls",
      input: { code: "STARTTLS_NOT_OFFERED", message: "server does not offer STARTTLS and starttls_required is true" },
    });
    expect(run.facts.ssl_earliest_cert_expiry).toBeUndefined();
  });

  it("continues in plain text when STARTTLS is not offered and starttls_required is false", async () => {
    const mx = await server({ disabledCommands: ["STARTTLS"] });
    const run = await runProbe(smtpKind, { starttls_required: false }, { port: mx.port });
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual(["connect", "banner", "ehlo", "quit"]);
    expect(run.facts.ssl_earliest_cert_expiry).toBeUndefined();
  });

  it("never sends credentials in plain text, even with starttls_required: false", async () => {
    const mx = await server({ disabledCommands: ["STARTTLS"], allowInsecureAuth: true });
    const run = await runProbe(
      smtpKind,
      { starttls_required: false, auth: { mechanism: "plain", user: "u", password: "${env:SUITEPROBE_UNUSED}" } },
      { port: mx.port },
    );
    const error = failure(run);
    expect(error.phase).toBe("starttls");
    expect(error.facts).toEqual({
      protocol: "tls",
      input: {
        code: "STARTTLS_NOT_OFFERED",
        message: "server does not offer STARTTLS; not sending credentials in plain text",
      },
    });
    expect(mx.auths).toEqual([]);
  });

  it("refuses a self-signed certificate (and still reports its expiry)", async () => {
    const mx = await server({ key: certs.selfSigned.key, cert: certs.selfSigned.cert });
    const run = await runProbe(smtpKind, {}, { port: mx.port });
    const error = failure(run);
    expect(error.phase).toBe("starttls");
    expect(error.facts).toBeUndefined();
    expect(["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN"]).toContain(causeCode(error));
    expect(run.facts.ssl_earliest_cert_expiry).toBe(certs.selfSigned.notAfter);
  });

  it("refuses an expired certificate with CERT_HAS_EXPIRED and reports the past notAfter", async () => {
    const mx = await server({ key: certs.expired.key, cert: certs.expired.cert });
    const run = await runProbe(smtpKind, { ca_file: certs.ca.certPath }, { port: mx.port });
    const error = failure(run);
    expect(error.phase).toBe("starttls");
    expect(causeCode(error)).toBe("CERT_HAS_EXPIRED");
    expect(run.facts.ssl_earliest_cert_expiry).toBe(certs.expired.notAfter);
    expect(run.facts.ssl_earliest_cert_expiry).toBeLessThan(Date.now() / 1000);
  });

  it("accepts the expired certificate with insecure_skip_verify: true", async () => {
    const mx = await server({ key: certs.expired.key, cert: certs.expired.cert });
    const run = await runProbe(smtpKind, { ca_file: certs.ca.certPath, insecure_skip_verify: true }, { port: mx.port });
    expect(run.error).toBeUndefined();
    expect(run.facts.ssl_earliest_cert_expiry).toBe(certs.expired.notAfter);
  });

  it("refuses a certificate for another name", async () => {
    const mx = await server();
    const run = await runProbe(
      smtpKind,
      { ca_file: certs.ca.certPath, servername: "mail.other.example" },
      { port: mx.port },
    );
    expect(causeCode(failure(run))).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
  });

  it("treats data pipelined after the STARTTLS 220 as a protocol violation", async () => {
    const raw = await startScriptedServer("220 mx ESMTP", (line) => {
      if (line.startsWith("EHLO")) return "250-mx\n250 STARTTLS";
      if (line === "STARTTLS") return "220 go ahead\n250 injected";
      return undefined;
    });
    keep(raw);
    const run = await runProbe(smtpKind, { ca_file: certs.ca.certPath }, { port: raw.port });
    const error = failure(run);
    expect(error.phase).toBe("starttls");
    expect(error.facts).toEqual({ protocol: "probe", input: { class: "protocol" } });
  });

  it("reports an unreadable ca_file as a config failure before connecting", async () => {
    const run = await runProbe(smtpKind, { ca_file: "/nonexistent/ca.pem" }, { port: 1 });
    const error = failure(run);
    expect(error.phase).toBe("tls");
    expect(error.facts).toEqual({ protocol: "probe", input: { class: "config" } });
    expect(run.phases).toEqual({});
  });
});

describe("smtp: implicit TLS", () => {
  it("handshakes before the banner on a TLS server", async () => {
    const mx = await server({ secure: true });
    const run = await runProbe(smtpKind, { tls: "implicit", ca_file: certs.ca.certPath }, { port: mx.port });
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual(["connect", "tls", "banner", "ehlo", "quit"]);
    expect(run.facts.ssl_earliest_cert_expiry).toBe(certs.leaf.notAfter);
  });

  it("fails in the tls phase against a self-signed TLS server", async () => {
    const mx = await server({ secure: true, key: certs.selfSigned.key, cert: certs.selfSigned.cert });
    const run = await runProbe(smtpKind, { tls: "implicit" }, { port: mx.port });
    const error = failure(run);
    expect(error.phase).toBe("tls");
    expect(causeCode(error)).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  it("fails in the tls phase against a plain-text server", async () => {
    const mx = await server();
    const run = await runProbe(smtpKind, { tls: "implicit", ca_file: certs.ca.certPath }, { port: mx.port });
    const error = failure(run);
    expect(error.phase).toBe("tls");
    expect(error.facts).toBeUndefined();
    expect(causeCode(error)).toBe("ERR_SSL_WRONG_VERSION_NUMBER");
  });
});
