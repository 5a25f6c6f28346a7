import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { imapKind } from "../../probes/imap.js";
import { ProbeError } from "../../src/core/probe-error.js";
import { closeAfterEach } from "../helpers/lifecycle.js";
import { runProbe } from "../helpers/run-probe.js";
import { startRawServer } from "../helpers/smtp-test-server.js";

const keep = closeAfterEach();
/** A folder of 200,000 messages: SEARCH ALL answers one `* SEARCH` line of about 1.3 MB (2 MB with larger UIDs). */
const EXISTS = 200_000;
const UID_BASE = 1_000_000;

/**
 * A scripted IMAP server holding EXISTS messages (UIDs from UID_BASE). Without `isEsearch` it answers every SEARCH
 * with all matching numbers on one line, as RFC 3501 servers do; with it, `RETURN (COUNT)` gets an ESEARCH count.
 */
async function largeFolder(isEsearch: boolean, seen: string[]) {
  return keep(
    await startRawServer((socket) => {
      const caps = `IMAP4rev1${isEsearch ? " ESEARCH" : ""}`;
      socket.write(`* OK [CAPABILITY ${caps}] big\r\n`);
      const lines = createInterface({ input: socket, crlfDelay: Infinity });
      lines.on("error", () => undefined);
      lines.on("line", (line) => {
        seen.push(line);
        const [tag, verb] = line.split(" ");
        const upper = line.toUpperCase();
        if (verb === "LOGIN") return void socket.write(`${tag} OK [CAPABILITY ${caps}] in\r\n`);
        if (verb === "EXAMINE") {
          return void socket.write(
            `* ${EXISTS} EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT ${UID_BASE + EXISTS}] n\r\n${tag} OK [READ-ONLY] done\r\n`,
          );
        }
        if (verb === "LOGOUT") return void socket.write(`* BYE bye\r\n${tag} OK done\r\n`);
        if (upper.includes("SEARCH")) {
          if (isEsearch && upper.includes("RETURN (COUNT)")) {
            return void socket.write(`* ESEARCH (TAG "${tag}") UID COUNT ${EXISTS}\r\n${tag} OK done\r\n`);
          }
          // Sequence ranges (SEARCH 1:50000 …) answer those numbers; anything else answers the whole folder.
          const range = /SEARCH (\d+):(\d+) /i.exec(line);
          const isUid = verb === "UID";
          const [from, to] = range === null ? [1, EXISTS] : [Number(range[1]), Math.min(EXISTS, Number(range[2]))];
          const numbers: number[] = [];
          for (let n = from; n <= to; n++) numbers.push(isUid ? UID_BASE + n - 1 : n);
          return void socket.write(`* SEARCH ${numbers.join(" ")}\r\n${tag} OK done\r\n`);
        }
        socket.write(`${tag} BAD what\r\n`);
      });
    }),
  );
}

const settings = (min: number) => ({
  tls: "none",
  allow_plaintext_auth: true,
  auth: { mechanism: "login", user: "probe", password: "${env:HOME}" },
  search: { expect_min_results: min },
});

describe("IMAP SEARCH on a folder of 200,000 messages (issue 8, item 8)", () => {
  it("counts with a bounded reply when the server has no ESEARCH (its SEARCH ALL line would be over 1 MiB)", async () => {
    const seen: string[] = [];
    const server = await largeFolder(false, seen);
    const ok = await runProbe(imapKind, settings(EXISTS), { port: server.port }, 10_000);
    expect(ok.error).toBeUndefined();
    const short = await runProbe(imapKind, settings(EXISTS + 1), { port: server.port }, 10_000);
    expect(short.error).toBeInstanceOf(ProbeError);
    expect((short.error as ProbeError).message).toContain(`matched ${EXISTS} messages`);
  });

  it("asks for the count alone with ESEARCH (RFC 4731)", async () => {
    const seen: string[] = [];
    const server = await largeFolder(true, seen);
    const run = await runProbe(imapKind, settings(EXISTS), { port: server.port }, 10_000);
    expect(run.error).toBeUndefined();
    expect(seen.some((line) => /UID SEARCH RETURN \(COUNT\) ALL$/.test(line))).toBe(true);
  });
});
