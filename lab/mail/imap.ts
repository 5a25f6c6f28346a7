// The lab's small IMAP server: exactly what the imap and mail_roundtrip kinds send (probes/wire/imap/), over plain
// TCP on loopback, against the lab Mailbox. Why hand-written: the npm IMAP servers are either unmaintained test
// servers (hoodiecrow-imap on the deprecated imap-handler) or a whole mail system needing MongoDB and Redis
// (WildDuck); this one is ~250 lines, and the lab must run with Node and npm alone.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { argText, ImapCommandReader, parseCommand, parseSet, quote, type ImapCommand } from "./imap-command.js";
import type { MailFaults } from "./faults.js";
import type { Folder, Mailbox } from "./mailbox.js";

const CAPABILITIES = "IMAP4rev1 LITERAL+ UIDPLUS IDLE SPECIAL-USE";

/** A running lab IMAP server. */
export interface LabImap {
  port: number;
  close(): Promise<void>;
}

/** Who may log in: one user and password (the lab's probe account). */
export interface ImapAccount {
  user: string;
  password: string;
}

/** Starts the server on `host:port` (port 0: any free port). */
export async function startLabImap(
  host: string,
  port: number,
  mailbox: Mailbox,
  faults: MailFaults,
  account: ImapAccount,
): Promise<LabImap> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    new ImapConnection(socket, mailbox, faults, account).start();
  });
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

class ImapConnection {
  #isAuthenticated = false;
  #selected: Folder | undefined;
  #idleTag: string | undefined;
  #stopListening: (() => void) | undefined;
  readonly #reader: ImapCommandReader;

  constructor(
    private readonly socket: Socket,
    private readonly mailbox: Mailbox,
    private readonly faults: MailFaults,
    private readonly account: ImapAccount,
  ) {
    this.#reader = new ImapCommandReader(() => this.#send("+ Ready for literal data"));
    socket.once("close", () => this.#stopListening?.());
  }

  start(): void {
    const { faults, socket } = this;
    if (faults.imapOf("tarpit") !== undefined) return; // accepted, never greeted
    const greet = (): void => {
      if (socket.destroyed) return;
      if (faults.imapOf("unavailable") !== undefined) {
        socket.end("* BYE [UNAVAILABLE] Service temporarily unavailable, try again later\r\n");
        return;
      }
      this.#send(`* OK [CAPABILITY ${CAPABILITIES}] suiteprobe lab IMAP ready`);
      socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    };
    const delay = faults.imapOf("delay");
    if (delay === undefined) greet();
    else setTimeout(greet, delay.ms).unref();
  }

  #send(line: string): void {
    if (!this.socket.destroyed) this.socket.write(`${line}\r\n`);
  }

  #onData(chunk: Buffer): void {
    let commands: { line: string; literals: string[] }[];
    try {
      commands = this.#reader.push(chunk);
    } catch {
      this.socket.end("* BYE command too long\r\n");
      return;
    }
    for (const { line, literals } of commands) {
      if (this.#idleTag !== undefined) {
        if (line.trim().toUpperCase() === "DONE") this.#endIdle();
        else this.#send(`* BAD expected DONE`);
        continue;
      }
      const command = parseCommand(line, literals);
      if (command === undefined) this.#send("* BAD missing tag or command");
      else this.#handle(command);
    }
  }

  #handle(c: ImapCommand): void {
    const ok = (text = `${c.name} completed`): void => this.#send(`${c.tag} OK ${text}`);
    const isUid = c.name === "UID";
    const name = isUid ? (argText(c.args[0]) ?? "").toUpperCase() : c.name;
    const args = isUid ? c.args.slice(1) : c.args;
    if (name === "CAPABILITY") {
      this.#send(`* CAPABILITY ${CAPABILITIES}`);
      return ok();
    }
    if (name === "NOOP") return ok();
    if (name === "LOGOUT") {
      this.#send("* BYE logging out");
      ok();
      this.socket.end();
      return;
    }
    if (name === "LOGIN") return this.#login(c.tag, argText(args[0]), argText(args[1]));
    if (!this.#isAuthenticated) return this.#send(`${c.tag} BAD log in first`);
    if (name === "LIST") {
      for (const f of this.mailbox.folders()) {
        const attributes = ["\\HasNoChildren", ...(f.specialUse === undefined ? [] : [f.specialUse])];
        this.#send(`* LIST (${attributes.join(" ")}) "/" ${quote(f.name)}`);
      }
      return ok();
    }
    if (name === "SELECT" || name === "EXAMINE") return this.#select(c.tag, name, argText(args[0]) ?? "");
    const folder = this.#selected;
    if (folder === undefined) return this.#send(`${c.tag} BAD select a folder first`);
    switch (name) {
      case "SEARCH":
        this.#send(`* SEARCH${this.#search(folder, args.map(argText), isUid).join("")}`);
        return ok();
      case "FETCH":
        this.#fetch(folder, argText(args[0]) ?? "", argText(args[1]) ?? "", isUid);
        return ok();
      case "STORE":
        this.#store(folder, argText(args[0]) ?? "", args.slice(1).map(argText).join(" "), isUid);
        return ok();
      case "EXPUNGE":
        this.#expunge(folder, isUid ? argText(args[0]) : undefined);
        return ok();
      case "IDLE":
        this.#idleTag = c.tag;
        this.#send("+ idling");
        this.#stopListening = this.mailbox.onDelivery((to) => {
          if (to === folder.name) this.#send(`* ${folder.messages.length} EXISTS`);
        });
        return;
      default:
        this.#send(`${c.tag} BAD unknown command ${name}`);
    }
  }

  #login(tag: string, user: string | undefined, password: string | undefined): void {
    const fault = this.faults.imapOf("login");
    if (fault !== undefined) {
      return this.#send(`${tag} NO [${fault.code}] ${fault.message ?? "Authentication failed."}`);
    }
    if (user !== this.account.user || password !== this.account.password) {
      return this.#send(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed.`);
    }
    this.#isAuthenticated = true;
    this.#send(`${tag} OK [CAPABILITY ${CAPABILITIES}] Logged in`);
  }

  #select(tag: string, name: string, folderName: string): void {
    const folder = this.mailbox.folder(folderName);
    if (folder === undefined) return this.#send(`${tag} NO [NONEXISTENT] no such folder`);
    this.#selected = folder;
    this.#send(`* FLAGS (\\Seen \\Deleted)`);
    this.#send(`* ${folder.messages.length} EXISTS`);
    this.#send(`* OK [UIDVALIDITY ${folder.uidValidity}] UIDs valid`);
    this.#send(`* OK [UIDNEXT ${folder.uidNext}] predicted next UID`);
    this.#send(`${tag} OK [${name === "EXAMINE" ? "READ-ONLY" : "READ-WRITE"}] ${name} completed`);
  }

  /** SEARCH: HEADER name value, DELETED, ALL (ANDed); answers UIDs or sequence numbers. */
  #search(folder: Folder, args: (string | undefined)[], isUid: boolean): string[] {
    const tests: ((raw: string, flags: Set<string>) => boolean)[] = [];
    for (let i = 0; i < args.length; i++) {
      const key = (args[i] ?? "").toUpperCase();
      if (key === "HEADER") {
        const field = (args[++i] ?? "").toLowerCase();
        const value = (args[++i] ?? "").toLowerCase();
        tests.push((raw) => headerValues(raw, field).some((v) => v.toLowerCase().includes(value)));
      } else if (key === "DELETED") {
        tests.push((_raw, flags) => flags.has("\\Deleted"));
      }
    }
    return folder.messages
      .map((m, index) => ({ m, n: isUid ? m.uid : index + 1 }))
      .filter(({ m }) => tests.every((t) => t(m.raw, m.flags)))
      .map(({ n }) => ` ${n}`);
  }

  #fetch(folder: Folder, set: string, items: string, isUid: boolean): void {
    const fields = /HEADER\.FIELDS \(([^)]*)\)/i.exec(items)?.[1]?.split(" ").filter(Boolean) ?? [];
    const last = folder.messages.at(-1);
    const inSet = parseSet(set, isUid ? (last?.uid ?? 0) : folder.messages.length);
    folder.messages.forEach((m, index) => {
      if (!inSet(isUid ? m.uid : index + 1)) return;
      let line = `* ${index + 1} FETCH (UID ${m.uid}`;
      if (/BODY\.PEEK\[HEADER\.FIELDS/i.test(items)) {
        const text =
          fields
            .flatMap((f) => headerValues(m.raw, f.toLowerCase()).map((v) => `${headerName(f)}: ${v}\r\n`))
            .join("") + "\r\n";
        line += ` BODY[HEADER.FIELDS (${fields.join(" ")})] {${Buffer.byteLength(text)}}\r\n${text}`;
      }
      this.#send(`${line})`);
    });
  }

  #store(folder: Folder, set: string, change: string, isUid: boolean): void {
    const last = folder.messages.at(-1);
    const inSet = parseSet(set, isUid ? (last?.uid ?? 0) : folder.messages.length);
    const isSilent = /\.SILENT/i.test(change);
    folder.messages.forEach((m, index) => {
      if (!inSet(isUid ? m.uid : index + 1)) return;
      if (/^\+FLAGS/i.test(change) && /\\Deleted/i.test(change)) m.flags.add("\\Deleted");
      if (!isSilent) this.#send(`* ${index + 1} FETCH (UID ${m.uid} FLAGS (${[...m.flags].join(" ")}))`);
    });
  }

  #expunge(folder: Folder, uidSet: string | undefined): void {
    const last = folder.messages.at(-1);
    const inSet = uidSet === undefined ? () => true : parseSet(uidSet, last?.uid ?? 0);
    for (let index = folder.messages.length - 1; index >= 0; index--) {
      const m = folder.messages[index];
      if (m === undefined || !m.flags.has("\\Deleted") || !inSet(m.uid)) continue;
      folder.messages.splice(index, 1);
      this.#send(`* ${index + 1} EXPUNGE`);
    }
  }

  #endIdle(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
    const tag = this.#idleTag;
    this.#idleTag = undefined;
    this.#send(`${tag} OK IDLE terminated`);
  }
}

/** The values of a header field in a raw message (unfolded), first occurrence first. */
function headerValues(raw: string, field: string): string[] {
  const end = raw.search(/\r?\n\r?\n/);
  const head = (end === -1 ? raw : raw.slice(0, end)).replace(/\r?\n(?=[ \t])/g, "");
  return head
    .split(/\r?\n/)
    .filter((line) => line.slice(0, line.indexOf(":")).trim().toLowerCase() === field)
    .map((line) => line.slice(line.indexOf(":") + 1).trim());
}

/** A header name as fetched (the client matches case-insensitively). */
function headerName(field: string): string {
  return field.toLowerCase() === "x-suiteprobe-id" ? "X-Suiteprobe-Id" : field[0] + field.slice(1).toLowerCase();
}
