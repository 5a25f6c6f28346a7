import type { Socket } from "node:net";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { ProbeError } from "../../../src/core/probe-error.js";
import { Redactor } from "../../../src/core/redactor.js";
import {
  DEFAULT_IMAP_READ_LIMITS,
  ImapResponseParser,
  ImapWireError,
  statusOf,
  type CommandPart,
  type ImapReadLimits,
  type ImapResponse,
} from "./wire.js";
import { MAX_REPLY_STREAM_MS } from "../transport/limits.js";
import { connectTcp, upgradeToTls } from "../transport/socket.js";

/** The untagged responses of one command and its tagged OK. */
export interface CommandResult {
  untagged: ImapResponse[];
  tagged: ImapResponse;
}

/** Answers a `+` continuation during a command (AUTHENTICATE): the line to send, without CRLF. */
export type ContinuationHandler = (response: ImapResponse) => string;

type Failure =
  | { kind: "socket"; error: Error }
  | { kind: "closed" }
  | { kind: "wire"; error: ImapWireError }
  | { kind: "aborted"; reason: unknown };

/** Longest server text kept in a fact: response lines are bounded but facts become log fields. */
const MAX_FACT_CHARS = 1000;
/** Redacted before cutting to MAX_FACT_CHARS with this margin, so the cut cannot split a credential's echo. */
const REDACT_MARGIN_CHARS = 4096;

/** The IMAP failure facts of a NO/BAD/BYE response line (`redact` removes credentials a server might echo). */
export function imapFailure(
  response: ImapResponse,
  stage: string,
  phase: string,
  redact: (text: string) => string = (t) => t,
): ProbeError {
  const line = redact(response.raw.slice(0, MAX_FACT_CHARS + REDACT_MARGIN_CHARS)).slice(0, MAX_FACT_CHARS);
  return new ProbeError(`IMAP ${stage} failed: ${line}`, {
    phase,
    facts: { protocol: "imap", input: { response: line, stage } },
  });
}

/** A protocol violation by the server (garbage, oversize, unexpected response). */
/** Most untagged responses one command may collect: the byte cap alone would allow millions of tiny ones. */
export const MAX_UNTAGGED_PER_COMMAND = 50_000;

/** The untagged responses of one command, bounded in number and in how long they may keep coming. */
class UntaggedResponses {
  readonly list: ImapResponse[] = [];
  #firstAt = 0;

  keep(response: ImapResponse, stage: string, phase: string): void {
    if (this.list.length >= MAX_UNTAGGED_PER_COMMAND) {
      throw imapProtocolError(`more than ${MAX_UNTAGGED_PER_COMMAND} untagged responses to ${stage}`, phase);
    }
    if (this.list.length === 0) this.#firstAt = performance.now();
    else if (performance.now() - this.#firstAt > MAX_REPLY_STREAM_MS) {
      throw imapProtocolError(`responses to ${stage} still streaming ${MAX_REPLY_STREAM_MS} ms after the first`, phase);
    }
    this.list.push(response);
  }
}

/** A ProbeError of class protocol in `phase`. */
export function imapProtocolError(message: string, phase: string, cause?: unknown): ProbeError {
  return new ProbeError(
    message,
    { phase, facts: { protocol: "probe", input: { class: "protocol" } } },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * One IMAP connection: bounded response reading, tagged commands with literals and continuations, TLS upgrade and
 * abort. Every failure is a ProbeError carrying `phase`, the label the session last set.
 */
export class ImapConnection {
  /** Phase label put on failures; the session sets it as it moves on. */
  phase: string;
  /** Upper-cased capability atoms, as last announced. */
  capabilities = new Set<string>();
  #socket: Socket;
  readonly #signal: AbortSignal;
  readonly #limits: ImapReadLimits;
  #parser: ImapResponseParser;
  readonly #queue: ImapResponse[] = [];
  #waiter: { resolve: (r: ImapResponse) => void; reject: (e: ProbeError) => void } | undefined;
  #failure: Failure | undefined;
  #tag = 0;
  #sawBye = false;
  /** Credentials this connection sent, in every encoding; server text shown anywhere passes through it. */
  readonly redactor = new Redactor();

  readonly #onData = (chunk: Buffer): void => {
    if (this.#failure !== undefined) return;
    try {
      this.#queue.push(...this.#parser.push(chunk));
    } catch (error) {
      this.#fail({ kind: "wire", error: error as ImapWireError });
      return;
    }
    this.#deliver();
  };
  readonly #onClose = (): void => this.#fail({ kind: "closed" });
  readonly #onError = (error: Error): void => this.#fail({ kind: "socket", error });
  readonly #onAbort = (): void => {
    this.#queue.length = 0;
    this.#fail({ kind: "aborted", reason: this.#signal.reason });
  };

  private constructor(socket: Socket, signal: AbortSignal, limits: ImapReadLimits, phase: string) {
    this.#socket = socket;
    this.#signal = signal;
    this.#limits = limits;
    this.phase = phase;
    this.#parser = new ImapResponseParser(limits);
    this.#attach();
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Opens the TCP connection; socket errors (ECONNREFUSED, …) become a ProbeError with `cause`. */
  static async open(
    host: string,
    port: number,
    options: { signal: AbortSignal; phase: string; limits?: Partial<ImapReadLimits> },
  ): Promise<ImapConnection> {
    let socket: Socket;
    try {
      socket = await connectTcp(host, port, options.signal);
    } catch (error) {
      throw new ProbeError(`IMAP connect to ${host}:${port} failed`, { phase: options.phase }, { cause: error });
    }
    return new ImapConnection(
      socket,
      options.signal,
      { ...DEFAULT_IMAP_READ_LIMITS, ...options.limits },
      options.phase,
    );
  }

  /** Whether the server said BYE during this connection. */
  get sawBye(): boolean {
    return this.#sawBye;
  }

  /** Upgrades to TLS (implicit or after STARTTLS); refuses if the server sent anything ahead of the handshake. */
  async startTls(
    connect: ConnectionOptions,
    options: { host: string; verify: boolean; onHandshake: (s: TLSSocket) => void },
  ): Promise<void> {
    // Bytes queued before the handshake would be read as if protected by TLS (STARTTLS response injection).
    if (this.#queue.length > 0 || this.#parser.hasBufferedData) {
      throw imapProtocolError("server sent data ahead of the TLS handshake", this.phase);
    }
    this.#detach();
    try {
      this.#socket = await upgradeToTls(this.#socket, { connect, ...options, signal: this.#signal });
    } catch (error) {
      this.#socket.destroy();
      this.#failure = { kind: "closed" };
      throw new ProbeError("TLS handshake failed", { phase: this.phase }, { cause: error });
    }
    this.#parser = new ImapResponseParser(this.#limits, this.#parser.bytesRead);
    this.#attach();
  }

  /** The next response; rejects with a ProbeError once the connection failed. */
  next(): Promise<ImapResponse> {
    const response = this.#queue.shift();
    if (response !== undefined) return Promise.resolve(this.#note(response));
    if (this.#failure !== undefined) return Promise.reject(this.#error(this.#failure));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Sends one line (CRLF added); used for IDLE's DONE. Write errors surface through next(). */
  writeLine(line: string): void {
    this.#write(`${line}\r\n`);
  }

  /** A fresh tag. */
  nextTag(): string {
    this.#tag += 1;
    return `A${this.#tag}`;
  }

  /**
   * Runs one command and waits for its tagged response. NO/BAD (and BYE outside LOGOUT) throw IMAP facts with `stage`;
   * literals are sent synchronising unless LITERAL+ (or LITERAL- for small ones) is announced.
   */
  async command(
    parts: readonly CommandPart[],
    stage: string,
    onContinuation?: ContinuationHandler,
  ): Promise<CommandResult> {
    const tag = this.nextTag();
    const untagged = new UntaggedResponses();
    let text = `${tag} `;
    for (const part of parts) {
      if (typeof part === "string") {
        text += part;
        continue;
      }
      const bytes = Buffer.from(part.literal, "utf8");
      const isNonSync =
        this.capabilities.has("LITERAL+") || (this.capabilities.has("LITERAL-") && bytes.length <= 4096);
      this.#write(`${text}{${bytes.length}${isNonSync ? "+" : ""}}\r\n`);
      text = "";
      if (!isNonSync) await this.#awaitContinuation(tag, stage, untagged);
      this.#write(bytes);
    }
    this.#write(`${text}\r\n`);
    for (;;) {
      const response = await this.next();
      if (response.raw.startsWith("+")) {
        if (onContinuation === undefined) throw imapProtocolError(`unexpected continuation to ${stage}`, this.phase);
        this.writeLine(onContinuation(response));
        continue;
      }
      if (response.raw.startsWith("* ")) {
        this.handleUntagged(response, stage);
        untagged.keep(response, stage, this.phase);
        continue;
      }
      return { untagged: untagged.list, tagged: this.expectTagged(response, tag, stage) };
    }
  }

  /** Closes the socket at once; pending and later reads reject. */
  destroy(): void {
    this.#signal.removeEventListener("abort", this.#onAbort);
    this.#fail({ kind: "closed" });
    this.#socket.destroy();
  }

  /** The ProbeError of a NO/BAD/BYE response, credentials redacted. */
  failure(response: ImapResponse, stage: string): ProbeError {
    return imapFailure(response, stage, this.phase, (text) => this.redactor.redact(text));
  }

  /** Handles an untagged response seen during a command: CAPABILITY updates, BYE fails (except LOGOUT). */
  handleUntagged(response: ImapResponse, stage: string): void {
    this.noteCapabilities(response);
    const status = statusOf(response.raw);
    if (status?.status === "BYE") {
      this.#sawBye = true;
      if (stage !== "logout") throw this.failure(response, stage);
    }
  }

  /** Checks that `response` is the tagged OK of `tag`; NO/BAD throw IMAP facts, anything else is a protocol error. */
  expectTagged(response: ImapResponse, tag: string, stage: string): ImapResponse {
    const status = statusOf(response.raw);
    if (status === undefined || status.tag !== tag || !["OK", "NO", "BAD"].includes(status.status)) {
      throw imapProtocolError(`unexpected response to ${stage}`, this.phase);
    }
    if (status.status !== "OK") throw this.failure(response, stage);
    this.noteCapabilities(response);
    return response;
  }

  /** Records capabilities from `* CAPABILITY …` or a `[CAPABILITY …]` response code. */
  noteCapabilities(response: ImapResponse): void {
    const match = /^(?:\S+ (?:OK|PREAUTH) \[CAPABILITY ([^\]]*)\]|\* CAPABILITY (.*))/i.exec(response.raw);
    const list = match?.[1] ?? match?.[2];
    if (list !== undefined) this.capabilities = new Set(list.toUpperCase().split(" ").filter(Boolean));
  }

  async #awaitContinuation(tag: string, stage: string, untagged: UntaggedResponses): Promise<void> {
    for (;;) {
      const response = await this.next();
      if (response.raw.startsWith("+")) return;
      if (response.raw.startsWith("* ")) {
        this.handleUntagged(response, stage);
        untagged.keep(response, stage, this.phase);
        continue;
      }
      this.expectTagged(response, tag, stage);
      throw imapProtocolError(`server completed ${stage} before the literal was sent`, this.phase);
    }
  }

  #write(data: string | Buffer): void {
    // After a failure the next read reports it; writing to a dead socket would only add noise.
    if (this.#failure === undefined) this.#socket.write(data);
  }

  #note(response: ImapResponse): ImapResponse {
    if (/^\* BYE/i.test(response.raw)) this.#sawBye = true;
    return response;
  }

  #attach(): void {
    this.#socket.on("data", this.#onData);
    this.#socket.on("close", this.#onClose);
    this.#socket.on("end", this.#onClose);
    this.#socket.on("error", this.#onError);
  }

  #detach(): void {
    this.#socket.off("data", this.#onData);
    this.#socket.off("close", this.#onClose);
    this.#socket.off("end", this.#onClose);
    this.#socket.off("error", this.#onError);
  }

  #fail(failure: Failure): void {
    if (this.#failure === undefined) {
      this.#failure = failure;
      if (failure.kind !== "closed") this.#socket.destroy();
    }
    this.#deliver();
  }

  #deliver(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const response = this.#queue.shift();
    if (response !== undefined) {
      this.#waiter = undefined;
      waiter.resolve(this.#note(response));
    } else if (this.#failure !== undefined) {
      this.#waiter = undefined;
      waiter.reject(this.#error(this.#failure));
    }
  }

  #error(failure: Failure): ProbeError {
    switch (failure.kind) {
      case "socket":
        return new ProbeError(
          `IMAP connection failed: ${failure.error.message}`,
          { phase: this.phase },
          { cause: failure.error },
        );
      case "closed":
        return new ProbeError("IMAP connection closed by the server", {
          phase: this.phase,
          facts: { protocol: "net", input: { code: "ECONNRESET", message: "connection closed by the peer" } },
        });
      case "wire":
        return imapProtocolError(failure.error.message, this.phase, failure.error);
      case "aborted":
        return new ProbeError("IMAP session aborted", { phase: this.phase }, { cause: failure.reason });
    }
  }
}
