import { PassThrough } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { LineReader, LineReaderError } from "../../probes/wire/transport/line-reader.js";

function rejection(promise: Promise<unknown>): Promise<LineReaderError> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(LineReaderError);
      return error as LineReaderError;
    },
  );
}

describe("LineReader", () => {
  it("splits CRLF and bare LF lines, across chunk boundaries", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream);
    stream.write("220-first\r");
    stream.write("\n220-sec");
    stream.write("ond\n220 third\r\n");
    expect(await reader.readLine()).toBe("220-first");
    expect(await reader.readLine()).toBe("220-second");
    expect(await reader.readLine()).toBe("220 third");
    expect(reader.bytesRead).toBe(33);
    expect(reader.hasBufferedData).toBe(false);
  });

  it("waits for a line that has not arrived yet", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream);
    const pending = reader.readLine();
    setTimeout(() => stream.write("250 later\r\n"), 10);
    expect(await pending).toBe("250 later");
  });

  it("fails a line over maxLineBytes even before its terminator arrives", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream, { maxLineBytes: 16 });
    stream.write("x".repeat(10));
    stream.write("x".repeat(10));
    const error = await rejection(reader.readLine());
    expect(error.reason).toBe("line_too_long");
  });

  it("accepts a line of exactly maxLineBytes and refuses one byte more", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream, { maxLineBytes: 8 });
    stream.write("12345678\r\n123456789\r\n");
    expect(await reader.readLine()).toBe("12345678");
    expect((await rejection(reader.readLine())).reason).toBe("line_too_long");
  });

  it("fails when the total exceeds maxTotalBytes, counting bytesAlreadyRead", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream, { maxTotalBytes: 100, bytesAlreadyRead: 90 });
    stream.write("250 0123456789\r\n");
    const error = await rejection(reader.readLine());
    expect(error.reason).toBe("too_many_bytes");
  });

  it("delivers complete lines before reporting an EOF as ECONNRESET", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream);
    stream.end("421 bye\r\npartial");
    expect(await reader.readLine()).toBe("421 bye");
    const error = await rejection(reader.readLine());
    expect(error.reason).toBe("closed");
    expect(error.code).toBe("ECONNRESET");
  });

  it("rejects with the stream error as cause and its code", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream);
    const pending = reader.readLine();
    const cause = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    stream.destroy(cause);
    const error = await rejection(pending);
    expect(error.reason).toBe("error");
    expect(error.code).toBe("ECONNRESET");
    expect(error.cause).toBe(cause);
  });

  it("rejects a pending read on abort with the signal's reason, dropping queued lines", async () => {
    const stream = new PassThrough();
    const controller = new AbortController();
    const reader = new LineReader(stream, { signal: controller.signal });
    const pending = reader.readLine();
    const reason = new DOMException("deadline", "TimeoutError");
    controller.abort(reason);
    const error = await rejection(pending);
    expect(error.reason).toBe("aborted");
    expect(error.cause).toBe(reason);
    stream.write("250 too late\r\n");
    expect((await rejection(reader.readLine())).reason).toBe("aborted");
  });

  it("rejects at once when the signal is already aborted", async () => {
    const reader = new LineReader(new PassThrough(), { signal: AbortSignal.abort("gone") });
    const error = await rejection(reader.readLine());
    expect(error.cause).toBe("gone");
  });

  it("reports unconsumed data and stops listening after detach", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream);
    stream.write("220 go ahead\r\n250 injected\r\n");
    expect(await reader.readLine()).toBe("220 go ahead");
    expect(reader.hasBufferedData).toBe(true);
    reader.detach();
    expect(stream.listenerCount("data")).toBe(0);
    expect(stream.listenerCount("error")).toBe(0);
  });

  it("builds no error on a detach nobody reads from; a read after it, or one waiting, still fails as closed", async () => {
    const built = vi.spyOn(LineReaderError, "detached");
    try {
      const stream = new PassThrough();
      const reader = new LineReader(stream);
      stream.write("250 ok\r\n");
      expect(await reader.readLine()).toBe("250 ok");
      reader.detach();
      expect(built).not.toHaveBeenCalled();
      const late = await rejection(reader.readLine());
      expect([late.reason, late.code]).toEqual(["closed", "ECONNRESET"]);
      expect(built).toHaveBeenCalledTimes(1);

      const waiting = new LineReader(new PassThrough());
      const pending = rejection(waiting.readLine());
      waiting.detach();
      expect((await pending).reason).toBe("closed");
      expect(built).toHaveBeenCalledTimes(2);
    } finally {
      built.mockRestore();
    }
  });

  it("still delivers complete lines queued before a detach", async () => {
    const stream = new PassThrough();
    const reader = new LineReader(stream);
    stream.write("220 a\r\n250 b\r\n");
    expect(await reader.readLine()).toBe("220 a");
    reader.detach();
    expect(await reader.readLine()).toBe("250 b");
    await rejection(reader.readLine());
  });

  it("refuses concurrent reads", async () => {
    const reader = new LineReader(new PassThrough());
    void reader.readLine().catch(() => undefined);
    await expect(reader.readLine()).rejects.toThrow(/concurrent/);
    reader.detach();
  });
});

describe("LineReader on a stream that is already gone", () => {
  it("rejects reads of a destroyed stream instead of hanging", async () => {
    const stream = new PassThrough();
    stream.destroy();
    const error = await rejection(new LineReader(stream).readLine());
    expect(error.reason).toBe("closed");
  });

  it("rejects reads of an errored stream with its error", async () => {
    const stream = new PassThrough();
    stream.on("error", () => {});
    const cause = Object.assign(new Error("boom"), { code: "EPIPE" });
    stream.destroy(cause);
    const error = await rejection(new LineReader(stream).readLine());
    expect(error.code).toBe("EPIPE");
  });
});
