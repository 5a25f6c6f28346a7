/**
 * One API call of a kind: sign in with the check's credential (phase `auth`), send the request on the timed client,
 * record the HTTP facts, and turn an unexpected status into a classified failure. Used by the `http` kind and by the
 * Microsoft 365 and Slack kinds, so every HTTP check reports the same facts under blackbox_exporter's names.
 */
import { gaugeFact } from "../../../src/core/facts.js";
import type { Credential } from "../../../src/core/credentials.js";
import type { PhaseClock, ProbeContext } from "../../../src/core/probe.js";
import { ProbeError } from "../../../src/core/probe-error.js";
import { detachedClock } from "../phases.js";
import { CERT_EXPIRY_FACT, type TlsSettings } from "../transport/tls.js";
import { HttpRequestError, httpStatusError, timedRequest, type HttpConnections, type HttpResponse } from "./client.js";
import { HTTP_PHASES } from "./connector.js";

/** blackbox_exporter's names, for the same meanings. */
export const HTTP_STATUS_FACT = gaugeFact(
  "probe_http_status_code",
  "HTTP status of the last response of the last run (0 when none arrived).",
);
export const HTTP_CONTENT_LENGTH_FACT = gaugeFact(
  "probe_http_content_length",
  "Length of the last response body of the last run, bytes (as announced, else as received).",
);
export const HTTP_REDIRECTS_FACT = gaugeFact("probe_http_redirects", "Redirects followed by the last request.");

/** The facts every HTTP-speaking kind declares. */
export const HTTP_FACTS = [HTTP_STATUS_FACT, HTTP_CONTENT_LENGTH_FACT, HTTP_REDIRECTS_FACT, CERT_EXPIRY_FACT] as const;

/** The phases of one detailed request: sign-in, then the timed client's own. */
export const API_PHASES = ["auth", ...HTTP_PHASES] as const;

/** What an API call borrows from its run. */
export type ApiIo = Pick<ProbeContext<unknown, unknown>, "signal" | "phases" | "facts" | "logger" | "deadline"> &
  Partial<Pick<ProbeContext<unknown, unknown>, "proxyFor">>;

/** One call. */
export interface ApiCall {
  url: URL | string;
  method?: string;
  headers?: Record<string, string>;
  /** A JSON body (sets content-type), or a raw body. */
  json?: unknown;
  body?: string | Buffer;
  /** Statuses that count as an answer; default any 2xx. Others throw a classified failure. */
  expectStatus?: readonly number[];
  /** Which rule table reads a failed response: generic HTTP, Graph or Slack. */
  protocol: "http" | "graph" | "slack";
  /** Signs the request (`Authorization`); a 401 drops its cached token so the next run signs in again. */
  credential?: Credential;
  /**
   * Time the whole call (sign-in included) as this one phase of the kind (`post`, `query`), rather than as `auth`,
   * `dns`, `connect`, `tls`, `ttfb`, `transfer`; a failure inside then carries this phase.
   */
  step?: string;
  tls?: TlsSettings;
  maxBodyBytes?: number;
  maxRedirects?: number;
  proxy?: URL | undefined;
  connections?: HttpConnections;
}

/** Sends one call; resolves with a response whose status was expected, or throws a classified ProbeError. */
export async function apiRequest(io: ApiIo, call: ApiCall): Promise<HttpResponse> {
  if (call.step === undefined) return send(io, io.phases, call);
  const step = call.step;
  return io.phases.time(step, async () => {
    try {
      return await send(io, detachedClock(), call);
    } catch (error) {
      throw error instanceof ProbeError ? error.relabel(step) : error;
    }
  });
}

async function send(io: ApiIo, phases: PhaseClock, call: ApiCall): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: "application/json", ...call.headers };
  const auth = await call.credential?.authorization({ signal: io.signal, phases, logger: io.logger });
  if (auth !== undefined) headers["authorization"] = auth.reveal();
  let body = call.body;
  if (call.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(call.json);
  }
  let response: HttpResponse;
  try {
    response = await timedRequest(
      { signal: io.signal, phases, logger: io.logger },
      {
        url: call.url,
        headers,
        deadline: io.deadline,
        sendClientRequestId: call.protocol === "graph",
        ...(call.method === undefined ? {} : { method: call.method }),
        ...(body === undefined ? {} : { body }),
        ...(call.tls === undefined ? {} : { tls: call.tls }),
        ...(call.maxBodyBytes === undefined ? {} : { maxBodyBytes: call.maxBodyBytes }),
        ...(call.maxRedirects === undefined ? {} : { maxRedirects: call.maxRedirects }),
        ...proxyOption(io, call),
        ...(call.connections === undefined ? {} : { connections: call.connections }),
      },
    );
  } catch (error) {
    if (error instanceof HttpRequestError) {
      io.facts.set(HTTP_STATUS_FACT, error.info.status ?? 0);
      if (error.info.earliestCertExpiry !== undefined) io.facts.set(CERT_EXPIRY_FACT, error.info.earliestCertExpiry);
    }
    throw error;
  }
  io.facts.set(HTTP_STATUS_FACT, response.status);
  io.facts.set(HTTP_CONTENT_LENGTH_FACT, response.contentLength);
  io.facts.set(HTTP_REDIRECTS_FACT, response.redirects);
  if (response.earliestCertExpiry !== undefined) io.facts.set(CERT_EXPIRY_FACT, response.earliestCertExpiry);
  const isExpected =
    call.expectStatus === undefined
      ? response.status >= 200 && response.status < 300
      : call.expectStatus.includes(response.status);
  if (!isExpected) {
    if (response.status === 401 && auth?.isFromCache === true) call.credential?.invalidate();
    if (response.status < 400) {
      // A normal answer, just not the one the check expects: its content failed a check.
      throw new ProbeError(`HTTP ${response.status}, expected ${call.expectStatus?.join(", ") ?? "2xx"}`, {
        phase: phases.current ?? "transfer",
        facts: { protocol: "probe", input: { class: "assertion", code: String(response.status) } },
      });
    }
    throw httpStatusError(response, call.protocol, phases.current ?? "transfer");
  }
  io.logger.debug({ status: response.status, request_ids: response.requestIds }, "api call answered");
  return response;
}

/** The call's own proxy, else the one the agent's environment names for its URL. */
function proxyOption(io: ApiIo, call: ApiCall): { proxy?: URL } {
  const proxy = call.proxy ?? io.proxyFor?.(new URL(call.url));
  return proxy === undefined ? {} : { proxy };
}

/** The JSON body of a response as an object, or a protocol failure naming what was expected. */
export function jsonObject(response: HttpResponse, what: string, phase: string): Record<string, unknown> {
  const json = response.json;
  if (json !== null && typeof json === "object" && !Array.isArray(json)) return json as Record<string, unknown>;
  throw new ProbeError(`${what}: the response is not a JSON object`, {
    phase,
    facts: { protocol: "probe", input: { class: "protocol" } },
  });
}
