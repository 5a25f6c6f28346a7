/**
 * Kind `mail_roundtrip`: send a uniquely marked message through SMTP submission and watch an IMAP mailbox until it is
 * visible (IDLE where offered, polling otherwise) or `max_delivery` passes; then delete it. Uses runSmtpSession and the
 * IMAP session of the `imap` kind, so every protocol failure keeps its own facts.
 *
 * Phase labels: the SMTP phases prefixed `submit_`, the IMAP connection phases prefixed `mailbox_`, plus `delivery`
 * (submission accepted → visible) and `cleanup` (deleting probe messages). Prefixing the protocol phases keeps "451 at
 * RCPT" and "login refused by the mailbox" apart in the failure's phase while the set stays fixed (19 values).
 */
import { z } from "zod";
import { counterFact, histogramFact } from "../src/core/facts.js";
import { duration } from "../src/core/duration.js";
import { defineKind, endpointOf, type ProbeContext } from "../src/core/probe.js";
import { MailboxWatcher } from "./wire/imap/mailbox-watcher.js";
import { probeSubject } from "./wire/imap/mail-watch.js";
import type { ImapPhase } from "./wire/imap/session.js";
import { imapDefaultPort, imapSettingsSchema } from "./wire/imap/settings.js";
import { prefixedFailure, withPhasePrefix } from "./wire/phases.js";
import {
  createRoundTripState,
  ROUND_TRIP_PHASES,
  runRoundTrip,
  type RoundTripState,
  type SendOutcome,
} from "./wire/roundtrip/driver.js";
import { runSmtpSession, SMTP_REPLY_CODE_FACT, SmtpUncertainSendError } from "./wire/smtp/session.js";
import { SMTP_PHASES, smtpDefaultPort, smtpSettingsSchema } from "./wire/smtp/settings.js";
import { CERT_EXPIRY_FACT, checkPlaintextAuth } from "./wire/transport/tls.js";

/** The check's timeout must be at least `max_delivery` plus this (mailbox login, cleanup, submission, logout). */
export const MAIL_ROUNDTRIP_TIMEOUT_MARGIN_MS = 10_000;

// Opening the mailbox and scanning it; its own SEARCH phase has no counterpart here (see findProbeMessages).
const MAILBOX_PHASES = [
  "connect",
  "tls",
  "greeting",
  "starttls",
  "auth",
  "select",
] as const satisfies readonly ImapPhase[];

/** The fixed phase label values of `mail_roundtrip` (19). */
export const MAIL_ROUNDTRIP_PHASES: readonly string[] = [
  ...MAILBOX_PHASES.map((p) => `mailbox_${p}`),
  ...SMTP_PHASES.map((p) => `submit_${p}`),
  ...ROUND_TRIP_PHASES,
  "mailbox_logout",
];

const DELIVERY_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800];

/** The facts of a mail round trip. */
export const MAIL_FACTS = {
  delivery: histogramFact(
    "probe_mail_delivery_seconds",
    "Mail round trip: submission accepted to message visible in the mailbox (arrived in time).",
    DELIVERY_BUCKETS,
  ),
  late: counterFact("probe_mail_late_total", "Round-trip messages that arrived after their deadline."),
  uncertain: counterFact(
    "probe_mail_uncertain_sends_total",
    "Sends whose outcome is unknown: the connection was lost after DATA, before the reply.",
  ),
  junked: counterFact("probe_mail_junked_total", "Round-trip messages delivered into a Junk folder."),
} as const;

const target = z.string().min(1).describe("host[:port]; IPv6 in brackets. The port defaults from tls.");

const submitSchema = smtpSettingsSchema
  .extend({ target })
  .describe("The SMTP submission side: the `smtp` block's fields plus target.");

const mailboxSchema = imapSettingsSchema
  .omit({ folder: true, search: true })
  .extend({ target })
  .describe("The IMAP side: the `imap` block's fields (without folder and search) plus target.");

/** The `mail_roundtrip` block. */
export const mailRoundtripSettingsSchema = z
  .strictObject({
    submit: submitSchema,
    mailbox: mailboxSchema,
    max_delivery: duration.describe(
      `Longest accepted time from submission to visibility. The check's timeout must be at least this plus ${MAIL_ROUNDTRIP_TIMEOUT_MARGIN_MS / 1000}s.`,
    ),
    poll_interval: duration
      .prefault("2s")
      .describe("Time between folder checks (IDLE also returns at once when new mail arrives)."),
    folders: z
      .array(z.string().min(1).max(255))
      .min(1)
      .max(10)
      .optional()
      .describe(
        "Folders to watch; default INBOX and the \\Junk special-use folder. A hit in a junk folder counts in probe_mail_junked_total.",
      ),
  })
  .superRefine((s, issue) => {
    if (s.submit.mail_from === undefined || s.submit.rcpt_to === undefined) {
      issue.addIssue({
        code: "custom",
        path: ["submit", "rcpt_to"],
        message: "mail_from and rcpt_to are required for a round trip",
      });
    }
    checkPlaintextAuth(s.mailbox, issue, ["mailbox"]); // submit's own schema carries the same rule
    if (s.poll_interval >= s.max_delivery) {
      issue.addIssue({ code: "custom", path: ["poll_interval"], message: "must be shorter than max_delivery" });
    }
  });

/** Parsed `mail_roundtrip` settings. */
export type MailRoundtripSettings = z.output<typeof mailRoundtripSettingsSchema>;

type Context = ProbeContext<MailRoundtripSettings, RoundTripState>;

async function run(ctx: Context): Promise<void> {
  const { settings } = ctx;
  const mailbox = endpointOf(ctx.target, "mailbox");
  const watcher = new MailboxWatcher(ctx, {
    settings: settings.mailbox,
    host: mailbox.host,
    port: mailbox.port,
    folders: settings.folders,
    check: ctx.check,
  });
  ctx.facts.add(MAIL_FACTS.junked, 0);
  try {
    const found = await runRoundTrip({
      ...ctx,
      declared: MAIL_FACTS,
      maxDeliveryMs: settings.max_delivery,
      pollIntervalMs: settings.poll_interval,
      send: (id) => submit(ctx, id),
      watcher,
    });
    if (found.folder.isJunk) ctx.facts.add(MAIL_FACTS.junked, 1);
    await watcher.logout();
  } finally {
    watcher.close();
  }
}

/** The SMTP side: one submission, phases prefixed `submit_`. */
async function submit(ctx: Context, id: string): Promise<SendOutcome> {
  const endpoint = endpointOf(ctx.target, "submit");
  try {
    const result = await runSmtpSession({
      ...withPhasePrefix(ctx, "submit_"),
      settings: ctx.settings.submit,
      host: endpoint.host,
      port: endpoint.port,
      message: { id, subject: probeSubject(id) },
    });
    return { acceptedAtMs: result.acceptedAtMs ?? Date.now() };
  } catch (error) {
    // Connection lost after the body: the message may still arrive, so keep watching.
    if (error instanceof SmtpUncertainSendError && !ctx.signal.aborted) {
      return { acceptedAtMs: Date.now(), uncertain: prefixedFailure(error, "submit_", "data") };
    }
    throw prefixedFailure(error, "submit_", "connect");
  }
}

/** The `mail_roundtrip` probe kind. */
export const mailRoundtripKind = defineKind<MailRoundtripSettings, RoundTripState>({
  id: "mail_roundtrip",
  title: "Send a marked message by SMTP and time until it is visible over IMAP (inbox or junk), then delete it",
  settingsSchema: mailRoundtripSettingsSchema,
  isSettingsOptional: false,
  phases: MAIL_ROUNDTRIP_PHASES,
  facts: [SMTP_REPLY_CODE_FACT, CERT_EXPIRY_FACT, ...Object.values(MAIL_FACTS)],
  createState: createRoundTripState,
  minTimeoutMs: (s) => ({
    ms: s.max_delivery + MAIL_ROUNDTRIP_TIMEOUT_MARGIN_MS,
    why: `max_delivery + ${MAIL_ROUNDTRIP_TIMEOUT_MARGIN_MS / 1000}s`,
  }),
  target: {
    type: "endpoints",
    endpoints: (s) => ({
      submit: { text: s.submit.target, defaultPort: smtpDefaultPort(s.submit) },
      mailbox: { text: s.mailbox.target, defaultPort: imapDefaultPort(s.mailbox) },
    }),
    labelFrom: "mailbox",
  },
  run,
});
