import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImapSession } from "../../probes/wire/imap/session.js";
import { imapSettingsSchema } from "../../probes/wire/imap/settings.js";
import { startDovecot, type TestDovecot } from "../helpers/dovecot.js";
import { imapKind } from "../../probes/imap.js";
import { sessionIo } from "../helpers/run-probe.js";

let dovecot: TestDovecot;

beforeAll(async () => {
  dovecot = await startDovecot();
  await writeFile(join(dovecot.dir, "pw"), dovecot.password, { mode: 0o600 });
  for (let i = 0; i < 3; i++) await dovecot.deliver(`From: a@example.test\nSubject: count me ${i}\n\nbody\n`);
  await dovecot.deliver("From: b@example.test\nSubject: other\n\nbody\n");
});

afterAll(async () => {
  await dovecot?.dispose();
});

describe("IMAP count with Dovecot's ESEARCH (issue 8, item 8)", () => {
  it("Dovecot announces ESEARCH and RETURN (COUNT) agrees with the UIDs SEARCH lists", async () => {
    const settings = imapSettingsSchema.parse({
      tls: "none",
      allow_plaintext_auth: true,
      auth: { mechanism: "login", user: dovecot.user, password: `\${file:${join(dovecot.dir, "pw")}}` },
    });
    const session = await ImapSession.open({
      settings,
      host: "127.0.0.1",
      port: dovecot.port,
      signal: AbortSignal.timeout(5000),
      ...sessionIo(imapKind),
    });
    try {
      expect(session.capabilities.has("ESEARCH")).toBe(true);
      const status = await session.select("INBOX", true);
      expect(status.exists).toBe(4);
      expect(await session.count(['SUBJECT "count me"'], status.exists)).toBe(3);
      expect(await session.count(["ALL"], status.exists)).toBe(4);
      expect(await session.count(['SUBJECT "nothing like this"'], status.exists)).toBe(0);
      expect((await session.search(['SUBJECT "count me"'])).length).toBe(3);
    } finally {
      session.close();
    }
  });
});
