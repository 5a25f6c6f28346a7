import { setTimeout as sleep } from "node:timers/promises";
import { errors as undiciErrors } from "undici";
import { describe, expect, it } from "vitest";
import { classifyFailure } from "../../src/core/classify.js";
import { ProbeError } from "../../src/core/probe-error.js";

/** A Node system error as libuv reports it (`code`, `errno`, `syscall`). */
function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: "connect" });
}

/** What fetch() throws: a TypeError whose `cause` is the real error. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError("fetch failed", { cause });
}

function wrap(error: unknown, times: number): unknown {
  let current = error;
  for (let i = 0; i < times; i++) current = new Error(`wrapper ${i}`, { cause: current });
  return current;
}

describe("classifyFailure", () => {
  it("classifies a ProbeError's facts", () => {
    const error = new ProbeError("RCPT refused", {
      phase: "rcpt",
      facts: { protocol: "smtp", input: { stage: "rcpt", reply: "451 4.3.2 Temporary server issue" } },
    });
    expect(classifyFailure(error)).toEqual({ class: "unavailable", retryable: true, side: "provider", code: "4.3.2" });
  });

  it("classifies the runner's deadline ProbeError as a timeout", () => {
    const error = new ProbeError("deadline", {
      phase: "data",
      facts: { protocol: "probe", input: { class: "timeout" } },
    });
    expect(classifyFailure(error)).toEqual({ class: "timeout", retryable: true, side: "network", code: "none" });
  });

  it("walks a fetch-failed TypeError to the Node error in its cause", () => {
    const error = fetchFailed(systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:443"));
    expect(classifyFailure(error)).toEqual({
      class: "connect",
      retryable: true,
      side: "network",
      code: "ECONNREFUSED",
    });
  });

  it("walks fetch-failed to undici's own errors", () => {
    expect(classifyFailure(fetchFailed(new undiciErrors.ConnectTimeoutError()))).toEqual({
      class: "timeout",
      retryable: true,
      side: "network",
      code: "UND_ERR_CONNECT_TIMEOUT",
    });
    expect(classifyFailure(fetchFailed(new undiciErrors.HeadersTimeoutError()))).toMatchObject({
      class: "timeout",
      side: "provider",
      code: "UND_ERR_HEADERS_TIMEOUT",
    });
    expect(classifyFailure(fetchFailed(new undiciErrors.SocketError("other side closed")))).toMatchObject({
      class: "connect",
      code: "UND_ERR_SOCKET",
    });
  });

  it("finds a ProbeError with facts deeper in the chain", () => {
    const inner = new ProbeError("login refused", {
      phase: "auth",
      facts: { protocol: "imap", input: { response: "A1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)" } },
    });
    const outer = new ProbeError("check failed", { phase: "auth" }, { cause: new Error("wrapped", { cause: inner }) });
    expect(classifyFailure(outer)).toMatchObject({ class: "auth", code: "AUTHENTICATIONFAILED" });
  });

  it("prefers the outer ProbeError's facts over a Node code in its cause", () => {
    const error = new ProbeError(
      "greeting was garbage",
      { phase: "banner", facts: { protocol: "probe", input: { class: "protocol" } } },
      { cause: systemError("ECONNRESET", "read ECONNRESET") },
    );
    expect(classifyFailure(error)).toMatchObject({ class: "protocol", side: "provider" });
  });

  it("looks past facts that classify as unknown to the cause", () => {
    const error = new ProbeError(
      "connection lost",
      { phase: "data", facts: { protocol: "smtp", input: { stage: "data", reply: "" } } },
      { cause: systemError("ECONNRESET", "read ECONNRESET") },
    );
    expect(classifyFailure(error)).toMatchObject({ class: "connect", code: "ECONNRESET" });
  });

  it("treats AbortError and TimeoutError as timeouts", async () => {
    const aborted: unknown = await sleep(10_000, undefined, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(classifyFailure(aborted)).toMatchObject({ class: "timeout", retryable: true });
    expect(classifyFailure(new DOMException("This operation was aborted", "AbortError"))).toEqual({
      class: "timeout",
      retryable: true,
      side: "network",
      code: "none",
    });
    const timedOut = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(classifyFailure(fetchFailed(timedOut))).toMatchObject({ class: "timeout", code: "none" });
  });

  it("is cycle-safe", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as Error & { cause?: unknown }).cause = b;
    expect(classifyFailure(a)).toEqual({ class: "unknown", retryable: false, side: "unknown", code: "none" });
    const self = new Error("self");
    (self as Error & { cause?: unknown }).cause = self;
    expect(classifyFailure(self).class).toBe("unknown");
  });

  it("follows the cause chain eight levels deep and no further", () => {
    const refused = systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:25");
    expect(classifyFailure(wrap(refused, 8)).class).toBe("connect");
    expect(classifyFailure(wrap(refused, 12)).class).toBe("unknown");
  });

  it("reads AggregateError members (happy eyeballs)", () => {
    const error = new AggregateError(
      [systemError("ETIMEDOUT", "connect ETIMEDOUT 2001:db8::1:993"), systemError("ETIMEDOUT", "connect ETIMEDOUT")],
      "",
    );
    expect(classifyFailure(error)).toMatchObject({ class: "timeout", code: "ETIMEDOUT" });
  });

  it("accepts a ProbeError-shaped object from another copy of the module", () => {
    const foreign = {
      name: "ProbeError",
      message: "x",
      facts: { protocol: "slack", input: { status: 200, body: { ok: false, error: "invalid_auth" } } },
    };
    expect(classifyFailure(foreign)).toMatchObject({ class: "auth", code: "invalid_auth" });
  });

  it("answers unknown for unrecognised errors, with `other` when a code was there", () => {
    expect(classifyFailure(systemError("ERR_SOMETHING_NEW", "new"))).toEqual({
      class: "unknown",
      retryable: false,
      side: "unknown",
      code: "other",
    });
    expect(classifyFailure(new Error("plain"))).toMatchObject({ class: "unknown", code: "none" });
    for (const thrown of ["boom", 42, null, undefined, Symbol("s"), () => 1]) {
      expect(classifyFailure(thrown)).toMatchObject({ class: "unknown", code: "none" });
    }
  });

  it("does not report a positive reply as the answer to a failure", () => {
    const error = new ProbeError("unexpected", {
      phase: "data",
      facts: { protocol: "smtp", input: { stage: "data", reply: "250 2.0.0 OK" } },
    });
    expect(classifyFailure(error)).toEqual({ class: "unknown", retryable: false, side: "unknown", code: "2.0.0" });
  });

  it("never throws on hostile errors", () => {
    const hostile = new Error("hostile");
    Object.defineProperty(hostile, "cause", {
      get() {
        throw new Error("no");
      },
    });
    Object.defineProperty(hostile, "code", {
      get() {
        throw new Error("no");
      },
    });
    expect(() => classifyFailure(hostile)).not.toThrow();
    expect(classifyFailure(hostile).class).toBe("unknown");
  });
});
