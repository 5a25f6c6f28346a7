import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { imapKind } from "../../probes/imap.js";
import { MAIL_ROUNDTRIP_TIMEOUT_MARGIN_MS, mailRoundtripKind } from "../../probes/mail-roundtrip.js";
import { smtpKind } from "../../probes/smtp.js";
import { configJsonSchema } from "../../src/config/json-schema.js";
import { parseConfigText } from "../../src/config/load.js";

const KINDS = [smtpKind, imapKind, mailRoundtripKind];
const dir = mkdtempSync(join(tmpdir(), "sp-roundtrip-config-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("config/examples/mail-roundtrip.yaml", () => {
  it("loads, with every round trip's timeout covering max_delivery plus the margin", () => {
    const token = join(dir, "token");
    writeFileSync(token, "token");
    process.env.PROBE_MAIL_PASSWORD = "example";
    // Secret files must exist at load: point the example's path at a temp file.
    const text = readFileSync("config/examples/mail-roundtrip.yaml", "utf8").replaceAll(
      "/run/secrets/exo-access-token",
      token,
    );
    const result = parseConfigText(text, KINDS, "mail-roundtrip.yaml");
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    const checks = result.config.checks;
    expect(checks.map((c) => `${c.name} ${c.kind.id} ${c.target.label}`)).toEqual([
      "exo-imap imap outlook.office365.com:993",
      "exo-roundtrip mail_roundtrip outlook.office365.com:993",
      "selfhosted-imap imap mail.example.org:143",
      "selfhosted-roundtrip mail_roundtrip mail.example.org:993",
    ]);
    for (const check of checks.filter((c) => c.kind === mailRoundtripKind)) {
      const { max_delivery } = check.settings as { max_delivery: number };
      expect(check.timeoutMs).toBeGreaterThanOrEqual(max_delivery + MAIL_ROUNDTRIP_TIMEOUT_MARGIN_MS);
    }
  });

  it("describes every field of both blocks in the JSON Schema", () => {
    const schema = JSON.stringify(configJsonSchema(KINDS));
    for (const text of ["Longest accepted time from submission to visibility", "Folder to SELECT (read-only)"]) {
      expect(schema).toContain(text);
    }
  });
});
