import type { Readable } from "node:stream";

/** Why a LineReader stopped delivering lines. */
export type LineReaderFailure = "closed" | "error" | "aborted" | "line_too_long" | "too_many_bytes";

/** A read that cannot complete; `code` is the socket error's code, `ECONNRESET` for an early EOF. */
export class LineReaderError extends Error {
  override readonly name = "LineReaderError";
  readonly reason: LineReaderFailure;
  readonly code: string | undefined;

  constructor(reason: LineReaderFailure, message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.code = options.code;
  }

  /** The error of a read on a detached reader; built only when a read needs it (a detach after a successful probe
   * must not pay for an error object and its stack trace). */
  static detached(): LineReaderError {
    return new LineReaderError("closed", "reader detached from the connection", { code: "ECONNRESET" });
  }
}

/** Limits of a LineReader. */
export interface LineReaderOptions {
  /** Longest line accepted, terminator excluded (default 8 KiB). */
  maxLineBytes?: number;
  /** Most bytes read over the reader's life, including `bytesAlreadyRead` (default 1 MiB). */
  maxTotalBytes?: number;
  /** Bytes an earlier reader of the same session consumed (e.g. before a TLS upgrade). */
  bytesAlreadyRead?: number;
  /** Rejects the pending and all later reads with reason `aborted` (cause: `signal.reason`). */
  signal?: AbortSignal;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads `\n`- or `\r\n`-terminated lines from a stream with bounded memory: a line longer than `maxLineBytes` or a
 * total over `maxTotalBytes` fails the reader instead of buffering. Lines complete before a close are still delivered.
 */
export class LineReader {
  readonly #stream: Readable;
  readonly #maxLine: number;
  readonly #maxTotal: number;
  readonly #signal: AbortSignal | undefined;
  #pending: Buffer = Buffer.alloc(0);
  readonly #lines: string[] = [];
  #total: number;
  #failure: LineReaderError | undefined;
  #waiter: { resolve: (line: string) => void; reject: (error: LineReaderError) => void } | undefined;
  #isDetached = false;

  readonly #onData = (chunk: Buffer | string): void =>
    this.#accept(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  readonly #onEnd = (): void =>
    this.#fail(new LineReaderError("closed", "connection closed by the peer", { code: "ECONNRESET" }));
  readonly #onError = (error: Error): void => {
    const code = (error as NodeJS.ErrnoException).code;
    this.#fail(new LineReaderError("error", error.message, { cause: error, ...(code === undefined ? {} : { code }) }));
  };
  readonly #onAbort = (): void => {
    // An abort wins over queued lines: the caller must stop now.
    this.#lines.length = 0;
    this.#fail(new LineReaderError("aborted", "aborted", { cause: this.#signal?.reason }));
  };

  constructor(stream: Readable, options: LineReaderOptions = {}) {
    this.#stream = stream;
    this.#maxLine = options.maxLineBytes ?? 8192;
    this.#maxTotal = options.maxTotalBytes ?? 1024 * 1024;
    this.#total = options.bytesAlreadyRead ?? 0;
    this.#signal = options.signal;
    stream.on("data", this.#onData);
    stream.on("end", this.#onEnd);
    stream.on("close", this.#onEnd);
    stream.on("error", this.#onError);
    // A stream that failed or closed before this reader existed must not leave reads hanging.
    if (stream.errored !== null) this.#onError(stream.errored);
    else if (stream.destroyed || stream.readableEnded) this.#onEnd();
    if (this.#signal?.aborted === true) this.#onAbort();
    else this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Bytes received so far, including `bytesAlreadyRead`. */
  get bytesRead(): number {
    return this.#total;
  }

  /** Whether bytes arrived that no readLine() has consumed (e.g. pipelined data before a TLS upgrade). */
  get hasBufferedData(): boolean {
    return this.#lines.length > 0 || this.#pending.length > 0;
  }

  /** The next line without its terminator (UTF-8 decoded); rejects with a LineReaderError. */
  readLine(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#isDetached) return Promise.reject(LineReaderError.detached());
    if (this.#waiter !== undefined) return Promise.reject(new Error("LineReader: concurrent readLine() calls"));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Stops listening to the stream (before handing the socket to TLS, or when done); later reads reject. */
  detach(): void {
    if (this.#isDetached) return;
    this.#isDetached = true;
    this.#stream.off("data", this.#onData);
    this.#stream.off("end", this.#onEnd);
    this.#stream.off("close", this.#onEnd);
    this.#stream.off("error", this.#onError);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#pending = Buffer.alloc(0);
    // Queued complete lines stay readable; a read already waiting fails now, later ones in readLine().
    if (this.#waiter !== undefined && this.#failure === undefined) this.#fail(LineReaderError.detached());
    else this.#deliver();
  }

  #accept(chunk: Buffer): void {
    if (this.#failure !== undefined) return;
    this.#total += chunk.length;
    if (this.#total > this.#maxTotal) {
      this.#fail(new LineReaderError("too_many_bytes", `peer sent more than ${this.#maxTotal} bytes`));
      return;
    }
    const buffer = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let start = 0;
    for (let end = buffer.indexOf(LF, start); end !== -1; end = buffer.indexOf(LF, start)) {
      const stop = end > start && buffer[end - 1] === CR ? end - 1 : end;
      if (stop - start > this.#maxLine) {
        this.#fail(new LineReaderError("line_too_long", `peer sent a line longer than ${this.#maxLine} bytes`));
        return;
      }
      this.#lines.push(buffer.toString("utf8", start, stop));
      start = end + 1;
    }
    // Copy the tail so a large chunk is not kept alive by a short partial line.
    this.#pending = Buffer.from(buffer.subarray(start));
    if (this.#pending.length > this.#maxLine + 1) {
      this.#fail(new LineReaderError("line_too_long", `peer sent a line longer than ${this.#maxLine} bytes`));
      return;
    }
    this.#deliver();
  }

  #deliver(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const line = this.#lines.shift();
    if (line !== undefined) {
      this.#waiter = undefined;
      waiter.resolve(line);
    } else if (this.#failure !== undefined) {
      this.#waiter = undefined;
      waiter.reject(this.#failure);
    }
  }

  #fail(error: LineReaderError): void {
    if (this.#failure === undefined) {
      this.#failure = error;
      // Release the partial line at once; complete lines before the failure are still delivered.
      this.#pending = Buffer.alloc(0);
    }
    this.#deliver();
  }
}
