/**
 * An SMTP server that delivers into a test Dovecot's Maildir. Why not Dovecot's own LMTP/LDA or a real MTA: the round
 * trip needs a real SMTP submission path (the probe's SMTP client, its reply codes, a 451 at RCPT) and control over
 * *when* the message becomes visible (delivery delay past max_delivery, Junk instead of INBOX); smtp-server gives both
 * in-process with no MTA to configure, and maildir(5) delivery (tmp → new, owned by mail) is exactly what an MDA does,
 * so Dovecot sees the message the same way.
 */
import { SMTPServer } from "smtp-server";
import { writeMaildirMessage } from "./dovecot.js";

/** Behaviour of the next deliveries; change between runs. */
export interface MaildirSmtpBehaviour {
  /** Folder directory to write into (TestDovecot.folderDir). */
  folderDir: string;
  /** Accept at once, write the file this much later. */
  delayMs: number;
  /** Refuse RCPT with `451 4.3.2 …` (nothing is written). */
  isRcptRefused: boolean;
}

/** The running server. */
export interface MaildirSmtpServer {
  port: number;
  behaviour: MaildirSmtpBehaviour;
  /** Messages accepted so far. */
  accepted: number;
  /** Resolves when every delayed delivery has been written. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Starts the server on 127.0.0.1, port 0 (no TLS, no AUTH: the probe submits with `tls: none`). */
export async function startMaildirSmtpServer(folderDir: string): Promise<MaildirSmtpServer> {
  const pending = new Set<Promise<void>>();
  // Delayed deliveries not yet written: close() drops them (resolving their promises) so nothing outlives the test.
  const timers = new Map<NodeJS.Timeout, () => void>();
  const state: MaildirSmtpServer = {
    port: 0,
    behaviour: { folderDir, delayMs: 0, isRcptRefused: false },
    accepted: 0,
    async settled() {
      while (pending.size > 0) await Promise.all(pending);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [timer, drop] of timers) {
          clearTimeout(timer);
          drop();
        }
        timers.clear();
        server.close(() => resolve());
      }),
  };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    // The reply is then exactly the error text below: "451 4.3.2 System not accepting network messages".
    hideENHANCEDSTATUSCODES: true,
    size: MAX_MESSAGE_BYTES,
    closeTimeout: 200,
    onRcptTo(_address, _session, callback) {
      if (!state.behaviour.isRcptRefused) return callback();
      const error = Object.assign(new Error("4.3.2 System not accepting network messages"), { responseCode: 451 });
      callback(error);
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const { folderDir: dir, delayMs } = state.behaviour;
        state.accepted += 1;
        const write = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            writeMaildirMessage(dir, raw).then(() => resolve(), reject);
          }, delayMs);
          timers.set(timer, resolve);
        });
        pending.add(write);
        void write.finally(() => pending.delete(write)).catch(() => undefined);
        callback();
      });
    },
  });
  server.on("error", () => {});
  state.port = await new Promise<number>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.server.address();
      if (address === null || typeof address === "string") reject(new Error("no port"));
      else resolve(address.port);
    });
  });
  return state;
}
