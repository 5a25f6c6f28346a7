/** Only this many characters of a reply, response, message or body are read: classification stays cheap and linear. */
export const MAX_TEXT_CHARS = 65_536;
/** Only this many lines of a multi-line reply are read. */
export const MAX_LINES = 512;

/** A string fact as text: strings as they are (clipped), finite numbers as decimals, anything else empty. */
export function asText(value: unknown): string {
  if (typeof value === "string") return value.length > MAX_TEXT_CHARS ? value.slice(0, MAX_TEXT_CHARS) : value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return "";
}

/** Splits on CRLF, LF or lone CR, keeping at most MAX_LINES lines. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/, MAX_LINES);
}

/** Reads an own property without trusting the object: getters that throw, proxies and non-objects give undefined. */
export function prop(value: unknown, key: string): unknown {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  try {
    return Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  } catch {
    return undefined;
  }
}

/** Like `prop` but also reads inherited properties (an error's `name` lives on its prototype). */
export function inheritedProp(value: unknown, key: string): unknown {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** True for a plain, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
