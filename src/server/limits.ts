import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Socket } from "node:net";

/** Bounds of the agent's own HTTP server: connections and how long a client may take. */
export interface ServerLimits {
  /** Most open connections; further ones are closed at once. */
  maxConnections: number;
  /** Time to receive the request headers (slowloris guard). */
  headersTimeoutMs: number;
  /** Time to receive the whole request. */
  requestTimeoutMs: number;
  /** Idle time of a kept-alive connection between requests. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic for this long is closed, including one that never sends a byte. */
  idleTimeoutMs: number;
  /** How often Node checks the headers and request timeouts. */
  checkIntervalMs: number;
}

/** Default --web.max-connections: a few Prometheus servers, a browser and health checks fit many times over. */
export const DEFAULT_MAX_CONNECTIONS = 64;

/** Limits with the agent's defaults for the given connection cap. */
export function defaultLimits(maxConnections = DEFAULT_MAX_CONNECTIONS): ServerLimits {
  return {
    maxConnections,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    idleTimeoutMs: 30_000,
    checkIntervalMs: 1_000,
  };
}

/**
 * The connection cap that leaves probes their file descriptors: the HTTP server may hold at most a quarter of the
 * process's open-file limit (so at least three quarters stay for probe sockets, files and the runtime), and never
 * more than `requested`. With the common soft limit of 1,024 that is 256; the default cap of 64 is far below.
 */
export function connectionCap(requested: number, openFileLimit: number | undefined): number {
  if (openFileLimit === undefined || !Number.isFinite(openFileLimit)) return requested;
  return Math.max(1, Math.min(requested, Math.floor(openFileLimit / 4)));
}

/** The soft open-file limit from /proc/self/limits (Linux), or undefined where it cannot be read or is unlimited. */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/limits", "utf8");
    } catch {
      return undefined;
    }
  }
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  return match?.[1] === undefined || match[1] === "unlimited" ? undefined : Number(match[1]);
}

/** Applies the limits to a Node HTTP(S) server. */
export function applyLimits(server: Server, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Belt and braces beside headersTimeout: any socket silent for this long (also one mid-TLS-handshake) is closed.
  server.timeout = limits.idleTimeoutMs;
  server.on("connection", (socket: Socket) => socket.setTimeout(limits.idleTimeoutMs));
  // Requests per kept-alive socket are not limited by Node by default; a scraper needs a few per minute.
  server.maxRequestsPerSocket = 1000;
}
