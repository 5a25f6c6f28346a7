// Socket-free: the `smtp` block's validation. Kept next to the other smtp-* suites so one filter runs them all.
import { describe, expect, it } from "vitest";
import { smtpKind } from "../../probes/smtp.js";
import { smtpSettingsSchema } from "../../probes/wire/smtp/settings.js";
import { Secret } from "../../src/core/secret.js";

function issues(input: unknown): { path: string; message: string }[] {
  const result = smtpSettingsSchema.safeParse(input);
  expect(result.success).toBe(false);
  return (result.error?.issues ?? []).map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

describe("smtp settings", () => {
  it("defaults every field of an empty block", () => {
    expect(smtpSettingsSchema.parse({})).toEqual({
      tls: "starttls",
      starttls_required: true,
      insecure_skip_verify: false,
      allow_plaintext_auth: false,
      send: false,
      helo_name: "suiteprobe.invalid",
    });
    expect(smtpKind.isSettingsOptional).toBe(true);
  });

  it("derives the default port from tls", () => {
    const spec = smtpKind.target;
    if (spec.type !== "socket") throw new Error("smtp must take a socket target");
    const port = (tls: string) => spec.defaultPort(smtpSettingsSchema.parse({ tls }));
    expect([port("none"), port("starttls"), port("implicit")]).toEqual([25, 587, 465]);
  });

  it("requires mail_from when rcpt_to is set", () => {
    expect(issues({ rcpt_to: "b@example.test" })).toEqual([
      { path: "mail_from", message: "mail_from is required when rcpt_to is set" },
    ]);
  });

  it("requires rcpt_to when send is true", () => {
    expect(issues({ mail_from: "a@example.test", send: true })).toEqual([
      { path: "rcpt_to", message: "rcpt_to is required when send is true" },
    ]);
  });

  it("refuses an invalid expect_banner regex at config time", () => {
    expect(issues({ expect_banner: "^220 (unclosed" })).toEqual([
      {
        path: "expect_banner",
        message:
          "must be an RE2 regular expression (no backreferences or lookaround): missing closing ): `^220 (unclosed`",
      },
    ]);
  });

  it("refuses a literal password", () => {
    expect(issues({ auth: { mechanism: "plain", user: "u", password: "hunter2" } })).toEqual([
      {
        path: "auth.password",
        message: "must be a reference like ${env:NAME} or ${file:/path}, not a literal secret",
      },
    ]);
  });

  it("keeps a secret reference as a Secret, and xoauth2 takes a token, not a password", () => {
    const parsed = smtpSettingsSchema.parse({ auth: { mechanism: "login", user: "u", password: "${env:SMTP_PW}" } });
    expect(parsed.auth?.mechanism === "login" && parsed.auth.password).toBeInstanceOf(Secret);
    expect(issues({ auth: { mechanism: "xoauth2", user: "u", password: "${env:X}" } }).map((i) => i.path)).toEqual(
      expect.arrayContaining(["auth.token"]),
    );
  });

  it("refuses unknown keys, bad addresses and bad HELO names", () => {
    expect(issues({ startls: "required" })).toEqual([{ path: "", message: 'Unrecognized key: "startls"' }]);
    expect(issues({ mail_from: "a@example.test>\r\nRCPT TO:<x@y>" })).toEqual([
      { path: "mail_from", message: "must be a bare address without spaces or angle brackets" },
    ]);
    expect(issues({ helo_name: "not a host" })).toEqual([
      { path: "helo_name", message: "must be a host name or an address literal like [192.0.2.1]" },
    ]);
    expect(smtpSettingsSchema.parse({ helo_name: "[192.0.2.1]" }).helo_name).toBe("[192.0.2.1]");
  });
});
