import type { IncomingHttpHeaders } from "node:http";
import type { ConnectionOptions } from "node:tls";
import { Client, type Dispatcher } from "undici";
import type { SessionIo } from "../../../src/core/probe.js";
import { ProbeError } from "../../../src/core/probe-error.js";
import { openConnection, toPhaseError, type HttpPhase, type TimePhase } from "./connector.js";
import { proxyLabel } from "./proxy.js";

/** What the HTTP client borrows from its run: the signal, the phase clock and the logger (no facts record). */
export type HttpIo = Pick<SessionIo, "signal" | "phases" | "logger">;

/** Default response body cap: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** undici's own default headers/body timeout; the run deadline (signal, `deadline`) normally comes first. */
const DEFAULT_TIMEOUT_MS = 300_000;

/** The request options one exchange reads. */
export interface ExchangeOptions {
  maxBodyBytes?: number | undefined;
  proxy?: URL | undefined;
  deadline?: number | undefined;
  connections?: HttpConnections | undefined;
  /** Refuse certificates that fail verification (default true). */
  verify: boolean;
}

/** Connections kept between runs of one check (`keep_alive`); close it when the check goes away. */
export class HttpConnections {
  readonly #clients = new Map<string, { client: Client; hop: { current: HopConnect | undefined } }>();

  /** @internal The client for an origin and proxy, created on first use. */
  get(key: string, create: () => { client: Client; hop: { current: HopConnect | undefined } }) {
    let entry = this.#clients.get(key);
    if (entry === undefined || entry.client.destroyed || entry.client.closed) {
      entry = create();
      this.#clients.set(key, entry);
    }
    return entry;
  }

  /** @internal Forgets (and destroys) a client after a failure: its socket state is unknown. */
  drop(key: string): Promise<void> {
    const entry = this.#clients.get(key);
    this.#clients.delete(key);
    return entry === undefined ? Promise.resolve() : entry.client.destroy().catch(() => undefined);
  }

  /** Destroys every kept connection. */
  async close(): Promise<void> {
    await Promise.all([...this.#clients.keys()].map((key) => this.drop(key)));
  }
}

type HopConnect = Omit<Parameters<typeof openConnection>[0], "host" | "port" | "isHttps">;

/** A phase timed from one event to another. */
interface RunningPhase {
  finish(error?: unknown): void;
  /** Settles once the phase clock has recorded it. */
  done: Promise<void>;
}

/** Status, all headers and the capped body of one response. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One hop of a request: where, what, and how its phases are timed. */
export interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  tls: ConnectionOptions;
  time: TimePhase;
  state: { expiry: number | undefined };
}

/** One request/response on one connection (fresh, or kept in `options.connections`). */
export async function exchange(io: HttpIo, options: ExchangeOptions, hop: Hop): Promise<RawResponse> {
  const { signal } = io;
  if (signal.aborted) throw toPhaseError("dns", signal.reason, signal);
  const isHttps = hop.url.protocol === "https:";
  if (!isHttps && hop.url.protocol !== "http:") {
    throw new ProbeError(`unsupported URL scheme ${hop.url.protocol}`, {
      phase: "connect",
      facts: { protocol: "probe", input: { class: "config" } },
    });
  }
  const connectInput: HopConnect = {
    tls: hop.tls,
    verify: options.verify,
    proxy: options.proxy,
    signal,
    time: hop.time,
    onCertExpiry: (expiry) => {
      hop.state.expiry = hop.state.expiry === undefined ? expiry : Math.min(hop.state.expiry, expiry);
    },
  };
  const reuse = options.connections;
  const key = `${hop.url.origin} ${options.proxy === undefined ? "" : proxyLabel(options.proxy)}`;
  const remaining = options.deadline === undefined ? DEFAULT_TIMEOUT_MS : Math.max(1, options.deadline - Date.now());
  const timeout = Math.min(DEFAULT_TIMEOUT_MS, remaining);
  const create = () => {
    const holder: { current: HopConnect | undefined } = { current: connectInput };
    const port = Number(hop.url.port === "" ? (isHttps ? 443 : 80) : hop.url.port);
    const host = hop.url.hostname.replace(/^\[|\]$/g, "");
    const client = new Client(hop.url.origin, {
      // Our own connector so each phase is measured, not inferred, and TLS is verified as for SMTP/IMAP.
      connect: (_opts, callback) => {
        const input = holder.current;
        if (input === undefined) {
          callback(new Error("no request in progress"), null);
          return;
        }
        openConnection({ ...input, host, port, isHttps }).then(
          (socket) => callback(null, socket),
          (error: unknown) => callback(error as Error, null),
        );
      },
      pipelining: reuse === undefined ? 0 : 1,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      allowH2: false,
    });
    return { client, hop: holder };
  };
  const entry = reuse === undefined ? create() : reuse.get(key, create);
  entry.hop.current = connectInput;
  let isFailed = false;
  try {
    return await dispatch(entry.client, io, options, hop);
  } catch (error) {
    isFailed = true;
    throw error;
  } finally {
    entry.hop.current = undefined;
    if (reuse === undefined) await entry.client.destroy().catch(() => undefined);
    else if (isFailed) await reuse.drop(key);
  }
}

function dispatch(client: Client, io: HttpIo, options: ExchangeOptions, hop: Hop): Promise<RawResponse> {
  const { signal } = io;
  const cap = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const path = options.proxy !== undefined && hop.url.protocol === "http:" ? hop.url.href : pathOf(hop.url);
  return new Promise<RawResponse>((resolve, reject) => {
    let phase: HttpPhase = "ttfb";
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let received = 0;
    let ttfb: RunningPhase | undefined;
    let transfer: Promise<RunningPhase> | undefined;
    let isSettled = false;
    const startPhase = (name: "ttfb" | "transfer"): RunningPhase => {
      phase = name;
      let finish: (error?: unknown) => void = () => undefined;
      const running = new Promise<void>((res, rej) => {
        finish = (error) =>
          error === undefined ? res() : rej(error instanceof Error ? error : new Error("failed", { cause: error }));
      });
      const done = hop.time(name, () => running).catch(() => undefined);
      return { finish, done };
    };
    const endPhases = (error?: unknown): void => {
      ttfb?.finish(error);
      void transfer?.then((t) => t.finish(error));
    };
    const fail = (error: unknown): void => {
      if (isSettled) return;
      isSettled = true;
      signal.removeEventListener("abort", onAbort);
      endPhases(error);
      const failure = toPhaseError(phase, error, signal);
      void Promise.all([ttfb?.done, transfer?.then((t) => t.done)]).then(() => reject(failure));
    };
    const onAbort = (): void => {
      controller?.abort(signal.reason as Error);
      // Before dispatch reached the handler, or a connect in progress: the connector honours the signal itself.
      void client.destroy(signal.reason as Error).catch(() => undefined);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (signal.aborted) c.abort(signal.reason as Error);
      },
      onRequestSent() {
        ttfb ??= startPhase("ttfb");
      },
      onResponseStarted() {
        // A server may answer before the request body is fully written: the wait was zero.
        const first = (ttfb ??= startPhase("ttfb"));
        first.finish();
        phase = "transfer";
        // The phase clock is a stack: transfer starts once ttfb has been popped.
        transfer = first.done.then(() => startPhase("transfer"));
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(c, chunk) {
        received += chunk.length;
        if (received > cap) {
          const error = new ProbeError(`response body larger than ${cap} bytes; stopped reading`, {
            phase: "transfer",
            facts: { protocol: "net", input: { code: "UND_ERR_RES_EXCEEDED_MAX_SIZE" } },
          });
          // Dropping the connection is the only way to stop a server that keeps sending.
          c.abort(error);
          fail(error);
          return;
        }
        chunks.push(chunk);
      },
      onResponseEnd() {
        if (isSettled) return;
        isSettled = true;
        signal.removeEventListener("abort", onAbort);
        endPhases();
        const result = { status, headers, body: Buffer.concat(chunks) };
        // Resolve once the phases are recorded, so the caller's next phase never overlaps them.
        void Promise.all([ttfb?.done, transfer?.then((t) => t.done)]).then(() => resolve(result));
      },
      onResponseError(_c, error) {
        fail(error);
      },
    };
    if (signal.aborted) {
      onAbort();
      fail(signal.reason);
      return;
    }
    client.dispatch(
      {
        origin: hop.url.origin,
        path,
        method: hop.method,
        headers: hop.headers,
        body: hop.body ?? null,
        ...(options.connections === undefined ? { reset: true } : {}),
      },
      handler,
    );
  });
}

function pathOf(url: URL): string {
  return `${url.pathname === "" ? "/" : url.pathname}${url.search}`;
}
