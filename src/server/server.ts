import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Agent } from "../agent.js";
import { BasicAuth } from "./basic-auth.js";
import { applyLimits, defaultLimits, type ServerLimits } from "./limits.js";
import { CONTENT_TYPES, type ExpositionFormat } from "../metrics/exposition.js";
import { CoalescedMetrics } from "./metrics-cache.js";
import { renderStatusPage } from "./status-page.js";
import { OPEN_WEB_CONFIG, type WebConfig, type WebTls } from "./web-config.js";

/** What the HTTP server needs; `web`, `isLifecycleEnabled` and `limits` default to open, off and the defaults. */
export interface HttpServerDeps {
  agent: Agent;
  registry: Registry;
  logger: Logger;
  version: string;
  /** TLS, extra headers and basic-auth users from `--web.config.file`. */
  web?: WebConfig;
  /** `--web.enable-lifecycle`: without it `POST /-/reload` is refused with 403, as in Prometheus. */
  isLifecycleEnabled?: boolean;
  limits?: ServerLimits;
}

const TEXT = "text/plain; charset=utf-8";
const ROUTES = ["/metrics", "/healthz", "/readyz", "/-/reload", "/"];
/** Content types an HTML form can send cross-site without a CORS preflight. */
const SIMPLE_FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"];
/** How many problem paths a refused reload's response lists. */
const MAX_LISTED_PROBLEMS = 20;

/** The HTTP face of the agent: /metrics, /healthz, /readyz, POST /-/reload and the status page. */
export function createHttpServer(deps: HttpServerDeps): Server {
  const { agent, registry, logger, version } = deps;
  const web = deps.web ?? OPEN_WEB_CONFIG;
  const limits = deps.limits ?? defaultLimits();
  const auth = new BasicAuth(web.users);
  const metrics = new CoalescedMetrics(registry);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...web.headers, "content-type": type, "cache-control": "no-store", ...extra }).end(body);
    };
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://localhost").pathname;
    } catch {
      return send(400, TEXT, "bad request: malformed URL\n");
    }
    if (!(await auth.isAllowed(req))) {
      logger.warn({ remote: req.socket.remoteAddress, path }, "basic auth refused");
      return send(401, TEXT, "unauthorized\n", { "www-authenticate": 'Basic realm="suiteprobe", charset="UTF-8"' });
    }
    // HEAD is GET without a body: Node drops the body of a HEAD response, and /metrics is not even rendered.
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    switch (`${method} ${path}`) {
      case "GET /metrics": {
        const format = negotiateFormat(req.headers.accept);
        const isGzip = acceptsGzip(req.headers["accept-encoding"]);
        const headers = { vary: "Accept, Accept-Encoding", ...(isGzip && { "content-encoding": "gzip" }) };
        if (req.method === "HEAD") return send(200, CONTENT_TYPES[format], "", headers);
        const rendering = await metrics.render(format);
        return send(200, CONTENT_TYPES[format], isGzip ? await rendering.gzipped() : rendering.body, headers);
      }
      case "GET /healthz":
        return send(200, TEXT, "ok\n");
      case "GET /readyz":
        return agent.isReady ? send(200, TEXT, "ready\n") : send(503, TEXT, "not ready\n");
      case "POST /-/reload":
      case "PUT /-/reload": {
        if (deps.isLifecycleEnabled !== true) return send(403, TEXT, "Lifecycle API is not enabled.\n");
        const refusal = crossSiteRefusal(req);
        if (refusal !== undefined) {
          logger.warn({ remote: req.socket.remoteAddress, reason: refusal }, "reload request refused");
          return send(403, TEXT, `reload refused: ${refusal}\n`);
        }
        const result = await agent.reload();
        return result.ok ? send(200, TEXT, "config reloaded\n") : send(400, TEXT, refusedReloadText(result.errors));
      }
      case "GET /":
        return send(
          200,
          "text/html; charset=utf-8",
          renderStatusPage(agent.statuses(), {
            version,
            location: agent.config?.location ?? "",
            reloadFailure: agent.lastReloadFailure,
          }),
        );
      default:
        return ROUTES.includes(path) ? send(405, TEXT, "method not allowed\n") : send(404, TEXT, "not found\n");
    }
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, path: req.url?.slice(0, 200) }, "http handler failed");
      if (!res.headersSent) res.writeHead(500).end("internal error\n");
      else res.destroy();
    });
  };
  const options = { connectionsCheckingInterval: limits.checkIntervalMs };
  const server =
    web.tls === undefined
      ? createServer(options, listener)
      : (createTlsServer({ ...options, ...tlsOptions(web.tls) }, listener) as unknown as Server);
  if (web.tls !== undefined) enforceClientCerts(server, web.tls, logger);
  applyLimits(server, limits);
  return server;
}

/** The exposition format an Accept header prefers: OpenMetrics when it asks for it at least as much as for text. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined) return "text";
  let openMetrics = 0;
  let text = 0;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2)) || 0;
    if (type === "application/openmetrics-text") openMetrics = Math.max(openMetrics, q);
    else if (type === "text/plain" || type === "*/*" || type === "text/*") text = Math.max(text, q);
  }
  return openMetrics > 0 && openMetrics >= text ? "openmetrics" : "text";
}

/** Whether an Accept-Encoding header accepts gzip (not refused with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(",").some((part) => {
    const [coding = "", ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    return coding === "gzip" && !params.some((p) => /^q=0(\.0*)?$/.test(p));
  });
}

/**
 * Why a reload request looks cross-site, or undefined. A browser on another site can POST without a preflight only
 * with a form content type, and it always sends `Origin` (and `Sec-Fetch-Site`) on such a POST; curl, Prometheus
 * tooling and scripts send none of them.
 */
export function crossSiteRefusal(req: IncomingMessage): string | undefined {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site is ${site}`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return "malformed Origin";
    }
    if (host !== req.headers.host) return "Origin is another site";
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (SIMPLE_FORM_TYPES.includes(type)) return `content type ${type} is not accepted`;
  return undefined;
}

/**
 * The body of a refused reload: how many problems and at which config paths, never the messages themselves, which
 * may name environment variables and secret files. The agent log has every line.
 */
export function refusedReloadText(errors: readonly string[]): string {
  const paths = [...new Set(errors.map((line) => /^(.*?): /.exec(line)?.[1] ?? "(config)"))];
  const listed = paths.slice(0, MAX_LISTED_PROBLEMS).join(", ");
  const more = paths.length > MAX_LISTED_PROBLEMS ? `, and ${paths.length - MAX_LISTED_PROBLEMS} more` : "";
  return (
    `config refused; the previous config keeps running: ${errors.length} problem(s) at ${listed}${more}. ` +
    `See the agent log for each problem.\n`
  );
}

function tlsOptions(tls: WebTls) {
  const requestCert = tls.clientAuth !== "NoClientCert";
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca !== undefined && { ca: tls.ca }),
    requestCert,
    // Only RequireAndVerifyClientCert lets OpenSSL refuse the handshake; the other modes are checked after it.
    rejectUnauthorized: tls.clientAuth === "RequireAndVerifyClientCert",
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    honorCipherOrder: tls.honorCipherOrder,
  };
}

/** Closes TLS connections whose client certificate the configured policy refuses (exporter-toolkit's semantics). */
function enforceClientCerts(server: Server, tls: WebTls, logger: Logger): void {
  server.on("secureConnection", (socket: TLSSocket) => {
    const cert = socket.getPeerCertificate();
    const hasCert = cert !== null && Object.keys(cert).length > 0;
    let refusal: string | undefined;
    if (tls.clientAuth === "RequireAnyClientCert" && !hasCert) refusal = "no client certificate";
    if (tls.clientAuth === "VerifyClientCertIfGiven" && hasCert && !socket.authorized) {
      refusal = "client certificate not verified";
    }
    if (refusal === undefined && tls.clientAllowedSans.length > 0) {
      const sans = (cert.subjectaltname ?? "").split(", ").map((san) => san.replace(/^[^:]*:/, ""));
      if (!sans.some((san) => tls.clientAllowedSans.includes(san))) refusal = "client certificate SAN not allowed";
    }
    if (refusal !== undefined) {
      logger.warn({ remote: socket.remoteAddress, reason: refusal }, "TLS client refused");
      socket.destroy();
    }
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
