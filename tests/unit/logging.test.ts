import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { Secret } from "../../src/core/secret.js";
import { createLogger } from "../../src/logging.js";

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe("logger", () => {
  it("redacts passwords, tokens and Authorization headers, and prints Secret objects as <secret>", () => {
    const { lines, stream } = capture();
    process.env.SUITEPROBE_TEST_LOG_SECRET = "hunter2-log";
    try {
      const logger = createLogger("info", stream);
      logger.info(
        {
          password: "p1-plain",
          auth: { token: "t1-bearer", user: "probe" },
          request: { headers: { authorization: "Bearer t2-header" } },
          settings: { secret: new Secret("env", "SUITEPROBE_TEST_LOG_SECRET") },
        },
        "hello",
      );
    } finally {
      delete process.env.SUITEPROBE_TEST_LOG_SECRET;
    }
    const text = lines.join("");
    for (const leaked of ["p1-plain", "t1-bearer", "t2-header", "hunter2-log"]) expect(text).not.toContain(leaked);
    expect(text).toContain('"user":"probe"');
    expect(text).toContain("<redacted>");
  });

  it("honours the level", () => {
    const { lines, stream } = capture();
    const logger = createLogger("warn", stream);
    logger.info("quiet");
    logger.warn("loud");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"msg":"loud"');
  });
});
