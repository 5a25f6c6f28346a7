// The Microsoft 365 / Slack simulator: one node:http(s) server on loopback that routes to the endpoint modules,
// applies the faults switched on per endpoint, logs every request and exposes its state for assertions.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { handleControl } from "./control.js";
import { SimCore, type CoreOptions, type SlackIncident } from "./core.js";
import { aadstsReply, entraRoutes } from "./entra.js";
import { CONTENT_FAULTS, FaultTable, type SimEndpoint, type SimFault } from "./faults.js";
import { chatCreateRoutes } from "./graph-chat-create.js";
import { chatMessage, chatRoutes } from "./graph-chat.js";
import { driveRoutes } from "./graph-drive.js";
import { driveItem, searchRoutes } from "./graph-search.js";
import {
  healthRoutes,
  openIssue,
  resolveIssue,
  setServiceStatus,
  type NewIssue,
  type ServiceHealthStatus,
} from "./graph-health.js";
import {
  diagnosticHeaders,
  familyError,
  graphError,
  json,
  slackError,
  type SimReply,
  type SimRequest,
  type SimRoute,
} from "./http.js";
import { setSlackIncident, slackRoutes, type NewSlackIncident } from "./slack.js";
import { RequestLog, type SimRequestRecord } from "./state.js";
import { streamHugeBody, transmit } from "./transmit.js";

/** Options of `startSimulator`; all optional. */
export interface SimulatorOptions extends CoreOptions {
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Seed of the generator behind `probability` (default 1). */
  seed?: number;
  /** Serve the /_sim/ control endpoint (default true). */
  isControlEnabled?: boolean;
  /** Requests kept in the log ring (default 1,000; counts per endpoint are exact regardless). */
  requestLogSize?: number;
  /** Largest request body read, bytes (default 4 MiB); larger → 413. */
  maxRequestBytes?: number;
}

const ROUTES: readonly SimRoute[] = [
  ...entraRoutes,
  ...searchRoutes,
  ...driveRoutes,
  ...chatRoutes,
  ...chatCreateRoutes,
  ...healthRoutes,
  ...slackRoutes,
];

/** What a run may have left behind in the simulator (seeded items excluded). */
export interface SimLeftovers {
  files: Record<string, unknown>[];
  chatMessages: Record<string, unknown>[];
  chats: string[];
  meetings: string[];
  slackMessages: { channel: string; ts: string; text: string }[];
}

/** A running simulator. Base URLs: authority, Graph and Slack status = `url`; Slack Web API = `url + "/api"`. */
export class Simulator {
  readonly core: SimCore;
  readonly #faults: FaultTable;
  readonly #log: RequestLog;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #closing = new AbortController();
  readonly #isControlEnabled: boolean;
  readonly #maxRequestBytes: number;
  url = "";
  port = 0;

  constructor(options: SimulatorOptions = {}) {
    this.core = new SimCore(options);
    this.#faults = new FaultTable(options.seed ?? 1);
    this.#log = new RequestLog(options.requestLogSize ?? 1_000);
    this.#isControlEnabled = options.isControlEnabled ?? true;
    this.#maxRequestBytes = options.maxRequestBytes ?? 4 * 1024 * 1024;
    const listener = (req: IncomingMessage, res: ServerResponse) => void this.#serve(req, res);
    this.#server =
      options.tls === undefined ? createHttpServer(listener) : createHttpsServer({ ...options.tls }, listener);
    this.#server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
    this.#server.on("secureConnection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  /** Listens; resolves once `url` and `port` are known. */
  async listen(host: string, port: number, isTls: boolean): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => resolve());
    });
    const address = this.#server.address() as AddressInfo;
    this.port = address.port;
    const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.url = `${isTls ? "https" : "http"}://${hostPart}:${address.port}`;
    this.core.baseUrl = this.url;
    return this;
  }

  /** Replaces the faults of one endpoint (validated; throws on a malformed fault). */
  setFault(endpoint: SimEndpoint, fault: SimFault | readonly SimFault[]): void {
    this.#faults.set(endpoint, fault);
  }
  /** Clears the faults of one endpoint, or all. */
  clearFaults(endpoint?: SimEndpoint): void {
    this.#faults.clear(endpoint);
  }
  /** The faults currently set, per endpoint. */
  faults(): Partial<Record<SimEndpoint, SimFault[]>> {
    return this.#faults.snapshot();
  }

  /** Logged requests (the last `requestLogSize`), optionally of one endpoint. */
  requests(endpoint?: SimEndpoint | "control" | "unknown"): SimRequestRecord[] {
    return this.#log.list(endpoint);
  }
  /** Exact number of requests an endpoint received since start or `resetRequestLog`. */
  count(endpoint: SimEndpoint | "control" | "unknown"): number {
    return this.#log.count(endpoint);
  }
  /** Forgets the request log and counts. */
  resetRequestLog(): void {
    this.#log.reset();
  }

  /** Everything not seeded that is still there: undeleted files, chat messages, chats, meetings, Slack messages. */
  leftovers(): SimLeftovers {
    const { core } = this;
    return {
      files: [...core.files.values()].filter((f) => !core.seededIds.has(f.id)).map((f) => driveItem(core, f)),
      chatMessages: [...core.chatMessages.values()]
        .filter((m) => m.deletedAt === undefined)
        .map((m) => chatMessage(core, m)),
      chats: [...core.chats.values()].filter((c) => !core.seededIds.has(c.id)).map((c) => c.id),
      meetings: [...core.meetings.values()].map((m) => m.id),
      slackMessages: [...core.slackMessages.values()].map((m) => ({ channel: m.channel, ts: m.ts, text: m.text })),
    };
  }

  /** A JSON snapshot for /_sim/state: faults, request counts, recent requests, leftovers, sizes. */
  state(): Record<string, unknown> {
    const { core } = this;
    return {
      url: this.url,
      faults: this.faults(),
      counts: this.#log.counts(),
      requests: this.#log.list().slice(-100),
      leftovers: this.leftovers(),
      sizes: {
        tokens: core.tokens.size,
        files: core.files.size,
        chatMessages: core.chatMessages.size,
        chats: core.chats.size,
        meetings: core.meetings.size,
        slackMessages: core.slackMessages.size,
        evicted:
          core.files.evicted +
          core.chatMessages.evicted +
          core.slackMessages.evicted +
          core.chats.evicted +
          core.meetings.evicted,
      },
      health: core.world.health,
      issues: [...core.issues.values()],
      slackIncidents: [...core.slackIncidents.values()],
    };
  }

  /** Makes every issued access token expired (the next Graph call answers 401 InvalidAuthenticationToken). */
  expireTokens(): void {
    for (const token of this.core.tokens.values()) token.expiresAt = 0;
  }
  /** Sets a service's status in healthOverviews. */
  setServiceStatus(service: string, status: ServiceHealthStatus): void {
    setServiceStatus(this.core, service, status);
  }
  /** Opens a service health issue. */
  openIssue(issue: NewIssue): Record<string, unknown> {
    return openIssue(this.core, issue);
  }
  /** Resolves a service health issue; false if unknown. */
  resolveIssue(id: string): boolean {
    return resolveIssue(this.core, id);
  }
  /** Opens or updates a Slack status incident (the status API then reports `active`). */
  setSlackIncident(incident: NewSlackIncident): SlackIncident {
    return setSlackIncident(this.core, incident);
  }
  /** Resolves a Slack status incident; false if unknown. */
  resolveSlackIncident(id: number): boolean {
    const incident = this.core.slackIncidents.get(id);
    if (incident === undefined) return false;
    incident.status = "resolved";
    return true;
  }

  /** Stops listening, cuts open connections and pending slow replies. */
  async close(): Promise<void> {
    this.#closing.abort();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: SimRequestRecord = {
      at: this.core.now(),
      endpoint: "unknown",
      method: req.method ?? "GET",
      path: "",
      status: 0,
      faults: [],
    };
    try {
      const request = await this.#read(req);
      if (request === undefined) {
        record.status = 413;
        res.writeHead(413, { connection: "close" }).end();
        return;
      }
      const path = safeDecode(request.url.pathname);
      record.path = request.url.pathname;
      if (path.startsWith("/_sim/") && this.#isControlEnabled) {
        record.endpoint = "control";
        const reply = handleControl(this, request, path);
        record.status = reply.status;
        await transmit(res, reply, "status", [], this.#closing.signal);
        return;
      }
      const found = match(request.method, path);
      if (found === undefined || "status" in found) {
        const reply = found ?? notFound(path);
        record.status = reply.status;
        await transmit(res, reply, path.startsWith("/v1.0/") ? "graph" : "status", [], this.#closing.signal);
        return;
      }
      const { route, params } = found;
      record.endpoint = route.endpoint;
      const fired = this.#faults.draw(route.endpoint);
      record.faults = fired.map((f) => f.type);
      record.status = await this.#answer(request, res, route, params, fired);
    } catch (error) {
      if (!this.#closing.signal.aborted && !res.headersSent) {
        record.status = 500;
        res.writeHead(500, { "content-type": "text/plain" }).end(`simulator error: ${String(error)}`);
      }
    } finally {
      this.#log.add(record);
    }
  }

  /** Applies the fired faults around the handler; answers the status written (0 when the socket was cut). */
  async #answer(
    req: SimRequest,
    res: ServerResponse,
    route: SimRoute,
    params: string[],
    fired: SimFault[],
  ): Promise<number> {
    const signal = this.#closing.signal;
    for (const fault of fired) if (fault.type === "delay") await sleep(fault.ms, undefined, { signal });
    const terminal = fired.find((f) => TERMINAL.has(f.type));
    if (terminal?.type === "reset") {
      const socket = res.socket;
      if (typeof socket?.resetAndDestroy === "function") socket.resetAndDestroy();
      else socket?.destroy();
      return 0;
    }
    if (terminal?.type === "hugeBody") {
      await streamHugeBody(res, terminal, signal);
      return 200;
    }
    let reply: SimReply;
    if (terminal?.type === "redirectLoop") {
      reply = { status: 302, headers: { location: `${this.url}${req.url.pathname}${req.url.search}` } };
    } else if (terminal?.type === "status") {
      reply = familyError(route.family, terminal.status, terminal.code, terminal.message, terminal.retryAfter);
    } else if (terminal?.type === "slack") {
      reply = slackError(terminal.error);
    } else if (terminal?.type === "aadsts") {
      reply = aadstsReply(terminal.code, { tenant: this.core.world.tenant }, terminal.status);
    } else {
      const content = fired.filter((f) => (CONTENT_FAULTS as readonly string[]).includes(f.type));
      reply = await route.handle(req, { core: this.core, params, faults: content });
    }
    reply.headers = { ...diagnosticHeaders(route.family, req), ...reply.headers };
    if (route.family === "graph" && isGraphError(reply.body)) {
      const inner = reply.body.error.innerError;
      inner["request-id"] = reply.headers["request-id"];
      inner["client-request-id"] = reply.headers["client-request-id"];
    }
    await transmit(res, reply, route.family, fired, signal);
    return reply.status;
  }

  /** Reads the body up to the cap; undefined when it is over the cap. */
  async #read(req: IncomingMessage): Promise<SimRequest | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the cap keep draining (so the 413 reaches the client) but stop keeping the bytes.
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= this.#maxRequestBytes) chunks.push(chunk);
    }
    if (size > this.#maxRequestBytes) return undefined;
    return {
      method: req.method ?? "GET",
      url: new URL(req.url ?? "/", "http://sim.invalid"),
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
  }
}

const TERMINAL = new Set<SimFault["type"]>(["reset", "hugeBody", "redirectLoop", "status", "slack", "aadsts"]);

function isGraphError(body: unknown): body is { error: { innerError: Record<string, unknown> } } {
  return typeof body === "object" && body !== null && "error" in body && typeof body.error === "object";
}

function match(method: string, path: string): { route: SimRoute; params: string[] } | SimReply | undefined {
  let isWrongMethod = false;
  for (const route of ROUTES) {
    const found = route.pattern.exec(path);
    if (found === null) continue;
    const methods = typeof route.method === "string" ? [route.method] : route.method;
    if (!methods.includes(method)) {
      isWrongMethod = true;
      continue;
    }
    return { route, params: found.slice(1) };
  }
  if (!isWrongMethod) return undefined;
  return path.startsWith("/v1.0/")
    ? graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
    : json(405, { error: "method_not_allowed" });
}

function notFound(path: string): SimReply {
  if (path.startsWith("/v1.0/"))
    return graphError(400, "BadRequest", `Resource not found for the segment '${path.split("/")[2] ?? ""}'.`);
  if (path.startsWith("/api/")) return slackError("unknown_method", 404);
  return json(404, { error: "not_found" });
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Starts a simulator on 127.0.0.1 (port 0 unless given), HTTPS when `tls` is set. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  return new Simulator(options).listen(host, options.port ?? 0, options.tls !== undefined);
}
