import { createServer, type Server, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { testCerts } from "./certs.js";

/** A message the test SMTP server accepted. */
export interface ReceivedMessage {
  from: string;
  to: string[];
  /** The message as received after DATA (dot-unstuffed), CRLF line ends. */
  raw: string;
}

/** An smtp-server instance on 127.0.0.1 with what it saw. */
export interface TestSmtpServer {
  port: number;
  messages: ReceivedMessage[];
  /** Successful and failed AUTH attempts as seen by onAuth. */
  auths: { method: string; username: string | undefined; password: string | null | undefined; token?: string }[];
  close(): Promise<void>;
}

/**
 * Starts smtp-server on 127.0.0.1, port 0, with the CA-signed test leaf (STARTTLS offered), reverse DNS off and
 * enhanced status codes hidden (so a reply is exactly what the test's error message says). `options` override.
 */
export async function startSmtpServer(options: SMTPServerOptions = {}): Promise<TestSmtpServer> {
  const { leaf } = await testCerts();
  const messages: ReceivedMessage[] = [];
  const auths: TestSmtpServer["auths"] = [];
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    closeTimeout: 200,
    key: leaf.key,
    cert: leaf.cert,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const from = session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address;
        messages.push({
          from,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString(),
        });
        callback();
      });
    },
    ...options,
    onAuth(auth, session, callback) {
      auths.push({
        method: auth.method,
        username: auth.username,
        password: auth.password,
        ...(auth.accessToken === undefined ? {} : { token: auth.accessToken }),
      });
      if (options.onAuth !== undefined) options.onAuth(auth, session, callback);
      else callback(null, { user: auth.username });
    },
  });
  server.on("error", () => {}); // client resets are expected in hostile tests
  const port = await listen(server.server, (...args) => server.listen(...(args as [number, string, () => void])));
  return {
    port,
    messages,
    auths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One accepted connection of a raw server; `closed` resolves with the epoch ms when the server saw it close. */
export interface RawConnection {
  socket: Socket;
  closed: Promise<number>;
}

/** A plain TCP server for behaviour smtp-server cannot produce. */
export interface RawServer {
  port: number;
  connections: RawConnection[];
  close(): Promise<void>;
}

/** Starts a TCP server on 127.0.0.1, port 0, handing each connection to `onConnection`. */
export async function startRawServer(onConnection: (socket: Socket) => void): Promise<RawServer> {
  const connections: RawConnection[] = [];
  const server = createServer((socket) => {
    socket.on("error", () => {}); // the probe destroying its side is the point of several tests
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
    connections.push({ socket, closed });
    onConnection(socket);
  });
  const port = await listen(server, (...args) => server.listen(...(args as [number, string, () => void])));
  return {
    port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const { socket } of connections) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers for a scripted server: reply lines joined by `\n` (each sent with the line end), a close, or nothing. */
export type ScriptAnswer = string | { action: "close" | "reset" } | undefined;

/**
 * A minimal SMTP server: sends `greeting`, then hands every received line (without its terminator) to `answer`.
 * `lineEnd` lets a test speak `\n`-only replies.
 */
export function startScriptedServer(
  greeting: string,
  answer: (line: string) => ScriptAnswer,
  lineEnd = "\r\n",
): Promise<RawServer> {
  return startRawServer((socket) => {
    socket.write(greeting.split("\n").join(lineEnd) + lineEnd);
    const lines = createInterface({ input: socket, crlfDelay: Infinity });
    lines.on("line", (line) => {
      const reply = answer(line);
      if (reply === undefined || socket.destroyed) return;
      if (typeof reply === "string") socket.write(reply.split("\n").join(lineEnd) + lineEnd);
      else if (reply.action === "close") socket.end();
      else socket.resetAndDestroy();
    });
  });
}

/** Writes `250-x` lines for as long as the peer reads them (an endless multi-line reply). */
export function writeEndlessReply(socket: Socket): void {
  const chunk = Buffer.from("250-x\r\n".repeat(1000));
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk));
    if (!socket.destroyed) socket.once("drain", pump);
  };
  pump();
}

function listen(server: Server, start: (port: number, host: string, ready: () => void) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    start(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no port"));
      else resolve(address.port);
    });
  });
}
