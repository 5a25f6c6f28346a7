import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, writeConfig } from "../helpers/cli.js";
import { startRawServer, startSmtpServer, type TestSmtpServer } from "../helpers/smtp-test-server.js";

const PASSWORD = "correct-horse-battery-staple-7731";
let server: TestSmtpServer;

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

beforeAll(async () => {
  server = await startSmtpServer({
    hideSTARTTLS: true,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("outage@")) callback(smtpError(451, "4.3.2 Temporary server issue"));
      else callback();
    },
    onAuth(_auth, _session, callback) {
      callback(smtpError(535, "5.7.8 Authentication credentials invalid"));
    },
  });
});
afterAll(() => server.close());

function config(): string {
  return writeConfig(`
agent: { location: lab }
checks:
  - name: submit-ok
    kind: smtp
    target: 127.0.0.1:${server.port}
    smtp: { tls: none, mail_from: probe@lab.test, rcpt_to: ok@lab.test }
  - name: submit-outage
    kind: smtp
    target: 127.0.0.1:${server.port}
    smtp: { tls: none, mail_from: probe@lab.test, rcpt_to: outage@lab.test }
  - name: submit-bad-password
    kind: smtp
    target: 127.0.0.1:${server.port}
    smtp:
      tls: none
      allow_plaintext_auth: true
      auth: { mechanism: plain, user: probe@lab.test, password: "\${env:SUITEPROBE_TEST_SMTP_PASSWORD}" }
`);
}
const env = { SUITEPROBE_TEST_SMTP_PASSWORD: PASSWORD };

describe("suiteprobe once", () => {
  it("reports 451 4.3.2 at RCPT as unavailable, code 4.3.2, stage rcpt, and exits 1", async () => {
    const result = await runCli(["once", "--config", config(), "--check", "submit-outage", "--json"], { env });
    expect(result.code).toBe(1);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(line).toMatchObject({
      check: "submit-outage",
      kind: "smtp",
      target: `127.0.0.1:${server.port}`,
      success: false,
      class: "unavailable",
      code: "4.3.2",
      phase: "rcpt",
      retryable: true,
      side: "provider",
    });
    expect(line.message).toContain("451 4.3.2 Temporary server issue");
    expect(Object.keys(line.phases as object)).toEqual(["connect", "banner", "ehlo", "mail", "rcpt"]);
    expect((line.facts as Record<string, number>).smtp_reply_code).toBe(451);
  });

  it("prints a table with class, code and phase", async () => {
    const result = await runCli(["once", "--config", config(), "--check", "submit-outage"], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^CHECK\s+KIND\s+RESULT\s+CLASS\s+CODE\s+PHASE\s+DURATION\s+PHASES$/m);
    expect(result.stdout).toMatch(/^submit-outage\s+smtp\s+failure\s+unavailable\s+4\.3\.2\s+rcpt\s+/m);
    expect(result.stdout).toContain("retryable=true side=provider");
  });

  it("exits 0 when every selected check succeeds", async () => {
    const result = await runCli(["once", "--config", config(), "--check", "submit-ok", "--json"], { env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ check: "submit-ok", success: true });
  });

  it("classifies a refused password as auth and never prints the password", async () => {
    const result = await runCli(["once", "--config", config(), "--check", "submit-bad-password", "--json"], { env });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ class: "auth", code: "5.7.8", phase: "auth", retryable: false });
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    expect(server.auths.at(-1)?.password).toBe(PASSWORD);
  });

  it("cuts a tarpit off at the check's timeout as class timeout in phase banner", async () => {
    const tarpit = await startRawServer(() => undefined); // accepts, never says a word
    try {
      const path = writeConfig(`
checks:
  - { name: tarpit, kind: smtp, target: "127.0.0.1:${tarpit.port}", timeout: 500ms, smtp: { tls: none } }
`);
      const result = await runCli(["once", "--config", path, "--json"]);
      expect(result.code).toBe(1);
      const line = JSON.parse(result.stdout) as Record<string, unknown>;
      expect(line).toMatchObject({ class: "timeout", phase: "banner", retryable: true });
      expect(line.duration_seconds as number).toBeGreaterThanOrEqual(0.5);
      expect(line.duration_seconds as number).toBeLessThan(0.5 + 0.2);
    } finally {
      await tarpit.close();
    }
  });

  it("refuses an unknown --check with exit 2", async () => {
    const result = await runCli(["once", "--config", config(), "--check", "nope"], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no check named "nope"');
  });
});

describe("suiteprobe check-config", () => {
  it("summarises a valid config", async () => {
    const result = await runCli(["check-config", "--config", config()], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("OK, 3 check(s) (smtp: 3)");
    expect(result.stdout).toMatch(/submit-outage\s+smtp\s+127\.0\.0\.1:\d+\s+every 60s, timeout 10s; next runs /);
  });

  it("prints one line per problem with its path, exit 2, no stack trace", async () => {
    const path = writeConfig(`
checks:
  - { name: a, kind: smtp, target: 127.0.0.1, smtp: { tls: tsl } }
  - { name: b, kind: smtp, target: 127.0.0.1, interval: 10s, timeout: 10s }
  - name: c
    kind: smtp
    target: 127.0.0.1
    smtp: { auth: { mechanism: plain, user: u, password: "\${env:SUITEPROBE_TEST_UNSET_VAR}" } }
`);
    const result = await runCli(["check-config", "--config", path]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toEqual([
      'checks[0].smtp.tls: expected "none" | "starttls" | "implicit", got "tsl"',
      "checks[1].timeout: 10s must be shorter than the interval (10s)",
      "checks[2].smtp.auth.password: environment variable SUITEPROBE_TEST_UNSET_VAR is not set",
      `suiteprobe: ${path}: 3 problem(s); nothing was run`,
    ]);
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it("says so when the file cannot be read", async () => {
    const result = await runCli(["check-config", "--config", "/nonexistent/suiteprobe.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("/nonexistent/suiteprobe.yaml: cannot read config file (ENOENT)");
  });
});

describe("suiteprobe classify", () => {
  it("classifies the 22 January reply from stdin", async () => {
    const result = await runCli(["classify"], {
      stdin: '{"protocol":"smtp","input":{"stage":"rcpt","reply":"451 4.3.2 Temporary server issue"}}\n',
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      class: "unavailable",
      retryable: true,
      side: "provider",
      code: "4.3.2",
    });
  });
});

describe("usage", () => {
  // Five CLI processes: seconds each on a busy two-core machine.
  it("--help works for every command; unknown commands exit 2", { timeout: 60_000 }, async () => {
    const commands = ["run", "once", "check-config", "classify"];
    const results = await Promise.all(commands.map((command) => runCli([command, "--help"])));
    results.forEach((result, i) => {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: suiteprobe ${commands[i] ?? ""}`);
    });
    const bad = await runCli(["frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  });
});
