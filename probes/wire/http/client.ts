import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { ProbeError } from "../../../src/core/probe-error.js";
import { tlsConnectOptions, type TlsSettings } from "../transport/tls.js";
import { toPhaseError, type HttpPhase, type TimePhase } from "./connector.js";
import { exchange, HttpConnections, type HttpIo, type RawResponse } from "./exchange.js";
import { bodyFact, formatRequestIds, keptHeaders, parseJsonBody, providerCodes, requestIdsOf } from "./response.js";

export { DEFAULT_MAX_BODY_BYTES, HttpConnections, type HttpIo } from "./exchange.js";

/** undici's own default headers/body timeout; the run deadline (signal, `deadline`) normally comes first. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** One request. Headers and body may carry credentials: they are sent, never logged or put into errors. */
export interface HttpRequestOptions {
  url: URL | string;
  /** Default GET. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Response body cap in bytes (default 1 MiB); over it the connection is dropped and the request fails (protocol). */
  maxBodyBytes?: number;
  /** Redirects followed (default 0: a 3xx is returned as it is). Over the bound or in a loop → protocol failure. */
  maxRedirects?: number;
  /** TLS settings as for SMTP/IMAP: servername, ca_file, insecure_skip_verify, cert_file/key_file. */
  tls?: TlsSettings;
  /** An http:// proxy chosen by the caller (the composition root reads HTTPS_PROXY/NO_PROXY; see proxyForUrl). */
  proxy?: URL | undefined;
  /** Epoch ms the run must end by; caps undici's headers and body timeouts. */
  deadline?: number;
  /** Keep connections between requests (per check); default: a fresh connection per request, closed after it. */
  connections?: HttpConnections;
  /** Send a fresh `client-request-id` (and `return-client-request-id: true`) so the id exists even without an answer. */
  sendClientRequestId?: boolean;
}

/** Seconds per phase of one request (all hops summed); phases that did not happen are absent. */
export type HttpTimings = Partial<Record<HttpPhase, number>>;

/** A response, whatever its status. */
export interface HttpResponse {
  /** The final URL (after redirects). */
  url: URL;
  status: number;
  /** Kept headers only (retry-after, ratelimit-*, x-ms-*, request ids, content-type, content-length, location). */
  headers: Record<string, string>;
  /** The body, at most `maxBodyBytes`. */
  body: Buffer;
  /** `content-length` as announced, else the bytes received. */
  contentLength: number;
  /** Parsed when the content type is JSON and it parses. */
  json: unknown;
  redirects: number;
  /** Request ids sent and received (response values win), for tickets. */
  requestIds: Record<string, string>;
  /** Earliest certificate `notAfter` seen (Unix seconds), over all hops; undefined over plain HTTP. */
  earliestCertExpiry: number | undefined;
  timings: HttpTimings;
}

/** What is known about a failed request; a kind copies it into its facts. */
export interface HttpFailureInfo {
  url: string;
  status: number | undefined;
  redirects: number;
  requestIds: Record<string, string>;
  earliestCertExpiry: number | undefined;
  timings: HttpTimings;
}

/** A ProbeError from the HTTP client, with what was learned before it failed. */
export class HttpRequestError extends ProbeError {
  readonly info: HttpFailureInfo;

  constructor(error: ProbeError, info: HttpFailureInfo) {
    const ids = formatRequestIds(info.requestIds);
    const message = ids === "" || error.message.includes(ids) ? error.message : `${error.message} (${ids})`;
    const details = { ...(error.phase === undefined ? {} : { phase: error.phase }), ...factsOf(error) };
    // The wrapped error's own cause continues the chain; its message is already part of this one.
    super(message, details, { cause: error.cause ?? error });
    this.info = info;
  }
}

function factsOf(error: ProbeError): { facts?: NonNullable<ProbeError["facts"]> } {
  return error.facts === undefined ? {} : { facts: error.facts };
}

/**
 * Sends one request and reads the response (body capped), timing `dns`, `connect`, `tls`, `ttfb` (request written →
 * first response byte) and `transfer` (first byte → end of body) on `io.phases`. Resolves with any status; throws an
 * HttpRequestError (phase, `net`/`tls`/`probe` facts, request ids in the message) when no complete response arrived.
 */
export async function timedRequest(io: HttpIo, options: HttpRequestOptions): Promise<HttpResponse> {
  const first = new URL(options.url);
  const timings: HttpTimings = {};
  const state = { redirects: 0, expiry: undefined as number | undefined, requestIds: {} as Record<string, string> };
  const info = (url: URL, status?: number): HttpFailureInfo => ({
    url: safeUrl(url),
    status,
    redirects: state.redirects,
    requestIds: { ...state.requestIds },
    earliestCertExpiry: state.expiry,
    timings: { ...timings },
  });
  const time: TimePhase = (phase, fn) =>
    io.phases.time(phase, async () => {
      const started = performance.now();
      try {
        return await fn();
      } finally {
        timings[phase] = (timings[phase] ?? 0) + (performance.now() - started) / 1000;
      }
    });

  let url = first;
  let method = (options.method ?? "GET").toUpperCase();
  const headers: Record<string, string> = { ...lowerKeys(options.headers ?? {}) };
  let body = options.body;
  const visited = new Set<string>([url.href]);
  const maxRedirects = options.maxRedirects ?? 0;
  const baseTls = await tlsBase(options.tls, first).catch((error: unknown) => {
    throw new HttpRequestError(toPhaseError("tls", error, io.signal), info(first));
  });
  for (;;) {
    if (options.sendClientRequestId === true) {
      headers["client-request-id"] = randomUUID();
      headers["return-client-request-id"] = "true";
      state.requestIds = { ...state.requestIds, ...requestIdsOf(headers) };
    }
    const hopTls = tlsFor(baseTls, options.tls, url, first);
    let raw: RawResponse;
    try {
      raw = await exchange(
        io,
        { ...options, verify: options.tls?.insecure_skip_verify !== true },
        { url, method, headers, body, tls: hopTls, time, state },
      );
    } catch (error) {
      const failure = error instanceof ProbeError ? error : toPhaseError("ttfb", error, io.signal);
      const wrapped = new HttpRequestError(failure, info(url));
      io.logger.debug({ http: { method, phase: wrapped.phase, ...wrapped.info } }, "http request failed");
      throw wrapped;
    }
    const kept = keptHeaders(raw.headers);
    state.requestIds = { ...state.requestIds, ...requestIdsOf(kept) };
    const location = kept["location"];
    if (maxRedirects > 0 && REDIRECT_STATUSES.has(raw.status) && location !== undefined) {
      const next = resolveLocation(location, url);
      const reason =
        next === undefined
          ? "redirect to an invalid Location"
          : visited.has(next.href)
            ? `redirect loop back to ${safeUrl(next)}`
            : state.redirects >= maxRedirects
              ? `more than ${maxRedirects} redirects`
              : undefined;
      if (reason !== undefined || next === undefined) {
        const failure = new ProbeError(`${reason ?? "redirect"} (HTTP ${raw.status} from ${safeUrl(url)})`, {
          phase: "transfer",
          facts: { protocol: "probe", input: { class: "protocol" } },
        });
        throw new HttpRequestError(failure, info(url, raw.status));
      }
      state.redirects++;
      visited.add(next.href);
      if (raw.status === 303 || ((raw.status === 301 || raw.status === 302) && method === "POST")) {
        if (method !== "HEAD") method = "GET";
        body = undefined;
        delete headers["content-type"];
        delete headers["content-length"];
      }
      // Credentials are for the origin they were given for, never for wherever it redirects to.
      if (next.origin !== url.origin) {
        delete headers["authorization"];
        delete headers["cookie"];
      }
      url = next;
      continue;
    }
    const json = parseJsonBody(raw.body, kept["content-type"]);
    const announced = Number(kept["content-length"]);
    const response: HttpResponse = {
      url,
      status: raw.status,
      headers: kept,
      body: raw.body,
      contentLength: Number.isSafeInteger(announced) && announced >= 0 ? announced : raw.body.length,
      json,
      redirects: state.redirects,
      requestIds: { ...state.requestIds },
      earliestCertExpiry: state.expiry,
      timings: { ...timings },
    };
    io.logger.debug(
      {
        http: {
          method,
          url: safeUrl(url),
          status: raw.status,
          redirects: state.redirects,
          requestIds: response.requestIds,
          timings,
        },
      },
      "http response",
    );
    return response;
  }
}

/**
 * The failure for a response whose status the caller did not expect: facts `{protocol, input: {status, headers, body}}`
 * for the classifier, and a message with the status, short provider codes (AADSTS, Graph, Slack) and request ids.
 */
export function httpStatusError(
  response: HttpResponse,
  protocol: "http" | "graph" | "slack" | "entra",
  phase = "transfer",
): HttpRequestError {
  const codes = providerCodes(response.json);
  const what = codes.length === 0 ? "" : ` ${codes.join(" ")}`;
  const failure = new ProbeError(`HTTP ${response.status}${what} from ${safeUrl(response.url)}`, {
    phase,
    facts: {
      protocol,
      input: { status: response.status, headers: response.headers, body: bodyFact(response.body, response.json) },
    },
  });
  return new HttpRequestError(failure, {
    url: safeUrl(response.url),
    status: response.status,
    redirects: response.redirects,
    requestIds: response.requestIds,
    earliestCertExpiry: response.earliestCertExpiry,
    timings: response.timings,
  });
}

/** Origin and path only: query strings and user info can carry tokens (SAS signatures, codes). */
export function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function resolveLocation(location: string, base: URL): URL | undefined {
  try {
    const next = new URL(location, base);
    return next.protocol === "http:" || next.protocol === "https:" ? next : undefined;
  } catch {
    return undefined;
  }
}

/** CA, client certificate and verification, read once per request (a missing file is a `config` failure). */
async function tlsBase(settings: TlsSettings | undefined, first: URL): Promise<ConnectionOptions> {
  const host = first.hostname.replace(/^\[|\]$/g, "");
  return tlsConnectOptions(settings ?? { insecure_skip_verify: false }, host);
}

/** The TLS options for one hop: an explicit `servername` belongs to the first origin; other hosts get their own. */
function tlsFor(base: ConnectionOptions, settings: TlsSettings | undefined, url: URL, first: URL): ConnectionOptions {
  if (url.hostname === first.hostname && settings?.servername !== undefined) return base;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const { servername: _ignored, ...rest } = base;
  return isIP(host) === 0 ? { ...rest, servername: host } : rest;
}
