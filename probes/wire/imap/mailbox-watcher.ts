import type { SessionIo } from "../../../src/core/probe.js";
import { withPhasePrefix } from "../phases.js";
import { checkHash } from "../roundtrip/probe-id.js";
import { pause, type RoundTripWatcher } from "../roundtrip/driver.js";
import {
  deleteProbeMessages,
  findProbeMessages,
  isConnectionLoss,
  newProbeMessages,
  resolveFolders,
  type ProbeMessage,
  type WatchedFolder,
} from "./mail-watch.js";
import { ImapSession, type ImapSessionInput } from "./session.js";

/** What the mailbox side of a round trip needs: the session's settings and endpoint, the folders to watch. */
export interface MailboxWatcherInput {
  settings: ImapSessionInput["settings"];
  host: string;
  port: number;
  /** Folders to watch; default INBOX and the \Junk special-use folder. */
  folders: readonly string[] | undefined;
  /** Scopes the watch to this check's probe ids. */
  check: string;
}

/**
 * The IMAP side of a mail round trip: its session phases are prefixed `mailbox_`; finding earlier runs' messages is
 * phase `mailbox_select`; new mail is seen by UID above each folder's UIDNEXT (no SEARCH: a full-text index may lag),
 * with IDLE on INBOX between looks where offered.
 */
export class MailboxWatcher implements RoundTripWatcher<ProbeMessage> {
  readonly #io: SessionIo;
  readonly #input: MailboxWatcherInput;
  readonly #hash: string;
  #session: ImapSession | undefined;
  #folders: WatchedFolder[] = [];

  constructor(io: SessionIo, input: MailboxWatcherInput) {
    this.#io = io;
    this.#input = input;
    this.#hash = checkHash(input.check);
  }

  async open(): Promise<void> {
    this.#session = await ImapSession.open({
      ...withPhasePrefix(this.#io, "mailbox_"),
      settings: this.#input.settings,
      host: this.#input.host,
      port: this.#input.port,
    });
  }

  existing(): Promise<ProbeMessage[]> {
    const session = this.#open();
    return this.#io.phases.time("mailbox_select", () =>
      session.within("mailbox_select", async () => {
        this.#folders = await resolveFolders(session, this.#input.folders);
        const found: ProbeMessage[] = [];
        for (const folder of this.#folders) {
          found.push(...(await findProbeMessages(session, folder, this.#hash, this.#io.logger)));
        }
        return found;
      }),
    );
  }

  poll(expectedId: string, phase: string): Promise<ProbeMessage[]> {
    const session = this.#open();
    return session.within(phase, async () => {
      const found: ProbeMessage[] = [];
      for (const folder of this.#folders) {
        found.push(...(await newProbeMessages(session, folder, this.#hash, expectedId)));
      }
      return found;
    });
  }

  async wait(ms: number, phase: string): Promise<void> {
    const session = this.#open();
    if (session.capabilities.has("IDLE")) await session.within(phase, () => session.idle(ms));
    else await pause(ms, this.#io.signal, phase);
  }

  remove(items: readonly ProbeMessage[], phase: string): Promise<void> {
    const session = this.#open();
    return session.within(phase, () => deleteProbeMessages(session, items, this.#io.logger));
  }

  isConnectionLoss(error: unknown): boolean {
    return isConnectionLoss(error, this.#io.signal);
  }

  /** LOGOUT, timed as `mailbox_logout`. */
  async logout(): Promise<void> {
    const session = this.#open();
    await session.step("logout", () => session.logout());
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  #open(): ImapSession {
    if (this.#session === undefined) throw new TypeError("mailbox watcher used before open()");
    return this.#session;
  }
}
