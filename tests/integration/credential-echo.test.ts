import { mkdtempSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ImapSession } from "../../probes/wire/imap/session.js";
import { imapSettingsSchema } from "../../probes/wire/imap/settings.js";
import { runSmtpSession } from "../../probes/wire/smtp/session.js";
import { smtpSettingsSchema } from "../../probes/wire/smtp/settings.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { describeFailure } from "../../src/runtime/runner.js";
import { closeAfterEach } from "../helpers/lifecycle.js";
import { leaksIn } from "../helpers/sentinel.js";
import { startRawServer, startScriptedServer } from "../helpers/smtp-test-server.js";
import { imapKind } from "../../probes/imap.js";
import { smtpKind } from "../../probes/smtp.js";
import { sessionIo } from "../helpers/run-probe.js";

// Printable ASCII with a quote, a backslash and spaces: IMAP sends it as a quoted string (`"S3ntinel\"PW\\91f …"`).
const SECRET = 'S3ntinel"PW\\91f echo me';
const USER = "probe@example.test";
const secrets = [{ secret: SECRET, user: USER }];
const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
let secretRef: string;
const keep = closeAfterEach();
// The union of both kinds' phases and facts: the same io serves the SMTP and the IMAP session here.
const io = () => ({
  ...sessionIo({ ...smtpKind, phases: [...smtpKind.phases, ...imapKind.phases], facts: smtpKind.facts }),
  signal: AbortSignal.timeout(3000),
});

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "sp-echo-"));
  writeFileSync(join(dir, "secret"), SECRET);
  secretRef = `\${file:${join(dir, "secret")}}`;
});

/** Everything a failure shows: message, facts, and the runner's one-line message. */
function shown(error: unknown): string {
  expect(error).toBeInstanceOf(ProbeError);
  const e = error as ProbeError;
  return [e.message, JSON.stringify(e.facts), describeFailure(e, false, undefined).message].join("\n");
}

/** An IMAP server answering LOGIN/AUTHENTICATE with `echo(line)` as its tagged NO text. */
async function imapEcho(echo: (line: string) => string) {
  return keep(
    await startRawServer((socket) => {
      socket.write("* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi\r\n");
      createInterface({ input: socket, crlfDelay: Infinity }).on("line", (line) => {
        const tag = line.split(" ")[0] ?? "*";
        socket.write(`${tag} NO [AUTHENTICATIONFAILED] ${echo(line)}\r\n`);
      });
    }),
  );
}

async function imapLoginError(port: number, mechanism: "login" | "xoauth2" = "login"): Promise<unknown> {
  const settings = imapSettingsSchema.parse({
    tls: "none",
    allow_plaintext_auth: true,
    auth:
      mechanism === "login"
        ? { mechanism, user: USER, password: secretRef }
        : { mechanism, user: USER, token: secretRef },
  });
  return ImapSession.open({ settings, host: "127.0.0.1", port, ...io() }).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe("a server echoing credentials back: no form reaches a failure", () => {
  it("IMAP LOGIN echoed whole, in IMAP-quoted form", async () => {
    const server = await imapEcho((line) => `you sent: ${line}`);
    const text = shown(await imapLoginError(server.port));
    expect(text).toContain("AUTHENTICATIONFAILED");
    expect(leaksIn(text, secrets)).toEqual([]);
  });

  it("IMAP LOGIN echoed in part", async () => {
    const server = await imapEcho((line) => `bad password ${line.slice(-14, -3)}`);
    expect(leaksIn(shown(await imapLoginError(server.port)), secrets)).toEqual([]);
  });

  it("IMAP XOAUTH2 payload echoed over two responses", async () => {
    const server = keep(
      await startRawServer((socket) => {
        socket.write("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi\r\n");
        createInterface({ input: socket, crlfDelay: Infinity }).on("line", (line) => {
          const [tag, , , payload = ""] = line.split(" ");
          socket.write(`* NO ${payload.slice(0, 30)}\r\n${tag} NO [AUTHENTICATIONFAILED] ${payload.slice(30)}\r\n`);
        });
      }),
    );
    expect(leaksIn(shown(await imapLoginError(server.port, "xoauth2")), secrets)).toEqual([]);
  });

  for (const mechanism of ["plain", "login"] as const) {
    it(`SMTP AUTH ${mechanism}: payload and decoded password echoed, split across reply lines`, async () => {
      const server = keep(
        await startScriptedServer("220 mx", (line) => {
          const verb = line.split(" ")[0]?.toUpperCase();
          if (verb === "EHLO") return "250-mx\n250 AUTH PLAIN LOGIN";
          if (verb === "QUIT") return "221 bye";
          if (verb === "AUTH" && line.split(" ").length === 2) return "334 VXNlcm5hbWU6";
          if (line === b64(USER)) return "334 UGFzc3dvcmQ6";
          const payload = line.split(" ").at(-1) ?? "";
          const decoded = Buffer.from(payload, "base64").toString("utf8");
          const quoted = `"${decoded.replace(/[\\"]/g, "\\$&")}"`;
          return `535-5.7.8 ${payload.slice(0, 13)}\n535-5.7.8 ${payload.slice(13)}\n535-5.7.8 ${quoted}\n535 5.7.8 ${decoded.slice(0, 11)}\n535 end`;
        }),
      );
      const settings = smtpSettingsSchema.parse({
        tls: "none",
        allow_plaintext_auth: true,
        auth: { mechanism, user: USER, password: secretRef },
      });
      const error = await runSmtpSession({ settings, host: "127.0.0.1", port: server.port, ...io() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const text = shown(error);
      expect(text).toContain("535");
      expect(leaksIn(text, secrets)).toEqual([]);
    });
  }
});
