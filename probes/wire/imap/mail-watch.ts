import type { Logger } from "pino";
import { ProbeError } from "../../../src/core/probe-error.js";
import type { FetchedHeaders, FolderInfo, ImapSession } from "./session.js";
import { parseProbeId } from "../roundtrip/probe-id.js";
import { encodeMailboxName } from "./wire.js";

/** The header that marks a round-trip message; cleanup deletes only messages whose value matches PROBE_ID. */
export const PROBE_ID_HEADER = "X-Suiteprobe-Id";

/** Header fields fetched for matching. */
const FIELDS = [PROBE_ID_HEADER.toUpperCase(), "SUBJECT"] as const;

/** How many of a folder's newest messages are scanned besides (or instead of) SEARCH. */
const SCAN_NEWEST = 50;
/** Most SEARCH hits verified per folder and run; the rest wait for later runs. */
const MAX_SEARCH_HITS = 500;

/** The subject of a round-trip message; carries the id as a token for servers that strip X- headers. */
export function probeSubject(id: string): string {
  return `suiteprobe round trip [${id}]`;
}

/** A folder being watched, with the UID above which new mail appears. */
export interface WatchedFolder {
  /** Name on the wire (modified UTF-7). */
  name: string;
  isJunk: boolean;
  uidValidity: number | undefined;
  uidNext: number;
}

/** A probe message found in a folder. */
export interface ProbeMessage {
  id: string;
  folder: WatchedFolder;
  uid: number;
}

const JUNK_NAMES = /^(junk|spam|junk e-?mail|bulk mail)$/i;

/** The folders to watch: the configured ones, or INBOX plus the \Junk special-use folder (by name as a fallback). */
export async function resolveFolders(
  session: ImapSession,
  configured: readonly string[] | undefined,
): Promise<WatchedFolder[]> {
  const listed = await session.listFolders();
  const hasJunkAttribute = (f: FolderInfo | undefined): boolean => f?.attributes.includes("\\junk") ?? false;
  const folder = (name: string, isJunk: boolean): WatchedFolder => ({
    name,
    isJunk,
    uidValidity: undefined,
    uidNext: 1,
  });
  if (configured !== undefined) {
    return configured.map((name) => {
      const wire = encodeMailboxName(name);
      const entry = listed.find((f) => f.name === wire);
      return folder(wire, entry === undefined ? JUNK_NAMES.test(name) : hasJunkAttribute(entry));
    });
  }
  const junk = listed.find(hasJunkAttribute) ?? listed.find((f) => JUNK_NAMES.test(f.name));
  // INBOX last: after a polling cycle it stays selected, so IDLE watches the folder mail normally lands in.
  return junk === undefined ? [folder("INBOX", false)] : [folder(junk.name, true), folder("INBOX", false)];
}

/** The probe id of a message of this check (header, or the subject token of `expectedId`), if any. */
export function probeIdOf(message: FetchedHeaders, hash: string, expectedId?: string): string | undefined {
  const header = message.headers.get(PROBE_ID_HEADER.toLowerCase());
  if (header !== undefined && parseProbeId(header)?.checkHash === hash) return header.trim();
  if (expectedId !== undefined && message.headers.get("subject")?.includes(`[${expectedId}]`) === true)
    return expectedId;
  return undefined;
}

/**
 * SELECTs `folder`, records its UIDNEXT and finds this check's probe messages: SEARCH HEADER (when the server answers
 * it) plus the newest messages' headers, since full-text-indexed search may be slow to see new mail or unsupported.
 * Every hit is verified against the fetched header before it is returned.
 */
export async function findProbeMessages(
  session: ImapSession,
  folder: WatchedFolder,
  hash: string,
  logger: Logger,
): Promise<ProbeMessage[]> {
  const status = await session.select(folder.name);
  folder.uidValidity = status.uidValidity;
  folder.uidNext = status.uidNext ?? 1;
  let hits: number[] = [];
  try {
    hits = await session.searchHeader(PROBE_ID_HEADER, `sp-${hash}-`);
  } catch (error) {
    if (!(error instanceof ProbeError && error.facts?.protocol === "imap")) throw error;
    logger.debug({ folder: folder.name }, "SEARCH HEADER refused; scanning the newest messages only");
  }
  const found = new Map<number, string>();
  const note = (messages: FetchedHeaders[]): void => {
    for (const m of messages) {
      const id = probeIdOf(m, hash);
      if (id !== undefined) found.set(m.uid, id);
    }
  };
  note(await session.newestHeaders(status.exists, SCAN_NEWEST, FIELDS));
  const unverified = hits.filter((uid) => !found.has(uid)).slice(0, MAX_SEARCH_HITS);
  if (unverified.length > 0) note(await session.fetchHeaders(unverified.join(","), true, FIELDS));
  return [...found].map(([uid, id]) => ({ id, folder, uid }));
}

/** Probe messages of this check that arrived in `folder` since its recorded UIDNEXT; advances UIDNEXT. */
export async function newProbeMessages(
  session: ImapSession,
  folder: WatchedFolder,
  hash: string,
  expectedId: string,
): Promise<ProbeMessage[]> {
  const status = await session.select(folder.name);
  const isRenumbered = folder.uidValidity !== undefined && status.uidValidity !== folder.uidValidity;
  folder.uidValidity = status.uidValidity;
  let messages: FetchedHeaders[];
  if (isRenumbered) {
    // UIDVALIDITY changed: old UIDs mean nothing now; the newest messages are where new mail is.
    messages = await session.newestHeaders(status.exists, SCAN_NEWEST, FIELDS);
  } else {
    if (status.exists === 0 || (status.uidNext !== undefined && status.uidNext <= folder.uidNext)) return [];
    // `n:*` always includes the last message, even below n: filter.
    const since = folder.uidNext;
    messages = (await session.fetchHeaders(`${since}:*`, true, FIELDS)).filter((m) => m.uid >= since);
  }
  const found: ProbeMessage[] = [];
  for (const m of messages) {
    const id = probeIdOf(m, hash, expectedId);
    if (id !== undefined) found.push({ id, folder, uid: m.uid });
  }
  folder.uidNext = Math.max(isRenumbered ? 1 : folder.uidNext, status.uidNext ?? 1, ...messages.map((m) => m.uid + 1));
  return found;
}

/** Deletes and expunges exactly the given messages, folder by folder. */
export async function deleteProbeMessages(
  session: ImapSession,
  messages: readonly ProbeMessage[],
  logger: Logger,
): Promise<void> {
  const byFolder = new Map<string, number[]>();
  for (const m of messages) byFolder.set(m.folder.name, [...(byFolder.get(m.folder.name) ?? []), m.uid]);
  for (const [name, uids] of byFolder) {
    await session.select(name);
    const isExpunged = await session.deleteMessages(uids);
    if (!isExpunged)
      logger.warn(
        { folder: name, count: uids.length },
        "flagged \\Deleted but not expunged: other messages are flagged too",
      );
  }
}

/** Whether an error means the IMAP connection is gone (reconnecting may help), not that the server refused. */
export function isConnectionLoss(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted || !(error instanceof ProbeError)) return false;
  const facts = error.facts;
  if (facts === undefined || facts.protocol === "net") return true;
  return facts.protocol === "imap" && /^\* BYE/i.test(facts.input.response);
}
