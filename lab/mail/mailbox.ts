// The lab's mailbox: folders of messages with IMAP UIDs, shared by the SMTP side (delivers) and the IMAP side (reads).
// Bounded: a long lab run keeps at most `maxMessages` per folder, oldest expunged first.

/** One stored message: its UID, raw RFC 5322 text and flags. */
export interface StoredMessage {
  uid: number;
  raw: string;
  flags: Set<string>;
}

/** One folder with its UID bookkeeping (UIDVALIDITY fixed for the folder's life, UIDNEXT increasing). */
export interface Folder {
  name: string;
  specialUse: string | undefined;
  uidValidity: number;
  uidNext: number;
  messages: StoredMessage[];
}

type Listener = (folder: string) => void;

/** Folders of one mailbox (INBOX and Junk); listeners hear of new mail (IDLE). */
export class Mailbox {
  readonly #folders = new Map<string, Folder>();
  readonly #listeners = new Set<Listener>();
  readonly #maxMessages: number;

  constructor(options: { maxMessages?: number } = {}) {
    this.#maxMessages = options.maxMessages ?? 1_000;
    const validity = Math.floor(Date.now() / 1000);
    for (const [name, specialUse] of [
      ["INBOX", undefined],
      ["Junk", "\\Junk"],
    ] as const) {
      this.#folders.set(name.toUpperCase(), { name, specialUse, uidValidity: validity, uidNext: 1, messages: [] });
    }
  }

  /** All folders, INBOX first. */
  folders(): Folder[] {
    return [...this.#folders.values()];
  }

  /** A folder by name (INBOX case-insensitively, as RFC 9051 says; the others too, for simplicity). */
  folder(name: string): Folder | undefined {
    return this.#folders.get(name.toUpperCase());
  }

  /** Stores a message in a folder and tells the listeners. */
  deliver(raw: string, folderName = "INBOX"): void {
    const folder = this.folder(folderName);
    if (folder === undefined) return;
    folder.messages.push({ uid: folder.uidNext++, raw, flags: new Set(["\\Recent"]) });
    if (folder.messages.length > this.#maxMessages)
      folder.messages.splice(0, folder.messages.length - this.#maxMessages);
    for (const listener of this.#listeners) listener(folder.name);
  }

  /** Registers a new-mail listener; returns the function that removes it. */
  onDelivery(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Messages in all folders (for the lab's own state and tests). */
  get size(): number {
    let n = 0;
    for (const f of this.#folders.values()) n += f.messages.length;
    return n;
  }
}
