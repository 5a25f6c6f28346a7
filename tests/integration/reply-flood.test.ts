import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { imapKind } from "../../probes/imap.js";
import { smtpKind } from "../../probes/smtp.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { closeAfterEach } from "../helpers/lifecycle.js";
import { runProbe } from "../helpers/run-probe.js";
import { startRawServer } from "../helpers/smtp-test-server.js";

const keep = closeAfterEach();
/** The default check timeout: a flood must fail as protocol well before it. */
const TIMEOUT_MS = 10_000;

/** Writes `line` every 20 ms until the peer goes: a reply that never ends and never trips a size cap. */
function drip(socket: Socket, line: string): void {
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write(line);
  }, 20);
  socket.once("close", () => clearInterval(timer));
}

function expectProtocol(run: { error: unknown; elapsedMs: number }, phase: string): void {
  expect(run.error).toBeInstanceOf(ProbeError);
  const error = run.error as ProbeError;
  expect(error.facts).toEqual({ protocol: "probe", input: { class: "protocol" } });
  expect(error.phase).toBe(phase);
  expect(run.elapsedMs).toBeLessThan(TIMEOUT_MS / 2);
}

describe("an endless multi-line reply is a protocol failure well before the deadline (issue 8, item 12c)", () => {
  it("SMTP: a greeting whose 220- lines keep coming", async () => {
    const server = keep(await startRawServer((socket) => drip(socket, "220-still greeting\r\n")));
    expectProtocol(await runProbe(smtpKind, { tls: "none" }, { port: server.port }, TIMEOUT_MS), "banner");
  });

  it("IMAP: untagged responses to LOGIN that keep coming", async () => {
    const server = keep(
      await startRawServer((socket) => {
        socket.write("* OK [CAPABILITY IMAP4rev1] hi\r\n");
        const lines = createInterface({ input: socket, crlfDelay: Infinity });
        lines.on("error", () => undefined);
        lines.once("line", () => drip(socket, "* OK still thinking\r\n"));
      }),
    );
    const settings = {
      tls: "none",
      allow_plaintext_auth: true,
      auth: { mechanism: "login", user: "probe", password: "${env:HOME}" },
    };
    expectProtocol(await runProbe(imapKind, settings, { port: server.port }, TIMEOUT_MS), "auth");
  });
});
