import { classify } from "./core/classify.js";
import type { ClassifyInput } from "./core/taxonomy.js";

/** Longest input line accepted, in bytes; a longer line is answered as malformed and skipped in bounded memory. */
export const MAX_LINE_BYTES = 1_048_576;

const NEWLINE = 0x0a;
const HTTP_PROTOCOLS: ReadonlySet<string> = new Set(["http", "graph", "slack", "entra"]);
const PROBE_CLASSES: ReadonlySet<string> = new Set(["assertion", "delivery", "config", "timeout", "protocol"]);

type ParsedLine = { isValid: true; facts: ClassifyInput } | { isValid: false; reason: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isOptionalString(value: unknown): boolean {
  return value === undefined || typeof value === "string";
}

/** Checks one input object against the ClassifyInput shapes; returns the first problem as a short, fixed reason. */
function validate(protocol: string, input: Record<string, unknown>): string | undefined {
  if (protocol === "smtp") {
    if (typeof input.stage !== "string") return "input.stage must be a string";
    if (typeof input.reply !== "string") return "input.reply must be a string";
  } else if (protocol === "imap") {
    if (typeof input.response !== "string") return "input.response must be a string";
    if (!isOptionalString(input.stage)) return "input.stage must be a string";
  } else if (HTTP_PROTOCOLS.has(protocol)) {
    if (typeof input.status !== "number" || !Number.isInteger(input.status)) return "input.status must be an integer";
    const headers = input.headers;
    if (headers !== undefined && (!isObject(headers) || !Object.values(headers).every((v) => typeof v === "string"))) {
      return "input.headers must be an object of strings";
    }
  } else if (protocol === "net" || protocol === "tls") {
    if (!isOptionalString(input.code)) return "input.code must be a string";
    if (!isOptionalString(input.message)) return "input.message must be a string";
  } else if (protocol === "probe") {
    if (typeof input.class !== "string" || !PROBE_CLASSES.has(input.class)) return "input.class is not a probe class";
    if (!isOptionalString(input.code)) return "input.code must be a string";
  } else {
    return "unknown protocol";
  }
  return undefined;
}

/** Parses and validates one JSON line `{"protocol", "input"}`. */
export function parseClassifyLine(text: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { isValid: false, reason: "invalid JSON" };
  }
  if (!isObject(value)) return { isValid: false, reason: "not a JSON object" };
  if (typeof value.protocol !== "string") return { isValid: false, reason: "missing protocol" };
  if (!isObject(value.input)) return { isValid: false, reason: "missing input" };
  const problem = validate(value.protocol, value.input);
  if (problem !== undefined) return { isValid: false, reason: problem };
  return { isValid: true, facts: { protocol: value.protocol, input: value.input } as ClassifyInput };
}

/** Writes with backpressure; resolves false once the output is closed or broken. */
async function writeLine(output: NodeJS.WritableStream, line: string): Promise<boolean> {
  if (output.write(line)) return true;
  return new Promise((resolve) => {
    const done = (isOpen: boolean) => () => {
      output.removeListener("drain", onDrain);
      output.removeListener("close", onClose);
      output.removeListener("error", onClose);
      resolve(isOpen);
    };
    const onDrain = done(true);
    const onClose = done(false);
    output.once("drain", onDrain);
    output.once("close", onClose);
    output.once("error", onClose);
  });
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk), "utf8");
}

/**
 * `suiteprobe classify`: reads JSON lines `{"protocol": "smtp"|"imap"|"http"|"graph"|"slack"|"entra"|"net"|"tls"|"probe",
 * "input": {...}}` and writes one line per non-blank input line: `{"class","retryable","side","code"}`, or
 * `{"error":"<reason>","line":N}` for a malformed line (N counts every physical line from 1). Blank lines are skipped.
 * Input that is not UTF-8 is decoded with replacement characters; lines over MAX_LINE_BYTES are malformed. Resolves to
 * 0 when every non-blank line was valid, 1 when any was malformed or the input failed; never rejects.
 */
export async function runClassifyCommand(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<number> {
  const decoder = new TextDecoder("utf-8", { fatal: false });
  let lineNo = 0;
  let hasMalformed = false;
  let isOutputOpen = true;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let isTooLong = false;
  const onOutputError = (): void => {
    isOutputOpen = false;
  };
  output.on("error", onOutputError);

  const answer = async (bytes: Buffer, wasTooLong: boolean): Promise<void> => {
    lineNo += 1;
    let reply: string;
    if (wasTooLong) {
      reply = JSON.stringify({ error: "line too long", line: lineNo });
      hasMalformed = true;
    } else {
      let text = decoder.decode(bytes);
      if (text.endsWith("\r")) text = text.slice(0, -1);
      if (lineNo === 1 && text.startsWith("\uFEFF")) text = text.slice(1);
      if (text.trim() === "") return;
      const parsed = parseClassifyLine(text);
      if (parsed.isValid) {
        const c = classify(parsed.facts);
        reply = JSON.stringify({ class: c.class, retryable: c.retryable, side: c.side, code: c.code });
      } else {
        reply = JSON.stringify({ error: parsed.reason, line: lineNo });
        hasMalformed = true;
      }
    }
    if (isOutputOpen) isOutputOpen = await writeLine(output, `${reply}\n`);
  };

  const append = (piece: Buffer): void => {
    if (isTooLong) return;
    if (partBytes + piece.length > MAX_LINE_BYTES) {
      isTooLong = true;
      parts = [];
      partBytes = 0;
      return;
    }
    if (piece.length > 0) parts.push(piece);
    partBytes += piece.length;
  };

  const finishLine = async (): Promise<void> => {
    const bytes = Buffer.concat(parts);
    const wasTooLong = isTooLong;
    parts = [];
    partBytes = 0;
    isTooLong = false;
    await answer(bytes, wasTooLong);
  };

  try {
    for await (const chunk of input) {
      const buffer = toBuffer(chunk);
      let start = 0;
      let newline = buffer.indexOf(NEWLINE, start);
      while (newline !== -1) {
        append(buffer.subarray(start, newline));
        await finishLine();
        start = newline + 1;
        newline = buffer.indexOf(NEWLINE, start);
      }
      append(buffer.subarray(start));
    }
    if (partBytes > 0 || isTooLong) await finishLine();
  } catch {
    // A failing input stream ends the run; what was read has been answered.
    hasMalformed = true;
  } finally {
    output.removeListener("error", onOutputError);
  }
  return hasMalformed ? 1 : 0;
}
