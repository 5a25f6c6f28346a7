import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { gaugeFact } from "../../../src/core/facts.js";
import { ProbeError } from "../../../src/core/probe-error.js";
import { Redactor } from "../../../src/core/redactor.js";
import { compileUserRegex, testUserRegex } from "../../../src/core/user-regex.js";
import { LineReader, LineReaderError } from "../transport/line-reader.js";
import { MAX_REPLY_STREAM_MS } from "../transport/limits.js";
import { connectTcp, upgradeToTls } from "../transport/socket.js";
import { CERT_EXPIRY_FACT, earliestCertExpiry, tlsConnectOptions } from "../transport/tls.js";
import type { SmtpAuthSettings, SmtpPhase, SmtpSessionInput, SmtpSessionResult, SmtpSettings } from "./settings.js";

/** The last SMTP reply code of a session; a kind sets 0 first so a refused connection does not keep an old code. */
export const SMTP_REPLY_CODE_FACT = gaugeFact(
  "probe_smtp_reply_code",
  "Last SMTP reply code seen in the last run (0 when none).",
);

/** `code` of the tls-protocol facts thrown when STARTTLS is required but not advertised. */
export const STARTTLS_NOT_OFFERED = "STARTTLS_NOT_OFFERED";

/** Thrown when the connection is lost or times out after the DATA body was sent but before the final reply. */
export class SmtpUncertainSendError extends ProbeError {
  /** The X-Suiteprobe-Id of the message whose fate is unknown. */
  readonly id: string;

  constructor(message: string, id: string, options: { cause?: unknown }) {
    super(message, { phase: "data" }, options);
    this.id = id;
  }
}

interface Reply {
  code: number;
  /** The raw reply lines joined by `\n`. */
  text: string;
  lines: string[];
}

const REPLY_LINE = /^(\d{3})(?:([ -])(.*))?$/s;
const MAX_REPLY_LINES = 1000;
const MAX_LINE_BYTES = 8192;
const MAX_SESSION_BYTES = 1024 * 1024;

/** One SMTP client session over one connection; `close()` must always be called. */
export class SmtpSession {
  readonly #in: SmtpSessionInput;
  readonly #s: SmtpSettings;
  #socket: Socket | TLSSocket | undefined;
  #reader: LineReader | undefined;
  #phase: SmtpPhase = "connect";
  /** Credentials as sent, in every encoding: never echoed from the server into errors, facts or logs. */
  readonly #redactor = new Redactor();
  #isPoliteCloseWanted = false;
  readonly #onAbort = (): void => {
    this.#socket?.destroy();
  };

  constructor(input: SmtpSessionInput) {
    this.#in = input;
    this.#s = input.settings;
  }

  /** Runs the session as configured; throws a ProbeError with the phase on the first failure. */
  async run(): Promise<SmtpSessionResult> {
    const { signal, host, port } = this.#in;
    const s = this.#s;
    if (signal.aborted) throw this.#wrap(signal.reason);
    signal.addEventListener("abort", this.#onAbort, { once: true });
    // Read the CA file before any network I/O: a missing file is a config failure, not a TLS one.
    const tlsOptions = s.tls === "none" ? undefined : await tlsConnectOptions(s, host);

    await this.#step("connect", async () => this.#attach(await connectTcp(host, port, signal)));
    if (s.tls === "implicit" && tlsOptions !== undefined) await this.#step("tls", () => this.#startTls(tlsOptions));
    await this.#step("banner", () => this.#banner());
    let capabilities = await this.#step("ehlo", () => this.#ehlo());
    if (s.tls === "starttls" && tlsOptions !== undefined) {
      if (capabilities.has("STARTTLS")) {
        await this.#step("starttls", async () => {
          this.#expect(await this.#command("STARTTLS"), 220, "STARTTLS refused");
          // Bytes pipelined after the 220 would be read as if they came over TLS (CVE-2011-0411 style injection).
          if (this.#reader?.hasBufferedData === true) {
            throw this.#protocolError("server sent data after its STARTTLS reply");
          }
          await this.#startTls(tlsOptions);
        });
        capabilities = await this.#step("ehlo", () => this.#ehlo());
      } else if (s.starttls_required) {
        throw starttlsNotOffered("server does not offer STARTTLS and starttls_required is true");
      } else if (s.auth !== undefined) {
        // starttls_required: false allows a plain-text session, never plain-text credentials.
        throw starttlsNotOffered("server does not offer STARTTLS; not sending credentials in plain text");
      } else {
        this.#in.logger.warn("server does not offer STARTTLS; continuing in plain text (starttls_required: false)");
      }
    }
    const auth = s.auth;
    if (auth !== undefined) {
      const mechanism = auth.mechanism.toUpperCase();
      // Still try: the server's reply to AUTH is a better failure fact than our guess.
      if (!capabilities.has(`AUTH=${mechanism}`))
        this.#in.logger.warn({ mechanism }, "server does not advertise AUTH mechanism");
      await this.#step("auth", () => this.#authenticate(auth));
    }

    const message = this.#in.message ?? (s.send ? { id: randomUUID(), subject: "" } : undefined);
    if (s.mail_from === undefined || s.rcpt_to === undefined) {
      if (message !== undefined) throw configError("data", "sending a message needs mail_from and rcpt_to");
    }
    const result: SmtpSessionResult = {};
    if (s.mail_from !== undefined) {
      const from = s.mail_from;
      await this.#step("mail", async () =>
        this.#expect(await this.#command(`MAIL FROM:<${from}>`), 2, "MAIL FROM rejected"),
      );
    }
    if (s.rcpt_to !== undefined) {
      const to = s.rcpt_to;
      await this.#step("rcpt", async () => this.#expect(await this.#command(`RCPT TO:<${to}>`), 2, "RCPT TO rejected"));
    }
    if (message !== undefined) {
      const text = buildMessage(message, s.mail_from ?? "", s.rcpt_to ?? "", s.helo_name);
      result.acceptedAtMs = await this.#step("data", () => this.#data(message.id, text));
      result.id = message.id;
    }
    await this.#step("quit", async () => {
      if (s.mail_from !== undefined && message === undefined) {
        this.#expect(await this.#command("RSET"), 2, "RSET refused");
      }
      await this.#quit();
    });
    return result;
  }

  /** Destroys the connection; after a refused command the server is still talking, so say QUIT first. */
  close(): void {
    this.#in.signal.removeEventListener("abort", this.#onAbort);
    this.#reader?.detach();
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    if (this.#isPoliteCloseWanted && socket.writable) {
      // Half-close after QUIT and let the server answer 221 and close; destroying at once would make it see a reset.
      socket.on("error", () => socket.destroy());
      socket.resume();
      socket.end("QUIT\r\n");
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      socket.destroy();
    }
  }

  async #step<T>(phase: SmtpPhase, fn: () => Promise<T>): Promise<T> {
    this.#phase = phase;
    return this.#in.phases.time(phase, async () => {
      try {
        return await fn();
      } catch (error) {
        throw this.#wrap(error);
      }
    });
  }

  #wrap(error: unknown): ProbeError {
    const phase = this.#phase;
    if (error instanceof SmtpUncertainSendError) return error;
    if (this.#in.signal.aborted) {
      return new ProbeError(`${phase}: aborted at the deadline`, { phase }, { cause: this.#in.signal.reason });
    }
    if (error instanceof ProbeError) return error;
    const text = error instanceof Error ? error.message : String(error);
    return new ProbeError(`${phase}: ${this.#redact(text)}`, { phase }, { cause: error });
  }

  #attach(socket: Socket | TLSSocket): void {
    this.#socket = socket;
    const bytesAlreadyRead = this.#reader?.bytesRead ?? 0;
    this.#reader?.detach();
    this.#reader = new LineReader(socket, {
      maxLineBytes: MAX_LINE_BYTES,
      maxTotalBytes: MAX_SESSION_BYTES,
      bytesAlreadyRead,
      signal: this.#in.signal,
    });
  }

  async #startTls(options: Awaited<ReturnType<typeof tlsConnectOptions>>): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined) throw new Error("no connection");
    // Past this point a plain-text QUIT would be injected into the TLS stream.
    this.#isPoliteCloseWanted = false;
    this.#reader?.detach();
    const secure = await upgradeToTls(socket, {
      connect: options,
      verify: !this.#s.insecure_skip_verify,
      host: this.#in.host,
      signal: this.#in.signal,
      onHandshake: (tlsSocket) => {
        const expiry = earliestCertExpiry(tlsSocket);
        if (expiry !== undefined) this.#in.facts.set(CERT_EXPIRY_FACT, expiry);
      },
    });
    this.#attach(secure);
  }

  async #banner(): Promise<void> {
    const reply = this.#expect(await this.#readReply(), 220, "unexpected greeting");
    const pattern = this.#s.expect_banner;
    if (pattern !== undefined && !testUserRegex(compileUserRegex(pattern), reply.text)) {
      throw new ProbeError(`greeting ${preview(reply.text)} does not match expect_banner /${pattern}/`, {
        phase: "banner",
        facts: { protocol: "probe", input: { class: "assertion" } },
      });
    }
  }

  /** Sends EHLO; answers the advertised extension keywords (upper case), with `AUTH` mechanisms as `AUTH=X`. */
  async #ehlo(): Promise<Set<string>> {
    const reply = this.#expect(await this.#command(`EHLO ${this.#s.helo_name}`), 250, "EHLO refused");
    const keywords = new Set<string>();
    for (const line of reply.lines.slice(1)) {
      const [keyword, ...params] = line.slice(4).trim().toUpperCase().split(/\s+/);
      if (keyword === undefined || keyword === "") continue;
      keywords.add(keyword);
      if (keyword === "AUTH") for (const mechanism of params) keywords.add(`AUTH=${mechanism}`);
    }
    return keywords;
  }

  async #authenticate(auth: SmtpAuthSettings): Promise<void> {
    const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
    const secret = auth.mechanism === "xoauth2" ? auth.token.reveal() : auth.password.reveal();
    let initial: string | undefined;
    let steps: string[];
    switch (auth.mechanism) {
      case "plain":
        initial = b64(`\0${auth.user}\0${secret}`);
        steps = [];
        break;
      case "login":
        initial = undefined;
        steps = [b64(auth.user), b64(secret)];
        break;
      case "xoauth2":
        initial = b64(`user=${auth.user}\x01auth=Bearer ${secret}\x01\x01`);
        steps = [];
        break;
    }
    this.#redactor.addSecret(secret);
    if (initial !== undefined) this.#redactor.addSent(initial);
    const verb = `AUTH ${auth.mechanism.toUpperCase()}`;
    let reply =
      initial === undefined
        ? await this.#command(verb)
        : await this.#sendSecret(`${verb} ${initial}`, `${verb} <redacted>`);
    for (let step = 0; reply.code === 334; step++) {
      const next = steps[step];
      if (next === undefined) {
        // An extra challenge: XOAUTH2's error challenge (base64 JSON) is acknowledged with an empty line, others
        // cancelled with "*"; either way the server then sends the final (error) reply.
        const challenge = auth.mechanism === "xoauth2" ? ` (challenge ${preview(decodeChallenge(reply))})` : "";
        reply = await this.#command(auth.mechanism === "xoauth2" ? "" : "*");
        if (reply.code < 400) {
          throw this.#protocolError(`AUTH ended with ${preview(reply.text)} after an extra challenge`);
        }
        throw this.#replyError(`AUTH ${auth.mechanism} failed${this.#redact(challenge)}`, reply);
      }
      reply = await this.#sendSecret(next, "<redacted>");
    }
    this.#expect(reply, 235, `AUTH ${auth.mechanism} failed`);
  }

  /** Sends DATA and the message; answers the epoch ms of the server's acceptance. */
  async #data(id: string, text: string): Promise<number> {
    this.#expect(await this.#command("DATA"), 354, "DATA refused");
    this.#write(text);
    let reply: Reply;
    try {
      reply = await this.#readReply();
    } catch (error) {
      if (error instanceof ProbeError) throw error;
      const cause: unknown = this.#in.signal.aborted ? this.#in.signal.reason : error;
      throw new SmtpUncertainSendError("data: connection lost after the message was sent, before the reply", id, {
        cause,
      });
    }
    this.#expect(reply, 250, "message rejected");
    return Date.now();
  }

  async #quit(): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.#command("QUIT");
      this.#isPoliteCloseWanted = false;
    } catch (error) {
      // The session's work is done; a server that closes instead of answering QUIT is tolerated.
      if (error instanceof LineReaderError && (error.reason === "closed" || error.reason === "error")) return;
      throw error;
    }
    this.#expect(reply, 2, "QUIT refused");
  }

  #write(text: string): void {
    this.#socket?.write(text);
  }

  async #command(line: string): Promise<Reply> {
    // Only the verb is logged: arguments may carry addresses; credentials never go through here (see #sendSecret).
    this.#in.logger.debug({ phase: this.#phase, command: line.split(" ", 1)[0] }, "smtp command");
    this.#write(`${line}\r\n`);
    return this.#readReply();
  }

  /** Sends a credential-bearing line (an AUTH payload); the log shows `shown`, never any part of the line. */
  async #sendSecret(line: string, shown: string): Promise<Reply> {
    this.#in.logger.debug({ phase: this.#phase, command: shown, isSensitive: true }, "smtp command");
    this.#write(`${line}\r\n`);
    return this.#readReply();
  }

  async #readReply(): Promise<Reply> {
    const reader = this.#reader;
    if (reader === undefined) throw new Error("no connection");
    const lines: string[] = [];
    const rawLines: string[] = [];
    let code = "";
    let firstLineAt = 0;
    for (;;) {
      let line: string;
      try {
        line = await reader.readLine();
      } catch (error) {
        if (
          error instanceof LineReaderError &&
          (error.reason === "line_too_long" || error.reason === "too_many_bytes")
        ) {
          throw this.#protocolError(error.message, error);
        }
        throw error;
      }
      const match = REPLY_LINE.exec(line);
      if (match === null) throw this.#protocolError(`not an SMTP reply line: ${preview(this.#redact(line))}`);
      if (lines.length > 0 && match[1] !== code) throw this.#protocolError(`reply code changed within a reply`);
      code = match[1] ?? "";
      rawLines.push(line);
      lines.push(this.#redact(line));
      if (match[2] !== "-") break;
      if (lines.length >= MAX_REPLY_LINES) throw this.#protocolError(`reply longer than ${MAX_REPLY_LINES} lines`);
      if (lines.length === 1) firstLineAt = performance.now();
      else if (performance.now() - firstLineAt > MAX_REPLY_STREAM_MS) {
        throw this.#protocolError(`reply still streaming ${MAX_REPLY_STREAM_MS} ms after its first line`);
      }
    }
    // Redact the joined text too: an echo split across reply lines is only whole there.
    const reply = { code: Number(code), text: this.#redact(rawLines.join("\n")), lines };
    this.#in.facts.set(SMTP_REPLY_CODE_FACT, reply.code);
    // A 421 closes the channel; other refusals leave it open, so QUIT politely on the way out.
    this.#isPoliteCloseWanted = reply.code !== 421;
    return reply;
  }

  /** Returns the reply if its code is `expected` (or starts with the digit `expected` when it is 2); throws if not. */
  #expect(reply: Reply, expected: number, what: string): Reply {
    const isExpected = expected < 10 ? Math.floor(reply.code / 100) === expected : reply.code === expected;
    if (!isExpected) throw this.#replyError(what, reply);
    return reply;
  }

  #replyError(what: string, reply: Reply): ProbeError {
    const phase = this.#phase;
    return new ProbeError(`${what}: ${preview(reply.text)}`, {
      phase,
      facts: { protocol: "smtp", input: { stage: phase, reply: reply.text } },
    });
  }

  #protocolError(message: string, cause?: unknown): ProbeError {
    this.#isPoliteCloseWanted = false;
    const details = { phase: this.#phase, facts: { protocol: "probe", input: { class: "protocol" } } } as const;
    return new ProbeError(this.#redact(message), details, cause === undefined ? undefined : { cause });
  }

  #redact(text: string): string {
    return this.#redactor.redact(text);
  }
}

function starttlsNotOffered(message: string): ProbeError {
  return new ProbeError(message, {
    phase: "starttls",
    facts: { protocol: "tls", input: { code: STARTTLS_NOT_OFFERED, message } },
  });
}

function configError(phase: SmtpPhase, message: string): ProbeError {
  return new ProbeError(message, { phase, facts: { protocol: "probe", input: { class: "config" } } });
}

/** The reply text shortened for an error message (facts keep it whole). */
function preview(text: string): string {
  return JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}

function decodeChallenge(reply: Reply): string {
  return Buffer.from(reply.lines[0]?.slice(4) ?? "", "base64").toString("utf8");
}

const ASCII = /^[\x20-\x7e\r\n\t]*$/;

/** An RFC 5322 message with CRLF line ends, dot-stuffed and terminated for DATA. */
function buildMessage(
  message: NonNullable<SmtpSessionInput["message"]>,
  from: string,
  to: string,
  domain: string,
): string {
  const sender = from === "" ? `suiteprobe@${domain}` : from;
  const senderDomain = sender.includes("@") ? sender.slice(sender.lastIndexOf("@") + 1) : domain;
  const subject = message.subject === "" ? `suiteprobe check ${message.id}` : message.subject;
  const headers: [string, string][] = [
    ["From", `<${sender}>`],
    ["To", `<${to}>`],
    ["Subject", subject],
    ["Date", new Date().toUTCString().replace("GMT", "+0000")],
    ["Message-ID", `<${message.id}@${senderDomain}>`],
    ["X-Suiteprobe-Id", message.id],
    ["MIME-Version", "1.0"],
    ...Object.entries(message.headers ?? {}),
  ];
  for (const [name, value] of headers) {
    // Header injection guard: names are printable ASCII without ':', values single-line.
    if (!/^[!-9;-~]+$/.test(name) || /[\r\n]/.test(value)) throw configError("data", `invalid message header ${name}`);
  }
  const encoded = headers.map(([name, value]): [string, string] => [name, encodeHeader(value)]);
  const body = message.body ?? `Synthetic monitoring message from suiteprobe.\nId: ${message.id}\n`;
  const isAscii = ASCII.test(body);
  encoded.push(["Content-Type", "text/plain; charset=utf-8"]);
  encoded.push(["Content-Transfer-Encoding", isAscii ? "7bit" : "base64"]);
  const bodyLines = isAscii
    ? body.replace(/\r?\n$/, "").split(/\r?\n/) // bare LF is illegal on the wire (Exchange: 5.6.11)
    : (Buffer.from(body, "utf8")
        .toString("base64")
        .match(/.{1,76}/g) ?? []);
  const lines = [...encoded.map(([name, value]) => `${name}: ${value}`), "", ...bodyLines];
  return `${lines.map((line) => (line.startsWith(".") ? `.${line}` : line)).join("\r\n")}\r\n.\r\n`;
}

/** RFC 2047 encoded words for non-ASCII header text. */
function encodeHeader(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const chunks = Array.from(text).reduce<string[]>((acc, char, i) => {
    if (i % 30 === 0) acc.push("");
    acc[acc.length - 1] += char;
    return acc;
  }, []);
  return chunks.map((chunk) => `=?UTF-8?B?${Buffer.from(chunk, "utf8").toString("base64")}?=`).join("\r\n ");
}

/** Runs one SMTP session as configured; throws a ProbeError (phase set) on the first unexpected reply or failure. */
export async function runSmtpSession(input: SmtpSessionInput): Promise<SmtpSessionResult> {
  const session = new SmtpSession(input);
  try {
    return await session.run();
  } finally {
    session.close();
  }
}
