import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runSmtpSession } from "../../probes/wire/smtp/session.js";
import { smtpSettingsSchema } from "../../probes/wire/smtp/settings.js";
import { ImapSession } from "../../probes/wire/imap/session.js";
import { imapSettingsSchema } from "../../probes/wire/imap/settings.js";
import { closeAfterEach } from "../helpers/lifecycle.js";
import { capturingLogger, leaksIn } from "../helpers/sentinel.js";
import { startScriptedServer, startRawServer } from "../helpers/smtp-test-server.js";
import { createInterface } from "node:readline";
import { imapKind } from "../../probes/imap.js";
import { smtpKind } from "../../probes/smtp.js";
import { sessionIo } from "../helpers/run-probe.js";

// Quotes, backslashes, non-ASCII and spaces: each breaks a different naive redaction.
const SECRET = 'S3ntinel"PW\\91f ünï code';
const USER = "probe@example.test";
const secrets = [{ secret: SECRET, user: USER }];
let secretRef: string;
const keep = closeAfterEach();

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "sp-credlog-"));
  writeFileSync(join(dir, "secret"), SECRET);
  secretRef = `\${file:${join(dir, "secret")}}`;
});

/** An SMTP server that accepts every AUTH step with the given final code. */
function smtpServer(finalReply: string) {
  let isInAuth = false;
  return startScriptedServer("220 mx ready", (line) => {
    const verb = line.split(" ")[0]?.toUpperCase();
    if (isInAuth) {
      // AUTH LOGIN: the user, then the password, each on its own line.
      if (line !== "*" && !line.includes("=") && line.length > 0 && verb !== "QUIT") {
        return line === Buffer.from(USER).toString("base64") ? "334 UGFzc3dvcmQ6" : finalReply;
      }
    }
    switch (verb) {
      case "EHLO":
        return "250-mx\n250 AUTH PLAIN LOGIN XOAUTH2";
      case "AUTH":
        isInAuth = true;
        return line.split(" ").length > 2 ? finalReply : "334 VXNlcm5hbWU6";
      case "QUIT":
        return "221 bye";
      default:
        return finalReply;
    }
  });
}

describe("credentials sent on the wire never reach the log (debug level)", () => {
  for (const mechanism of ["login", "plain", "xoauth2"] as const) {
    for (const finalReply of ["235 ok", "535 5.7.8 no"]) {
      it(`SMTP AUTH ${mechanism}, server answers ${finalReply}`, async () => {
        const server = keep(await smtpServer(finalReply));
        const { logger, lines } = capturingLogger();
        const settings = smtpSettingsSchema.parse({
          tls: "none",
          allow_plaintext_auth: true,
          auth:
            mechanism === "xoauth2"
              ? { mechanism, user: USER, token: secretRef }
              : { mechanism, user: USER, password: secretRef },
        });
        await runSmtpSession({
          ...sessionIo(smtpKind),
          settings,
          host: "127.0.0.1",
          port: server.port,
          signal: AbortSignal.timeout(3000),
          logger,
        }).catch(() => undefined);
        expect(lines.join("").length).toBeGreaterThan(0);
        expect(lines.some((l) => l.includes('"smtp command"'))).toBe(true);
        expect(leaksIn(lines.join(""), secrets)).toEqual([]);
      });
    }
  }

  it("IMAP LOGIN", async () => {
    const server = keep(
      await startRawServer((socket) => {
        socket.write("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n");
        createInterface({ input: socket, crlfDelay: Infinity }).on("line", (line) => {
          const tag = line.split(" ")[0];
          socket.write(`${tag} NO [AUTHENTICATIONFAILED] ${line}\r\n`);
        });
      }),
    );
    const { logger, lines } = capturingLogger();
    const settings = imapSettingsSchema.parse({
      tls: "none",
      allow_plaintext_auth: true,
      auth: { mechanism: "login", user: USER, password: secretRef },
    });
    const error = await ImapSession.open({
      settings,
      host: "127.0.0.1",
      port: server.port,
      ...sessionIo(imapKind),
      signal: AbortSignal.timeout(3000),
      logger,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    logger.debug({ err: error }, "failure as the runner would log it");
    expect(leaksIn(lines.join(""), secrets)).toEqual([]);
  });
});
