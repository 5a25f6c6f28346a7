/** Longest wait a Retry-After may impose by default, in seconds: a hostile or broken header must not silence a check. */
export const DEFAULT_RETRY_AFTER_CAP_SECONDS = 3600;

/** RFC 9110 §10.2.3 delay-seconds: `1*DIGIT`. Leading zeros are allowed; signs, fractions and spaces inside are not. */
const DELAY_SECONDS = /^\d{1,15}$/;
/** IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 §5.6.7 requires senders to use. */
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
/** The obsolete forms recipients must still accept (RFC 9110 §5.6.7): RFC 850 and asctime. */
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

function parseHttpDate(text: string): number | undefined {
  let ms: number;
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) {
    ms = Date.parse(text);
  } else if (ASCTIME_DATE.test(text)) {
    // asctime carries no zone; HTTP dates are always UTC.
    ms = Date.parse(`${text} GMT`);
  } else {
    return undefined;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Parses one Retry-After value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) into whole seconds to wait from
 * `nowMs`, clamped to `[0, capSeconds]`; a date in the past gives 0. Returns undefined for anything else (empty,
 * negative, fractional, malformed), so the caller can fall back to its own backoff. Pure: the clock is a parameter.
 */
export function parseRetryAfter(
  value: unknown,
  nowMs: number,
  capSeconds: number = DEFAULT_RETRY_AFTER_CAP_SECONDS,
): number | undefined {
  if (typeof value !== "string" || value.length > 64) return undefined;
  const text = value.trim();
  const cap = Math.max(0, Math.floor(capSeconds));
  if (DELAY_SECONDS.test(text)) return Math.min(Number(text), cap);
  const at = parseHttpDate(text);
  if (at === undefined || !Number.isFinite(nowMs)) return undefined;
  return Math.min(Math.max(0, Math.ceil((at - nowMs) / 1000)), cap);
}

/**
 * Reads Retry-After from a response's headers (any name case; an array value as undici gives for repeated headers uses
 * the first) and parses it with `parseRetryAfter`. Returns undefined when there is none or it is malformed.
 */
export function retryAfterSeconds(
  headers: unknown,
  nowMs: number,
  capSeconds: number = DEFAULT_RETRY_AFTER_CAP_SECONDS,
): number | undefined {
  if (typeof headers !== "object" || headers === null) return undefined;
  let value: unknown;
  try {
    const key = Object.keys(headers)
      .slice(0, 256)
      .find((k) => k.toLowerCase() === "retry-after");
    if (key === undefined) return undefined;
    value = (headers as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
  const first: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  return parseRetryAfter(first, nowMs, capSeconds);
}
