import { describe, expect, it } from "vitest";
import { Redactor } from "../../src/core/redactor.js";
import { leaksIn } from "../helpers/sentinel.js";

const SECRET = 'S3ntinel"PW\\91f ünï';
const USER = "probe@example.test";
const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
const plain = b64(`\0${USER}\0${SECRET}`);

function redactor(): Redactor {
  return new Redactor().addSecret(SECRET).addSent(plain);
}

describe("Redactor", () => {
  const cases: [string, string][] = [
    ["raw", `535 ${SECRET} rejected`],
    ["IMAP-quoted", `A2 NO LOGIN "probe" "${SECRET.replace(/[\\"]/g, "\\$&")}" failed`],
    ["base64", `535 5.7.8 ${b64(SECRET)}`],
    ["SASL PLAIN payload", `500 unrecognised: ${plain}`],
    ["JSON-escaped", `{"error":${JSON.stringify(SECRET)}}`],
    ["URL-encoded", `GET /?p=${encodeURIComponent(SECRET)}`],
    ["partial (first 12 characters)", `535 bad password ${SECRET.slice(0, 12)}`],
    ["split across SMTP reply lines", `535-5.7.8 ${plain.slice(0, 20)}\n535 5.7.8 ${plain.slice(20)}`],
    ["split across CRLF lines without a prefix", `* NO ${SECRET.slice(0, 9)}\r\n${SECRET.slice(9)}`],
  ];
  for (const [name, text] of cases) {
    it(`removes the ${name} form`, () => {
      expect(leaksIn(text, [{ secret: SECRET, user: USER }])).not.toEqual([]);
      const out = redactor().redact(text);
      expect(leaksIn(out, [{ secret: SECRET, user: USER }])).toEqual([]);
      expect(out).toContain("<secret>");
    });
  }

  it("leaves text without credentials unchanged", () => {
    const text = "535 5.7.8 Authentication credentials invalid\n250-PIPELINING";
    expect(redactor().redact(text)).toBe(text);
    expect(new Redactor().redact(text)).toBe(text);
  });

  it("keeps the text around a redacted echo", () => {
    expect(redactor().redact(`A1 NO [AUTHENTICATIONFAILED] ${SECRET} is wrong`)).toBe(
      "A1 NO [AUTHENTICATIONFAILED] <secret> is wrong",
    );
  });

  it("ignores forms under four characters rather than garbling every reply", () => {
    expect(new Redactor().addSent("ab").redact("abba")).toBe("abba");
  });
});
