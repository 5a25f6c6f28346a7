import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imapKind } from "../../probes/imap.js";
import { imapSettingsSchema } from "../../probes/wire/imap/settings.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { startDovecot, type TestDovecot } from "../helpers/dovecot.js";
import { runProbe } from "../helpers/run-probe.js";

let plain: TestDovecot;
let tls: TestDovecot;
let passwordRef: string;
let wrongRef: string;
let tlsPasswordRef: string;

beforeAll(async () => {
  [plain, tls] = await Promise.all([startDovecot(), startDovecot({ isTls: true })]);
  const secret = async (server: TestDovecot, name: string, value: string): Promise<string> => {
    await writeFile(join(server.dir, name), `${value}\n`, { mode: 0o600 });
    return `\${file:${join(server.dir, name)}}`;
  };
  passwordRef = await secret(plain, "pw", plain.password);
  wrongRef = await secret(plain, "wrong", "not-the-password");
  tlsPasswordRef = await secret(tls, "pw", tls.password);
  await plain.deliver("From: a@example.test\nSubject: hello\nX-Mailer: suiteprobe-test\n\nbody\n");
});

afterAll(async () => {
  await Promise.all([plain?.dispose(), tls?.dispose()]);
});

const login = (user: string, password: string) => ({ mechanism: "login", user, password });

function errorOf(run: { error: unknown }): ProbeError {
  expect(run.error).toBeInstanceOf(ProbeError);
  return run.error as ProbeError;
}

describe("imap against Dovecot", () => {
  it("logs in, selects INBOX, searches and logs out, timing each phase", async () => {
    const settings = {
      tls: "none",
      allow_plaintext_auth: true,
      auth: login(plain.user, passwordRef),
      search: { header: { name: "X-Mailer", value: "suiteprobe" }, subject: "hello", expect_min_results: 1 },
    };
    const run = await runProbe(imapKind, settings, { port: plain.port });
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual(["connect", "greeting", "auth", "select", "search", "logout"]);
    expect(run.facts.ssl_earliest_cert_expiry).toBeUndefined();
  });

  it("fails with class assertion facts when the search finds too few messages", async () => {
    const settings = {
      tls: "none",
      allow_plaintext_auth: true,
      auth: login(plain.user, passwordRef),
      search: { subject: "no such subject", expect_min_results: 1 },
    };
    const error = errorOf(await runProbe(imapKind, settings, { port: plain.port }));
    expect(error.phase).toBe("search");
    expect(error.facts).toEqual({ protocol: "probe", input: { class: "assertion" } });
  });

  it("reports a refused login with the tagged NO line and its AUTHENTICATIONFAILED code", async () => {
    const run = await runProbe(
      imapKind,
      { tls: "none", allow_plaintext_auth: true, auth: login(plain.user, wrongRef) },
      { port: plain.port },
    );
    const error = errorOf(run);
    expect(error.phase).toBe("auth");
    expect(error.facts).toEqual({
      protocol: "imap",
      input: { response: expect.stringMatching(/^A\d+ NO \[AUTHENTICATIONFAILED\] /), stage: "auth" },
    });
    expect(error.message).not.toContain("not-the-password");
  });

  it("reports SELECT of a missing folder with the raw NO line, at stage select", async () => {
    const settings = {
      tls: "none",
      allow_plaintext_auth: true,
      auth: login(plain.user, passwordRef),
      folder: "Does-Not-Exist",
    };
    const error = errorOf(await runProbe(imapKind, settings, { port: plain.port }));
    expect(error.phase).toBe("select");
    // Dovecot 2.3.19 sends no [NONEXISTENT] code on SELECT/EXAMINE/STATUS (only on DELETE): the classifier needs the
    // stage (NO at select) or this text to say not_found.
    expect(error.facts).toEqual({
      protocol: "imap",
      input: { response: expect.stringMatching(/^A\d+ NO Mailbox doesn't exist: Does-Not-Exist/), stage: "select" },
    });
  });

  it("fails with tls facts STARTTLS_NOT_OFFERED when STARTTLS is required but not offered", async () => {
    const settings = { tls: "starttls", auth: login(plain.user, passwordRef) };
    const run = await runProbe(imapKind, settings, { port: plain.port });
    const error = errorOf(run);
    expect(error.phase).toBe("starttls");
    expect(error.facts).toEqual({ protocol: "tls", input: { code: "STARTTLS_NOT_OFFERED" } });
    expect(run.phases).not.toHaveProperty("auth");
  });

  it("goes on in plaintext when STARTTLS is missing and starttls_required is false", async () => {
    const settings = { tls: "starttls", starttls_required: false, auth: login(plain.user, passwordRef) };
    const run = await runProbe(imapKind, settings, { port: plain.port });
    expect(run.error).toBeUndefined();
  });

  it("upgrades with STARTTLS, verifying against ca_file, and records the certificate expiry", async () => {
    const settings = { tls: "starttls", ca_file: tls.caFile, auth: login(tls.user, tlsPasswordRef) };
    const run = await runProbe(imapKind, settings, { port: tls.port });
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual(["connect", "greeting", "starttls", "tls", "auth", "select", "logout"]);
    expect(run.facts.ssl_earliest_cert_expiry).toBeGreaterThan(Date.now() / 1000);
  });

  it("speaks implicit TLS on the imaps port", async () => {
    const settings = { ca_file: tls.caFile, auth: login(tls.user, tlsPasswordRef) };
    const run = await runProbe(imapKind, settings, { port: tls.tlsPort ?? 0 });
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual(["connect", "tls", "greeting", "auth", "select", "logout"]);
  });

  it("refuses an untrusted certificate in phase tls, still reporting its expiry", async () => {
    const run = await runProbe(imapKind, { auth: login(tls.user, tlsPasswordRef) }, { port: tls.tlsPort ?? 0 });
    const error = errorOf(run);
    expect(error.phase).toBe("tls");
    expect((error.cause as { code?: string }).code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    expect(run.facts.ssl_earliest_cert_expiry).toBeGreaterThan(0);
  });

  it("fails in phase connect with ECONNREFUSED in the cause while Dovecot is stopped", async () => {
    await plain.stop();
    try {
      const run = await runProbe(
        imapKind,
        { tls: "none", allow_plaintext_auth: true, auth: login(plain.user, passwordRef) },
        { port: plain.port },
      );
      const error = errorOf(run);
      expect(error.phase).toBe("connect");
      expect(error.facts).toBeUndefined();
      expect((error.cause as { code?: string }).code).toBe("ECONNREFUSED");
    } finally {
      await plain.start();
    }
  });

  it("parses settings with defaults: implicit TLS, INBOX, STARTTLS required", () => {
    const parsed = imapSettingsSchema.parse({ auth: login("u", "${env:X}") });
    expect(parsed).toMatchObject({
      tls: "implicit",
      starttls_required: true,
      folder: "INBOX",
      insecure_skip_verify: false,
    });
    expect(imapKind.target).toMatchObject({ type: "socket" });
    const spec = imapKind.target as { defaultPort(s: unknown): number };
    expect([spec.defaultPort(parsed), spec.defaultPort({ ...parsed, tls: "starttls" })]).toEqual([993, 143]);
    expect(imapSettingsSchema.safeParse({ auth: login("u", "literal-password") }).success).toBe(false);
    expect(imapSettingsSchema.safeParse({ auth: login("u", "${env:X}"), folders: "typo" }).success).toBe(false);
  });
});
