import { setTimeout as sleep } from "node:timers/promises";
import { MockAgent, errors as undiciErrors, fetch as undiciFetch } from "undici";
import { describe, expect, it } from "vitest";
import { classifyFailure } from "../../src/core/classify.js";
import { ProbeError } from "../../src/core/probe-error.js";

/** A Node system error as libuv reports it (`code`, `errno`, `syscall`). */
function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: "connect" });
}

/** The runtime constructors, where undici's type declarations lag behind lib/core/errors.js. */
const RuntimeErrors = undiciErrors as unknown as {
  AbortError: new () => Error;
  RequestRetryError: new (
    message: string,
    statusCode: number,
    options: { headers: Record<string, string>; data: { count: number } },
  ) => Error;
};

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

  it("classifies a probe's own rate-budget hold as throttled (so the scheduler holds the scope)", () => {
    const error = new ProbeError("read budget", {
      phase: "visible",
      facts: { protocol: "probe", input: { class: "throttled" } },
    });
    expect(classifyFailure(error)).toEqual({ class: "throttled", retryable: true, side: "provider", code: "none" });
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

  it("classifies undici's own error classes (the installed undici, real objects)", () => {
    const cases: [Error, string, string, boolean, string][] = [
      [new undiciErrors.BodyTimeoutError(), "timeout", "provider", true, "UND_ERR_BODY_TIMEOUT"],
      [
        new undiciErrors.ResponseContentLengthMismatchError(),
        "protocol",
        "provider",
        false,
        "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
      ],
      [
        new undiciErrors.RequestContentLengthMismatchError(),
        "protocol",
        "config",
        false,
        "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH",
      ],
      [new undiciErrors.ResponseExceededMaxSizeError(), "protocol", "provider", false, "UND_ERR_RES_EXCEEDED_MAX_SIZE"],
      [new undiciErrors.HeadersOverflowError(), "protocol", "provider", false, "UND_ERR_HEADERS_OVERFLOW"],
      [new undiciErrors.RequestAbortedError(), "timeout", "network", true, "UND_ERR_ABORTED"],
      [new RuntimeErrors.AbortError(), "timeout", "network", true, "UND_ERR_ABORT"],
      [new undiciErrors.ClientClosedError(), "connect", "network", true, "UND_ERR_CLOSED"],
      [new undiciErrors.ClientDestroyedError(), "connect", "network", true, "UND_ERR_DESTROYED"],
      [new undiciErrors.InformationalError("reset"), "connect", "network", true, "UND_ERR_INFO"],
      [new undiciErrors.InformationalError("No DNS entries found"), "dns", "config", false, "UND_ERR_INFO"],
      [new undiciErrors.NotSupportedError(), "config", "config", false, "UND_ERR_NOT_SUPPORTED"],
      [new undiciErrors.InvalidArgumentError("invalid method"), "config", "config", false, "UND_ERR_INVALID_ARG"],
      [new undiciErrors.MaxRedirectsError(), "protocol", "provider", false, "UND_ERR_REDIRECT_MAX"],
      [new undiciErrors.ProxyConnectionError(undefined), "connect", "network", true, "UND_ERR_PRX_CONN"],
      [new undiciErrors.SecureProxyConnectionError(undefined), "tls", "config", false, "UND_ERR_PRX_TLS"],
    ];
    for (const [error, cls, side, retryable, code] of cases) {
      expect(classifyFailure(fetchFailed(error)), code).toEqual({ class: cls, retryable, side, code });
    }
  });

  it("classifies undici errors that carry an HTTP response as that response", () => {
    const gateway = new undiciErrors.ResponseError("Response Error", 504, {
      headers: { "content-type": "application/json" },
      body: { error: { code: "UnknownError", message: "" } },
    });
    expect(classifyFailure(gateway)).toEqual({ class: "unavailable", retryable: true, side: "provider", code: "504" });
    const denied = new undiciErrors.ResponseError("Response Error", 403, {
      headers: {},
      body: { error: { code: "accessDenied" } },
    });
    expect(classifyFailure(denied)).toMatchObject({ class: "permission", code: "403" });
    const spent = new RuntimeErrors.RequestRetryError("Request failed", 429, {
      headers: { "retry-after": "30" },
      data: { count: 3 },
    });
    expect(classifyFailure(spent)).toEqual({ class: "throttled", retryable: true, side: "provider", code: "429" });
    // A resumed download that no longer matches, reported with its 206: not an HTTP failure.
    const mismatch = new RuntimeErrors.RequestRetryError("Content-Range mismatch", 206, {
      headers: {},
      data: { count: 1 },
    });
    expect(classifyFailure(mismatch)).toMatchObject({ class: "protocol", side: "provider", code: "UND_ERR_REQ_RETRY" });
    // undici ≤ 6's ResponseStatusCodeError had the same shape under another code.
    const legacy = Object.assign(new Error("Response status code 503: Service Unavailable"), {
      code: "UND_ERR_RESPONSE_STATUS_CODE",
      statusCode: 503,
      headers: { "retry-after": "5" },
      body: "",
    });
    expect(classifyFailure(legacy)).toMatchObject({ class: "unavailable", code: "503" });
  });

  it("lets a proxy wrapper's cause decide, and falls back to the wrapper", () => {
    const expired = systemError("CERT_HAS_EXPIRED", "certificate has expired");
    expect(classifyFailure(new undiciErrors.SecureProxyConnectionError(expired))).toMatchObject({
      class: "tls",
      side: "provider",
      code: "CERT_HAS_EXPIRED",
    });
    const refused = systemError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:3128");
    expect(classifyFailure(fetchFailed(new undiciErrors.ProxyConnectionError(refused)))).toMatchObject({
      class: "connect",
      code: "ECONNREFUSED",
    });
    const odd = systemError("ERR_SOMETHING_NEW", "new");
    expect(classifyFailure(new undiciErrors.SecureProxyConnectionError(odd))).toMatchObject({
      class: "tls",
      code: "UND_ERR_PRX_TLS",
    });
  });

  it("classifies fetch's redirect loop (a real MockAgent loop) as the provider's protocol failure", async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get("https://graph.example")
      .intercept({ path: "/loop" })
      .reply(302, "", { headers: { location: "https://graph.example/loop" } })
      .persist();
    const error: unknown = await undiciFetch("https://graph.example/loop", { dispatcher: agent }).catch(
      (e: unknown) => e,
    );
    await agent.close();
    expect(classifyFailure(error)).toEqual({ class: "protocol", retryable: false, side: "provider", code: "none" });
  });

  it("classifies local descriptor exhaustion as our side, not unknown or connect (issue 8 item 6)", () => {
    const emfile = Object.assign(new Error("EMFILE: too many open files, open '/etc/ssl/certs/ca.pem'"), {
      code: "EMFILE",
      errno: -24,
      syscall: "open",
    });
    expect(classifyFailure(emfile)).toEqual({ class: "config", retryable: true, side: "config", code: "EMFILE" });
    expect(classifyFailure(fetchFailed(systemError("ENFILE", "connect ENFILE")))).toMatchObject({
      class: "config",
      side: "config",
      code: "ENFILE",
    });
  });

  it("reads EAI_AGAIN as the network's resolver failing, ENOTFOUND as our name (issue 8 item 12)", () => {
    const again = Object.assign(new Error("getaddrinfo EAI_AGAIN graph.microsoft.com"), {
      code: "EAI_AGAIN",
      syscall: "getaddrinfo",
    });
    expect(classifyFailure(fetchFailed(again))).toEqual({
      class: "dns",
      retryable: true,
      side: "network",
      code: "EAI_AGAIN",
    });
    const missing = Object.assign(new Error("getaddrinfo ENOTFOUND graph.microsoft.example"), { code: "ENOTFOUND" });
    expect(classifyFailure(missing)).toEqual({ class: "dns", retryable: false, side: "config", code: "ENOTFOUND" });
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
