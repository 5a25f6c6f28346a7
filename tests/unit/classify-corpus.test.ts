import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { classify } from "../../src/core/classify.js";
import { ERROR_CLASSES, type Classification, type ClassifyInput } from "../../src/core/taxonomy.js";

interface CorpusEntry {
  source: string;
  protocol: ClassifyInput["protocol"];
  input: Record<string, unknown>;
  expect: Classification;
  note?: string;
}

const corpus: CorpusEntry[] = readFileSync(new URL("../fixtures/error-corpus.jsonl", import.meta.url), "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as CorpusEntry);

function clip(text: string, max = 70): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** A readable test name: protocol, stage and the start of what the server said. */
function title(entry: CorpusEntry, index: number): string {
  const i = entry.input;
  const str = (v: unknown): string => (typeof v === "string" ? v : (JSON.stringify(v) ?? ""));
  let what: string;
  switch (entry.protocol) {
    case "smtp":
      what = `${str(i.stage)}: ${clip(str(i.reply))}`;
      break;
    case "imap":
      what = `${i.stage === undefined ? "" : `${str(i.stage)}: `}${clip(str(i.response))}`;
      break;
    case "net":
    case "tls":
      what = clip(`${str(i.code ?? "")} ${str(i.message ?? "")}`);
      break;
    case "probe":
      what = str(i.class);
      break;
    default:
      what = `${str(i.status)} ${i.body === undefined ? "" : clip(str(i.body), 60)}`;
  }
  const e = entry.expect;
  return `#${index + 1} ${entry.protocol} ${what} → ${e.class}/${String(e.retryable)}/${e.side}/${e.code}`;
}

describe("error corpus (tests/fixtures/error-corpus.jsonl)", () => {
  it("has at least 150 sourced entries covering every class and protocol", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    expect(corpus.every((e) => e.source.trim() !== "")).toBe(true);
    const classes = new Set(corpus.map((e) => e.expect.class));
    for (const c of [...ERROR_CLASSES, "ok"]) expect(classes, `class ${c}`).toContain(c);
    const protocols = new Set(corpus.map((e) => e.protocol));
    for (const p of ["smtp", "imap", "http", "graph", "slack", "entra", "net", "tls", "probe"]) {
      expect(protocols, `protocol ${p}`).toContain(p);
    }
  });

  it("contains the 22 Jan case", () => {
    const jan22 = corpus.find(
      (e) => e.protocol === "smtp" && e.input.stage === "rcpt" && e.input.reply === "451 4.3.2 Temporary server issue",
    );
    expect(jan22?.expect).toEqual({ class: "unavailable", retryable: true, side: "provider", code: "4.3.2" });
  });

  corpus.forEach((entry, index) => {
    it(title(entry, index), () => {
      expect(classify({ protocol: entry.protocol, input: entry.input } as ClassifyInput)).toEqual(entry.expect);
    });
  });
});
