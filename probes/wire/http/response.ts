import type { IncomingHttpHeaders } from "node:http";

/** Response headers kept for the classifier, the throttler and tickets; everything else is dropped (bounded facts). */
const KEPT_HEADERS = new Set([
  "retry-after",
  "request-id",
  "client-request-id",
  "x-ms-ags-diagnostic",
  "x-ms-request-id",
  "x-slack-req-id",
  "content-type",
  "content-length",
  "location",
]);
/** Header name prefixes kept as well: IETF `RateLimit-*` and Microsoft's `x-ms-*` throttling/diagnostic headers. */
const KEPT_PREFIXES = ["ratelimit", "x-ratelimit-", "x-ms-"];
const MAX_HEADERS = 32;
const MAX_HEADER_VALUE = 512;

/** The ids a provider ticket cites, in the order they are printed. */
export const REQUEST_ID_HEADERS = [
  "request-id",
  "client-request-id",
  "x-ms-request-id",
  "x-ms-ags-diagnostic",
  "x-slack-req-id",
] as const;

/** Bytes of body text handed to the classifier when it is not parsed JSON (it salvages codes from a cut body). */
const MAX_FACT_TEXT = 64 * 1024;

/** The kept response headers, lower-case names, bounded count and value length. */
export function keptHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  let count = 0;
  for (const [rawName, rawValue] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (!KEPT_HEADERS.has(name) && !KEPT_PREFIXES.some((p) => name.startsWith(p))) continue;
    if (rawValue === undefined || ++count > MAX_HEADERS) continue;
    const value = Array.isArray(rawValue) ? rawValue.join(", ") : rawValue;
    kept[name] = value.slice(0, MAX_HEADER_VALUE);
  }
  return kept;
}

/** The request ids among `headers` (kept headers or request headers we sent). */
export function requestIdsOf(headers: Record<string, string>): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const name of REQUEST_ID_HEADERS) {
    const value = headers[name];
    // Ids are short tokens; anything else is not echoed into messages.
    if (value !== undefined && /^[\w.:;=,{} /+-]{1,300}$/.test(value)) ids[name] = value;
  }
  return ids;
}

/** `request-id=… client-request-id=…`, or "" when there are none. */
export function formatRequestIds(ids: Record<string, string>): string {
  return Object.entries(ids)
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
}

/** True for `application/json`, `application/problem+json`, `text/json` and the like. */
export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^[\w.+-]+\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(contentType.trim());
}

/** The body parsed as JSON when the content type says JSON and it parses; undefined otherwise. */
export function parseJsonBody(body: Buffer, contentType: string | undefined): unknown {
  if (!isJsonContentType(contentType) || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** The body as the classifier gets it: parsed JSON if it parsed, else a bounded text prefix, else nothing. */
export function bodyFact(body: Buffer, json: unknown): unknown {
  if (json !== undefined) return json;
  if (body.length === 0) return undefined;
  return body.subarray(0, MAX_FACT_TEXT).toString("utf8");
}

const CODE_TOKEN = /^[A-Za-z][\w.-]{0,63}$/;

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * Short provider error codes from a JSON error body, safe to print: AADSTS code and OAuth `error` (Entra), Graph
 * `error.code` / `innerError.code`, Slack `error`. Free text (`error_description`, `message`) is never echoed: it can
 * carry names the operator did not mean to publish.
 */
export function providerCodes(json: unknown): string[] {
  const codes: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === "string" && CODE_TOKEN.test(value) && !codes.includes(value)) codes.push(value);
  };
  const errorCodes = field(json, "error_codes");
  if (Array.isArray(errorCodes) && typeof errorCodes[0] === "number") add(`AADSTS${errorCodes[0]}`);
  const error = field(json, "error");
  if (typeof error === "string") add(error);
  else {
    add(field(error, "code"));
    add(field(field(error, "innerError") ?? field(error, "innererror"), "code"));
  }
  return codes;
}
