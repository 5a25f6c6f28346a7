import { z } from "zod";
import type { SessionIo } from "../../../src/core/probe.js";
import type { Secret } from "../../../src/core/secret.js";
import { secretRef } from "../../../src/core/secret.js";
import { userRegex } from "../../../src/core/user-regex.js";
import type { TlsSettings } from "../transport/tls.js";
import { checkPlaintextAuth, plaintextAuthField, tlsFields } from "../transport/tls.js";

/** The fixed phase label values of the `smtp` kind, in session order. */
export const SMTP_PHASES = [
  "connect",
  "tls",
  "banner",
  "ehlo",
  "starttls",
  "auth",
  "mail",
  "rcpt",
  "data",
  "quit",
] as const;
/** One phase of an SMTP session. */
export type SmtpPhase = (typeof SMTP_PHASES)[number];

/** Parsed `auth` block: PLAIN/LOGIN with a password, XOAUTH2 with a bearer token. */
export type SmtpAuthSettings =
  | { mechanism: "plain" | "login"; user: string; password: Secret }
  | { mechanism: "xoauth2"; user: string; token: Secret };

/** Parsed `smtp` block of a check. */
export interface SmtpSettings extends TlsSettings {
  tls: "none" | "starttls" | "implicit";
  starttls_required: boolean;
  auth?: SmtpAuthSettings | undefined;
  allow_plaintext_auth: boolean;
  mail_from?: string | undefined;
  rcpt_to?: string | undefined;
  send: boolean;
  expect_banner?: string | undefined;
  helo_name: string;
}

const HOSTNAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const ADDRESS_LITERAL = /^\[[0-9A-Fa-f:.]+\]$/;
// No whitespace, controls or angle brackets: the address is put inside <...> on a command line.
const MAILBOX = /^[^\s<>\p{Cc}]*$/u;

const user = z.string().min(1).describe("User name to authenticate as.");
const authSchema = z
  .discriminatedUnion("mechanism", [
    z.strictObject({
      mechanism: z.enum(["plain", "login"]).describe("SASL mechanism: plain or login (a password)."),
      user,
      password: secretRef.describe("Password, as ${env:NAME} or ${file:/path}."),
    }),
    z.strictObject({
      mechanism: z.literal("xoauth2").describe("SASL XOAUTH2 with an OAuth 2.0 bearer token."),
      user,
      token: secretRef.describe("OAuth 2.0 access token, as ${env:NAME} or ${file:/path}."),
    }),
  ])
  .describe("SMTP AUTH after EHLO (and STARTTLS); leave out for an unauthenticated check.");

const settingsObject = z
  .strictObject({
    tls: z
      .enum(["none", "starttls", "implicit"])
      .default("starttls")
      .describe("none (port 25), starttls (port 587, upgrade after EHLO) or implicit (port 465, TLS from the start)."),
    starttls_required: z
      .boolean()
      .default(true)
      .describe(
        "With tls: starttls, fail (class tls) when the server does not offer STARTTLS: downgrade protection. " +
          "When false, continue in plain text, but never send auth credentials without TLS.",
      ),
    ...tlsFields,
    auth: authSchema.optional(),
    ...plaintextAuthField,
    mail_from: z
      .string()
      .regex(MAILBOX, { message: "must be a bare address without spaces or angle brackets" })
      .optional()
      .describe("Envelope sender for MAIL FROM (empty string: the null sender <>). Leave out to stop after EHLO/AUTH."),
    rcpt_to: z
      .string()
      .min(1)
      .regex(MAILBOX, { message: "must be a bare address without spaces or angle brackets" })
      .optional()
      .describe("Envelope recipient for RCPT TO; needs mail_from."),
    send: z
      .boolean()
      .default(false)
      .describe("Send a small test message with DATA after RCPT (otherwise RSET); needs rcpt_to."),
    expect_banner: userRegex
      .optional()
      .describe(
        "RE2 regular expression (linear time: no backreferences or lookaround) the greeting must match somewhere " +
          "(all lines joined by newlines; the first 16 KiB).",
      ),
    helo_name: z
      .string()
      .refine((name) => HOSTNAME.test(name) || ADDRESS_LITERAL.test(name), {
        message: "must be a host name or an address literal like [192.0.2.1]",
      })
      .default("suiteprobe.invalid")
      .describe("Name sent with EHLO. Default suiteprobe.invalid: a syntactically valid, never-resolving FQDN."),
  })
  .refine((s) => s.rcpt_to === undefined || s.mail_from !== undefined, {
    message: "mail_from is required when rcpt_to is set",
    path: ["mail_from"],
  })
  .refine((s) => !s.send || s.rcpt_to !== undefined, {
    message: "rcpt_to is required when send is true",
    path: ["rcpt_to"],
  })
  .superRefine((s, issues) => checkPlaintextAuth(s, issues));

/** The `smtp` settings block (strict object). */
export const smtpSettingsSchema = settingsObject;

/** The default port for the TLS mode: 25 plain, 587 STARTTLS, 465 implicit TLS. */
export function smtpDefaultPort(settings: Pick<SmtpSettings, "tls">): number {
  return settings.tls === "none" ? 25 : settings.tls === "implicit" ? 465 : 587;
}

/** What one SMTP session needs; `runSmtpSession` is shared by the `smtp` and mail round-trip kinds. */
export interface SmtpSessionInput extends SessionIo {
  settings: SmtpSettings;
  host: string;
  port: number;
  /** When set, DATA is sent with this message regardless of settings.send. */
  message?: { id: string; subject: string; headers?: Record<string, string>; body?: string };
}

/** Outcome of a successful session. */
export interface SmtpSessionResult {
  /** The X-Suiteprobe-Id of the message sent, if DATA was sent. */
  id?: string;
  /** Epoch ms when the 250 after DATA arrived. */
  acceptedAtMs?: number;
}
