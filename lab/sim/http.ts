// Request/reply plumbing shared by the endpoint modules: the route type, JSON replies, error bodies per family.
// Graph error shape: https://learn.microsoft.com/graph/errors
// Entra error shape: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
// Slack error shape: https://docs.slack.dev/apis/web-api/#responses
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { SimEndpoint, SimFault } from "./faults.js";
import type { SimCore } from "./core.js";

/** A fully read request. */
export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What a handler answers; `body` is serialised as JSON unless it is a Buffer (or absent for 204/302). */
export interface SimReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** The API family decides the error body shape and the diagnostic headers. */
export type SimFamily = "entra" | "graph" | "slack" | "status";

/** Per-request context handed to a route handler. */
export interface RouteContext {
  core: SimCore;
  params: string[];
  /** Content faults that fired for this request (noHits, indexLag, neverVisible, expiredToken). */
  faults: SimFault[];
}

/** One route: method, path pattern (groups become `params`), endpoint id for faults and the request log. */
export interface SimRoute {
  method: string | readonly string[];
  pattern: RegExp;
  endpoint: SimEndpoint;
  family: SimFamily;
  handle(req: SimRequest, ctx: RouteContext): SimReply | Promise<SimReply>;
}

/** A JSON reply. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): SimReply {
  return { status, body, headers };
}

const GRAPH_DEFAULT_CODES: Record<number, string> = {
  400: "invalidRequest",
  401: "InvalidAuthenticationToken",
  403: "accessDenied",
  404: "itemNotFound",
  409: "nameAlreadyExists",
  413: "invalidRequest",
  429: "TooManyRequests",
  500: "generalException",
  503: "serviceNotAvailable",
  504: "UnknownError",
};

/** Graph's `{error:{code,message,innerError}}` body; innerError repeats the request ids the headers carry. */
export function graphError(status: number, code?: string, message?: string, retryAfter?: number): SimReply {
  const headers: Record<string, string> = {};
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  return {
    status,
    headers,
    body: {
      error: {
        code: code ?? GRAPH_DEFAULT_CODES[status] ?? "generalException",
        message: message ?? (status === 429 ? "Please retry again later." : `Simulated error ${status}.`),
        innerError: { date: new Date().toISOString().slice(0, 19) },
      },
    },
  };
}

/** Slack's `{ok:false,error}`; HTTP 200 except for rate limiting (429 + Retry-After). */
export function slackError(error: string, status = 200, retryAfter?: number): SimReply {
  const headers: Record<string, string> = {};
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  return { status, headers, body: { ok: false, error } };
}

/** Entra's token error body: error, error_description with the AADSTS code and trace lines, error_codes, ids. */
export function entraError(status: number, error: string, code: number | undefined, description: string): SimReply {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace("T", " ").slice(0, 19) + "Z";
  const prefix = code === undefined ? "" : `AADSTS${code}: `;
  return {
    status,
    headers: { "x-ms-request-id": traceId },
    body: {
      error,
      error_description: `${prefix}${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: code === undefined ? [] : [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      ...(code === undefined ? {} : { error_uri: `https://login.microsoftonline.com/error?code=${code}` }),
    },
  };
}

/** An error reply for a `status` fault, in the family's shape. */
export function familyError(
  family: SimFamily,
  status: number,
  code?: string,
  message?: string,
  retryAfter?: number,
): SimReply {
  switch (family) {
    case "graph":
      return graphError(status, code, message, retryAfter);
    case "slack":
      return slackError(code ?? (status === 429 ? "ratelimited" : "service_unavailable"), status, retryAfter);
    case "entra": {
      const reply = entraError(
        status,
        code ?? (status >= 500 || status === 429 ? "temporarily_unavailable" : "invalid_request"),
        undefined,
        message ?? `Simulated error ${status}.`,
      );
      if (retryAfter !== undefined) reply.headers = { ...reply.headers, "retry-after": String(retryAfter) };
      return reply;
    }
    case "status":
      return {
        status,
        headers: retryAfter === undefined ? {} : { "retry-after": String(retryAfter) },
        body: { error: code ?? "unavailable", message: message ?? `Simulated error ${status}.` },
      };
  }
}

/** Diagnostic headers each family sends (request ids a ticket with the provider would cite). */
export function diagnosticHeaders(family: SimFamily, req: SimRequest): Record<string, string> {
  switch (family) {
    case "graph": {
      const requestId = randomUUID();
      const clientRequestId = headerValue(req, "client-request-id") ?? requestId;
      return {
        "request-id": requestId,
        "client-request-id": clientRequestId,
        "x-ms-ags-diagnostic": JSON.stringify({
          ServerInfo: { DataCenter: "Sim Loopback", Slice: "E", Ring: "0", ScaleUnit: "000", RoleInstance: "SIM0" },
        }),
      };
    }
    case "slack":
      return { "x-slack-req-id": randomBytes(16).toString("hex") };
    case "entra":
      return { "client-request-id": headerValue(req, "client-request-id") ?? randomUUID() };
    case "status":
      return {};
  }
}

/** One request header as a string. */
export function headerValue(req: SimRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Form or JSON parameters of a request (Slack and Entra accept forms; Slack also JSON and the query string). */
export function params(req: SimRequest): URLSearchParams {
  const out = new URLSearchParams(req.url.search);
  const type = headerValue(req, "content-type") ?? "";
  const text = req.body.toString("utf8");
  if (type.startsWith("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(text)) out.set(k, v);
  } else if (type.startsWith("application/json") && text.length > 0) {
    const parsed = parseJson(text);
    if (typeof parsed === "object" && parsed !== null) {
      for (const [k, v] of Object.entries(parsed)) {
        if (v !== undefined && v !== null) out.set(k, typeof v === "string" ? v : JSON.stringify(v));
      }
    }
  }
  return out;
}

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
