import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classify, classifyFailure } from "../../src/core/classify.js";
import { IMAP_CODES } from "../../src/core/classify/imap.js";
import { KNOWN_NET_CODES } from "../../src/core/classify/net.js";
import { KNOWN_SLACK_ERRORS } from "../../src/core/classify/provider-codes.js";
import { ERROR_CLASSES, SIDES, type Classification, type ClassifyInput } from "../../src/core/taxonomy.js";

const CLASSES = new Set<string>([...ERROR_CLASSES, "ok"]);
const SIDE_VALUES = new Set<string>([...SIDES, "none"]);
/** The shapes a label value may take (a Prometheus label must stay bounded). */
const CODE_SHAPE =
  /^(?:[245]\.(?:0|[1-9]\d{0,2})\.(?:0|[1-9]\d{0,2})|[1-5]\d\d|AADSTS\d{1,8}|[A-Z][A-Z0-9_-]*|[a-z][a-z_]*)$/;
/** Codes that carry digits from the input by design; everything else must come from a fixed list. */
const PATTERN_CODE = /^(?:[245]\.(?:0|[1-9]\d{0,2})\.(?:0|[1-9]\d{0,2})|[1-5]\d\d|AADSTS\d{1,8})$/;
const FIXED_CODES = new Set<string>(["other", "none", ...IMAP_CODES, ...KNOWN_SLACK_ERRORS, ...KNOWN_NET_CODES]);
const PROTOCOLS = ["smtp", "imap", "http", "graph", "slack", "entra", "net", "tls", "probe"] as const;

function assertValid(result: Classification): void {
  expect(CLASSES.has(result.class), `class ${result.class}`).toBe(true);
  expect(typeof result.retryable).toBe("boolean");
  expect(SIDE_VALUES.has(result.side), `side ${result.side}`).toBe(true);
  expect(result.code).toMatch(CODE_SHAPE);
  expect(PATTERN_CODE.test(result.code) || FIXED_CODES.has(result.code), `code ${result.code}`).toBe(true);
  if (result.class === "ok") expect(result).toMatchObject({ retryable: false, side: "none" });
}

/** Any text: arbitrary code points (lone surrogates too), bytes read as latin1 or UTF-8, and reply-like strings. */
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("latin1")),
  fc.uint8Array({ maxLength: 300 }).map((b) => new TextDecoder("utf-8", { fatal: false }).decode(b)),
  fc
    .tuple(
      fc.integer({ min: 0, max: 999 }),
      fc.constantFrom(" ", "-", "", "\t"),
      fc.string({ maxLength: 20 }),
      fc.constantFrom("", "\r\n", "\n", "\r"),
    )
    .map(([c, sep, rest, eol]) => `${c}${sep}${rest}${eol}`),
  fc
    .array(fc.stringMatching(/^[0-9]{1,4}[ .-][0-9.]{0,12} ?[A-Za-z [\]#()]{0,20}$/), { maxLength: 6 })
    .map((lines) => lines.join("\r\n")),
);
const anyValue = fc.oneof(text, fc.jsonValue(), fc.anything());

const inputFor: Record<(typeof PROTOCOLS)[number], fc.Arbitrary<unknown>> = {
  smtp: fc.record({ stage: fc.oneof(text, fc.constantFrom("rcpt", "mail", "auth", "banner")), reply: text }),
  imap: fc.record({ response: text, stage: fc.option(text, { nil: undefined }) }, { requiredKeys: ["response"] }),
  http: fc.record({
    status: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double(), fc.constantFrom(200, 429, 503)),
    headers: fc.dictionary(text, text, { maxKeys: 5 }),
    body: anyValue,
  }),
  graph: fc.record({ status: fc.integer({ min: 100, max: 599 }), body: anyValue }),
  slack: fc.record({
    status: fc.integer({ min: 100, max: 599 }),
    body: fc.oneof(anyValue, fc.record({ ok: fc.boolean(), error: text })),
  }),
  entra: fc.record({
    status: fc.integer({ min: 100, max: 599 }),
    body: fc.oneof(
      anyValue,
      fc.record({ error: text, error_description: text, error_codes: fc.array(fc.oneof(fc.integer(), fc.double())) }),
    ),
  }),
  net: fc.record({ code: fc.option(text, { nil: undefined }), message: fc.option(text, { nil: undefined }) }),
  tls: fc.record({ code: fc.option(text, { nil: undefined }), message: fc.option(text, { nil: undefined }) }),
  probe: fc.record({ class: fc.oneof(text, fc.constantFrom("assertion", "delivery", "config")), code: text }),
};

describe("classify never throws and always answers inside the contract", () => {
  for (const protocol of PROTOCOLS) {
    it(`${protocol}: arbitrary well-shaped inputs`, () => {
      fc.assert(
        fc.property(inputFor[protocol], (input) => {
          assertValid(classify({ protocol, input } as ClassifyInput));
        }),
        { numRuns: 300 },
      );
    });

    it(`${protocol}: arbitrary values as input`, () => {
      fc.assert(
        fc.property(anyValue, (input) => {
          assertValid(classify({ protocol, input } as ClassifyInput));
        }),
      );
    });
  }

  it("arbitrary values as the whole ClassifyInput", () => {
    fc.assert(
      fc.property(anyValue, (input) => {
        assertValid(classify(input as ClassifyInput));
      }),
    );
  });

  it("is deterministic and does not mutate its input", () => {
    fc.assert(
      fc.property(fc.constantFrom(...PROTOCOLS), fc.jsonValue(), (protocol, input) => {
        const facts = { protocol, input } as ClassifyInput;
        const before = JSON.stringify(facts);
        const first = classify(facts);
        expect(classify(facts)).toEqual(first);
        expect(JSON.stringify(facts)).toBe(before);
      }),
    );
  });

  it("survives hostile objects: throwing getters and proxies", () => {
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error("boom");
        },
        has() {
          throw new Error("boom");
        },
        ownKeys() {
          throw new Error("boom");
        },
        getOwnPropertyDescriptor() {
          throw new Error("boom");
        },
      },
    );
    for (const protocol of PROTOCOLS) {
      assertValid(classify({ protocol, input: throwing } as unknown as ClassifyInput));
      assertValid(classify({ protocol, input: { status: 500, headers: throwing, body: throwing } } as ClassifyInput));
    }
    assertValid(classify(throwing as ClassifyInput));
    assertValid(classifyFailure(throwing));
  });

  it("never reports unknown free text as a code", () => {
    const token = fc.stringMatching(/^[a-z][a-z_]{2,30}$/).filter((t) => !FIXED_CODES.has(t));
    const upper = fc.stringMatching(/^[A-Z][A-Z_]{2,30}$/).filter((t) => !FIXED_CODES.has(t));
    fc.assert(
      fc.property(token, upper, (lower, caps) => {
        const results = [
          classify({ protocol: "slack", input: { status: 200, body: { ok: false, error: lower } } }),
          classify({ protocol: "slack", input: { status: 404, body: lower } }),
          classify({ protocol: "imap", input: { response: `a NO [${caps}] nope` } }),
          classify({ protocol: "net", input: { code: caps, message: `${caps} ${lower}` } }),
          classify({ protocol: "probe", input: { class: "config", code: caps } }),
          classify({ protocol: "graph", input: { status: 418, body: { error: { code: lower } } } }),
        ];
        for (const r of results) {
          expect(r.code).not.toBe(lower);
          expect(r.code).not.toBe(caps);
          assertValid(r);
        }
      }),
    );
  });

  it("reads only syntactically valid enhanced codes (RFC 3463 §2)", () => {
    const part = fc.oneof(fc.integer({ min: 0, max: 1200 }).map(String), fc.constantFrom("00", "01", "007", ""));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), part, part, (cls, subject, detail) => {
        const candidate = `${cls}.${subject}.${detail}`;
        const r = classify({ protocol: "smtp", input: { stage: "rcpt", reply: `550 ${candidate} text` } });
        const isValid = /^[245]\.(?:0|[1-9]\d{0,2})\.(?:0|[1-9]\d{0,2})$/.test(candidate);
        expect(r.code).toBe(isValid ? candidate : "550");
      }),
    );
  });

  it("keeps long and pathological inputs cheap", () => {
    const huge = [
      "550-".repeat(50_000),
      `550 ${"4.4.4.".repeat(20_000)}`,
      `${"5".repeat(200_000)} text`,
      `${" ".repeat(200_000)}550 x`,
      `a NO [${"A".repeat(100_000)}`,
      "E".repeat(200_000),
    ];
    const started = performance.now();
    for (const s of huge) {
      assertValid(classify({ protocol: "smtp", input: { stage: "rcpt", reply: s } }));
      assertValid(classify({ protocol: "imap", input: { response: s } }));
      assertValid(classify({ protocol: "net", input: { message: s } }));
      assertValid(classify({ protocol: "http", input: { status: 500, body: s } }));
    }
    // Generous bound: a catastrophic backtracking regex would take minutes, not seconds.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
