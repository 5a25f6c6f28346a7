import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Agent } from "../agent.js";
import { renderStatusPage } from "./status-page.js";

/** The HTTP face of the agent: /metrics, /healthz, /readyz, POST /-/reload and the status page. */
export function createHttpServer(deps: { agent: Agent; registry: Registry; logger: Logger; version: string }): Server {
  const { agent, registry, logger, version } = deps;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);
    };
    const route = `${req.method ?? "GET"} ${path}`;
    switch (route) {
      case "GET /metrics":
        return send(200, registry.contentType, await registry.metrics());
      case "GET /healthz":
        return send(200, "text/plain; charset=utf-8", "ok\n");
      case "GET /readyz":
        return agent.isReady
          ? send(200, "text/plain; charset=utf-8", "ready\n")
          : send(503, "text/plain; charset=utf-8", "not ready\n");
      case "POST /-/reload": {
        const result = await agent.reload();
        return result.ok
          ? send(200, "text/plain; charset=utf-8", "config reloaded\n")
          : send(
              400,
              "text/plain; charset=utf-8",
              `config refused; the previous config keeps running:\n${result.errors.join("\n")}\n`,
            );
      }
      case "GET /":
        return send(
          200,
          "text/html; charset=utf-8",
          renderStatusPage(agent.statuses(), { version, location: agent.config?.location ?? "" }),
        );
      default:
        if (["/metrics", "/healthz", "/readyz", "/-/reload", "/"].includes(path)) {
          return send(405, "text/plain; charset=utf-8", "method not allowed\n");
        }
        return send(404, "text/plain; charset=utf-8", "not found\n");
    }
  };
  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, "http handler failed");
      if (!res.headersSent) res.writeHead(500).end("internal error\n");
      else res.destroy();
    });
  });
}

/** Listens and resolves with the bound address (port 0 picks a free port). */
export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
