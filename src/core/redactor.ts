import { Secret } from "./secret.js";

/** What replaces a credential in any text the agent shows. */
export const REDACTED = "<secret>";

/**
 * Window length of the partial-echo check: any run of this many characters of a registered form is redacted, so a
 * server that echoes part of a credential, or splits it across reply lines, is caught as well as a whole echo.
 */
const WINDOW = 8;

/** Shorter forms are not registered: redacting two or three characters everywhere would garble every reply. */
const MIN_FORM = 4;

// A line break and what a server puts at the start of the next reply line (SMTP `250-`, IMAP `* ` or `+ `): removed
// before matching, so an echo split across lines still matches.
const LINE_JOIN = /^(?:\r?\n)+(?:\d{3}[ -]|[*+] )?/;

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** The encodings of a credential the agent itself produces or a server plausibly echoes back. */
export function secretEncodings(value: string): string[] {
  const quoted = value.replace(/[\\"]/g, "\\$&"); // IMAP quoted string, SMTP quoted-string (RFC 5321 §4.1.2)
  const json = JSON.stringify(value).slice(1, -1);
  return [value, b64(value), b64(value).replace(/=+$/, ""), quoted, json, encodeURIComponent(value)];
}

/**
 * Removes every registered credential from server text: the values of a check's secrets in all their encodings
 * (`addSecret`) and the exact payloads the agent put on the wire, such as a base64 SASL response (`addSent`). Whole,
 * partial (any 8 characters in a row) and line-split echoes are replaced by `<secret>`. One instance per session.
 */
export class Redactor {
  /** Every WINDOW-character substring of the long forms. */
  readonly #windows = new Set<string>();
  /** Forms shorter than WINDOW, matched whole. */
  readonly #short = new Set<string>();

  /** Whether nothing is registered (redact() returns its input unchanged). */
  get isEmpty(): boolean {
    return this.#windows.size === 0 && this.#short.size === 0;
  }

  /** Registers a credential value and all its encodings. */
  addSecret(value: string): this {
    for (const form of secretEncodings(value)) this.addSent(form);
    return this;
  }

  /** Registers text exactly as the agent sent it (e.g. the base64 of `\0user\0password`) and its base64-unpadded form. */
  addSent(form: string): this {
    if (form.length < MIN_FORM) return this;
    if (form.length < WINDOW) {
      this.#short.add(form);
      return this;
    }
    for (let i = 0; i + WINDOW <= form.length; i++) this.#windows.add(form.slice(i, i + WINDOW));
    return this;
  }

  /** `text` with every registered form, whole or in part, replaced by `<secret>`. */
  redact(text: string): string {
    if (this.isEmpty || text.length === 0) return text;
    const ranges: [number, number][] = [];
    if (this.#windows.size > 0 && text.length >= WINDOW) this.#windowRanges(text, ranges);
    for (const form of this.#short) {
      for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + form.length)) {
        ranges.push([at, at + form.length]);
      }
    }
    if (ranges.length === 0) return text;
    ranges.sort((a, b) => a[0] - b[0]);
    let out = "";
    let cursor = 0;
    let [start, end] = ranges[0] ?? [0, 0];
    for (const [s, e] of ranges.slice(1)) {
      if (s <= end) {
        end = Math.max(end, e);
        continue;
      }
      out += text.slice(cursor, start) + REDACTED;
      cursor = end;
      [start, end] = [s, e];
    }
    return out + text.slice(cursor, start) + REDACTED + text.slice(end);
  }

  /** Ranges of `text` (original indices) whose joined-lines view contains a registered window. */
  #windowRanges(text: string, ranges: [number, number][]): void {
    // The text with line breaks and continuation prefixes removed, and where each of its characters came from.
    let joined = "";
    const origin: number[] = [];
    for (let i = 0; i < text.length;) {
      const c = text[i] ?? "";
      if (c === "\r" || c === "\n") {
        const skip = LINE_JOIN.exec(text.slice(i, i + 16))?.[0].length ?? 1;
        i += Math.max(1, skip);
        continue;
      }
      joined += c;
      origin.push(i);
      i++;
    }
    let runStart = -1;
    let runEnd = -1;
    for (let i = 0; i + WINDOW <= joined.length; i++) {
      if (!this.#windows.has(joined.slice(i, i + WINDOW))) continue;
      const s = origin[i] ?? 0;
      const e = (origin[i + WINDOW - 1] ?? 0) + 1;
      if (runStart !== -1 && s <= runEnd) {
        runEnd = Math.max(runEnd, e);
      } else {
        if (runStart !== -1) ranges.push([runStart, runEnd]);
        runStart = s;
        runEnd = e;
      }
    }
    if (runStart !== -1) ranges.push([runStart, runEnd]);
  }
}

/** A Redactor holding every secret found in `settings` (nested objects and arrays) that can be read now. */
export function redactorForSettings(settings: unknown): Redactor {
  const redactor = new Redactor();
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    if (value instanceof Secret) {
      if (value.problem() === undefined) redactor.addSecret(value.reveal());
      return;
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) visit(child);
  };
  visit(settings);
  return redactor;
}
