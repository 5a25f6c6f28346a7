/**
 * The HTTP side of the secret sentinel test: a server that speaks the Entra token endpoint and a JSON API and, in its
 * `echo` and `garbage` modes, sends back everything it received (Authorization, API-key headers, the token request's
 * form with the client secret) in bodies, in error descriptions and in the headers the agent quotes (request ids).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How the server answers. */
export type HttpSentinelMode = "accept" | "echo" | "garbage";

/** A running sentinel HTTP server. */
export interface HttpSentinelServer {
  port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(""));
  });
}

function everything(req: IncomingMessage, body: string): string {
  return `${req.method ?? ""} ${req.url ?? ""} ${JSON.stringify(req.headers)} ${body}`;
}

/** Header-safe (latin1, no controls) echo of what was received, for the headers the agent quotes in messages. */
function headerEcho(text: string): string {
  return Buffer.from(text, "utf8")
    .toString("latin1")
    .replace(/[^\x20-\x7e\xa0-\xff]/g, "?")
    .slice(0, 4000);
}

async function answer(mode: HttpSentinelMode, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const isToken = (req.url ?? "").includes("/oauth2/v2.0/token");
  if (mode === "accept") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      isToken
        ? JSON.stringify({ token_type: "Bearer", expires_in: 3600, access_token: "sentinel-access" })
        : '{"ok":true}',
    );
    return;
  }
  const echoed = everything(req, body);
  if (mode === "garbage") {
    res.writeHead(200, { "content-type": "application/json", "request-id": headerEcho(echoed) });
    res.end(`not json: ${echoed}`);
    return;
  }
  const headers = {
    "content-type": "application/json",
    "request-id": headerEcho(req.headers.authorization ?? body),
    "x-ms-ags-diagnostic": headerEcho(echoed),
    "www-authenticate": `Bearer error="invalid_token", error_description="${headerEcho(echoed).replace(/"/g, "'")}"`,
  };
  if (isToken) {
    res.writeHead(401, headers);
    res.end(
      JSON.stringify({
        error: "invalid_client",
        error_description: `AADSTS7000215: Invalid client secret provided. You sent: ${echoed}`,
        error_codes: [7000215],
        trace_id: headerEcho(body),
      }),
    );
    return;
  }
  res.writeHead(401, headers);
  res.end(JSON.stringify({ error: { code: "InvalidAuthenticationToken", message: `you sent ${echoed}` } }));
}

/** Starts a sentinel HTTP server on 127.0.0.1. */
export async function startHttpSentinel(mode: HttpSentinelMode): Promise<HttpSentinelServer> {
  const server: Server = createServer((req, res) => {
    answer(mode, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
