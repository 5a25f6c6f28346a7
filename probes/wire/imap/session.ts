import { ProbeError } from "../../../src/core/probe-error.js";
import type { SessionIo } from "../../../src/core/probe.js";
import type { ImapSettings } from "./settings.js";
import { ImapConnection, imapProtocolError } from "./connection.js";
import { astring, parseValues, statusOf, type CommandPart, type ImapReadLimits, type ImapValue } from "./wire.js";
import { CERT_EXPIRY_FACT, earliestCertExpiry, tlsConnectOptions } from "../transport/tls.js";

/** Phases of an IMAP session, in order; the `imap` kind's phase label values. */
export const IMAP_PHASES = ["connect", "tls", "greeting", "starttls", "auth", "select", "search", "logout"] as const;

/** One IMAP phase. */
export type ImapPhase = (typeof IMAP_PHASES)[number];

/** What opening a session needs. */
export interface ImapSessionInput extends SessionIo {
  settings: Pick<
    ImapSettings,
    "tls" | "starttls_required" | "servername" | "ca_file" | "insecure_skip_verify" | "auth"
  >;
  host: string;
  port: number;
  limits?: Partial<ImapReadLimits>;
}

/** SELECT/EXAMINE results. */
export interface MailboxStatus {
  exists: number;
  uidValidity: number | undefined;
  uidNext: number | undefined;
}

/** One fetched message: its UID and the requested header fields (lower-case names, unfolded values). */
export interface FetchedHeaders {
  uid: number;
  headers: Map<string, string>;
}

/** A folder from LIST: its name as sent on the wire (modified UTF-7) and its attributes, lower-cased. */
export interface FolderInfo {
  name: string;
  attributes: string[];
}

const DELETE_BATCH = 500;
/** Messages per SEARCH when counting without ESEARCH: at most ~50,000 numbers of 7 digits, under 400 KB a line. */
const COUNT_CHUNK = 50_000;

/** Whether a literal in `criteria` carries 8-bit text (then SEARCH needs CHARSET UTF-8). */
function isUtf8(criteria: readonly CommandPart[]): boolean {
  return criteria.some((p) => typeof p !== "string" && [...p.literal].some((c) => c.charCodeAt(0) > 0x7f));
}

/** An authenticated IMAP session; every method throws ProbeError (IMAP facts for NO/BAD/BYE). */
export class ImapSession {
  readonly #conn: ImapConnection;
  readonly #input: ImapSessionInput;

  private constructor(conn: ImapConnection, input: ImapSessionInput) {
    this.#conn = conn;
    this.#input = input;
  }

  /** Connects, upgrades to TLS as configured, reads the greeting and authenticates, each step timed as its phase. */
  static async open(input: ImapSessionInput): Promise<ImapSession> {
    const { settings } = input;
    const conn = await input.phases.time("connect", () =>
      ImapConnection.open(input.host, input.port, {
        signal: input.signal,
        phase: "connect",
        ...(input.limits === undefined ? {} : { limits: input.limits }),
      }),
    );
    const session = new ImapSession(conn, input);
    try {
      if (settings.tls === "implicit") await session.step("tls", () => session.#startTls());
      const isPreauth = await session.step("greeting", () => session.#greeting());
      if (settings.tls === "starttls") await session.#starttls();
      if (!isPreauth) await session.step("auth", () => session.#authenticate());
      return session;
    } catch (error) {
      conn.destroy();
      throw error;
    }
  }

  /** Capabilities as last announced (upper case). */
  get capabilities(): ReadonlySet<string> {
    return this.#conn.capabilities;
  }

  /** Runs `fn` timed as `phase`; failures inside carry that label (prefixed by a withPhasePrefix clock). */
  step<T>(phase: ImapPhase, fn: () => Promise<T>): Promise<T> {
    return this.#input.phases.time(phase, () => this.within(phase, fn));
  }

  /** Runs `fn` with failures labelled `label`, untimed (the caller's phase covers it). */
  async within<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#conn.phase;
    this.#conn.phase = label;
    try {
      return await fn();
    } finally {
      this.#conn.phase = previous;
    }
  }

  /** SELECT (or EXAMINE when `isReadOnly`) a folder by its wire name (see encodeMailboxName). */
  async select(wireName: string, isReadOnly = false): Promise<MailboxStatus> {
    const { untagged } = await this.#conn.command([isReadOnly ? "EXAMINE " : "SELECT ", astring(wireName)], "select");
    const status: MailboxStatus = { exists: 0, uidValidity: undefined, uidNext: undefined };
    for (const r of untagged) {
      const exists = /^\* (\d+) EXISTS/i.exec(r.raw);
      if (exists !== null) status.exists = Number(exists[1]);
      const code = /^\* OK \[(UIDVALIDITY|UIDNEXT) (\d+)\]/i.exec(r.raw);
      if (code?.[1]?.toUpperCase() === "UIDVALIDITY") status.uidValidity = Number(code[2]);
      if (code?.[1]?.toUpperCase() === "UIDNEXT") status.uidNext = Number(code[2]);
    }
    if (status.uidNext === undefined) {
      // Some servers omit UIDNEXT; the last message's UID + 1 is what new mail will be above.
      const last = status.exists > 0 ? await this.fetchHeaders("*", false, []) : [];
      status.uidNext = (last[0]?.uid ?? 0) + 1;
    }
    return status;
  }

  /** UID SEARCH with `criteria` (CHARSET UTF-8 added when a literal carries 8-bit text); the matching UIDs. */
  async search(criteria: readonly CommandPart[]): Promise<number[]> {
    const { untagged } = await this.#conn.command(
      ["UID SEARCH ", ...(isUtf8(criteria) ? ["CHARSET UTF-8 "] : []), ...criteria],
      "search",
    );
    const uids: number[] = [];
    for (const r of untagged) {
      const match = /^\* SEARCH((?: \d+)*)\s*$/i.exec(r.raw);
      if (match?.[1] !== undefined) uids.push(...match[1].trim().split(" ").filter(Boolean).map(Number));
    }
    return uids;
  }

  /**
   * How many messages of the selected folder (holding `exists`) match `criteria`, without the full list: ESEARCH's
   * `RETURN (COUNT)` (RFC 4731) where announced, else SEARCH over sequence ranges of COUNT_CHUNK messages, so that
   * no response line grows past the reader's line cap however large the folder is.
   */
  async count(criteria: readonly CommandPart[], exists: number): Promise<number> {
    const charset = isUtf8(criteria) ? ["CHARSET UTF-8 "] : [];
    if (this.#conn.capabilities.has("ESEARCH")) {
      const { untagged } = await this.#conn.command(["UID SEARCH RETURN (COUNT) ", ...charset, ...criteria], "search");
      for (const r of untagged) {
        const match = /^\* ESEARCH .*\bCOUNT (\d+)/i.exec(r.raw);
        if (match?.[1] !== undefined) return Number(match[1]);
      }
      return 0; // RFC 4731: no COUNT item when nothing matched
    }
    if (exists <= COUNT_CHUNK) return (await this.search(criteria)).length;
    let total = 0;
    for (let from = 1; from <= exists; from += COUNT_CHUNK) {
      const to = Math.min(exists, from + COUNT_CHUNK - 1);
      const { untagged } = await this.#conn.command(["SEARCH ", ...charset, `${from}:${to} `, ...criteria], "search");
      for (const r of untagged) {
        const match = /^\* SEARCH((?: \d+)*)\s*$/i.exec(r.raw);
        if (match?.[1] !== undefined) total += match[1].trim().split(" ").filter(Boolean).length;
      }
    }
    return total;
  }

  /** UIDs of messages whose header `name` contains `value` (SEARCH HEADER: substring, case-insensitive). */
  searchHeader(name: string, value: string): Promise<number[]> {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(name)) throw new Error(`invalid header name ${name}`);
    return this.search([`HEADER ${name} `, astring(value)]);
  }

  /** Header fields of the messages in `set` (UIDs when `isUid`, else sequence numbers), without setting \Seen. */
  async fetchHeaders(set: string, isUid: boolean, fields: readonly string[]): Promise<FetchedHeaders[]> {
    const items = fields.length === 0 ? "UID" : `UID BODY.PEEK[HEADER.FIELDS (${fields.join(" ")})]`;
    const { untagged } = await this.#conn.command([`${isUid ? "UID " : ""}FETCH ${set} (${items})`], "fetch");
    const out: FetchedHeaders[] = [];
    for (const r of untagged) {
      if (!/^\* \d+ FETCH /i.test(r.raw)) continue;
      const list = parseValues(r)[3];
      if (!Array.isArray(list)) throw imapProtocolError("malformed FETCH response", this.#conn.phase);
      const fetched = fetchItems(list);
      if (fetched !== undefined) out.push(fetched);
    }
    return out;
  }

  /** Header fields of the newest `count` messages of the selected folder holding `exists` messages. */
  newestHeaders(exists: number, count: number, fields: readonly string[]): Promise<FetchedHeaders[]> {
    if (exists === 0 || count <= 0) return Promise.resolve([]);
    return this.fetchHeaders(`${Math.max(1, exists - count + 1)}:*`, false, fields);
  }

  /**
   * Flags the UIDs \Deleted and expunges exactly them: UID EXPUNGE (UIDPLUS), or EXPUNGE only when no other message is
   * flagged \Deleted (a plain EXPUNGE would remove those too). Returns whether they were expunged.
   */
  async deleteMessages(uids: readonly number[]): Promise<boolean> {
    let isExpunged = true;
    for (let i = 0; i < uids.length; i += DELETE_BATCH) {
      const set = uids.slice(i, i + DELETE_BATCH).join(",");
      await this.#conn.command([`UID STORE ${set} +FLAGS.SILENT (\\Deleted)`], "store");
      if (this.#conn.capabilities.has("UIDPLUS")) {
        await this.#conn.command([`UID EXPUNGE ${set}`], "expunge");
        continue;
      }
      const flagged = await this.search(["DELETED"]);
      const ours = new Set(uids);
      if (flagged.every((uid) => ours.has(uid))) await this.#conn.command(["EXPUNGE"], "expunge");
      else isExpunged = false;
    }
    return isExpunged;
  }

  /**
   * IDLE until the server announces new messages or `timeoutMs` passes; true when woken by EXISTS/RECENT.
   * Check the IDLE capability first; a server without it answers BAD.
   */
  async idle(timeoutMs: number): Promise<boolean> {
    const tag = this.#conn.nextTag();
    this.#conn.writeLine(`${tag} IDLE`);
    let timer: NodeJS.Timeout | undefined;
    let isStarted = false;
    let isDone = false;
    let isWoken = false;
    const done = (): void => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      this.#conn.writeLine("DONE");
    };
    try {
      for (;;) {
        const r = await this.#conn.next();
        if (r.raw.startsWith("+")) {
          if (!isStarted) {
            isStarted = true;
            timer = setTimeout(done, timeoutMs);
            if (isWoken) done();
          }
        } else if (r.raw.startsWith("* ")) {
          this.#conn.handleUntagged(r, "idle");
          if (/^\* \d+ (EXISTS|RECENT)/i.test(r.raw)) {
            isWoken = true;
            if (isStarted) done();
          }
        } else {
          this.#conn.expectTagged(r, tag, "idle");
          return isWoken;
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Folders with special-use attributes (RFC 6154) when announced, else all folders. */
  async listFolders(): Promise<FolderInfo[]> {
    const isSpecialUse = this.#conn.capabilities.has("SPECIAL-USE");
    const { untagged } = await this.#conn.command([isSpecialUse ? 'LIST (SPECIAL-USE) "" "*"' : 'LIST "" "*"'], "list");
    const folders: FolderInfo[] = [];
    for (const r of untagged) {
      if (!/^\* LIST /i.test(r.raw)) continue;
      const [, , attributes, , name] = parseValues(r);
      if (!Array.isArray(attributes) || typeof name !== "string") continue;
      folders.push({ name, attributes: attributes.filter((a) => typeof a === "string").map((a) => a.toLowerCase()) });
    }
    return folders;
  }

  /** LOGOUT; a server that closes right after its BYE is accepted. */
  async logout(): Promise<void> {
    try {
      await this.#conn.command(["LOGOUT"], "logout");
    } catch (error) {
      if (!(this.#conn.sawBye && error instanceof ProbeError && error.facts?.protocol === "net")) throw error;
    }
  }

  /** Destroys the connection (after LOGOUT, or on failure). */
  close(): void {
    this.#conn.destroy();
  }

  async #startTls(): Promise<void> {
    const { settings, host, facts } = this.#input;
    const connect = await tlsConnectOptions(settings, host);
    await this.#conn.startTls(connect, {
      host,
      verify: !settings.insecure_skip_verify,
      onHandshake: (socket) => {
        const expiry = earliestCertExpiry(socket);
        if (expiry !== undefined) facts.set(CERT_EXPIRY_FACT, expiry);
      },
    });
  }

  /** Reads the greeting; returns whether it was PREAUTH. */
  async #greeting(): Promise<boolean> {
    const greeting = await this.#conn.next();
    const status = statusOf(greeting.raw);
    if (status?.tag !== "*" || !["OK", "PREAUTH", "BYE"].includes(status.status)) {
      throw imapProtocolError("server did not send an IMAP greeting", this.#conn.phase);
    }
    if (status.status === "BYE") throw this.#conn.failure(greeting, "greeting");
    this.#conn.noteCapabilities(greeting);
    if (this.#conn.capabilities.size === 0) await this.#conn.command(["CAPABILITY"], "greeting");
    return status.status === "PREAUTH";
  }

  async #starttls(): Promise<void> {
    const { settings, logger } = this.#input;
    const hasStarttls = this.#conn.capabilities.has("STARTTLS");
    if (!hasStarttls && !settings.starttls_required) {
      logger.warn("STARTTLS not offered; continuing in plaintext (starttls_required: false)");
      return;
    }
    await this.step("starttls", async () => {
      if (!hasStarttls) {
        throw new ProbeError("server does not offer STARTTLS", {
          phase: this.#conn.phase,
          facts: { protocol: "tls", input: { code: "STARTTLS_NOT_OFFERED" } },
        });
      }
      await this.#conn.command(["STARTTLS"], "starttls");
    });
    await this.step("tls", () => this.#startTls());
    // Capabilities from before TLS may have been forged (RFC 9051 §6.2.1); ask again.
    this.#conn.capabilities = new Set();
  }

  async #authenticate(): Promise<void> {
    const { auth } = this.#input.settings;
    if (this.#conn.capabilities.size === 0) await this.#conn.command(["CAPABILITY"], "auth");
    let secret: string;
    try {
      secret = auth.mechanism === "login" ? auth.password.reveal() : auth.token.reveal();
    } catch (error) {
      const facts = error instanceof ProbeError ? error.facts : undefined;
      throw new ProbeError(
        "IMAP credentials cannot be read",
        { phase: this.#conn.phase, ...(facts ? { facts } : {}) },
        { cause: error },
      );
    }
    const b64 = (text: string): string => Buffer.from(text).toString("base64");
    this.#conn.redactor.addSecret(secret);
    const before = this.#conn.capabilities;
    if (auth.mechanism === "login") {
      await this.#conn.command(["LOGIN ", astring(auth.user), " ", astring(secret)], "auth");
    } else {
      const initial = b64(`user=${auth.user}\x01auth=Bearer ${secret}\x01\x01`);
      this.#conn.redactor.addSent(initial);
      let isSent = this.#conn.capabilities.has("SASL-IR");
      // On failure the server sends a `+` with an error challenge; an empty response ends the exchange (RFC 7628).
      await this.#conn.command([`AUTHENTICATE XOAUTH2${isSent ? ` ${initial}` : ""}`], "auth", () => {
        if (isSent) return "";
        isSent = true;
        return initial;
      });
    }
    // Servers usually announce the post-login capabilities in the OK; those before login may differ (e.g. UIDPLUS).
    if (this.#conn.capabilities === before) await this.#conn.command(["CAPABILITY"], "auth");
  }
}

function fetchItems(list: ImapValue[]): FetchedHeaders | undefined {
  let uid: number | undefined;
  let headers = new Map<string, string>();
  for (let i = 0; i + 1 < list.length; i += 2) {
    const key = list[i];
    const value = list[i + 1];
    if (typeof key !== "string") continue;
    if (key.toUpperCase() === "UID" && typeof value === "string") uid = Number(value);
    if (/^BODY\[HEADER\.FIELDS/i.test(key) && typeof value === "string") headers = parseHeaderFields(value);
  }
  return uid === undefined || !Number.isInteger(uid) ? undefined : { uid, headers };
}

/** Parses header fields (RFC 5322 unfolding); the first occurrence of a name wins. */
export function parseHeaderFields(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const field of text.replace(/\r?\n(?=[ \t])/g, "").split(/\r?\n/)) {
    const colon = field.indexOf(":");
    if (colon <= 0) continue;
    const name = field.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, field.slice(colon + 1).trim());
  }
  return headers;
}
