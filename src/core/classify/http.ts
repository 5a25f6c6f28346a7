import type { Classification } from "../taxonomy.js";
import { parseRetryAfter } from "../retry-after.js";
import { AADSTS_CODES, ENTRA_ERRORS, GENERIC_SERVER_CODES, GRAPH_CODES, SLACK_ERRORS } from "./provider-codes.js";
import { asText, isRecord, prop } from "./text.js";
import { fromVerdict, positive, unknownResult, type Verdict } from "./verdict.js";

/** Bodies longer than this are not parsed as JSON (they are still searched for an AADSTS code). */
const MAX_JSON_CHARS = 1_048_576;
const AADSTS_IN_TEXT = /AADSTS(\d{1,8})(?!\d)/;
/** Field salvage for truncated JSON: values are only ever looked up in the fixed tables, never echoed. */
const SALVAGE_ERROR = /"error"\s*:\s*"([A-Za-z_]{1,64})"/;
const SALVAGE_CODE = /"code"\s*:\s*"([A-Za-z_]{1,64})"/;
const SALVAGE_OK = /"ok"\s*:\s*(true|false)/;

/** What the classifier reads from an HTTP response. */
export interface HttpFacts {
  /** The status when it is an integer 100–599. */
  readonly status: number | undefined;
  /** True when `status` was given but is not a valid HTTP status. */
  readonly hasInvalidStatus: boolean;
  /** A Retry-After header with a valid value (delay-seconds or HTTP-date, RFC 9110 §10.2.3). */
  readonly hasRetryAfter: boolean;
  /** SharePoint / IETF draft `RateLimit-*` headers. */
  readonly hasRateLimitHeaders: boolean;
  /** Digits of an AADSTS code from `error_codes` or an error text. */
  readonly aadsts: string | undefined;
  /** OAuth `error` (Entra) when `error` is a string and the body is not Slack's. */
  readonly oauthError: string | undefined;
  /** Graph `error.code` then `error.innerError.code`. */
  readonly graphCodes: readonly string[];
  /** Slack `ok`; undefined when the body has none. */
  readonly slackOk: boolean | undefined;
  /** Slack `error`, or a whole plain-text webhook answer. */
  readonly slackError: string | undefined;
  /** A body that looked like JSON but did not parse (truncated, garbage). */
  readonly isMalformedJson: boolean;
  /** Something was in the body at all. */
  readonly hasBody: boolean;
}

function decodeBody(body: unknown): unknown {
  if (body instanceof Uint8Array)
    return new TextDecoder("utf-8", { fatal: false }).decode(body.subarray(0, MAX_JSON_CHARS));
  return body;
}

function parseJson(text: string): { value: unknown; ok: boolean } {
  if (text.length > MAX_JSON_CHARS) return { value: undefined, ok: false };
  try {
    return { value: JSON.parse(text) as unknown, ok: true };
  } catch {
    return { value: undefined, ok: false };
  }
}

function firstValue(headers: Record<string, unknown>, key: string): unknown {
  const value = prop(headers, key);
  return Array.isArray(value) ? (value as unknown[])[0] : value;
}

function headerFlags(headers: unknown): { hasRetryAfter: boolean; hasRateLimitHeaders: boolean } {
  let hasRetryAfter = false;
  let hasRateLimitHeaders = false;
  if (!isRecord(headers)) return { hasRetryAfter, hasRateLimitHeaders };
  let keys: string[];
  try {
    keys = Object.keys(headers).slice(0, 256);
  } catch {
    return { hasRetryAfter, hasRateLimitHeaders };
  }
  for (const key of keys) {
    const name = key.toLowerCase();
    // Validity only (a fixed clock keeps this pure); how long to wait is the throttle's business (retry-after.ts).
    if (name === "retry-after" && parseRetryAfter(firstValue(headers, key), 0) !== undefined) hasRetryAfter = true;
    if (name.startsWith("ratelimit-") || name === "ratelimit" || name === "ratelimit-policy")
      hasRateLimitHeaders = true;
  }
  return { hasRetryAfter, hasRateLimitHeaders };
}

function firstAadsts(json: unknown, text: string): string | undefined {
  const codes = prop(json, "error_codes");
  if (Array.isArray(codes)) {
    const first: unknown = codes[0];
    if (typeof first === "number" && Number.isInteger(first) && first > 0 && first < 100_000_000) return String(first);
  }
  const error = prop(json, "error");
  for (const candidate of [prop(json, "error_description"), prop(error, "message"), text]) {
    const m = AADSTS_IN_TEXT.exec(asText(candidate));
    if (m?.[1] !== undefined) return m[1];
  }
  return undefined;
}

/** Reads the structured facts of an HTTP response: status, headers, and Graph / Entra / Slack error bodies. */
export function readHttpFacts(input: { status?: unknown; headers?: unknown; body?: unknown }): HttpFacts {
  const rawStatus = input.status;
  const status =
    typeof rawStatus === "number" && Number.isInteger(rawStatus) && rawStatus >= 100 && rawStatus <= 599
      ? rawStatus
      : undefined;
  const body = decodeBody(input.body);
  const rawText = typeof body === "string" ? body : "";
  const text = asText(rawText);
  const looksJson = /^\s*[[{]/.test(text);
  const parsed = typeof body === "string" ? parseJson(rawText) : { value: body, ok: body !== undefined };
  const json: unknown = parsed.ok ? parsed.value : undefined;
  const isMalformedJson = typeof body === "string" && looksJson && !parsed.ok;

  const error = prop(json, "error");
  const okField = prop(json, "ok");
  let slackOk = typeof okField === "boolean" ? okField : undefined;
  let slackError = slackOk === false && typeof error === "string" ? error : undefined;
  let oauthError = slackOk === undefined && typeof error === "string" ? error : undefined;
  const graphCodes: string[] = [];
  if (isRecord(error)) {
    for (const c of [
      prop(error, "code"),
      prop(prop(error, "innerError"), "code"),
      prop(prop(error, "innererror"), "code"),
    ]) {
      if (typeof c === "string") graphCodes.push(c);
    }
  }
  if (isMalformedJson) {
    // A truncated body still names its error early on; salvage the field, look it up, never echo it.
    const ok = SALVAGE_OK.exec(text)?.[1];
    const err = SALVAGE_ERROR.exec(text)?.[1];
    const code = SALVAGE_CODE.exec(text)?.[1];
    if (ok !== undefined) slackOk = ok === "true";
    if (err !== undefined && slackOk === false) slackError = err;
    else if (err !== undefined) oauthError = err;
    if (code !== undefined) graphCodes.push(code);
  } else if (!parsed.ok && text.trim() !== "" && SLACK_ERRORS.has(text.trim())) {
    // Incoming webhooks answer in plain text: `no_service`, `invalid_payload`, `action_prohibited` …
    slackError = text.trim();
  }
  return {
    status,
    hasInvalidStatus: rawStatus !== undefined && status === undefined,
    ...headerFlags(input.headers),
    aadsts: firstAadsts(json, text),
    oauthError,
    graphCodes,
    slackOk,
    slackError,
    isMalformedJson,
    hasBody: text.trim() !== "" || (body !== undefined && typeof body !== "string"),
  };
}

interface StatusRule {
  readonly match: {
    /** Inclusive status range. */
    readonly status: readonly [number, number];
    readonly hasRetryAfter?: boolean;
    readonly hasRateLimitHeaders?: boolean;
  };
  readonly result: Verdict;
}

/** HTTP status rules (RFC 9110 §15, Graph throttling docs), first match wins. */
export const HTTP_STATUS_RULES: readonly StatusRule[] = [
  // SharePoint throttles with 503 plus RateLimit-* headers.
  { match: { status: [503, 503], hasRateLimitHeaders: true }, result: { class: "throttled" } },
  { match: { status: [429, 429] }, result: { class: "throttled" } },
  { match: { status: [509, 509] }, result: { class: "throttled" } },
  { match: { status: [401, 401] }, result: { class: "auth" } },
  { match: { status: [407, 407] }, result: { class: "auth" } },
  { match: { status: [403, 403] }, result: { class: "permission" } },
  { match: { status: [404, 404] }, result: { class: "not_found" } },
  { match: { status: [410, 410] }, result: { class: "not_found" } },
  { match: { status: [408, 408] }, result: { class: "timeout", side: "provider" } },
  { match: { status: [413, 413] }, result: { class: "rejected" } },
  { match: { status: [451, 451] }, result: { class: "rejected" } },
  { match: { status: [423, 423] }, result: { class: "unavailable" } },
  { match: { status: [507, 507] }, result: { class: "quota" } },
  { match: { status: [502, 504] }, result: { class: "unavailable" } },
  { match: { status: [520, 524] }, result: { class: "unavailable" } },
  // A server that says when to come back is not failing permanently.
  { match: { status: [500, 599], hasRetryAfter: true }, result: { class: "unavailable" } },
  { match: { status: [500, 599] }, result: { class: "server_error" } },
  { match: { status: [400, 499] }, result: { class: "protocol" } },
  // An unfollowed redirect: the check points at the wrong URL.
  { match: { status: [300, 399] }, result: { class: "protocol" } },
  { match: { status: [100, 199] }, result: { class: "protocol", side: "provider" } },
];

function statusVerdict(facts: HttpFacts): Verdict | undefined {
  const status = facts.status;
  if (status === undefined) return undefined;
  return HTTP_STATUS_RULES.find(
    ({ match: m }) =>
      status >= m.status[0] &&
      status <= m.status[1] &&
      (m.hasRetryAfter === undefined || m.hasRetryAfter === facts.hasRetryAfter) &&
      (m.hasRateLimitHeaders === undefined || m.hasRateLimitHeaders === facts.hasRateLimitHeaders),
  )?.result;
}

interface ProviderVerdict {
  readonly verdict: Verdict;
  /** The code only says "something failed" (GENERIC_SERVER_CODES): a transient status decides over it. */
  readonly isGeneric: boolean;
}

/** The provider-specific verdict, in precedence order: AADSTS, Slack error, OAuth error, Graph error code. */
function providerVerdict(facts: HttpFacts): ProviderVerdict | undefined {
  const lookups: { key: string; verdict: Verdict | undefined }[] = [];
  if (facts.aadsts !== undefined) lookups.push({ key: "", verdict: AADSTS_CODES.get(facts.aadsts) });
  if (facts.slackError !== undefined) {
    const key = facts.slackError.toLowerCase();
    lookups.push({ key, verdict: SLACK_ERRORS.get(key) });
  }
  if (facts.oauthError !== undefined) {
    const key = facts.oauthError.toLowerCase();
    lookups.push({ key, verdict: ENTRA_ERRORS.get(key) });
  }
  for (const c of facts.graphCodes) {
    const key = c.toLowerCase();
    lookups.push({ key, verdict: GRAPH_CODES.get(key) });
  }
  const found = lookups.find((l) => l.verdict !== undefined);
  return found?.verdict === undefined
    ? undefined
    : { verdict: found.verdict, isGeneric: GENERIC_SERVER_CODES.has(found.key) };
}

/** Classes of a status that means "come back later": they decide over a generic provider code. */
const TRANSIENT_STATUS_CLASSES: ReadonlySet<string> = new Set(["unavailable", "throttled", "timeout"]);

function decide(facts: HttpFacts): Verdict | undefined {
  const provider = providerVerdict(facts);
  const status = statusVerdict(facts);
  if (provider === undefined) return status;
  if (provider.isGeneric && status !== undefined && TRANSIENT_STATUS_CLASSES.has(status.class)) return status;
  return provider.verdict;
}

/**
 * The bounded `code`: an AADSTS code, else a known Slack error, else the HTTP status (except a 2xx on a failure, which
 * says nothing), else `other` when anything was there, else `none`. Provider codes come before the status because they
 * say more: `AADSTS50126` and `AADSTS90033` both arrive as 400/500.
 */
function codeFor(facts: HttpFacts): string {
  if (facts.aadsts !== undefined) return `AADSTS${facts.aadsts}`;
  const slack = facts.slackError?.toLowerCase();
  if (slack !== undefined && SLACK_ERRORS.has(slack)) return slack;
  if (facts.status !== undefined && (facts.status < 200 || facts.status > 299)) return String(facts.status);
  const hasAnything =
    facts.hasInvalidStatus ||
    facts.hasBody ||
    facts.slackError !== undefined ||
    facts.oauthError !== undefined ||
    facts.graphCodes.length > 0 ||
    facts.status !== undefined;
  return hasAnything ? "other" : "none";
}

/** Classifies an HTTP / Graph / Slack / Entra response. */
export function classifyHttp(
  protocol: "http" | "graph" | "slack" | "entra",
  input: { status?: unknown; headers?: unknown; body?: unknown },
): Classification {
  const facts = readHttpFacts(input);
  const hasErrorBody =
    facts.slackOk === false ||
    facts.graphCodes.length > 0 ||
    facts.oauthError !== undefined ||
    (facts.slackError !== undefined && facts.slackOk !== true);
  const isSuccessStatus = facts.status !== undefined && facts.status >= 200 && facts.status <= 299;
  if (isSuccessStatus && !hasErrorBody) {
    // A 2xx whose JSON is cut or garbled is the provider's malformed output for the API kinds; plain HTTP checks
    // judge bodies with assertions instead.
    if (facts.isMalformedJson && protocol !== "http")
      return fromVerdict({ class: "protocol", side: "provider" }, "other");
    return positive(String(facts.status));
  }
  const code = codeFor(facts);
  const verdict = decide(facts);
  if (verdict !== undefined) return fromVerdict(verdict, code);
  if (facts.hasInvalidStatus) return fromVerdict({ class: "protocol", side: "provider" }, code);
  return { ...unknownResult("none"), code };
}
