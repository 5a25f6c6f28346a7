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
import { duration } from "../src/core/duration.js";
import { ProbeError } from "../src/core/probe-error.js";
import { defineKind, type PhaseClock, type ProbeContext, type RunFacts } from "../src/core/probe.js";
import { parseSocketTarget, type SocketTarget } from "../src/core/target.js";
import { ImapSession, type ImapPhase } from "./wire/imap/session.js";
import { imapDefaultPort, imapSettingsSchema } from "./wire/imap/settings.js";
import {
  checkHash,
  deleteProbeMessages,
  findProbeMessages,
  isConnectionLoss,
  newProbeId,
  newProbeMessages,
  parseProbeId,
  pause,
  probeSubject,
  resolveFolders,
  type ProbeMessage,
  type WatchedFolder,
} from "./wire/imap/mail-watch.js";
import { runSmtpSession, SmtpUncertainSendError } from "./wire/smtp/session.js";
import { SMTP_PHASES, smtpDefaultPort, smtpSettingsSchema } from "./wire/smtp/settings.js";
import { checkPlaintextAuth } from "./wire/transport/tls.js";

/** The check's timeout must be at least `max_delivery` plus this (mailbox login, cleanup, submission, logout). */
export const MAIL_ROUNDTRIP_TIMEOUT_MARGIN_MS = 10_000;
/** A leftover of this check not sent by this agent is deleted only when older than max_delivery plus this. */
const LEFTOVER_GRACE_MS = 60_000;
/** Pending ids are forgotten after this long or beyond this many (oldest first). */
const PENDING_TTL_MS = 24 * 3_600_000;
const PENDING_MAX = 1000;
const STATE_KEY = "mail_roundtrip.pending";

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
  "delivery",
  "cleanup",
  "mailbox_logout",
];

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
        "Folders to watch; default INBOX and the \\Junk special-use folder. A hit in a junk folder counts as mailJunked.",
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
    const submit = parseSocketTarget(s.submit.target, smtpDefaultPort(s.submit));
    if ("error" in submit) issue.addIssue({ code: "custom", path: ["submit", "target"], message: submit.error });
    checkPlaintextAuth(s.mailbox, issue, ["mailbox"]); // submit's own schema carries the same rule
    const mailbox = parseSocketTarget(s.mailbox.target, imapDefaultPort(s.mailbox));
    if ("error" in mailbox) issue.addIssue({ code: "custom", path: ["mailbox", "target"], message: mailbox.error });
    if (s.poll_interval >= s.max_delivery) {
      issue.addIssue({ code: "custom", path: ["poll_interval"], message: "must be shorter than max_delivery" });
    }
  });

/** Parsed `mail_roundtrip` settings. */
export type MailRoundtripSettings = z.output<typeof mailRoundtripSettingsSchema>;

function socketTarget(text: string, defaultPort: number): SocketTarget {
  const parsed = parseSocketTarget(text, defaultPort);
  if ("error" in parsed)
    throw new ProbeError(parsed.error, { facts: { protocol: "probe", input: { class: "config" } } });
  return parsed;
}

interface Pending {
  deadlineMs: number;
}

function pendingIds(state: Map<string, unknown>, nowMs: number): Map<string, Pending> {
  let pending = state.get(STATE_KEY);
  if (!(pending instanceof Map)) {
    pending = new Map<string, Pending>();
    state.set(STATE_KEY, pending);
  }
  const map = pending as Map<string, Pending>;
  for (const [id, p] of map) if (nowMs - p.deadlineMs > PENDING_TTL_MS || map.size > PENDING_MAX) map.delete(id);
  return map;
}

function prefixed(clock: PhaseClock, prefix: string): PhaseClock {
  return {
    time: (phase, fn) => clock.time(`${prefix}${phase}`, fn),
    get current() {
      return clock.current;
    },
    snapshot: () => clock.snapshot(),
  };
}

/** The SMTP failure with its facts unchanged, its phase prefixed `submit_`; the original stays in `cause`. */
function submitError(error: unknown): ProbeError {
  const phase = `submit_${error instanceof ProbeError ? (error.phase ?? "connect") : "connect"}`;
  const facts = error instanceof ProbeError ? error.facts : undefined;
  const message = error instanceof Error ? error.message : "submission failed";
  return new ProbeError(
    `submission: ${message}`,
    { phase, ...(facts === undefined ? {} : { facts }) },
    { cause: error },
  );
}

async function run(ctx: ProbeContext<MailRoundtripSettings>): Promise<void> {
  const { settings, logger, signal, facts } = ctx;
  const mailboxTarget = socketTarget(settings.mailbox.target, imapDefaultPort(settings.mailbox));
  const submitTarget = socketTarget(settings.submit.target, smtpDefaultPort(settings.submit));
  const hash = checkHash(ctx.check);
  const pending = pendingIds(ctx.state, Date.now());
  facts.mailLate = 0;
  facts.mailUncertainSends = 0;
  facts.mailJunked = 0;
  const open = (): Promise<ImapSession> =>
    ImapSession.open({
      settings: settings.mailbox,
      host: mailboxTarget.host,
      port: mailboxTarget.port,
      signal,
      phases: ctx.phases,
      facts,
      logger,
      phasePrefix: "mailbox_",
    });
  const first = await open();
  const watch: Watch = { session: first, id: "", hash, deadlineMs: 0, folders: [], pending, open };
  try {
    watch.folders = await cleanEarlierRuns(ctx, first, hash, pending);
    watch.id = newProbeId(ctx.check, Date.now());
    const sent = await submit(ctx, submitTarget, watch.id);
    watch.deadlineMs = sent.acceptedAtMs + settings.max_delivery;
    pending.set(watch.id, { deadlineMs: watch.deadlineMs });

    const result = await ctx.phases.time("delivery", () => watchForDelivery(ctx, watch));
    const { session } = result;
    if (result.found !== undefined) {
      pending.delete(watch.id);
      facts.mailDeliverySeconds = Math.max(0, (result.seenAtMs - sent.acceptedAtMs) / 1000);
      if (result.found.folder.isJunk) facts.mailJunked = 1;
    }
    const mine = [...result.late, ...(result.found === undefined ? [] : [result.found])];
    if (mine.length > 0) {
      await ctx.phases.time("cleanup", () =>
        session.within("cleanup", () => deleteProbeMessages(session, mine, logger)),
      );
    }
    if (result.found === undefined) {
      if (sent.uncertain !== undefined) throw submitError(sent.uncertain);
      throw new ProbeError(`message not visible within ${settings.max_delivery / 1000}s`, {
        phase: "delivery",
        facts: { protocol: "probe", input: { class: "delivery" } },
      });
    }
    await session.step("logout", () => session.logout());
  } finally {
    watch.session?.close();
  }
}

/**
 * Phase `mailbox_select`: resolves the folders, notes their UIDNEXT and finds this check's probe messages; then phase
 * `cleanup` deletes those of earlier runs of this agent (late ones counted) and old leftovers (e.g. before a restart).
 */
async function cleanEarlierRuns(
  ctx: ProbeContext<MailRoundtripSettings>,
  session: ImapSession,
  hash: string,
  pending: Map<string, Pending>,
): Promise<WatchedFolder[]> {
  const { settings, logger, facts } = ctx;
  const now = Date.now();
  const toDelete: ProbeMessage[] = [];
  const isOldLeftover = (m: ProbeMessage): boolean =>
    now - (parseProbeId(m.id)?.sentAtMs ?? now) > settings.max_delivery + LEFTOVER_GRACE_MS;
  const folders = await ctx.phases.time("mailbox_select", () =>
    session.within("mailbox_select", async () => {
      const list = await resolveFolders(session, settings.folders);
      for (const folder of list) {
        for (const m of await findProbeMessages(session, folder, hash, logger)) {
          if (settle(m, pending, now, facts) || isOldLeftover(m)) toDelete.push(m);
        }
      }
      return list;
    }),
  );
  if (toDelete.length > 0) {
    logger.info({ count: toDelete.length }, "deleting probe messages of earlier runs");
    await ctx.phases.time("cleanup", () =>
      session.within("cleanup", () => deleteProbeMessages(session, toDelete, logger)),
    );
  }
  return folders;
}

/** Counts a pending id of an earlier run as late (if past its deadline); true when `m` was one. */
function settle(m: ProbeMessage, pending: Map<string, Pending>, nowMs: number, facts: RunFacts): boolean {
  const p = pending.get(m.id);
  if (p === undefined) return false;
  pending.delete(m.id);
  if (nowMs > p.deadlineMs) facts.mailLate = (facts.mailLate ?? 0) + 1;
  return true;
}

async function submit(
  ctx: ProbeContext<MailRoundtripSettings>,
  target: SocketTarget,
  id: string,
): Promise<{ acceptedAtMs: number; uncertain?: SmtpUncertainSendError }> {
  const smtpFacts: RunFacts = {};
  try {
    const result = await runSmtpSession({
      settings: ctx.settings.submit,
      host: target.host,
      port: target.port,
      signal: ctx.signal,
      phases: prefixed(ctx.phases, "submit_"),
      facts: smtpFacts,
      logger: ctx.logger,
      message: { id, subject: probeSubject(id) },
    });
    return { acceptedAtMs: result.acceptedAtMs ?? Date.now() };
  } catch (error) {
    // Connection lost after the body: the message may still arrive, so keep watching.
    if (error instanceof SmtpUncertainSendError && !ctx.signal.aborted) {
      ctx.facts.mailUncertainSends = 1;
      return { acceptedAtMs: Date.now(), uncertain: error };
    }
    throw submitError(error);
  } finally {
    if (smtpFacts.smtpReplyCode !== undefined) ctx.facts.smtpReplyCode = smtpFacts.smtpReplyCode;
    const expiry = smtpFacts.sslEarliestCertExpiry;
    if (expiry !== undefined)
      ctx.facts.sslEarliestCertExpiry = Math.min(ctx.facts.sslEarliestCertExpiry ?? expiry, expiry);
  }
}

interface Watch {
  session: ImapSession | undefined;
  id: string;
  hash: string;
  deadlineMs: number;
  folders: WatchedFolder[];
  pending: Map<string, Pending>;
  open: () => Promise<ImapSession>;
}

/**
 * Polls each folder for UIDs above its recorded UIDNEXT (no SEARCH: a full-text index may lag), then IDLEs on INBOX
 * (or sleeps) for poll_interval. A lost connection is reopened until the deadline; if the mailbox stays unreachable,
 * the last connection error is thrown. Late messages of earlier runs seen on the way are counted and returned.
 */
async function watchForDelivery(
  ctx: ProbeContext<MailRoundtripSettings>,
  w: Watch,
): Promise<{ session: ImapSession; found?: ProbeMessage; seenAtMs: number; late: ProbeMessage[] }> {
  const late: ProbeMessage[] = [];
  const interval = ctx.settings.poll_interval;
  for (;;) {
    try {
      w.session ??= await w.open();
      const session = w.session;
      const found = await session.within("delivery", async () => {
        for (const folder of w.folders) {
          for (const m of await newProbeMessages(session, folder, w.hash, w.id)) {
            if (m.id === w.id) return m;
            if (settle(m, w.pending, Date.now(), ctx.facts)) late.push(m);
          }
        }
        return undefined;
      });
      if (found !== undefined) return { session, found, seenAtMs: Date.now(), late };
      const left = w.deadlineMs - Date.now();
      if (left <= 0) return { session, seenAtMs: Date.now(), late };
      if (session.capabilities.has("IDLE"))
        await session.within("delivery", () => session.idle(Math.min(interval, left)));
      else await pause(Math.min(interval, left), ctx.signal, "delivery");
    } catch (error) {
      if (!isConnectionLoss(error, ctx.signal)) throw error;
      // Warn once per lost session; failed reopen attempts during an outage only at debug.
      if (w.session !== undefined)
        ctx.logger.warn({ err: error }, "mailbox connection lost during delivery; reconnecting");
      else ctx.logger.debug({ err: error }, "mailbox still unreachable");
      w.session?.close();
      w.session = undefined;
      const left = w.deadlineMs - Date.now();
      if (left <= 0) throw error;
      await pause(Math.min(interval, left), ctx.signal, "delivery");
    }
  }
}

/** The `mail_roundtrip` probe kind. */
export const mailRoundtripKind = defineKind<MailRoundtripSettings>({
  id: "mail_roundtrip",
  title: "Send a marked message by SMTP and time until it is visible over IMAP (inbox or junk), then delete it",
  settingsSchema: mailRoundtripSettingsSchema,
  isSettingsOptional: false,
  phases: MAIL_ROUNDTRIP_PHASES,
  minTimeoutMs: (s) => ({
    ms: s.max_delivery + MAIL_ROUNDTRIP_TIMEOUT_MARGIN_MS,
    why: `max_delivery + ${MAIL_ROUNDTRIP_TIMEOUT_MARGIN_MS / 1000}s`,
  }),
  target: {
    type: "none",
    label: (s) => {
      const parsed = parseSocketTarget(s.mailbox.target, imapDefaultPort(s.mailbox));
      return "error" in parsed ? s.mailbox.target : parsed.label;
    },
  },
  run,
});
