import { z } from "zod";
import { duration } from "../../../src/core/duration.js";
import { secretRef } from "../../../src/core/secret.js";
import { plaintextAuthField, tlsFields } from "../transport/tls.js";
import { astring, type CommandPart } from "./wire.js";

const user = z.string().min(1).max(320).describe("User name to authenticate as (often the mailbox address).");

/** The `auth` block of an IMAP login: LOGIN with a password or AUTHENTICATE XOAUTH2 with a bearer token. */
export const imapAuthSchema = z
  .discriminatedUnion("mechanism", [
    z.strictObject({
      mechanism: z.literal("login").describe("IMAP LOGIN with user name and password."),
      user,
      password: secretRef.describe("Password reference: ${env:NAME} or ${file:/path}."),
    }),
    z.strictObject({
      mechanism: z.literal("xoauth2").describe("AUTHENTICATE XOAUTH2 with an OAuth 2.0 access token."),
      user,
      token: secretRef.describe("Access token reference, refreshed outside the agent: ${env:NAME} or ${file:/path}."),
    }),
  ])
  .describe("How to authenticate.");

// Printable text without CR/LF: search values go to the server as quoted strings or literals, never as raw syntax.
const searchText = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\r\n\0]*$/, { message: "must not contain CR, LF or NUL" });

/** The optional `search` of an `imap` check: a bounded set of criteria, ANDed. */
export const imapSearchSchema = z
  .strictObject({
    header: z
      .strictObject({
        name: z
          .string()
          .regex(/^[A-Za-z0-9-]{1,64}$/, { message: "must be a header field name (letters, digits, -)" })
          .describe("Header field name, e.g. X-Mailer."),
        value: searchText.describe("Substring the header's value must contain."),
      })
      .optional()
      .describe("Messages whose header contains a value (IMAP SEARCH HEADER)."),
    subject: searchText.optional().describe("Messages whose Subject contains this text."),
    from: searchText.optional().describe("Messages whose From contains this text."),
    received_within: duration
      .optional()
      .describe("Messages received within this duration, e.g. 7d as 168h (IMAP SINCE: whole days)."),
    expect_min_results: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Fail with class assertion when fewer messages match."),
  })
  .describe("An optional SEARCH in the selected folder; without criteria it counts all messages.");

/** The `imap` block (also the `mailbox` part of `mail_roundtrip`). */
export const imapSettingsSchema = z.strictObject({
  tls: z
    .enum(["none", "starttls", "implicit"])
    .default("implicit")
    .describe("implicit: TLS from the first byte (993); starttls: upgrade a plaintext connection (143); none."),
  starttls_required: z
    .boolean()
    .default(true)
    .describe("With tls: starttls, fail (class tls) when STARTTLS is not offered instead of going on in plaintext."),
  ...tlsFields,
  auth: imapAuthSchema,
  ...plaintextAuthField,
  folder: z.string().min(1).max(255).default("INBOX").describe("Folder to SELECT (read-only), e.g. INBOX."),
  search: imapSearchSchema.optional(),
});

/** Parsed `imap` settings. */
export type ImapSettings = z.output<typeof imapSettingsSchema>;

/** Parsed `search` settings. */
export type ImapSearchSettings = z.output<typeof imapSearchSchema>;

/** The default port for an IMAP TLS mode: 993 for implicit TLS, 143 otherwise. */
export function imapDefaultPort(settings: Pick<ImapSettings, "tls">): number {
  return settings.tls === "implicit" ? 993 : 143;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/** The UID SEARCH criteria of a `search` block (ALL when it has none). */
export function searchCriteria(search: ImapSearchSettings, nowMs: number): CommandPart[] {
  const parts: CommandPart[] = [];
  const add = (...items: CommandPart[]): void => {
    if (parts.length > 0) parts.push(" ");
    parts.push(...items);
  };
  if (search.header !== undefined) add("HEADER ", search.header.name, " ", astring(search.header.value));
  if (search.subject !== undefined) add("SUBJECT ", astring(search.subject));
  if (search.from !== undefined) add("FROM ", astring(search.from));
  if (search.received_within !== undefined) {
    const since = new Date(nowMs - search.received_within);
    add(`SINCE ${since.getUTCDate()}-${MONTHS[since.getUTCMonth()]}-${since.getUTCFullYear()}`);
  }
  if (parts.length === 0) add("ALL");
  return parts;
}
