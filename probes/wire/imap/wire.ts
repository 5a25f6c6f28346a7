/** IMAP wire format (RFC 9051 / 3501): bounded response framing with literals, a value tokenizer, argument quoting. */

/** One server response: its text segments with the literal bodies that followed them. */
export interface ImapResponse {
  /** The response with each literal left as its `{n}` marker: what facts and logs carry. */
  readonly raw: string;
  /** Text segments and literal bodies in order (text, literal, text, …). */
  readonly parts: readonly (string | Buffer)[];
}

/** Hard limits on what a server may send; exceeding one fails the session as a protocol error. */
export interface ImapReadLimits {
  /** Longest line (between literals), terminator excluded. */
  maxLineBytes: number;
  /** Largest single literal. */
  maxLiteralBytes: number;
  /** Most bytes over the session's life. */
  maxTotalBytes: number;
}

/** Defaults sized for headers-only fetches and SEARCH results of ~100k UIDs. */
export const DEFAULT_IMAP_READ_LIMITS: ImapReadLimits = {
  maxLineBytes: 1024 * 1024,
  maxLiteralBytes: 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
};

/** The server broke the framing or a limit; the message names which (never contains server data). */
export class ImapWireError extends Error {
  override readonly name = "ImapWireError";
}

const LITERAL_MARKER = /\{(\d{1,10})\+?\}$/;

/** Splits a byte stream into complete IMAP responses, literals included, within `limits`. */
export class ImapResponseParser {
  readonly #limits: ImapReadLimits;
  #buffer: Buffer = Buffer.alloc(0);
  #parts: (string | Buffer)[] = [];
  #literalBytes: number | undefined;
  #total = 0;

  constructor(limits: ImapReadLimits, bytesAlreadyRead = 0) {
    this.#limits = limits;
    this.#total = bytesAlreadyRead;
  }

  /** Bytes received over the parser's life. */
  get bytesRead(): number {
    return this.#total;
  }

  /** Whether bytes arrived that are not part of a returned response (must be none right after a STARTTLS OK). */
  get hasBufferedData(): boolean {
    return this.#buffer.length > 0 || this.#parts.length > 0;
  }

  /** Consumes a chunk; returns the responses it completed. Throws ImapWireError when a limit is exceeded. */
  push(chunk: Buffer): ImapResponse[] {
    this.#total += chunk.length;
    if (this.#total > this.#limits.maxTotalBytes) {
      throw new ImapWireError(`server sent more than ${this.#limits.maxTotalBytes} bytes`);
    }
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const done: ImapResponse[] = [];
    for (;;) {
      if (this.#literalBytes !== undefined) {
        if (this.#buffer.length < this.#literalBytes) break;
        this.#parts.push(Buffer.from(this.#buffer.subarray(0, this.#literalBytes)));
        this.#buffer = this.#buffer.subarray(this.#literalBytes);
        this.#literalBytes = undefined;
        continue;
      }
      const end = this.#buffer.indexOf("\r\n");
      if (end === -1) {
        if (this.#buffer.length > this.#limits.maxLineBytes + 1) this.#tooLong();
        break;
      }
      if (end > this.#limits.maxLineBytes) this.#tooLong();
      const line = this.#buffer.toString("utf8", 0, end);
      this.#buffer = this.#buffer.subarray(end + 2);
      this.#parts.push(line);
      const marker = LITERAL_MARKER.exec(line);
      if (marker !== null) {
        const size = Number(marker[1]);
        if (size > this.#limits.maxLiteralBytes) {
          throw new ImapWireError(`server sent a literal larger than ${this.#limits.maxLiteralBytes} bytes`);
        }
        this.#literalBytes = size;
        continue;
      }
      const parts = this.#parts;
      this.#parts = [];
      done.push({ raw: parts.filter((p) => typeof p === "string").join(""), parts });
    }
    // Copy so a large chunk is not kept alive by a short partial line.
    this.#buffer = Buffer.from(this.#buffer);
    return done;
  }

  #tooLong(): never {
    throw new ImapWireError(`server sent a line longer than ${this.#limits.maxLineBytes} bytes`);
  }
}

/** A parsed IMAP value: atom or string (literal bodies as UTF-8 text), NIL as null, or a parenthesised list. */
export type ImapValue = string | null | ImapValue[];

/** Tokenizes a response into values; atoms keep `[...]` sections whole (`BODY[HEADER.FIELDS (X)]`). */
export function parseValues(response: ImapResponse): ImapValue[] {
  const root: ImapValue[] = [];
  const stack: ImapValue[][] = [root];
  const top = (): ImapValue[] => stack[stack.length - 1] ?? root;
  for (const part of response.parts) {
    if (typeof part !== "string") {
      top().push(part.toString("utf8"));
      continue;
    }
    let i = 0;
    while (i < part.length) {
      const c = part[i];
      if (c === " ") {
        i++;
      } else if (c === "(") {
        const list: ImapValue[] = [];
        top().push(list);
        stack.push(list);
        i++;
      } else if (c === ")") {
        if (stack.length > 1) stack.pop();
        i++;
      } else if (c === '"') {
        let value = "";
        i++;
        while (i < part.length && part[i] !== '"') {
          if (part[i] === "\\") i++;
          value += part[i] ?? "";
          i++;
        }
        i++;
        top().push(value);
      } else if (c === "{" && LITERAL_MARKER.test(part.slice(i))) {
        break; // the literal body is the next part
      } else {
        let j = i;
        let depth = 0;
        for (; j < part.length; j++) {
          const d = part[j];
          if (d === "[") depth++;
          else if (d === "]") depth--;
          else if (depth <= 0 && (d === " " || d === "(" || d === ")")) break;
        }
        const atom = part.slice(i, j);
        top().push(atom.toUpperCase() === "NIL" ? null : atom);
        i = j;
      }
    }
  }
  return root;
}

/** A piece of a command: raw protocol text, or a string sent as a literal. */
export type CommandPart = string | { readonly literal: string };

/** An astring argument: a quoted string when it is printable ASCII, a literal otherwise (8-bit, CR/LF). */
export function astring(value: string): CommandPart {
  if (/^[\x20-\x7e]*$/.test(value)) return `"${value.replace(/[\\"]/g, "\\$&")}"`;
  return { literal: value };
}

/** Encodes a mailbox name in modified UTF-7 (RFC 3501 §5.1.3), as servers without UTF8=ACCEPT expect. */
export function encodeMailboxName(name: string): string {
  let out = "";
  let pending = "";
  const flush = (): void => {
    if (pending === "") return;
    const utf16be = Buffer.from(pending, "utf16le").swap16();
    out += `&${utf16be.toString("base64").replace(/=+$/, "").replace(/\//g, ",")}-`;
    pending = "";
  };
  for (const ch of name) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += ch === "&" ? "&-" : ch;
    } else {
      pending += ch;
    }
  }
  flush();
  return out;
}

/** The status of a tagged or untagged condition response, e.g. `OK` in `A1 OK [READ-WRITE] done`. */
export function statusOf(raw: string): { tag: string; status: string; code: string | undefined } | undefined {
  const match = /^(\S+) (OK|NO|BAD|BYE|PREAUTH)(?: \[([^\]]*)\])?/i.exec(raw);
  if (match === null) return undefined;
  return { tag: match[1] ?? "", status: (match[2] ?? "").toUpperCase(), code: match[3] };
}
