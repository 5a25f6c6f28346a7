// The lab's SMTP submission server (smtp-server from npm): accepts mail without AUTH on loopback and delivers it into
// the lab mailbox, with the faults of MailFaults applied per stage (reply codes, latency, tarpit).
import type { AddressInfo, Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import type { MailFaults, SmtpStage } from "./faults.js";
import type { Mailbox } from "./mailbox.js";

const MAX_MESSAGE_BYTES = 1024 * 1024;

/** A running lab SMTP server. */
export interface LabSmtp {
  port: number;
  /** Messages accepted since start. */
  accepted(): number;
  close(): Promise<void>;
}

type Done = (error?: Error | null) => void;

/** Starts the submission server on `host:port` (port 0: any free port). */
export async function startLabSmtp(host: string, port: number, mailbox: Mailbox, faults: MailFaults): Promise<LabSmtp> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  // Applies the stage's faults: a tarpit never answers, a delay answers late, a reply fault refuses.
  const stage = (name: SmtpStage, callback: Done): void => {
    if (name === "connect" && faults.smtpAt("tarpit") !== undefined) return;
    const reply = faults.smtpAt("reply", name);
    const error =
      reply === undefined
        ? null
        : Object.assign(
            new Error(
              [reply.enhanced, reply.message ?? (reply.code < 500 ? "Temporary server issue" : "Rejected")]
                .filter(Boolean)
                .join(" "),
            ),
            { responseCode: reply.code },
          );
    const delay = faults.smtpAt("delay", name);
    if (delay === undefined || delay.ms === 0) callback(error);
    else later(delay.ms, () => callback(error));
  };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    // The reply is then exactly our text: "451 4.3.2 Temporary server issue".
    hideENHANCEDSTATUSCODES: true,
    size: MAX_MESSAGE_BYTES,
    closeTimeout: 200,
    onConnect(session, callback) {
      stage("connect", callback);
    },
    onMailFrom(_address, _session, callback) {
      stage("mail", callback);
    },
    onRcptTo(_address, _session, callback) {
      stage("rcpt", callback);
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        stage("data", (error) => {
          if (error === null || error === undefined) {
            accepted++;
            mailbox.deliver(Buffer.concat(chunks).toString("utf8"));
          }
          callback(error);
        });
      });
    },
  });
  server.on("error", () => {});
  server.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(port, host, () => resolve(server.server.address() as AddressInfo));
  });
  return {
    port: address.port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
