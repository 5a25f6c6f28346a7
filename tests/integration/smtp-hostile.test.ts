import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { smtpKind } from "../../probes/smtp.js";
import { runSmtpSession, SmtpUncertainSendError } from "../../probes/wire/smtp/session.js";
import { smtpSettingsSchema } from "../../probes/wire/smtp/settings.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { runProbe, type ProbeRun, sessionIo } from "../helpers/run-probe.js";
import {
  startRawServer,
  startScriptedServer,
  startSmtpServer,
  writeEndlessReply,
  type RawServer,
  type ScriptAnswer,
  type TestSmtpServer,
} from "../helpers/smtp-test-server.js";
import { closeAfterEach } from "../helpers/lifecycle.js";
import { within } from "../helpers/within.js";

const PLAIN = { tls: "none" } as const;
const closeLater = closeAfterEach();

async function keep<T extends TestSmtpServer | RawServer>(server: Promise<T>): Promise<T> {
  return closeLater(await server);
}

function failure(run: ProbeRun): ProbeError {
  expect(run.error).toBeInstanceOf(ProbeError);
  return run.error as ProbeError;
}

const PROTOCOL = { protocol: "probe", input: { class: "protocol" } };

// Slack for a loaded machine on the hang guards below; the tighter timing contract is asserted on elapsedMs.
const GRACE_MS = 2000;

/** A well-behaved scripted exchange for a tls: none session with MAIL/RCPT. */
function politeAnswer(line: string): string | undefined {
  if (line.startsWith("EHLO")) return "250-mx.test\n250-PIPELINING\n250 8BITMIME";
  if (line.startsWith("MAIL") || line.startsWith("RCPT") || line === "RSET") return "250 ok";
  if (line === "QUIT") return "221 bye";
  return undefined;
}

describe("smtp: hostile and odd servers", () => {
  it("tarpit: fails at the deadline and the server sees its socket closed at once", async () => {
    const tarpit = await keep(startRawServer(() => {}));
    const run = await within(runProbe(smtpKind, PLAIN, { port: tarpit.port }, 300), 300 + GRACE_MS, "tarpit run ends");
    const endedAt = Date.now();
    const error = failure(run);
    expect(error.phase).toBe("banner");
    expect((error.cause as DOMException).name).toBe("TimeoutError");
    expect(run.elapsedMs).toBeLessThan(300 + 200);
    expect(tarpit.connections).toHaveLength(1);
    const closedAt = await within(tarpit.connections[0]!.closed, GRACE_MS, "tarpit sees the socket closed");
    // Measured from the end of the run, not its start, so that a slow connect on a loaded machine does not count.
    expect(closedAt - endedAt).toBeLessThan(200);
  });

  it("a banner delayed by 300 ms is timed into the banner phase", async () => {
    const mx = await keep(
      startSmtpServer({ disabledCommands: ["STARTTLS"], onConnect: (_s, callback) => setTimeout(callback, 300) }),
    );
    const run = await runProbe(smtpKind, PLAIN, { port: mx.port });
    expect(run.error).toBeUndefined();
    expect(run.phases.banner).toBeGreaterThanOrEqual(0.3);
  });

  it("garbage bytes instead of a greeting are a protocol failure", async () => {
    const raw = await keep(
      startRawServer((socket) => socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0xfc, 0x0d, 0x0a]))),
    );
    const error = failure(await runProbe(smtpKind, PLAIN, { port: raw.port }));
    expect(error.phase).toBe("banner");
    expect(error.facts).toEqual(PROTOCOL);
  });

  it("64 KiB without a line end is a protocol failure (line cap)", async () => {
    const raw = await keep(startRawServer((socket) => socket.write("220 " + "A".repeat(65536))));
    const error = failure(await runProbe(smtpKind, PLAIN, { port: raw.port }));
    expect(error.phase).toBe("banner");
    expect(error.facts).toEqual(PROTOCOL);
    expect(error.message).toMatch(/longer than 8192 bytes/);
  });

  it("an endless 250- reply fails fast on the line cap and the connection is dropped", async () => {
    const raw = await keep(
      startRawServer((socket) => {
        socket.write("220 mx ESMTP\r\n");
        socket.once("data", () => writeEndlessReply(socket));
      }),
    );
    const run = await within(runProbe(smtpKind, PLAIN, { port: raw.port }), 1000 + GRACE_MS, "endless reply run ends");
    const error = failure(run);
    expect(error.phase).toBe("ehlo");
    expect(error.facts).toEqual(PROTOCOL);
    expect(error.message).toMatch(/longer than 1000 lines/);
    expect(run.elapsedMs).toBeLessThan(1000);
    expect(raw.connections).toHaveLength(1);
    await within(raw.connections[0]!.closed, GRACE_MS, "server sees the socket dropped");
  });

  it("a multi-line reply of long lines fails on the 1 MiB session cap", async () => {
    const line = `220-${"x".repeat(8000)}\r\n`;
    const raw = await keep(startRawServer((socket) => socket.write(line.repeat(200))));
    const error = failure(await runProbe(smtpKind, PLAIN, { port: raw.port }));
    expect(error.phase).toBe("banner");
    expect(error.facts).toEqual(PROTOCOL);
    expect(error.message).toMatch(/more than 1048576 bytes/);
  });

  it("accepts a greeting line longer than 512 bytes", async () => {
    const mx = await keep(startSmtpServer({ disabledCommands: ["STARTTLS"], banner: "b".repeat(600) }));
    const run = await runProbe(smtpKind, { ...PLAIN, expect_banner: "b{600}$" }, { port: mx.port });
    expect(run.error).toBeUndefined();
  });

  it("speaks to a server with \\n-only line ends and multi-line replies without enhanced codes", async () => {
    const raw = await keep(startScriptedServer("220-mx.test first line\n220 second line", politeAnswer, "\n"));
    const run = await runProbe(
      smtpKind,
      { ...PLAIN, mail_from: "a@example.test", rcpt_to: "b@example.test", expect_banner: "first line\\n220 second" },
      { port: raw.port },
    );
    expect(run.error).toBeUndefined();
    expect(Object.keys(run.phases)).toEqual(["connect", "banner", "ehlo", "mail", "rcpt", "quit"]);
    expect(run.facts.smtp_reply_code).toBe(221);
  });

  it("a 421 in the middle of the session is reported with its stage", async () => {
    const raw = await keep(
      startScriptedServer("220 mx", (line) =>
        line.startsWith("MAIL") ? "421 4.7.0 Too many connections" : politeAnswer(line),
      ),
    );
    const run = await runProbe(smtpKind, { ...PLAIN, mail_from: "a@example.test" }, { port: raw.port });
    const error = failure(run);
    expect(error.phase).toBe("mail");
    expect(error.facts).toEqual({
      protocol: "smtp",
      input: { stage: "mail", reply: "421 4.7.0 Too many connections" },
    });
  });

  it("connection refused: ECONNREFUSED in the cause, no facts", async () => {
    const closed = createServer();
    const port = await new Promise<number>((resolve) =>
      closed.listen(0, "127.0.0.1", () => resolve((closed.address() as { port: number }).port)),
    );
    await new Promise((resolve) => closed.close(resolve));
    const error = failure(await runProbe(smtpKind, PLAIN, { port }));
    expect(error.phase).toBe("connect");
    expect(error.facts).toBeUndefined();
    expect((error.cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it.each([
    ["closes (EOF)", "end"],
    ["resets (RST)", "reset"],
  ] as const)("a server that %s without a greeting: ECONNRESET in the cause", async (_name, how) => {
    // After a pause, so that the RST cannot overtake the client's connect completion (then it is a connect failure).
    const raw = await keep(
      startRawServer((socket) => setTimeout(() => (how === "end" ? socket.end() : socket.resetAndDestroy()), 50)),
    );
    const error = failure(await runProbe(smtpKind, PLAIN, { port: raw.port }));
    expect(error.phase).toBe("banner");
    expect(error.facts).toBeUndefined();
    expect((error.cause as { code?: string }).code).toBe("ECONNRESET");
  });

  it("says QUIT once at the end of a good session, and before closing after a refusal", async () => {
    const received: string[] = [];
    const raw = await keep(
      startScriptedServer("220 mx", (line) => {
        received.push(line);
        return line.startsWith("RCPT") && received.length > 4 ? "550 5.1.1 no such user" : politeAnswer(line);
      }),
    );
    const settings = { ...PLAIN, mail_from: "a@example.test", rcpt_to: "b@example.test" };
    expect((await runProbe(smtpKind, settings, { port: raw.port })).error).toBeUndefined();
    await within(raw.connections[0]!.closed, GRACE_MS, "socket closed after QUIT");
    expect(received).toEqual([
      "EHLO suiteprobe.invalid",
      "MAIL FROM:<a@example.test>",
      "RCPT TO:<b@example.test>",
      "RSET",
      "QUIT",
    ]);
    received.length = 0;
    received.push("x", "x", "x", "x", "x");
    const error = failure(await runProbe(smtpKind, settings, { port: raw.port }));
    expect(error.phase).toBe("rcpt");
    await within(raw.connections[1]!.closed, GRACE_MS, "socket closed after the refusal");
    expect(received.slice(5)).toEqual([
      "EHLO suiteprobe.invalid",
      "MAIL FROM:<a@example.test>",
      "RCPT TO:<b@example.test>",
      "QUIT",
    ]);
  });

  it("tolerates a server that closes instead of answering QUIT", async () => {
    const raw = await keep(
      startScriptedServer("220 mx", (line) => (line === "QUIT" ? { action: "close" } : politeAnswer(line))),
    );
    const run = await runProbe(smtpKind, PLAIN, { port: raw.port });
    expect(run.error).toBeUndefined();
  });
});

describe("smtp: phase timing", () => {
  it("counts the wait for a slow banner under banner, not connect", async () => {
    const delayMs = 150;
    const raw = await keep(
      startRawServer((socket) => {
        setTimeout(() => {
          if (socket.destroyed) return;
          socket.write("220 mx slow\r\n");
          socket.on("data", (d: Buffer) => {
            const line = d.toString();
            if (line.startsWith("EHLO")) socket.write("250 mx\r\n");
            else if (line.startsWith("QUIT")) socket.end("221 bye\r\n");
          });
        }, delayMs);
      }),
    );
    const run = await runProbe(smtpKind, PLAIN, { port: raw.port });
    expect(run.error).toBeUndefined();
    // The TCP handshake completes before the server's accept callback even runs: connect holds none of the delay.
    expect(run.phases.banner).toBeGreaterThanOrEqual((delayMs - 2) / 1000);
    expect(run.phases.connect).toBeLessThan(delayMs / 2 / 1000);
  });
});

describe("smtp: uncertain sends", () => {
  /** The session's error (undefined on success) and how long the session took. */
  async function sendTo(answerToDot: ScriptAnswer, timeoutMs: number): Promise<{ error: unknown; elapsedMs: number }> {
    let isInData = false;
    const raw = await keep(
      startScriptedServer("220 mx", (line) => {
        if (isInData) return line === "." ? answerToDot : undefined;
        if (line === "DATA") {
          isInData = true;
          return "354 go ahead";
        }
        return politeAnswer(line);
      }),
    );
    const settings = smtpSettingsSchema.parse({ ...PLAIN, mail_from: "a@example.test", rcpt_to: "b@example.test" });
    const started = performance.now();
    const session = runSmtpSession({
      settings,
      host: "127.0.0.1",
      port: raw.port,
      signal: AbortSignal.timeout(timeoutMs),
      ...sessionIo(smtpKind),
      message: { id: "rt-42", subject: "rt-42" },
    });
    // A session that ignored its signal would otherwise only show as a test timeout.
    const error = await within(
      session.then(
        () => undefined,
        (caught: unknown) => caught,
      ),
      timeoutMs + GRACE_MS,
      "SMTP session ends",
    );
    return { error, elapsedMs: performance.now() - started };
  }

  it("a reset after the message body, before the reply, is an SmtpUncertainSendError", async () => {
    const { error, elapsedMs } = await sendTo({ action: "reset" }, 3000);
    expect(error).toBeInstanceOf(SmtpUncertainSendError);
    // The reset ends the session at once, long before the deadline.
    expect(elapsedMs).toBeLessThan(1000);
    expect((error as SmtpUncertainSendError).phase).toBe("data");
    expect((error as SmtpUncertainSendError).id).toBe("rt-42");
    expect(((error as SmtpUncertainSendError).cause as { code?: string }).code).toBe("ECONNRESET");
  });

  it("a deadline after the message body, before the reply, is an SmtpUncertainSendError caused by the abort", async () => {
    const { error, elapsedMs } = await sendTo(undefined, 400);
    expect(error).toBeInstanceOf(SmtpUncertainSendError);
    expect((error as SmtpUncertainSendError).phase).toBe("data");
    expect(((error as SmtpUncertainSendError).cause as DOMException).name).toBe("TimeoutError");
    expect(elapsedMs).toBeGreaterThanOrEqual(400 - 5);
    expect(elapsedMs).toBeLessThan(400 + 200);
  });
});
