import { mkdtempSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { beforeAll, describe, expect, it } from "vitest";
import { imapKind } from "../../probes/imap.js";
import { imapSettingsSchema } from "../../probes/wire/imap/settings.js";
import { MAX_UNTAGGED_PER_COMMAND } from "../../probes/wire/imap/connection.js";
import { ImapSession } from "../../probes/wire/imap/session.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { runProbe, sessionIo } from "../helpers/run-probe.js";
import { startRawServer, type RawServer } from "../helpers/smtp-test-server.js";
import { closeAfterEach } from "../helpers/lifecycle.js";
import { within } from "../helpers/within.js";

const TOKEN = "ya29.secret-bearer-token";
const PASSWORD = 'pässwörd "quoted"';
let tokenRef: string;
let passwordRef: string;
const keep = closeAfterEach();

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "sp-imap-secrets-"));
  writeFileSync(join(dir, "token"), TOKEN);
  writeFileSync(join(dir, "password"), PASSWORD);
  tokenRef = `\${file:${join(dir, "token")}}`;
  passwordRef = `\${file:${join(dir, "password")}}`;
});

const CAPS = "IMAP4rev1 SASL-IR AUTH=XOAUTH2 IDLE UIDPLUS";
// Slack for a loaded machine on the hang guards below; the tighter timing contract is asserted on elapsedMs.
const GRACE_MS = 2000;

/** A scripted IMAP server: writes `greeting` (raw), then hands each received line to `answer`. */
async function imapServer(
  greeting: string,
  answer: (line: string, socket: Socket) => string | undefined = () => undefined,
): Promise<RawServer> {
  const server = await startRawServer((socket) => {
    socket.write(greeting);
    createInterface({ input: socket, crlfDelay: Infinity }).on("line", (line) => {
      const reply = answer(line, socket);
      if (reply !== undefined && !socket.destroyed) socket.write(reply);
    });
  });
  keep(server);
  return server;
}

/** Answers LOGIN/SELECT/LOGOUT like a well-behaved server. */
function polite(line: string): string | undefined {
  const [tag, verb] = line.split(" ");
  switch (verb?.toUpperCase()) {
    case "LOGIN":
    case "AUTHENTICATE":
      return `${tag} OK [CAPABILITY ${CAPS}] Logged in\r\n`;
    case "EXAMINE":
      return `* 0 EXISTS\r\n* OK [UIDNEXT 1] next\r\n${tag} OK [READ-ONLY] done\r\n`;
    case "LOGOUT":
      return `* BYE bye\r\n${tag} OK done\r\n`;
    default:
      return tag === undefined ? undefined : `${tag} BAD unexpected\r\n`;
  }
}

const xoauth2 = () => ({
  tls: "none",
  allow_plaintext_auth: true,
  auth: { mechanism: "xoauth2", user: "probe@example.test", token: tokenRef },
});

function errorOf(run: { error: unknown }): ProbeError {
  expect(run.error).toBeInstanceOf(ProbeError);
  return run.error as ProbeError;
}

describe("imap against hostile and scripted servers", () => {
  it("treats a non-IMAP greeting as a protocol failure in phase greeting", async () => {
    const server = await imapServer("HTTP/1.1 400 Bad Request\r\n\r\n");
    const error = errorOf(await runProbe(imapKind, xoauth2(), { port: server.port }));
    expect(error.phase).toBe("greeting");
    expect(error.facts).toEqual({ protocol: "probe", input: { class: "protocol" } });
  });

  it("reports a BYE greeting with the raw untagged line", async () => {
    const server = await imapServer("* BYE [UNAVAILABLE] Too many connections\r\n");
    const error = errorOf(await runProbe(imapKind, xoauth2(), { port: server.port }));
    expect(error.facts).toEqual({
      protocol: "imap",
      input: { response: "* BYE [UNAVAILABLE] Too many connections", stage: "greeting" },
    });
  });

  it("stops reading an endless line at the line cap", async () => {
    const server = await imapServer(`* OK ${"x".repeat(1024 * 1024 + 10)}`);
    const error = errorOf(await runProbe(imapKind, xoauth2(), { port: server.port }));
    expect(error.facts).toEqual({ protocol: "probe", input: { class: "protocol" } });
    expect(error.message).toMatch(/line longer than/);
  });

  it("stops an endless stream of untagged responses at the per-command cap, memory bounded", async () => {
    const server = await imapServer(`* OK [CAPABILITY ${CAPS}] ready\r\n`, (line, socket) => {
      const [tag, verb] = line.split(" ");
      if (verb?.toUpperCase() !== "EXAMINE") return polite(line);
      const flood = () => {
        // Tiny responses: the byte cap alone would let millions of them pile up in memory.
        while (!socket.destroyed && socket.write("* 1 RECENT\r\n".repeat(2000))) {
          /* until the kernel buffer fills */
        }
        if (!socket.destroyed) socket.once("drain", flood);
      };
      flood();
      return tag === undefined ? undefined : "";
    });
    const run = await runProbe(imapKind, xoauth2(), { port: server.port }, 10_000);
    const error = errorOf(run);
    expect(error.phase).toBe("select");
    expect(error.facts).toEqual({ protocol: "probe", input: { class: "protocol" } });
    expect(error.message).toBe(`more than ${MAX_UNTAGGED_PER_COMMAND} untagged responses to select`);
  });

  it("refuses an oversize literal before reading it", async () => {
    const server = await imapServer("* OK {999999999}\r\n");
    const run = await runProbe(imapKind, xoauth2(), { port: server.port });
    expect(errorOf(run).message).toMatch(/literal larger than/);
    expect(run.elapsedMs).toBeLessThan(1000);
  });

  it("destroys the socket when the deadline aborts a silent server", async () => {
    const server = await imapServer("");
    const run = await within(
      runProbe(imapKind, xoauth2(), { port: server.port }, 300),
      300 + GRACE_MS,
      "run against a silent server ends",
    );
    const error = errorOf(run);
    expect(error.phase).toBe("greeting");
    expect((error.cause as Error).name).toBe("TimeoutError");
    expect(run.elapsedMs).toBeLessThan(300 + 200);
    expect(server.connections).toHaveLength(1);
    await within(server.connections[0]!.closed, GRACE_MS, "silent server sees the socket closed");
  });

  it("authenticates with XOAUTH2 as a SASL initial response", async () => {
    let payload = "";
    const server = await imapServer(`* OK [CAPABILITY ${CAPS}] ready\r\n`, (line) => {
      const match = /^(\S+) AUTHENTICATE XOAUTH2 (\S+)$/.exec(line);
      if (match !== null) payload = Buffer.from(match[2] ?? "", "base64").toString();
      return polite(line);
    });
    const run = await runProbe(imapKind, xoauth2(), { port: server.port });
    expect(run.error).toBeUndefined();
    expect(payload).toBe(`user=probe@example.test\x01auth=Bearer ${TOKEN}\x01\x01`);
  });

  it("answers the XOAUTH2 error challenge with an empty line and reports the tagged NO", async () => {
    const lines: string[] = [];
    const server = await imapServer("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\r\n", (line) => {
      lines.push(line);
      const tag = lines[0]?.split(" ")[0] ?? "";
      if (/ CAPABILITY$/.test(line)) return `* CAPABILITY IMAP4rev1 AUTH=XOAUTH2\r\n${line.split(" ")[0]} OK done\r\n`;
      if (/ AUTHENTICATE XOAUTH2$/.test(line)) return "+ \r\n";
      if (line.startsWith("dXNlcj")) return `+ ${Buffer.from('{"status":"401"}').toString("base64")}\r\n`;
      if (line === "")
        return `${lines.find((l) => l.includes("AUTHENTICATE"))?.split(" ")[0] ?? tag} NO AUTHENTICATE failed.\r\n`;
      return undefined;
    });
    const run = await runProbe(imapKind, xoauth2(), { port: server.port });
    const error = errorOf(run);
    expect(error.phase).toBe("auth");
    expect(error.facts).toEqual({
      protocol: "imap",
      input: { response: expect.stringMatching(/^A\d+ NO AUTHENTICATE failed\.$/), stage: "auth" },
    });
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(lines.at(-1)).toBe("");
  });

  it("redacts a credential the server echoes back into its NO line", async () => {
    const server = await imapServer("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\r\n", (line) => {
      const [tag, , , initial] = line.split(" ");
      return `${tag} NO [AUTHENTICATIONFAILED] bad token ${TOKEN} in ${initial}\r\n`;
    });
    const error = errorOf(await runProbe(imapKind, xoauth2(), { port: server.port }));
    const response = (error.facts as { input: { response: string } }).input.response;
    expect(response).toMatch(/^A\d+ NO \[AUTHENTICATIONFAILED\] bad token <secret> in <secret>$/);
    expect(error.message).not.toContain(TOKEN);
  });

  it("sends an 8-bit password as a synchronising literal", async () => {
    let received = "";
    let loginTag = "";
    const server = await imapServer(`* OK [CAPABILITY IMAP4rev1] ready\r\n`, (line) => {
      const login = /^(\S+) LOGIN "probe" \{(\d+)\}$/.exec(line);
      if (login !== null) {
        loginTag = login[1] ?? "";
        return "+ go ahead\r\n";
      }
      if (loginTag !== "" && received === "") {
        received = line;
        return `${loginTag} OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in\r\n`;
      }
      return polite(line);
    });
    const settings = {
      tls: "none",
      allow_plaintext_auth: true,
      auth: { mechanism: "login", user: "probe", password: passwordRef },
    };
    const run = await runProbe(imapKind, settings, { port: server.port });
    expect(run.error).toBeUndefined();
    expect(received).toBe(PASSWORD);
  });

  it("refuses responses pipelined ahead of the STARTTLS handshake", async () => {
    const server = await imapServer("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", (line) => {
      const [tag] = line.split(" ");
      return line.endsWith("STARTTLS")
        ? `${tag} OK Begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] forged\r\n`
        : undefined;
    });
    const settings = { ...xoauth2(), tls: "starttls" };
    const error = errorOf(await runProbe(imapKind, settings, { port: server.port }));
    expect(error.phase).toBe("tls");
    expect(error.facts).toEqual({ protocol: "probe", input: { class: "protocol" } });
  });

  it("parses FETCH literals and LIST names through the session API", async () => {
    const header = "X-Suiteprobe-Id: sp-1\r\nSubject: a (b)\r\n folded\r\n\r\n";
    const server = await imapServer(`* OK [CAPABILITY ${CAPS} SPECIAL-USE] ready\r\n`, (line) => {
      const [tag, verb] = line.split(" ");
      if (verb === "UID" && line.includes("FETCH")) {
        const size = Buffer.byteLength(header);
        return `* 3 FETCH (UID 42 BODY[HEADER.FIELDS (X-SUITEPROBE-ID SUBJECT)] {${size}}\r\n${header})\r\n${tag} OK done\r\n`;
      }
      if (verb === "LIST")
        return `* LIST (\\HasNoChildren \\Junk) "/" "Junk E-mail"\r\n* LIST () "/" {5}\r\nIN"BX\r\n${tag} OK done\r\n`;
      return polite(line);
    });
    const settings = imapSettingsSchema.parse(xoauth2());
    const session = await ImapSession.open({
      settings,
      host: "127.0.0.1",
      port: server.port,
      // Bounded, so that a parser waiting for bytes that never come fails with a TimeoutError, not a test timeout.
      signal: AbortSignal.timeout(3000),
      ...sessionIo(imapKind),
    });
    try {
      const [message] = await session.fetchHeaders("1:*", true, ["X-SUITEPROBE-ID", "SUBJECT"]);
      expect(message?.uid).toBe(42);
      expect(message?.headers.get("x-suiteprobe-id")).toBe("sp-1");
      expect(message?.headers.get("subject")).toBe("a (b) folded");
      expect(await session.listFolders()).toEqual([
        { name: "Junk E-mail", attributes: ["\\hasnochildren", "\\junk"] },
        { name: 'IN"BX', attributes: [] },
      ]);
      await session.logout();
    } finally {
      session.close();
    }
  });
});
