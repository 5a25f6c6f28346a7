import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, writeConfig } from "../helpers/cli.js";
import { startDovecot, type TestDovecot } from "../helpers/dovecot.js";
import { startMaildirSmtpServer, type MaildirSmtpServer } from "../helpers/maildir-smtp-server.js";

let dovecot: TestDovecot;
let accepting: MaildirSmtpServer;
let refusing: MaildirSmtpServer;
let configPath: string;

beforeAll(async () => {
  dovecot = await startDovecot();
  accepting = await startMaildirSmtpServer(dovecot.folderDir());
  refusing = await startMaildirSmtpServer(dovecot.folderDir());
  refusing.behaviour = { folderDir: dovecot.folderDir(), delayMs: 0, isRcptRefused: true };
  const passwordFile = join(dovecot.dir, "cli-pw");
  await writeFile(passwordFile, dovecot.password, { mode: 0o600 });
  const check = (name: string, smtpPort: number) => `
  - name: ${name}
    kind: mail_roundtrip
    timeout: 15s
    mail_roundtrip:
      submit: { target: "127.0.0.1:${smtpPort}", tls: none, mail_from: probe@example.test, rcpt_to: probe@example.test }
      mailbox:
        target: "127.0.0.1:${dovecot.port}"
        tls: none
        allow_plaintext_auth: true
        auth: { mechanism: login, user: ${dovecot.user}, password: "\${file:${passwordFile}}" }
      max_delivery: 5s
      poll_interval: 100ms`;
  configPath = writeConfig(`checks:${check("roundtrip-ok", accepting.port)}${check("roundtrip-451", refusing.port)}\n`);
});

afterAll(async () => {
  await Promise.all([accepting?.close(), refusing?.close()]);
  await dovecot?.dispose();
});

describe("suiteprobe once with mail round trips against a real Dovecot", () => {
  it("prints the delivery time and exits 0 when the message arrives", async () => {
    const result = await runCli(["once", "--config", configPath, "--check", "roundtrip-ok", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const line = JSON.parse(result.stdout) as { success: boolean; facts: Record<string, number>; phases: object };
    expect(line.success).toBe(true);
    expect(line.facts.mail_delivery_seconds).toBeGreaterThan(0);
    expect(line.facts.mail_delivery_seconds).toBeLessThan(5);
    expect(line.phases).toHaveProperty("delivery");

    const table = await runCli(["once", "--config", configPath, "--check", "roundtrip-ok"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^roundtrip-ok\s+mail_roundtrip\s+success\s/m);
    expect(table.stdout).toMatch(/· .*mail_delivery_seconds=\d/);
    expect(await dovecot.messages()).toEqual([]);
  });

  it("prints class, code and stage of a 451 4.3.2 at submission and exits 1", async () => {
    const result = await runCli(["once", "--config", configPath, "--check", "roundtrip-451", "--json"]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      check: "roundtrip-451",
      success: false,
      class: "unavailable",
      code: "4.3.2",
      phase: "submit_rcpt",
      retryable: true,
      side: "provider",
    });
    expect(await dovecot.messages()).toEqual([]);
  });
});
