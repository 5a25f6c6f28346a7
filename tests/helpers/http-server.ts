import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/** A node:http(s) server on 127.0.0.1:0 that counts connections and the bytes it wrote. */
export interface TestHttpServer {
  url: string;
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Connections currently open. */
  open(): number;
  /** Bytes written on connections that have closed, plus those still open. */
  bytesWritten(): number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Starts a server; with `tls` it is HTTPS (`requestCert` asks for a client certificate signed by `ca`). */
export async function startHttpServer(
  handler: Handler,
  tls?: { key: string; cert: string; ca?: string; requestCert?: boolean },
): Promise<TestHttpServer> {
  const server =
    tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            requestCert: tls.requestCert === true,
            rejectUnauthorized: tls.requestCert === true,
          },
          handler,
        );
  const sockets = new Set<Socket>();
  let closedBytes = 0;
  const state = { connections: 0 };
  server.on("connection", (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("close", () => {
      sockets.delete(socket);
      closedBytes += socket.bytesWritten;
    });
  });
  // TLS handshakes the client refuses end in errors we expect; never let them crash the test process.
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    port,
    get connections() {
      return state.connections;
    },
    open: () => sockets.size,
    bytesWritten: () => closedBytes + [...sockets].reduce((sum, s) => sum + s.bytesWritten, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A forward proxy: CONNECT tunnels to 127.0.0.1 only, absolute-form requests answered itself; logs what it saw. */
export async function startTestProxy(options: { requireAuth?: string } = {}): Promise<{
  url: string;
  seen: string[];
  close(): Promise<void>;
}> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end(`proxied ${req.url}`);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("connect", (req: IncomingMessage, client: Socket) => {
    seen.push(`CONNECT ${req.url}`);
    if (options.requireAuth !== undefined && req.headers["proxy-authorization"] !== options.requireAuth) {
      client.end("HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const port = Number(/:(\d+)$/.exec(req.url ?? "")?.[1]);
    const upstream = connect(port, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
