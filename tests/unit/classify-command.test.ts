import { readFileSync } from "node:fs";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { MAX_LINE_BYTES, runClassifyCommand } from "../../src/classify-command.js";

const JAN22 = '{"protocol":"smtp","input":{"stage":"rcpt","reply":"451 4.3.2 Temporary server issue"}}';
const JAN22_OUT = { class: "unavailable", retryable: true, side: "provider", code: "4.3.2" };

async function run(chunks: (string | Buffer)[]): Promise<{ exitCode: number; lines: unknown[]; raw: string }> {
  const input = new PassThrough();
  const output = new PassThrough();
  output.setEncoding("utf8");
  let raw = "";
  output.on("data", (d: string) => {
    raw += d;
  });
  const done = runClassifyCommand(input, output);
  for (const chunk of chunks) input.write(chunk);
  input.end();
  const exitCode = await done;
  return {
    exitCode,
    raw,
    lines: raw
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as unknown),
  };
}

describe("runClassifyCommand", () => {
  it("answers the documented example", async () => {
    const { exitCode, raw } = await run([`${JAN22}\n`]);
    expect(raw).toBe(`${JSON.stringify(JAN22_OUT)}\n`);
    expect(exitCode).toBe(0);
  });

  it("writes one line per valid input line, in order, for every protocol", async () => {
    const input = [
      JAN22,
      '{"protocol":"imap","input":{"response":"a NO [OVERQUOTA] Sorry"}}',
      '{"protocol":"graph","input":{"status":429,"headers":{"Retry-After":"10"}}}',
      '{"protocol":"slack","input":{"status":200,"body":{"ok":false,"error":"invalid_auth"}}}',
      '{"protocol":"entra","input":{"status":400,"body":{"error":"invalid_grant","error_codes":[50126]}}}',
      '{"protocol":"http","input":{"status":503}}',
      '{"protocol":"net","input":{"code":"ENOTFOUND"}}',
      '{"protocol":"tls","input":{"code":"CERT_HAS_EXPIRED"}}',
      '{"protocol":"probe","input":{"class":"delivery"}}',
    ];
    const { exitCode, lines } = await run([input.join("\n") + "\n"]);
    expect(exitCode).toBe(0);
    expect(lines.map((l) => (l as { class: string }).class)).toEqual([
      "unavailable",
      "quota",
      "throttled",
      "auth",
      "auth",
      "unavailable",
      "dns",
      "tls",
      "delivery",
    ]);
  });

  it("answers the HTTP-API, undici and local-resource inputs of issues 8 and 9", async () => {
    const cases: [string, object][] = [
      [
        '{"protocol":"graph","input":{"status":503,"body":"{\\"error\\":{\\"code\\":\\"serviceNotAvailable\\"}}"}}',
        { class: "unavailable", retryable: true, side: "provider", code: "503" },
      ],
      [
        '{"protocol":"graph","input":{"status":504,"body":{"error":{"code":"UnknownError","message":""}}}}',
        { class: "unavailable", retryable: true, side: "provider", code: "504" },
      ],
      [
        '{"protocol":"graph","input":{"status":502,"body":"<html><body><h1>502 Bad Gateway</h1></body></html>"}}',
        { class: "unavailable", retryable: true, side: "provider", code: "502" },
      ],
      [
        '{"protocol":"http","input":{"status":500,"headers":{"Retry-After":"Thu, 22 Jan 2026 10:00:30 GMT"}}}',
        { class: "unavailable", retryable: true, side: "provider", code: "500" },
      ],
      [
        '{"protocol":"entra","input":{"status":401,"body":{"error":"invalid_client","error_codes":[7000222]}}}',
        { class: "auth", retryable: false, side: "config", code: "AADSTS7000222" },
      ],
      [
        '{"protocol":"slack","input":{"status":429,"headers":{"Retry-After":"30"},"body":{"ok":false,"error":"ratelimited"}}}',
        { class: "throttled", retryable: true, side: "provider", code: "ratelimited" },
      ],
      [
        '{"protocol":"slack","input":{"status":200,"body":{"ok":false,"error":"cant_delete_message"}}}',
        { class: "permission", retryable: false, side: "config", code: "cant_delete_message" },
      ],
      [
        '{"protocol":"net","input":{"code":"UND_ERR_HEADERS_TIMEOUT","message":"Headers Timeout Error"}}',
        { class: "timeout", retryable: true, side: "provider", code: "UND_ERR_HEADERS_TIMEOUT" },
      ],
      [
        '{"protocol":"net","input":{"code":"EMFILE","message":"EMFILE: too many open files"}}',
        { class: "config", retryable: true, side: "config", code: "EMFILE" },
      ],
      [
        '{"protocol":"net","input":{"message":"getaddrinfo EAI_AGAIN graph.microsoft.com"}}',
        { class: "dns", retryable: true, side: "network", code: "EAI_AGAIN" },
      ],
    ];
    const { exitCode, lines } = await run([cases.map(([line]) => line).join("\n") + "\n"]);
    expect(exitCode).toBe(0);
    expect(lines).toEqual(cases.map(([, answer]) => answer));
  });

  it("gives every corpus row its expected answer (the command runs the real classifier)", async () => {
    const rows = readFileSync(new URL("../fixtures/error-corpus.jsonl", import.meta.url), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { protocol: string; input: unknown; expect: unknown });
    const input = rows.map((r) => JSON.stringify({ protocol: r.protocol, input: r.input })).join("\n");
    const { exitCode, lines } = await run([`${input}\n`]);
    expect(exitCode).toBe(0);
    expect(lines).toEqual(rows.map((r) => r.expect));
  });

  it("reports a malformed line in place, keeps going, and exits 1", async () => {
    const input = [
      JAN22,
      "{not json",
      '{"protocol":"gopher","input":{}}',
      '{"protocol":"smtp","input":{"stage":"rcpt"}}',
      '{"protocol":"http","input":{"status":"503"}}',
      '{"protocol":"smtp"}',
      "[1,2,3]",
      '{"protocol":"probe","input":{"class":"nonsense"}}',
      JAN22,
    ].join("\n");
    const { exitCode, lines } = await run([input]);
    expect(lines).toEqual([
      JAN22_OUT,
      { error: "invalid JSON", line: 2 },
      { error: "unknown protocol", line: 3 },
      { error: "input.reply must be a string", line: 4 },
      { error: "input.status must be an integer", line: 5 },
      { error: "missing input", line: 6 },
      { error: "not a JSON object", line: 7 },
      { error: "input.class is not a probe class", line: 8 },
      JAN22_OUT,
    ]);
    expect(exitCode).toBe(1);
  });

  it("skips blank lines but counts them, and accepts CRLF and a missing final newline", async () => {
    const { exitCode, lines } = await run([`\n   \r\n${JAN22}\r\n\r\n{oops}\r\n${JAN22}`]);
    expect(lines).toEqual([JAN22_OUT, { error: "invalid JSON", line: 5 }, JAN22_OUT]);
    expect(exitCode).toBe(1);
  });

  it("exits 0 for empty input", async () => {
    expect(await run([])).toMatchObject({ exitCode: 0, raw: "" });
  });

  it("reassembles lines split across chunks, including inside a UTF-8 character", async () => {
    const line = Buffer.from('{"protocol":"smtp","input":{"stage":"rcpt","reply":"550 5.1.1 Empfänger unbekannt"}}\n');
    const chunks = [...line].map((byte) => Buffer.from([byte]));
    const { exitCode, lines } = await run(chunks);
    expect(exitCode).toBe(0);
    expect(lines).toEqual([{ class: "not_found", retryable: false, side: "config", code: "5.1.1" }]);
  });

  it("handles input that is not UTF-8 without throwing", async () => {
    const inString = Buffer.concat([
      Buffer.from('{"protocol":"smtp","input":{"stage":"rcpt","reply":"550 5.1.1 '),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]),
      Buffer.from('"}}\n'),
    ]);
    const garbage = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x0a]);
    const { exitCode, lines } = await run([inString, garbage, `${JAN22}\n`]);
    expect(lines).toEqual([
      { class: "not_found", retryable: false, side: "config", code: "5.1.1" },
      { error: "invalid JSON", line: 2 },
      JAN22_OUT,
    ]);
    expect(exitCode).toBe(1);
  });

  it("classifies long lines and rejects over-long ones in bounded memory", async () => {
    const long = JSON.stringify({
      protocol: "smtp",
      input: { stage: "rcpt", reply: `550 5.1.1 ${"x".repeat(500_000)}` },
    });
    const tooLong = `{"protocol":"smtp","input":{"stage":"rcpt","reply":"${"y".repeat(MAX_LINE_BYTES)}"}}`;
    const { exitCode, lines } = await run([`${long}\n`, tooLong.slice(0, 100), tooLong.slice(100), `\n${JAN22}\n`]);
    expect(lines).toEqual([
      { class: "not_found", retryable: false, side: "config", code: "5.1.1" },
      { error: "line too long", line: 2 },
      JAN22_OUT,
    ]);
    expect(exitCode).toBe(1);
  });

  it("respects backpressure on a slow output", async () => {
    const input = Readable.from([Array.from({ length: 200 }, () => JAN22).join("\n")]);
    const output = new PassThrough({ highWaterMark: 16 });
    const received: string[] = [];
    const done = runClassifyCommand(input, output);
    output.setEncoding("utf8");
    await new Promise((r) => setTimeout(r, 20));
    output.on("data", (d: string) => received.push(d));
    expect(await done).toBe(0);
    expect(received.join("").trim().split("\n")).toHaveLength(200);
  });

  it("resolves 1 instead of throwing when the input stream fails", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    output.setEncoding("utf8");
    let raw = "";
    output.on("data", (d: string) => (raw += d));
    const done = runClassifyCommand(input, output);
    input.write(`${JAN22}\n`);
    await new Promise((r) => setTimeout(r, 10));
    input.destroy(new Error("EIO"));
    expect(await done).toBe(1);
    expect(raw).toBe(`${JSON.stringify(JAN22_OUT)}\n`);
  });
});
