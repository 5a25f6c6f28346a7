/**
 * Kind `imap`: connect → TLS → greeting → (STARTTLS) → authenticate → SELECT (read-only) → optional SEARCH → LOGOUT.
 *
 * Why a hand-written client rather than imapflow: a prober must time connect, TLS, greeting and STARTTLS separately
 * (imapflow's `connect()` does them all at once), must report the raw tagged/untagged response line to the classifier
 * (imapflow exposes `responseText`/`serverResponseCode` pieces, not the line), must cap line, literal and total sizes
 * against hostile servers, must refuse data pipelined ahead of a STARTTLS handshake, and must honour an AbortSignal by
 * destroying the socket. The subset a prober needs (LOGIN, AUTHENTICATE XOAUTH2, SELECT, UID SEARCH/FETCH/STORE/EXPUNGE,
 * IDLE, LIST) is small; see probes/wire/imap/.
 */
import { ProbeError } from "../src/core/probe-error.js";
import { defineKind, type ProbeContext } from "../src/core/probe.js";
import { IMAP_PHASES, ImapSession } from "./wire/imap/session.js";
import { imapDefaultPort, imapSettingsSchema, searchCriteria, type ImapSettings } from "./wire/imap/settings.js";
import { encodeMailboxName } from "./wire/imap/wire.js";
import { CERT_EXPIRY_FACT, checkPlaintextAuth } from "./wire/transport/tls.js";

async function run(ctx: ProbeContext<ImapSettings>): Promise<void> {
  const { target, settings } = ctx;
  if (target.type !== "socket") {
    throw new ProbeError("imap needs a host:port target", { facts: { protocol: "probe", input: { class: "config" } } });
  }
  const session = await ImapSession.open({
    settings,
    host: target.host,
    port: target.port,
    signal: ctx.signal,
    phases: ctx.phases,
    facts: ctx.facts,
    logger: ctx.logger,
  });
  try {
    // EXAMINE: a monitor must not change \Recent or other state in the mailbox it watches.
    const status = await session.step("select", () => session.select(encodeMailboxName(settings.folder), true));
    ctx.logger.debug({ exists: status.exists }, "folder selected");
    const search = settings.search;
    if (search !== undefined) {
      const criteria = searchCriteria(search, Date.now());
      const count = await session.step("search", () => session.count(criteria, status.exists));
      if (count < search.expect_min_results) {
        throw new ProbeError(`IMAP search matched ${count} messages, expected at least ${search.expect_min_results}`, {
          phase: "search",
          facts: { protocol: "probe", input: { class: "assertion" } },
        });
      }
    }
    await session.step("logout", () => session.logout());
  } finally {
    session.close();
  }
}

/** The `imap` probe kind. */
export const imapKind = defineKind<ImapSettings>({
  id: "imap",
  title: "IMAP login, folder SELECT and optional SEARCH, each phase timed",
  // Here rather than on imapSettingsSchema: mail_roundtrip omits fields from that schema, which zod forbids on a refined one.
  settingsSchema: imapSettingsSchema.superRefine((s, issues) => checkPlaintextAuth(s, issues)),
  isSettingsOptional: false,
  phases: IMAP_PHASES,
  facts: [CERT_EXPIRY_FACT],
  target: { type: "socket", defaultPort: imapDefaultPort },
  run,
});
