// Reading IMAP commands for the lab's small IMAP server: lines with literals ({n} synchronising, {n+} LITERAL+)
// joined into one command, and arguments split into atoms, quoted strings and literals.

/** One command argument: an atom (raw text, lists kept as text) or a string (quoted or literal, unescaped). */
export type ImapArg = { atom: string } | { string: string };

/** One parsed command line: tag, upper-case name and the arguments. */
export interface ImapCommand {
  tag: string;
  name: string;
  args: ImapArg[];
}

const MAX_COMMAND_BYTES = 64 * 1024;

/** Frames a byte stream into commands; `onContinue` is called when a synchronising literal must be acknowledged. */
export class ImapCommandReader {
  #buffer = Buffer.alloc(0);
  #pending = "";
  #literal: number | undefined;

  constructor(private readonly onContinue: () => void) {}

  /** Consumes a chunk; returns the complete command texts (literals inlined as `\0LIT<n>\0` markers) and the literals. */
  push(chunk: Buffer): { line: string; literals: string[] }[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    if (this.#buffer.length + this.#pending.length > MAX_COMMAND_BYTES) throw new Error("command too long");
    const out: { line: string; literals: string[] }[] = [];
    for (;;) {
      if (this.#literal !== undefined) {
        if (this.#buffer.length < this.#literal) break;
        this.#literals.push(this.#buffer.toString("utf8", 0, this.#literal));
        this.#buffer = this.#buffer.subarray(this.#literal);
        this.#literal = undefined;
        continue;
      }
      const end = this.#buffer.indexOf("\r\n");
      if (end === -1) break;
      const text = this.#buffer.toString("utf8", 0, end);
      this.#buffer = this.#buffer.subarray(end + 2);
      const marker = /\{(\d{1,6})(\+?)\}$/.exec(text);
      if (marker !== null) {
        this.#pending += `${text.slice(0, marker.index)}\0${this.#literals.length}\0`;
        this.#literal = Number(marker[1]);
        if (marker[2] !== "+") this.onContinue();
        continue;
      }
      out.push({ line: this.#pending + text, literals: this.#literals });
      this.#pending = "";
      this.#literals = [];
    }
    return out;
  }

  #literals: string[] = [];
}

/** Parses a framed command into tag, name and arguments; undefined when it has no tag and name. */
export function parseCommand(line: string, literals: readonly string[]): ImapCommand | undefined {
  const args: ImapArg[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === " ") {
      i++;
    } else if (c === "\0") {
      const end = line.indexOf("\0", i + 1);
      args.push({ string: literals[Number(line.slice(i + 1, end))] ?? "" });
      i = end + 1;
    } else if (c === '"') {
      let value = "";
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\") i++;
        value += line[i] ?? "";
        i++;
      }
      args.push({ string: value });
      i++;
    } else {
      // An atom, or a parenthesised / bracketed group kept as raw text (FETCH items, flag lists).
      let depth = 0;
      let j = i;
      for (; j < line.length; j++) {
        const d = line[j];
        if (d === "(" || d === "[") depth++;
        else if (d === ")" || d === "]") depth--;
        else if (d === " " && depth <= 0) break;
      }
      args.push({ atom: line.slice(i, j) });
      i = j;
    }
  }
  const [tag, name, ...rest] = args;
  if (tag === undefined || !("atom" in tag) || name === undefined || !("atom" in name)) return undefined;
  return { tag: tag.atom, name: name.atom.toUpperCase(), args: rest };
}

/** The text of an argument, atom or string. */
export function argText(arg: ImapArg | undefined): string | undefined {
  if (arg === undefined) return undefined;
  return "atom" in arg ? arg.atom : arg.string;
}

/** A quoted string for a response (the lab's own folder names and header values are printable). */
export function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, "\\$&")}"`;
}

/** The UIDs or sequence numbers of a set such as `1,3:5,7:*`, given the largest number `max`. */
export function parseSet(set: string, max: number): (n: number) => boolean {
  const ranges = set.split(",").map((part) => {
    const [a, b] = part.split(":");
    const lo = a === "*" ? max : Number(a);
    const hi = b === undefined ? lo : b === "*" ? max : Number(b);
    return [Math.min(lo, hi), Math.max(lo, hi)] as const;
  });
  return (n) => ranges.some(([lo, hi]) => n >= lo && n <= hi);
}
