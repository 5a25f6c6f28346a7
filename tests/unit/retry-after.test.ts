import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_AFTER_CAP_SECONDS, parseRetryAfter, retryAfterSeconds } from "../../src/core/retry-after.js";

const NOW = Date.parse("2026-01-22T10:00:00Z");

describe("parseRetryAfter (RFC 9110 §10.2.3)", () => {
  it.each([
    ["0", 0],
    ["10", 10],
    [" 120 ", 120],
    ["007", 7],
  ])("reads delay-seconds %j as %d", (value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });

  it("reads the three HTTP-date forms relative to now, rounding up", () => {
    expect(parseRetryAfter("Thu, 22 Jan 2026 10:00:30 GMT", NOW)).toBe(30);
    expect(parseRetryAfter("Thursday, 22-Jan-26 10:01:00 GMT", NOW)).toBe(60);
    expect(parseRetryAfter("Thu Jan 22 10:02:00 2026", NOW)).toBe(120);
    expect(parseRetryAfter("Thu, 22 Jan 2026 10:00:00 GMT", NOW - 1)).toBe(1);
  });

  it("gives 0 for a date in the past", () => {
    expect(parseRetryAfter("Wed, 21 Jan 2026 10:00:00 GMT", NOW)).toBe(0);
  });

  it("caps long waits", () => {
    expect(parseRetryAfter("999999999", NOW)).toBe(DEFAULT_RETRY_AFTER_CAP_SECONDS);
    expect(parseRetryAfter("600", NOW, 300)).toBe(300);
    expect(parseRetryAfter("Fri, 01 Jan 2100 00:00:00 GMT", NOW, 900)).toBe(900);
  });

  it.each(["", "-5", "1.5", "+3", "soon", "10 s", "Thu, 22 Jan 2026 10:00:30 PST", "2026-01-22T10:00:30Z", "1e3"])(
    "rejects %j",
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );

  it("rejects non-strings and overlong values", () => {
    for (const value of [undefined, null, 10, ["10"], {}]) expect(parseRetryAfter(value, NOW)).toBeUndefined();
    expect(parseRetryAfter("1".repeat(65), NOW)).toBeUndefined();
  });
});

describe("retryAfterSeconds", () => {
  it("finds the header in any case and takes the first of repeated values", () => {
    expect(retryAfterSeconds({ "Retry-After": "5" }, NOW)).toBe(5);
    expect(retryAfterSeconds({ "retry-after": ["7", "9"] }, NOW)).toBe(7);
    expect(retryAfterSeconds({ "RETRY-AFTER": "Thu, 22 Jan 2026 10:00:10 GMT" }, NOW)).toBe(10);
  });

  it("answers undefined without a usable header", () => {
    expect(retryAfterSeconds({ "content-type": "application/json" }, NOW)).toBeUndefined();
    expect(retryAfterSeconds({ "retry-after": "later" }, NOW)).toBeUndefined();
    expect(retryAfterSeconds(undefined, NOW)).toBeUndefined();
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("boom");
        },
      },
    );
    expect(retryAfterSeconds(hostile, NOW)).toBeUndefined();
  });
});
